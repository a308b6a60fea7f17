# SPDX-License-Identifier: Apache-2.0
"""What service levels say, on SQLite and PostgreSQL, from history the normaliser wrote out of
the GitHub simulator's webhooks: `/sla status` (read the way the bot reads), the daily digest
(through its job and the outbox), and the typical first review a newcomer is told about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import CelebrationSettings
from bot.db.engine import create_session_factory
from bot.db.models import Promise
from bot.db.reader import Reader
from bot.errors import DomainError
from bot.feature import Context
from bot.services import members
from bot.services.celebrations import celebrate_pull_request
from bot.services.sla import snoozes
from bot.services.sla.feature import FEATURE, run_digest
from bot.services.sla.report import Report, embed, status
from bot.services.sla.scan import typical_first_review
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, VAULT, Hub, configured

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
GUILD, TRIAGE_CHANNEL = 1, 5  # as configured()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def hub(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Hub:
    return Hub(sessions, clock)


async def report_of(read: Reader, hub: Hub, repository: str | None = None, **sla: Any) -> Report:
    settings, now = configured(**sla), hub.clock.now()
    return await read(lambda session: status(session, settings, now, repository))


def numbers(report: Report) -> list[tuple[str, list[int], list[int], int]]:
    """(repository, breaching numbers, approaching numbers, waiting on the author) each."""
    return [
        (
            r.name,
            [w.number for w in r.breaching],
            [w.number for w in r.approaching],
            r.waiting_on_author,
        )
        for r in report.repositories
    ]


# --- /sla status ----------------------------------------------------------------------------


async def test_status_shows_what_is_past_and_near_its_target_first_timers_first(
    hub: Hub, read: Reader
) -> None:
    state = hub.state
    oldest = state.open_issue(REPO, "alice", "Crash on start")  # 60 h of 24
    answered = state.open_pull(REPO, "erin", "Refactor")
    hub.later(HOUR)
    state.submit_review(REPO, answered.number, "marta", "CHANGES_REQUESTED", "Tests?")
    hub.later(HOUR)
    older = state.open_issue(REPO, "bob", "Slow [build](https://evil.example) @everyone")  # 58 h
    hub.later(8 * HOUR)
    newcomer = state.open_pull(REPO, "gina", "Fix typo")  # a first-timer's, 50 h of 48
    hub.later(12 * HOUR)
    near = state.open_pull(REPO, "dave", "Add cache")  # a first-timer's, 38 h of 48: 79 %
    hub.later(28 * HOUR)
    sdk = state.open_issue(SDK, "frank", "Docs are stale")  # 10 h of 12: near
    fresh = state.open_issue(REPO, "frank", "Just opened")  # 10 h of 24: not shown
    state.open_issue(VAULT, "alice", "Leaked key")  # private: never shown
    hub.later(10 * HOUR)
    await hub.settle()

    found = await report_of(read, hub)

    assert numbers(found) == [
        (REPO, [newcomer.number, oldest.number, older.number], [near.number], 1),
        (SDK, [], [sdk.number], 0),
    ]
    assert fresh.number not in {w.number for r in found.repositories for w in r.approaching}
    (first, *_), (approaching,) = found.repositories[0].breaching, found.repositories[0].approaching
    assert (first.first_time, approaching.first_time) == (True, True)

    shown = embed(found, "Service levels")
    assert shown["description"] == (
        "**3** past target, **2** near it (75% of it or more).\n"
        "🌱 a first-time contributor's, shown first."
    )
    fields = shown["fields"]
    assert isinstance(fields, list)
    widgets, sdk_status = found.repositories
    url = {w.number: w.html_url for w in (*widgets.breaching, *widgets.approaching)}
    assert fields[0] == {
        "name": f"{REPO}: 3 past target, 1 near it",
        "value": "\n".join(
            [
                "**Past target**",
                f"🌱 [\\#{newcomer.number}]({url[newcomer.number]}) Fix typo · review, 50 h "
                "of 48 h",
                f"[\\#{oldest.number}]({url[oldest.number]}) Crash on start · triage, 60 h of 24 h",
                # A title is shown as written: no link, no mention.
                f"[\\#{older.number}]({url[older.number]}) Slow \\[build\\](https://evil.example) "
                "@\u200beveryone · triage, 58 h of 24 h",
                "**Near target**",
                f"🌱 [\\#{near.number}]({url[near.number]}) Add cache · review, 38 h of 48 h",
                "Waiting on the author: 1",
                # Decided in the window: the two issues and gina's pull request passed their
                # targets; erin's was answered in an hour.
                "Met within target (30 days): triage 0% (0 of 2) · review 50% (1 of 2)",
            ]
        ),
        "inline": False,
    }
    assert fields[1] == {
        "name": f"{SDK}: 0 past target, 1 near it",
        "value": f"**Near target**\n[\\#{sdk.number}]({sdk_status.approaching[0].html_url}) "
        "Docs are stale · "
        "triage, 10 h of 12 h\nMet within target (30 days): no waits decided yet",
        "inline": False,
    }
    assert "footer" not in shown


async def test_status_of_one_repository_by_name_and_of_one_not_measured(
    hub: Hub, read: Reader
) -> None:
    hub.state.open_issue(REPO, "alice", "Crash on start")
    answered = hub.state.open_issue(SDK, "bob", "Docs are stale")
    hub.later(HOUR)
    hub.state.add_labels(SDK, answered.number, ["docs"], actor="marta")
    hub.later(30 * HOUR)
    await hub.settle()

    quiet = await report_of(read, hub, "ACME/SDK")  # any case; nothing to say, still shown
    assert numbers(quiet) == [(SDK, [], [], 0)]
    shown = embed(quiet, "Service levels: acme/sdk", focused=True)
    assert shown["description"] == "All within target: nothing is past or near its target."
    assert shown["fields"] == [
        {
            "name": f"{SDK}: 0 past target, 0 near it",
            "value": "Met within target (30 days): triage 100% (1 of 1)",
            "inline": False,
        }
    ]

    for unknown in ("acme/gadgets", VAULT, "[x](https://evil.example)"):
        with pytest.raises(DomainError) as refused:
            await report_of(read, hub, unknown)
        assert refused.value.user_message.startswith("I don't measure a repository called “")
    assert "\\[x\\]" in refused.value.user_message


async def test_a_snoozed_item_is_still_listed_with_until_when_and_why(
    hub: Hub, read: Reader
) -> None:
    late = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.later(30 * HOUR)
    await hub.settle()
    async with hub.sessions.begin() as session:
        await snoozes.snooze(
            session,
            configured(),
            GUILD,
            77,
            item=f"{REPO}#{late.number}",
            duration="2d",
            reason="Waiting for the **release**",
            now=hub.clock.now(),
        )

    report = await report_of(read, hub)

    assert numbers(report) == [(REPO, [late.number], [], 0)]
    (field,) = embed(report, "Service levels")["fields"]
    held = field["value"].splitlines()[1]
    assert held.endswith(
        "· triage, 30 h of 24 h · 💤 snoozed until Thu 05 Mar 15:00 UTC: "
        "Waiting for the \\*\\*release\\*\\*"
    )


async def test_a_repository_with_many_late_items_is_cut_short_within_discord_s_limits(
    hub: Hub, read: Reader
) -> None:
    for n in range(40):
        hub.state.open_issue(REPO, f"user{n}", f"Issue {n} " + "with a long title " * 6)
        hub.later(HOUR)
    hub.later(DAY)
    await hub.settle()

    found = await report_of(read, hub)
    (repository,) = found.repositories
    assert len(repository.breaching) == 40
    # Oldest first.
    assert [w.number for w in repository.breaching] == sorted(
        w.number for w in repository.breaching
    )

    shown = embed(found, "Service levels")
    fields = shown["fields"]
    assert isinstance(fields, list)
    (field,) = fields
    value = field["value"]
    assert len(value) <= 1024
    lines = value.split("\n")
    listed = [line for line in lines if line.startswith("[\\#")]
    assert lines[-2] == f"… and {40 - len(listed)} more"
    assert 0 < len(listed) < 40
    assert lines[-1] == "Met within target (30 days): triage 0% (0 of 40)"


async def test_business_hours_are_shown_only_in_business_days_mode(hub: Hub, read: Reader) -> None:
    """Opened on Friday evening and labelled on Monday morning: late by the wall clock, in
    time by business days."""
    hub.clock.set(datetime(2026, 3, 6, 18, tzinfo=UTC))
    issue = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.clock.set(datetime(2026, 3, 9, 10, tzinfo=UTC))
    hub.state.add_labels(REPO, issue.number, ["bug"], actor="marta")
    await hub.settle()

    business = embed(await report_of(read, hub, business_days=True), "Service levels")
    wall = embed(await report_of(read, hub), "Service levels")

    assert business["fields"] == [
        {
            "name": f"{REPO}: 0 past target, 0 near it",
            "value": "Met within target (30 days): triage 0% (0 of 1)\n"
            "In business hours: triage 100% (1 of 1)",
            "inline": False,
        }
    ]
    assert "business days" in str(business["description"])
    assert wall["fields"] == [
        {
            "name": f"{REPO}: 0 past target, 0 near it",
            "value": "Met within target (30 days): triage 0% (0 of 1)",
            "inline": False,
        }
    ]
    assert "business" not in str(wall["description"])


# --- the daily digest -----------------------------------------------------------------------


async def digests(sessions: async_sessionmaker[AsyncSession]) -> list[Promise]:
    async with sessions() as session:
        return list(await session.scalars(select(Promise).order_by(Promise.id)))


def context_of(
    hub: Hub, sessions: async_sessionmaker[AsyncSession], read: Reader, **sla: Any
) -> Context:
    return Context(configured(**sla), hub.clock, sessions, None, read=read)


async def test_the_digest_is_posted_once_a_day_after_its_time_even_after_a_restart(
    hub: Hub, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], read: Reader
) -> None:
    late = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.clock.set(datetime(2026, 3, 3, 8, 59, tzinfo=UTC))  # 24 h later: past target
    await hub.settle()
    context = context_of(hub, sessions, read)
    await run_digest(context)
    assert await digests(sessions) == []  # before 09:00

    hub.clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    await run_digest(context)
    (posted,) = await digests(sessions)
    assert (posted.feature, posted.key, posted.target_kind, posted.target_id) == (
        "sla",
        f"sla:digest:{GUILD}:2026-03-03",
        "channel",
        TRIAGE_CHANNEL,
    )
    (shown,) = posted.payload["embeds"]
    assert shown["title"] == "Service levels: daily digest for Tuesday 3 March 2026"
    assert shown["description"] == "**1** past target, **0** near it (75% of it or more)."
    (field,) = shown["fields"]
    assert field["name"] == f"{REPO}: 1 past target, 0 near it"
    assert f"[\\#{late.number}](" in field["value"]

    # A later run the same day, and a restarted process (new sessions), promise nothing new.
    hub.later(3 * HOUR)
    await run_digest(context)
    await run_digest(context_of(hub, create_session_factory(engine), read))
    assert [p.key for p in await digests(sessions)] == [posted.key]


async def test_after_days_down_only_today_s_digest_is_posted(
    hub: Hub, sessions: async_sessionmaker[AsyncSession], read: Reader
) -> None:
    context = context_of(hub, sessions, read)
    await run_digest(context)  # Monday 09:00
    hub.clock.set(datetime(2026, 3, 5, 16, tzinfo=UTC))  # down until Thursday afternoon
    await run_digest(context)
    posted = await digests(sessions)
    assert [p.key for p in posted] == [f"sla:digest:{GUILD}:2026-03-02", "sla:digest:1:2026-03-05"]
    # Nothing to report is said too, shortly.
    (shown,) = posted[-1].payload["embeds"]
    assert shown["description"] == (
        "All within target: nothing is past or near its target.\n"
        "No waits decided in the last 30 days, and nothing waiting."
    )
    assert shown["fields"] == []


async def test_the_digest_follows_the_community_s_day_and_time(
    hub: Hub, sessions: async_sessionmaker[AsyncSession], read: Reader
) -> None:
    """09:30 in Tokyo is 00:30 UTC: Tuesday's digest comes then."""
    context = context_of(hub, sessions, read, time_zone="Asia/Tokyo", digest_time="09:30")
    hub.clock.set(datetime(2026, 3, 3, 0, 29, tzinfo=UTC))  # Tuesday 09:29 in Tokyo
    await run_digest(context)
    assert await digests(sessions) == []  # Monday's day there is over: none for it now
    hub.clock.set(datetime(2026, 3, 3, 0, 30, tzinfo=UTC))
    await run_digest(context)
    assert [p.key for p in await digests(sessions)] == [f"sla:digest:{GUILD}:2026-03-03"]


async def test_no_digest_on_days_off_in_business_days_mode_nor_when_turned_off(
    hub: Hub, sessions: async_sessionmaker[AsyncSession], read: Reader
) -> None:
    hub.clock.set(datetime(2026, 3, 7, 12, tzinfo=UTC))  # a Saturday
    await run_digest(context_of(hub, sessions, read, business_days=True))
    await run_digest(context_of(hub, sessions, read, digest=False))
    hub.clock.set(datetime(2026, 3, 9, 12, tzinfo=UTC))  # Monday, a holiday
    await run_digest(context_of(hub, sessions, read, business_days=True, holidays=["2026-03-09"]))
    assert await digests(sessions) == []
    hub.clock.set(datetime(2026, 3, 10, 12, tzinfo=UTC))
    await run_digest(context_of(hub, sessions, read, business_days=True, holidays=["2026-03-09"]))
    (posted,) = await digests(sessions)
    assert posted.key == f"sla:digest:{GUILD}:2026-03-10"


def test_the_digest_is_a_job_of_the_feature_that_posts_in_channels() -> None:
    (job,) = (job for job in FEATURE.jobs if job.run is run_digest)
    assert (job.name, job.interval) == ("sla-digest", timedelta(minutes=1))
    assert FEATURE.promises == frozenset({"channel"})


# --- the typical first review ---------------------------------------------------------------


async def reviewed_pulls(hub: Hub, hours: list[int]) -> None:
    """A pull request by a new author for each wait, reviewed after that many hours."""
    for n, wait in enumerate(hours):
        pull = hub.state.open_pull(REPO, f"author{n}", f"Change {n}")
        hub.later(wait * HOUR)
        hub.state.submit_review(REPO, pull.number, "marta", "APPROVED")
        hub.later(HOUR)


async def test_the_typical_first_review_is_the_median_of_30_days_from_five_up(
    hub: Hub, read: Reader
) -> None:
    settings = configured()
    # Long ago: outside the window.
    await reviewed_pulls(hub, [100, 100])
    hub.later(31 * DAY)
    # A draft's time does not count: ready after 50 hours, reviewed 2 hours later.
    draft = hub.state.open_pull(REPO, "erin", "Try this", draft=True)
    hub.later(50 * HOUR)
    hub.state.set_draft(REPO, draft.number, False, actor="erin")
    hub.later(2 * HOUR)
    hub.state.submit_review(REPO, draft.number, "marta", "COMMENTED")
    await reviewed_pulls(hub, [3, 5, 30])
    await hub.settle()
    now, repo = hub.clock.now(), hub.id(REPO)
    assert await read(lambda session: typical_first_review(session, settings, repo, now)) is None

    await reviewed_pulls(hub, [8])  # five: 2, 3, 5, 8 and 30 hours
    await hub.settle()
    now = hub.clock.now()
    typical = await read(lambda session: typical_first_review(session, settings, repo, now))
    assert typical == 5 * HOUR
    # Not for a repository that is not shown.
    vault = hub.id(VAULT)
    assert await read(lambda session: typical_first_review(session, settings, vault, now)) is None


async def test_the_first_pull_request_message_says_how_soon_a_review_usually_comes(
    hub: Hub, sessions: async_sessionmaker[AsyncSession], read: Reader
) -> None:
    await reviewed_pulls(hub, [3, 4, 5, 30, 40])
    pull = hub.state.open_pull(REPO, "ada-codes", "docs: eviction flags")
    await hub.settle()
    ada = hub.state.find_user("ada-codes")
    async with sessions.begin() as session:
        await members.link_github(
            session, GUILD, 7, github_user_id=ada.id, login=ada.login, verified=True, now=MONDAY
        )

    async def celebrate(with_service_levels: bool) -> str:
        settings = configured()
        async with sessions.begin() as session:
            await celebrate_pull_request(
                session,
                CelebrationSettings(),
                github=settings.github,
                guild_id=GUILD,
                repository_id=hub.id(REPO),
                number=pull.number,
                now=hub.clock.now(),
                service_levels=settings if with_service_levels else None,
            )
        (dm,) = await digests(sessions)
        async with sessions.begin() as session:
            await session.delete(await session.get(Promise, dm.id))
        return str(dm.payload["content"])

    assert (await celebrate(True)).endswith(
        "That's a big step! A maintainer will review it, usually within about 5 hours here; "
        "questions are always welcome."
    )
    assert (await celebrate(False)).endswith(
        "That's a big step! A maintainer will review it; questions are always welcome."
    )
