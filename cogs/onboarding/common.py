# SPDX-License-Identifier: Apache-2.0
"""What the newcomer path's cogs share: the feature switch, recommendations, issue lines."""

from __future__ import annotations

import discord

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.services import onboarding
from bot.services.recommend import Recommendation, recommend

FEATURE = "onboarding"
COLOUR = discord.Colour.blurple()


def ensure_enabled(bot: HeliosBot) -> None:
    if not bot.feature_enabled(FEATURE):
        raise DomainError(
            "The newcomer path is turned off right now: its configured role or channel "
            "doesn't exist on this server. Please tell an organiser."
        )


async def recommendations(
    bot: HeliosBot, settings: OnboardingSettings, user_id: int
) -> list[Recommendation]:
    """The five issues best matched to this member's areas."""
    guild_id = bot.config.settings.discord.guild_id
    async with bot.runtime.sessions() as session:
        progress = await onboarding.current(session, guild_id, user_id)
        return await recommend(
            session,
            guild_id=guild_id,
            areas=progress.areas,
            area_labels=area_labels(settings),
            beginner_labels=settings.beginner_labels,
            priority_labels=settings.priority_labels,
        )


def area_labels(settings: OnboardingSettings) -> dict[str, list[str]]:
    return {area.name: area.labels for area in settings.areas}


def issue_line(issue: Recommendation) -> str:
    matched = f" ({', '.join(issue.areas)})" if issue.areas else ""
    return f"- [{issue.repository}#{issue.number}]({issue.url}) {issue.title}{matched}"
