# SPDX-License-Identifier: Apache-2.0
"""Reads for the interactive paths (commands, buttons, autocomplete), off the event loop.

A read is one plain function of a synchronous :class:`~sqlalchemy.orm.Session`. On a SQLite
file it runs in a worker thread on a pool of read-only pysqlite connections: in WAL mode
readers wait neither for the writer nor for each other, and the synchronous driver costs a
fraction of the async adapter's per-query thread hops, so twenty people clicking at once do
not queue on the loop. Elsewhere (PostgreSQL, an in-memory SQLite) the same function runs
through :meth:`AsyncSession.run_sync` on the main engine. Either way the function is
ordinary SQLAlchemy code, and a service can offer it to a write transaction as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from bot.config import DatabaseSettings

T = TypeVar("T")


class Read(Protocol):
    """Runs a plain read of a synchronous Session off the event loop: a :class:`Reader`, or
    where a test has none, its stand-in."""

    async def __call__(self, read: Callable[[Session], T]) -> T: ...


# Read-only connections to a SQLite file; reads beyond these wait for one to come free.
READ_CONNECTIONS = 4


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
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._sync_engine = _read_only_sqlite(
                url.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False),
                settings or DatabaseSettings(),
            )
            self._threaded = sessionmaker(self._sync_engine)

    async def __call__(self, read: Callable[[Session], T]) -> T:
        if self._threaded is not None:
            return await asyncio.to_thread(self._in_thread, read)
        async with self._sessions() as session:
            return await session.run_sync(read)

    def _in_thread(self, read: Callable[[Session], T]) -> T:
        assert self._threaded is not None
        with self._threaded() as session:
            return read(session)

    def close(self) -> None:
        if self._sync_engine is not None:
            self._sync_engine.dispose()


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
