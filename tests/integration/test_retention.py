# SPDX-License-Identifier: Apache-2.0
"""Retention: old outbox messages and departed members' data are deleted on time, by the
job and by `helios-bot purge`, and what is still to be delivered is never touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.base import Base
from bot.db.models import FORGOTTEN, CheckIn, Feedback, Newcomer, Pairing, Promise, SpotlightWeek
from bot.db.reader import Read
from bot.feature import Context
from bot.outbox import promise
from bot.services import mentorship, retention
from tests.integration.test_cli import cli
from tests.unit.services_helpers import World
from tests.unit.test_mentorship import CONFIG as MENTORING
from tests.unit.test_mentorship import ask, mentor, newcomer, pairings

GUILD = 100000000000000001
# Discord ids no other column of the test's rows could hold by chance.
ADA, BRUNO, KOFI, LENA = (710000000000000000 + n for n in range(1, 5))


async def promised(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, key: str, status: str
) -> None:
    async with sessions.begin() as session:
        await promise(
            session,
            feature="test",
            guild_id=GUILD,
            key=key,
            target_kind="channel",
            target_id=7,
            payload={"content": key},
            now=clock.now(),
        )
        row = await session.scalar(select(Promise).where(Promise.key == key))
        assert row is not None
        row.status = status


T = TypeVar("T")


def read(sessions: async_sessionmaker[AsyncSession]) -> Read:
    """Plain reads through ``run_sync``, as bot/db/reader.py runs them on an in-memory SQLite."""

    async def run(work: Callable[[Session], T]) -> T:
        async with sessions() as session:
            return await session.run_sync(work)

    return run


async def keys(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return sorted(await session.scalars(select(Promise.key)))


async def test_old_messages_are_deleted_but_never_pending_ones(
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    write_config: Callable[..., Path],
) -> None:
    config = load_config(write_config("[retention]\noutbox_days = 90\n"), {})
    context = Context(config.settings, clock, sessions, github=None, read=read(sessions))
    for status in ("sent", "skipped", "failed", "pending"):
        await promised(sessions, clock, f"old-{status}", status)
    clock.advance(timedelta(days=89))
    await promised(sessions, clock, "recent-sent", "sent")

    assert (await retention.purge(context)).promises == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert (await retention.purge(context)).promises == 3
    assert await keys(sessions) == ["old-pending", "recent-sent"]


async def test_helios_bot_purge_deletes_a_departed_members_data_now(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    write_config: Callable[..., Path],
) -> None:
    async with sessions.begin() as session:
        for user_id, departed in ((1, clock.now() - timedelta(days=31)), (2, None)):
            session.add(
                Newcomer(
                    guild_id=GUILD, user_id=user_id, started_at=clock.now(), departed_at=departed
                )
            )
    path = write_config()
    status, out, _ = await cli("purge", "--config", str(path), env={"DATABASE_URL": database_url})
    assert status == 0
    assert out == (
        "deleted 0 webhook deliveries, 0 outbox messages and the data of 1 departed members\n"
    )
    async with sessions() as session:
        assert list(await session.scalars(select(Newcomer.user_id))) == [2]


async def test_forgetting_a_member_leaves_no_row_that_names_them(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Kofi mentored Ada (handed over to Lena) and Bruno, both gave feedback and answered
    check-ins, and he skipped a spotlight as an organiser; then he and Ada are forgotten.
    No column of any table still holds their ids (the outbox's texts aside: they are
    messages others received, kept for `outbox_days`)."""
    world = World(sessions, clock)
    context = world.context(MENTORING)
    await mentor(world, KOFI)
    await newcomer(world, ADA, login="ada")
    await newcomer(world, BRUNO, login="bruno")
    with_kofi = (await ask(world, ADA, MENTORING)).pairing
    await mentor(world, LENA)
    async with sessions.begin() as session:
        row = await session.get(Pairing, with_kofi.id)
        assert row is not None
        await mentorship.hand_over(session, MENTORING, row, "unanswered", clock.now())
    brunos = (await ask(world, BRUNO, MENTORING)).pairing
    (with_lena,) = [p for p in await pairings(world, "active") if p.mentee_id == ADA]
    assert (brunos.mentor_id, with_lena.mentor_id) == (KOFI, LENA)
    async with sessions.begin() as session:
        for pairing_id, user_id, side in (
            (with_kofi.id, ADA, "mentee"),
            (with_kofi.id, KOFI, "mentor"),
            (with_lena.id, LENA, "mentor"),
            (brunos.id, BRUNO, "mentee"),
            (brunos.id, KOFI, "mentor"),
        ):
            session.add(
                Feedback(
                    pairing_id=pairing_id, user_id=user_id, side=side, score=4, given_at=clock.now()
                )
            )
        for pairing_id, stage in ((with_kofi.id, "mentor-2"), (with_lena.id, "mentee-7")):
            session.add(
                CheckIn(pairing_id=pairing_id, stage=stage, asked_at=clock.now(), answer="talked")
            )
        session.add(CheckIn(pairing_id=brunos.id, stage="mentor-2", asked_at=clock.now()))
        session.add(
            SpotlightWeek(
                guild_id=GUILD,
                week=date(2026, 1, 12),
                status="skipped",
                by_user_id=KOFI,
                at=clock.now(),
            )
        )

    await retention.forget_me(context, KOFI)
    await retention.forget_me(context, ADA)

    assert await naming(sessions, KOFI) == []
    assert await naming(sessions, ADA) == []
    # Bruno's pairing with Kofi is Bruno's history: his feedback and its check-in stay, and
    # his next pairing (Lena's) still leaves out the mentor he had, now nobody's id.
    assert [(f.pairing_id, f.user_id) for f in await world.rows(Feedback)] == [(brunos.id, BRUNO)]
    assert [c.pairing_id for c in await world.rows(CheckIn)] == [brunos.id]
    (next_one,) = await pairings(world, "active")
    assert (next_one.mentee_id, next_one.mentor_id) == (BRUNO, LENA)
    assert next_one.excluded_mentor_ids == [FORGOTTEN]
    (week,) = await world.rows(SpotlightWeek)
    assert (week.status, week.by_user_id) == ("skipped", None)


async def test_a_mentor_who_never_ran_start_is_forgotten_as_they_leave(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """Nothing records when a member without a newcomer row left, so no purge would come for
    them: once their mentee is handed over, nothing names them (in the list of mentors the
    mentee is not to be given again, their place is kept as nobody's)."""
    world = World(sessions, clock)
    await mentor(world, KOFI)
    await newcomer(world, ADA, login="ada")
    paired = (await ask(world, ADA, MENTORING)).pairing
    async with sessions.begin() as session:
        session.add(
            Feedback(
                pairing_id=paired.id, user_id=KOFI, side="mentor", score=5, given_at=clock.now()
            )
        )

    await retention.member_left(world.context(MENTORING), KOFI)

    assert await naming(sessions, KOFI) == []
    (ended, waiting) = sorted(await pairings(world), key=lambda p: p.id)
    assert (ended.status, ended.end_reason, ended.mentor_id) == ("ended", "mentor_left", None)
    assert (waiting.mentee_id, waiting.excluded_mentor_ids) == (ADA, [FORGOTTEN])


async def naming(sessions: async_sessionmaker[AsyncSession], user_id: int) -> list[str]:
    """Every table.column (the outbox's payloads aside) whose value is, or lists, ``user_id``."""
    found = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if (table.name, column) == ("outbox", "payload"):
                        continue
                    if value == user_id or (isinstance(value, list) and user_id in value):
                        found.append(f"{table.name}.{column}")
    return found
