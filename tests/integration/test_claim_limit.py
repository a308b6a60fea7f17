# SPDX-License-Identifier: Apache-2.0
"""The claim limit holds when a member's claims race: on PostgreSQL (READ COMMITTED) a claim
counts the member's claims only after locking their row."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Claim, Newcomer
from bot.errors import DomainError
from bot.services import claims
from tests.unit.services_helpers import GUILD, REPO_ID, World, account

ADA = 1


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_claim_waits_for_the_members_other_claim_in_progress(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    await world.repository()
    await world.newcomer(ADA, account(11, "ada-codes", clock.now()))
    labels = ("good first issue",)
    await world.seed(world.issue(1, labels=labels), world.issue(2, labels=labels))

    # Another click's transaction, in progress: it locked Ada's row and added a claim.
    async with sessions.begin() as other:
        await other.scalar(
            select(Newcomer)
            .where(Newcomer.guild_id == GUILD, Newcomer.user_id == ADA)
            .with_for_update()
        )
        other.add(
            Claim(
                guild_id=GUILD,
                user_id=ADA,
                repository_id=REPO_ID,
                number=1,
                method="assigned",
                status="active",
                claimed_at=clock.now(),
            )
        )
        await other.flush()
        second = asyncio.create_task(
            claims.take(world.context(), user_id=ADA, repository_id=REPO_ID, number=2)
        )
        await asyncio.sleep(0.3)  # it reaches the lock and waits (without one, it is done)
        assert not second.done()
    with pytest.raises(DomainError, match="already have an active claim"):
        await second
    assert [(row.number, row.status) for row in await world.rows(Claim)] == [(1, "active")]
    assert world.github.calls == []
