# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook: read the body within limits, verify, commit to the inbox, answer.

Until its body is in, a request cannot be told from an attacker's (the signature covers the
body), so reading is bounded: the whole body must arrive within a deadline (408 otherwise),
and the bodies being read or held at once share a budget of bytes, which a request takes in
full from its Content-Length before it reads a byte (503 when the budget is spent). Slow or
stalled clients then hold neither connections nor memory for long, and genuine deliveries
still fit beside them.

The signature is checked on the raw body before anything is parsed. The answer (well under a
second) comes only once the delivery is committed; normalising it happens afterwards, so
GitHub's 10 s timeout is never at risk.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import simdjson
from aiohttp import web

from bot.github.events import is_used
from bot.github.inbox import DeliveryRefused, Inbox, InboxUnavailable, Incoming
from bot.github.signature import verify
from bot.log import get_logger

log = get_logger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# Bodies above this are checked in a thread so a huge payload cannot stall the event loop.
PARSE_IN_THREAD = 1024 * 1024
# What a client is told to wait (Retry-After, seconds) while the database cannot commit.
RETRY_AFTER_UNAVAILABLE = 30
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# Event and action names: lower-case words joined by underscores, some with digits
# (projects_v2_item), as long as their columns allow.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class WebhookLimits:
    body_timeout: float  # seconds for a whole body to arrive, once its headers are in
    buffer_bytes: int  # bytes of bodies being read or held at once, over all requests


class _Budget:
    """Bytes of webhook bodies being read or held, which must stay within a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


@dataclass(frozen=True)
class _Receiver:
    inbox: Inbox
    secrets: tuple[str, ...]
    limits: WebhookLimits
    budget: _Budget


_RECEIVER = web.AppKey("webhook_receiver", _Receiver)


def add_webhook_route(
    app: web.Application, inbox: Inbox, secrets: Sequence[str], limits: WebhookLimits
) -> None:
    app[_RECEIVER] = _Receiver(inbox, tuple(secrets), limits, _Budget(limits.buffer_bytes))
    app.router.add_post("/github/webhook", github_webhook)


def _problem(status: int, message: str, *, retry_after: float | None = None) -> web.Response:
    response = web.json_response({"error": message}, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    return response


async def github_webhook(request: web.Request) -> web.Response:
    size = request.content_length
    if size is None:  # GitHub always says how long its body is
        return _problem(411, "Content-Length is required")
    if size > MAX_BODY:
        return _problem(413, "payload larger than 25 MB")
    receiver = request.app[_RECEIVER]
    timeout = receiver.limits.body_timeout
    if not receiver.budget.take(size):
        return _problem(503, "too many webhook bodies in flight", retry_after=timeout)
    try:
        try:
            async with asyncio.timeout(timeout):
                body = await request.read()
        except TimeoutError:
            return _problem(408, f"the body did not arrive within {timeout:g} s")
        return await _receive(receiver, request.headers, body)
    finally:
        receiver.budget.give_back(size)


async def _receive(receiver: _Receiver, headers: Mapping[str, str], body: bytes) -> web.Response:
    if not verify(body, headers.get("X-Hub-Signature-256"), receiver.secrets):
        return _problem(401, "missing or invalid X-Hub-Signature-256")

    event = headers.get("X-GitHub-Event", "")
    delivery_id = headers.get("X-GitHub-Delivery", "")
    if not _NAME.match(event):
        return _problem(400, "missing or malformed X-GitHub-Event header")
    if not _DELIVERY_ID.match(delivery_id):
        return _problem(400, "missing or malformed X-GitHub-Delivery header")
    try:
        if len(body) > PARSE_IN_THREAD:
            action = await asyncio.to_thread(_action_of, body)
        else:
            action = _action_of(body)
    except _NotAnObject as exc:
        return _problem(400, str(exc))
    if action is not None and not _NAME.match(action):
        return _problem(
            400, 'malformed "action": expected 1 to 64 lower-case letters, digits or underscores'
        )

    if event == "ping":
        return web.json_response({"status": "pong"})
    used = is_used(event, action)
    try:
        new = await receiver.inbox.record(
            Incoming(delivery_id, event, action, body if used else None)
        )
    except InboxUnavailable:  # the inbox logs it, once
        return _problem(
            503, "the delivery cannot be stored now", retry_after=RETRY_AFTER_UNAVAILABLE
        )
    except DeliveryRefused:
        return _problem(500, "the database refused this delivery")
    if not new:
        return web.json_response({"status": "duplicate"})
    if not used:
        return web.json_response({"status": "ignored"}, status=202)
    return web.json_response({"status": "accepted"})


class _NotAnObject(ValueError):
    pass


def _action_of(body: bytes) -> str | None:
    """The delivery's "action" (None without one); raises unless the body is a JSON object.

    simdjson validates the whole document without building it in Python objects (~15 µs for a
    20 KB pull request, against 40-60 µs with orjson): the receiver only needs to know that the
    body is a JSON object and what its action is. A parser per call: one that is reused refuses
    to parse while anything still refers to its previous document.
    """
    try:
        document = simdjson.Parser().parse(body)
    except (ValueError, RuntimeError) as exc:  # syntax, encoding, integers beyond 64 bits
        raise _NotAnObject("body is not JSON (set the webhook's content type to JSON)") from exc
    if not isinstance(document, simdjson.Object):
        raise _NotAnObject("body is not a JSON object")
    action = document.get("action")
    return action if isinstance(action, str) else None
