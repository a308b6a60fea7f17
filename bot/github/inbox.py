# SPDX-License-Identifier: Apache-2.0
"""The webhook inbox: durable before acknowledged, deduplicated by delivery id.

Each webhook request hands its delivery to one writer task and waits. The writer takes
everything waiting, inserts it in one transaction and one commit (a group commit), then
answers each waiter. Under load many deliveries share one fsync, so throughput grows with
concurrency while every acknowledged delivery is on disk.

On SQLite the writer has a connection and a thread of its own (:class:`_SqliteWriter`): a
batch is one trip to that thread, where a trip through the shared pooled connection would be
several (cursor, statement, rows, commit), each waiting for the event loop and for the GIL
while the loop is busy with requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.engine import WriteTurns, connect_sqlite, insert_for
from bot.db.models import WebhookDelivery
from bot.log import get_logger

log = get_logger(__name__)

MAX_BATCH = 500
# SQLite: bodies written since the last WAL checkpoint that start a new one. SQLite's own
# default checkpoints every 1000 pages (4 MB) inside the commit that crosses it, which held
# that batch's acknowledgements ~20 ms; the inbox's connection leaves it to _SqliteWriter.
CHECKPOINT_BYTES = 4 * 1024 * 1024
# SQLite writes the WAL from its start again only once a checkpoint has copied all of it, which
# checkpoints beside a busy writer never quite do. Past this many pages (64 MB at 4 KB) the
# writer finishes a checkpoint itself before its next batch (the little the last one left), so
# a steady stream keeps a bounded WAL file.
WAL_RESTART_PAGES = 16384
_TABLE = WebhookDelivery.__table__


@dataclass(frozen=True)
class Incoming:
    delivery_id: str
    event: str
    action: str | None
    # None for an event the bot does not use: only the fact that it came is recorded.
    body: bytes | None


class Inbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        on_commit: Callable[[], None] | None = None,
        turns: WriteTurns | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._turns = turns or WriteTurns(serialise=False)
        # Called after a commit that stored new deliveries (the ingestion worker's wake-up).
        self._on_commit = on_commit
        self._last_arrival = datetime.min.replace(tzinfo=UTC)
        self._queue: asyncio.Queue[tuple[Incoming, asyncio.Future[bool]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        engine: AsyncEngine = sessions.kw["bind"]
        self._sqlite = _SqliteWriter(engine) if engine.dialect.name == "sqlite" else None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="webhook-inbox")

    async def close(self) -> None:
        """Stop after committing what is already queued (requests in flight still get answers)."""
        if self._writer is None:
            return
        await self._queue.join()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None
        if self._sqlite is not None:
            await self._sqlite.close()

    async def record(self, incoming: Incoming) -> bool:
        """Commit the delivery; True if it is new, False if this delivery id came before."""
        if self._writer is None:
            raise RuntimeError("Inbox.start() has not run")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((incoming, future))
        return await future

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                inserted = await self._insert([incoming for incoming, _ in batch])
            except Exception as exc:
                log.exception("could not commit %d webhook deliveries", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                if inserted and self._on_commit is not None:
                    self._on_commit()
                seen: set[str] = set()
                for incoming, future in batch:
                    new = incoming.delivery_id in inserted and incoming.delivery_id not in seen
                    seen.add(incoming.delivery_id)
                    if not future.done():  # the request may have been cancelled
                        future.set_result(new)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _arrival(self) -> datetime:
        """The time a delivery arrived, strictly later than the one before it.

        Deliveries are normalised in arrival order, and some facts (a repository's name, an
        installation) carry no time of their own, so two deliveries committed together
        must not tie.
        """
        self._last_arrival = max(self._clock.now(), self._last_arrival + timedelta(microseconds=1))
        return self._last_arrival

    async def _insert(self, batch: list[Incoming]) -> set[str]:
        arrivals = [self._arrival() for _ in batch]
        rows = {
            incoming.delivery_id: {
                "delivery_id": incoming.delivery_id,
                "event": incoming.event,
                "action": incoming.action,
                "status": "pending" if incoming.body is not None else "ignored",
                "body": incoming.body,
                "received_at": arrived,
                "processed_at": None if incoming.body is not None else arrived,
                "attempts": 0,
            }
            # The first of two copies in a batch wins.
            for incoming, arrived in reversed(list(zip(batch, arrivals, strict=True)))
        }
        async with self._turns.urgent():
            if self._sqlite is not None:
                return await self._sqlite.insert(list(rows.values()))
            # A Core INSERT on the table, not on the mapped class: the ORM's bulk-insert path
            # sends the same SQL but costs the event loop's thread ~30 % more CPU (a 16-row
            # batch of pull requests: 3.1 ms against 2.4 ms on SQLite).
            async with self._sessions.begin() as session:
                result = await session.execute(
                    insert_for(session)(_TABLE)
                    .on_conflict_do_nothing(index_elements=["delivery_id"])
                    .returning(_TABLE.c.delivery_id),
                    list(rows.values()),
                )
                return set(result.scalars())


class _SqliteWriter:
    """The inbox's own SQLite connection, used on a thread of its own.

    Every batch is one call on that thread: BEGIN IMMEDIATE, one INSERT ... RETURNING,
    COMMIT. Values go through the columns' SQLAlchemy bind processors, so rows are stored
    exactly as the ORM stores them. WAL checkpoints run beside it on another
    connection (PASSIVE: they neither wait for a writer nor hold one up), not inside one of
    its commits.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="webhook-inbox")
        self._connection: sqlite3.Connection | None = None  # opened on the thread
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._unchecked = 0
        self._catch_up = False
        self._processors = {
            column.name: column.type.bind_processor(engine.dialect) for column in _TABLE.columns
        }

    async def insert(self, rows: list[dict[str, Any]]) -> set[str]:
        columns = list(rows[0])
        processors = [self._processors[column] for column in columns]
        values = [
            value if process is None else process(value)
            for row in rows
            for value, process in zip(row.values(), processors, strict=True)
        ]
        # Only the table's own names and placeholders: no value is part of the SQL.
        row = "(" + ", ".join("?" * len(columns)) + ")"
        sql = (
            f"INSERT INTO {WebhookDelivery.__tablename__} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(rows))} "
            "ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
        )
        loop = asyncio.get_running_loop()
        catch_up, self._catch_up = self._catch_up, False
        inserted = await loop.run_in_executor(self._thread, self._write, sql, values, catch_up)
        self._unchecked += sum(len(row["body"] or b"") for row in rows)
        if self._unchecked >= CHECKPOINT_BYTES and self._checkpoint is None:
            self._unchecked = 0
            self._checkpoint = asyncio.create_task(self._run_checkpoint())
        return inserted

    def _write(self, sql: str, values: list[Any], catch_up: bool) -> set[str]:
        if self._connection is None:
            self._connection = connect_sqlite(self._engine)
            self._connection.execute("PRAGMA wal_autocheckpoint=0")
        connection = self._connection
        if catch_up:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        connection.execute("BEGIN IMMEDIATE")
        try:
            inserted = {row[0] for row in connection.execute(sql, values)}
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return inserted

    async def _run_checkpoint(self) -> None:
        try:
            wal_pages = await asyncio.to_thread(self._checkpoint_now)
            self._catch_up = wal_pages >= WAL_RESTART_PAGES
        except sqlite3.Error:
            # The next one catches up; the pooled connection still checkpoints on its own.
            log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            self._checkpoint = None

    def _checkpoint_now(self) -> int:
        """Checkpoint what it can; returns the WAL's length in pages."""
        if self._checkpointer is None:
            self._checkpointer = connect_sqlite(self._engine)
        _busy, wal_pages, _copied = self._checkpointer.execute(
            "PRAGMA wal_checkpoint(PASSIVE)"
        ).fetchone()
        return int(wal_pages)

    async def close(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
        for connection in (self._connection, self._checkpointer):
            if connection is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, connection.close)
        self._connection = self._checkpointer = None
        self._thread.shutdown()
