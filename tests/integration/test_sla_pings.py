# SPDX-License-Identifier: Apache-2.0
"""The service-level pings on SQLite and PostgreSQL: the `sla` job's notices, breaches,
repeats and escalations, whom they mention (linked reviewers, the triager, quiet hours),
snoozes, and that its outbox keys make every message exactly once. The history comes from
the GitHub simulator's webhooks through the real normaliser."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import Promise
from bot.db.reader import Reader
from bot.errors import DomainError
from bot.services import members
from bot.services.sla import snoozes
from bot.services.sla.feature import run_pings
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, VAULT, Hub, configured

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
GUILD, CHANNEL, ROLE = 1, 5, 7
MARTA, LENA, ON_DUTY, NEXT_WEEK = 101, 102, 201, 202
# The rota's weeks count from Monday 1970-01-05: MONDAY's is the 2,930th, the first
# triager's of two.
TRIAGERS = [ON_DUTY, NEXT_WEEK]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def hub(sessions: async_sessionmaker[AsyncSession], clock: ManualClock, read: Reader) -> Hub:
    return Hub(sessions, clock, read, settings())


def settings(**sla: Any) -> Settings:
    return configured(**{"maintainer_role_id": ROLE, "triagers": TRIAGERS, **sla})


@dataclass(frozen=True)
class Said:
    stage: str
    content: str
    mentions: list[int]
    roles: list[int]


async def run(hub: Hub, config: Settings | None = None) -> list[Said]:
    """Settle the webhooks, run the job once, and return what it promised this time."""
    await hub.settle()
    before = await _count(hub)
    await run_pings(hub.context(config))
    return (await said(hub))[before:]


async def _count(hub: Hub) -> int:
    return len(await said(hub))


async def said(hub: Hub) -> list[Said]:
    async with hub.sessions() as session:
        rows = (await session.scalars(select(Promise).order_by(Promise.id))).all()
    for row in rows:
        assert (row.feature, row.target_kind, row.target_id) == ("sla", "channel", CHANNEL)
    return [
        Said(
            row.key.split(":", 4)[4],
            row.payload["content"],
            row.payload["mentions"],
            row.payload.get("mention_roles", []),
        )
        for row in rows
    ]


async def link(
    hub: Hub, user_id: int, login: str, *, verified: bool = True, offset: int | None = None
) -> None:
    async with hub.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            user_id,
            github_user_id=hub.state.user(login).id,
            login=login,
            verified=verified,
            now=hub.clock.now(),
        )
        if offset is not None:
            await members.set_utc_offset(session, GUILD, user_id, offset)


async def test_a_notice_at_three_quarters_then_the_requested_reviewer_is_pinged(
    hub: Hub,
) -> None:
    await link(hub, MARTA, "marta")
    pull = hub.state.open_pull(REPO, "dave", "Fix the crash")
    hub.state.request_review(REPO, pull.number, "marta", actor="dave")

    hub.later(35 * HOUR)
    assert await run(hub) == []
    hub.later(HOUR)  # 36 of 48 hours
    (notice,) = await run(hub)
    assert (notice.stage, notice.mentions, notice.roles) == ("notice", [], [])
    assert notice.content.startswith(
        f"⏳ 🌱 first-time contributor · Pull request [{REPO}#{pull.number}]("
    )
    assert "“Fix the crash” has waited 36 h of its 48 h review target" in notice.content
    assert "<@" not in notice.content

    hub.later(12 * HOUR - timedelta(minutes=1))
    assert await run(hub) == []
    hub.later(timedelta(minutes=1))
    (breach,) = await run(hub)
    assert (breach.stage, breach.mentions, breach.roles) == ("breach", [MARTA], [])
    assert "is past its 48 h review target. <@101>, could you take a look?" in breach.content


async def test_an_unlinked_or_unverified_reviewer_is_named_not_pinged(hub: Hub) -> None:
    await link(hub, LENA, "lena", verified=False)  # typed, not verified: anyone could
    pull = hub.state.open_pull(REPO, "dave", "**@everyone** [login](https://evil.example)")
    hub.state.request_review(REPO, pull.number, "carol", actor="dave")
    hub.state.request_review(REPO, pull.number, "lena", actor="dave")
    hub.later(48 * HOUR)

    (breach,) = await run(hub)

    # Nobody linked to ping: this week's triager is, and the reviewers are named.
    assert (breach.stage, breach.mentions) == ("breach", [ON_DUTY])
    assert f"target. <@{ON_DUTY}> (this week's triager), **" in breach.content
    assert "**carol** (not linked here)" in breach.content
    assert "**lena** (not linked here)" in breach.content
    assert "@everyone" not in breach.content
    assert "\\*\\*@\u200beveryone\\*\\* \\[login\\](https://evil.example)" in breach.content


async def test_this_weeks_triager_when_nobody_is_asked_or_assigned(hub: Hub) -> None:
    first = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.later(24 * HOUR)
    (breach,) = [s for s in await run(hub) if s.stage == "breach"]
    assert breach.mentions == [ON_DUTY]

    hub.later(6 * DAY)  # next Monday: the rota turns
    second = hub.state.open_issue(REPO, "alice", "Crash on exit")
    hub.later(24 * HOUR)
    found = await run(hub)
    assert [(s.stage, s.mentions) for s in found if f"#{second.number}]" in s.content] == [
        ("breach", [NEXT_WEEK])
    ]
    # Without a rota, nobody is pinged: the message says nobody is asked.
    third = hub.state.open_issue(REPO, "alice", "Crash on resize")
    hub.later(24 * HOUR)
    (alone,) = [
        s
        for s in await run(hub, configured(maintainer_role_id=ROLE))
        if f"#{third.number}]" in s.content
    ]
    assert alone.mentions == []
    assert alone.content.endswith("Nobody is asked or assigned yet.")
    assert f"#{first.number}]" in breach.content


async def test_repeats_once_a_day_and_escalates_to_the_role_after_twice_the_target(
    hub: Hub,
) -> None:
    issue = hub.state.open_issue(REPO, "alice", "Crash on start")  # triage: 24 hours
    sdk = hub.state.open_issue(SDK, "alice", "Docs are stale")  # triage: 12 hours

    def said_of(found: list[Said]) -> list[tuple[str, str, list[int], list[int]]]:
        return [(s.stage, s.content.split("]")[0], s.mentions, s.roles) for s in found]

    hub.later(12 * HOUR)
    assert said_of(await run(hub)) == [("breach", f"⚠️ Issue [{SDK}#{sdk.number}", [ON_DUTY], [])]
    hub.later(6 * HOUR)
    assert said_of(await run(hub)) == [("notice", f"⏳ Issue [{REPO}#{issue.number}", [], [])]
    hub.later(6 * HOUR)  # 24 hours: the SDK's issue has waited twice its target, but it
    # heard of it 12 hours ago: its escalation is its next round
    assert said_of(await run(hub)) == [("breach", f"⚠️ Issue [{REPO}#{issue.number}", [ON_DUTY], [])]
    hub.later(12 * HOUR - timedelta(minutes=5))
    assert await run(hub) == []
    hub.later(timedelta(minutes=5))
    (escalation,) = await run(hub)
    assert said_of([escalation]) == [
        ("escalation", f"🚨 <@&{ROLE}> Issue [{SDK}#{sdk.number}", [ON_DUTY], [ROLE])
    ]
    assert "has waited 36 h, twice its 12 h triage target." in escalation.content
    hub.later(12 * HOUR)  # 48 hours
    assert said_of(await run(hub)) == [
        ("escalation", f"🚨 <@&{ROLE}> Issue [{REPO}#{issue.number}", [ON_DUTY], [ROLE])
    ]
    hub.later(12 * HOUR)
    assert said_of(await run(hub)) == [
        ("repeat-2", f"🔁 Still waiting: Issue [{SDK}#{sdk.number}", [ON_DUTY], [])
    ]
    hub.later(12 * HOUR)
    (repeat,) = await run(hub)
    assert said_of([repeat]) == [
        ("repeat-2", f"🔁 Still waiting: Issue [{REPO}#{issue.number}", [ON_DUTY], [])
    ]
    assert "3 days against its 24 h triage target" in repeat.content


async def test_an_answered_or_closed_item_goes_silent(hub: Hub) -> None:
    labelled = hub.state.open_issue(REPO, "alice", "Crash on start")
    closed = hub.state.open_issue(REPO, "bob", "Crash on exit")
    hub.later(24 * HOUR)
    assert len(await run(hub)) == 2
    hub.state.add_labels(REPO, labelled.number, ["bug"], actor="marta")
    hub.state.close_issue(REPO, closed.number, actor="bob")
    hub.later(3 * DAY)
    assert await run(hub) == []


async def test_a_new_review_cycle_is_a_new_wait_with_its_own_pings(hub: Hub) -> None:
    await link(hub, MARTA, "marta")
    pull = hub.state.open_pull(REPO, "dave", "Fix the crash")
    hub.state.request_review(REPO, pull.number, "marta", actor="dave")
    hub.later(48 * HOUR)
    assert [s.stage for s in await run(hub)] == ["breach"]
    hub.state.submit_review(REPO, pull.number, "marta", "CHANGES_REQUESTED", "A test, please")
    hub.later(3 * DAY)
    assert await run(hub) == []  # waiting on its author
    hub.state.push_commits(REPO, pull.number, actor="dave")
    hub.state.request_review(REPO, pull.number, "marta", actor="dave")
    hub.later(48 * HOUR)
    assert [(s.stage, s.mentions) for s in await run(hub)] == [("breach", [MARTA])]


async def test_quiet_hours_hand_the_breach_to_an_awake_triager(hub: Hub) -> None:
    quiet = settings(quiet_hours={"start": "22:00", "end": "08:00"})
    await link(hub, MARTA, "marta", offset=9 * 60)  # Tokyo
    hub.later(6 * HOUR)  # Monday 15:00 UTC
    pull = hub.state.open_pull(REPO, "dave", "Fix the crash")
    hub.state.request_review(REPO, pull.number, "marta", actor="dave")
    hub.later(48 * HOUR)  # Wednesday 15:00 UTC: midnight in Tokyo, afternoon for the triager

    (breach,) = await run(hub, quiet)
    assert (breach.stage, breach.mentions) == ("breach", [ON_DUTY])
    assert f"<@{ON_DUTY}> (this week's triager), <@{MARTA}> (quiet hours)," in breach.content
    hub.later(10 * HOUR)  # Marta's morning: the triager had it, she is not pinged now
    assert await run(hub, quiet) == []


async def test_quiet_hours_hold_a_ping_until_the_morning_when_nobody_is_awake(
    hub: Hub,
) -> None:
    quiet = settings(quiet_hours={"start": "22:00", "end": "08:00"})
    await link(hub, MARTA, "marta", offset=60)  # Berlin in winter
    hub.later(14 * HOUR)  # Monday 23:00 UTC: midnight in Berlin, and the triager's night
    pull = hub.state.open_pull(REPO, "dave", "Fix the crash")
    hub.state.request_review(REPO, pull.number, "marta", actor="dave")
    hub.later(48 * HOUR)

    (breach,) = await run(hub, quiet)
    assert (breach.stage, breach.mentions) == ("breach", [])
    assert f"<@{MARTA}> (quiet hours: pinged in their morning)" in breach.content
    hub.later(7 * HOUR + timedelta(minutes=55))  # 06:55 UTC: 07:55 in Berlin
    assert await run(hub, quiet) == []
    hub.later(timedelta(minutes=5))
    (morning,) = await run(hub, quiet)
    assert (morning.stage, morning.mentions) == (f"breach:held-{MARTA}", [MARTA])
    assert morning.content.startswith(f"☀️ Good morning <@{MARTA}>: 🌱 first-time contributor")
    hub.later(HOUR)
    assert await run(hub, quiet) == []


async def test_the_role_at_escalation_is_not_held_by_quiet_hours(hub: Hub) -> None:
    quiet = settings(quiet_hours={"start": "00:00", "end": "23:59"}, triagers=[])
    hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.later(48 * HOUR)
    (escalation,) = await run(hub, quiet)
    assert (escalation.stage, escalation.mentions, escalation.roles) == (
        "escalation",
        [],
        [ROLE],
    )


async def test_a_snoozed_item_gets_no_pings_until_the_snooze_ends(hub: Hub) -> None:
    snoozed = hub.state.open_issue(REPO, "alice", "Crash on start")
    other = hub.state.open_issue(REPO, "bob", "Crash on exit")
    hub.later(HOUR)
    await hub.settle()
    async with hub.sessions.begin() as session:
        done = await snoozes.snooze(
            session,
            settings(),
            GUILD,
            MARTA,
            item=f"https://github.com/{REPO}/issues/{snoozed.number}",
            duration="2d",
            reason="Waiting for the **release** <@&1>",
            now=hub.clock.now(),
        )
    assert (done.repository, done.number, done.until) == (REPO, snoozed.number, MONDAY + 49 * HOUR)
    assert done.shown_reason == "Waiting for the \\*\\*release\\*\\* <\u200b@&1>"

    hub.later(47 * HOUR)  # 48 hours: past its target twice, still snoozed
    found = await run(hub)
    assert {s.content.split("]")[0].split("#")[1] for s in found} == {str(other.number)}
    async with hub.sessions() as session:
        (listed,) = await session.run_sync(snoozes.active, hub.clock.now())
    assert (listed.number, listed.user_id, listed.reason) == (
        snoozed.number,
        MARTA,
        "Waiting for the **release** <@&1>",
    )

    hub.later(HOUR)  # the snooze has ended: the latest stage due, and only it
    assert [(s.stage, s.content.split("]")[0]) for s in await run(hub)] == [
        ("escalation", f"🚨 <@&{ROLE}> Issue [{REPO}#{snoozed.number}")
    ]
    async with hub.sessions() as session:
        assert await session.run_sync(snoozes.active, hub.clock.now()) == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("acme/gadgets#1", "I don't follow **acme/gadgets**"),
        (f"{VAULT}#1", f"I don't follow **{VAULT}**"),  # private, not shown
        (f"{REPO}#99", f"I don't know of **{REPO}#99**"),
        (f"{REPO}#2", "is closed: nothing to snooze."),
        ("widgets 12", "“widgets 12” isn't an issue or pull request I can read"),
    ],
)
async def test_snoozing_an_unknown_or_closed_item_says_why(
    hub: Hub, item: str, message: str
) -> None:
    hub.state.open_issue(REPO, "alice", "Crash on start")
    closed = hub.state.open_issue(REPO, "alice", "Crash on exit")
    hub.state.close_issue(REPO, closed.number, actor="marta")
    await hub.settle()
    async with hub.sessions.begin() as session:
        with pytest.raises(DomainError) as error:
            await snoozes.snooze(
                session,
                settings(),
                GUILD,
                MARTA,
                item=item,
                duration="1d",
                reason="later",
                now=hub.clock.now(),
            )
    assert message in error.value.user_message


async def test_a_second_run_and_concurrent_runs_promise_nothing_new(hub: Hub) -> None:
    await link(hub, MARTA, "marta")
    for n in range(3):
        pull = hub.state.open_pull(REPO, f"dev{n}", f"Fix {n}")
        hub.state.request_review(REPO, pull.number, "marta", actor=f"dev{n}")
        hub.state.open_issue(SDK, f"user{n}", f"Issue {n}")
    hub.later(48 * HOUR)
    first = await run(hub)
    assert sorted(s.stage for s in first) == ["breach"] * 3 + ["escalation"] * 3
    assert await run(hub) == []

    hub.later(DAY)  # a new round for everything, promised by two runs at once

    await asyncio.gather(run_pings(hub.context()), run_pings(hub.context()))
    stages = [s.stage for s in (await said(hub))[6:]]
    # The pull requests' first round after the breach; the issues' second, 12-hour target.
    assert sorted(stages) == ["repeat-1"] * 3 + ["repeat-2"] * 3


async def test_first_time_contributors_items_are_marked_and_said_first(hub: Hub) -> None:
    old_hand = "carla"
    merged = hub.state.open_pull(REPO, old_hand, "An earlier fix")
    hub.state.merge(REPO, merged.number, actor="marta")
    hub.state.open_pull(REPO, old_hand, "Another fix")  # waits longest
    hub.later(HOUR)
    hub.state.open_pull(REPO, "dave", "My first fix")
    hub.later(48 * HOUR)

    found = await run(hub)
    assert [(s.stage, "🌱" in s.content, s.content.split("“")[1].split("”")[0]) for s in found] == [
        ("breach", True, "My first fix"),
        ("breach", False, "Another fix"),
    ]
