# SPDX-License-Identifier: Apache-2.0
"""The ingestion worker: committed webhook deliveries → every feature's handler.

Runs inside every long-running process. Processes coordinate through the database only:

- a worker leases a batch of pending deliveries (oldest first) with one conditional UPDATE, so
  several processes on SQLite or PostgreSQL never work on the same delivery at once;
- the body is parsed once into typed records (:class:`GitHubEvent`); each handler that says
  the event concerns it then runs in its own savepoint, so one feature's failure neither
  rolls back nor stops the others; the delivery is then retried with backoff (every handler
  runs again, so handlers must be idempotent, as webhooks demand anyway) and after
  ``max_attempts`` it is "failed", its body kept for a replay;
- a delivery whose only failures are its own shape (a body that is no JSON object, or one
  the parsers reject with :class:`MalformedPayload`) is "failed" at once: retrying the same
  bytes cannot help;
- a delivery every handler accepted is "processed" and its raw body is dropped;
- a delivery from a repository the config does not follow reaches no handler, not even the
  normaliser: it is "ignored", its body dropped, the reason in ``last_error`` (:func:`in_scope`);
- processed and ignored deliveries older than the retention are deleted, and failed ones
  (kept with their body for a replay) after a longer one ([retention] in the config).

The worker wakes when the local inbox commits (:meth:`IngestWorker.wake`) and polls for
deliveries other processes committed. Its transactions are background turns
(:meth:`WriteTurns.background`): they wait for a pause in the webhook stream, so normalising,
which costs the event loop far more than receiving, never delays an acknowledgement under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
import zstandard
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.engine import WriteTurns
from bot.db.models import WebhookDelivery
from bot.github.inbox import raw_body, raw_size
from bot.github.normalise import (
    NORMALISED_EVENTS,
    Changes,
    IssueRecord,
    MalformedPayload,
    apply,
    lock_history,
    parse_delivery,
)
from bot.leases import holder_name, retry_delay
from bot.log import get_logger

log = get_logger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
RETENTION = timedelta(days=7)
FAILED_RETENTION = timedelta(days=30)
POLL_INTERVAL = 2.0
# Small batches: a batch holds the database's write turn (SQLite) while it runs, and webhook
# acknowledgements wait for it.
BATCH_SIZE = 3
# Bodies above this (a large pull_request delivery is ~20 KB) are parsed in a thread, so
# that a big or deeply nested payload cannot stall the loop.
PARSE_IN_THREAD = 32 * 1024
# How long close() lets a batch in progress finish before cancelling it, by default.
STOP_TIMEOUT = 3.0


@dataclass(frozen=True)
class GitHubEvent:
    """A committed webhook delivery, parsed: what every handler receives.

    ``changes`` holds the typed records the delivery carries (bot/github/normalise.py); the
    payload was parsed once, and a shape the parsers do not accept never reaches a handler.
    """

    delivery_id: str
    event: str
    action: str | None
    changes: Changes

    @property
    def issue(self) -> IssueRecord:
        """The issue or pull request of an ``issues`` or ``pull_request`` delivery."""
        if not self.changes.issues:
            raise MalformedPayload(f"{self.event} delivery", "", "carries no issue")
        return self.changes.issues[0]


@dataclass(frozen=True)
class Handler:
    """One reaction to deliveries.

    ``concerns`` is a cheap check without side effects; ``handle`` runs in the worker's
    transaction (inside its own savepoint) and must be idempotent.
    """

    name: str
    concerns: Callable[[str, str | None], bool]
    handle: Callable[[AsyncSession, GitHubEvent], Awaitable[None]]


async def _normalise(session: AsyncSession, event: GitHubEvent) -> None:
    await apply(session, event.changes)


NORMALISER = Handler("normalise", lambda event, _action: event in NORMALISED_EVENTS, _normalise)


def in_scope(changes: Changes, follows: Callable[[str], bool]) -> Changes | None:
    """What of a delivery concerns the followed repositories; None if nothing does.

    A delivery from a repository concerns us if ``follows`` its name, or the name a rename or
    transfer in this delivery took from it (so that its row learns it left). An installation
    delivery keeps only its followed repositories. Organisation deliveries (``membership``)
    name no repository and always concern us.
    """
    if changes.repository_names:
        return changes if any(map(follows, changes.repository_names)) else None
    if not changes.repositories:
        return changes
    kept = [repository for repository in changes.repositories if follows(repository.full_name)]
    if not kept:
        return None
    ids = {repository.id for repository in kept}
    installations = [
        (installation_id, [i for i in repository_ids if i in ids], installed)
        for installation_id, repository_ids, installed in changes.installations
    ]
    return replace(changes, repositories=kept, installations=[i for i in installations if i[1]])


@dataclass(frozen=True)
class _Outcome:
    """How handling one delivery went."""

    errors: tuple[str, ...] = ()
    # Every failure is the delivery's own shape: retrying cannot help.
    malformed: bool = False
    # Why no handler ran (a repository the config does not follow).
    ignored: str | None = None


def _load(body: bytes, encoding: str | None) -> dict[str, Any]:
    payload = orjson.loads(raw_body(body, encoding))
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    return payload


class IngestWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        follows: Callable[[str], bool],
        handlers: Sequence[Handler] = (NORMALISER,),
        owner: str | None = None,
        batch_size: int = BATCH_SIZE,
        max_attempts: int = MAX_ATTEMPTS,
        retention: timedelta = RETENTION,
        failed_retention: timedelta = FAILED_RETENTION,
        poll_interval: float = POLL_INTERVAL,
        turns: WriteTurns | None = None,
    ) -> None:
        self._sessions = sessions
        self._turns = turns or WriteTurns(serialise=False)
        self._clock = clock
        # Which repositories' deliveries to act on (GitHubSettings.follows).
        self._follows = follows
        self._handlers = tuple(handlers)
        self._owner = owner or holder_name("ingest")
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._retention = retention
        self._failed_retention = failed_retention
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --- running in the background ----------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name="github-ingest")

    def wake(self) -> None:
        """New deliveries were committed: look now rather than at the next poll."""
        self._wake.set()

    async def close(self, within: float = STOP_TIMEOUT) -> bool:
        """Let the batch in progress finish (at most ``within`` s), then stop; False if it
        was cancelled instead."""
        if self._task is None:
            return True
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, within)
        except TimeoutError:
            log.warning("ingestion did not stop in %.1f s; its leases will expire", within)
            return False
        finally:
            self._task = None
        return True

    async def _run_forever(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
                await self.purge()
            except Exception:
                # The database is unreachable or busy: leases expire, so nothing is lost.
                log.exception("ingestion pass failed; trying again at the next poll")
            if not self._stopping:
                await self._idle()

    async def _idle(self) -> None:
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(self._clock.sleep(self._poll_interval)),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    # --- one pass ---------------------------------------------------------------------------

    async def drain(self) -> int:
        """Process batches until nothing is due; returns how many deliveries were handled."""
        total = 0
        while not self._stopping and (handled := await self.run_once()):
            total += handled
        return total

    async def run_once(self) -> int:
        """Lease one batch and process it; returns how many deliveries were handled."""
        lease_until = await self._lease()
        if lease_until is None:
            return 0
        return await self._process(lease_until)

    def _free(self, now: datetime) -> Any:
        return or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)

    async def _lease(self) -> datetime | None:
        now = self._clock.now()
        due = (
            select(WebhookDelivery.delivery_id)
            .where(
                WebhookDelivery.status == "pending",
                or_(WebhookDelivery.retry_at.is_(None), WebhookDelivery.retry_at <= now),
                self._free(now),
            )
            .order_by(WebhookDelivery.received_at, WebhookDelivery.delivery_id)
            .limit(self._batch_size)
            # PostgreSQL: pass over rows another process is leasing right now rather than
            # wait for them and come back empty-handed. SQLite has no such clause and needs
            # none: its writers take turns.
            .with_for_update(skip_locked=True)
        )
        lease_until = now + LEASE
        async with self._turns.background(), self._sessions.begin() as session:
            # Status and lease are checked again by the UPDATE itself: a row another process
            # leased or finished since the sub-select no longer matches and is left alone.
            result = await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.delivery_id.in_(due.scalar_subquery()),
                    WebhookDelivery.status == "pending",
                    self._free(now),
                )
                .values(lease_owner=self._owner, lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )
        return lease_until if getattr(result, "rowcount", 0) else None

    async def _process(self, lease_until: datetime) -> int:
        mine = (
            WebhookDelivery.lease_owner == self._owner,
            WebhookDelivery.lease_until == lease_until,
        )
        async with self._turns.background(), self._sessions.begin() as session:
            await lock_history(session)
            now = self._clock.now()
            # Renewing the lease also takes SQLite's write lock at once, and makes its driver
            # open the transaction before the first SAVEPOINT (which would otherwise commit
            # everything on release).
            renewed = now + LEASE
            await session.execute(
                update(WebhookDelivery)
                .where(*mine)
                .values(lease_until=renewed)
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.execute(
                    select(
                        WebhookDelivery.delivery_id,
                        WebhookDelivery.event,
                        WebhookDelivery.action,
                        WebhookDelivery.body,
                        WebhookDelivery.body_encoding,
                        WebhookDelivery.attempts,
                    )
                    .where(
                        WebhookDelivery.lease_owner == self._owner,
                        WebhookDelivery.lease_until == renewed,
                    )
                    .order_by(WebhookDelivery.received_at, WebhookDelivery.delivery_id)
                )
            ).all()
            done: list[str] = []
            for delivery_id, event, action, body, encoding, attempts in rows:
                outcome = await self._handle(session, delivery_id, event, action, body, encoding)
                if outcome.errors:
                    await self._failed(session, delivery_id, attempts + 1, outcome)
                elif outcome.ignored is not None:
                    await self._ignored(session, delivery_id, outcome.ignored, now)
                else:
                    done.append(delivery_id)
            if done:
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.delivery_id.in_(done))
                    .values(
                        status="processed",
                        body=None,
                        processed_at=now,
                        attempts=WebhookDelivery.attempts + 1,
                        last_error=None,
                        retry_at=None,
                        lease_owner=None,
                        lease_until=None,
                    )
                    .execution_options(synchronize_session=False)
                )
        return len(rows)

    async def _handle(
        self,
        session: AsyncSession,
        delivery_id: str,
        event: str,
        action: str | None,
        body: bytes | None,
        encoding: str | None,
    ) -> _Outcome:
        """Run every concerned handler in its own savepoint, if the delivery is in scope."""
        try:
            payload = await self._parse(body, encoding)
        except (ValueError, zstandard.ZstdError) as exc:  # retrying cannot mend the body
            return _Outcome((f"body: {exc!r}",), malformed=True)
        try:
            changes = parse_delivery(event, payload)
        except MalformedPayload as exc:  # no handler sees a shape the parsers reject
            return _Outcome((f"payload: {exc!r}",), malformed=True)
        scoped = in_scope(changes, self._follows)
        if scoped is None:
            names = changes.repository_names or tuple(r.full_name for r in changes.repositories)
            return _Outcome(ignored=f"not a followed repository: {', '.join(names)}")
        parsed = GitHubEvent(delivery_id, event, action, scoped)
        errors = []
        malformed = True
        for handler in self._handlers:
            if not handler.concerns(event, action):
                continue
            try:
                async with session.begin_nested():
                    await handler.handle(session, parsed)
            except Exception as exc:
                log.warning(
                    "%s failed on delivery %s (%s.%s): %r",
                    handler.name,
                    delivery_id,
                    event,
                    action,
                    exc,
                )
                errors.append(f"{handler.name}: {exc!r}")
                malformed = malformed and isinstance(exc, MalformedPayload)
        return _Outcome(tuple(errors), malformed=malformed)

    @staticmethod
    async def _parse(body: bytes | None, encoding: str | None) -> dict[str, Any]:
        if body is None:
            raise ValueError("no body to process")
        if raw_size(body, encoding) > PARSE_IN_THREAD:
            return await asyncio.to_thread(_load, body, encoding)
        return _load(body, encoding)

    async def _ignored(
        self, session: AsyncSession, delivery_id: str, reason: str, now: datetime
    ) -> None:
        log.debug("delivery %s ignored: %s", delivery_id, reason)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.delivery_id == delivery_id)
            .values(
                status="ignored",
                body=None,
                processed_at=now,
                attempts=WebhookDelivery.attempts + 1,
                last_error=reason,
                retry_at=None,
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def _failed(
        self, session: AsyncSession, delivery_id: str, attempts: int, outcome: _Outcome
    ) -> None:
        malformed = outcome.malformed
        gave_up = malformed or attempts >= self._max_attempts
        if malformed:
            log.error("delivery %s is malformed; kept for replay", delivery_id)
        elif gave_up:
            log.error("delivery %s failed %d times; kept for replay", delivery_id, attempts)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.delivery_id == delivery_id)
            .values(
                status="failed" if gave_up else "pending",
                attempts=attempts,
                last_error="\n".join(outcome.errors)[:4000],
                retry_at=None if gave_up else self._clock.now() + retry_delay(attempts),
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def purge(self) -> int:
        """Delete processed and ignored deliveries received before the retention window, and
        failed ones (and their bodies) before the longer one."""
        now = self._clock.now()
        done = WebhookDelivery.status.in_(("processed", "ignored"))
        async with self._turns.background(), self._sessions.begin() as session:
            result = await session.execute(
                delete(WebhookDelivery)
                .where(
                    or_(
                        done & (WebhookDelivery.received_at < now - self._retention),
                        (WebhookDelivery.status == "failed")
                        & (WebhookDelivery.received_at < now - self._failed_retention),
                    )
                )
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0))
