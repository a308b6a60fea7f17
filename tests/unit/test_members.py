# SPDX-License-Identifier: Apache-2.0
"""Time zones as people write them: read into minutes east of UTC, and shown back."""

from __future__ import annotations

import pytest

from bot.errors import DomainError
from bot.services.members import parse_utc_offset, show_offset


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("UTC+1", 60),
        ("utc+5:30", 330),
        ("UTC+5:30", 330),
        ("GMT-5", -300),
        ("+05:30", 330),
        ("+0530", 330),
        ("-3", -180),
        (" UTC ", 0),
        ("Z", 0),
        ("\u22123", -180),  # a typographic minus, as phones type it
        ("UTC\u22122:30", -150),
        ("UTC + 14", 14 * 60),
        ("UTC-12", -12 * 60),
    ],
)
def test_offsets_are_read_in_the_forms_people_write(text: str, minutes: int) -> None:
    assert parse_utc_offset(text) == minutes


@pytest.mark.parametrize("text", ["UTC+15", "UTC-13", "banana", "+5:75", "", "UTC+1h"])
def test_anything_else_is_refused_with_the_forms_to_use(text: str) -> None:
    with pytest.raises(DomainError, match=r"isn't a time zone I understand.*UTC\+5:30"):
        parse_utc_offset(text)


def test_a_refused_offset_is_shown_back_literally() -> None:
    with pytest.raises(DomainError) as refused:
        parse_utc_offset("**@everyone**")
    assert "\\*\\*@\u200beveryone\\*\\*" in refused.value.user_message


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(None, "time zone not given"), (0, "UTC"), (60, "UTC+1"), (-300, "UTC-5"),
     (330, "UTC+5:30"), (-150, "UTC-2:30"), (14 * 60, "UTC+14")],
)  # fmt: skip
def test_offsets_are_shown_the_way_they_are_written(minutes: int | None, shown: str) -> None:
    assert show_offset(minutes) == shown
    if minutes is not None:
        assert parse_utc_offset(shown) == minutes
