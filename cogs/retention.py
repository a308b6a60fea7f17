# SPDX-License-Identifier: Apache-2.0
"""Members leaving and coming back: their claims are freed, their data forgotten in time
(bot/services/retention.py)."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import HeliosBot
from bot.services import retention


class Retention(commands.Cog):
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


async def setup(bot: HeliosBot) -> None:
    await bot.add_cog(Retention(bot))
