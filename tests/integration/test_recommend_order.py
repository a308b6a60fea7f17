# SPDX-License-Identifier: Apache-2.0
"""Recommendations that tie on every ranking part come in one order on SQLite and
PostgreSQL: by repository, then number, whatever order the database returns them in."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from tests.unit.services_helpers import REPO, REPO_ID, SDK, SDK_ID, World
from tests.unit.test_recommend import BEGINNER, recommendations


async def test_issues_opened_at_the_same_instant_come_by_repository_then_number(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    world = World(sessions, clock)
    # The lower id has the later name, and the issues are written in the reverse of the
    # expected order: neither the order of the keys nor that of the writes is the answer.
    await world.repository(REPO_ID, SDK)
    await world.repository(SDK_ID, REPO)
    labels = (BEGINNER, "docs")
    for repository_id, number in ((REPO_ID, 1), (SDK_ID, 9), (SDK_ID, 2)):
        await world.seed(world.issue(number, repository_id=repository_id, labels=labels))

    found = await recommendations(world, ("docs",))

    assert [(r.repository, r.number) for r in found] == [(REPO, 2), (REPO, 9), (SDK, 1)]
