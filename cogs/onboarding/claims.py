# SPDX-License-Identifier: Apache-2.0
"""Claiming an issue from Discord, giving it back, and answering a claim reminder.

The Claim buttons carry the issue in their custom ids (dynamic items), so they work on any
message: recommendations, `/issues` pages, refusals with alternatives, forever. The rules and
the GitHub side live in bot/services/claims.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.services import claims
from bot.services.recommend import Recommendation
from bot.text import escape
from cogs._interactions import ID, DynamicButton, cog_of, helios
from cogs.onboarding.common import ensure_enabled, issue_line, recommendations

# What the claim did on GitHub (bot/services/claims.py ClaimMethod), said to the member.
ON_GITHUB = {
    "assigned": "I've assigned it to you on GitHub.",
    "commented": "I've commented on it for you on GitHub.",
    "unverified": "Your GitHub link isn't verified, so I haven't told GitHub: say on the "
    "issue that you're working on it.",
}


class Claims(commands.Cog):
    def __init__(self, bot: HeliosBot, settings: OnboardingSettings) -> None:
        self.bot = bot
        self.settings = settings

    async def claim_issue(
        self, interaction: discord.Interaction, repository_id: int, number: int
    ) -> None:
        ensure_enabled(self.bot)
        # Assigning on GitHub can take a second or two: acknowledge at once.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            target = await claims.take(
                self.bot.runtime.context,
                user_id=interaction.user.id,
                repository_id=repository_id,
                number=number,
            )
        except claims.ClaimRefused as refused:
            # Ranked only when needed: most claims succeed.
            offered = await recommendations(self.bot, self.settings, interaction.user.id)
            others = [a for a in offered if (a.repository_id, a.number) != (repository_id, number)]
            lines = [refused.user_message, *(issue_line(a) for a in others)]
            await interaction.followup.send(
                "\n".join(lines), view=ClaimButtons(others), ephemeral=True
            )
            return
        await interaction.followup.send(
            f"It's yours: {target.link} {target.shown_title}. {ON_GITHUB[target.method]}\n"
            f"Open a pull request when you're ready; questions are welcome in "
            f"<#{self.settings.help_channel_id}>.",
            ephemeral=True,
        )

    @app_commands.command(name="unclaim", description="Give an issue you claimed back")
    @app_commands.describe(issue="The issue to give back (you only need this with several)")
    @app_commands.guild_only()
    async def unclaim(self, interaction: discord.Interaction, issue: str | None = None) -> None:
        ensure_enabled(self.bot)
        held = await self._held(interaction)
        if not held:
            raise DomainError("You have no claimed issue right now. `/start` suggests some.")
        if issue is None and len(held) > 1:
            raise DomainError("You hold several issues: say which one with the `issue` option.")
        chosen = next((c for c in held if issue in (None, f"{c.repository}#{c.number}")), None)
        if chosen is None:
            assert issue is not None  # without one, the first claim held is chosen
            raise DomainError(f"You don't hold {escape(issue)}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        unassigned = await claims.give_back(self.bot.runtime.context, chosen)
        await self._given_back(interaction, chosen, unassigned)

    async def keep_or_drop(
        self, interaction: discord.Interaction, claim_id: int, keep: bool
    ) -> None:
        """The buttons on a claim reminder, which arrives by direct message (no guild)."""
        context, user_id = self.bot.runtime.context, interaction.user.id
        if not keep:
            target = await claims.held_claim(context, user_id=user_id, claim_id=claim_id)
            await interaction.response.defer(ephemeral=True, thinking=True)
            unassigned = await claims.give_back(context, target)
            await self._given_back(interaction, target, unassigned)
            return
        target = await claims.keep(context, user_id=user_id, claim_id=claim_id)
        await interaction.response.send_message(
            f"Great, {target.link} stays yours. Take your time, and shout in the help "
            "channel if anything is unclear.",
            ephemeral=True,
        )

    @staticmethod
    async def _given_back(
        interaction: discord.Interaction, target: claims.ClaimTarget, unassigned: bool
    ) -> None:
        issue = f"{escape(target.repository)}#{target.number}"
        await interaction.followup.send(
            f"Done: {issue} is free again. Thanks for saying so!"
            if unassigned
            else f"Done: {issue} is no longer yours here. GitHub didn't answer just now, so it "
            "may still show you as assigned there for a while; I'll keep asking it to let go.",
            ephemeral=True,
        )

    async def _held(self, interaction: discord.Interaction) -> list[claims.ClaimTarget]:
        assert interaction.guild_id is not None
        async with self.bot.runtime.sessions() as session:
            return await claims.active_claims(session, interaction.guild_id, interaction.user.id)

    @unclaim.autocomplete("issue")
    async def _held_issues(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        names = [f"{c.repository}#{c.number}" for c in await self._held(interaction)]
        return [app_commands.Choice(name=n, value=n) for n in names if typed.lower() in n.lower()]


class ClaimButton(DynamicButton, template=rf"claim:(?P<repository>{ID}):(?P<number>{ID})"):
    """ "Claim #N": its custom id carries the issue."""

    def __init__(self, repository_id: int, number: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"claim:{repository_id}:{number}",
            )
        )
        self.repository_id = repository_id
        self.number = number

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ClaimButton:
        label = getattr(item, "label", None) or f"Claim #{match['number']}"
        return cls(int(match["repository"]), int(match["number"]), label)

    async def clicked(self, interaction: discord.Interaction) -> None:
        await cog_of(helios(interaction), Claims).claim_issue(
            interaction, self.repository_id, self.number
        )


class ClaimReminderButton(DynamicButton, template=rf"claim:(?P<choice>keep|drop):(?P<claim>{ID})"):
    """ "I'm still on it" / "Give it back" on a claim reminder (sent through the outbox)."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], choice: str, claim_id: int
    ) -> None:
        super().__init__(item)
        self.keep = choice == "keep"
        self.claim_id = claim_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ClaimReminderButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["choice"], int(match["claim"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        await cog_of(helios(interaction), Claims).keep_or_drop(
            interaction, self.claim_id, self.keep
        )


class ClaimButtons(discord.ui.View):
    def __init__(self, issues: Sequence[Recommendation]) -> None:
        super().__init__(timeout=None)
        for issue in issues:
            self.add_item(claim_button(issue))


def claim_button(issue: Recommendation) -> ClaimButton:
    name = issue.repository.split("/")[-1]
    return ClaimButton(issue.repository_id, issue.number, f"Claim {name}#{issue.number}")
