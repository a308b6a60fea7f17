# SPDX-License-Identifier: Apache-2.0
"""Mentor and mentee clicking Extend at the same moment: each click is one UPDATE that
returns both wishes, so the second, waiting for the first's row lock (PostgreSQL) or for the
one writer (SQLite), sees the first's and extends the pairing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Pairing
from bot.services.mentorship import wrap_up
from tests.integration.test_mentor_capacity import ADA, CONFIG, KOFI, ask, mentor, newcomers
from tests.unit.services_helpers import GUILD, World


async def click(
    session: AsyncSession, world: World, pairing: Pairing, user_id: int, end: int
) -> str:
    return await wrap_up.extend(
        session,
        CONFIG,
        guild_id=GUILD,
        pairing_id=pairing.id,
        wrap_up=end,
        user_id=user_id,
        now=world.clock.now(),
    )


async def test_both_clicking_extend_at_once_extends_the_pairing(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    await mentor(world, KOFI, capacity=2)
    await newcomers(world, ADA)
    pairing = (await ask(world, ADA)).pairing
    assert pairing.ends_at is not None
    clock.set(pairing.ends_at)
    async with sessions.begin() as session:
        await wrap_up.tend_wrap_ups(session, CONFIG, GUILD, clock.now())
    end = wrap_up.round_of(pairing)

    async def mentee_clicks() -> str:
        async with sessions.begin() as session:
            return await click(session, world, pairing, ADA, end)

    async with sessions.begin() as first:
        mentor_said = await click(first, world, pairing, KOFI, end)
        assert mentor_said.startswith("Noted!")  # Ada's wish is not committed yet
        second = asyncio.create_task(mentee_clicks())
        await asyncio.sleep(0.3)
        assert not second.done()  # waiting for Kofi's click to commit
    mentee_said = await second

    assert mentee_said.startswith("Extended: you go on until")
    (row,) = await world.rows(Pairing)
    assert (row.status, row.ends_at, row.wrapped_up_at) == (
        "active",
        pairing.ends_at + timedelta(days=30),
        None,
    )
