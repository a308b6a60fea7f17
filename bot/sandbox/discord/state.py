# SPDX-License-Identifier: Apache-2.0
"""The simulated Discord world: users, guilds, roles, channels, threads, messages, interactions.

Objects here are plain dataclasses; ``*_payload`` functions turn them into the JSON shapes of
Discord API v10 (the same shapes serve REST responses and gateway events).
"""

from __future__ import annotations

import base64
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.clock import Clock

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)

# Component types of select menus (string, user, role, mentionable, channel)
SELECT_TYPES = (3, 5, 6, 7, 8)

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Message types
DEFAULT_MESSAGE = 0
CHAT_INPUT_COMMAND = 20

# Permissions (docs/topics/permissions in Discord's API docs)
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_ROLES = 1 << 28
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

# Permission overwrite targets
ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1

# Application flags that allow a privileged intent (its switch in the Developer Portal is on).
GATEWAY_PRESENCE = 1 << 12
GATEWAY_GUILD_MEMBERS = 1 << 14
GATEWAY_MESSAGE_CONTENT = 1 << 18

# The privileged gateway intents, the switches under Bot > Privileged Gateway Intents in the
# Developer Portal: each one's intent bit, and the application flag that allows it.
PrivilegedIntent = Literal["presences", "members", "message_content"]
PRIVILEGED_INTENTS: dict[PrivilegedIntent, tuple[int, int]] = {
    "presences": (1 << 8, GATEWAY_PRESENCE),
    "members": (1 << 1, GATEWAY_GUILD_MEMBERS),
    "message_content": (1 << 15, GATEWAY_MESSAGE_CONTENT),
}


class DiscordError(Exception):
    """An API error with Discord's HTTP status and JSON error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def iso(moment: datetime) -> str:
    return moment.isoformat()


def bot_token(user_id: int) -> str:
    """A new token shaped like Discord's: the bot's user id in base64, then a timestamp part
    and an HMAC part (random here)."""
    head = base64.b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"


class Snowflakes:
    """Snowflake ids whose timestamp part comes from the simulator's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        millis = int(self._clock.now().timestamp() * 1000) - DISCORD_EPOCH_MS
        candidate = millis << 22
        # A ManualClock can stand still, so bump the low bits to keep ids unique and ordered.
        self._last = max(candidate, self._last + 1)
        return self._last


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0


@dataclass
class Member:
    user: User
    guild_id: int
    joined_at: datetime
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class Overwrite:
    """A channel's permission overwrite for a role or a member (Discord's shape)."""

    id: int
    type: int  # ROLE_OVERWRITE or MEMBER_OVERWRITE
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    id: int
    type: int
    name: str | None
    created_at: datetime
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    recipient_ids: list[int] = field(default_factory=list)  # DMs
    owner_id: int | None = None  # threads
    thread_member_ids: list[int] = field(default_factory=list)
    overwrites: list[Overwrite] = field(default_factory=list)  # not threads: the parent's apply
    invitable: bool = True
    archived: bool = False
    archived_at: datetime | None = None
    locked: bool = False  # archived and only reopened by those who may manage threads
    auto_archive_duration: int = 1440
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    created_at: datetime
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    bot_role_id: int = 0  # the role made for the bot when it was invited

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]  # the @everyone role shares the guild's id

    @property
    def bot_role(self) -> Role:
        return self.roles[self.bot_role_id]


@dataclass
class Attachment:
    id: int
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    timestamp: datetime
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = DEFAULT_MESSAGE
    edited_at: datetime | None = None
    webhook_id: int | None = None  # the application id, for interaction responses
    interaction_id: int | None = None
    visible_to: int | None = None  # the only user who sees an ephemeral message
    deleted: bool = False
    nonce: str | int | None = None
    allowed_mentions: JSON | None = None  # as the bot sent it, for tests: nobody is pinged here

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while the bot has deferred and not yet filled the message in ("thinking...")."""
        return bool(self.flags & LOADING)

    def iter_components(self) -> Iterator[JSON]:
        """Every component, depth first, including those inside action rows and containers."""
        return _walk_components(self.components)

    def find_component(
        self,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        placeholder: str | None = None,
        type: int | None = None,
    ) -> JSON:
        for component in self.iter_components():
            if type is not None and component.get("type") != type:
                continue
            if label is not None and component.get("label") != label:
                continue
            if custom_id is not None and component.get("custom_id") != custom_id:
                continue
            if placeholder is not None and component.get("placeholder") != placeholder:
                continue
            return component
        raise LookupError(
            f"message {self.id} has no component with label={label!r} custom_id={custom_id!r} "
            f"placeholder={placeholder!r}"
        )

    @property
    def button_labels(self) -> list[str]:
        return [c.get("label", "") for c in self.iter_components() if c.get("type") == 2]


def _walk_components(components: list[JSON]) -> Iterator[JSON]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components", []))
        if isinstance(component.get("component"), dict):
            yield from _walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from _walk_components([component["accessory"]])


def stored_components(components: list[JSON]) -> list[JSON]:
    """A message's components as Discord stores and returns them: null fields left out,
    selects with their value counts (and no ``required``, which only forms use), and each
    with an ``id``: those sent without one get the next numbers not taken, depth first."""
    stored: list[JSON] = [_without_nulls(c) for c in components]
    taken = {c["id"] for c in _walk_components(stored) if isinstance(c.get("id"), int)}
    number = 0
    for component in _walk_components(stored):
        if "id" not in component:
            number = next(n for n in itertools.count(number + 1) if n not in taken)
            component["id"] = number
        if component.get("type") in SELECT_TYPES:
            component.pop("required", None)
            component.setdefault("min_values", 1)
            component.setdefault("max_values", 1)
    return stored


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@dataclass
class Modal:
    """A modal the bot opened for one user, waiting to be submitted."""

    interaction_id: int
    user_id: int
    channel_id: int
    custom_id: str
    title: str
    components: list[JSON]

    @property
    def field_ids(self) -> list[str]:
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    guild_id: int | None
    data: JSON
    message_id: int | None = None  # the message a component was clicked on
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: Modal | None = None
    modal_opener_id: int | None = None  # a modal submit: the interaction that opened the modal
    choices: list[JSON] | None = None
    original_edits: int = 0


@dataclass
class AppCommand:
    id: int
    application_id: int
    guild_id: int | None
    version: int
    data: JSON

    @property
    def name(self) -> str:
        return str(self.data["name"])


class SimState:
    """Everything the simulated Discord knows, with lookups that raise Discord's errors."""

    def __init__(self, clock: Clock, *, bot_name: str, token: str | None = None) -> None:
        self.clock = clock
        self.ids = Snowflakes(clock)
        self.application_id = self.ids.next()
        self.bot = User(id=self.application_id, username=bot_name, bot=True)
        # The token discord.py must log in with, and the application's flags: the members
        # and message content intents start switched on.
        self.token = token or bot_token(self.bot.id)
        self.application_flags = GATEWAY_GUILD_MEMBERS | GATEWAY_MESSAGE_CONTENT
        self.owner = User(id=self.ids.next(), username="sandbox-owner")
        self.users: dict[int, User] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.commands: dict[int, AppCommand] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.closed_dms: set[int] = set()

    def disallowed_intents(self, intents: int) -> list[PrivilegedIntent]:
        """The privileged intents asked for in ``intents`` that the application may not use."""
        return [
            name
            for name, (intent, flag) in PRIVILEGED_INTENTS.items()
            if intents & intent and not self.application_flags & flag
        ]

    # lookups raising documented error codes

    def user(self, user_id: int) -> User:
        if user_id not in self.users:
            raise DiscordError(404, 10013, "Unknown User")
        return self.users[user_id]

    def guild(self, guild_id: int) -> Guild:
        if guild_id not in self.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        return self.guilds[guild_id]

    def channel(self, channel_id: int) -> Channel:
        if channel_id not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return self.channels[channel_id]

    def message(self, channel_id: int, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def member(self, guild_id: int, user_id: int) -> Member:
        guild = self.guild(guild_id)
        if user_id not in guild.members:
            raise DiscordError(404, 10007, "Unknown Member")
        return guild.members[user_id]

    def role(self, guild_id: int, role_id: int) -> Role:
        guild = self.guild(guild_id)
        if role_id not in guild.roles:
            raise DiscordError(404, 10011, "Unknown Role")
        return guild.roles[role_id]

    # world building

    def add_user(self, username: str, *, bot: bool = False) -> User:
        user = User(id=self.ids.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def _unused(self, wanted: int | None) -> int:
        """A new snowflake, or ``wanted`` (e.g. an id from an organiser's config) if free."""
        if wanted is None:
            return self.ids.next()
        taken = set(self.channels) | set(self.guilds) | set(self.users)
        taken.update(role_id for guild in self.guilds.values() for role_id in guild.roles)
        if wanted in taken:
            raise ValueError(f"id {wanted} is already in use")
        return wanted

    def add_guild(self, name: str, *, id: int | None = None, bot_permissions: int = 0) -> Guild:
        """A guild the bot was invited to with ``bot_permissions`` (the invite link's): they
        are its own role's, just above @everyone, so roles it should give must be below the
        position an organiser drags it to (:meth:`move_role`)."""
        guild_id = self._unused(id)
        guild = Guild(id=guild_id, name=name, owner_id=self.owner.id, created_at=self.clock.now())
        everyone = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use commands
        guild.roles[guild_id] = Role(
            id=guild_id, guild_id=guild_id, name="@everyone", permissions=everyone
        )
        self.guilds[guild_id] = guild
        bot_role = self.add_role(guild, self.bot.username, permissions=bot_permissions)
        guild.bot_role_id = bot_role.id
        self.add_member(guild, self.bot, role_ids=[bot_role.id])
        self.add_member(guild, self.owner)
        return guild

    def add_role(
        self, guild: Guild, name: str, *, permissions: int = 0, id: int | None = None
    ) -> Role:
        role = Role(
            id=self._unused(id),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
        )
        guild.roles[role.id] = role
        return role

    def move_role(self, guild: Guild, role: Role, position: int) -> None:
        """Drag ``role`` to ``position`` (1 is just above @everyone) in Server Settings >
        Roles; the others shift, and positions stay 1, 2, 3..."""
        others = sorted(
            (r for r in guild.roles.values() if r.id not in (guild.id, role.id)),
            key=lambda r: (r.position, r.id),
        )
        others.insert(max(0, min(position - 1, len(others))), role)
        for number, each in enumerate(others, start=1):
            each.position = number

    def add_member(self, guild: Guild, user: User, *, role_ids: list[int] | None = None) -> Member:
        member = Member(
            user=user, guild_id=guild.id, joined_at=self.clock.now(), role_ids=list(role_ids or [])
        )
        guild.members[user.id] = member
        return member

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = GUILD_TEXT,
        parent_id: int | None = None,
        topic: str | None = None,
        id: int | None = None,
    ) -> Channel:
        channel = Channel(
            id=self._unused(id),
            type=type,
            name=name,
            created_at=self.clock.now(),
            guild_id=guild.id,
            position=len(guild.channel_ids),
            parent_id=parent_id,
            topic=topic,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def add_thread(
        self, parent: Channel, name: str, *, type: int, owner: User, thread_id: int | None = None
    ) -> Channel:
        if parent.guild_id is None or parent.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        thread = Channel(
            id=thread_id or self.ids.next(),
            type=type,
            name=name,
            created_at=self.clock.now(),
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner.id,
            thread_member_ids=[owner.id],
        )
        self.channels[thread.id] = thread
        self.guilds[parent.guild_id].channel_ids.append(thread.id)
        return thread

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between the bot and ``user``, created on first use like Discord does."""
        channel_id = self.dm_channels.get(user.id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(
            id=self.ids.next(),
            type=DM,
            name=None,
            created_at=self.clock.now(),
            recipient_ids=[user.id],
        )
        self.channels[channel.id] = channel
        self.dm_channels[user.id] = channel.id
        return channel

    def add_message(self, channel: Channel, author: User, **fields: Any) -> Message:
        message = Message(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            timestamp=self.clock.now(),
            **fields,
        )
        self.messages[message.id] = message
        channel.last_message_id = message.id
        return message

    def new_interaction(
        self,
        type: int,
        user: User,
        channel: Channel,
        data: JSON,
        message: Message | None = None,
        *,
        modal_opener_id: int | None = None,
    ) -> Interaction:
        interaction = Interaction(
            id=self.ids.next(),
            token=secrets.token_urlsafe(24),
            type=type,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            message_id=message.id if message else None,
            modal_opener_id=modal_opener_id,
        )
        self.interactions[interaction.id] = interaction
        return interaction

    def interaction_by_token(self, token: str) -> Interaction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction
        raise DiscordError(404, 10015, "Unknown Webhook")

    # what people see

    def permissions(self, member: Member) -> int:
        guild = self.guilds[member.guild_id]
        if member.id == guild.owner_id:
            return ALL_PERMISSIONS
        value = guild.everyone_role.permissions
        for role_id in member.role_ids:
            value |= guild.roles[role_id].permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def channel_permissions(self, member: Member, channel: Channel) -> int:
        """``member``'s permissions in a guild channel: the guild's, then the channel's
        overwrites for @everyone, for the member's roles, and for the member, in Discord's
        order (a thread takes its parent's)."""
        value = self.permissions(member)
        if value == ALL_PERMISSIONS:
            return value
        if channel.is_thread and channel.parent_id is not None:
            channel = self.channels[channel.parent_id]
        by_target = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_target.get((ROLE_OVERWRITE, member.guild_id))
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        deny = allow = 0
        for role_id in member.role_ids:
            if (overwrite := by_target.get((ROLE_OVERWRITE, role_id))) is not None:
                deny, allow = deny | overwrite.deny, allow | overwrite.allow
        value = (value & ~deny) | allow
        own = by_target.get((MEMBER_OVERWRITE, member.id))
        if own is not None:
            value = (value & ~own.deny) | own.allow
        return value

    def top_position(self, member: Member) -> int:
        """The position of ``member``'s highest role (0: @everyone only), which decides the
        roles they may give or take (docs/topics/permissions, "Permission Hierarchy")."""
        roles = self.guilds[member.guild_id].roles
        return max((roles[r].position for r in member.role_ids), default=0)

    def require(self, user_id: int, channel: Channel, needed: int) -> None:
        """Discord's refusal when ``user_id`` lacks ``needed`` in a guild ``channel``
        (overwrites applied): 50001 Missing Access if they cannot even see it, else 50013."""
        if channel.guild_id is None:
            return
        have = self.channel_permissions(self.member(channel.guild_id, user_id), channel)
        if not have & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if have & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    def can_see(self, user_id: int, message: Message) -> bool:
        if message.deleted:
            return False
        if message.visible_to is not None:
            return message.visible_to == user_id
        channel = self.channels[message.channel_id]
        if channel.type == DM:
            return user_id in channel.recipient_ids or user_id == self.bot.id
        if channel.guild_id is None or user_id not in self.guilds[channel.guild_id].members:
            return False
        if channel.type == PRIVATE_THREAD and user_id not in channel.thread_member_ids:
            return False
        member = self.guilds[channel.guild_id].members[user_id]
        return bool(self.channel_permissions(member, channel) & VIEW_CHANNEL)

    def visible_messages(self, user_id: int, channel_id: int | None = None) -> list[Message]:
        """Messages ``user_id`` can see, oldest first, optionally in one channel only."""
        return [
            m
            for m in sorted(self.messages.values(), key=lambda m: m.id)
            if (channel_id is None or m.channel_id == channel_id) and self.can_see(user_id, m)
        ]


# JSON shapes


def user_payload(user: User) -> JSON:
    return {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": None,
        "bot": user.bot,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }


def private_user_payload(user: User) -> JSON:
    """The user as they see themselves (GET /users/@me, READY): with account settings."""
    return {
        **user_payload(user),
        "mfa_enabled": False,
        "locale": "en-US",
        "verified": True,
        "email": None,
    }


def role_payload(role: Role) -> JSON:
    return {
        "id": str(role.id),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member_payload(member: Member) -> JSON:
    return {
        "user": user_payload(member.user),
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in member.role_ids],
        "joined_at": iso(member.joined_at),
        "premium_since": None,
        "communication_disabled_until": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }


def channel_payload(state: SimState, channel: Channel) -> JSON:
    payload: JSON = {
        "id": str(channel.id),
        "type": channel.type,
        "last_message_id": str(channel.last_message_id) if channel.last_message_id else None,
        "flags": 0,
    }
    if channel.type == DM:
        payload["recipients"] = [user_payload(state.users[u]) for u in channel.recipient_ids]
        return payload
    payload.update(
        guild_id=str(channel.guild_id),
        name=channel.name,
        parent_id=str(channel.parent_id) if channel.parent_id else None,
        rate_limit_per_user=0,
    )
    if channel.is_thread:
        # Threads have no position, overwrites or nsfw flag of their own: the parent's apply.
        sent = sum(1 for m in state.messages.values() if m.channel_id == channel.id)
        payload.update(
            owner_id=str(channel.owner_id),
            member_count=len(channel.thread_member_ids),
            message_count=sent,
            total_message_sent=sent,
            thread_metadata={
                "archived": channel.archived,
                "auto_archive_duration": channel.auto_archive_duration,
                "archive_timestamp": iso(channel.archived_at or channel.created_at),
                "locked": channel.locked,
                "invitable": channel.invitable,
                "create_timestamp": iso(channel.created_at),
            },
        )
    else:
        overwrites = [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites
        ]
        payload.update(
            position=channel.position,
            permission_overwrites=overwrites,
            nsfw=False,
            topic=channel.topic,
        )
    return payload


def attachment_payload(attachment: Attachment) -> JSON:
    """An uploaded file; Discord gives a size in pixels for images only (none here)."""
    payload: JSON = {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": len(attachment.data),
        "url": attachment.url,
        "proxy_url": attachment.url,
    }
    if attachment.description is not None:
        payload["description"] = attachment.description
    return payload


def message_payload(state: SimState, message: Message, *, gateway: bool = False) -> JSON:
    """A message; ``gateway`` adds the ``guild_id`` that only gateway events carry."""
    payload: JSON = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": user_payload(message.author),
        "content": message.content,
        "timestamp": iso(message.timestamp),
        "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [attachment_payload(a) for a in message.attachments],
        "embeds": message.embeds,
        "pinned": False,
        "type": message.type,
        "flags": message.flags,
        **({"nonce": message.nonce} if message.nonce is not None else {}),
        "components": message.components,
    }
    if gateway and message.guild_id is not None:
        payload["guild_id"] = str(message.guild_id)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
        payload["application_id"] = str(state.application_id)
    if message.interaction_id is not None:
        interaction = state.interactions[message.interaction_id]
        payload["interaction_metadata"] = interaction_metadata(state, interaction)
    return payload


def interaction_metadata(state: SimState, interaction: Interaction) -> JSON:
    """What a message sent in answer to ``interaction`` says about it."""
    metadata: JSON = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": user_payload(state.users[interaction.user_id]),
        "authorizing_integration_owners": {},
    }
    if interaction.type == MESSAGE_COMPONENT and interaction.message_id is not None:
        metadata["interacted_message_id"] = str(interaction.message_id)
    if interaction.modal_opener_id is not None:
        opener = state.interactions[interaction.modal_opener_id]
        metadata["triggering_interaction_metadata"] = interaction_metadata(state, opener)
    return metadata


def guild_payload(state: SimState, guild: Guild, *, gateway: bool) -> JSON:
    """A guild object; ``gateway`` adds the GUILD_CREATE extras (members, channels, threads)."""
    payload: JSON = {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role_payload(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "nsfw": False,
        "premium_progress_bar_enabled": False,
        "premium_subscription_count": 0,
        "home_header": None,
        "region": "deprecated",
        "widget_enabled": False,
        "widget_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_presences": None,
        "max_members": 25_000_000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "incidents_data": None,
    }
    if gateway:
        channels = [state.channels[c] for c in guild.channel_ids]
        payload.update(
            joined_at=iso(guild.created_at),
            large=False,
            unavailable=False,
            # Every member is included, so discord.py considers the guild fully chunked.
            member_count=len(guild.members),
            members=[member_payload(m) for m in guild.members.values()],
            channels=[channel_payload(state, c) for c in channels if not c.is_thread],
            threads=[channel_payload(state, c) for c in channels if c.is_thread],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
    return payload
