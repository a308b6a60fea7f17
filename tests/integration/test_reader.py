# SPDX-License-Identifier: Apache-2.0
"""Reads off the event loop: a plain function, in a worker thread on a SQLite file, on the
reader's own thread and event loop on PostgreSQL; read-only either way."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.db.models import Newcomer
from bot.db.reader import READ_CONNECTIONS, READER_THREAD, Reader, ReaderClosed

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# A hang detector for reads that wait for the event loop: not a measurement.
HANG = 10.0

only_postgresql = pytest.mark.parametrize("database", ["postgres"], indirect=True)


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == READER_THREAD]


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
        await read.close()


async def test_reads_run_off_the_loops_thread_and_cannot_write(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    read = Reader(engine, sessions)
    try:
        assert await read(lambda _: threading.get_ident()) != threading.get_ident()

        def write(session: Session) -> None:
            session.add(Newcomer(guild_id=1, user_id=3, started_at=NOW, areas=[]))
            session.commit()

        # SQLite's connections are opened query_only, PostgreSQL's transactions read-only;
        # every pooled connection refuses, not only the first.
        for _ in range(READ_CONNECTIONS + 1):
            with pytest.raises(DBAPIError, match=r"readonly|read-only transaction"):
                await read(write)
        async with sessions() as session:
            assert list(await session.scalars(select(Newcomer.user_id))) == []
    finally:
        await read.close()


async def test_a_read_computing_at_length_holds_no_event_loop_the_bot_serves(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], no_blocking: None
) -> None:
    """The read keeps computing until the main loop has run a callback it asked for: were it
    on the loop's thread, that would never happen (and the watchdog would see 0.3 s of CPU)."""
    read = Reader(engine, sessions)
    loop, ticked = asyncio.get_running_loop(), threading.Event()

    def compute(session: Session) -> bool:
        assert session.scalar(text("SELECT 1")) == 1
        loop.call_soon_threadsafe(ticked.set)
        began, hang = time.thread_time(), time.perf_counter() + HANG
        while time.thread_time() - began < 0.3 or not ticked.is_set():
            if time.perf_counter() > hang:
                break
        return ticked.is_set()

    try:
        assert await read(compute), "the event loop did not run while the read computed"
    finally:
        await read.close()


class Refused(Exception):
    pass


async def test_an_error_in_a_read_reaches_the_caller_as_it_was_raised(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    read = Reader(engine, sessions)

    def refuse(_: Session) -> None:
        raise Refused("no <@everyone> here")

    try:
        with pytest.raises(Refused, match="no <@everyone> here"):
            await read(refuse)
        with pytest.raises(DBAPIError, match="no_such_table"):
            await read(lambda s: s.execute(text("SELECT * FROM no_such_table")))
        assert await read(lambda s: s.scalar(text("SELECT 2"))) == 2  # the connection is fine
    finally:
        await read.close()


@pytest.mark.postgres
@only_postgresql
async def test_on_postgresql_reads_run_on_the_readers_thread_side_by_side(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    read = Reader(engine, sessions)

    def backend(session: Session) -> tuple[str, int]:
        session.execute(text("SELECT pg_sleep(0.2)"))
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        assert isinstance(pid, int)
        return threading.current_thread().name, pid

    try:
        found = await asyncio.gather(*(read(backend) for _ in range(READ_CONNECTIONS + 2)))
        assert {name for name, _ in found} == {READER_THREAD}
        # Reads beyond the pool's connections wait for one; the others run at the same time.
        assert 1 < len({pid for _, pid in found}) <= READ_CONNECTIONS
    finally:
        await read.close()


@pytest.mark.postgres
@only_postgresql
async def test_on_postgresql_close_lets_a_read_under_way_finish_then_stops_the_thread(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = reader_threads()
    read = Reader(engine, sessions)
    await read.close()  # before any read: nothing was started
    assert reader_threads() == before
    with pytest.raises(ReaderClosed):
        await read(lambda s: s.scalar(text("SELECT 1")))

    read = Reader(engine, sessions)
    loop, started = asyncio.get_running_loop(), asyncio.Event()

    def slow(session: Session) -> int | None:
        loop.call_soon_threadsafe(started.set)
        session.execute(text("SELECT pg_sleep(0.3)"))
        return session.scalar(text("SELECT 3"))

    under_way = asyncio.create_task(read(slow))
    await started.wait()
    assert len(reader_threads()) == len(before) + 1
    await read.close()
    assert under_way.done()
    assert await under_way == 3
    assert reader_threads() == before
    await read.close()  # again: nothing to do
    with pytest.raises(ReaderClosed, match="closed"):
        await read(slow)
