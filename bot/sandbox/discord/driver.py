# SPDX-License-Identifier: Apache-2.0
"""Playing the humans: slash commands, clicks, selects, modal submits, autocomplete, joins.

Every action dispatches what Discord would send the bot and waits (on simulator events, with a
timeout) for the bot's answer, which comes back as the acting person sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.log import get_logger
from bot.sandbox.discord.rest import DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
from bot.sandbox.discord.server import DiscordSimulator
from bot.sandbox.discord.state import (
    ALL_PERMISSIONS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    JSON,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    SELECT_TYPES,
    AppCommand,
    Channel,
    Guild,
    Interaction,
    Member,
    Message,
    Modal,
    Role,
    User,
    channel_payload,
    member_payload,
    message_payload,
    role_payload,
    user_payload,
)

log = get_logger(__name__)

# Application command option types
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10

BUTTON = 2
TEXT_INPUT = 4
ACTION_ROW = 1
LABEL = 18
LINK_STYLE = 5

Person = User | Member


class InteractionResult:
    """The bot's answer to one interaction as the person who triggered it sees it.

    It reads the simulator's live state, so later edits and follow-ups show up here too.
    """

    def __init__(self, sim: DiscordSimulator, interaction: Interaction) -> None:
        self._sim = sim
        self.interaction = interaction

    @property
    def response_type(self) -> int | None:
        """The interaction callback type the bot used (4 message, 5 defer, 7 update, 9 modal...)."""
        return self.interaction.response_type

    @property
    def message(self) -> Message | None:
        """The reply (types 4/5) or the message the component was on (types 6/7)."""
        message_id = self.interaction.original_message_id
        return None if message_id is None else self._sim.state.messages[message_id]

    @property
    def followups(self) -> list[Message]:
        messages = self._sim.state.messages
        return [messages[i] for i in self.interaction.followup_ids if not messages[i].deleted]

    @property
    def modal(self) -> Modal | None:
        return self.interaction.modal

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices ({"name", "value"})."""
        return list(self.interaction.choices or [])

    @property
    def ephemeral(self) -> bool:
        return self.message is not None and self.message.ephemeral

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.message.embeds if self.message else []

    async def wait_for_followups(self, count: int = 1, within: float = 5.0) -> list[Message]:
        """Wait until the bot has sent at least ``count`` follow-up messages."""
        await self._sim.wait_until(
            lambda: len(self.followups) >= count, within=within, what=f"{count} follow-up(s)"
        )
        return self.followups

    async def wait_for_edits(self, count: int = 1, within: float = 5.0) -> Message:
        """Wait until the original response has been edited ``count`` times in all."""
        await self._sim.wait_until(
            lambda: self.interaction.original_edits >= count,
            within=within,
            what="an edit of the original response",
        )
        assert self.message is not None
        return self.message


class DiscordDriver:
    """Acts as guild members against a connected bot.

    ``reaction_time`` is how long a person takes before clicking or submitting; it also lets
    the bot finish handling the reply it just received (e.g. register the View for the message
    id Discord returned) before the next interaction arrives, as happens with real people.
    """

    def __init__(
        self, sim: DiscordSimulator, *, timeout: float = 5.0, reaction_time: float = 0.02
    ) -> None:
        self.sim = sim
        self.timeout = timeout
        self.reaction_time = reaction_time

    # slash commands

    async def run_command(
        self,
        member: Person,
        channel: Channel,
        command: str,
        options: Mapping[str, Any] | None = None,
    ) -> InteractionResult:
        """Run ``/command`` ("group sub" for subcommands) with ``options`` ({name: value})."""
        data = self._command_data(channel, command, options or {}, focused=None)
        return await self._interact(APPLICATION_COMMAND, member, channel, data)

    async def autocomplete(
        self,
        member: Person,
        channel: Channel,
        command: str,
        options: Mapping[str, Any],
        focused: str,
    ) -> list[JSON]:
        """Type into option ``focused`` of ``command``; returns the choices the bot offers."""
        data = self._command_data(channel, command, options, focused=focused)
        result = await self._interact(AUTOCOMPLETE, member, channel, data)
        return result.choices

    def _find_command(self, channel: Channel, name: str) -> AppCommand:
        for scope in (channel.guild_id, None):  # guild commands shadow global ones
            for command in self.sim.state.commands.values():
                if command.guild_id == scope and command.name == name:
                    return command
        raise LookupError(f"/{name} is not synced to Discord (call tree.sync first)")

    def _command_data(
        self, channel: Channel, command: str, options: Mapping[str, Any], focused: str | None
    ) -> JSON:
        name, *path = command.split()
        app_command = self._find_command(channel, name)
        resolved: JSON = {}
        built = self._options(app_command.data.get("options", []), path, options, resolved, focused)
        data: JSON = {"id": str(app_command.id), "name": name, "type": 1, "options": built}
        if resolved:
            data["resolved"] = resolved
        if app_command.guild_id is not None:
            data["guild_id"] = str(app_command.guild_id)
        return data

    def _options(
        self,
        definitions: list[JSON],
        path: list[str],
        values: Mapping[str, Any],
        resolved: JSON,
        focused: str | None,
    ) -> list[JSON]:
        if path:
            for definition in definitions:
                if definition["name"] == path[0] and definition["type"] in (
                    SUB_COMMAND,
                    SUB_COMMAND_GROUP,
                ):
                    inner = self._options(
                        definition.get("options", []), path[1:], values, resolved, focused
                    )
                    return [{"name": path[0], "type": definition["type"], "options": inner}]
            raise LookupError(f"no subcommand {path[0]!r}")
        by_name: dict[str, JSON] = {d["name"]: d for d in definitions}
        result = []
        for name, value in values.items():
            found = by_name.get(name)
            if found is None or found["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
                raise LookupError(f"the command has no option {name!r}")
            option: JSON = {"name": name, "type": found["type"]}
            if name == focused:
                option.update(value=str(value), focused=True)  # what the person typed so far
            else:
                option["value"] = self._option_value(found["type"], value, resolved)
            result.append(option)
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in values]
        if missing and focused is None:
            raise ValueError(f"missing required option(s): {', '.join(missing)}")
        return result

    def _option_value(self, kind: int, value: Any, resolved: JSON) -> Any:
        state = self.sim.state
        if kind == STRING:
            return str(value)
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
        if kind == BOOLEAN:
            return bool(value)
        if isinstance(value, str) and kind in (USER, MENTIONABLE):
            value = self._user_named(value)  # a scenario names members: `member = "ada"`
        target_id = value if isinstance(value, int) else int(value.id)
        if kind in (USER, MENTIONABLE) and target_id in state.users:
            resolved.setdefault("users", {})[str(target_id)] = user_payload(state.users[target_id])
            for guild in state.guilds.values():
                if target_id in guild.members:
                    member = guild.members[target_id]
                    partial = {k: v for k, v in member_payload(member).items() if k != "user"}
                    partial["permissions"] = str(state.permissions(member))
                    resolved.setdefault("members", {})[str(target_id)] = partial
            return str(target_id)
        if kind in (ROLE, MENTIONABLE):
            for guild in state.guilds.values():
                if target_id in guild.roles:
                    role = role_payload(guild.roles[target_id])
                    resolved.setdefault("roles", {})[str(target_id)] = role
                    return str(target_id)
        if kind == CHANNEL:
            channel = state.channel(target_id)
            payload = {**channel_payload(state, channel), "permissions": str(ALL_PERMISSIONS)}
            resolved.setdefault("channels", {})[str(target_id)] = payload
            return str(target_id)
        raise ValueError(f"cannot pass {value!r} as an option of type {kind}")

    def _user_named(self, username: str) -> int:
        for user in self.sim.state.users.values():
            if user.username == username:
                return user.id
        raise LookupError(f"nobody called {username!r} is on Discord")

    # components and modals

    async def click(
        self,
        message: Message,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        member: Person | None = None,
    ) -> InteractionResult:
        """Click the button with ``label`` or ``custom_id`` on ``message``."""
        button = message.find_component(label=label, custom_id=custom_id, type=BUTTON)
        if button.get("disabled"):
            raise ValueError(f"button {button.get('label')!r} is disabled")
        if button.get("style") == LINK_STYLE or "custom_id" not in button:
            raise ValueError("link buttons open a URL; they do not reach the bot")
        data = {"custom_id": button["custom_id"], "component_type": BUTTON}
        return await self._on_message(message, member, data)

    async def select(
        self,
        message: Message,
        custom_id_or_placeholder: str,
        values: Sequence[str],
        *,
        member: Person | None = None,
    ) -> InteractionResult:
        """Pick ``values`` in the select menu with that custom_id or placeholder."""
        menu = next(
            (
                c
                for c in message.iter_components()
                if c.get("type") in SELECT_TYPES
                and custom_id_or_placeholder in (c.get("custom_id"), c.get("placeholder"))
            ),
            None,
        )
        if menu is None:
            raise LookupError(f"message {message.id} has no select {custom_id_or_placeholder!r}")
        if menu.get("disabled"):
            raise ValueError("the select menu is disabled")
        least, most = menu.get("min_values", 1), menu.get("max_values", 1)
        if not least <= len(values) <= most:
            raise ValueError(
                f"{len(values)} value(s) is outside the menu's min/max ({least} to {most})"
            )
        if menu["type"] == 3:
            offered = [o["value"] for o in menu.get("options", [])]
            unknown = [v for v in values if v not in offered]
            if unknown:
                raise ValueError(
                    f"{', '.join(map(repr, unknown))} not among the select's options "
                    f"({', '.join(offered)})"
                )
        data = {
            "custom_id": menu["custom_id"],
            "component_type": menu["type"],
            "values": list(values),
        }
        return await self._on_message(message, member, data)

    async def _on_message(
        self, message: Message, member: Person | None, data: JSON
    ) -> InteractionResult:
        actor = self._actor(message, member)
        channel = self.sim.state.channels[message.channel_id]
        return await self._interact(MESSAGE_COMPONENT, actor, channel, data, message)

    def _actor(self, message: Message, member: Person | None) -> User:
        if member is not None:
            user = member.user if isinstance(member, Member) else member
            if not self.sim.state.can_see(user.id, message):
                raise PermissionError(f"{user.username} cannot see message {message.id}")
            return user
        # Default to the person the message was meant for.
        if message.visible_to is not None:
            return self.sim.state.users[message.visible_to]
        if message.interaction_id is not None:
            return self.sim.state.users[self.sim.state.interactions[message.interaction_id].user_id]
        raise ValueError("say which member acts on this message (member=...)")

    async def submit_modal(
        self,
        modal: Modal | InteractionResult,
        values: Mapping[str, str | Sequence[str]],
    ) -> InteractionResult:
        """Fill in the modal's fields ({custom_id: text, or values for a select}) and submit."""
        if isinstance(modal, InteractionResult):
            if modal.modal is None:
                raise ValueError("the bot did not open a modal")
            modal = modal.modal
        unknown = set(values) - set(modal.field_ids)
        if unknown:
            raise LookupError(f"the modal has no field(s) {sorted(unknown)}")
        state = self.sim.state
        opener = state.interactions[modal.interaction_id]
        message = state.messages.get(opener.message_id) if opener.message_id else None
        data = {"custom_id": modal.custom_id, "components": _submitted(modal.components, values)}
        user = state.users[modal.user_id]
        channel = state.channels[modal.channel_id]
        return await self._interact(
            MODAL_SUBMIT, user, channel, data, message, modal_opener_id=opener.id
        )

    # people joining and talking

    async def member_join(
        self, guild: Guild, username: str, *, roles: Sequence[Role] = ()
    ) -> Member:
        """A new person joins ``guild``: GUILD_MEMBER_ADD reaches the bot."""
        member = self.sim.add_member(guild, username, roles=list(roles))
        await self.sim.gateway.dispatch(
            "GUILD_MEMBER_ADD", {**member_payload(member), "guild_id": str(guild.id)}
        )
        return member

    async def member_return(self, member: Member) -> Member:
        """Someone who left joins ``member``'s guild again, as the same user."""
        guild = self.sim.state.guild(member.guild_id)
        again = self.sim.state.add_member(guild, member.user, role_ids=[])
        await self.sim.gateway.dispatch(
            "GUILD_MEMBER_ADD", {**member_payload(again), "guild_id": str(guild.id)}
        )
        return again

    async def member_leave(self, member: Member) -> None:
        """``member`` leaves their guild: GUILD_MEMBER_REMOVE reaches the bot."""
        guild = self.sim.state.guild(member.guild_id)
        del guild.members[member.id]
        for channel in self.sim.state.channels.values():
            if channel.guild_id == guild.id and member.id in channel.thread_member_ids:
                channel.thread_member_ids.remove(member.id)
        data = {"guild_id": str(guild.id), "user": user_payload(member.user)}
        await self.sim.gateway.dispatch("GUILD_MEMBER_REMOVE", data)

    async def post_message(self, member: Person, channel: Channel, content: str) -> Message:
        """``member`` writes ``content`` in ``channel``: MESSAGE_CREATE reaches the bot."""
        user = member.user if isinstance(member, Member) else member
        message = self.sim.state.add_message(channel, user, content=content)
        payload = message_payload(self.sim.state, message, gateway=True)
        if isinstance(member, Member):
            payload["member"] = {k: v for k, v in member_payload(member).items() if k != "user"}
        await self.sim.gateway.dispatch("MESSAGE_CREATE", payload)
        return message

    async def wait_for_message(
        self, predicate: Callable[[Message], bool], within: float | None = None
    ) -> Message:
        """Wait until a message matching ``predicate`` exists (e.g. a welcome DM) and return it."""
        found: list[Message] = []

        def check() -> bool:
            found[:] = [
                m for m in self.sim.state.messages.values() if not m.deleted and predicate(m)
            ]
            return bool(found)

        await self.sim.wait_until(check, within=within or self.timeout, what="a message")
        return found[0]

    # plumbing

    async def _interact(
        self,
        kind: int,
        member: Person,
        channel: Channel,
        data: JSON,
        message: Message | None = None,
        *,
        modal_opener_id: int | None = None,
    ) -> InteractionResult:
        if not self.sim.gateway.has_session:
            raise RuntimeError("the bot has not connected to the simulator")
        user = member.user if isinstance(member, Member) else member
        if kind in (MESSAGE_COMPONENT, MODAL_SUBMIT) and self.reaction_time:
            # Acting on something the bot just sent: let it register its View/Modal first.
            await asyncio.sleep(self.reaction_time)
        interaction = self.sim.state.new_interaction(
            kind, user, channel, data, message, modal_opener_id=modal_opener_id
        )
        await self.sim.gateway.dispatch("INTERACTION_CREATE", self._payload(interaction))
        what = f"the bot to answer {_subject(kind, data)}"
        await self.sim.wait_until(
            lambda: interaction.response_type is not None, within=self.timeout, what=what
        )
        result = InteractionResult(self.sim, interaction)
        if interaction.response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            # The person sees "thinking..." until the bot edits the reply or follows up.
            await self.sim.wait_until(
                lambda: result.message is not None and not result.message.loading,
                within=self.timeout,
                what="the deferred reply",
            )
        return result

    def _payload(self, interaction: Interaction) -> JSON:
        state = self.sim.state
        channel = state.channels[interaction.channel_id]
        user = state.users[interaction.user_id]
        payload: JSON = {
            "id": str(interaction.id),
            "application_id": str(state.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "token": interaction.token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel_payload(state, channel),
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            member = state.member(channel.guild_id, user.id)
            payload.update(
                guild_id=str(channel.guild_id),
                guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={**member_payload(member), "permissions": str(state.permissions(member))},
                authorizing_integration_owners={"0": str(channel.guild_id)},
                context=0,
            )
        else:
            payload.update(
                user=user_payload(user),
                context=1,
                authorizing_integration_owners={"1": str(user.id)},
            )
        if interaction.message_id is not None:
            payload["message"] = message_payload(state, state.messages[interaction.message_id])
        return payload


def _subject(kind: int, data: JSON) -> str:
    """What a person acted on, as a timeout message names it."""
    if kind in (APPLICATION_COMMAND, AUTOCOMPLETE):
        return f"/{data.get('name')}"
    if kind == MODAL_SUBMIT:
        return f"the form {data.get('custom_id')!r}"
    return f"the click on {data.get('custom_id')!r}"


def _submitted(components: list[JSON], values: Mapping[str, str | Sequence[str]]) -> list[JSON]:
    """The modal's components as Discord sends them back on submit, filled with ``values``."""
    result: list[JSON] = []
    for component in components:
        kind = component["type"]
        entry: JSON = {"type": kind}
        if "id" in component:
            entry["id"] = component["id"]
        if kind == ACTION_ROW:
            entry["components"] = _submitted(component.get("components", []), values)
        elif kind == LABEL:
            entry["component"] = _submitted([component["component"]], values)[0]
        elif kind == TEXT_INPUT:
            entry.update(
                custom_id=component["custom_id"],
                value=_text_value(component, values.get(component["custom_id"])),
            )
        elif kind in SELECT_TYPES:
            picked = values.get(component["custom_id"], [])
            entry.update(
                custom_id=component["custom_id"],
                values=[picked] if isinstance(picked, str) else list(picked),
            )
        else:
            continue  # text displays and the like carry nothing back
        result.append(entry)
    return result


def _text_value(component: JSON, given: str | Sequence[str] | None) -> str:
    if given is not None and not isinstance(given, str):
        raise ValueError(f"text input {component['custom_id']!r} takes a string")
    value = given if given is not None else str(component.get("value") or "")
    if component.get("required", True) and not value:
        raise ValueError(f"text input {component['custom_id']!r} is required")
    if value and len(value) < component.get("min_length", 0):
        raise ValueError(f"text input {component['custom_id']!r} is shorter than min_length")
    if len(value) > component.get("max_length", 4000):
        raise ValueError(f"text input {component['custom_id']!r} is longer than max_length")
    return value
