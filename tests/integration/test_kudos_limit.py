# SPDX-License-Identifier: Apache-2.0
"""The kudos limit holds when one giver's kudos race: on PostgreSQL (READ COMMITTED) each
give counts the giver's kudos only once the one in progress is committed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Kudos
from bot.errors import DomainError
from bot.services.recognition import kudos
from tests.integration.test_recognition import ADA, BRUNO, CARL, GUILD, settings

ONE_A_DAY = settings(kudos_per_day=1)


async def give(session: AsyncSession, receiver: int, clock: ManualClock) -> kudos.Given:
    return await kudos.give(
        session,
        ONE_A_DAY,
        GUILD,
        giver_id=ADA,
        receiver_id=receiver,
        receiver_is_bot=False,
        reason="Thanks for the help!",
        now=clock.now(),
    )


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_kudos_waits_for_the_givers_other_kudos_in_progress(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async def second_give() -> kudos.Given:
        async with sessions.begin() as session:
            return await give(session, CARL, clock)

    # Ada's first kudos of the day, in progress in another click's transaction.
    async with sessions.begin() as other:
        await give(other, BRUNO, clock)
        second = asyncio.create_task(second_give())
        await asyncio.sleep(0.3)  # it reaches the lock and waits (without one, it is done)
        assert not second.done()
    with pytest.raises(DomainError, match="You've given 1 kudos in the last 24 hours"):
        await second
    async with sessions() as session:
        given = (await session.execute(select(Kudos.giver_id, Kudos.receiver_id))).all()
    assert given == [(ADA, BRUNO)]
