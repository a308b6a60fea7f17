# SPDX-License-Identifier: Apache-2.0
"""A mentor's capacity holds when newcomers ask at the same moment: a match takes a place with
one conditional UPDATE of the mentor's load, which on PostgreSQL (READ COMMITTED) waits for
the other match's lock and then finds the mentor full."""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Mentor, Newcomer, Pairing
from bot.services import members, mentorship
from bot.services.mentorship import MentorProfile, Request
from tests.unit.services_helpers import AREAS, GUILD, World, settings

CONFIG = settings(mentorship={"mentor_role_id": 5, "mentors_channel_id": 6})
ADA, BRUNO, CHIDI = 1, 2, 3
KOFI, LENA = 11, 12


async def mentor(world: World, user_id: int, capacity: int) -> None:
    async with world.sessions.begin() as session:
        await mentorship.join(
            session,
            CONFIG,
            GUILD,
            user_id,
            MentorProfile(("docs",), capacity, 60, ()),
            offered=AREAS,
            approved=True,
            now=world.clock.now(),
        )


async def newcomers(world: World, *user_ids: int) -> None:
    for user_id in user_ids:
        await world.newcomer(user_id, areas=("docs",))
    async with world.sessions.begin() as session:
        for user_id in user_ids:
            await members.set_utc_offset(session, GUILD, user_id, 60)
        await session.execute(
            update(Newcomer)
            .where(Newcomer.user_id.in_(user_ids))
            .values(finished_at=world.clock.now())
        )


async def ask(world: World, user_id: int) -> Request:
    async with world.sessions.begin() as session:
        return await mentorship.request(session, CONFIG, GUILD, user_id, world.clock.now())


async def test_two_newcomers_asking_at_once_for_the_last_place(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    await mentor(world, KOFI, capacity=2)
    await newcomers(world, ADA, BRUNO, CHIDI)
    await ask(world, CHIDI)  # one of Kofi's two places

    # Ada's request, in progress: it has taken Kofi's last place and not committed yet.
    async with sessions.begin() as first:
        ada = await mentorship.request(first, CONFIG, GUILD, ADA, clock.now())
        assert ada.pairing.mentor_id == KOFI
        # Bruno's request sees Kofi with a place free (the last committed load) and tries
        # to take it: on PostgreSQL its UPDATE waits for Ada's lock, on SQLite for the one
        # connection.
        second = asyncio.create_task(ask(world, BRUNO))
        await asyncio.sleep(0.3)
        assert not second.done()
    bruno = await second

    assert (bruno.pairing.status, bruno.pairing.mentor_id, bruno.place) == ("queued", None, 1)
    (kofi,) = await world.rows(Mentor)
    assert (kofi.load, kofi.capacity) == (2, 2)
    assert sorted((p.mentee_id, p.status) for p in await world.rows(Pairing)) == [
        (ADA, "active"),
        (BRUNO, "queued"),
        (CHIDI, "active"),
    ]


async def test_many_newcomers_asking_at_once_fill_every_place_and_no_more(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    await mentor(world, KOFI, capacity=1)
    await mentor(world, LENA, capacity=2)
    members = list(range(1, 7))
    await newcomers(world, *members)

    await asyncio.gather(*(ask(world, member) for member in members))

    assert {m.user_id: m.load for m in await world.rows(Mentor)} == {KOFI: 1, LENA: 2}
    rows = await world.rows(Pairing)
    assert sorted(p.status for p in rows) == ["active"] * 3 + ["queued"] * 3
    assert sorted(p.mentor_id or 0 for p in rows if p.status == "active") == [KOFI, LENA, LENA]
    # Asked again once all have committed, the queued ones have places 1, 2 and 3.
    queued = [p.mentee_id for p in rows if p.status == "queued"]
    assert sorted([(await ask(world, member)).place or 0 for member in queued]) == [1, 2, 3]


async def test_one_newcomer_asking_twice_at_once_gets_one_request(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    await mentor(world, KOFI, capacity=2)
    await newcomers(world, ADA)

    # A double click: the first request holds its new pairing, uncommitted, while the second
    # looks, finds none yet, and inserts its own (on PostgreSQL it waits on the unique index).
    async with sessions.begin() as first:
        ada = await mentorship.request(first, CONFIG, GUILD, ADA, clock.now())
        second = asyncio.create_task(ask(world, ADA))
        await asyncio.sleep(0.3)
        assert not second.done()
    again = await second

    assert (ada.new, again.new, again.pairing.id) == (True, False, ada.pairing.id)
    (kofi,) = await world.rows(Mentor)
    assert kofi.load == 1
    assert [(p.mentee_id, p.status) for p in await world.rows(Pairing)] == [(ADA, "active")]
