# SPDX-License-Identifier: Apache-2.0
"""The webhook inbox: durable before acknowledged, deduplicated by delivery id.

Each webhook request hands its delivery to one writer task and waits. The writer takes
everything waiting, inserts it in one transaction and one commit (a group commit), then
answers each waiter. Under load many deliveries share one fsync, so throughput grows with
concurrency while every acknowledged delivery is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.engine import WriteTurns, insert_for
from bot.db.models import WebhookDelivery
from bot.log import get_logger

log = get_logger(__name__)

MAX_BATCH = 500
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

    async def record(self, incoming: Incoming) -> bool:
        """Commit the delivery; True if it is new, False if this delivery id came before."""
        if self._writer is None:
            raise RuntimeError("Inbox.start() has not run")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((incoming, future))
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
        # A Core INSERT on the table, not on the mapped class: the ORM's bulk-insert path sends
        # the same SQL but costs the event loop's thread ~30 % more CPU (a 16-row batch of
        # pull requests: 3.1 ms against 2.4 ms on SQLite).
        async with self._turns.urgent(), self._sessions.begin() as session:
            result = await session.execute(
                insert_for(session)(_TABLE)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
                .returning(_TABLE.c.delivery_id),
                list(rows.values()),
            )
            return set(result.scalars())
