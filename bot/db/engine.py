# SPDX-License-Identifier: Apache-2.0
"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from bot.config import DatabaseSettings

# SQLAlchemy hands SQLite its (naive UTC) datetimes as they are, for sqlite3's default adapter,
# which Python 3.12 deprecates; this one writes the same text ("2026-01-05 09:00:00.123456").
sqlite3.register_adapter(datetime, lambda moment: moment.isoformat(" "))


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, settings: DatabaseSettings | None = None) -> AsyncEngine:
    settings = settings or DatabaseSettings()
    url = normalise_url(url)
    parsed = make_url(url)
    # Statement parameters are never logged, in errors nor with `echo`: they carry webhook
    # bodies, issue titles and the like.
    options: dict[str, Any] = {"echo": settings.echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One pooled connection per process. SQLite has one writer at a time; a second
        # connection that finds the file locked waits in SQLite's busy handler, sleeping in
        # growing steps, and under load can give up ("database is locked"). With one
        # connection, transactions queue in order on the event loop instead and never collide.
        # The webhook inbox writes on a thread and connection of its own (connect_sqlite);
        # background writers hold off while it is busy (WriteTurns), so it rarely meets one.
        # Sessions end their transactions themselves (commit, or rollback on close), so the
        # pool's own rollback on return would only repeat it: one thread hop per session.
        options |= {"pool_size": 1, "max_overflow": 0, "pool_reset_on_return": None}
        # The busy timeout is sqlite3's ``timeout``, in the URL so that connect_sqlite gets it.
        parsed = parsed.update_query_dict({"timeout": str(settings.sqlite_busy_timeout_ms / 1000)})
        engine = create_async_engine(parsed, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            configure_sqlite(dbapi_connection)

        return engine
    options |= {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_pre_ping": True,
    }
    return create_async_engine(url, **options)


def configure_sqlite(connection: DBAPIConnection | sqlite3.Connection) -> None:
    cursor = connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL sync is durable in WAL mode except
    # for the last transactions on power loss, which a committed webhook delivery must
    # survive, so FULL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def connect_sqlite(engine: AsyncEngine) -> sqlite3.Connection:
    """A plain sqlite3 connection to the engine's database, set up like the pooled one.

    For a writer with a thread of its own (the webhook inbox): in autocommit mode, so that
    its transactions are explicit, and usable from one thread at a time, whichever.
    """
    (database,), options = engine.dialect.create_connect_args(engine.url)
    connection = sqlite3.connect(database, **options, isolation_level=None)
    configure_sqlite(connection)
    return connection


def insert_for(session: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    on_postgresql = session.bind is not None and session.bind.dialect.name == "postgresql"
    return postgresql.insert if on_postgresql else sqlite.insert


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # A session class of its own, so that commit hooks (bot.outbox.on_promise) can listen to
    # this factory's sessions alone.
    session_class = type("HeliosSession", (Session,), {})
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)


# Background work starts only once urgent work has paused this long, so that under a stream of
# webhooks it waits for the stream to thin out rather than slip in between two inbox batches
# and hold up the acknowledgements that follow.
QUIET = 0.02


class WriteTurns:
    """Turns at writing, for the writers inside one process, urgent ones first.

    SQLite lets one transaction write at a time, and a writer that finds the file locked
    waits in SQLite's busy handler, which sleeps in growing steps: under load a webhook
    acknowledgement could wait behind background work for hundreds of milliseconds. Writers
    here queue on an asyncio lock instead (SQLite only: PostgreSQL writes concurrently).

    Background work (normalising deliveries) also waits until no urgent work has run for
    ``quiet`` seconds, on every database: it costs the event loop far more CPU than an
    acknowledgement, so it runs in the receiver's idle time and never between two batches of
    a busy stream. A stream that never pauses defers it until it does; the deliveries wait
    committed in the inbox meanwhile.
    """

    def __init__(self, *, serialise: bool, quiet: float = QUIET) -> None:
        self._lock = asyncio.Lock() if serialise else None
        self._quiet = quiet
        self._urgent = 0
        self._urgent_ended = float("-inf")  # event loop time
        self._calm = asyncio.Event()
        self._calm.set()

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> WriteTurns:
        return cls(serialise=engine.dialect.name == "sqlite")

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        self.urgent_began()
        try:
            async with self._lock or contextlib.nullcontext():
                yield
        finally:
            self.urgent_ended()

    def urgent_began(self) -> None:
        """Urgent work began that writes on a connection of its own (the SQLite inbox's thread).

        It takes no turn, but background work waits for it all the same until
        :meth:`urgent_ended`.
        """
        self._urgent += 1
        self._calm.clear()

    def urgent_ended(self) -> None:
        self._urgent -= 1
        self._urgent_ended = asyncio.get_running_loop().time()
        if not self._urgent:
            self._calm.set()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        while True:
            await self._wait_for_quiet()
            async with self._lock or contextlib.nullcontext():
                if self._quiet_for() is None:
                    yield
                    return
            # Urgent work arrived while we queued for the lock: let it go first.

    def _quiet_for(self) -> float | None:
        """None once urgent work has been quiet long enough, else how long to wait still."""
        if not self._calm.is_set():
            return self._quiet
        left = self._urgent_ended + self._quiet - asyncio.get_running_loop().time()
        return left if left > 0 else None

    async def _wait_for_quiet(self) -> None:
        while (left := self._quiet_for()) is not None:
            await self._calm.wait()
            await asyncio.sleep(left)
