# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook through the real aiohttp server, with real HMAC signatures."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import WebhookDelivery
from bot.github.inbox import raw_body
from bot.github.signature import sign
from bot.runtime import Runtime

SECRETS = "new-webhook-secret,old-webhook-secret"
ISSUE_OPENED = json.dumps(
    {"action": "opened", "issue": {"id": 1, "number": 7}, "repository": {"id": 2}}
).encode()


@pytest.fixture
async def server(
    database_url: str, write_config: Callable[..., Path], clock: ManualClock
) -> AsyncIterator[Runtime]:
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRETS}
    runtime = Runtime(load_config(write_config(), env), clock, "web")
    await runtime.start(apply_migrations=True)
    yield runtime
    await runtime.close()


async def deliver(
    runtime: Runtime,
    body: bytes = ISSUE_OPENED,
    *,
    event: str | None = "issues",
    delivery: str | None = None,
    signed_with: str | None = "new-webhook-secret",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str]]:
    sent = {"Content-Type": "application/json"}
    if event is not None:
        sent["X-GitHub-Event"] = event
    sent["X-GitHub-Delivery"] = delivery if delivery is not None else str(uuid.uuid4())
    if signed_with is not None:  # hashing 25 MB on the loop would trip the watchdog
        sent["X-Hub-Signature-256"] = await asyncio.to_thread(sign, body, signed_with)
    sent |= headers or {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{runtime.url}/github/webhook", data=body, headers=sent) as response,
    ):
        return response.status, await response.json()


async def stored(runtime: Runtime) -> list[WebhookDelivery]:
    async with runtime.sessions() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.received_at)
        return list(await session.scalars(query))


async def test_signed_delivery_is_committed_then_acknowledged(server: Runtime) -> None:
    assert await deliver(server, delivery="d-1") == (200, {"status": "accepted"})
    (row,) = await stored(server)
    assert (row.delivery_id, row.event, row.action, row.status) == (
        "d-1",
        "issues",
        "opened",
        "pending",
    )
    assert row.body is not None
    assert raw_body(row.body, row.body_encoding) == ISSUE_OPENED


async def test_the_same_delivery_twice_is_stored_once(server: Runtime) -> None:
    assert (await deliver(server, delivery="d-1"))[0] == 200
    assert await deliver(server, delivery="d-1") == (200, {"status": "duplicate"})
    assert len(await stored(server)) == 1


async def test_any_configured_secret_verifies(server: Runtime) -> None:
    assert (await deliver(server, signed_with="old-webhook-secret"))[0] == 200


@pytest.mark.parametrize(
    ("secret", "headers"),
    [
        (None, {}),
        ("wrong-secret", {}),
        (None, {"X-Hub-Signature-256": "sha1=abc"}),
        (None, {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
    ],
)
async def test_missing_or_wrong_signature_is_401(
    server: Runtime, secret: str | None, headers: dict[str, str]
) -> None:
    status, answer = await deliver(server, signed_with=secret, headers=headers)
    assert (status, answer) == (401, {"error": "missing or invalid X-Hub-Signature-256"})
    assert await stored(server) == []


@pytest.mark.parametrize(
    ("body", "event", "delivery", "message"),
    [
        (ISSUE_OPENED, None, None, "missing or malformed X-GitHub-Event header"),
        (ISSUE_OPENED, "issues", "", "missing or malformed X-GitHub-Delivery header"),
        (ISSUE_OPENED, "issues", "not a/valid id", "missing or malformed X-GitHub-Delivery"),
        (b"payload=%7B%7D", "issues", None, "body is not JSON"),
        (b"[1, 2]", "issues", None, "body is not a JSON object"),
    ],
)
async def test_malformed_delivery_is_400(
    server: Runtime, body: bytes, event: str | None, delivery: str | None, message: str
) -> None:
    status, answer = await deliver(server, body, event=event, delivery=delivery)
    assert status == 400
    assert answer["error"].startswith(message)
    assert await stored(server) == []


async def test_ping_is_answered_and_not_stored(server: Runtime) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    assert await deliver(server, body, event="ping") == (200, {"status": "pong"})
    assert await stored(server) == []


@pytest.mark.parametrize(
    ("event", "action"), [("star", "created"), ("repository", "edited"), ("fork", None)]
)
async def test_unused_event_is_202_and_recorded_without_body(
    server: Runtime, event: str, action: str | None
) -> None:
    body = json.dumps({"action": action} if action else {"forkee": {}}).encode()
    assert await deliver(server, body, event=event) == (202, {"status": "ignored"})
    (row,) = await stored(server)
    assert (row.event, row.action, row.status, row.body) == (event, action, "ignored", None)


async def test_body_over_25_mb_is_413(server: Runtime) -> None:
    body = b'{"action": "opened", "pad": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    status, _ = await deliver(server, body)
    assert status == 413
    assert await stored(server) == []


async def test_concurrent_deliveries_are_all_durable_and_deduplicated(server: Runtime) -> None:
    ids = [f"c-{n % 40}" for n in range(80)]  # every id twice
    results = await asyncio.gather(*(deliver(server, delivery=i) for i in ids))
    assert {status for status, _ in results} == {200}
    answers = [answer["status"] for _, answer in results]
    assert answers.count("accepted") == 40
    assert answers.count("duplicate") == 40
    # What a fresh connection reads is what was acknowledged: the commit came first.
    engine = create_engine(server.config.secrets.database_url.get_secret_value())
    try:
        async with create_session_factory(engine)() as session:
            assert set(await session.scalars(select(WebhookDelivery.delivery_id))) == set(ids)
    finally:
        await engine.dispose()


async def test_without_a_secret_the_endpoint_is_off(
    write_config: Callable[..., Path], clock: ManualClock, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'off.db'}"}
    runtime = Runtime(load_config(write_config(), env), clock, "web")
    await runtime.start(apply_migrations=True)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{runtime.url}/github/webhook", data=ISSUE_OPENED) as response,
        ):
            assert response.status == 404
    finally:
        await runtime.close()
