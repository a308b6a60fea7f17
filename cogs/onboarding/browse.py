# SPDX-License-Identifier: Apache-2.0
"""`/issues [area] [repo]`: browse every good-first-issue, a page at a time, with Claim buttons.

The page buttons carry the page and the filters in their custom ids, so any page shown before
a restart still turns after it; each click reads the issues afresh.
"""

from __future__ import annotations

import math
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.services.recommend import repositories_named
from bot.text import escape
from cogs._interactions import ID, DynamicButton, cog_of, helios
from cogs.onboarding.claims import claim_button
from cogs.onboarding.common import (
    COLOUR,
    area_labels,
    ensure_enabled,
    issue_line,
    recommendations,
)

PAGE_SIZE = 5


class Issues(commands.Cog):
    def __init__(self, bot: HeliosBot, settings: OnboardingSettings) -> None:
        self.bot = bot
        self.settings = settings

    @app_commands.command(name="issues", description="Browse good first issues")
    @app_commands.describe(area="Only issues in this area", repo="Only issues in this repository")
    @app_commands.guild_only()
    async def issues(
        self, interaction: discord.Interaction, area: str | None = None, repo: str | None = None
    ) -> None:
        repository_id = await self._repository_id(repo) if repo else None
        if area is not None and area not in area_labels(self.settings):
            raise DomainError(
                f"There is no area called **{escape(area)}**: pick one from the list."
            )
        embed, view = await self.page(interaction, 0, area, repository_id)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def page(
        self,
        interaction: discord.Interaction,
        number: int,
        area: str | None,
        repository_id: int | None,
    ) -> tuple[discord.Embed, discord.ui.View]:
        ensure_enabled(self.bot)
        found = await recommendations(
            self.bot,
            self.settings,
            interaction.user.id,
            limit=None,
            only_area=area,
            repository_id=repository_id,
        )
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        number = min(number, pages - 1)  # issues may have gone since the button was drawn
        shown = found[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        title = "Good first issues" + (f" in {area}" if area else "")
        if repository_id is not None and shown:
            title += f" in {escape(shown[0].repository)}"
        embed = discord.Embed(title=title, colour=COLOUR)
        if shown:
            embed.description = "\n".join(issue_line(issue) for issue in shown)
            embed.set_footer(text=f"Page {number + 1} of {pages} · {len(found)} open")
        else:
            embed.description = (
                "Nothing open matches right now; new issues appear often. "
                "Try without a filter, or ask in the help channel what needs doing."
            )
        view = discord.ui.View(timeout=None)
        for issue in shown:
            view.add_item(claim_button(issue))
        if pages > 1:
            for label, target in (("Previous", number - 1), ("Next", number + 1)):
                turn = PageButton(max(target, 0), area, repository_id, label)
                turn.item.disabled = not 0 <= target < pages
                view.add_item(turn)
        return embed, view

    async def _repository_id(self, typed: str) -> int:
        github = self.bot.config.settings.github
        named = await self.bot.runtime.read(lambda s: repositories_named(s, github, typed.strip()))
        exact = [rid for rid, name in named if name.lower() == typed.strip().lower()]
        if exact or len(named) == 1:
            return exact[0] if exact else named[0][0]
        raise DomainError(
            f"I don't follow a repository called **{escape(typed)}**: pick one from the list."
        )

    @issues.autocomplete("area")
    async def _area_choices(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=name, value=name)
            for name in area_labels(self.settings)
            if typed.lower() in name
        ][:25]

    @issues.autocomplete("repo")
    async def _repo_choices(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        github = self.bot.config.settings.github
        named = await self.bot.runtime.read(lambda s: repositories_named(s, github, typed))
        return [app_commands.Choice(name=name, value=name) for _, name in named]


class PageButton(
    DynamicButton,
    template=rf"issues:(?P<page>[0-9]{{1,4}}):(?P<area>[a-z0-9-]{{0,32}}):(?P<repository>{ID}|)",
):
    """Previous / Next: the page and the filters live in the custom id."""

    def __init__(self, page: int, area: str | None, repository_id: int | None, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"issues:{page}:{area or ''}:{repository_id or ''}",
            )
        )
        self.page, self.area, self.repository_id = page, area, repository_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PageButton:
        repository = match["repository"]
        label = getattr(item, "label", None) or "Next"
        return cls(
            int(match["page"]),
            match["area"] or None,
            int(repository) if repository else None,
            label,
        )

    async def clicked(self, interaction: discord.Interaction) -> None:
        cog = cog_of(helios(interaction), Issues)
        embed, view = await cog.page(interaction, self.page, self.area, self.repository_id)
        await interaction.response.edit_message(embed=embed, view=view)
