# SPDX-License-Identifier: Apache-2.0
"""Organiser tools: the bot's own health, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.migrate import current_revision
from bot.db.models import Promise
from bot.feature import Feature

# Organiser commands only: nothing from webhooks, no jobs, no promises.
FEATURE = Feature("admin")


@dataclass(frozen=True)
class Status:
    database: str
    schema_revision: str | None
    expected_revision: str | None
    outbox: dict[str, int]

    @property
    def schema_current(self) -> bool:
        return self.schema_revision == self.expected_revision


async def status(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], expected_revision: str | None
) -> Status:
    async with sessions() as session:
        rows = await session.execute(select(Promise.status, func.count()).group_by(Promise.status))
        outbox = {state: count for state, count in rows.all()}
    return Status(
        database=engine.dialect.name,
        schema_revision=await current_revision(engine),
        expected_revision=expected_revision,
        outbox=outbox,
    )
