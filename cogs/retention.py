# SPDX-License-Identifier: Apache-2.0
"""Members leaving and coming back: their claims are freed, their data forgotten in time;
and `/privacy forget-me`, the same at once for a member who asks
(bot/services/retention.py)."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.errors import DomainError
from bot.services import retention
from cogs._interactions import DynamicButton, helios

# A Discord user id in a custom id, compared with the clicker's own before anything is done.
USER_ID = r"[0-9]{1,20}"

FORGET_ME = (
    "**Forget me?** This deletes what the bot keeps about you on this server, at once: your "
    "GitHub link and time zone, your newcomer path, claims (given back on GitHub), "
    "mentoring (your mentees get another mentor), kudos you gave or received, your "
    "spotlight choices and features, and messages it still had to send you.\n"
    "Kept: public GitHub activity (your pull requests, reviews, comments), which is GitHub's "
    "and no longer tied to you here; roles you have on the server. It can't be undone, but "
    "you can always `/start` or `/link` again."
)


class Retention(commands.Cog):
    privacy = app_commands.Group(
        name="privacy",
        description="What the bot keeps about you",
        guild_only=True,
    )

    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot

    # The raw event: it arrives whether or not the member is in discord.py's cache.
    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.guild_id == self.bot.guild_id:
            await retention.member_left(self.bot.runtime.context, payload.user.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.guild.id == self.bot.guild_id:
            await retention.member_returned(self.bot.runtime.context, member.id)

    @privacy.command(name="forget-me", description="Delete what the bot keeps about you")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetMeButton.for_user(interaction.user.id))
        await interaction.response.send_message(FORGET_ME, view=view, ephemeral=True)


class ForgetMeButton(DynamicButton, template=rf"privacy:forget-me:(?P<user>{USER_ID})"):
    """The confirmation: only the member who asked can click it (a forged id is refused)."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], user_id: int) -> None:
        super().__init__(item)
        self.user_id = user_id

    @classmethod
    def for_user(cls, user_id: int) -> ForgetMeButton:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label="Yes, forget me",
            style=discord.ButtonStyle.danger,
            custom_id=f"privacy:forget-me:{user_id}",
        )
        return cls(button, user_id)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ForgetMeButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["user"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise DomainError("This button is for the member who asked; nothing was deleted.")
        bot = helios(interaction)
        # Giving claims back calls GitHub: acknowledge the click at once.
        await interaction.response.defer()
        await retention.forget_me(bot.runtime.context, self.user_id)
        await interaction.edit_original_response(
            content="Done: the bot has forgotten you. Public GitHub activity stays on GitHub, "
            "no longer tied to you here. Welcome back any time with `/start` or `/link`.",
            view=None,
        )


async def setup(bot: HeliosBot) -> None:
    bot.add_dynamic_items(ForgetMeButton)
    await bot.add_cog(Retention(bot))
