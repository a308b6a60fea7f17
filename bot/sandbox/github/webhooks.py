# SPDX-License-Identifier: Apache-2.0
"""Turns simulated GitHub changes into signed webhook deliveries, like GitHub's Hookshot.

Deliveries are queued first. A test can post them in order (:meth:`WebhookEmitter.flush`),
one by one, twice (a redelivery keeps its ``X-GitHub-Delivery`` id, as on GitHub) or in any
order it likes; with ``auto_deliver=True`` a background task posts them as they happen.

Every post is recorded as GitHub logs it for the hook (``GET /app/hook/deliveries``): an
attempt id, when, the status code; ``POST /app/hook/deliveries/{id}/attempts`` queues that
delivery again (:meth:`WebhookEmitter.redeliver`), marked as a redelivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.log import get_logger
from bot.sandbox.github.render import ts

if TYPE_CHECKING:
    from bot.sandbox.github.state import GitHubState

log = get_logger(__name__)

USER_AGENT = "GitHub-Hookshot/5f0c0a1"
# GitHub's own rule: a delivery that takes longer than 10 s counts as failed.
DELIVERY_TIMEOUT = aiohttp.ClientTimeout(total=10)


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    event: str
    delivery_id: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # HTTP status of the post; None until posted or if it failed
    error: str | None = None  # why the post failed, when it did
    attempts: int = 0  # how often it was posted
    redelivery: bool = False  # queued again on request (POST .../attempts)
    # Of the last post, as the hook's log of deliveries shows it:
    attempt_id: int | None = None
    delivered_at: datetime | None = None
    duration: float = 0.0  # seconds

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def action(self) -> str | None:
        payload = self.payload
        return payload.get("action") if isinstance(payload, dict) else None


class WebhookEmitter:
    """Signs every event and queues it for the bot's ``/github/webhook`` endpoint."""

    def __init__(
        self,
        secret: str,
        target_url: str | None = None,
        *,
        hook_id: int = 424242,
        auto_deliver: bool = False,
    ) -> None:
        self.secret = secret
        self.target_url = target_url
        self.hook_id = hook_id
        self.auto_deliver = auto_deliver
        self.app_id: int | None = None
        self.pending: list[Delivery] = []  # queued, not yet posted; tests may reorder it
        self.sent: list[Delivery] = []  # every post attempt, in order, with its outcome
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._attempt_ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[list[Delivery]] | None = None

    def attach(self, state: GitHubState) -> None:
        """Receive every change made to ``state`` from now on."""
        self.app_id = state.app_id
        self._now = state.now
        state.subscribe(self.enqueue)

    # --- building deliveries --------------------------------------------------------------

    def enqueue(self, event: str, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-GitHub-Hook-ID": str(self.hook_id),
            "X-Hub-Signature-256": sign(body, self.secret),
        }
        if self.app_id is not None:
            headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
            headers["X-GitHub-Hook-Installation-Target-ID"] = str(self.app_id)
        delivery = Delivery(event, delivery_id, headers, body)
        self.pending.append(delivery)
        if self.auto_deliver:
            self._wake_worker()
        return delivery

    def ping(self, state: GitHubState) -> Delivery:
        """The ``ping`` GitHub sends when a hook is created."""
        now = ts(state.now())
        hook_url = f"{state.api_url}/app/hook"
        hook = {
            "type": "App",
            "id": self.hook_id,
            "name": "web",
            "active": True,
            "app_id": state.app_id,
            "events": ["issues", "issue_comment", "pull_request", "pull_request_review"],
            "config": {
                "content_type": "json",
                "url": self.target_url or "",
                "insecure_ssl": "0",
            },
            "updated_at": now,
            "created_at": now,
            "url": hook_url,
            "ping_url": f"{hook_url}/pings",
            "deliveries_url": f"{hook_url}/deliveries",
        }
        payload = {"zen": "Keep it logically awesome.", "hook_id": self.hook_id, "hook": hook}
        return self.enqueue("ping", payload)

    # --- posting --------------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> Delivery:
        """Post one delivery (again, if it was already posted) and record the attempt."""
        if self.target_url is None:
            raise RuntimeError("WebhookEmitter has no target_url to post to")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=DELIVERY_TIMEOUT)
        delivery.attempts += 1
        delivery.attempt_id, delivery.delivered_at = next(self._attempt_ids), self._now()
        started = time.perf_counter()
        try:
            async with self._session.post(
                self.target_url, data=delivery.body, headers=delivery.headers
            ) as response:
                await response.read()
                delivery.status, delivery.error = response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.status, delivery.error = None, repr(exc)
            log.warning("webhook delivery %s failed: %r", delivery.delivery_id, exc)
        delivery.duration = time.perf_counter() - started
        self.sent.append(replace(delivery))
        return delivery

    def redeliver(self, attempt_id: int) -> Delivery:
        """Queue the delivery of this attempt again, as GitHub's "Redeliver" does: the same
        body and X-GitHub-Delivery id, marked as a redelivery. KeyError if there is none."""
        for attempt in self.sent:
            if attempt.attempt_id == attempt_id:
                again = replace(attempt, redelivery=True)
                self.pending.append(again)
                if self.auto_deliver:
                    self._wake_worker()
                return again
        raise KeyError(attempt_id)

    async def flush(self) -> list[Delivery]:
        """Post every pending delivery in queue order; returns them with their outcome."""
        posted = []
        while self.pending:
            posted.append(await self.deliver(self.pending.pop(0)))
        return posted

    async def wait_delivered(self) -> None:
        """With ``auto_deliver``, wait until everything queued so far has been posted."""
        while self._worker is not None and not self._worker.done():
            await asyncio.wait([self._worker])

    def _wake_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self.flush())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
