# SPDX-License-Identifier: Apache-2.0
"""What the newcomer path's cogs share: the feature switch, recommendations, issue lines."""

from __future__ import annotations

import discord
from sqlalchemy.orm import Session

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.services import onboarding
from bot.services.recommend import Recommendation, recommend
from bot.text import escape, link

COLOUR = discord.Colour.blurple()


def ensure_enabled(bot: HeliosBot) -> None:
    if not bot.feature_enabled(onboarding.NAME):
        raise DomainError(
            "The newcomer path is turned off right now: its configured role or channel "
            "doesn't exist on this server. Please tell an organiser."
        )


async def recommendations(
    bot: HeliosBot,
    settings: OnboardingSettings,
    user_id: int,
    *,
    limit: int | None = 5,
    only_area: str | None = None,
    repository_id: int | None = None,
) -> list[Recommendation]:
    """Issues for this member, best matched to their areas first (a read, in a thread)."""
    guild_id = bot.config.settings.discord.guild_id

    def read(session: Session) -> list[Recommendation]:
        progress = onboarding.current(session, guild_id, user_id)
        return recommend(
            session,
            github=bot.config.settings.github,
            guild_id=guild_id,
            areas=progress.areas,
            area_labels=area_labels(settings),
            beginner_labels=settings.beginner_labels,
            priority_labels=settings.priority_labels,
            limit=limit,
            only_area=only_area,
            repository_id=repository_id,
        )

    return await bot.runtime.read(read)


def area_labels(settings: OnboardingSettings) -> dict[str, list[str]]:
    return {area.name: area.labels for area in settings.areas}


def issue_line(issue: Recommendation) -> str:
    matched = f" ({', '.join(issue.areas)})" if issue.areas else ""
    shown = link(f"{issue.repository}#{issue.number}", issue.url)
    return f"- {shown} {escape(issue.title)}{matched}"
