# SPDX-License-Identifier: Apache-2.0
"""The monthly newsletter on SQLite and PostgreSQL: a month of history through the GitHub
simulator and the recognition jobs gives the golden text, twice the same; consent as it
stands now; a month so far, an empty one, a future one and months that are not months; and
`helios-bot newsletter` printing it."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.__main__ import main
from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import Pairing
from bot.db.reader import Reader
from bot.errors import DomainError
from bot.services.recognition import consent, newsletter
from bot.services.recognition.feature import run_champions, run_spotlight
from tests.integration.test_recognition import (
    ADA,
    BRUNO,
    CARL,
    CHANNEL,
    ERIN,
    GUILD,
    RecognitionHub,
    link,
    opt_in,
)
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, VAULT

GOLDEN = Path(__file__).parents[1] / "golden" / "newsletter-2026-01.md"
JANUARY = date(2026, 1, 1)
FAY, GUS, HANA, KOFI = 107, 108, 110, 111


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 12, 8, 9, tzinfo=UTC))  # a Monday


def settings(**recognition: Any) -> Settings:
    """Recognition with the defaults, two areas of good-first-issues, service levels on."""
    return Settings.model_validate(
        {
            "discord": {"guild_id": GUILD},
            "github": {"repositories": [REPO, SDK, VAULT], "maintainers": ["lena"]},
            "onboarding": {
                "code_of_conduct_url": "https://example.org/coc",
                "contributing_url": "https://example.org/contributing",
                "help_channel_id": 3,
                "newcomer_role_id": 4,
                "github_oauth_client_id": "Iv1.test",
                "beginner_labels": ["good first issue"],
                "priority_labels": ["priority"],
                "areas": [
                    {"name": "docs", "description": "Documentation", "labels": ["docs"]},
                    {"name": "core", "description": "The engine", "labels": ["core"]},
                ],
            },
            "sla": {"triage_channel_id": 5},
            "recognition": {"spotlight_channel_id": CHANNEL, **recognition},
        }
    )


@pytest.fixture
def hub(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, read: Reader
) -> RecognitionHub:
    return RecognitionHub(sessions, clock, read, settings())


async def paired(
    hub: RecognitionHub, mentor: int, mentee: int, *, ended_at: datetime | None = None
) -> None:
    """A pairing matched now, as the mentorship service records it, active or ended."""
    now = hub.clock.now()
    async with hub.sessions.begin() as session:
        session.add(
            Pairing(
                guild_id=GUILD,
                mentee_id=mentee,
                mentor_id=mentor,
                status="active" if ended_at is None else "ended",
                requested_at=now,
                matched_at=now,
                ends_at=now + 30 * DAY,
                ended_at=ended_at,
            )
        )


async def compose(
    hub: RecognitionHub,
    month: date = JANUARY,
    config: Settings | None = None,
    members: dict[int, str] | None = None,
) -> str:
    await hub.settle()
    configured, now = config or settings(), hub.clock.now()
    return await hub.read(
        lambda s: newsletter.compose(s, configured, GUILD, month, now, members or {})
    )


async def test_a_month_gives_the_golden_newsletter_named_with_consent(
    hub: RecognitionHub,
) -> None:
    # December: bruno's first merge; a pairing of hana's that ended before January.
    hub.merged("bruno", "Old fix")
    await paired(hub, HANA, GUS, ended_at=datetime(2025, 12, 20, tzinfo=UTC))

    hub.clock.set(datetime(2026, 1, 5, 9, tzinfo=UTC))
    for user_id, login in ((ADA, "ada"), (BRUNO, "bruno"), (CARL, "carl"), (KOFI, "kofi")):
        await link(hub, user_id, login)
    await opt_in(hub, ADA, BRUNO, KOFI, HANA)  # hana has no GitHub link: named as the member
    async with hub.sessions.begin() as session:
        await consent.opt(session, GUILD, CARL, False, hub.clock.now())
    for mentor, mentee in ((KOFI, ADA), (HANA, ERIN), (HANA, FAY)):
        await paired(hub, mentor, mentee)
    hub.later(DAY)
    # First merges: ada (opted in), carl (opted out), dave (no member to ask); bruno's second.
    hub.merged("ada", "docs: **cache** flags for @everyone", labels=("docs",))
    hub.merged("carl", "Add a CI cache")
    hub.merged("dave", "Fix a typo")
    hub.merged("bruno", "Faster start-up")
    hub.merged("dependabot[bot]", "Bump aiohttp")  # bots count nowhere
    hub.merged("zoe", "Private work", repo=VAULT)  # a repository not shown
    # yan's pull request waits 5 hours for a review; yan's issue is never triaged (a miss).
    pull = hub.state.open_pull(REPO, "yan", "Refactor the loader")
    hub.later(5 * HOUR)
    hub.state.submit_review(REPO, pull.number, "marta", "APPROVED")
    hub.state.open_issue(REPO, "yan", "Crash on start")
    # Good-first-issues: two areas, a priority, one elsewhere, one assigned (not offered).
    for repo, title, labels in (
        (REPO, "Document the `--fast` flag", ("docs",)),
        (REPO, "**Fix** <@&1> and [this](https://evil.example) in the guide", ("docs",)),
        (SDK, "Tidy the core loop", ("core",)),
        (SDK, "Speed up the cache", ("core", "priority")),
        (SDK, "Add a changelog entry", ()),
    ):
        hub.state.open_issue(repo, "marta", title, labels=("good first issue", *labels))
        hub.later(HOUR)
    hub.state.open_issue(REPO, "marta", "Taken", labels=("good first issue",), assignees=("yan",))

    # The spotlight of 12 January features ada and bruno, who opts out a week later.
    hub.clock.set(datetime(2026, 1, 12, 15, 1, tzinfo=UTC))
    await hub.settle()
    await run_spotlight(hub.context())
    hub.clock.set(datetime(2026, 1, 19, 9, tzinfo=UTC))
    async with hub.sessions.begin() as session:
        await consent.opt(session, GUILD, BRUNO, False, hub.clock.now())
    # January's champions on 1 February: ada, and kofi for mentoring her to a first merge.
    hub.clock.set(datetime(2026, 2, 1, 15, 1, tzinfo=UTC))
    await hub.settle()
    await run_champions(hub.context())

    hub.clock.set(datetime(2026, 2, 2, 10, tzinfo=UTC))
    text = await compose(hub)

    assert text == GOLDEN.read_text(encoding="utf-8")
    hub.later(30 * DAY)
    assert await compose(hub) == text  # the same state, the same text, whenever composed
    # Opted out (carl), no member to ask (dave), opted out since featured (bruno): counted.
    for unnamed in ("carl", "dave", "bruno"):
        assert unnamed not in text
    # A GitHub account no member linked is named with feature_unlinked; an opt-out never.
    generous = await compose(hub, config=settings(feature_unlinked=True))
    assert "[dave](https://github.com/dave)" in generous
    assert "carl" not in generous
    # In Discord, a member without a GitHub login is named by their display name, escaped.
    named = await compose(hub, members={HANA: "Hana **H**", CARL: "carl"})
    assert "- Hana \\*\\*H\\*\\* (2 mentees)" in named
    assert named.replace("Hana \\*\\*H\\*\\*", f"<@{HANA}>") == text


async def test_a_month_so_far_an_empty_one_and_months_that_are_not_months(
    hub: RecognitionHub,
) -> None:
    hub.clock.set(datetime(2026, 1, 15, 12, tzinfo=UTC))
    text = await compose(hub)
    assert text.startswith("# Community newsletter: January 2026, so far (to 15 January 12:00 UTC)")
    for line in (
        "| Pull requests merged | 0 | 0 |",
        "| Median time to first review | n/a | n/a |",
        "| Within the service-level targets | n/a | n/a |",
        "No first pull requests were merged in January.",
        "No weekly spotlight was posted in January.",
        "The Community Champions of January are announced on Sunday 1 February.",
        "No good first issues are open right now. Maintainers: label a few!",
        "No mentoring pairings ran in January.",
    ):
        assert f"\n{line}\n" in text

    with pytest.raises(DomainError, match=r"^February 2026 hasn't begun yet"):
        await compose(hub, date(2026, 2, 1))
    for typed in ("2026-13", "jan", "2026-1", "0000-05"):
        with pytest.raises(DomainError, match="isn't a month: write it as YYYY-MM, like 2026-01"):
            newsletter.parse_month(typed)
    assert newsletter.parse_month(" 2026-02 ") == date(2026, 2, 1)


def test_the_command_line_prints_it_and_names_a_bad_month(
    migrated_sqlite: Path,
    dummy_env: dict[str, str],
    write_config: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copyfile(migrated_sqlite, dummy_env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))
    config = str(write_config(f"[recognition]\nspotlight_channel_id = {CHANNEL}\n"))

    assert main(["newsletter", "--config", config, "--month", "2024-05"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# Community newsletter: May 2024\n\nHello, and welcome")
    assert err == ""

    for month, problem in (
        ("2024-13", "“2024-13” isn't a month: write it as YYYY-MM, like 2026-01."),
        ("9999-12", "December 9999 hasn't begun yet: pick this month or an earlier one."),
    ):
        assert main(["newsletter", "--config", config, "--month", month]) == 2
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"--month {month}: {problem}\n")
