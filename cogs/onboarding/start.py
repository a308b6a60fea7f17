# SPDX-License-Identifier: Apache-2.0
"""`/start`: the newcomer path, one private message that moves step by step.

Every button and menu has a stable custom id and belongs to a persistent view registered at
start-up, so a message shown before a restart keeps working after it. The views hold no
state: each click reads the member's progress from the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.services import members, onboarding
from bot.services.members import Link, show_offset
from bot.services.onboarding import EXPERIENCE_LEVELS, Progress, Step
from bot.text import escape
from cogs._interactions import PersistentView
from cogs.onboarding.claims import claim_button
from cogs.onboarding.common import COLOUR, ensure_enabled, issue_line, recommendations
from cogs.onboarding.link import DeviceFlows, GitHubView, LinkIds

# The time zones offered at the interests step, in minutes east of UTC: a select holds at
# most 25, so whole hours from UTC-10 to UTC+13 (the most populated) and India's UTC+5:30.
# Shown and sent as "UTC+5:30", kept as minutes.
TIME_ZONES = {
    show_offset(minutes): minutes
    for minutes in [*range(-10 * 60, 6 * 60, 60), 5 * 60 + 30, *range(6 * 60, 14 * 60, 60)]
}

ACCEPT_ID = "onboarding:coc:accept"
AREAS_ID = "onboarding:areas"
EXPERIENCE_ID = "onboarding:experience"
TIME_ZONE_ID = "onboarding:time-zone"
INTERESTS_DONE_ID = "onboarding:interests:done"
FINISH_ID = "onboarding:finish"


class Onboarding(commands.Cog):
    # The GitHub step's buttons and form (cogs/onboarding/link.py).
    ids = LinkIds("onboarding:link:device", "onboarding:link:manual", "onboarding:link:login")

    def __init__(self, bot: HeliosBot, settings: OnboardingSettings, flows: DeviceFlows) -> None:
        self.bot = bot
        self.settings = settings
        self.flows = flows
        # Who has a row, kept by this process, the only one that answers interactions: a
        # member not in it is at the start without asking the database. A row written
        # elsewhere only means their first screen is the welcome, whose button then catches
        # up with the stored progress.
        self._started: set[int] = set()
        # Their progress as this process last changed or read it. Every change is one of the
        # member's own interactions here, so resuming needs no read: under load, the read's
        # hop to a thread was most of a resumed /start's latency. As above, a row changed
        # elsewhere is caught up by the member's next step.
        self._progress: dict[int, Progress] = {}
        self._changes = 0  # a read that a change overtakes is not remembered

    async def cog_load(self) -> None:
        guild_id = self.bot.guild_id
        self._started = await self.bot.runtime.read(lambda s: onboarding.started(s, guild_id))

    async def cog_unload(self) -> None:
        await self.flows.close()

    # --- the command ---------------------------------------------------------------------

    @app_commands.command(name="start", description="Start contributing: a guided first hour")
    @app_commands.guild_only()
    async def start(self, interaction: discord.Interaction) -> None:
        ensure_enabled(self.bot)
        progress = await self.current(interaction)
        embed, view = await self.render(interaction, progress)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def current(self, interaction: discord.Interaction) -> Progress:
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if user_id not in self._started:
            # Most /start calls come from people who have never begun: they need no query.
            return onboarding.fresh()
        if (known := self._progress.get(user_id)) is not None:
            return known
        changes = self._changes
        progress = await self.bot.runtime.read(
            lambda session: onboarding.current(session, guild_id, user_id)
        )
        if changes == self._changes:
            self._progress[user_id] = progress
        return progress

    def _remember(self, user_id: int, progress: Progress | None) -> None:
        """Record a change of the member's progress (None: read it again when next needed)."""
        self._started.add(user_id)
        self._changes += 1
        if progress is None:
            self._progress.pop(user_id, None)
        else:
            self._progress[user_id] = progress

    def forget(self, user_id: int) -> None:
        """The member linked GitHub with `/link`: their step may have moved on."""
        if user_id in self._started:
            self._remember(user_id, None)

    async def change(
        self,
        interaction: discord.Interaction,
        action: Callable[..., Awaitable[Progress]],
        *args: object,
    ) -> Progress:
        """Apply one step of the path for the member behind ``interaction``, in a transaction."""
        assert interaction.guild_id is not None
        async with self.bot.runtime.sessions.begin() as session:
            progress = await action(
                session, interaction.guild_id, interaction.user.id, *args, self.bot.clock.now()
            )
        self._remember(interaction.user.id, progress)
        return progress

    # --- rendering -----------------------------------------------------------------------

    async def render(
        self, interaction: discord.Interaction, progress: Progress
    ) -> tuple[discord.Embed, discord.ui.View]:
        if progress.step is Step.CODE_OF_CONDUCT:
            embed = discord.Embed(
                title=f"Welcome to {interaction.guild.name if interaction.guild else 'us'}!",
                description=(
                    "We're glad you're here. In a few steps you'll have an issue to work on "
                    "and people to help you.\n\nFirst, please read our Code of Conduct: it is "
                    "how we look after each other."
                ),
                colour=COLOUR,
            )
            return embed, CodeOfConductView(self)
        if progress.step is Step.INTERESTS:
            embed = discord.Embed(
                title="What would you like to work on?",
                description="Pick the areas that interest you and tell us your experience. "
                "There are no wrong answers: this only helps us suggest issues.",
                colour=COLOUR,
            )
            return embed, InterestsView(self)
        if progress.step is Step.GITHUB:
            embed = discord.Embed(
                title="Link your GitHub account",
                description="Contributions happen on GitHub. Linking your account lets us "
                "assign issues to you and celebrate your first pull request.",
                colour=COLOUR,
            )
            return embed, GitHubView(self)
        return await self.render_issues(interaction, progress)

    async def render_issues(
        self, interaction: discord.Interaction, progress: Progress
    ) -> tuple[discord.Embed, discord.ui.View]:
        settings = self.settings
        assert interaction.guild_id is not None
        issues = await recommendations(self.bot, self.settings, interaction.user.id)
        linked = f"**{escape(progress.github_login or '')}**" + (
            "" if progress.github_verified else " (unverified)"
        )
        lines = [f"Linked to GitHub as {linked}.", ""]
        if issues:
            lines.append("Issues picked for you:")
            lines += [issue_line(issue) for issue in issues]
        else:
            lines.append("No open good-first-issue matches right now; new ones appear often.")
        lines += [
            "",
            "**Your first steps**",
            f"1. Read the [contributing guide]({settings.contributing_url}).",
            f"2. Set up your machine: `{settings.dev_setup_command}`.",
            f"3. Questions are welcome in <#{settings.help_channel_id}>.",
        ]
        title = "You're all set!" if progress.step is Step.DONE else "Almost there"
        embed = discord.Embed(title=title, description="\n".join(lines), colour=COLOUR)
        view = FinishView(self, done=progress.step is Step.DONE)
        for issue in issues:
            view.add_item(claim_button(issue))
        return embed, view

    async def show(self, interaction: discord.Interaction, progress: Progress) -> None:
        """Replace the message the member clicked on with the step they are now at."""
        embed, view = await self.render(interaction, progress)
        if interaction.response.is_done():
            await interaction.edit_original_response(embed=embed, view=view)
        else:
            await interaction.response.edit_message(embed=embed, view=view)

    # --- GitHub linking (the buttons and the device flow: cogs/onboarding/link.py) --------

    async def linked(self, interaction: discord.Interaction, link: Link) -> None:
        """The step after the link: read again, since the link was not the only thing that
        could have changed meanwhile (the member's other messages)."""
        self._remember(interaction.user.id, None)
        await self.show(interaction, await self.current(interaction))

    async def finish(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        async with self.bot.runtime.sessions.begin() as session:
            first_time = await onboarding.finish(
                session,
                interaction.guild.id,
                interaction.user.id,
                self.bot.clock.now(),
                self.settings.newcomer_role_id,
            )
        self._remember(interaction.user.id, None)
        await self.show(interaction, await self.current(interaction))
        if first_time:
            # Other features may follow up (mentorship offers a mentor); onboarding knows none.
            self.bot.dispatch("newcomer_finished", interaction)


def _values(interaction: discord.Interaction) -> list[str]:
    """What the member picked in a select menu, read from this interaction alone."""
    data = cast(Mapping[str, Any], interaction.data or {})
    return [str(value) for value in data.get("values", [])]


# --- views: stateless and persistent ----------------------------------------------------


class PathView(PersistentView):
    def __init__(self, cog: Onboarding) -> None:
        super().__init__(cog.bot)
        self.cog = cog

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        ensure_enabled(self.bot)
        return True


class CodeOfConductView(PathView):
    def __init__(self, cog: Onboarding) -> None:
        super().__init__(cog)
        self.add_item(
            discord.ui.Button(
                label="Read the Code of Conduct", url=cog.settings.code_of_conduct_url
            )
        )

    @discord.ui.button(label="I accept", style=discord.ButtonStyle.success, custom_id=ACCEPT_ID)
    async def accept(
        self, interaction: discord.Interaction, _button: discord.ui.Button[CodeOfConductView]
    ) -> None:
        await self.cog.show(
            interaction, await self.cog.change(interaction, onboarding.accept_code_of_conduct)
        )


class InterestsView(PathView):
    def __init__(self, cog: Onboarding) -> None:
        super().__init__(cog)
        areas: discord.ui.Select[InterestsView] = discord.ui.Select(
            custom_id=AREAS_ID,
            placeholder="Areas of interest",
            min_values=1,
            max_values=len(cog.settings.areas),
            options=[
                discord.SelectOption(label=a.name, value=a.name, description=a.description or None)
                for a in cog.settings.areas
            ],
            row=0,
        )
        areas.callback = self._areas  # type: ignore[method-assign]
        experience: discord.ui.Select[InterestsView] = discord.ui.Select(
            custom_id=EXPERIENCE_ID,
            placeholder="Your experience",
            options=[discord.SelectOption(label=t, value=v) for v, t in EXPERIENCE_LEVELS.items()],
            row=1,
        )
        experience.callback = self._experience  # type: ignore[method-assign]
        time_zone: discord.ui.Select[InterestsView] = discord.ui.Select(
            custom_id=TIME_ZONE_ID,
            placeholder="Your time zone (optional)",
            options=[discord.SelectOption(label=zone) for zone in TIME_ZONES],
            row=2,
        )
        time_zone.callback = self._time_zone  # type: ignore[method-assign]
        self.add_item(areas)
        self.add_item(experience)
        self.add_item(time_zone)

    async def _areas(self, interaction: discord.Interaction) -> None:
        offered = [area.name for area in self.cog.settings.areas]
        await self.cog.change(interaction, onboarding.choose_areas, _values(interaction), offered)
        await interaction.response.defer()  # the menu shows the choice; nothing else changes

    async def _experience(self, interaction: discord.Interaction) -> None:
        (level,) = _values(interaction) or [""]
        await self.cog.change(interaction, onboarding.choose_experience, level)
        await interaction.response.defer()

    async def _time_zone(self, interaction: discord.Interaction) -> None:
        (zone,) = _values(interaction) or [""]
        if zone not in TIME_ZONES:
            raise DomainError("Please pick one of the time zones offered.")
        assert interaction.guild_id is not None
        async with self.cog.bot.runtime.sessions.begin() as session:
            await members.set_utc_offset(
                session, interaction.guild_id, interaction.user.id, TIME_ZONES[zone]
            )
        await interaction.response.defer()

    @discord.ui.button(
        label="Continue", style=discord.ButtonStyle.primary, custom_id=INTERESTS_DONE_ID, row=3
    )
    async def done(
        self, interaction: discord.Interaction, _button: discord.ui.Button[InterestsView]
    ) -> None:
        progress = await self.cog.current(interaction)
        if progress.step is Step.INTERESTS:
            raise DomainError("Pick at least one area and your experience first.")
        await self.cog.show(interaction, progress)


class FinishView(PathView):
    def __init__(self, cog: Onboarding, *, done: bool = False) -> None:
        super().__init__(cog)
        if not done:
            button: discord.ui.Button[FinishView] = discord.ui.Button(
                label="Finish", style=discord.ButtonStyle.success, custom_id=FINISH_ID
            )
            button.callback = cog.finish  # type: ignore[method-assign]
            self.add_item(button)
