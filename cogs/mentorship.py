# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program on Discord: `/mentor ...` for mentors and organisers, `/buddy`
for newcomers, and a match offered as `/start` ends. A member leaving the server is handled
by retention (bot/services/retention.py), in the same transaction as its own steps.

The rules live in bot/services/mentorship/; introductions and notices go through the
outbox. docs/mentorship.md explains the program.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import MentorshipSettings
from bot.errors import DomainError
from bot.log import get_logger
from bot.services import members, mentorship
from bot.services.members import show_offset
from bot.services.mentorship import MenteeState, MentorProfile, Request, check_ins, wrap_up
from bot.services.mentorship.stats import (
    MIN_SAMPLE,
    Cohort,
    Median,
    MentorOutcome,
    Outcomes,
    Scores,
    Share,
    outcomes,
)
from bot.text import escape, timestamp
from cogs._interactions import ID, DynamicButton, Form, answer_under_question, cog_of, helios
from cogs.admin import organiser_problem

log = get_logger(__name__)

# What the bot needs in the thread channel, and what mentor and mentee need (Discord's names).
BOT_NEEDS = ("view_channel", "create_private_threads", "send_messages_in_threads", "manage_threads")
MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100
# A check-in's stage in a custom id: who was asked, and on which day of the pairing.
STAGE = r"(?:mentor|mentee)-[0-9]{1,3}"
# The feedback form's score choices, best first.
SCORES = {
    "5": "5: very helpful",
    "4": "4: helpful",
    "3": "3: all right",
    "2": "2: not very helpful",
    "1": "1: not helpful",
}


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

    def organisers_only(self, interaction: discord.Interaction) -> None:
        self.ensure_enabled()
        if problem := organiser_problem(self.bot, interaction.user):
            raise DomainError(problem)

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
        self.organisers_only(interaction)
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
            handed_over = await mentorship.pause(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                interaction.user.id,
                end,
                now,
            )
        when = f"until {timestamp(end, 'D')}" if end else "until you `/mentor resume`"
        mentees = (
            f"{_plural(handed_over, 'mentee')} handed over, as your pause outlasts their "
            "pairing: each is told who takes over."
            if handed_over
            else "Your current mentees stay with you."
        )
        await interaction.response.send_message(
            f"Paused {when}: no new mentees meanwhile. {mentees}", ephemeral=True
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

    @mentor.command(name="reassign", description="Organisers: give a mentee another mentor")
    @app_commands.describe(
        mentee="The newcomer to move", mentor="Their new mentor (empty: the best one with room)"
    )
    async def reassign(
        self,
        interaction: discord.Interaction,
        mentee: discord.Member,
        mentor: discord.Member | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        self.organisers_only(interaction)
        async with self.bot.runtime.sessions.begin() as session:
            pairing = await mentorship.reassign(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                mentee.id,
                mentor.id if mentor else None,
                self.bot.clock.now(),
            )
            answer = (
                f"<@{mentee.id}> is now paired with <@{pairing.mentor_id}> ({pairing.reason}); "
                "everyone involved is told."
                if pairing.status == "active"
                else f"Every mentor is full: <@{mentee.id}> waits at the front of the line."
            )
        await interaction.response.send_message(answer, ephemeral=True)

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

    # --- organisers --------------------------------------------------------------------

    @mentor.command(name="stats", description="Organisers: the mentor program's outcomes")
    @app_commands.describe(mentor="Show this mentor's line alone")
    async def show_stats(
        self, interaction: discord.Interaction, mentor: discord.Member | None = None
    ) -> None:
        assert interaction.guild_id is not None
        self.organisers_only(interaction)
        guild_id, now = interaction.guild_id, self.bot.clock.now()
        github = self.bot.config.settings.github
        mentor_id = mentor.id if mentor is not None else None
        found = await self.bot.runtime.read(
            lambda session: outcomes(session, github, guild_id, now, mentor_id=mentor_id)
        )
        await interaction.response.send_message(embed=outcomes_embed(found), ephemeral=True)


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


# An embed's description holds 4096 characters: the mentors' lines stop short of it.
DESCRIPTION_ROOM = 3900


def outcomes_embed(found: Outcomes) -> discord.Embed:
    """`/mentor stats`: the overall figures, the comparison, then a line per mentor."""
    steps, waited = found.first_steps, found.waiting
    longest = _duration(waited.longest) if waited.longest is not None else "none"
    lines = [
        f"**Mentees**: {steps.mentees}, {steps.measured} measured (a verified GitHub account, "
        "no pull request before `/start`)",
        f"First pull request within 30 days: {_share(steps.first_pr_in_30_days)} · "
        f"median time to it: {_median(steps.time_to_first_pr)}",
        f"Feedback from mentees: {_scores(found.feedback_from_mentees)} · "
        f"from mentors: {_scores(found.feedback_from_mentors)}",
        f"Check-ins answered: {_share(found.check_ins)}",
        f"Load: {found.load.mentees} of {_plural(found.load.capacity, 'place')} taken now · "
        f"{_ratio(found.load.recent)} over the last 90 days",
        f"Without an active mentor (last 90 days): longest {longest} · "
        f"mentees over 72 h: {_share(waited.over_limit)}",
        "",
        f"**Mentored or not**, newcomers who finished `/start` in {_months(found.months)} "
        "(measured ones)",
        f"Mentored: {_cohort(found.mentored)}",
        f"Not mentored: {_cohort(found.unmentored)}",
        "",
        f"**Mentors** (— from fewer than {MIN_SAMPLE}: too few to tell)",
    ]
    description = "\n".join(lines)
    for shown, mentor in enumerate(found.mentors):
        line = "\n" + _mentor_line(mentor)
        if len(description) + len(line) > DESCRIPTION_ROOM:
            left = len(found.mentors) - shown
            description += f"\n… and {left} more: `/mentor stats mentor:` shows one."
            break
        description += line
    if not found.mentors:
        description += "\nNone yet."
    return discord.Embed(
        title="Mentor program outcomes", description=description, colour=discord.Colour.blurple()
    )


def _mentor_line(mentor: MentorOutcome) -> str:
    steps = mentor.first_steps
    status = "" if mentor.status == "active" else f" ({mentor.status})"
    load = (
        f"load {mentor.load.mentees}/{mentor.load.capacity} now, "
        f"{_ratio(mentor.load.recent)} over 90 days"
        if mentor.load is not None
        else "gone"
    )
    return (
        f"- <@{mentor.user_id}>{status} · {_plural(steps.mentees, 'mentee')} "
        f"({steps.measured} measured) · first PR in 30 days "
        f"{_share(steps.first_pr_in_30_days)} · median {_median(steps.time_to_first_pr)} · "
        f"feedback {_scores(mentor.feedback)} · check-ins {_share(mentor.check_ins)} · {load}"
    )


def _cohort(cohort: Cohort) -> str:
    return (
        f"{cohort.newcomers} · time to first merge: {_median(cohort.time_to_first_merge)} · "
        f"second pull request within 90 days: {_share(cohort.second_pr_in_90_days)}"
    )


def _months(months: tuple[date, ...]) -> str:
    """ "Jan 2026, Mar 2026", or over a long program "the 14 months with a mentee from Jan 2026
    to Mar 2027"."""
    if not months:
        return "no month with a mentee yet"
    if len(months) <= 3:
        return ", ".join(f"{month:%b %Y}" for month in months)
    return f"the {len(months)} months with a mentee from {months[0]:%b %Y} to {months[-1]:%b %Y}"


def _ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.0%}"


def _share(share: Share) -> str:
    """ "67% (4 of 6)", or "— (2 of 3)" from too few to tell."""
    return f"{_ratio(share.ratio)} ({share.hits} of {share.of})"


def _median(median: Median) -> str:
    shown = _duration(median.median) if median.median is not None else "—"
    return f"{shown} (of {median.count})"


def _scores(scores: Scores) -> str:
    shown = f"{scores.mean:.1f}/5" if scores.mean is not None else "—"
    return f"{shown} ({scores.count})"


def _duration(duration: timedelta) -> str:
    """Hours up to two days, then days: "30 h", "4.5 days"."""
    hours = duration / timedelta(hours=1)
    return f"{hours:.0f} h" if hours < 48 else f"{round(hours / 24, 1):g} days"


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
        await answer_under_question(interaction, answered)


class PairingButton(DynamicButton, template=r"(?!)"):
    """A button about one pairing, named in its custom id (checked against the database by
    the service, with the person clicking)."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], pairing_id: int) -> None:
        super().__init__(item)
        self.pairing_id = pairing_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> Self:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["pairing"]))


class DeclineButton(PairingButton, template=rf"mentorship:decline:(?P<pairing>{ID})"):
    """A mentee asks for another mentor (once); sent to them alone with their match."""

    async def clicked(self, interaction: discord.Interaction) -> None:
        bot = helios(interaction)
        cog_of(bot, Mentorship).ensure_enabled()
        async with bot.runtime.sessions.begin() as session:
            pairing = await mentorship.decline(
                session,
                bot.config.settings,
                guild_id=bot.guild_id,
                pairing_id=self.pairing_id,
                user_id=interaction.user.id,
                now=bot.clock.now(),
            )
            answer = (
                f"Done: your new mentor is <@{pairing.mentor_id}>; look out for their introduction."
                if pairing.status == "active"
                else "Done: every mentor is busy right now, so you're first in line for "
                "the next one free."
            )
        await answer_under_question(interaction, answer)


class FeedbackButton(PairingButton, template=rf"mentorship:feedback:(?P<pairing>{ID})"):
    """Opens the feedback form, for the mentor or the mentee of a pairing wrapping up."""

    async def clicked(self, interaction: discord.Interaction) -> None:
        bot = helios(interaction)
        cog_of(bot, Mentorship).ensure_enabled()
        async with bot.runtime.sessions() as session:
            await wrap_up.can_give_feedback(
                session,
                guild_id=bot.guild_id,
                pairing_id=self.pairing_id,
                user_id=interaction.user.id,
            )
        await interaction.response.send_modal(FeedbackForm(bot, self.pairing_id))


class FeedbackForm(Form, title="How was your pairing?"):
    def __init__(self, bot: HeliosBot, pairing_id: int) -> None:
        super().__init__(bot, custom_id=f"mentorship:feedback-form:{pairing_id}")
        self.pairing_id = pairing_id
        self.score: discord.ui.Select[FeedbackForm] = discord.ui.Select(
            custom_id="score",
            options=[
                discord.SelectOption(label=label, value=value) for value, label in SCORES.items()
            ],
        )
        self.words: discord.ui.TextInput[FeedbackForm] = discord.ui.TextInput(
            custom_id="words",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=wrap_up.MAX_FEEDBACK,
        )
        self.add_item(discord.ui.Label(text="How helpful was it?", component=self.score))
        self.add_item(
            discord.ui.Label(
                text="Anything to share?",
                description="Only the organisers see it.",
                component=self.words,
            )
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        async with self.bot.runtime.sessions.begin() as session:
            await wrap_up.give_feedback(
                session,
                guild_id=self.bot.guild_id,
                pairing_id=self.pairing_id,
                user_id=interaction.user.id,
                score=self.score.values[0] if self.score.values else "",
                text=self.words.value,
                now=self.bot.clock.now(),
            )
        await interaction.response.send_message(
            "Thank you! Your feedback helps the next pairings.", ephemeral=True
        )


class ExtendButton(
    DynamicButton, template=rf"mentorship:extend:(?P<pairing>{ID}):(?P<wrap_up>[0-9]{{1,12}})"
):
    """One of the two wants to go on; the pairing is extended once both have clicked."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], pairing_id: int, wrap_up: int
    ) -> None:
        super().__init__(item)
        self.pairing_id, self.wrap_up = pairing_id, wrap_up

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ExtendButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["pairing"]), int(match["wrap_up"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        bot = helios(interaction)
        cog_of(bot, Mentorship).ensure_enabled()
        async with bot.runtime.sessions.begin() as session:
            answer = await wrap_up.extend(
                session,
                bot.config.settings,
                guild_id=bot.guild_id,
                pairing_id=self.pairing_id,
                wrap_up=self.wrap_up,
                user_id=interaction.user.id,
                now=bot.clock.now(),
            )
        await interaction.response.send_message(answer, ephemeral=True)


async def setup(bot: HeliosBot) -> None:
    settings = bot.config.settings.mentorship
    if settings is not None:
        bot.add_dynamic_items(AnswerButton, DeclineButton, FeedbackButton, ExtendButton)
        await bot.add_cog(Mentorship(bot, settings))
