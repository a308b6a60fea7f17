# SPDX-License-Identifier: Apache-2.0
"""The webhook inbox: durable before acknowledged, deduplicated by delivery id.

Each webhook request hands its delivery to one writer and waits. The writer takes everything
waiting, inserts it in one transaction and one commit (a group commit), then answers each
waiter. Under load many deliveries share one fsync, so throughput grows with concurrency while
every acknowledged delivery is on disk.

On SQLite the writer is a thread with a connection of its own (:class:`_SqliteWriter`): it
takes the next batch as soon as it has committed one, without a round trip through the busy
event loop in between, and a batch is one statement on that thread where the shared pooled
connection would make several hops (cursor, statement, rows, commit), each waiting for the
loop and the GIL. On PostgreSQL the writer is a task on the event loop.

A batch the database refuses for the values of one of its rows is committed again row by row,
so that the others are stored and only that one fails (:class:`DeliveryRefused`). A batch that
fails for the database's sake (unreachable, locked, read-only) fails every delivery in it with
:class:`InboxUnavailable`; that is logged once, when it starts, and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import zstandard
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.engine import WriteTurns, connect_sqlite
from bot.db.models import WebhookDelivery
from bot.log import get_logger

log = get_logger(__name__)

MAX_BATCH = 500
# SQLite: bodies written since the last WAL checkpoint that start a new one. SQLite's own
# default checkpoints every 1000 pages (4 MB) inside the commit that crosses it, which held
# that batch's acknowledgements ~20 ms; the inbox's connection leaves it to _SqliteWriter.
CHECKPOINT_BYTES = 4 * 1024 * 1024
# SQLite writes the WAL from its start again only once a checkpoint has copied all of it, which
# checkpoints beside a busy writer never quite do (a pause in the stream is enough). Past this
# many pages (256 MB at 4 KB) the writer finishes a checkpoint itself before its next batch,
# so that a stream that never pauses keeps a bounded WAL file. That holds up one batch for
# 0.1-0.2 s (measured at 64 MB), hence a limit that a burst of a few seconds stays under.
WAL_RESTART_PAGES = 65536
# SQLite: bodies are stored compressed (Zstandard level 1: a 20 KB pull request becomes
# ~2 KB, in ~20 µs on the writer thread, which lets go of the GIL meanwhile; zlib took 4-5
# times as long for a larger result). A sustained stream wrote ~60 MB/s (WAL and checkpoints)
# uncompressed, and the file system then took 100-400 ms over an fsync now and again, holding
# a whole batch. PostgreSQL compresses in its TOAST (lz4).
ZSTD_LEVEL = 1
_TABLE = WebhookDelivery.__table__

Row = dict[str, Any]
# Deliveries waiting for their commit, with the futures their requests await.
Waiting = list[tuple[Row, asyncio.Future[bool]]]
# PostgreSQL's SQLSTATE classes for errors in the values themselves: data exceptions (a value
# too long, a NUL in text) and integrity constraint violations.
_VALUE_ERRORS = ("22", "23")


class InboxUnavailable(Exception):
    """The database could not commit the delivery (unreachable, locked, read-only): try later."""


class DeliveryRefused(Exception):
    """The database refused this delivery's own values; the others of its batch were stored."""


# What became of each delivery id of a batch: True (stored now), False (stored before), or why
# it was not stored.
Outcome = dict[str, bool | InboxUnavailable | DeliveryRefused]


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
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._clock = clock
        self._turns = turns or WriteTurns(serialise=False)
        # Called after a commit that stored new deliveries (the ingestion worker's wake-up).
        self._on_commit = on_commit
        self._last_arrival = datetime.min.replace(tzinfo=UTC)
        # Deliveries answered "unavailable" since the database last failed; 0 while it works.
        self._unavailable = 0
        self._queue: asyncio.Queue[tuple[Row, asyncio.Future[bool]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._sqlite = (
            _SqliteWriter(self._engine, self._answer)
            if self._engine.dialect.name == "sqlite"
            else None
        )
        self._started = False

    def start(self) -> None:
        if self._sqlite is not None:
            self._sqlite.start()
        else:
            self._writer = asyncio.create_task(self._write_forever(), name="webhook-inbox")
        self._started = True

    async def close(self, within: float | None = None) -> bool:
        """Stop after committing what is already queued (requests in flight still get answers),
        waiting at most ``within`` seconds for that; False if cut short. A delivery left
        uncommitted was never acknowledged, so GitHub sends it again."""
        if not self._started:
            return True
        self._started = False
        flushed = True
        try:
            if self._sqlite is not None:
                await asyncio.wait_for(self._sqlite.close(), within)
            else:
                await asyncio.wait_for(self._queue.join(), within)
        except TimeoutError:
            log.warning("webhook inbox: not all deliveries committed within %.1f s", within)
            flushed = False
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        return flushed

    async def record(self, incoming: Incoming) -> bool:
        """Commit the delivery; True if it is new, False if this delivery id came before.

        Raises :class:`InboxUnavailable` if the database cannot commit now, and
        :class:`DeliveryRefused` if it refused this delivery's values.
        """
        if not self._started:
            raise RuntimeError("Inbox.start() has not run")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        arrived = self._arrival()
        row = {
            "delivery_id": incoming.delivery_id,
            "event": incoming.event,
            "action": incoming.action,
            "status": "pending" if incoming.body is not None else "ignored",
            "body": incoming.body,
            "body_encoding": None,
            "received_at": arrived,
            "processed_at": None if incoming.body is not None else arrived,
            "attempts": 0,
        }
        if self._sqlite is not None:
            # The writer thread takes no turn of the event loop's; it says it is busy, so that
            # background work waits (WriteTurns), until _answer says it is done.
            self._turns.urgent_began()
            self._sqlite.submit(row, future)
        else:
            self._queue.put_nowait((row, future))
        return await future

    def _arrival(self) -> datetime:
        """The time a delivery arrived, strictly later than the one before it.

        Deliveries are normalised in arrival order, and some facts (a repository's name, an
        installation) carry no time of their own, so two deliveries committed together
        must not tie.
        """
        self._last_arrival = max(self._clock.now(), self._last_arrival + timedelta(microseconds=1))
        return self._last_arrival

    def _answer(self, batch: Waiting, outcome: Outcome) -> None:
        """Answer each waiter of a batch with what became of its delivery, on the event loop."""
        self._report(outcome)
        if self._on_commit is not None and True in outcome.values():
            self._on_commit()
        seen: set[str] = set()
        for row, future in batch:
            if self._sqlite is not None:
                self._turns.urgent_ended()
            if future.done():  # the request was cancelled
                continue
            delivery_id = row["delivery_id"]
            result = outcome[delivery_id]
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result and delivery_id not in seen)
            seen.add(delivery_id)

    def _report(self, outcome: Outcome) -> None:
        """Log an outage of the database once as it starts and once as it ends; and each
        delivery the database refused."""
        unavailable = [r for r in outcome.values() if isinstance(r, InboxUnavailable)]
        if unavailable:
            if not self._unavailable:
                log.error(
                    "webhook inbox: the database cannot commit deliveries; answering 503 "
                    "until it can",
                    exc_info=unavailable[0].__cause__,
                )
            self._unavailable += len(unavailable)
        elif self._unavailable:
            log.warning(
                "webhook inbox: committing again; %d deliveries were answered 503 meanwhile",
                self._unavailable,
            )
            self._unavailable = 0
        for delivery_id, result in outcome.items():
            if isinstance(result, DeliveryRefused):
                log.error(
                    "webhook inbox: the database refused delivery %s",
                    delivery_id,
                    exc_info=result.__cause__,
                )

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                self._answer(batch, await self._commit(_first_copies(batch)))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, rows: list[Row]) -> Outcome:
        try:
            inserted = await self._insert(rows)
        except Exception as exc:
            failed = _not_stored(rows, exc, rows_at_fault=_postgresql_rows_at_fault(exc))
            if failed is not None:
                return failed
            outcome: Outcome = {}
            for row in rows:  # one row's values failed the batch: the others go without it
                outcome |= await self._commit([row])
            return outcome
        return {row["delivery_id"]: row["delivery_id"] in inserted for row in rows}

    async def _insert(self, rows: list[Row]) -> set[str]:
        # PostgreSQL. On a connection, not through the ORM session, whose bulk-insert path sends
        # the same SQL for ~30 % more of the event loop's CPU. In autocommit mode the statement
        # is its own transaction: one round trip to the server instead of three (BEGIN, INSERT,
        # COMMIT), each waiting for the busy event loop.
        async with self._turns.urgent(), self._engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await connection.execute(
                postgresql.insert(WebhookDelivery)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
                .returning(WebhookDelivery.delivery_id),
                rows,
            )
            return set(result.scalars())


def raw_body(body: bytes, encoding: str | None) -> bytes:
    """A stored delivery body as GitHub sent it."""
    return zstandard.decompress(body) if encoding == "zstd" else body


def raw_size(body: bytes, encoding: str | None) -> int:
    """The length of ``raw_body(body, encoding)``, without decompressing (zstd frames say it)."""
    return zstandard.frame_content_size(body) if encoding == "zstd" else len(body)


def _not_stored(rows: list[Row], exc: Exception, *, rows_at_fault: bool) -> Outcome | None:
    """What to answer the deliveries of a failed commit; None to commit them one by one."""
    if not rows_at_fault:
        unavailable = InboxUnavailable("the database cannot commit deliveries now")
        unavailable.__cause__ = exc
        return {row["delivery_id"]: unavailable for row in rows}
    if len(rows) > 1:
        return None
    refused = DeliveryRefused("the database refused the delivery's values")
    refused.__cause__ = exc
    return {rows[0]["delivery_id"]: refused}


def _postgresql_rows_at_fault(exc: Exception) -> bool:
    """The statement failed for the values it carried, not for the state of the database."""
    if isinstance(exc, DBAPIError):
        return str(getattr(exc.orig, "sqlstate", ""))[:2] in _VALUE_ERRORS
    return isinstance(exc, StatementError)  # a value SQLAlchemy could not bind


def _sqlite_rows_at_fault(exc: Exception) -> bool:
    """Likewise on SQLite: a constraint, a value it cannot store, or one the binding refused
    (a busy, locked, read-only or broken database raises OperationalError or DatabaseError)."""
    return isinstance(
        exc, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.InterfaceError | TypeError
    )


def _first_copies(batch: Waiting) -> list[Row]:
    """The batch's rows, one per delivery id: the first of two copies in a batch wins."""
    return list({row["delivery_id"]: row for row, _ in reversed(batch)}.values())


class _SqliteWriter:
    """The inbox's writer on SQLite: a thread with a connection of its own.

    It commits batch after batch as long as deliveries wait, each as one INSERT statement in
    autocommit mode (its own transaction); then hands the outcome to the event loop. Values go
    through the columns' SQLAlchemy bind processors, so rows are stored exactly as the ORM
    stores them. WAL checkpoints run beside it on another connection (PASSIVE: they
    neither wait for a writer nor hold one up), not inside one of its commits.

    It takes no WriteTurns lock (that is the event loop's): a background transaction that
    happens to be writing when a delivery arrives makes it wait in SQLite's busy handler. Such
    transactions start only after a quiet spell (WriteTurns.background) and are short.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        answer: Callable[[Waiting, Outcome], None],
    ) -> None:
        self._engine = engine
        self._answer = answer
        self._processors = {
            column.name: column.type.bind_processor(engine.dialect) for column in _TABLE.columns
        }
        # A None closes the writer once what came before it is committed.
        self._waiting: queue.SimpleQueue[tuple[Row, asyncio.Future[bool]] | None] = (
            queue.SimpleQueue()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # The rest belongs to the writer thread.
        self._connection: sqlite3.Connection | None = None
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="webhook-checkpoint")
        self._checkpoint_connection: sqlite3.Connection | None = None
        self._checkpoint: Future[int] | None = None
        self._unchecked = 0
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)  # not thread-safe

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A daemon, so that a process that never closes the inbox still exits.
        self._thread = threading.Thread(target=self._run, name="webhook-inbox", daemon=True)
        self._thread.start()

    def submit(self, row: Row, future: asyncio.Future[bool]) -> None:
        self._waiting.put((row, future))

    async def close(self) -> None:
        assert self._thread is not None
        self._waiting.put(None)
        await asyncio.to_thread(self._thread.join)
        await asyncio.sleep(0)  # the answers to the last batch, scheduled by the thread

    def _run(self) -> None:
        assert self._loop is not None
        try:
            stopping = False
            while not stopping:
                first = self._waiting.get()
                if first is None:
                    break
                batch = [first]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < MAX_BATCH:
                        waiting = self._waiting.get_nowait()
                        if waiting is None:
                            stopping = True
                            break
                        batch.append(waiting)
                outcome = self._commit(_first_copies(batch))
                self._loop.call_soon_threadsafe(self._answer, batch, outcome)
        finally:
            if self._checkpoint is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._checkpoint.result()
            self._checkpointer.shutdown()
            for connection in (self._connection, self._checkpoint_connection):
                if connection is not None:
                    connection.close()

    def _commit(self, rows: list[Row]) -> Outcome:
        try:
            inserted = self._write(rows)
        except Exception as exc:
            failed = _not_stored(rows, exc, rows_at_fault=_sqlite_rows_at_fault(exc))
            if failed is not None:
                return failed
            outcome: Outcome = {}
            for row in rows:  # one row's values failed the batch: the others go without it
                outcome |= self._commit([row])
            return outcome
        return {row["delivery_id"]: row["delivery_id"] in inserted for row in rows}

    def _write(self, rows: list[Row]) -> set[str]:
        if self._connection is None:
            self._connection = connect_sqlite(self._engine)
            self._connection.execute("PRAGMA wal_autocheckpoint=0")
        connection = self._connection
        if self._checkpoint is not None and self._checkpoint.done():
            if self._checkpoint.exception() is None and (
                self._checkpoint.result() >= WAL_RESTART_PAGES
            ):
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._checkpoint = None

        rows = [self._compressed(row) for row in rows]
        columns = list(rows[0])
        processors = [self._processors[column] for column in columns]
        values = [
            value if process is None else process(value)
            for row in rows
            for value, process in zip(row.values(), processors, strict=True)
        ]
        # Only the table's own names and placeholders: no value is part of the SQL.
        placeholders = "(" + ", ".join("?" * len(columns)) + ")"
        sql = (
            f"INSERT INTO {WebhookDelivery.__tablename__} ({', '.join(columns)}) "  # noqa: S608 # nosec B608
            f"VALUES {', '.join([placeholders] * len(rows))} "
            "ON CONFLICT (delivery_id) DO NOTHING"
        )
        # One statement in autocommit mode is one transaction and one step, so the thread lets
        # go of the GIL once per batch. BEGIN, RETURNING (a step per row) and COMMIT would make
        # it wait for the busy event loop to hand the GIL back once per step.
        before = connection.total_changes
        connection.execute(sql, values)
        inserted = {row["delivery_id"] for row in rows}
        if connection.total_changes - before < len(rows):
            inserted = self._ours(
                connection, rows, values[columns.index("received_at") :: len(columns)]
            )

        self._unchecked += sum(len(row["body"] or b"") for row in rows)
        if self._unchecked >= CHECKPOINT_BYTES and self._checkpoint is None:
            self._unchecked = 0
            self._checkpoint = self._checkpointer.submit(self._checkpoint_now)
        return inserted

    def _compressed(self, row: Row) -> Row:
        if row["body"] is None:
            return row
        return row | {"body": self._compressor.compress(row["body"]), "body_encoding": "zstd"}

    @staticmethod
    def _ours(connection: sqlite3.Connection, rows: list[Row], stored_at: list[Any]) -> set[str]:
        """The delivery ids of a batch that some rows already had: those stored with our time.

        Arrival times are unique, so a row with the time this batch gave it is the batch's.
        The times are compared in SQL, bound as they were for the INSERT.
        """
        pairs = [
            value
            for row, at in zip(rows, stored_at, strict=True)
            for value in (row["delivery_id"], at)
        ]
        found = connection.execute(
            f"SELECT delivery_id FROM {WebhookDelivery.__tablename__} "  # noqa: S608 # nosec B608
            f"WHERE (delivery_id, received_at) IN (VALUES {', '.join(['(?, ?)'] * len(rows))})",
            pairs,
        )
        return {delivery_id for (delivery_id,) in found}

    def _checkpoint_now(self) -> int:
        """Checkpoint what it can; returns the WAL's length in pages."""
        try:
            if self._checkpoint_connection is None:
                self._checkpoint_connection = connect_sqlite(self._engine)
            _busy, wal_pages, _copied = self._checkpoint_connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        except sqlite3.Error:
            # The next one catches up; the pooled connection still checkpoints on its own.
            log.warning("WAL checkpoint failed", exc_info=True)
            return 0
        return int(wal_pages)
