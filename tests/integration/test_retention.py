# SPDX-License-Identifier: Apache-2.0
"""Retention: old outbox messages and departed members' data are deleted on time, by the
job and by `helios-bot purge`, and what is still to be delivered is never touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.models import Newcomer, Promise
from bot.db.reader import Read
from bot.feature import Context
from bot.outbox import promise
from bot.services import retention
from tests.integration.test_cli import cli

GUILD = 100000000000000001


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
