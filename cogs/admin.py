# SPDX-License-Identifier: Apache-2.0
"""Organiser tools: `/helios status`."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.app import HeliosBot
from bot.services import admin

FEATURE = "admin"


class FeatureOff(app_commands.CheckFailure):
    pass


class Admin(commands.GroupCog, group_name="helios", group_description="Organiser tools"):
    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot
        self.started = time.monotonic()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        settings = self.bot.config.settings.admin
        if settings is None or not self.bot.feature_enabled(FEATURE):
            raise FeatureOff(
                "Organiser tools are turned off: their configured role or channel "
                "doesn't exist on this server. Ask an organiser to check the bot's config."
            )
        member = interaction.user
        role_id = settings.organiser_role_id
        if not isinstance(member, discord.Member) or member.get_role(role_id) is None:
            raise app_commands.CheckFailure("This command is for organisers.")
        return True

    @app_commands.command(name="status", description="The bot's health: version, database, outbox")
    async def status(self, interaction: discord.Interaction) -> None:
        report = await admin.status(self.bot.runtime.engine, self.bot.runtime.sessions)
        uptime = int(time.monotonic() - self.started)
        embed = discord.Embed(title="Helios bot status", colour=discord.Colour.green())
        embed.add_field(name="Version", value=__version__)
        embed.add_field(name="Uptime", value=f"{uptime // 3600} h {uptime % 3600 // 60} min")
        embed.add_field(name="Gateway latency", value=f"{self.bot.latency * 1000:.0f} ms")
        schema = report.schema_revision or "empty"
        if not report.schema_current:
            schema += f" (code expects {report.expected_revision})"
            embed.colour = discord.Colour.orange()
        embed.add_field(name="Database", value=f"{report.database}, schema {schema}")
        outbox = ", ".join(f"{n} {state}" for state, n in sorted(report.outbox.items()))
        embed.add_field(name="Outbox", value=outbox or "empty")
        if failed := report.outbox.get("failed"):
            embed.colour = discord.Colour.orange()
            embed.set_footer(text=f"{failed} message(s) could not be delivered; see the logs.")
        disabled = sorted(self.bot.disabled_features)
        embed.add_field(name="Features off", value=", ".join(disabled) or "none", inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: HeliosBot) -> None:
    if bot.config.settings.admin is not None:
        await bot.add_cog(Admin(bot))
