# SPDX-License-Identifier: Apache-2.0
"""Service levels on Discord: `/sla status [repo]` for anyone in the server (what is past or
near its target and the share met within target: what GitHub shows anyone, counted), and
`/sla snooze` for maintainers. The pings and the daily digest come from the feature's jobs,
through the outbox (bot/services/sla/); docs/sla.md explains them.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import SlaSettings
from bot.errors import DomainError
from bot.services import sla
from bot.services.sla import report, snoozes
from bot.text import escape, timestamp

MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100


def maintainer_problem(settings: SlaSettings, user: discord.abc.User) -> str | None:
    """Why ``user`` may not use the maintainers' commands, or None if they may."""
    role = settings.maintainer_role_id
    if role is None:
        return (
            "Only maintainers can do this, and no maintainers' role is configured "
            "(`sla.maintainer_role_id`). Please tell an organiser."
        )
    if not isinstance(user, discord.Member) or user.get_role(role) is None:
        return "Only maintainers can snooze service-level pings."
    return None


class ServiceLevels(commands.Cog):
    group = app_commands.Group(
        name="sla",
        description="Service levels: how soon issues and pull requests get an answer",
        guild_only=True,
    )

    def __init__(self, bot: HeliosBot, settings: SlaSettings) -> None:
        self.bot = bot
        self.settings = settings

    def ensure_enabled(self) -> None:
        if not self.bot.feature_enabled(sla.NAME):
            raise DomainError(
                "Service levels are turned off right now: their configured channel or role "
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

    @group.command(name="snooze", description="Hold the pings about an issue or pull request")
    @app_commands.describe(
        item="owner/repo#12, or the item's GitHub link",
        duration="How long: 12h, 3d, 1d12h (at most 30 days)",
        reason="Why, for the other maintainers (shown in the digest)",
    )
    async def snooze(
        self,
        interaction: discord.Interaction,
        item: app_commands.Range[str, 1, 200],
        duration: app_commands.Range[str, 1, 20],
        reason: app_commands.Range[str, 1, snoozes.MAX_REASON],
    ) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        if problem := maintainer_problem(self.settings, interaction.user):
            raise DomainError(problem)
        async with self.bot.runtime.sessions.begin() as session:
            done = await snoozes.snooze(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                interaction.user.id,
                item=item,
                duration=duration,
                reason=reason,
                now=self.bot.clock.now(),
            )
        await interaction.response.send_message(
            f"Snoozed {done.link} “{escape(done.title)}” until {timestamp(done.until, 'f')}: "
            f"no pings about it until then. Reason: {done.shown_reason}",
            ephemeral=True,
        )


async def setup(bot: HeliosBot) -> None:
    settings = bot.config.settings.sla
    if settings is not None:
        await bot.add_cog(ServiceLevels(bot, settings))
