# SPDX-License-Identifier: Apache-2.0
"""Delivers the outbox to Discord: the only place that posts what services promised."""

from __future__ import annotations

import asyncio
import contextlib

import discord
from discord.ext import commands

from bot.app import HeliosBot
from bot.log import get_logger
from bot.outbox import (
    DeliverySkipped,
    DuePromise,
    Outbox,
    PermanentDeliveryError,
    deliver_forever,
)

log = get_logger(__name__)


class OutboxDelivery(commands.Cog):
    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot
        self.outbox = Outbox(bot.runtime.sessions, bot.clock, bot.runtime.owner)
        self._promised = bot.runtime.outbox_wakeup()
        self._task: asyncio.Task[None] | None = None
        self._skipping: set[str] = set()  # features whose promises were reported skipped

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._deliver(), name="outbox-delivery")

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.outbox.release()
        except Exception:  # the database may be gone already: the leases run out by themselves
            log.warning("could not give back the outbox's leases on stopping", exc_info=True)

    async def _deliver(self) -> None:
        await self.bot.wait_until_ready()
        await deliver_forever(self.outbox, self.send, self.bot.clock, self._promised)

    async def send(self, due: DuePromise) -> int | None:
        self._skip_if_feature_off(due)
        try:
            if due.target_kind == "role":
                await self._change_role(due)
                return None
            if due.target_kind == "thread":
                return await self._start_thread(due)
            if due.target_kind == "archive":
                await self._archive(due)
                return None
            channel = await self._resolve(due)
            message = await self._post(channel, due)
        except (discord.NotFound, discord.Forbidden) as exc:
            why = self._refusal(due) if isinstance(exc, discord.Forbidden) else None
            raise PermanentDeliveryError(
                f"{due.target_kind} {due.target_id}: {exc.text or exc}"
                + (f" ({why})" if why else "")
            ) from exc
        return message.id

    def _refusal(self, due: DuePromise) -> str | None:
        """What an organiser must change after Discord said Missing Permissions or Access, read
        from the guild's cache (None without it: a process that does not run its shard)."""
        guild = self.bot.get_guild(due.guild_id)
        if guild is None:
            return None
        me = guild.me
        if due.target_kind == "role":
            role_id = int(due.payload["role_id"])
            role = guild.get_role(role_id)
            name = f"@{role.name}" if role is not None else f"role {role_id}"
            if not me.guild_permissions.manage_roles:
                return (
                    f"the bot lacks Manage Roles, which giving or taking {name} needs: open the "
                    "link of `helios-bot invite-url` again"
                )
            if role is not None and role >= me.top_role:
                return (
                    f"{name} is not below the bot's highest role @{me.top_role.name}: in "
                    f"Server Settings > Roles, drag the bot's role above {name}"
                )
            return None
        channel = guild.get_channel_or_thread(due.target_id)
        if channel is None:
            return None
        sending = (
            "send_messages_in_threads" if isinstance(channel, discord.Thread) else "send_messages"
        )
        needed = NEEDED.get(due.target_kind, ("view_channel", sending))
        allowed = channel.permissions_for(me)
        missing = [_permission_name(p) for p in needed if not getattr(allowed, p)]
        if not missing:
            return None
        return (
            f"the bot lacks {', '.join(missing)} in #{channel.name}: allow it for the bot's "
            "role in the channel's permissions"
        )

    async def _post(self, channel: discord.abc.Messageable, due: DuePromise) -> discord.Message:
        payload = due.payload
        return await channel.send(
            content=payload.get("content"),
            embeds=[discord.Embed.from_dict(e) for e in payload.get("embeds", [])],
            view=_buttons(payload.get("buttons", [])),
            allowed_mentions=_mentions(
                payload.get("mentions", []), payload.get("mention_roles", [])
            ),
            nonce=due.nonce,
        )

    async def _start_thread(self, due: DuePromise) -> int:
        """A private thread with its members and first message. A retry after a crash finds
        the thread it made by name (which the promise makes unique) instead of a second one;
        the message's nonce keeps it from being posted twice."""
        parent = self.bot.get_channel(due.target_id) or await self.bot.fetch_channel(due.target_id)
        if not isinstance(parent, discord.TextChannel):
            raise PermanentDeliveryError(f"channel {due.target_id} cannot hold private threads")
        name = str(due.payload["name"])[:100]
        assert self.bot.user is not None  # delivering waits until the bot is ready
        thread = discord.utils.get(parent.threads, name=name, owner_id=self.bot.user.id)
        if thread is None:
            thread = await parent.create_thread(
                name=name, type=discord.ChannelType.private_thread, invitable=False
            )
        for user_id in due.payload.get("members", []):
            await thread.add_user(discord.Object(int(user_id)))
        await self._post(thread, due)
        return thread.id

    async def _archive(self, due: DuePromise) -> None:
        thread = self.bot.get_channel(due.target_id) or await self.bot.fetch_channel(due.target_id)
        if not isinstance(thread, discord.Thread):
            raise PermanentDeliveryError(f"channel {due.target_id} is not a thread")
        if not thread.archived:
            await thread.edit(archived=True)

    def _skip_if_feature_off(self, due: DuePromise) -> None:
        """What a turned-off feature promised (webhook handlers run in every process and
        cannot know) is not sent: its channel or role is likely the missing one."""
        feature = due.feature
        if feature not in self.bot.disabled_reasons:
            return
        why = self.bot.disabled_reasons[feature]
        if feature not in self._skipping:
            self._skipping.add(feature)
            log.warning(
                "messages of feature %r are not sent while it is off; they stay in the outbox "
                "with status 'skipped' (%s)",
                feature,
                why,
            )
        raise DeliverySkipped(f"feature {feature!r} is off: {why}")

    async def _change_role(self, due: DuePromise) -> None:
        # One REST call by ids, without the guild's cache: the process delivering the promise
        # need not run the guild's shard.
        change = self.bot.http.remove_role if due.payload.get("remove") else self.bot.http.add_role
        await change(
            due.guild_id,
            due.target_id,
            int(due.payload["role_id"]),
            reason=str(due.payload.get("reason", "")) or None,
        )

    async def _resolve(self, due: DuePromise) -> discord.abc.Messageable:
        if due.target_kind == "dm":
            user = self.bot.get_user(due.target_id) or await self.bot.fetch_user(due.target_id)
            return await user.create_dm()
        channel = self.bot.get_channel(due.target_id) or await self.bot.fetch_channel(due.target_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise PermanentDeliveryError(f"channel {due.target_id} cannot hold messages")
        return channel


# The permissions each kind of delivery takes in its channel, beyond a message's (the kind
# "thread" targets the parent channel, "archive" the thread).
NEEDED = {
    "thread": ("view_channel", "create_private_threads", "send_messages_in_threads"),
    "archive": ("view_channel", "manage_threads"),
}


def _permission_name(flag: str) -> str:
    """As Discord's settings show it: ``send_messages_in_threads`` is Send Messages in
    Threads."""
    return " ".join(w if w == "in" else w.capitalize() for w in flag.split("_"))


def _mentions(user_ids: list[int], role_ids: list[int]) -> discord.AllowedMentions:
    """Only the members and roles a promise names are pinged: a mention in text from GitHub
    never is."""
    return discord.AllowedMentions(
        everyone=False,
        roles=[discord.Object(role_id) for role_id in role_ids],
        users=[discord.Object(user_id) for user_id in user_ids],
    )


def _buttons(buttons: list[dict[str, str]]) -> discord.ui.View:
    """Buttons promised with a message; their custom ids are handled by persistent items."""
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(
            discord.ui.Button(
                label=button["label"],
                custom_id=button["custom_id"],
                style=discord.ButtonStyle[button.get("style", "secondary")],
            )
        )
    return view


async def setup(bot: HeliosBot) -> None:
    await bot.add_cog(OutboxDelivery(bot))
