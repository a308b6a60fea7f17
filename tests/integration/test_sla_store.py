# SPDX-License-Identifier: Apache-2.0
"""The kept waits (bot/services/sla/store.py) on SQLite and PostgreSQL: a scan of a fresh
store finds exactly what the clocks find on the whole history, and a row goes stale, and is
recomputed, when its item's history changes (late deliveries, backfill pages, an origin's
history), when the rules change, and goes when its item closes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import GitHubIssue, SlaWait
from bot.db.reader import Reader
from bot.github.normalise import Changes, CommentRecord, UserRecord, apply, lock_history
from bot.sandbox.github.state import NotFoundError, ValidationError
from bot.services.sla.scan import OpenWait, open_waits
from bot.services.sla.store import keep, recompute
from tests.unit.sla_helpers import HOUR, REPO, SDK, VAULT, Hub, configured

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
PEOPLE = ["alice", "bob", "marta", "lena", "carol", "dependabot[bot]", "stale[bot]"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def hub(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Hub:
    return Hub(sessions, clock)


async def refreshed(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """A refresh as the job runs it: the rows recomputed by a read, then kept in a write
    transaction."""
    async with sessions() as session:
        recomputed = await session.run_sync(recompute, settings)
    async with sessions.begin() as session:
        count: int = await session.run_sync(keep, recomputed)
    return count


async def scan(read: Reader, hub: Hub, settings: Settings | None = None) -> list[OpenWait]:
    settings, now = settings or configured(), hub.clock.now()
    return await read(lambda session: open_waits(session, settings, now))


async def kept(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[int, int], str | None]:
    """The kept rows: on whom each item waits (None: no one)."""
    async with sessions() as session:
        rows = await session.execute(
            select(SlaWait.repository_id, SlaWait.number, SlaWait.waiting_on)
        )
        return {(repository, number): on for repository, number, on in rows}


async def forget(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(SlaWait))


def play(hub: Hub, rng: random.Random, steps: int) -> None:
    """``steps`` random moves on GitHub: items opened, commented, labelled, assigned,
    reviewed, pushed to, drafted, closed, reopened, merged and transferred, by maintainers,
    their authors, newcomers and bots, hours apart."""
    state = hub.state
    items: list[tuple[str, int]] = [
        (name, n) for name in (REPO, SDK, VAULT) for n in state.repo(name).issues
    ]
    for _ in range(steps):
        hub.later(rng.choice([0, 1, 5, 20, 30]) * HOUR)
        who = rng.choice(PEOPLE)
        move = rng.random()
        if move < 0.2 or not items:
            repo = rng.choice([REPO, REPO, SDK, VAULT])
            if rng.random() < 0.5:
                issue = state.open_issue(
                    repo, who, "An issue", labels=rng.choice([[], ["needs triage"]])
                )
            else:
                issue = state.open_pull(repo, who, "A change", draft=rng.random() < 0.3)
            items.append((repo, issue.number))
            continue
        repo, number = rng.choice(items)
        try:
            if move < 0.35:
                state.comment(repo, number, who, "A word")
            elif move < 0.45:
                state.add_labels(repo, number, [rng.choice(["bug", "needs triage"])], actor=who)
            elif move < 0.5:
                state.assign(repo, number, [who], actor=who)
            elif move < 0.62:
                state.submit_review(
                    repo, number, who, rng.choice(["APPROVED", "CHANGES_REQUESTED", "COMMENTED"])
                )
            elif move < 0.68:
                state.push_commits(repo, number, actor=who)
            elif move < 0.72:
                state.request_review(repo, number, rng.choice(["marta", "lena"]), actor=who)
            elif move < 0.77:
                state.set_draft(repo, number, rng.random() < 0.5, actor=who)
            elif move < 0.85:
                state.close_issue(repo, number, actor=who)
            elif move < 0.92:
                state.reopen_issue(repo, number, actor=who)
            elif move < 0.96:
                state.merge(repo, number, actor=who)
            else:
                target = rng.choice([REPO, SDK])
                items.append(
                    (target, state.transfer_issue(repo, number, target, actor="marta").number)
                )
        except (ValidationError, NotFoundError):
            pass  # a move GitHub refuses (a review of an issue, reopening a merged pull)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_fresh_store_finds_what_the_clocks_find_on_the_whole_history(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    play(hub, rng, 80)
    await hub.settle()
    computed = await scan(read, hub)  # nothing kept yet: every item from its history
    assert computed

    count = await refreshed(sessions, configured())
    async with sessions() as session:
        shown_open = await session.scalar(
            select(func.count()).where(
                GitHubIssue.state == "open",
                GitHubIssue.removed.is_(None),
                GitHubIssue.repository_id.in_([hub.id(REPO), hub.id(SDK)]),
            )
        )
    assert count == shown_open == len(await kept(sessions))
    assert await scan(read, hub) == computed
    assert await refreshed(sessions, configured()) == 0  # all fresh: the scan read the store

    # More history, some of it late: the rows it touches go stale, and the scan stays exact.
    play(hub, rng, 40)
    held = hub.hold()
    rng.shuffle(held)
    await hub.deliver(held)
    hub.later(2 * HOUR)
    mixed = await scan(read, hub)
    assert await refreshed(sessions, configured()) > 0
    assert await scan(read, hub) == mixed
    await forget(sessions)
    assert await scan(read, hub) == mixed


async def test_a_late_delivery_of_an_old_answer_makes_the_row_stale(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issue = hub.state.open_issue(REPO, "alice", "Crash on start")
    other = hub.state.open_issue(REPO, "bob", "Typo")
    await hub.settle()
    hub.later(HOUR)
    hub.state.add_labels(REPO, issue.number, ["bug"], actor="marta")  # its webhook is late
    late = hub.hold()
    hub.later(30 * HOUR)
    assert await refreshed(sessions, configured()) == 2
    assert {w.number for w in await scan(read, hub)} == {issue.number, other.number}

    await hub.deliver(late)
    # Exact before any refresh (computed from the history), then kept.
    assert [w.number for w in await scan(read, hub)] == [other.number]
    assert await refreshed(sessions, configured()) == 1
    assert (await kept(sessions))[hub.id(REPO), issue.number] is None
    assert [w.number for w in await scan(read, hub)] == [other.number]


async def test_a_backfill_page_makes_the_rows_it_touches_stale(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issue = hub.state.open_issue(REPO, "alice", "Crash on start")
    other = hub.state.open_issue(REPO, "bob", "Typo")
    hub.later(30 * HOUR)
    await hub.settle()
    assert await refreshed(sessions, configured()) == 2

    # A page of the REST backfill brings a maintainer's comment its webhook never delivered.
    marta = hub.state.find_user("marta")
    author = UserRecord(marta.id, "marta", "User", False, hub.clock.now())
    comment = CommentRecord(
        9001, hub.id(REPO), issue.number, "issue", author, "MEMBER", MONDAY + HOUR
    )
    async with sessions.begin() as session:
        await lock_history(session)
        await apply(session, Changes(comments=[comment]))

    assert [w.number for w in await scan(read, hub)] == [other.number]
    assert await refreshed(sessions, configured()) == 1
    assert [w.number for w in await scan(read, hub)] == [other.number]


async def test_a_new_maintainer_in_the_config_recomputes_every_row(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession]
) -> None:
    answered = hub.state.open_issue(REPO, "alice", "Crash on start")
    hub.state.open_issue(SDK, "bob", "Typo")
    hub.later(HOUR)
    hub.state.comment(REPO, answered.number, "zoe", "I'll look")  # no association on GitHub
    hub.later(30 * HOUR)
    await hub.settle()
    before = configured()
    assert await refreshed(sessions, before) == 2
    assert len(await scan(read, hub, before)) == 2

    after = Settings.model_validate(
        before.model_dump()
        | {"github": before.github.model_dump() | {"maintainers": ["lena", "Zoe"]}}
    )
    assert [w.repository_id for w in await scan(read, hub, after)] == [hub.id(SDK)]
    assert await refreshed(sessions, after) == 2
    assert await refreshed(sessions, after) == 0
    assert [w.repository_id for w in await scan(read, hub, after)] == [hub.id(SDK)]

    # Renamed, zoe's account no longer has the configured login: the rules differ again.
    async with sessions.begin() as session:
        zoe = hub.state.find_user("zoe").id
        await lock_history(session)
        await apply(
            session, Changes(users=[UserRecord(zoe, "zoe-2", "User", False, hub.later(HOUR))])
        )
    assert len(await scan(read, hub, after)) == 2
    assert await refreshed(sessions, after) == 2


async def test_rows_of_closed_and_transferred_items_go(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession]
) -> None:
    closed = hub.state.open_issue(REPO, "alice", "Never mind")
    moved = hub.state.open_issue(REPO, "bob", "Belongs to the SDK")
    await hub.settle()
    assert await refreshed(sessions, configured()) == 2

    hub.later(HOUR)
    hub.state.close_issue(REPO, closed.number, actor="alice")
    arrived = hub.state.transfer_issue(REPO, moved.number, SDK, actor="marta")
    await hub.settle()
    assert await refreshed(sessions, configured()) == 1  # the transferred issue's new self
    assert set(await kept(sessions)) == {(hub.id(SDK), arrived.number)}


async def test_a_change_to_a_transferred_issue_s_origin_makes_its_row_stale(
    hub: Hub, read: Reader, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issue = hub.state.open_issue(REPO, "alice", "Belongs to the SDK")
    await hub.settle()
    hub.later(HOUR)
    hub.state.comment(REPO, issue.number, "marta", "Moving it")  # its webhook is late
    late = hub.hold()
    hub.later(HOUR)
    moved = hub.state.transfer_issue(REPO, issue.number, SDK, actor="marta")
    hub.later(30 * HOUR)
    await hub.settle()
    assert await refreshed(sessions, configured()) == 1
    (waiting,) = await scan(read, hub)
    assert (waiting.number, waiting.counted_in) == (moved.number, hub.id(REPO))

    # The old issue's late comment answered it: only the origin's history changed.
    await hub.deliver(late)
    assert await scan(read, hub) == []
    assert await refreshed(sessions, configured()) == 1
    assert await scan(read, hub) == []
