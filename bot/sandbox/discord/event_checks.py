# SPDX-License-Identifier: Apache-2.0
"""Gateway events checked against Discord's API description.

The description covers REST only, but a gateway event carries the same objects as REST
answers (a user, member, role, channel or message), plus a few gateway-only fields that the
gateway pages of Discord's docs list (``guild_id`` on a message or member event, a guild's
``members`` and ``channels`` in GUILD_CREATE, ``permissions`` on an interaction's member).
Each object is checked without those fields, against the schema of the REST answer that
carries it, and the event is tallied under ``gateway EVENT`` in the API report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.discord.state import JSON
from bot.sandbox.openapi import ApiCheck, Spec

# GUILD_CREATE's fields beyond a REST guild object (Discord's docs: Gateway Events, Guild Create).
GUILD_CREATE_EXTRAS = (
    "joined_at",
    "large",
    "unavailable",
    "member_count",
    "voice_states",
    "members",
    "channels",
    "threads",
    "presences",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
)


def _without(data: JSON, *keys: str) -> JSON:
    return {k: v for k, v in data.items() if k not in keys}


def _channel(spec: Spec, channel: JSON) -> list[str]:
    """Any kind of channel, as GET /channels/{channel_id} answers it."""
    return spec.response_problems("GET", "/channels/{channel_id}", channel)


def _member(spec: Spec, member: JSON) -> list[str]:
    return spec.object_problems("GuildMemberResponse", member)


def _message(spec: Spec, message: JSON) -> list[str]:
    problems = spec.object_problems("MessageResponse", _without(message, "guild_id", "member"))
    if "member" in message:  # the author as a member, without the user (it is the author)
        problems += _member(spec, {**message["member"], "user": message["author"]})
    return problems


def _ready(spec: Spec, data: JSON) -> list[str]:
    return spec.object_problems("UserPIIResponse", data["user"])


def _guild_create(spec: Spec, data: JSON) -> list[str]:
    problems = spec.object_problems("GuildResponse", _without(data, *GUILD_CREATE_EXTRAS))
    for member in data.get("members", []):
        problems += _member(spec, member)
    for channel in data.get("channels", []):
        problems += _channel(spec, channel)
    for thread in data.get("threads", []):
        problems += spec.object_problems("ThreadResponse", thread)
    return problems


def _thread_create(spec: Spec, data: JSON) -> list[str]:
    return spec.object_problems("ThreadResponse", _without(data, "newly_created"))


def _thread_update(spec: Spec, data: JSON) -> list[str]:
    return spec.object_problems("ThreadResponse", data)


def _thread_members_update(spec: Spec, data: JSON) -> list[str]:
    return [
        problem
        for added in data.get("added_members", [])
        for problem in spec.object_problems("ThreadMemberResponse", added)
    ]


def _guild_member(spec: Spec, data: JSON) -> list[str]:
    return _member(spec, _without(data, "guild_id"))


def _guild_member_remove(spec: Spec, data: JSON) -> list[str]:
    return spec.object_problems("UserResponse", data["user"])


def _guild_role_create(spec: Spec, data: JSON) -> list[str]:
    return spec.object_problems("GuildRoleResponse", data["role"])


def _guild_members_chunk(spec: Spec, data: JSON) -> list[str]:
    return [p for member in data.get("members", []) for p in _member(spec, member)]


def _interaction_create(spec: Spec, data: JSON) -> list[str]:
    problems: list[str] = []
    if "member" in data:  # in a guild: the member, with their permissions in the channel
        problems += _member(spec, _without(data["member"], "permissions"))
    if "user" in data:  # in a DM
        problems += spec.object_problems("UserResponse", data["user"])
    if "channel" in data:
        problems += _channel(spec, _without(data["channel"], "permissions"))
    if "message" in data:  # a component's message
        problems += _message(spec, data["message"])
    resolved = (data.get("data") or {}).get("resolved") or {}
    users = resolved.get("users", {})
    for user in users.values():
        problems += spec.object_problems("UserResponse", user)
    for user_id, member in resolved.get("members", {}).items():
        problems += _member(spec, {**_without(member, "permissions"), "user": users[user_id]})
    for role in resolved.get("roles", {}).values():
        problems += spec.object_problems("GuildRoleResponse", role)
    for channel in resolved.get("channels", {}).values():
        problems += _channel(spec, _without(channel, "permissions"))
    return problems


CHECKS: dict[str, Callable[[Spec, JSON], list[str]]] = {
    "READY": _ready,
    "GUILD_CREATE": _guild_create,
    "CHANNEL_CREATE": _channel,
    "CHANNEL_UPDATE": _channel,
    "THREAD_CREATE": _thread_create,
    "THREAD_UPDATE": _thread_update,
    "THREAD_MEMBERS_UPDATE": _thread_members_update,
    "GUILD_MEMBER_ADD": _guild_member,
    "GUILD_MEMBER_UPDATE": _guild_member,
    "GUILD_MEMBER_REMOVE": _guild_member_remove,
    "GUILD_ROLE_CREATE": _guild_role_create,
    "GUILD_MEMBERS_CHUNK": _guild_members_chunk,
    "MESSAGE_CREATE": _message,
    "MESSAGE_UPDATE": _message,
    "INTERACTION_CREATE": _interaction_create,
}


def event_checks(api: ApiCheck) -> Callable[[str, Any], None]:
    """What the gateway calls with every event it dispatches."""

    def check(event: str, data: Any) -> None:
        problems = CHECKS.get(event)
        if problems is not None:
            api.check_event(f"gateway {event}", data, problems)

    return check
