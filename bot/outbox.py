# SPDX-License-Identifier: Apache-2.0
"""Promises: durable, idempotent delivery of what the bot says and does.

Anything the bot says because of a GitHub event or a schedule is first promised here
(:func:`promise`), in the same transaction as the fact that caused it, then delivered by the
process that holds the Discord gateway (GitHub comments: by any process with GitHub
credentials). A restart or a Discord outage neither loses a promise nor delivers it twice:

- the idempotency key makes a second promise of the same message a no-op;
- each promise names the feature that made it, so what a turned-off feature promised is
  kept as "skipped" instead of sent;
- a sender leases due rows with one conditional UPDATE, so several processes never deliver
  the same row at once (this works the same on SQLite and PostgreSQL);
- a message is sent with a Discord nonce derived from its key and ``enforce_nonce``, so a
  retry after a crash between "sent" and "marked sent" is deduplicated by Discord itself.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, case, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db.engine import insert_for
from bot.db.models import Promise
from bot.leases import retry_delay
from bot.log import get_logger

log = get_logger(__name__)

# channel: a message in a channel or thread (target_id); dm: a direct message to a user;
# role: give a member (target_id) the role in payload["role_id"] (take it, with
# payload["remove"] true). A message's payload holds
# "content", "embeds" (Discord's JSON), "buttons" ({"label", "custom_id", "style"} each), and
# the user and role ids it may ping, "mentions" and "mention_roles" (nobody else is pinged).
# thread: a private thread in the text channel target_id, named payload["name"], with the
# members payload["members"] added and the message of the payload as its first; the thread's
# id is recorded as the delivered message id (see delivered()).
# archive: archive the thread target_id (it stays readable; a new message reopens it).
# github_comment: a comment on GitHub, payload {"repository", "number", "body"}; target_id
# is the repository id. The gateway process delivers the Discord kinds; any process with
# GitHub credentials delivers the GitHub ones.
TargetKind = Literal["channel", "dm", "role", "thread", "archive", "github_comment"]
DISCORD_KINDS: tuple[TargetKind, ...] = ("channel", "dm", "role", "thread", "archive")
GITHUB_KINDS: tuple[TargetKind, ...] = ("github_comment",)
MAX_ATTEMPTS = 8
# Rows may be promised by other processes (webhook receivers), which cannot wake a sender, so
# senders also look every few seconds; a promise committed in-process wakes them at once.
POLL_SECONDS = 2.0
ERROR_PAUSE_SECONDS = 10.0
_PROMISED = "outbox_promised"  # in Session.info: this transaction promised a message
LEASE = timedelta(minutes=2)


class PermanentDeliveryError(Exception):
    """Retrying cannot help (unknown channel, missing permission, user blocks DMs)."""


class DeliverySkipped(Exception):
    """Not to be sent (its feature is turned off): kept as "skipped" with the reason, never
    retried, so what was promised stays visible rather than silently deleted."""


@dataclass(frozen=True)
class DuePromise:
    """A promise leased for delivery: what a sender needs to carry it out."""

    id: int
    guild_id: int
    key: str
    feature: str
    target_kind: TargetKind
    target_id: int
    payload: dict[str, Any]

    @property
    def nonce(self) -> str:
        """A stable Discord nonce (at most 25 characters) for this message."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:25]


# Carries out a promise and returns the Discord message id (None for a role); raises
# DeliverySkipped, PermanentDeliveryError or any other exception (treated as transient).
Sender = Callable[[DuePromise], Awaitable[int | None]]


async def promise(
    session: AsyncSession,
    *,
    feature: str,
    guild_id: int,
    key: str,
    target_kind: TargetKind,
    target_id: int,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Promise a message inside the caller's transaction; False if the key was promised before."""
    values = {
        "guild_id": guild_id,
        "key": key,
        "feature": feature,
        "target_kind": target_kind,
        "target_id": target_id,
        "payload": payload,
        "status": "pending",
        "not_before": not_before or now,
        "attempts": 0,
        "created_at": now,
    }
    statement = (
        insert_for(session)(Promise).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    result = await session.execute(statement)
    promised = bool(getattr(result, "rowcount", 0))
    if promised:
        session.info[_PROMISED] = True
    return promised


async def delivered(session: AsyncSession, key: str) -> tuple[str, int | None] | None:
    """What became of the promise ``key``: its status ("pending", "sent", "failed" or
    "skipped") and the Discord message id it was delivered as (a thread's id for a
    thread); None if it was never promised."""
    row = (
        await session.execute(
            select(Promise.status, Promise.discord_message_id).where(Promise.key == key)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def on_promise(sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None]) -> None:
    """Call ``wake`` each time a transaction of ``sessions`` that promised a message commits,
    so the sender in this process delivers it at once instead of at its next poll."""
    session_class = sessions.kw["sync_session_class"]

    @event.listens_for(session_class, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_PROMISED, False):
            wake()

    @event.listens_for(session_class, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PROMISED, None)


class Outbox:
    """Leases due messages and hands them to a sender, recording each outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        owner: str,
        *,
        kinds: Sequence[TargetKind] = DISCORD_KINDS,
        batch_size: int = 20,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._owner = owner
        self._kinds = list(kinds)
        self._batch_size = batch_size

    async def lease_due(self) -> list[DuePromise]:
        now = self._clock.now()
        free = or_(Promise.lease_until.is_(None), Promise.lease_until < now)
        due = (
            select(Promise.id)
            .where(
                Promise.status == "pending",
                Promise.target_kind.in_(self._kinds),
                Promise.not_before <= now,
                free,
            )
            .order_by(Promise.not_before, Promise.id)
            .limit(self._batch_size)
        )
        lease_until = now + LEASE
        async with self._sessions.begin() as session:
            # The lease condition is repeated in the UPDATE itself: a row another process
            # leased between our SELECT and UPDATE no longer matches and is skipped.
            await session.execute(
                update(Promise)
                .where(Promise.id.in_(due.scalar_subquery()), free)
                .values(lease_owner=self._owner, lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )
            rows = await session.scalars(
                select(Promise)
                .where(
                    and_(
                        Promise.lease_owner == self._owner,
                        Promise.lease_until == lease_until,
                        Promise.status == "pending",
                        Promise.target_kind.in_(self._kinds),
                    )
                )
                .order_by(Promise.not_before, Promise.id)
            )
            return [
                DuePromise(
                    id=row.id,
                    guild_id=row.guild_id,
                    key=row.key,
                    feature=row.feature,
                    target_kind=row.target_kind,  # type: ignore[arg-type]
                    target_id=row.target_id,
                    payload=row.payload,
                )
                for row in rows
            ]

    async def release(self) -> None:
        """Give back the rows this sender leased and has not finished (a clean stop), so the
        next process delivers them at once instead of after the lease. One that was being
        sent as the sender stopped may have reached Discord: its retry carries the same
        nonce, which Discord deduplicates."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Promise)
                .where(Promise.lease_owner == self._owner, Promise.status == "pending")
                .values(lease_owner=None, lease_until=None)
            )

    async def deliver_due(self, send: Sender) -> int:
        """Deliver one batch of due messages; returns how many were sent."""
        sent = 0
        for due in await self.lease_due():
            try:
                message_id = await send(due)
            except DeliverySkipped as exc:
                # The sender reports a skipped feature once; a line per message is noise.
                log.debug("outbox %s skipped: %s", due.key, exc)
                await self._finish(due, status="skipped", error=str(exc))
            except PermanentDeliveryError as exc:
                log.warning("outbox %s dropped: %s", due.key, exc)
                await self._finish(due, status="failed", error=str(exc))
            except Exception as exc:
                log.warning("outbox %s will be retried: %r", due.key, exc)
                await self._retry_later(due, repr(exc))
            else:
                await self._finish(due, status="sent", message_id=message_id)
                sent += 1
        return sent

    async def _finish(
        self,
        due: DuePromise,
        *,
        status: str,
        error: str | None = None,
        message_id: int | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Promise)
                .where(Promise.id == due.id, Promise.lease_owner == self._owner)
                .values(
                    status=status,
                    attempts=Promise.attempts + 1,
                    last_error=error,
                    sent_at=self._clock.now() if status == "sent" else None,
                    discord_message_id=message_id,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    async def _retry_later(self, due: DuePromise, error: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(Promise, due.id)
            if row is None or row.lease_owner != self._owner:
                return
            row.attempts += 1
            row.last_error = error
            row.lease_owner = None
            row.lease_until = None
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                log.error("outbox %s gave up after %d attempts", row.key, row.attempts)
            else:
                row.not_before = self._clock.now() + retry_delay(row.attempts)

    async def next_due(self) -> datetime | None:
        """When the earliest pending message becomes due, so the sender can sleep until then."""
        # A message leased by another process is due again only when its lease runs out.
        due_at = case(
            (Promise.lease_until > Promise.not_before, Promise.lease_until),
            else_=Promise.not_before,
        )
        async with self._sessions() as session:
            due: datetime | None = await session.scalar(
                select(func.min(due_at)).where(
                    Promise.status == "pending", Promise.target_kind.in_(self._kinds)
                )
            )
        return due


async def deliver_forever(
    outbox: Outbox, send: Sender, clock: Clock, promised: asyncio.Event
) -> None:
    """Deliver due rows as they come: woken by ``promised`` (a promise committed in this
    process), by the next row falling due, or by a poll for other processes' promises."""
    while True:
        promised.clear()  # before looking, so a promise made while we deliver is not missed
        try:
            while await outbox.deliver_due(send):
                pass
            next_due = await outbox.next_due()
        except Exception:
            # The database may be briefly unreachable; nothing is lost, it is all in rows.
            log.exception("outbox delivery failed; retrying in %.0f s", ERROR_PAUSE_SECONDS)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        waiters = [
            asyncio.ensure_future(promised.wait()),
            asyncio.ensure_future(asyncio.sleep(POLL_SECONDS)),
        ]
        if next_due is not None:
            waiters.append(asyncio.ensure_future(clock.sleep_until(next_due)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
