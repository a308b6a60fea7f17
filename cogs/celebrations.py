# SPDX-License-Identifier: Apache-2.0
"""`/celebrations on|off`: whether the bot cheers a member's first pull request and merge.

The cheers themselves come from webhooks, through the outbox (bot/services/celebrations.py).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.services import celebrations


class Celebrations(commands.Cog):
    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="celebrations",
        description="Turn the bot's celebrations of your contributions on or off",
    )
    @app_commands.describe(setting="off: no messages or shout-outs about your pull requests")
    @app_commands.guild_only()
    async def celebrations(
        self, interaction: discord.Interaction, setting: Literal["on", "off"]
    ) -> None:
        assert interaction.guild_id is not None
        async with self.bot.runtime.sessions.begin() as session:
            await celebrations.set_celebrations(
                session,
                interaction.guild_id,
                interaction.user.id,
                setting == "on",
                self.bot.clock.now(),
            )
        await interaction.response.send_message(
            "Celebrations are on: your first pull request and first merge get a cheer."
            if setting == "on"
            else "Done: no messages or shout-outs about your contributions. You still get the "
            "Contributor role when your first pull request is merged. `/celebrations on` "
            "brings them back.",
            ephemeral=True,
        )


async def setup(bot: HeliosBot) -> None:
    if bot.config.settings.celebrations is not None:
        await bot.add_cog(Celebrations(bot))
