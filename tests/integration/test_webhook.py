# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook through the real aiohttp server, with real HMAC signatures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

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


CHUNK = 1024 * 1024


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """A large body a megabyte at a time, as a client on a real network sends it."""
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


async def post_delivery(
    runtime: Runtime,
    body: bytes = ISSUE_OPENED,
    *,
    event: str | None = "issues",
    delivery: str | None = None,
    signed_with: str | None = "new-webhook-secret",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], dict[str, str]]:
    """Post a delivery; the status, JSON body and headers of the answer."""
    sent = {"Content-Type": "application/json"}
    if event is not None:
        sent["X-GitHub-Event"] = event
    sent["X-GitHub-Delivery"] = delivery if delivery is not None else str(uuid.uuid4())
    if signed_with is not None:  # hashing 25 MB on the loop would trip the watchdog
        sent["X-Hub-Signature-256"] = await asyncio.to_thread(sign, body, signed_with)
    sent |= headers or {}
    data: bytes | AsyncIterator[bytes] = body
    if len(body) > CHUNK:  # written whole, 25 MB would hold the loop past the watchdog's limit
        sent["Content-Length"] = str(len(body))
        data = _chunks(body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{runtime.url}/github/webhook", data=data, headers=sent) as response,
    ):
        return response.status, await response.json(), dict(response.headers)


async def deliver(
    runtime: Runtime,
    body: bytes = ISSUE_OPENED,
    *,
    event: str | None = "issues",
    delivery: str | None = None,
    signed_with: str | None = "new-webhook-secret",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str]]:
    """Post a delivery; the status and JSON body of the answer."""
    status, answer, _ = await post_delivery(
        runtime, body, event=event, delivery=delivery, signed_with=signed_with, headers=headers
    )
    return status, answer


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
        (ISSUE_OPENED, "x" * 65, None, "missing or malformed X-GitHub-Event header"),
        (ISSUE_OPENED, "Issues", None, "missing or malformed X-GitHub-Event header"),
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


MALFORMED_ACTION = 'malformed "action": expected 1 to 64 lower-case letters, digits or underscores'


@pytest.mark.parametrize(
    "action", ["o" * 65, "opened\x00", "", "Opened"], ids=["too-long", "nul", "empty", "capital"]
)
async def test_malformed_action_is_400(server: Runtime, action: str) -> None:
    body = json.dumps({"action": action, "issue": {"id": 1}}).encode()
    assert await deliver(server, body) == (400, {"error": MALFORMED_ACTION})
    assert await stored(server) == []


async def test_one_bad_delivery_does_not_fail_the_others_committed_with_it(
    server: Runtime,
) -> None:
    # On PostgreSQL an action too long for its column (or holding a NUL, which text columns
    # cannot store) used to fail the whole group commit: every delivery in it got a 500.
    bad = [json.dumps({"action": action}).encode() for action in ("o" * 65, "opened\x00")]
    good = [f"good-{n}" for n in range(30)]
    answers = await asyncio.gather(
        *(deliver(server, delivery=delivery) for delivery in good[:15]),
        *(deliver(server, body, delivery=f"bad-{n}") for n, body in enumerate(bad)),
        *(deliver(server, delivery=delivery) for delivery in good[15:]),
    )
    assert answers[15:17] == [(400, {"error": MALFORMED_ACTION})] * 2
    assert answers[:15] + answers[17:] == [(200, {"status": "accepted"})] * 30
    assert {row.delivery_id for row in await stored(server)} == set(good)


async def test_ping_is_answered_and_not_stored(server: Runtime) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    assert await deliver(server, body, event="ping") == (200, {"status": "pong"})
    assert await stored(server) == []


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("star", "created"),
        ("repository", "edited"),
        ("fork", None),
        # Names with digits are GitHub's too.
        ("projects_v2", "edited"),
        ("projects_v2_item", "reordered"),
        ("projects_v2_status_update", "created"),
    ],
)
async def test_unused_event_is_202_and_recorded_without_body(
    server: Runtime, event: str, action: str | None
) -> None:
    body = json.dumps({"action": action} if action else {"forkee": {}}).encode()
    assert await deliver(server, body, event=event) == (202, {"status": "ignored"})
    (row,) = await stored(server)
    assert (row.event, row.action, row.status, row.body) == (event, action, "ignored", None)


def over_25_mb() -> bytes:
    return b'{"action": "opened", "pad": "' + b"x" * (25 * 1024 * 1024) + b'"}'


async def test_body_over_25_mb_is_413(server: Runtime) -> None:
    # Made in a thread: copying 50 MB takes the test's own callback past the watchdog's CPU
    # limit on a busy machine, and what the watchdog measures is the server's callbacks.
    body = await asyncio.to_thread(over_25_mb)
    status, _ = await deliver(server, body)
    assert status == 413
    assert await stored(server) == []


async def jobs_settled(runtime: Runtime) -> None:
    """Wait until the runtime's scheduler has recorded its jobs and runs none: a database
    that goes down before its first pass (on a busy machine) would put its jobs off."""
    for _ in range(1000):  # of 20 ms
        if await runtime.jobs_settled():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the scheduled jobs did not settle")


@contextlib.asynccontextmanager
async def database_down(database_url: str) -> AsyncIterator[None]:
    """The database stops taking writes, then takes them again.

    SQLite: another process holds the write lock (longer than the bot's busy timeout).
    PostgreSQL: the bot's database refuses connections and its open ones are terminated, as
    during a restart or a failover; only the test's own database is touched.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database or "", isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    name = url.database
    admin = await asyncpg.connect(
        url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        # Client connections only: an autovacuum worker busy on the fresh database belongs
        # to no role, and only a superuser may terminate it.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND backend_type = 'client backend'",
            name,
        )
        try:
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


async def test_while_the_database_is_down_deliveries_get_503_and_one_log_line(
    database_url: str,
    write_config: Callable[..., Path],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = write_config("[database]\nsqlite_busy_timeout_ms = 100\n")
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRETS}
    runtime = Runtime(load_config(config, env), clock, "web")
    await runtime.start(apply_migrations=True)
    body = json.dumps({"action": "opened", "note": "body-marker-0451"}).encode()
    try:
        await jobs_settled(runtime)
        with caplog.at_level(logging.DEBUG):
            async with database_down(database_url):
                for _ in range(3):
                    status, answer, headers = await post_delivery(runtime, body, delivery="d-1")
                    assert (status, answer, headers["Retry-After"]) == (
                        503,
                        {"error": "the delivery cannot be stored now"},
                        "30",
                    )
            assert await deliver(runtime, body, delivery="d-1") == (200, {"status": "accepted"})
    finally:
        await runtime.close()
    inbox = [r for r in caplog.records if r.name == "bot.github.inbox"]
    assert [(r.levelname, r.getMessage()) for r in inbox] == [
        (
            "ERROR",
            "webhook inbox: the database cannot commit deliveries; answering 503 until it can",
        ),
        ("WARNING", "webhook inbox: committing again; 3 deliveries were answered 503 meanwhile"),
    ]
    assert "body-marker-0451" not in caplog.text


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
