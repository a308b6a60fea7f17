# SPDX-License-Identifier: Apache-2.0
"""Organiser tools: `/helios status`, with a Refresh button that survives restarts."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.app import HeliosBot
from bot.services import admin
from bot.text import escape
from cogs._interactions import PersistentView

# Of the latest failure's reason: an embed field holds 1,024 characters, escaping included.
FAILURE_SHOWN = 900

REFRESH_ID = "helios:status:refresh"  # stable: buttons on old messages work after a restart


def organiser_problem(bot: HeliosBot, user: discord.abc.User) -> str | None:
    """Why ``user`` may not use organiser tools, or None if they may."""
    settings = bot.config.settings.admin
    if settings is None or not bot.feature_enabled(admin.FEATURE.name):
        return (
            "Organiser tools are turned off: their configured role or channel "
            "doesn't exist on this server. Ask an organiser to check the bot's config."
        )
    if not isinstance(user, discord.Member) or user.get_role(settings.organiser_role_id) is None:
        return "This command is for organisers."
    return None


async def status_embed(bot: HeliosBot) -> discord.Embed:
    # The code's schema revision was read once at start-up; no script parsing per click.
    report = await admin.status(bot.runtime.engine, bot.runtime.sessions, bot.runtime.head_revision)
    uptime = int(bot.uptime_seconds)
    embed = discord.Embed(title="Helios bot status", colour=discord.Colour.green())
    embed.add_field(name="Version", value=__version__)
    embed.add_field(name="Uptime", value=f"{uptime // 3600} h {uptime % 3600 // 60} min")
    embed.add_field(name="Gateway latency", value=f"{bot.latency * 1000:.0f} ms")
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
        if report.latest_failure:
            embed.add_field(
                name="Latest delivery failure",
                value=escape(report.latest_failure[:FAILURE_SHOWN]),
                inline=False,
            )
    disabled = sorted(bot.disabled_features)
    embed.add_field(name="Features off", value=", ".join(disabled) or "none", inline=False)
    embed.timestamp = bot.clock.now()
    return embed


class StatusView(PersistentView):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if problem := organiser_problem(self.bot, interaction.user):
            await interaction.response.send_message(problem, ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Refresh", style=discord.ButtonStyle.secondary, custom_id=REFRESH_ID)
    async def refresh(
        self, interaction: discord.Interaction, _button: discord.ui.Button[StatusView]
    ) -> None:
        await interaction.response.edit_message(embed=await status_embed(self.bot), view=self)


class Admin(commands.GroupCog, group_name="helios", group_description="Organiser tools"):
    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if problem := organiser_problem(self.bot, interaction.user):
            raise app_commands.CheckFailure(problem)
        return True

    @app_commands.command(name="status", description="The bot's health: version, database, outbox")
    async def status(self, interaction: discord.Interaction) -> None:
        embed = await status_embed(self.bot)
        await interaction.response.send_message(
            embed=embed, view=StatusView(self.bot), ephemeral=True
        )


async def setup(bot: HeliosBot) -> None:
    if bot.config.settings.admin is not None:
        bot.add_view(StatusView(bot))
        await bot.add_cog(Admin(bot))
