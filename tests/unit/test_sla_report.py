# SPDX-License-Identifier: Apache-2.0
"""The service-level report's embed stays within Discord's limits however much there is to
say; a typical wait is put in plain words; the digest's time is checked in the config.
(What the report holds is tested on both databases in tests/integration/test_sla_report.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.services.celebrations import expected
from bot.services.sla.clocks import Wait
from bot.services.sla.report import Met, Report, RepositoryStatus, embed
from bot.services.sla.scan import OpenWait, Share
from tests.unit.sla_helpers import HOUR, configured

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def late(repository_id: int, number: int) -> OpenWait:
    return OpenWait(
        repository_id,
        number,
        "A title long enough to fill a good part of the line " * 2,
        f"https://github.com/owner/repository-{repository_id}/issues/{number}",
        repository_id,
        Wait("triage", "maintainers", OPENED),
        30 * HOUR,
        24 * HOUR,
        first_time=number % 2 == 0,
    )


def crowded(repositories: int, items: int) -> Report:
    names = {n: f"owner/repository-with-a-long-name-{n}" for n in range(repositories)}
    return Report(
        tuple(
            RepositoryStatus(
                n,
                names[n],
                tuple(late(n, i) for i in range(items)),
                (),
                3,
                (Met("triage", Share(n, "triage", 1, 4), None),),
            )
            for n in range(repositories)
        ),
        False,
        names,
    )


def length(shown: dict[str, Any]) -> int:
    """What Discord counts towards an embed's 6,000 characters."""
    fields = shown["fields"]
    return (
        len(shown["title"])
        + len(shown["description"])
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(shown.get("footer", {}).get("text", ""))
    )


@pytest.mark.parametrize(("repositories", "items"), [(3, 40), (40, 1), (30, 12), (20, 12)])
def test_the_embed_keeps_to_discord_s_limits(repositories: int, items: int) -> None:
    shown = embed(crowded(repositories, items), "Service levels: daily digest " + "x" * 300)
    fields = shown["fields"]
    assert isinstance(fields, list)
    assert len(shown["title"]) == 256
    # Each repository gets its share of the room: all show, up to Discord's 25 fields.
    assert len(fields) == min(repositories, 25)
    assert length(shown) <= 6000
    for field in fields:
        assert len(field["name"]) <= 256
        assert len(field["value"]) <= 1024
        lines = field["value"].split("\n")
        # What is cut is counted, and the waits on authors and the shares always show.
        listed = [line for line in lines if line.startswith(("[", "🌱"))]
        if len(listed) < items:
            assert lines[-3] == f"… and {items - len(listed)} more"
        assert lines[-2:] == [
            "Waiting on the author: 3",
            "Met within target (30 days): triage 25% (1 of 4)",
        ]
    left = repositories - len(fields)
    if left:
        assert shown["footer"] == {
            "text": f"… and {left} more repositor{'y' if left == 1 else 'ies'}: "
            "/sla status repo: shows one."
        }
    else:
        assert "footer" not in shown


@pytest.mark.parametrize(
    ("typical", "words"),
    [
        (timedelta(minutes=20), "within the hour"),
        (timedelta(minutes=70), "within about 1 hour"),
        (timedelta(hours=5, minutes=20), "within about 5 hours"),
        (timedelta(hours=35), "within about 35 hours"),
        (timedelta(hours=36), "within about 2 days"),
        (timedelta(days=4, hours=5), "within about 4 days"),
    ],
)
def test_a_typical_wait_in_plain_words(typical: timedelta, words: str) -> None:
    assert expected(typical) == words


def test_the_digest_time_is_a_local_time_of_day() -> None:
    assert configured().sla is not None
    assert configured().sla.digest_at.isoformat() == "09:00:00"  # type: ignore[union-attr]
    for wrong in ("9am", "24:00", "9:00", "09:60", "09:00:00"):
        with pytest.raises(ValidationError) as refused:
            configured(digest_time=wrong)
        assert "sla.digest_time" in str(refused.value).replace("\n", ".")
        assert 'expected a local time as "HH:MM" on the 24-hour clock' in str(refused.value)
