# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program on Discord: `/mentor ...` for mentors and organisers, `/buddy`
for newcomers, and a match offered as `/start` ends. A member leaving the server is handled
by retention (bot/services/retention.py), in the same transaction as its own steps.

The rules live in bot/services/mentorship/; introductions and notices go through the
outbox. docs/mentorship.md explains the program.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import MentorshipSettings
from bot.errors import DomainError
from bot.log import get_logger
from bot.services import members, mentorship
from bot.services.members import show_offset
from bot.services.mentorship import MenteeState, MentorProfile, Request, check_ins
from bot.text import escape, timestamp
from cogs._interactions import ID, DynamicButton, cog_of, helios
from cogs.admin import organiser_problem

log = get_logger(__name__)

# What the bot needs in the thread channel, and what mentor and mentee need (Discord's names).
BOT_NEEDS = ("view_channel", "create_private_threads", "send_messages_in_threads")
MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100
# A check-in's stage in a custom id: who was asked, and on which day of the pairing.
STAGE = r"(?:mentor|mentee)-[0-9]{1,3}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _profile(areas: list[str], capacity: int, offset: int | None, languages: list[str]) -> str:
    """ "docs, core · UTC+1 · up to 2 mentees · English, français" """
    parts = [", ".join(areas), show_offset(offset), f"up to {_plural(capacity, 'mentee')}"]
    if languages:
        parts.append(escape(", ".join(languages)))
    return " · ".join(parts)


class Mentorship(commands.Cog):
    mentor = app_commands.Group(
        name="mentor", description="The mentor buddy program", guild_only=True
    )

    def __init__(self, bot: HeliosBot, settings: MentorshipSettings) -> None:
        self.bot = bot
        self.settings = settings
        self._channel_checked = False

    # --- shared ------------------------------------------------------------------------

    def ensure_enabled(self) -> None:
        if not self.bot.feature_enabled(mentorship.NAME):
            raise DomainError(
                "The mentor program is turned off right now: its configured role or channel "
                "doesn't exist on this server. Please tell an organiser."
            )

    def _offered_areas(self) -> list[str]:
        section = self.bot.config.settings.onboarding
        return [area.name for area in section.areas] if section is not None else []

    def request_answer(self, result: Request) -> str:
        """What a newcomer is told about their request, at the end of `/start` or `/buddy`."""
        if result.place is not None:
            return (
                f"All our mentors are busy right now; you're number {result.place} in line. "
                "We'll introduce you as soon as someone is free."
            )
        pairing = result.pairing
        assert pairing.ends_at is not None
        channel = self.settings.thread_channel_id
        hello = (
            f"say hello in the private thread for you both in <#{channel}>."
            if channel is not None
            else "I've sent you both a direct message: say hello!"
        )
        until = "" if result.new else f" until {timestamp(pairing.ends_at, 'D')}"
        return f"Your mentor is <@{pairing.mentor_id}>{until} (why: {pairing.reason}); {hello}"

    async def _request(self, guild_id: int, user_id: int, offset: int | None = None) -> str:
        now = self.bot.clock.now()
        async with self.bot.runtime.sessions.begin() as session:
            if offset is not None:
                await members.set_utc_offset(session, guild_id, user_id, offset)
            result = await mentorship.request(
                session, self.bot.config.settings, guild_id, user_id, now
            )
            return self.request_answer(result)

    # --- newcomers ---------------------------------------------------------------------

    @app_commands.command(name="buddy", description="Ask for a mentor for your first month")
    @app_commands.describe(timezone="Your time zone as an offset from UTC, like UTC+1 or UTC-5")
    @app_commands.guild_only()
    async def buddy(self, interaction: discord.Interaction, timezone: str | None = None) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        offset = members.parse_utc_offset(timezone) if timezone else None
        answer = await self._request(interaction.guild_id, interaction.user.id, offset)
        await interaction.response.send_message(answer, ephemeral=True)

    @commands.Cog.listener()
    async def on_newcomer_finished(self, interaction: discord.Interaction) -> None:
        """`/start` was just finished: find the newcomer a mentor, and say how it went."""
        if interaction.guild_id is None or not self.bot.feature_enabled(mentorship.NAME):
            return
        answer = await self._request(interaction.guild_id, interaction.user.id)
        await interaction.followup.send(answer, ephemeral=True)

    # --- mentors -----------------------------------------------------------------------

    @mentor.command(name="join", description="Become a mentor, or change what you offer")
    @app_commands.describe(
        areas="The areas you can help with, separated by commas",
        capacity="How many newcomers you can mentor at a time",
        timezone="Your time zone as an offset from UTC, like UTC+1 or UTC-5",
        languages="The languages you can mentor in, separated by commas",
    )
    async def join(
        self,
        interaction: discord.Interaction,
        areas: str,
        capacity: app_commands.Range[int, 1, 10] | None = None,
        timezone: str | None = None,
        languages: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        user = interaction.user
        approved = isinstance(user, discord.Member) and (
            user.get_role(self.settings.mentor_role_id) is not None
        )
        profile = MentorProfile(
            areas=tuple(dict.fromkeys(a.strip().lower() for a in areas.split(",") if a.strip())),
            capacity=capacity or self.settings.default_capacity,
            utc_offset=members.parse_utc_offset(timezone) if timezone else None,
            languages=mentorship.parse_languages(languages),
        )
        async with self.bot.runtime.sessions.begin() as session:
            row = await mentorship.join(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                user.id,
                profile,
                offered=self._offered_areas(),
                approved=approved,
                now=self.bot.clock.now(),
            )
            link = await session.run_sync(members.current, interaction.guild_id, user.id)
            shown = _profile(row.areas, row.capacity, link.utc_offset, row.languages)
            status = row.status
        if status == "pending":
            answer = (
                f"Thanks for offering to mentor ({shown}). An organiser must approve you "
                "before you're matched with newcomers."
            )
        elif status == "paused":
            answer = f"Profile updated ({shown}). You're paused: `/mentor resume` ends it."
        else:
            answer = f"You're a mentor: {shown}."
        await interaction.response.send_message(answer, ephemeral=True)

    @join.autocomplete("areas")
    async def complete_areas(
        self, _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Completes the last area of the comma-separated list typed so far."""
        *earlier, last = current.split(",")
        chosen = [a.strip().lower() for a in earlier if a.strip()]
        typed = last.strip().lower()
        choices = []
        for name in self._offered_areas():
            value = ", ".join([*chosen, name])
            if name not in chosen and name.startswith(typed) and len(value) <= MAX_CHOICE_LENGTH:
                choices.append(app_commands.Choice(name=value, value=value))
        return choices[:MAX_CHOICES]

    @mentor.command(name="approve", description="Organisers: approve a member as a mentor")
    @app_commands.describe(member="The member who asked with /mentor join")
    async def approve(self, interaction: discord.Interaction, member: discord.Member) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        if problem := organiser_problem(self.bot, interaction.user):
            raise DomainError(problem)
        async with self.bot.runtime.sessions.begin() as session:
            row = await mentorship.approve(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                member.id,
                self.bot.clock.now(),
            )
            link = await session.run_sync(members.current, interaction.guild_id, member.id)
            shown = _profile(row.areas, row.capacity, link.utc_offset, row.languages)
        await interaction.response.send_message(
            f"<@{member.id}> is now a mentor: {shown}.", ephemeral=True
        )

    @mentor.command(name="pause", description="Take no new mentees for a while")
    @app_commands.describe(until="A day (YYYY-MM-DD) or a number of days; empty: until resumed")
    async def pause(self, interaction: discord.Interaction, until: str | None = None) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        now = self.bot.clock.now()
        end = mentorship.parse_until(until, now) if until else None
        async with self.bot.runtime.sessions.begin() as session:
            await mentorship.pause(session, interaction.guild_id, interaction.user.id, end, now)
        when = f"until {timestamp(end, 'D')}" if end else "until you `/mentor resume`"
        await interaction.response.send_message(
            f"Paused {when}: no new mentees meanwhile. Your current mentees stay with you.",
            ephemeral=True,
        )

    @mentor.command(name="resume", description="Take new mentees again")
    async def resume(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        async with self.bot.runtime.sessions.begin() as session:
            row = await mentorship.resume(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                interaction.user.id,
                self.bot.clock.now(),
            )
            status = row.status
        await interaction.response.send_message(
            "You're still waiting for an organiser's approval."
            if status == "pending"
            else "You're available: newcomers can be matched with you.",
            ephemeral=True,
        )

    @mentor.command(name="leave", description="Stop mentoring; your mentees are handed over")
    async def leave(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        async with self.bot.runtime.sessions.begin() as session:
            handed_over = await mentorship.leave(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                interaction.user.id,
                self.bot.clock.now(),
            )
        mentees = (
            f"{_plural(handed_over, 'mentee')} handed over: each is told who takes over."
            if handed_over
            else "You had no current mentees."
        )
        await interaction.response.send_message(
            f"You've stepped back from mentoring. Thank you! {mentees}", ephemeral=True
        )

    @mentor.command(name="mentees", description="Your mentees and what they are working on")
    async def mentees(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        async with self.bot.runtime.sessions() as session:
            states = await mentorship.mentees(
                session, interaction.guild_id, interaction.user.id, self.bot.clock.now()
            )
        if not states:
            await interaction.response.send_message(
                "You have no mentees right now: newcomers are matched with you as they ask.",
                ephemeral=True,
            )
            return
        embed = discord.Embed(
            title=f"Your mentees ({len(states)})",
            description="\n".join(_mentee_line(state) for state in states),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # --- the server --------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        if guild.id == self.bot.guild_id and not self._channel_checked:
            self._channel_checked = True
            self.check_thread_channel(guild)

    def check_thread_channel(self, guild: discord.Guild) -> None:
        """A private thread shows only to its members, and only inside a channel they can
        view: say at start-up if the pairings' channel cannot work. A missing channel is
        reported with the other ids (HeliosBot.check_config_refs)."""
        channel_id = self.settings.thread_channel_id
        channel = guild.get_channel(channel_id) if channel_id is not None else None
        if channel is None:
            return
        problems = []
        if not isinstance(channel, discord.TextChannel):
            problems.append("it is not a text channel")
        else:
            mine = channel.permissions_for(guild.me)
            if missing := [name for name in BOT_NEEDS if not getattr(mine, name)]:
                problems.append(f"the bot lacks {', '.join(missing)}")
            onboarding_settings = self.bot.config.settings.onboarding
            members = [("mentorship.mentor_role_id", guild.get_role(self.settings.mentor_role_id))]
            if onboarding_settings is not None:
                newcomer_role = guild.get_role(onboarding_settings.newcomer_role_id)
                members.append(("onboarding.newcomer_role_id", newcomer_role))
            else:
                members.append(("@everyone", guild.default_role))
            for key, role in members:
                if role is not None and not channel.permissions_for(role).view_channel:
                    problems.append(f"role {role.name} ({key}) cannot view it")
        if problems:
            log.error(
                "config mentorship.thread_channel_id: #%s (%d) cannot hold the pairings' "
                "private threads: %s; introductions there fail until this is fixed",
                channel.name,
                channel.id,
                "; ".join(problems),
            )


def _mentee_line(state: MenteeState) -> str:
    login = state.github_login
    github = f"GitHub **{escape(login)}**" if login else "GitHub not linked"
    working_on = (
        f"{state.claim.link} {state.claim.shown_title}" if state.claim else "no issue claimed"
    )
    active = (
        f"last active {timestamp(state.last_activity, 'R')}"
        if state.last_activity
        else "no activity yet"
    )
    return (
        f"- <@{state.user_id}> · {github} · {working_on} · "
        f"{_plural(state.pull_requests, 'pull request')} · {active} · "
        f"{_plural(state.days_left, 'day')} left"
    )


class AnswerButton(
    DynamicButton,
    template=rf"mentorship:answer:(?P<pairing>{ID}):(?P<stage>{STAGE}):(?P<answer>[a-z_]{{1,16}})",
):
    """An answer to a check-in ("Talked", "Stuck", ...), sent with it through the outbox. Its
    custom id names the pairing, the stage and the answer; the service checks each against
    the database, and that the person clicking is the one asked."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], pairing_id: int, stage: str, answer: str
    ) -> None:
        super().__init__(item)
        self.pairing_id, self.stage, self.answer = pairing_id, stage, answer

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> AnswerButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["pairing"]), match["stage"], match["answer"])

    async def clicked(self, interaction: discord.Interaction) -> None:
        bot = helios(interaction)
        cog_of(bot, Mentorship).ensure_enabled()
        async with bot.runtime.sessions.begin() as session:
            answered = await check_ins.answer(
                session,
                bot.config.settings,
                guild_id=bot.guild_id,
                pairing_id=self.pairing_id,
                stage=self.stage,
                answer=self.answer,
                user_id=interaction.user.id,
                now=bot.clock.now(),
            )
        # The question keeps its text and loses its buttons; the answer shows under it.
        asked = interaction.message.content if interaction.message else ""
        await interaction.response.edit_message(content=f"{asked}\n\n{answered}", view=None)


async def setup(bot: HeliosBot) -> None:
    settings = bot.config.settings.mentorship
    if settings is not None:
        bot.add_dynamic_items(AnswerButton)
        await bot.add_cog(Mentorship(bot, settings))
