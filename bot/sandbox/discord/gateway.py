# SPDX-License-Identifier: Apache-2.0
"""The gateway websocket: HELLO, heartbeats, IDENTIFY/READY, RESUME with replay, dispatches.

One bot session at a time (no sharding). Events dispatched while the bot is disconnected stay
in the session's backlog and are replayed when it resumes, as Discord does.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zstandard
from aiohttp import WSMsgType, web

from bot.log import get_logger
from bot.sandbox.discord.state import (
    JSON,
    SimState,
    guild_payload,
    member_payload,
    private_user_payload,
)
from bot.sandbox.discord.waiting import Waiters

log = get_logger(__name__)

# Opcodes
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

HEARTBEAT_INTERVAL_MS = 41_250
# Discord's acknowledgement reaches a client a network round trip after its heartbeat.
# discord.py times its latency from when its keep-alive thread has finished sending; an
# acknowledgement that came back at once could arrive before that thread woke up, and the
# latency would read as a whole interval ("Can't keep up, shard ID 0 websocket is 41.3s
# behind").
HEARTBEAT_ACK_DELAY = 0.1  # seconds, a round trip

# Intents an event needs; events not listed here are always delivered.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
EVENT_INTENTS = {
    "GUILD_CREATE": INTENT_GUILDS,
    "CHANNEL_CREATE": INTENT_GUILDS,
    "THREAD_CREATE": INTENT_GUILDS,
    "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": INTENT_GUILD_MEMBERS,
    "GUILD_ROLE_CREATE": INTENT_GUILDS,
    "THREAD_MEMBERS_UPDATE": INTENT_GUILD_MEMBERS,
}

# Close codes (documented in the gateway opcodes and status codes page)
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_DISALLOWED_INTENTS = 4014


# The gateway's transport compressions: one compression context for the whole connection,
# flushed after every message so that each websocket frame completes one payload.
COMPRESSIONS = ("zlib-stream", "zstd-stream")


def _stream_compressor(compression: str) -> Callable[[bytes], bytes]:
    if compression == "zlib-stream":
        zlib_stream = zlib.compressobj()
        # Each message ends with Z_SYNC_FLUSH's 00 00 ff ff, which clients look for.
        return lambda data: zlib_stream.compress(data) + zlib_stream.flush(zlib.Z_SYNC_FLUSH)
    zstd_stream = zstandard.ZstdCompressor().compressobj()
    return lambda data: (
        zstd_stream.compress(data) + zstd_stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    )


class _Connection:
    """One websocket; when compressed, one stream shared by every frame it sends."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, compression: str | None
    ) -> None:
        self.ws = ws
        self.request = request
        self._compress = _stream_compressor(compression) if compression else None
        self._lock = asyncio.Lock()  # frames must reach the compressor in sending order

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload)
        async with self._lock:
            if self._compress is None:
                await self.ws.send_str(text)
                return
            await self.ws.send_bytes(self._compress(text.encode()))


@dataclass
class _Session:
    id: str
    intents: int
    seq: int = 0
    backlog: list[tuple[int, JSON]] = field(default_factory=list)
    connection: _Connection | None = None


@dataclass
class GatewayStats:
    """What the bot did on the gateway, for tests to wait on."""

    connections: int = 0
    identifies: int = 0
    resumes: int = 0
    heartbeats: int = 0
    last_heartbeat_seq: int = 0  # the last sequence number the bot said it had processed
    member_requests: int = 0
    compressed: int = 0  # connections that asked for zlib-stream or zstd-stream
    paths: list[str] = field(default_factory=list)


class Gateway:
    def __init__(self, state: SimState, waiters: Waiters, resume_url: Callable[[], str]) -> None:
        self._state = state
        self._waiters = waiters
        self._resume_url = resume_url
        self._sessions: dict[str, _Session] = {}
        self._current: _Session | None = None
        self.stats = GatewayStats()
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS  # what HELLO asks the bot for
        self._acks: set[asyncio.Task[None]] = set()
        # Sees every event dispatched (the simulator checks them against Discord's API).
        self.on_dispatch: Callable[[str, JSON], None] = lambda event, data: None

    @property
    def connected(self) -> bool:
        """True when the bot has a live, identified or resumed connection."""
        return self._current is not None and self._current.connection is not None

    @property
    def has_session(self) -> bool:
        return self._current is not None

    def wants(self, event: str, intent: int | None = None) -> bool:
        """Whether the bot's intents subscribe it to ``event`` (``intent`` overrides the table)."""
        needed = intent if intent is not None else EVENT_INTENTS.get(event)
        return self._current is None or needed is None or bool(self._current.intents & needed)

    async def dispatch(self, event: str, data: JSON, *, intent: int | None = None) -> None:
        session = self._current
        if session is None:
            log.debug("no gateway session; dropping %s", event)
            return
        if not self.wants(event, intent):
            return
        self.on_dispatch(event, data)
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.backlog.append((session.seq, payload))
        if session.connection is not None:
            await self._send(session.connection, payload)

    async def _send(self, connection: _Connection, payload: JSON) -> None:
        try:
            await connection.send(payload)
        except (ConnectionError, RuntimeError):
            # The bot went away mid-send; a dispatch stays in the backlog for RESUME.
            log.debug("gateway send failed; connection is gone")

    async def request_heartbeat(self) -> int:
        """Ask the bot for a heartbeat now; returns the sequence number it must report.

        discord.py handles gateway messages in order and parses each dispatch into its cache
        before reading the next, so a heartbeat carrying that sequence proves it has caught up.
        """
        connection = self._require_connection()
        assert self._current is not None
        target = self._current.seq
        await self._send(connection, {"op": HEARTBEAT, "d": None})
        return target

    def _acknowledge(self, connection: _Connection) -> None:
        """HEARTBEAT_ACK, a round trip after the heartbeat (see HEARTBEAT_ACK_DELAY)."""

        async def acknowledge() -> None:
            await asyncio.sleep(HEARTBEAT_ACK_DELAY)
            await self._send(connection, {"op": HEARTBEAT_ACK})

        task = asyncio.create_task(acknowledge(), name="gateway-heartbeat-ack")
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def close(self) -> None:
        """Close the bot's websocket with 1001 (going away), as Discord does on shutdown."""
        for task in self._acks:
            task.cancel()
        for session in self._sessions.values():
            if session.connection is not None:
                await session.connection.ws.close(code=1001, message=b"simulator stopping")

    # fault injection

    async def drop(self) -> None:
        """Cut the TCP connection without a close frame, as a network failure would."""
        connection = self._require_connection()
        transport = connection.request.transport
        if transport is not None:
            transport.abort()

    async def send_reconnect(self) -> None:
        await self._send(self._require_connection(), {"op": RECONNECT, "d": None})

    async def send_invalid_session(self, resumable: bool) -> None:
        connection = self._require_connection()
        if not resumable and self._current is not None:
            self._sessions.pop(self._current.id, None)
        await self._send(connection, {"op": INVALID_SESSION, "d": resumable})

    def _require_connection(self) -> _Connection:
        if self._current is None or self._current.connection is None:
            raise RuntimeError("the bot is not connected to the gateway")
        return self._current.connection

    # the websocket endpoint

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        self.stats.connections += 1
        self.stats.paths.append(request.path)
        compress = request.query.get("compress")
        if request.query.get("encoding", "json") != "json" or compress not in (None, *COMPRESSIONS):
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"unsupported encoding")
            return ws
        connection = _Connection(ws, request, compress)
        self.stats.compressed += compress is not None
        await connection.send(
            {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
        )
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._on_payload(connection, json.loads(message.data))
        finally:
            for session in self._sessions.values():
                if session.connection is connection:
                    session.connection = None
            self._waiters.notify()
        return ws

    async def _on_payload(self, connection: _Connection, payload: JSON) -> None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op == HEARTBEAT:
            self.stats.heartbeats += 1
            self.stats.last_heartbeat_seq = int(data or 0)
            self._acknowledge(connection)
        elif op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif op == REQUEST_GUILD_MEMBERS:
            await self._request_members(data)
        elif op == PRESENCE_UPDATE:
            pass  # presence is not simulated
        else:
            await connection.ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b"Unknown opcode")
        self._waiters.notify()

    async def _identify(self, connection: _Connection, data: JSON) -> None:
        if data.get("token") != self._state.token:
            await self._refuse_token(connection)
            return
        intents = int(data.get("intents", 0))
        if self._state.disallowed_intents(intents):
            await connection.ws.close(
                code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s)."
            )
            return
        session = _Session(id=secrets.token_hex(16), intents=intents)
        session.connection = connection
        self._sessions[session.id] = session
        self._current = session
        self.stats.identifies += 1
        ready = {
            "v": 10,
            "user": private_user_payload(self._state.bot),
            "guilds": [{"id": str(g), "unavailable": True} for g in self._state.guilds],
            "session_id": session.id,
            "resume_gateway_url": self._resume_url(),
            "application": {
                "id": str(self._state.application_id),
                "flags": self._state.application_flags,
            },
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if "shard" in data:  # sharded clients (AutoShardedBot) expect their shard echoed back
            ready["shard"] = data["shard"]
        await self.dispatch("READY", ready)
        for guild in self._state.guilds.values():
            await self.dispatch("GUILD_CREATE", guild_payload(self._state, guild, gateway=True))

    async def _refuse_token(self, connection: _Connection) -> None:
        await connection.ws.close(
            code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed."
        )

    async def _resume(self, connection: _Connection, data: JSON) -> None:
        if data.get("token") != self._state.token:
            await self._refuse_token(connection)
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await connection.send({"op": INVALID_SESSION, "d": False})
            return
        self._current = session
        self.stats.resumes += 1
        last_seen = int(data.get("seq") or 0)
        index = next((i for i, (s, _) in enumerate(session.backlog) if s > last_seen), None)
        index = len(session.backlog) if index is None else index
        # Events dispatched during the replay join the backlog; attach only once caught up
        # so that nothing is sent twice or out of order.
        while index < len(session.backlog):
            await self._send(connection, session.backlog[index][1])
            index += 1
        session.connection = connection
        await self.dispatch("RESUMED", {})

    async def _request_members(self, data: JSON) -> None:
        self.stats.member_requests += 1
        guild = self._state.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [m for m in guild.members.values() if not wanted or m.id in wanted]
        query = data.get("query") or ""
        members = [m for m in members if m.user.username.startswith(query)]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if "nonce" in data:
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
