# SPDX-License-Identifier: Apache-2.0
"""REST handlers for the part of Discord API v10 a discord.py bot uses.

Handlers change :class:`SimState`, dispatch the matching gateway events and answer with
Discord's object shapes. Errors are raised as :class:`DiscordError` and rendered by the server.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import BodyPartReader, web

from bot.log import get_logger
from bot.sandbox.discord.gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    Gateway,
)
from bot.sandbox.discord.state import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHAT_INPUT_COMMAND,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DEFAULT_MESSAGE,
    DM,
    EPHEMERAL,
    GUILD_TEXT,
    JSON,
    LOADING,
    MANAGE_ROLES,
    MANAGE_THREADS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    AppCommand,
    Attachment,
    Channel,
    DiscordError,
    Interaction,
    Message,
    Modal,
    SimState,
    channel_payload,
    guild_payload,
    member_payload,
    message_payload,
    private_user_payload,
    role_payload,
    stored_components,
    user_payload,
)
from bot.sandbox.discord.waiting import Waiters
from bot.sandbox.openapi import SENT_JSON

log = get_logger(__name__)

NONCE_WINDOW = timedelta(minutes=5)  # how long Discord remembers an enforced nonce

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Interaction callback types
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # discord.py only decodes bodies whose content type is exactly "application/json".
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def invalid_form(detail: str) -> DiscordError:
    return DiscordError(400, 50035, f"Invalid Form Body: {detail}")


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Body:
    """A request body: the JSON (or ``payload_json``) part and any uploaded files, in order."""

    json: Any
    files: dict[int, UploadedFile] = field(default_factory=dict)


async def read_body(request: web.Request) -> Body:
    if request.content_type == "multipart/form-data":
        body = Body(json={})
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.name == "payload_json":
                body.json = json.loads(await part.text())
                request[SENT_JSON] = body.json  # the API check cannot read the body again
            elif part.name.startswith("files[") and part.name.endswith("]"):
                index = int(part.name[len("files[") : -1])
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                body.files[index] = UploadedFile(
                    part.filename or f"file{index}", content_type, bytes(await part.read())
                )
        return body
    raw = await request.read()
    if not raw:
        return Body(json={})
    try:
        return Body(json=json.loads(raw))
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None


def _snowflake(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DiscordError(404, 10014, "Unknown snowflake") from None


class RestApi:
    def __init__(
        self,
        state: SimState,
        gateway: Gateway,
        waiters: Waiters,
        base_url: Callable[[], str],
        gateway_url: Callable[[], str],
    ) -> None:
        self._state = state
        self._gateway = gateway
        self._waiters = waiters
        self._base_url = base_url
        self._gateway_url = gateway_url

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path under /api/v10, handler); literal paths come before templated ones."""
        return [
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/{app}/commands", self.get_commands),
            ("PUT", "/applications/{app}/commands", self.put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self.get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self.put_commands),
            ("POST", "/interactions/{interaction}/{token}/callback", self.interaction_callback),
            ("POST", "/webhooks/{app}/{token}", self.execute_webhook),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self.edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self.delete_webhook_message),
            ("GET", "/channels/{channel}", self.get_channel),
            ("PATCH", "/channels/{channel}", self.modify_channel),
            ("GET", "/channels/{channel}/messages", self.list_messages),
            ("POST", "/channels/{channel}/messages", self.create_message),
            ("GET", "/channels/{channel}/messages/{message}", self.get_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self.edit_message),
            ("DELETE", "/channels/{channel}/messages/{message}", self.delete_message),
            ("POST", "/channels/{channel}/threads", self.create_thread),
            ("POST", "/channels/{channel}/messages/{message}/threads", self.thread_from_message),
            ("PUT", "/channels/{channel}/thread-members/{user}", self.add_thread_member),
            ("DELETE", "/channels/{channel}/thread-members/{user}", self.remove_thread_member),
            ("GET", "/guilds/{guild}", self.get_guild),
            ("GET", "/guilds/{guild}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild}/roles", self.get_roles),
            ("GET", "/guilds/{guild}/members", self.list_members),
            ("GET", "/guilds/{guild}/members/{user}", self.get_member),
            ("PUT", "/guilds/{guild}/members/{user}/roles/{role}", self.add_role),
            ("DELETE", "/guilds/{guild}/members/{user}/roles/{role}", self.remove_role),
        ]

    # identity

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self._gateway_url()})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return json_response(
            {"url": self._gateway_url(), "shards": 1, "session_start_limit": limit}
        )

    async def get_me(self, request: web.Request) -> web.Response:
        return json_response(private_user_payload(self._state.bot))

    async def get_user(self, request: web.Request) -> web.Response:
        user = self._state.user(_snowflake(request.match_info["user_id"]))
        return json_response(user_payload(user))

    async def get_application(self, request: web.Request) -> web.Response:
        state = self._state
        return json_response(
            {
                "id": str(state.application_id),
                "name": state.bot.username,
                "icon": None,
                "description": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": user_payload(state.bot),
                "owner": user_payload(state.owner),
                "team": None,
                "verify_key": "0" * 64,
                "flags": state.application_flags,
                "flags_new": str(state.application_flags),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(state.guilds),
                "approximate_user_install_count": 0,
                "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0,
                "eligible_oauth2_scopes": ["bot", "applications.commands"],
            }
        )

    # application commands

    def _check_app(self, request: web.Request) -> None:
        if _snowflake(request.match_info["app"]) != self._state.application_id:
            raise DiscordError(403, 50001, "Missing Access")

    def _command_scope(self, request: web.Request) -> int | None:
        self._check_app(request)
        guild = request.match_info.get("guild")
        return None if guild is None else self._state.guild(_snowflake(guild)).id

    def _command_payload(self, command: AppCommand) -> JSON:
        payload: JSON = {
            "type": 1,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            **command.data,
            # Discord fills in what the bot left out (discord.py sends null).
            "integration_types": command.data.get("integration_types") or [0],
            "id": str(command.id),
            "application_id": str(command.application_id),
            "version": str(command.version),
        }
        if command.guild_id is not None:
            payload["guild_id"] = str(command.guild_id)
        return payload

    async def get_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        commands = [c for c in self._state.commands.values() if c.guild_id == scope]
        return json_response([self._command_payload(c) for c in commands])

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = await read_body(request)
        if not isinstance(body.json, list):
            raise invalid_form("expected an array of commands")
        state = self._state
        existing = {
            (c.name, c.data.get("type", 1)): c
            for c in state.commands.values()
            if c.guild_id == scope
        }
        for command in existing.values():
            del state.commands[command.id]
        for data in body.json:
            if not data.get("name"):
                raise invalid_form("command name is required")
            # Discord keeps a command's id when a bulk overwrite keeps its name and type.
            old = existing.get((data["name"], data.get("type", 1)))
            command = AppCommand(
                id=old.id if old else state.ids.next(),
                application_id=state.application_id,
                guild_id=scope,
                version=state.ids.next(),
                data=data,
            )
            state.commands[command.id] = command
        self._waiters.notify()
        commands = [c for c in state.commands.values() if c.guild_id == scope]
        return json_response([self._command_payload(c) for c in commands])

    # messages: shared by channel messages, interaction responses and webhooks

    def _apply_message(self, message: Message, data: JSON, files: dict[int, UploadedFile]) -> None:
        if "content" in data:
            message.content = data["content"] or ""
        if "embeds" in data:
            message.embeds = [{"type": "rich", **e} for e in data["embeds"] or []]
        if "components" in data:
            message.components = stored_components(data["components"] or [])
        if "allowed_mentions" in data:
            message.allowed_mentions = data["allowed_mentions"]
        if "attachments" in data or files:
            message.attachments = self._attachments(message, data.get("attachments"), files)

    def _attachments(
        self, message: Message, wanted: list[JSON] | None, files: dict[int, UploadedFile]
    ) -> list[Attachment]:
        kept = {a.id: a for a in message.attachments}
        result: list[Attachment] = []
        if wanted is None:  # files without an attachments list are all new uploads
            wanted = [{"id": index} for index in sorted(files)]
            result = list(message.attachments)
        for entry in wanted:
            key = int(entry["id"])
            if key in kept:
                result.append(kept[key])
                continue
            if key not in files:
                raise invalid_form(f"attachment {key} has no uploaded file")
            upload = files[key]
            attachment_id = self._state.ids.next()
            filename = entry.get("filename") or upload.filename
            url = f"{self._base_url()}/attachments/{message.channel_id}/{attachment_id}/{filename}"
            result.append(
                Attachment(
                    id=attachment_id,
                    filename=filename,
                    data=upload.data,
                    content_type=upload.content_type,
                    url=url,
                    description=entry.get("description"),
                )
            )
        return result

    def _new_message(
        self, channel: Channel, data: JSON, files: dict[int, UploadedFile], **fields: Any
    ) -> Message:
        message = self._state.add_message(channel, self._state.bot, **fields)
        self._apply_message(message, data, files)
        if not (
            message.loading
            or message.content
            or message.embeds
            or message.attachments
            or message.components
        ):
            del self._state.messages[message.id]
            raise DiscordError(400, 50006, "Cannot send an empty message")
        return message

    async def _announce(self, event: str, message: Message) -> None:
        """Tell the bot about a message change, unless only one user can see it (ephemeral)."""
        if message.visible_to is not None:
            return
        intent = INTENT_DIRECT_MESSAGES if message.guild_id is None else INTENT_GUILD_MESSAGES
        if event == "MESSAGE_DELETE":
            data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
        else:
            data = message_payload(self._state, message, gateway=True)
        await self._gateway.dispatch(event, data, intent=intent)

    async def _edit(self, message: Message, body: Body) -> None:
        self._apply_message(message, body.json, body.files)
        message.flags &= ~LOADING
        message.edited_at = self._state.clock.now()
        await self._announce("MESSAGE_UPDATE", message)

    # interactions

    def _interaction_message(
        self,
        interaction: Interaction,
        data: JSON,
        files: dict[int, UploadedFile],
        *,
        loading: bool = False,
    ) -> Message:
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        kind = CHAT_INPUT_COMMAND if interaction.type == APPLICATION_COMMAND else DEFAULT_MESSAGE
        return self._new_message(
            self._state.channels[interaction.channel_id],
            data,
            files,
            flags=(EPHEMERAL if ephemeral else 0) | (LOADING if loading else 0),
            type=kind,
            webhook_id=self._state.application_id,
            interaction_id=interaction.id,
            visible_to=interaction.user_id if ephemeral else None,
        )

    async def interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._state.interactions.get(_snowflake(request.match_info["interaction"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = await read_body(request)
        kind = int(body.json.get("type", 0))
        data: JSON = body.json.get("data") or {}
        message: Message | None = None
        if kind == CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._interaction_message(interaction, data, body.files)
            await self._announce("MESSAGE_CREATE", message)
        elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            message = self._interaction_message(interaction, data, body.files, loading=True)
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if interaction.message_id is None:
                raise invalid_form("only component interactions can update a message")
            message = self._state.messages[interaction.message_id]
            if kind == UPDATE_MESSAGE:
                await self._edit(message, Body(data, body.files))
        elif kind == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            if interaction.type != AUTOCOMPLETE:
                raise invalid_form("autocomplete results answer autocomplete interactions only")
            interaction.choices = list(data.get("choices") or [])
        elif kind == MODAL:
            interaction.modal = Modal(
                interaction_id=interaction.id,
                user_id=interaction.user_id,
                channel_id=interaction.channel_id,
                custom_id=data["custom_id"],
                title=data["title"],
                components=data["components"],
            )
        elif kind != PONG:
            raise invalid_form(f"unknown interaction callback type {kind}")
        interaction.response_type = kind
        interaction.original_message_id = message.id if message else None
        self._waiters.notify()
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return no_content()
        callback: JSON = {"id": str(interaction.id), "type": interaction.type}
        answer: JSON = {"interaction": callback}
        if message is not None:
            callback.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
        if message is not None and kind in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
            # Only a sent or updated message is a resource; a deferral creates none yet.
            answer["resource"] = {"type": kind, "message": message_payload(self._state, message)}
        return json_response(answer)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        if _snowflake(request.match_info["app"]) != self._state.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        interaction = self._state.interaction_by_token(request.match_info["token"])
        if interaction.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")  # not acknowledged yet
        return interaction

    def _webhook_message(self, request: web.Request) -> tuple[Interaction, Message]:
        interaction = self._webhook_interaction(request)
        key = request.match_info["message"]
        message_id = interaction.original_message_id if key == "@original" else _snowflake(key)
        if message_id is None or (
            message_id != interaction.original_message_id
            and message_id not in interaction.followup_ids
        ):
            raise DiscordError(404, 10008, "Unknown Message")
        message = self._state.messages[message_id]
        if message.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return interaction, message

    async def execute_webhook(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body = await read_body(request)
        original = (
            self._state.messages.get(interaction.original_message_id)
            if interaction.original_message_id
            else None
        )
        if original is not None and original.loading:
            # After a deferred reply the first follow-up fills in the "thinking" message.
            message = original
            await self._edit(message, body)
            interaction.original_edits += 1
            await self._announce("MESSAGE_CREATE", message)
        else:
            message = self._interaction_message(interaction, body.json, body.files)
            interaction.followup_ids.append(message.id)
            await self._announce("MESSAGE_CREATE", message)
        self._waiters.notify()
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(message_payload(self._state, message))
        return no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        return json_response(message_payload(self._state, message))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction, message = self._webhook_message(request)
        was_loading = message.loading
        await self._edit(message, await read_body(request))
        if message.id == interaction.original_message_id:
            interaction.original_edits += 1
        if was_loading:
            await self._announce("MESSAGE_CREATE", message)
        self._waiters.notify()
        return json_response(message_payload(self._state, message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        message.deleted = True
        await self._announce("MESSAGE_DELETE", message)
        self._waiters.notify()
        return no_content()

    # channels and messages

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._state.channel(_snowflake(request.match_info["channel"]))
        self._state.require(self._state.bot.id, channel, VIEW_CHANNEL)
        return json_response(channel_payload(self._state, channel))

    async def modify_channel(self, request: web.Request) -> web.Response:
        """Rename a channel or change its topic; archive, lock or rename a thread."""
        channel = self._state.channel(_snowflake(request.match_info["channel"]))
        if channel.guild_id is None:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        body = (await read_body(request)).json
        if channel.is_thread:
            # Reopening a thread that is not locked takes what sending in it does; any other
            # change (archiving, locking, renaming) takes Manage Threads.
            reopening = (
                body.get("archived") is False
                and not body.get("locked")
                and not channel.locked
                and set(body) <= {"archived", "locked"}
            )
            needed = SEND_MESSAGES_IN_THREADS if reopening else MANAGE_THREADS
            self._state.require(self._state.bot.id, channel, needed)
        if "name" in body:
            if not 1 <= len(str(body["name"] or "")) <= 100:
                raise invalid_form("a channel name has 1 to 100 characters")
            channel.name = str(body["name"])
        if channel.is_thread:
            if "locked" in body:
                channel.locked = bool(body["locked"])
            if "archived" in body and bool(body["archived"]) != channel.archived:
                channel.archived = bool(body["archived"])
                channel.archived_at = self._state.clock.now()
            if "invitable" in body:
                channel.invitable = bool(body["invitable"])
        elif "topic" in body:
            channel.topic = body["topic"]
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        await self._gateway.dispatch(event, channel_payload(self._state, channel))
        self._waiters.notify()
        return json_response(channel_payload(self._state, channel))

    def _channel_message(self, request: web.Request) -> Message:
        return self._state.message(
            _snowflake(request.match_info["channel"]), _snowflake(request.match_info["message"])
        )

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._state.channel(_snowflake(request.match_info["channel"]))
        limit = min(int(request.query.get("limit", "50")), 100)
        before = int(request.query.get("before", str(1 << 63)))
        after = int(request.query.get("after", "0"))
        messages = [
            m
            for m in self._state.visible_messages(self._state.bot.id, channel.id)
            if after < m.id < before
        ]
        messages.reverse()  # newest first, as Discord returns them
        return json_response([message_payload(self._state, m) for m in messages[:limit]])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._state.channel(_snowflake(request.match_info["channel"]))
        if channel.type == DM and set(channel.recipient_ids) & self._state.closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        # Sending in a thread is its own permission: Send Messages is not inherited there.
        sending = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        self._state.require(self._state.bot.id, channel, sending)
        if channel.archived and channel.locked:
            raise DiscordError(400, 50083, "Thread is archived")
        if channel.archived:  # a message in an archived thread that is not locked reopens it
            channel.archived, channel.archived_at = False, self._state.clock.now()
            await self._gateway.dispatch("THREAD_UPDATE", channel_payload(self._state, channel))
        body = await read_body(request)
        nonce = body.json.get("nonce")
        if nonce is not None and body.json.get("enforce_nonce"):
            # Discord answers a repeated nonce from the same author, within a few minutes,
            # with the message already created rather than a second one.
            since = self._state.clock.now() - NONCE_WINDOW
            for earlier in self._state.visible_messages(self._state.bot.id, channel.id):
                if earlier.nonce == nonce and earlier.timestamp >= since and not earlier.deleted:
                    return json_response(message_payload(self._state, earlier))
        message = self._new_message(channel, body.json, body.files, nonce=nonce)
        await self._announce("MESSAGE_CREATE", message)
        self._waiters.notify()
        return json_response(message_payload(self._state, message))

    async def get_message(self, request: web.Request) -> web.Response:
        return json_response(message_payload(self._state, self._channel_message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.author.id != self._state.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        await self._edit(message, await read_body(request))
        self._waiters.notify()
        return json_response(message_payload(self._state, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        message.deleted = True
        await self._announce("MESSAGE_DELETE", message)
        self._waiters.notify()
        return no_content()

    # threads

    async def _announce_thread(self, thread: Channel) -> None:
        data = {**channel_payload(self._state, thread), "newly_created": True}
        await self._gateway.dispatch("THREAD_CREATE", data)
        self._waiters.notify()

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = self._state.channel(_snowflake(request.match_info["channel"]))
        body = await read_body(request)
        # In API v9+ a thread created without a message defaults to private.
        kind = int(body.json.get("type") or PRIVATE_THREAD)
        if kind not in (PUBLIC_THREAD, PRIVATE_THREAD) or not body.json.get("name"):
            raise invalid_form("a thread needs a name and a thread type")
        if parent.type != GUILD_TEXT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        creating = CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        self._state.require(self._state.bot.id, parent, creating)
        thread = self._state.add_thread(parent, body.json["name"], type=kind, owner=self._state.bot)
        thread.invitable = bool(body.json.get("invitable", True))
        thread.auto_archive_duration = int(body.json.get("auto_archive_duration") or 1440)
        await self._announce_thread(thread)
        return json_response(channel_payload(self._state, thread), status=201)

    async def thread_from_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.id in self._state.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        body = await read_body(request)
        if not body.json.get("name"):
            raise invalid_form("a thread needs a name")
        parent = self._state.channels[message.channel_id]
        # A thread started from a message takes the message's id.
        thread = self._state.add_thread(
            parent,
            body.json["name"],
            type=PUBLIC_THREAD,
            owner=self._state.bot,
            thread_id=message.id,
        )
        await self._announce_thread(thread)
        return json_response(channel_payload(self._state, thread), status=201)

    def _thread_and_user(self, request: web.Request) -> tuple[Channel, int]:
        thread = self._state.channel(_snowflake(request.match_info["channel"]))
        if not thread.is_thread or thread.guild_id is None:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        raw = request.match_info["user"]
        user_id = self._state.bot.id if raw == "@me" else _snowflake(raw)
        self._state.member(thread.guild_id, user_id)
        return thread, user_id

    async def _thread_members_update(
        self, thread: Channel, added: int | None, removed: int | None
    ) -> None:
        assert thread.guild_id is not None
        data: JSON = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": len(thread.thread_member_ids),
        }
        if added is not None:
            member = self._state.member(thread.guild_id, added)
            data["added_members"] = [
                {
                    "id": str(thread.id),
                    "user_id": str(added),
                    "flags": 0,
                    "join_timestamp": self._state.clock.now().isoformat(),
                    "member": member_payload(member),
                }
            ]
        if removed is not None:
            data["removed_member_ids"] = [str(removed)]
        await self._gateway.dispatch("THREAD_MEMBERS_UPDATE", data)
        self._waiters.notify()

    async def add_thread_member(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_and_user(request)
        self._state.require(self._state.bot.id, thread, SEND_MESSAGES_IN_THREADS)
        if user_id not in thread.thread_member_ids:
            thread.thread_member_ids.append(user_id)
            await self._thread_members_update(thread, added=user_id, removed=None)
        return no_content()

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        thread, user_id = self._thread_and_user(request)
        if user_id in thread.thread_member_ids:
            thread.thread_member_ids.remove(user_id)
            await self._thread_members_update(thread, added=None, removed=user_id)
        return no_content()

    async def create_dm(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        user = self._state.user(_snowflake(str(body.json.get("recipient_id", ""))))
        return json_response(channel_payload(self._state, self._state.dm_channel(user)))

    # guilds, members and roles

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_snowflake(request.match_info["guild"]))
        payload = guild_payload(self._state, guild, gateway=False)
        if request.query.get("with_counts", "").lower() in ("1", "true"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return json_response(payload)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_snowflake(request.match_info["guild"]))
        channels = [self._state.channels[c] for c in guild.channel_ids]
        return json_response([channel_payload(self._state, c) for c in channels if not c.is_thread])

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_snowflake(request.match_info["guild"]))
        return json_response([role_payload(r) for r in guild.roles.values()])

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_snowflake(request.match_info["guild"]))
        limit = min(int(request.query.get("limit", "1")), 1000)
        after = int(request.query.get("after", "0"))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([member_payload(m) for m in members[:limit]])

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._state.member(
            _snowflake(request.match_info["guild"]), _snowflake(request.match_info["user"])
        )
        return json_response(member_payload(member))

    async def _change_role(self, request: web.Request, add: bool) -> web.Response:
        guild_id = _snowflake(request.match_info["guild"])
        member = self._state.member(guild_id, _snowflake(request.match_info["user"]))
        role = self._state.role(guild_id, _snowflake(request.match_info["role"]))
        if role.id == guild_id:
            raise invalid_form("the @everyone role cannot be added or removed")
        # Manage Roles reaches only roles below the bot's highest one ("Permission Hierarchy").
        bot = self._state.member(guild_id, self._state.bot.id)
        if not self._state.permissions(bot) & MANAGE_ROLES or (
            role.position >= self._state.top_position(bot)
        ):
            raise DiscordError(403, 50013, "Missing Permissions")
        changed = (role.id not in member.role_ids) if add else (role.id in member.role_ids)
        if changed:
            if add:
                member.role_ids.append(role.id)
            else:
                member.role_ids.remove(role.id)
            data = {**member_payload(member), "guild_id": str(guild_id)}
            await self._gateway.dispatch("GUILD_MEMBER_UPDATE", data)
            self._waiters.notify()
        return no_content()

    async def add_role(self, request: web.Request) -> web.Response:
        return await self._change_role(request, add=True)

    async def remove_role(self, request: web.Request) -> web.Response:
        return await self._change_role(request, add=False)
