# SPDX-License-Identifier: Apache-2.0
"""Reads for the interactive paths (commands, buttons, autocomplete) and jobs, off the event loop.

A read is one plain function of a synchronous :class:`~sqlalchemy.orm.Session`, so a service
can offer it to a write transaction as well (``await session.run_sync(read)``).

On a SQLite file it runs in a worker thread on a pool of read-only pysqlite connections: in
WAL mode readers wait neither for the writer nor for each other, and the synchronous driver
costs a fraction of the async adapter's per-query thread hops, so twenty people clicking at
once do not queue on the loop.

On PostgreSQL it runs on a thread of its own with its own event loop and its own small
asyncpg engine (same URL and options as the main one, :data:`READ_CONNECTIONS` connections,
every transaction read-only), through :meth:`AsyncSession.run_sync` there. ``run_sync`` on
the main engine would run the function on the main loop's thread: in benchmarks/sla_scan.py
the service-level scan held the loop 20-150 ms, the ``/sla status`` report 240-550 ms. On
the reader's thread the main loop only waits for the result (and for the GIL, which Python
hands over every 5 ms). asyncpg is the project's PostgreSQL driver and none synchronous is
installed; a second driver would buy little, as the hand-over costs two thread wake-ups: a
one-row read took 0.9-1.2 ms this way against 0.7 ms on the loop (medians, loaded machine).

An in-memory SQLite (tests) cannot be shared with another connection: its reads run through
``run_sync`` on the main engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from bot.config import DatabaseSettings
from bot.db.engine import create_engine, create_session_factory

T = TypeVar("T")


class Read(Protocol):
    """Runs a plain read of a synchronous Session off the event loop: a :class:`Reader`, or
    where a test has none, its stand-in."""

    async def __call__(self, read: Callable[[Session], T]) -> T: ...


# Read connections of a process: a SQLite file's, or PostgreSQL's on the reader's thread;
# reads beyond these wait for one to come free.
READ_CONNECTIONS = 4
# The name of the PostgreSQL reader's thread, whose event loop exists to be held by reads.
READER_THREAD = "helios-reader"


class ReaderClosed(RuntimeError):
    """A read was asked of a :class:`Reader` after its close()."""


class Reader:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        settings: DatabaseSettings | None = None,
    ) -> None:
        self._sessions = sessions
        self._threaded: sessionmaker[Session] | None = None
        self._sync_engine: Engine | None = None
        self._loop: _LoopThread | None = None
        self._closed = False
        settings = settings or DatabaseSettings()
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._sync_engine = _read_only_sqlite(
                url.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False),
                settings,
            )
            self._threaded = sessionmaker(self._sync_engine)
        elif url.get_backend_name() == "postgresql":
            self._loop = _LoopThread(url.render_as_string(hide_password=False), settings)

    async def __call__(self, read: Callable[[Session], T]) -> T:
        if self._closed:
            raise ReaderClosed("the database reader is closed")
        if self._threaded is not None:
            return await asyncio.to_thread(self._in_thread, read)
        if self._loop is not None:
            return await self._loop.run(read)
        async with self._sessions() as session:
            return await session.run_sync(read)

    def _in_thread(self, read: Callable[[Session], T]) -> T:
        assert self._threaded is not None
        with self._threaded() as session:
            return read(session)

    async def close(self) -> None:
        """Let the reads under way finish, then close the connections (and on PostgreSQL stop
        the reader's thread). Later reads raise :class:`ReaderClosed`; closing again does
        nothing."""
        if self._closed:
            return
        self._closed = True
        if self._sync_engine is not None:
            await asyncio.to_thread(self._sync_engine.dispose)
        if self._loop is not None:
            await self._loop.close()


class _LoopThread:
    """An event loop on a thread of its own with a read-only asyncpg engine, started at the
    first read."""

    def __init__(self, url: str, settings: DatabaseSettings) -> None:
        self._url = url
        self._settings = settings.model_copy(
            update={"pool_size": READ_CONNECTIONS, "max_overflow": 0}
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._reads: set[asyncio.Task[Any]] = set()  # on the reader's loop only

    async def run(self, read: Callable[[Session], T]) -> T:
        loop = self._loop or self._start()
        # Cancelling the caller cancels the read on its loop too, which returns the connection.
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._read(read), loop))

    def _start(self) -> asyncio.AbstractEventLoop:
        # Creating the engine connects nothing: its connections open on the reader's loop.
        self._engine = create_engine(self._url, self._settings)
        _read_only_postgresql(self._engine)
        self._sessions = create_session_factory(self._engine)
        loop = self._loop = asyncio.new_event_loop()
        # A daemon: a process that never closes its Reader still exits.
        self._thread = threading.Thread(target=loop.run_forever, name=READER_THREAD, daemon=True)
        self._thread.start()
        return loop

    async def _read(self, read: Callable[[Session], T]) -> T:
        assert self._sessions is not None
        task = asyncio.current_task()
        assert task is not None
        self._reads.add(task)
        try:
            async with self._sessions() as session:
                return await session.run_sync(read)
        finally:
            self._reads.discard(task)

    async def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return  # never started
        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._finish(), loop))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()

    async def _finish(self) -> None:
        """On the reader's loop: the reads under way end, then the connections close."""
        await asyncio.gather(*self._reads, return_exceptions=True)
        assert self._engine is not None
        await self._engine.dispose()


def _read_only_postgresql(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # On the driver's connection, outside the adapter's transaction, so that it lasts the
        # session: a write here is a bug, refuse it.
        dbapi_connection.run_async(
            lambda connection: connection.execute("SET default_transaction_read_only = on")
        )


def _read_only_sqlite(url: str, settings: DatabaseSettings) -> Engine:
    engine = create_sync_engine(
        url,
        echo=settings.echo,
        pool_size=READ_CONNECTIONS,
        max_overflow=0,
        connect_args={"check_same_thread": False},  # pooled: any worker thread may use it
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA query_only=ON")  # a write here is a bug: refuse it
        cursor.close()

    return engine
