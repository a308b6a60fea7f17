# SPDX-License-Identifier: Apache-2.0
"""Service levels on Discord: `/sla status [repo]`, what is past or near its target and the
share met within target, for anyone in the server (it is what GitHub shows anyone, counted).

The report is read off the event loop and rendered by the service (bot/services/sla/);
docs/sla.md explains the figures.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.errors import DomainError
from bot.services import sla
from bot.services.sla import report

MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100


class ServiceLevels(commands.Cog):
    group = app_commands.Group(
        name="sla",
        description="Service levels: how soon issues and pull requests get an answer",
        guild_only=True,
    )

    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot

    def ensure_enabled(self) -> None:
        if not self.bot.feature_enabled(sla.NAME):
            raise DomainError(
                "Service levels are turned off right now: the configured triage channel "
                "doesn't exist on this server. Please tell an organiser."
            )

    @group.command(
        name="status", description="Items past or near their target, and the share met in time"
    )
    @app_commands.describe(repo="Only this repository (owner/name)")
    async def status(self, interaction: discord.Interaction, repo: str | None = None) -> None:
        self.ensure_enabled()
        # Reading every open item's history can take a moment on a big project.
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings, now = self.bot.config.settings, self.bot.clock.now()
        found = await self.bot.runtime.read(
            lambda session: report.status(session, settings, now, repo)
        )
        title = f"Service levels: {found.repositories[0].name}" if repo else "Service levels"
        shown = report.embed(found, title, focused=repo is not None)
        await interaction.followup.send(embed=discord.Embed.from_dict(shown), ephemeral=True)

    @status.autocomplete("repo")
    async def complete_repo(
        self, _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        settings, typed = self.bot.config.settings, current.strip().lower()
        names = await self.bot.runtime.read(
            lambda session: report.repository_names(session, settings)
        )
        return [
            app_commands.Choice(name=name, value=name)
            for name in names
            if typed in name.lower() and len(name) <= MAX_CHOICE_LENGTH
        ][:MAX_CHOICES]


async def setup(bot: HeliosBot) -> None:
    if bot.config.settings.sla is not None:
        await bot.add_cog(ServiceLevels(bot))
