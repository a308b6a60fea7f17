# SPDX-License-Identifier: Apache-2.0
"""Claiming an issue from Discord, giving it back, and answering a claim reminder.

The Claim buttons carry the issue in their custom ids (dynamic items), so they work on any
message: recommendations, `/issues` pages, refusals with alternatives, forever.
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
from bot.github.client import GitHubUnavailable
from bot.log import get_logger
from bot.services import claims
from bot.services.recommend import Recommendation
from cogs.onboarding.common import ensure_enabled, issue_line, recommendations

log = get_logger(__name__)


class Claims(commands.Cog):
    def __init__(self, bot: HeliosBot, settings: OnboardingSettings) -> None:
        self.bot = bot
        self.settings = settings

    async def claim_issue(
        self, interaction: discord.Interaction, repository_id: int, number: int
    ) -> None:
        ensure_enabled(self.bot)
        github = self.bot.runtime.github
        if github is None:
            raise DomainError("GitHub isn't connected here yet; please tell an organiser.")
        assert interaction.guild_id is not None
        # Assigning on GitHub can take a second or two: acknowledge at once.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            async with self.bot.runtime.sessions.begin() as session:
                target = await claims.claim(
                    session,
                    guild_id=interaction.guild_id,
                    user_id=interaction.user.id,
                    repository_id=repository_id,
                    number=number,
                    max_active=self.settings.max_active_claims,
                    now=self.bot.clock.now(),
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
        by_comment = target.repository in self.settings.claim_by_comment
        try:
            if by_comment:
                await github.comment(
                    target.repository,
                    target.number,
                    f"@{target.github_login} is working on this (claimed in the community's "
                    "Discord). Thank you!",
                )
            else:
                await github.assign(target.repository, target.number, target.github_login)
        except GitHubUnavailable as exc:
            log.warning("claim of %s#%d failed on GitHub: %s", target.repository, number, exc)
            async with self.bot.runtime.sessions.begin() as session:
                await claims.withdraw(session, target.claim_id, self.bot.clock.now())
            raise DomainError(
                "GitHub didn't accept the claim just now, so the issue is still free. "
                "Please try again in a little while."
            ) from exc
        if by_comment:
            async with self.bot.runtime.sessions.begin() as session:
                await claims.record_method(session, target.claim_id, "commented")
        how = "commented on it for you" if by_comment else "assigned it to you"
        await interaction.followup.send(
            f"It's yours: [{target.repository}#{target.number}]({target.url}) "
            f"{target.title}. I've {how} on GitHub.\n"
            f"Open a pull request when you're ready; questions are welcome in "
            f"<#{self.settings.help_channel_id}>.",
            ephemeral=True,
        )

    @app_commands.command(name="unclaim", description="Give an issue you claimed back")
    @app_commands.describe(issue="The issue to give back (you only need this with several)")
    @app_commands.guild_only()
    async def unclaim(self, interaction: discord.Interaction, issue: str | None = None) -> None:
        ensure_enabled(self.bot)
        assert interaction.guild_id is not None
        async with self.bot.runtime.sessions() as session:
            held = await claims.active_claims(session, interaction.guild_id, interaction.user.id)
        if not held:
            raise DomainError("You have no claimed issue right now. `/start` suggests some.")
        if issue is None and len(held) > 1:
            raise DomainError("You hold several issues: say which one with the `issue` option.")
        chosen = next((c for c in held if issue in (None, f"{c.repository}#{c.number}")), None)
        if chosen is None:
            raise DomainError(f"You don't hold {issue}.")
        await self.give_back(interaction, chosen)

    async def give_back(self, interaction: discord.Interaction, chosen: claims.ClaimTarget) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.runtime.sessions.begin() as session:
            await claims.withdraw(session, chosen.claim_id, self.bot.clock.now())
        github = self.bot.runtime.github
        if github is not None and chosen.repository not in self.settings.claim_by_comment:
            try:
                await github.unassign(chosen.repository, chosen.number, chosen.github_login)
            except GitHubUnavailable as exc:
                log.warning("unassigning %s#%d failed: %s", chosen.repository, chosen.number, exc)
        await interaction.followup.send(
            f"Done: {chosen.repository}#{chosen.number} is free again. Thanks for saying so!",
            ephemeral=True,
        )

    async def keep_or_drop(
        self, interaction: discord.Interaction, claim_id: int, keep: bool
    ) -> None:
        """The buttons on a claim reminder, which arrives by direct message (no guild)."""
        guild_id = self.bot.config.settings.discord.guild_id
        target: claims.ClaimTarget | None
        async with self.bot.runtime.sessions.begin() as session:
            if keep:
                target = await claims.renew(
                    session, guild_id, interaction.user.id, claim_id, self.bot.clock.now()
                )
            else:
                held = await claims.active_claims(session, guild_id, interaction.user.id)
                target = next((c for c in held if c.claim_id == claim_id), None)
        if target is None:
            raise DomainError("That claim has ended already. `/issues` shows what is open now.")
        if not keep:
            await self.give_back(interaction, target)
            return
        await interaction.response.send_message(
            f"Great, {target.link} stays yours. Take your time, and shout in the help "
            "channel if anything is unclear.",
            ephemeral=True,
        )

    @unclaim.autocomplete("issue")
    async def _held_issues(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.guild_id is not None
        async with self.bot.runtime.sessions() as session:
            held = await claims.active_claims(session, interaction.guild_id, interaction.user.id)
        names = [f"{c.repository}#{c.number}" for c in held]
        return [app_commands.Choice(name=n, value=n) for n in names if typed.lower() in n.lower()]


class ClaimButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"claim:(?P<repository>[0-9]+):(?P<number>[0-9]+)",
):
    """ "Claim #N": its custom id carries the issue, so it works on any message, forever."""

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

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _cog(interaction)
        try:
            await cog.claim_issue(interaction, self.repository_id, self.number)
        except Exception as exc:
            await cog.bot.report_interaction_error(interaction, exc)


class ClaimReminderButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"claim:(?P<choice>keep|drop):(?P<claim>[0-9]+)",
):
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

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _cog(interaction)
        try:
            await cog.keep_or_drop(interaction, self.claim_id, self.keep)
        except Exception as exc:
            await cog.bot.report_interaction_error(interaction, exc)


def _cog(interaction: discord.Interaction) -> Claims:
    bot = interaction.client
    assert isinstance(bot, HeliosBot)
    cog = bot.get_cog("Claims")
    assert isinstance(cog, Claims)
    return cog


class ClaimButtons(discord.ui.View):
    def __init__(self, issues: Sequence[Recommendation]) -> None:
        super().__init__(timeout=None)
        for issue in issues:
            self.add_item(claim_button(issue))


def claim_button(issue: Recommendation) -> ClaimButton:
    name = issue.repository.split("/")[-1]
    return ClaimButton(issue.repository_id, issue.number, f"Claim {name}#{issue.number}")
