# SPDX-License-Identifier: Apache-2.0
"""The loopback Discord: REST under ``{url}/api/v10``, the gateway at ``ws://.../gateway``.

Besides serving the bot, the simulator is the test's handle on the world: it builds guilds,
channels, roles and members, injects faults, records requests, and answers "what does this
member see?".
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.log import get_logger
from bot.sandbox.discord.event_checks import event_checks
from bot.sandbox.discord.gateway import Gateway, GatewayStats
from bot.sandbox.discord.rest import Handler, RestApi, json_response
from bot.sandbox.discord.state import (
    GUILD_TEXT,
    JSON,
    MEMBER_OVERWRITE,
    PRIVILEGED_INTENTS,
    ROLE_OVERWRITE,
    Channel,
    DiscordError,
    Guild,
    Member,
    Message,
    Overwrite,
    PrivilegedIntent,
    Role,
    SimState,
    User,
    bot_token,
    channel_payload,
    role_payload,
)
from bot.sandbox.discord.waiting import Waiters
from bot.sandbox.openapi import ApiCheck

log = get_logger(__name__)

API_PREFIX = "/api/v10"

# Default error bodies for injected faults, with Discord's JSON error codes.
_FAULT_ERRORS = {
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (0, "404: Not Found"),
    500: (0, "500: Internal Server Error"),
    502: (0, "502: Bad Gateway"),
    503: (0, "503: Service Unavailable"),
}


@dataclass
class Fault:
    """Answer the next ``remaining`` requests matching ``method`` and ``pattern`` with an error."""

    method: str
    pattern: str
    status: int
    remaining: int
    code: int
    message: str
    retry_after: float
    is_global: bool

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.pattern)


@dataclass
class RecordedRequest:
    method: str
    path: str  # under /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    status: int = 0


class DiscordSimulator:
    """Discord API v10 on 127.0.0.1 for one bot; use as ``async with DiscordSimulator() as sim``."""

    def __init__(
        self, clock: Clock | None = None, *, token: str | None = None, bot_name: str = "Helios"
    ) -> None:
        self.clock = clock or SystemClock()
        self.state = SimState(self.clock, bot_name=bot_name, token=token)
        self.waiters = Waiters()
        self.gateway = Gateway(self.state, self.waiters, lambda: self.resume_gateway_url)
        # Every REST call and gateway event checked against Discord's OpenAPI description,
        # when it is installed.
        self.api = ApiCheck("discord", prefix=API_PREFIX)
        self.gateway.on_dispatch = event_checks(self.api)
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[tuple[str, str]] = []  # (method, path) of unimplemented routes
        self.faults: list[Fault] = []
        self._rest = RestApi(
            self.state, self.gateway, self.waiters, lambda: self.url, lambda: self.gateway_url
        )
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # lifecycle

    async def start(self) -> None:
        app = web.Application(
            middlewares=[self.api.middleware, self._middleware], client_max_size=32 * 1024 * 1024
        )
        for method, path, handler in self._rest.routes():
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._attachment)
        # A bot still connected at stop() must not hold the shutdown for aiohttp's default 60 s.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])  # port 0: the OS picked a free one
        log.info("discord simulator listening", extra={"url": self.url})

    async def stop(self) -> None:
        if self._runner is not None:
            await self.gateway.close()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The HTTP root, e.g. ``http://127.0.0.1:43117``."""
        if self._port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway-resume"

    # world building (before or while the bot runs; these do not notify the bot)

    @property
    def token(self) -> str:
        """The bot token discord.py must log in with; shaped like Discord's, so its first part
        is the bot's user id in base64."""
        return self.state.token

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def bot_user(self) -> User:
        return self.state.bot

    # ``id`` picks the snowflake (an organiser's configured id); by default a new one.

    def add_guild(
        self, name: str = "Helios Community", *, id: int | None = None, bot_permissions: int = 0
    ) -> Guild:
        """A guild the bot is in, its own role holding ``bot_permissions`` (what its invite
        link asked for), just above @everyone: drag it up with :meth:`move_role`."""
        return self.state.add_guild(name, id=id, bot_permissions=bot_permissions)

    def add_role(
        self, guild: Guild, name: str, *, permissions: int = 0, id: int | None = None
    ) -> Role:
        return self.state.add_role(guild, name, permissions=permissions, id=id)

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = GUILD_TEXT,
        topic: str | None = None,
        id: int | None = None,
    ) -> Channel:
        return self.state.add_channel(guild, name, type=type, topic=topic, id=id)

    def move_role(self, guild: Guild, role: Role, position: int) -> None:
        """Drag ``role`` to ``position`` in Server Settings > Roles (1: just above @everyone;
        the others shift); do it before the bot connects."""
        self.state.move_role(guild, role, position)

    def set_permissions(
        self, channel: Channel, target: Role | Member, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Give ``channel`` a permission overwrite for a role (the guild's id: @everyone) or a
        member, replacing any earlier one for it; set it before the bot connects."""
        kind = MEMBER_OVERWRITE if isinstance(target, Member) else ROLE_OVERWRITE
        channel.overwrites = [
            o for o in channel.overwrites if (o.type, o.id) != (kind, target.id)
        ] + [Overwrite(target.id, kind, allow, deny)]

    def add_member(self, guild: Guild, username: str, *, roles: list[Role] | None = None) -> Member:
        user = self.state.add_user(username)
        return self.state.add_member(guild, user, role_ids=[r.id for r in roles or []])

    def close_dms(self, user: User | Member) -> None:
        """The user stops accepting DMs from the bot: sending answers 403 code 50007."""
        self.state.closed_dms.add(user.id)

    def dm_channel(self, user: User | Member) -> Channel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        return self.state.dm_channel(user.user if isinstance(user, Member) else user)

    # the application's settings in the Developer Portal

    def set_privileged_intent(self, intent: PrivilegedIntent, enabled: bool) -> None:
        """Switch an intent under Bot > Privileged Gateway Intents (members and message content
        start on): an IDENTIFY asking for an intent that is off is closed with 4014."""
        flag = PRIVILEGED_INTENTS[intent][1]
        if enabled:
            self.state.application_flags |= flag
        else:
            self.state.application_flags &= ~flag

    def reset_token(self) -> str:
        """Bot > Reset Token: returns the new token. The old one is refused from now on (REST
        answers 401, IDENTIFY and RESUME are closed with 4004); a live connection stays up
        until it next identifies or resumes."""
        self.state.token = bot_token(self.state.bot.id)
        return self.state.token

    # live changes: like the builders above, and the bot is told over the gateway

    async def create_channel(self, guild: Guild, name: str, *, topic: str | None = None) -> Channel:
        channel = self.state.add_channel(guild, name, topic=topic)
        await self.gateway.dispatch("CHANNEL_CREATE", channel_payload(self.state, channel))
        return channel

    async def create_role(self, guild: Guild, name: str, *, permissions: int = 0) -> Role:
        role = self.state.add_role(guild, name, permissions=permissions)
        data = {"guild_id": str(guild.id), "role": role_payload(role)}
        await self.gateway.dispatch("GUILD_ROLE_CREATE", data)
        return role

    # observation

    def visible_messages(self, who: User | Member, channel: Channel | None = None) -> list[Message]:
        """What ``who`` sees, oldest first: channel messages, their own ephemerals, their DMs."""
        return self.state.visible_messages(who.id, channel.id if channel else None)

    def dm_messages(self, who: User | Member) -> list[Message]:
        """The bot's DM conversation with ``who``, oldest first."""
        channel_id = self.state.dm_channels.get(who.id)
        return [] if channel_id is None else self.state.visible_messages(who.id, channel_id)

    def messages_in(self, channel: Channel) -> list[Message]:
        """Non-ephemeral, undeleted messages in ``channel``, oldest first."""
        return [
            m
            for m in self.state.visible_messages(self.state.bot.id, channel.id)
            if m.visible_to is None
        ]

    def commands(self, guild: Guild | None = None) -> dict[str, JSON]:
        """Synced application commands by name (global ones, or those of ``guild``)."""
        guild_id = guild.id if guild else None
        return {c.name: c.data for c in self.state.commands.values() if c.guild_id == guild_id}

    @property
    def gateway_stats(self) -> GatewayStats:
        return self.gateway.stats

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose path under /api/v10 matches the glob ``pattern``."""
        return [
            r for r in self.requests if r.method == method and fnmatch.fnmatchcase(r.path, pattern)
        ]

    async def wait_until(
        self, predicate: Callable[[], bool], *, within: float = 5.0, what: str = "a condition"
    ) -> None:
        """Return once ``predicate()`` holds; it is re-checked after every request and event."""
        await self.waiters.wait_until(predicate, within, what)

    async def wait_until_connected(self, within: float = 5.0) -> None:
        await self.wait_until(
            lambda: self.gateway.connected,
            within=within,
            what="the bot to connect to the gateway",
        )

    async def sync_with_bot(self, within: float = 5.0) -> None:
        """Return once the bot has parsed every gateway event sent so far, so its discord.py
        cache (members, roles, channels, threads) reflects them. Its ``on_*`` listeners are
        separate tasks and may still be running."""
        target = await self.gateway.request_heartbeat()
        await self.wait_until(
            lambda: self.gateway.stats.last_heartbeat_seq >= target,
            within=within,
            what="the bot to catch up with the gateway",
        )

    # fault injection

    def fail_next(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        times: int = 1,
        code: int | None = None,
        message: str | None = None,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> Fault:
        """Answer the next ``times`` requests ``method`` (or ``*``) on paths under /api/v10
        matching the glob ``pattern`` (``*`` spans ``/``) with ``status``.

        429 carries ``retry_after``/``global`` in the body and the X-RateLimit-* headers.
        """
        default_code, default_message = _FAULT_ERRORS.get(status, (0, f"{status}: Error"))
        if status == 429:
            default_message = "You are being rate limited."
        fault = Fault(
            method=method.upper(),
            pattern=pattern,
            status=status,
            remaining=times,
            code=default_code if code is None else code,
            message=message or default_message,
            retry_after=retry_after,
            is_global=is_global,
        )
        self.faults.append(fault)
        return fault

    async def drop_gateway(self) -> None:
        """Cut the bot's websocket without a close frame; discord.py reconnects and RESUMEs."""
        await self.gateway.drop()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and RESUMEs."""
        await self.gateway.send_reconnect()

    async def send_invalid_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; when not resumable the bot has to IDENTIFY again."""
        await self.gateway.send_invalid_session(resumable)

    # HTTP plumbing

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        body: dict[str, Any] = {"message": fault.message, "code": fault.code}
        headers: dict[str, str] = {}
        if fault.status == 429:
            body.update(retry_after=fault.retry_after, **{"global": fault.is_global})
            headers = {
                "Retry-After": str(math.ceil(fault.retry_after)),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": "sandbox",
                "X-RateLimit-Scope": "global" if fault.is_global else "user",
                # discord.py treats a 429 without Via as a Cloudflare ban rather than a limit.
                "Via": "1.1 google",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
        return json_response(body, status=fault.status, headers=headers)

    def _authorized(self, path: str, request: web.Request) -> bool:
        # Interaction callbacks and webhook calls are authorised by the token in their path.
        if path.startswith(("/webhooks/", "/interactions/")):
            return True
        return request.headers.get("Authorization") == f"Bot {self.state.token}"

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        record = RecordedRequest(request.method, path, dict(request.query))
        self.requests.append(record)
        response = await self._answer(request, path, handler)
        record.status = response.status
        self.waiters.notify()
        return response

    async def _answer(
        self,
        request: web.Request,
        path: str,
        handler: Handler,
    ) -> web.StreamResponse:
        fault = self._take_fault(request.method, path)
        if fault is not None:
            log.debug("injected fault", extra={"path": path, "status": fault.status})
            return self._fault_response(fault)
        if not self._authorized(path, request):
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        try:
            return await handler(request)
        except DiscordError as error:
            return json_response({"message": error.message, "code": error.code}, error.status)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            self.unhandled.append((request.method, path))
            log.warning(
                "unimplemented Discord route", extra={"method": request.method, "path": path}
            )
            return json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def _attachment(self, request: web.Request) -> web.Response:
        for message in self.state.messages.values():
            for attachment in message.attachments:
                if str(attachment.id) == request.match_info["attachment"]:
                    return web.Response(
                        body=attachment.data, headers={"Content-Type": attachment.content_type}
                    )
        raise web.HTTPNotFound()
