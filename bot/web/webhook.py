# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook: verify, then commit to the inbox, then answer.

The signature is checked on the raw body before anything is parsed. The answer (well under a
second) comes only once the delivery is committed; normalising it happens afterwards, so
GitHub's 10 s timeout is never at risk.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
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
class _Receiver:
    inbox: Inbox
    secrets: tuple[str, ...]


_RECEIVER = web.AppKey("webhook_receiver", _Receiver)


def add_webhook_route(app: web.Application, inbox: Inbox, secrets: Sequence[str]) -> None:
    app[_RECEIVER] = _Receiver(inbox, tuple(secrets))
    app.router.add_post("/github/webhook", github_webhook)


def _problem(status: int, message: str, *, retry_after: float | None = None) -> web.Response:
    response = web.json_response({"error": message}, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    return response


async def github_webhook(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _problem(413, "payload larger than 25 MB")
    receiver = request.app[_RECEIVER]
    body = await request.read()  # aiohttp answers 413 itself past client_max_size
    if not verify(body, request.headers.get("X-Hub-Signature-256"), receiver.secrets):
        return _problem(401, "missing or invalid X-Hub-Signature-256")

    event = request.headers.get("X-GitHub-Event", "")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
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
