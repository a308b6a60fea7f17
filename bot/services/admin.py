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
    # Why the latest message that could not be delivered was dropped (Discord's words, and
    # what to change where the bot can tell: bot/outbox.py, cogs/outbox.py).
    latest_failure: str | None = None

    @property
    def schema_current(self) -> bool:
        return self.schema_revision == self.expected_revision


async def status(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], expected_revision: str | None
) -> Status:
    async with sessions() as session:
        rows = await session.execute(select(Promise.status, func.count()).group_by(Promise.status))
        outbox = {state: count for state, count in rows.all()}
        latest_failure = await session.scalar(
            select(Promise.last_error)
            .where(Promise.status == "failed")
            .order_by(Promise.id.desc())
            .limit(1)
        )
    return Status(
        database=engine.dialect.name,
        schema_revision=await current_revision(engine),
        expected_revision=expected_revision,
        outbox=outbox,
        latest_failure=latest_failure,
    )
