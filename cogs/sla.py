# SPDX-License-Identifier: Apache-2.0
"""Service levels on Discord: `/sla snooze` for maintainers. The pings themselves come from
the feature's job, through the outbox (bot/services/sla/pings.py); docs/sla.md explains them.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import SlaSettings
from bot.errors import DomainError
from bot.services import sla
from bot.services.sla import snoozes
from bot.text import escape, timestamp


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
        name="sla", description="Service levels: triage and review times", guild_only=True
    )

    def __init__(self, bot: HeliosBot, settings: SlaSettings) -> None:
        self.bot = bot
        self.settings = settings

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
        if not self.bot.feature_enabled(sla.NAME):
            raise DomainError(
                "Service-level pings are turned off right now: their configured channel or role "
                "doesn't exist on this server. Please tell an organiser."
            )
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
