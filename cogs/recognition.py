# SPDX-License-Identifier: Apache-2.0
"""Recognition on Discord: `/kudos` for anyone, `/spotlight opt-out` and `opt-in` for anyone,
`/spotlight preview`, `skip` and `post-now` and `/newsletter` for organisers, and the consent
question's buttons. The weekly spotlight itself comes from the feature's job, through the outbox
(bot/services/recognition/); docs/recognition.md explains the rules.
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import RecognitionSettings
from bot.errors import DomainError
from bot.services.recognition import NAME, consent, kudos, newsletter, spotlight
from bot.text import timestamp
from cogs._interactions import DynamicButton, answer_under_question, cog_of, helios
from cogs.admin import organiser_problem

# A Discord user id in a custom id: snowflakes run to 19 digits and more. The one in a
# consent button is compared with the clicker's own id before any database read.
USER_ID = r"[0-9]{1,20}"


class Recognition(commands.Cog):
    group = app_commands.Group(
        name="spotlight",
        description="The weekly spotlight: whether you're featured, and the organisers' tools",
        guild_only=True,
    )

    def __init__(self, bot: HeliosBot, settings: RecognitionSettings) -> None:
        self.bot = bot
        self.settings = settings

    def ensure_enabled(self) -> None:
        if not self.bot.feature_enabled(NAME):
            raise DomainError(
                "Recognition is turned off right now: its configured channel doesn't exist on "
                "this server. Please tell an organiser."
            )

    def organisers_only(self, interaction: discord.Interaction) -> None:
        self.ensure_enabled()
        if problem := organiser_problem(self.bot, interaction.user):
            raise DomainError(problem)

    @app_commands.command(name="kudos", description="Thank someone for their help")
    @app_commands.describe(member="Who to thank", reason="What you're thanking them for")
    @app_commands.guild_only()
    async def give_kudos(
        self,
        interaction: discord.Interaction,
        member: discord.User,
        reason: app_commands.Range[str, 1, kudos.MAX_REASON],
    ) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        async with self.bot.runtime.sessions.begin() as session:
            given = await kudos.give(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                giver_id=interaction.user.id,
                receiver_id=member.id,
                receiver_is_bot=member.bot,
                reason=reason,
                now=self.bot.clock.now(),
            )
        await interaction.response.send_message(
            f"Kudos sent to <@{given.receiver_id}>: they'll get a direct message. "
            f"({given.left} more you can give in these 24 hours.)",
            ephemeral=True,
        )

    @group.command(name="opt-out", description="Never be featured in the spotlight by name")
    async def opt_out(self, interaction: discord.Interaction) -> None:
        await self._opt(interaction, featured=False)

    @group.command(name="opt-in", description="Agree to be featured in the spotlight")
    async def opt_in(self, interaction: discord.Interaction) -> None:
        await self._opt(interaction, featured=True)

    async def _opt(self, interaction: discord.Interaction, *, featured: bool) -> None:
        assert interaction.guild_id is not None
        self.ensure_enabled()
        async with self.bot.runtime.sessions.begin() as session:
            await consent.opt(
                session, interaction.guild_id, interaction.user.id, featured, self.bot.clock.now()
            )
        answer = (
            "You're in: from the next spotlight on, you may be featured when you've "
            "contributed. `/spotlight opt-out` changes it at any time."
            if featured
            else "You're out: from the next spotlight on, you won't be featured or named. "
            "`/spotlight opt-in` changes it at any time."
        )
        await interaction.response.send_message(answer, ephemeral=True)

    @group.command(name="preview", description="Organisers: this week's candidates and scores")
    async def preview(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.organisers_only(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found, status = await self._this_week(interaction.guild_id)
        shown = spotlight.preview_embed(found, status)
        await interaction.followup.send(embed=discord.Embed.from_dict(shown), ephemeral=True)

    async def _this_week(self, guild_id: int) -> tuple[spotlight.Spotlight, str | None]:
        settings, now = self.bot.config.settings, self.bot.clock.now()
        async with self.bot.runtime.sessions() as session:
            week = await spotlight.current_week(session, settings, guild_id, now)
            status = await spotlight.decided(session, guild_id, week)
        found = await self.bot.runtime.read(
            lambda session: spotlight.candidates(session, settings, guild_id, week, now)
        )
        return found, status

    @group.command(name="skip", description="Organisers: no spotlight this week")
    async def skip(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.organisers_only(interaction)
        now = self.bot.clock.now()
        async with self.bot.runtime.sessions.begin() as session:
            week = await spotlight.skip(
                session, self.bot.config.settings, interaction.guild_id, interaction.user.id, now
            )
        when = spotlight.post_time(self.settings, week)
        await interaction.response.send_message(
            f"The spotlight of {timestamp(when, 'F')} won't be posted. The next comes a week "
            "later.",
            ephemeral=True,
        )

    @group.command(name="post-now", description="Organisers: post this week's spotlight now")
    async def post_now(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        self.organisers_only(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found, _status = await self._this_week(interaction.guild_id)
        async with self.bot.runtime.sessions.begin() as session:
            await spotlight.post_now(
                session,
                self.bot.config.settings,
                interaction.guild_id,
                found,
                interaction.user.id,
                self.bot.clock.now(),
            )
        await interaction.followup.send(
            f"Posted in <#{self.settings.spotlight_channel_id}>, featuring "
            f"{', '.join(c.who for c in found.featured)}. The scheduled post of "
            f"{timestamp(spotlight.post_time(self.settings, found.week), 'F')} won't repeat it.",
            ephemeral=True,
        )

    @app_commands.command(
        name="newsletter", description="Organisers: a month's newsletter, as a Markdown file"
    )
    @app_commands.describe(month="The month, as YYYY-MM (2026-01); this month's is so far")
    @app_commands.guild_only()
    async def make_newsletter(self, interaction: discord.Interaction, month: str) -> None:
        assert interaction.guild_id is not None
        assert interaction.guild is not None
        self.organisers_only(interaction)
        chosen = newsletter.parse_month(month)
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings, guild_id, now = (
            self.bot.config.settings,
            interaction.guild_id,
            self.bot.clock.now(),
        )
        # Discord's names for the members the history cannot name by a GitHub login.
        members = {member.id: member.display_name for member in interaction.guild.members}
        text = await self.bot.runtime.read(
            lambda session: newsletter.compose(session, settings, guild_id, chosen, now, members)
        )
        attached = discord.File(io.BytesIO(text.encode()), filename=newsletter.file_name(chosen))
        await interaction.followup.send(
            f"The newsletter of {chosen:%B %Y}, in Markdown: people are named only with their "
            "consent, as it stands now.",
            file=attached,
            ephemeral=True,
        )


class ConsentButton(
    DynamicButton,
    template=(
        rf"recognition:consent:(?P<week>[0-9]{{8}}):(?P<user>{USER_ID}):(?P<answer>[a-z_]{{1,8}})"
    ),
):
    """An answer to the consent question, sent with it through the outbox; the service
    checks its parts against the database and the person clicking."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], week: str, user_id: int, answer: str
    ) -> None:
        super().__init__(item)
        self.week, self.user_id, self.answer = week, user_id, answer

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ConsentButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["week"], int(match["user"]), match["answer"])

    async def clicked(self, interaction: discord.Interaction) -> None:
        bot = helios(interaction)
        cog_of(bot, Recognition).ensure_enabled()
        async with bot.runtime.sessions.begin() as session:
            said = await consent.answer(
                session,
                bot.guild_id,
                week=consent.parse_week(self.week),
                asked_id=self.user_id,
                user_id=interaction.user.id,
                given=self.answer,
                now=bot.clock.now(),
            )
        await answer_under_question(interaction, said)


async def setup(bot: HeliosBot) -> None:
    settings = bot.config.settings.recognition
    if settings is not None:
        bot.add_dynamic_items(ConsentButton)
        await bot.add_cog(Recognition(bot, settings))
