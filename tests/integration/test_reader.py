# SPDX-License-Identifier: Apache-2.0
"""Interactive reads: a plain function, in a thread on SQLite, run_sync elsewhere."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.db.models import Newcomer
from bot.db.reader import Reader

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def test_reads_see_committed_writes_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    read = Reader(engine, sessions)
    try:
        assert await read(lambda s: s.get(Newcomer, (1, 2))) is None
        async with sessions.begin() as session:
            session.add(Newcomer(guild_id=1, user_id=2, started_at=NOW, areas=["docs"]))
        row = await read(lambda s: s.get(Newcomer, (1, 2)))
        assert row is not None
        assert row.areas == ["docs"]
        assert row.started_at == NOW
    finally:
        read.close()


async def test_on_a_sqlite_file_reads_run_in_a_thread_and_cannot_write(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    read = Reader(engine, sessions)
    try:
        in_main_thread = await read(lambda _: threading.current_thread() is threading.main_thread())
        on_sqlite = engine.dialect.name == "sqlite"
        assert in_main_thread is not on_sqlite  # SQLite: a worker; PostgreSQL: run_sync

        def write(session: Session) -> None:
            session.add(Newcomer(guild_id=1, user_id=3, started_at=NOW, areas=[]))
            session.commit()

        if on_sqlite:  # its connections are opened query_only
            with pytest.raises(OperationalError, match="readonly"):
                await read(write)
            async with sessions() as session:
                assert list(await session.scalars(select(Newcomer.user_id))) == []
    finally:
        read.close()
