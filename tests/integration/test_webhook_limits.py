# SPDX-License-Identifier: Apache-2.0
"""POST /github/webhook against slow, stalled and oversized clients, over real sockets.

Until its body is in, a request is unauthenticated (the signature covers the body), so what a
client can hold is bounded: connections by the body deadline and the keep-alive timeout,
memory by the budget of body bytes held at once. Genuine deliveries are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.clock import ManualClock
from bot.config import load_config
from bot.runtime import Runtime
from tests.integration.test_webhook import deliver, stored

SECRETS = "new-webhook-secret"
# How long a test waits for an answer the server owes before it calls the server stuck; the
# server's own limits in these tests are a fraction of it.
STUCK = 30.0
MB = 1024 * 1024

Start = Callable[[str], Awaitable[Runtime]]


@pytest.fixture
async def start(
    database_url: str, write_config: Callable[..., Path], clock: ManualClock
) -> AsyncIterator[Start]:
    """Start a runtime whose [web] section also holds ``web`` (TOML lines)."""
    started: list[Runtime] = []

    async def start(web: str) -> Runtime:
        env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRETS}
        runtime = Runtime(load_config(write_config(web), env), clock, "web")
        started.append(runtime)
        await runtime.start(apply_migrations=True)
        return runtime

    yield start
    for runtime in started:
        await runtime.close()


class Client(asyncio.Protocol):
    """A raw HTTP client that keeps every byte the server sent and sees when it closes.

    (asyncio's streams refuse to hand over data already received once the connection has been
    reset, which a server that closes on a client still sending does.)
    """

    def __init__(self) -> None:
        self.received = bytearray()
        self.arrived = asyncio.Event()
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    @classmethod
    async def connect(cls, runtime: Runtime) -> Client:
        address = urlsplit(runtime.url)
        assert address.hostname is not None
        assert address.port is not None
        _, client = await asyncio.get_running_loop().create_connection(
            cls, address.hostname, address.port
        )
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.arrived.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)
        self.arrived.set()

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def close(self) -> None:
        assert self.transport is not None
        self.transport.close()

    async def answer(self) -> tuple[int, dict[str, str]]:
        """The status and headers of the server's response."""
        while b"\r\n\r\n" not in self.received:
            assert not self.closed.done(), "the connection was closed without an answer"
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), STUCK)
        status, *lines = self.received.split(b"\r\n\r\n")[0].decode().split("\r\n")
        fields = {}
        for line in lines:
            name, _, value = line.partition(":")
            fields[name.lower()] = value.strip()
        return int(status.split()[1]), fields

    async def closed_by_server(self) -> bool:
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), STUCK)
        except TimeoutError:
            return False
        return True


def headers(length: int | None) -> bytes:
    """A webhook request's head, as a client that has not sent its (signed) body yet."""
    lines = [
        "POST /github/webhook HTTP/1.1",
        "Host: helios",
        "Content-Type: application/json",
        "X-GitHub-Event: issues",
        f"X-GitHub-Delivery: {uuid.uuid4()}",
        "X-Hub-Signature-256: sha256=" + "0" * 64,
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def start_request(runtime: Runtime, length: int, body: bytes = b"") -> Client:
    client = await Client.connect(runtime)
    client.send(headers(length) + body)
    return client


async def trickling_client(runtime: Runtime) -> tuple[int, bool]:
    """A client that sends its headers, then its body one byte every 0.1 s for as long as the
    server listens: the status it gets, and whether the server then closes the connection."""
    client = await start_request(runtime, 1000, b"{")

    async def trickle() -> None:
        while not client.closed.done():
            client.send(b" ")
            await asyncio.sleep(0.1)

    sender = asyncio.create_task(trickle())
    try:
        status, _ = await client.answer()
        return status, await client.closed_by_server()
    finally:
        sender.cancel()
        client.close()


async def test_bodies_that_trickle_in_are_cut_off_at_the_deadline(start: Start) -> None:
    runtime = await start("body_timeout_seconds = 0.5\n")
    slow = [asyncio.create_task(trickling_client(runtime)) for _ in range(100)]
    assert (await deliver(runtime, delivery="genuine"))[0] == 200
    assert await asyncio.gather(*slow) == [(408, True)] * 100
    assert [row.delivery_id for row in await stored(runtime)] == ["genuine"]


@pytest.mark.parametrize("sent", [b"", b"POST /github/webhook HTTP/1.1\r\nHost: hel"])
async def test_idle_connections_and_unfinished_headers_are_closed(
    start: Start, sent: bytes
) -> None:
    runtime = await start("keepalive_seconds = 0.5\n")
    client = await Client.connect(runtime)
    try:
        client.send(sent)
        assert await client.closed_by_server()
    finally:
        client.close()


async def test_stalled_big_bodies_beyond_the_buffer_get_503_and_genuine_ones_get_in(
    start: Start,
) -> None:
    # Eight clients announce 24 MB each and stall after 1 MB: two fit in the 64 MB budget,
    # the others are refused before a byte of their body is read.
    runtime = await start("body_timeout_seconds = 2\n")
    clients = [await start_request(runtime, 24 * MB, b"x" * MB) for _ in range(8)]
    try:
        assert (await deliver(runtime, delivery="genuine"))[0] == 200
        answers = [await client.answer() for client in clients]
    finally:
        for client in clients:
            client.close()
    assert sorted(status for status, _ in answers) == [408] * 2 + [503] * 6
    assert {fields.get("retry-after") for status, fields in answers if status == 503} == {"2"}
    assert [row.delivery_id for row in await stored(runtime)] == ["genuine"]


async def test_a_body_of_unknown_length_is_411(start: Start) -> None:
    runtime = await start("")
    client = await Client.connect(runtime)
    try:
        client.send(headers(None) + b"2\r\n{}\r\n0\r\n\r\n")
        assert (await client.answer())[0] == 411
    finally:
        client.close()
