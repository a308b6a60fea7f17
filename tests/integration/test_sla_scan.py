# SPDX-License-Identifier: Apache-2.0
"""The service-level scan on SQLite and PostgreSQL: the open items' current waits and the
share met within target, from history the normaliser wrote out of the GitHub simulator's
webhooks, read the way the bot reads (bot/db/reader.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.reader import Reader
from bot.services.sla.clocks import WALL_CLOCK
from bot.services.sla.scan import OpenWait, Share, met_share, open_waits
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, VAULT, Hub, configured

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def hub(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Hub:
    return Hub(sessions, clock)


def shown(found: list[OpenWait], hub: Hub) -> list[tuple[str, int, str, str, float, float | None]]:
    """(repository, number, kind, waiting on, hours waited, target hours) of each wait."""
    names = {hub.id(name): name for name in (REPO, SDK, VAULT)}
    return [
        (
            names[w.repository_id],
            w.number,
            w.wait.kind,
            w.wait.waiting_on,
            w.waited / HOUR,
            None if w.target is None else w.target / HOUR,
        )
        for w in found
    ]


async def test_open_items_waiting_on_someone_with_their_targets(hub: Hub, read: Reader) -> None:
    state = hub.state
    untriaged = state.open_issue(REPO, "alice", "Crash on start")
    state.add_labels(REPO, untriaged.number, ["needs triage"], actor="triage-helper[bot]")
    triaged = state.open_issue(REPO, "alice", "Typo")
    ours = state.open_issue(REPO, "marta", "Plan the release")  # a maintainer's: not measured
    asked = state.open_pull(REPO, "dave", "Fix crash")
    draft = state.open_pull(REPO, "erin", "Try something", draft=True)
    bump = state.open_pull(REPO, "dependabot[bot]", "Bump aiohttp")
    sdk = state.open_issue(SDK, "frank", "Docs are stale")
    closed = state.open_issue(REPO, "alice", "Never mind")
    state.open_issue(VAULT, "alice", "Leaked key")  # private, not listed: never shown
    hub.later(HOUR)
    state.add_labels(REPO, triaged.number, ["bug"], actor="marta")
    hub.later(HOUR)
    state.submit_review(REPO, asked.number, "marta", "CHANGES_REQUESTED", "A test, please")
    state.close_issue(REPO, closed.number, actor="alice")
    hub.later(28 * HOUR)
    await hub.settle()

    found = await read(lambda session: open_waits(session, configured(), hub.clock.now()))

    assert shown(found, hub) == [
        (REPO, untriaged.number, "triage", "maintainers", 30, 24),
        (SDK, sdk.number, "triage", "maintainers", 30, 12),
        (REPO, asked.number, "review", "author", 28, None),
    ]
    assert {w.number for w in found}.isdisjoint(
        {triaged.number, ours.number, draft.number, bump.number, closed.number}
    )
    first = found[0]
    assert (first.title, first.counted_in, first.wait.started_at) == (
        "Crash on start",
        hub.id(REPO),
        MONDAY,
    )
    assert first.html_url.endswith(f"/{REPO}/issues/{untriaged.number}")


async def test_who_an_open_item_waits_on_and_whether_its_author_is_new(
    hub: Hub, read: Reader
) -> None:
    state = hub.state
    assigned = state.open_issue(REPO, "alice", "Crash on start")
    state.assign(REPO, assigned.number, ["marta"], actor="marta")  # an answer: no longer waits
    asked = state.open_pull(REPO, "dave", "Fix crash")
    state.request_review(REPO, asked.number, "marta", actor="dave")
    state.assign(REPO, asked.number, ["carol"], actor="marta")
    hub.later(HOUR)
    await hub.settle()

    (waiting,) = await read(lambda session: open_waits(session, configured(), hub.clock.now()))

    marta, carol = state.find_user("marta").id, state.find_user("carol").id
    assert (
        waiting.number,
        waiting.author_login,
        waiting.first_time,
        waiting.requested_reviewer_ids,
        waiting.assignee_ids,
    ) == (asked.number, "dave", True, (marta,), (carol,))


async def test_a_transferred_issue_keeps_its_opening_and_its_repository(
    hub: Hub, read: Reader
) -> None:
    issue = hub.state.open_issue(REPO, "alice", "Belongs to the SDK")
    hub.later(5 * HOUR)
    moved = hub.state.transfer_issue(REPO, issue.number, SDK, actor="marta")
    hub.later(25 * HOUR)
    await hub.settle()

    (waiting,) = await read(lambda session: open_waits(session, configured(), hub.clock.now()))
    assert (waiting.repository_id, waiting.number, waiting.counted_in) == (
        hub.id(SDK),
        moved.number,
        hub.id(REPO),
    )
    # Since its opening in the widgets repository, with that repository's target.
    assert (waiting.wait.started_at, waiting.waited, waiting.target) == (
        MONDAY,
        30 * HOUR,
        24 * HOUR,
    )

    # Answered in its new repository, it counts (late) in the one it was opened in.
    hub.later(HOUR)
    hub.state.comment(SDK, moved.number, "marta", "Thanks, looking")
    await hub.settle()
    now = hub.clock.now()
    assert await read(lambda session: open_waits(session, configured(), now)) == []
    shares = await read(lambda session: met_share(session, configured(), now - 30 * DAY, now))
    assert shares == [Share(hub.id(REPO), "triage", met=0, total=1)]


@pytest.mark.parametrize(
    ("holidays", "hours"),
    [([], 16), (["2026-03-09"], 5)],
    ids=["weekend", "weekend and a holiday"],
)
async def test_business_days_count_only_working_days_in_the_community_s_zone(
    hub: Hub, read: Reader, holidays: list[str], hours: int
) -> None:
    """Opened on Friday at 19:00 in Berlin, read on Monday at 11:00: five hours of Friday and
    eleven of Monday count, unless Monday is a holiday."""
    hub.clock.set(datetime(2026, 3, 6, 18, tzinfo=UTC))
    hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.clock.set(datetime(2026, 3, 9, 10, tzinfo=UTC))
    await hub.settle()
    settings = configured(business_days=True, time_zone="Europe/Berlin", holidays=holidays)

    (waiting,) = await read(lambda session: open_waits(session, settings, hub.clock.now()))
    assert waiting.waited == hours * HOUR


async def test_the_share_met_within_target_over_a_period(hub: Hub, read: Reader) -> None:
    state, start = hub.state, hub.clock.now()

    def day(n: float) -> None:
        hub.clock.set(start + n * DAY)

    old = state.open_issue(REPO, "alice", "Long ago")
    day(0.5)
    state.add_labels(REPO, old.number, ["bug"], actor="marta")  # decided before the period
    day(30)
    quick = state.open_issue(REPO, "alice", "Answered in time")
    slow = state.open_issue(REPO, "bob", "Answered late")
    hub.later(2 * HOUR)
    state.add_labels(REPO, quick.number, ["bug"], actor="marta")
    day(31.25)
    state.comment(REPO, slow.number, "marta", "Sorry for the wait")  # after 30 hours
    day(35)
    withdrawn = state.open_issue(REPO, "carol", "Found it myself")
    hub.later(HOUR)
    state.close_issue(REPO, withdrawn.number, actor="carol")  # leaves the measure
    stale = state.open_issue(REPO, "carol", "Closed by a bot in time")
    hub.later(2 * HOUR)
    state.close_issue(REPO, stale.number, actor="stale[bot]")  # ended before its target
    day(36)
    reviewed = state.open_pull(REPO, "dave", "Reviewed in time")
    ignored = state.open_pull(REPO, "erin", "Closed by a bot after its target")
    hub.later(10 * HOUR)
    state.submit_review(REPO, reviewed.number, "lena", "COMMENTED", "Looks fine")
    day(37)
    state.open_issue(REPO, "frank", "Never answered")  # past its target since day 38
    day(38.5)
    state.close_issue(REPO, ignored.number, actor="stale[bot]")
    day(40)
    state.open_issue(SDK, "frank", "Just opened")  # within its target: not decided yet
    day(40.1)
    await hub.settle()
    now = hub.clock.now()

    shares = await read(lambda session: met_share(session, configured(), now - 30 * DAY, now))
    assert shares == [
        Share(hub.id(REPO), "review", met=1, total=2),
        Share(hub.id(REPO), "triage", met=1, total=3),
    ]
    # Decided within the last three days: the issue never answered and the pull request a
    # bot closed, both past their targets on day 38.
    recent = await read(lambda session: met_share(session, configured(), now - 3 * DAY, now))
    assert recent == [
        Share(hub.id(REPO), "review", met=0, total=1),
        Share(hub.id(REPO), "triage", met=0, total=1),
    ]
    # In plain hours too (the configured calendar is the wall clock already).
    plain = await read(
        lambda session: met_share(session, configured(), now - 30 * DAY, now, WALL_CLOCK)
    )
    assert plain == shares


async def test_the_share_counts_business_hours_in_business_days_mode(
    hub: Hub, read: Reader
) -> None:
    """Opened on Friday evening and answered on Monday morning: late by the wall clock, in
    time by business days."""
    hub.clock.set(datetime(2026, 3, 6, 18, tzinfo=UTC))
    issue = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.clock.set(datetime(2026, 3, 9, 10, tzinfo=UTC))
    hub.state.assign(REPO, issue.number, ["marta"], actor="marta")
    await hub.settle()
    settings, now = configured(business_days=True), hub.clock.now()

    business = await read(lambda session: met_share(session, settings, now - DAY * 30, now))
    wall = await read(lambda session: met_share(session, settings, now - 30 * DAY, now, WALL_CLOCK))
    assert business == [Share(hub.id(REPO), "triage", met=1, total=1)]
    assert wall == [Share(hub.id(REPO), "triage", met=0, total=1)]


async def test_an_empty_history_has_no_waits_and_no_shares(hub: Hub, read: Reader) -> None:
    now = hub.clock.now()
    assert await read(lambda session: open_waits(session, configured(), now)) == []
    assert await read(lambda session: met_share(session, configured(), now - DAY, now)) == []
