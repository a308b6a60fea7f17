# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook under stress: a crash mid-stream, and arbitrary requests.

- A real ``helios-bot web`` process is killed with SIGKILL while 16 senders post deliveries:
  after a restart, every delivery that got a 2xx is in the database, once.
- Hypothesis throws arbitrary bodies and header values at a running server: never a 5xx.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.config import load_config
from bot.db.engine import create_engine
from bot.db.models import WebhookDelivery
from bot.github.signature import sign
from bot.runtime import Runtime
from bot.sandbox.github.state import GitHubState
from tests.integration.processes import start_web

SECRET = "durability-secret"
SENDERS = 16
DELIVERIES = 300
KILL_AFTER = 100  # acknowledged deliveries before the SIGKILL: well inside the stream


def pull_request_opened() -> bytes:
    """A real-sized pull_request "opened" payload, as the GitHub simulator renders it."""
    state = GitHubState()
    payloads: list[dict[str, object]] = []
    state.subscribe(lambda _event, payload: payloads.append(payload))
    state.create_repo("helios-engine/helios")
    state.open_pull("helios-engine/helios", "ada", "Fix the shadow acne", "Closes #1.")
    return json.dumps(payloads[0]).encode()


BODY = pull_request_opened()


# --- a crash mid-stream ----------------------------------------------------------------------


@asynccontextmanager
async def bot_web(
    config: Path, database_url: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``helios-bot web`` as a separate process; yields it and its URL, kills it on exit."""
    process = await start_web(
        config, {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    )
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode()
            assert line, "helios-bot web exited before serving"
            if found := re.search(r"serving on (http://[0-9.:]+)", line):
                url = found.group(1)
        # Keep reading its log so that a full pipe can never stall the server.
        drain = asyncio.create_task(process.stderr.read())
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        if drain is not None:
            await drain


async def post_all(url: str, ids: list[str], on_answer: Callable[[str, int, str], None]) -> None:
    """Post every id with SENDERS concurrent senders; a sender stops at its first failure."""
    pending = list(reversed(ids))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=SENDERS)) as http:

        async def sender() -> None:
            while pending:
                delivery = pending.pop()
                headers = {
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": delivery,
                    "X-Hub-Signature-256": sign(BODY, SECRET),
                }
                try:
                    async with http.post(
                        f"{url}/github/webhook", data=BODY, headers=headers
                    ) as response:
                        answer = json.loads(await response.read())["status"]
                    on_answer(delivery, response.status, answer)
                except (aiohttp.ClientError, ConnectionError):
                    return  # the server is gone

        await asyncio.gather(*(sender() for _ in range(SENDERS)))


async def stored_ids(database_url: str) -> tuple[int, set[str]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.scalar(select(func.count()).select_from(WebhookDelivery))
            ids = set(await connection.scalars(select(WebhookDelivery.delivery_id)))
    finally:
        await engine.dispose()
    return rows or 0, ids


async def test_every_acknowledged_delivery_survives_sigkill(
    database_url: str, write_config: Callable[..., Path]
) -> None:
    config = write_config()
    ids = [f"crash-{n:04d}" for n in range(DELIVERIES)]
    acknowledged: set[str] = set()
    killed = False

    async with bot_web(config, database_url) as (process, url):

        def before_crash(delivery: str, status: int, answer: str) -> None:
            nonlocal killed
            assert (status, answer) == (200, "accepted")
            acknowledged.add(delivery)
            # Once only: a second kill() polls the dead child and reaps it behind asyncio's back.
            if len(acknowledged) >= KILL_AFTER and not killed:
                killed = True
                process.kill()  # SIGKILL, with requests in flight

        await post_all(url, ids, before_crash)
        assert await process.wait() == -9
    assert KILL_AFTER <= len(acknowledged) < DELIVERIES, "the kill did not land mid-stream"

    rows, stored = await stored_ids(database_url)
    assert acknowledged <= stored
    assert rows == len(stored)
    # Committed but killed before answering is possible; anything else in the table is not.
    assert stored <= set(ids)

    answers: dict[str, tuple[int, str]] = {}
    async with bot_web(config, database_url) as (_, url):
        await post_all(url, ids, lambda delivery, *answer: answers.setdefault(delivery, answer))
    assert set(answers) == set(ids)
    duplicates = {d for d, answer in answers.items() if answer == (200, "duplicate")}
    accepted = {d for d, answer in answers.items() if answer == (200, "accepted")}
    assert duplicates == stored  # all acknowledged ones among them
    assert accepted == set(ids) - stored
    rows, after = await stored_ids(database_url)
    assert (rows, after) == (DELIVERIES, set(ids))


# --- arbitrary requests never cause a 5xx ---------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A Runtime in web mode on its own event loop in a background thread: (host, port).

    The blocking watchdog of each test watches every loop of the process, this one included.
    """
    directory = tmp_path_factory.mktemp("fuzz")
    config = directory / "config.toml"
    config.write_text('[discord]\nguild_id = 1\n[web]\nhost = "127.0.0.1"\nport = 0\n')
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'fuzz.db'}",
        "GITHUB_WEBHOOK_SECRET": SECRET,
    }
    runtime = Runtime(load_config(config, env), SystemClock(), "web")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-server", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(runtime.start(apply_migrations=True), loop).result(30)
        assert runtime.url is not None
        address = urlsplit(runtime.url)
        assert address.hostname is not None
        assert address.port is not None
        yield address.hostname, address.port
    finally:
        asyncio.run_coroutine_threadsafe(runtime.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def json_values() -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=30,
    )


def object_bodies() -> st.SearchStrategy[bytes]:
    """JSON objects, often shaped like a delivery (an ``action``, nested objects)."""
    action = st.none() | st.sampled_from(["opened", "closed", "created", "submitted"])
    return st.builds(
        lambda extra, chosen: json.dumps({**extra, "action": chosen}).encode(),
        st.dictionaries(st.text(max_size=12), json_values(), max_size=6),
        action,
    )


# Past 1 MB the endpoint parses in a thread; past 25 MB it refuses (413).
big_bodies = st.builds(
    lambda size, tail: b'{"action": "opened", "pad": "' + b"x" * size + tail,
    st.integers(1024 * 1024, 3 * 1024 * 1024),
    st.sampled_from([b'"}', b'"', b"\xff"]),
)
bodies = st.one_of(
    st.binary(max_size=2048),
    json_values().map(lambda value: json.dumps(value).encode()),
    object_bodies(),
    big_bodies,
)
# Anything http.client agrees to send as a header value (no CR, LF or other controls).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
events = st.none() | header_text | st.sampled_from(["ping", "issues", "pull_request", "star"])
delivery_ids = st.none() | header_text | st.uuids().map(str) | st.just("x" * 65)
signatures = st.sampled_from(["none", "right", "wrong secret", "garbage"])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
)
@given(body=bodies, event=events, delivery=delivery_ids, signature=signatures, garbage=header_text)
def test_arbitrary_requests_never_get_a_5xx(
    server: tuple[str, int],
    body: bytes,
    event: str | None,
    delivery: str | None,
    signature: str,
    garbage: str,
) -> None:
    headers = {"Content-Type": "application/json"}
    if event is not None:
        headers["X-GitHub-Event"] = event
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    if signature == "right":
        headers["X-Hub-Signature-256"] = sign(body, SECRET)
    elif signature == "wrong secret":
        headers["X-Hub-Signature-256"] = sign(body, "not-the-secret")
    elif signature == "garbage":
        headers["X-Hub-Signature-256"] = garbage

    connection = http.client.HTTPConnection(*server, timeout=30)
    try:
        connection.request("POST", "/github/webhook", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()

    assert response.status < 500, answer
    # The signature decides first: only a delivery signed with the secret gets past it.
    assert (response.status == 401) == (signature != "right"), answer
