# SPDX-License-Identifier: Apache-2.0
"""`/link`: anyone's GitHub link and time zone, and the linking buttons `/start` shares.

Mentors and maintainers who never ran `/start` link here the same way newcomers do: through
GitHub's device flow (verified), or with a typed login where ``allow_unverified_link``
allows it (unverified). `/start`'s GitHub step and `/link` show the same buttons under
custom ids of their own, so after the link each message goes on its own way: `/start` to
its next step, `/link` to the link it now shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HeliosBot
from bot.config import OnboardingSettings
from bot.errors import DomainError
from bot.log import get_logger
from bot.services import linking, members
from bot.services.linking import DeviceCode
from bot.services.members import Link, show_offset
from bot.text import escape
from cogs._interactions import Form, PersistentView
from cogs.onboarding.common import COLOUR, ensure_enabled

log = get_logger(__name__)


@dataclass(frozen=True)
class LinkIds:
    """The custom ids of one screen's linking buttons and form."""

    device: str
    manual: str
    form: str


class LinkScreen(Protocol):
    """A message a member links their GitHub account from: `/start`'s step, or `/link`."""

    bot: HeliosBot
    settings: OnboardingSettings
    flows: DeviceFlows
    ids: LinkIds

    async def linked(self, interaction: discord.Interaction, link: Link) -> None:
        """Show, in the message the member linked from, what comes after the link."""


class DeviceFlows:
    """The device flow each member is waiting on: one at a time, the newest, from `/start`
    or `/link` alike (a new code abandons the earlier one, which then links nothing)."""

    def __init__(self, bot: HeliosBot) -> None:
        self.bot = bot
        self._polls: dict[int, asyncio.Task[None]] = {}

    async def start(self, interaction: discord.Interaction, screen: LinkScreen) -> None:
        await interaction.response.defer()  # GitHub may take a moment to give us a code
        user_id = interaction.user.id
        # The earlier code is abandoned before the new one shows: approving it a moment
        # later must link nothing.
        if (earlier := self._polls.pop(user_id, None)) is not None:
            earlier.cancel()
        code = await linking.begin_verification(self.bot.runtime.context)
        embed = discord.Embed(
            title="Link your GitHub account",
            description=(
                f"1. Open **{code.verification_uri}**\n"
                f"2. Enter the code **`{code.user_code}`**\n"
                "3. Approve. This message updates by itself once GitHub tells us.\n\n"
                f"The code works for {(code.expires_at - self.bot.clock.now()).seconds // 60} "
                "minutes."
            ),
            colour=COLOUR,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Open GitHub", url=code.verification_uri))
        await interaction.edit_original_response(embed=embed, view=view)
        task = asyncio.create_task(self._finish(interaction, code, screen))
        self._polls[user_id] = task
        task.add_done_callback(functools.partial(self._ended, user_id))

    def _ended(self, user_id: int, task: asyncio.Task[None]) -> None:
        if self._polls.get(user_id) is task:
            del self._polls[user_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            # Nobody awaits this task: its failure must still reach the logs.
            log.error("linking a GitHub account failed", exc_info=error)

    async def _finish(
        self, interaction: discord.Interaction, code: DeviceCode, screen: LinkScreen
    ) -> None:
        try:
            link = await linking.finish_verification(
                self.bot.runtime.context, code, user_id=interaction.user.id
            )
        except DomainError as exc:
            embed = discord.Embed(title="Link your GitHub account", description=exc.user_message)
            embed.colour = discord.Colour.orange()
            view = GitHubView(screen, label="Try again")
            await interaction.edit_original_response(embed=embed, view=view)
            return
        await screen.linked(interaction, link)

    async def close(self) -> None:
        for task in self._polls.values():
            task.cancel()
        for task in list(self._polls.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task


class GitHubView(PersistentView):
    """**Link with GitHub** (the device flow) and, where the config allows it, **Type my
    GitHub login instead**, for one screen."""

    def __init__(
        self, screen: LinkScreen, *, label: str = "Link with GitHub", typed: bool = True
    ) -> None:
        super().__init__(screen.bot)
        self.screen = screen
        if screen.bot.runtime.verifier is not None:
            button: discord.ui.Button[GitHubView] = discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=screen.ids.device
            )
            button.callback = self._device_flow  # type: ignore[method-assign]
            self.add_item(button)
        if typed and screen.settings.allow_unverified_link:
            manual: discord.ui.Button[GitHubView] = discord.ui.Button(
                label="Type my GitHub login instead", custom_id=screen.ids.manual
            )
            manual.callback = self._manual  # type: ignore[method-assign]
            self.add_item(manual)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        ensure_enabled(self.bot)
        return True

    async def _device_flow(self, interaction: discord.Interaction) -> None:
        await self.screen.flows.start(interaction, self.screen)

    async def _manual(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(LoginModal(self.screen))


class LoginModal(Form, title="Your GitHub login"):
    login: discord.ui.TextInput[LoginModal] = discord.ui.TextInput(
        label="GitHub login", custom_id="login", placeholder="octocat", max_length=39
    )

    def __init__(self, screen: LinkScreen) -> None:
        super().__init__(screen.bot, custom_id=screen.ids.form)
        self.screen = screen

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        link = await linking.link_typed_login(
            self.bot.runtime.context, user_id=interaction.user.id, login=self.login.value
        )
        await self.screen.linked(interaction, link)


class GitHubLink(commands.Cog):
    """`/link`, for everyone: newcomers may use it as well as `/start`'s step."""

    ids = LinkIds("link:device", "link:manual", "link:login")

    def __init__(
        self,
        bot: HeliosBot,
        settings: OnboardingSettings,
        flows: DeviceFlows,
        *,
        on_linked: Callable[[int], None],
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.flows = flows
        # Tells `/start` the member's link changed (it remembers their progress).
        self.on_linked = on_linked

    async def cog_unload(self) -> None:
        await self.flows.close()

    @app_commands.command(name="link", description="Link your GitHub account, or see your link")
    @app_commands.describe(timezone="Your time zone as an offset from UTC, like UTC+1 or UTC-5")
    @app_commands.guild_only()
    async def link(self, interaction: discord.Interaction, timezone: str | None = None) -> None:
        assert interaction.guild_id is not None
        ensure_enabled(self.bot)
        guild_id, user_id = interaction.guild_id, interaction.user.id
        if timezone:
            offset = members.parse_utc_offset(timezone)
            async with self.bot.runtime.sessions.begin() as session:
                link = await members.set_utc_offset(session, guild_id, user_id, offset)
        else:
            link = await self.bot.runtime.read(
                lambda session: members.current(session, guild_id, user_id)
            )
        embed, view = self.render(link)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    def render(self, link: Link) -> tuple[discord.Embed, discord.ui.View]:
        zone = f"Time zone: {show_offset(link.utc_offset)} (`/link timezone:` sets it)."
        if link.github_login is None:
            embed = discord.Embed(
                title="Link your GitHub account",
                description="Linking tells the bot who you are on GitHub, so that what you "
                f"do there is recognised here.\n\n{zone}",
                colour=COLOUR,
            )
            return embed, GitHubView(self)
        # A typed login never replaces a verified link (bot/services/members.py).
        view = GitHubView(
            self,
            label="Link another account" if link.github_verified else "Verify with GitHub",
            typed=not link.github_verified,
        )
        how = "verified by GitHub" if link.github_verified else "typed, not verified"
        lines = [f"Linked to GitHub as **{escape(link.github_login)}** ({how}).", zone]
        if view.children:
            lines += ["", "To link another account, use the button below."]
        embed = discord.Embed(title="Your GitHub link", description="\n".join(lines), colour=COLOUR)
        return embed, view

    async def linked(self, interaction: discord.Interaction, link: Link) -> None:
        self.on_linked(interaction.user.id)
        embed, view = self.render(link)
        await interaction.edit_original_response(embed=embed, view=view)
