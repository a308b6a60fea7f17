# SPDX-License-Identifier: Apache-2.0
"""What every cog's views, forms and buttons share: the one error path, and typed access to
the bot and its cogs from an interaction.

Errors raised while handling a click or a form reach ``HeliosBot.report_interaction_error``,
which answers the person privately (a domain error's own message, or an error id).
"""

from __future__ import annotations

from typing import TypeVar

import discord
from discord.ext import commands

from bot.app import HeliosBot

CogT = TypeVar("CogT", bound=commands.Cog)
# A number in a dynamic item's custom id: a forged one with more digits than a BIGINT holds
# would fail deep in the database instead of not matching at all.
ID = r"[0-9]{1,18}"


def helios(interaction: discord.Interaction) -> HeliosBot:
    bot = interaction.client
    if not isinstance(bot, HeliosBot):
        raise TypeError(f"interaction of {type(bot).__name__}, not HeliosBot")
    return bot


def cog_of(bot: HeliosBot, cls: type[CogT]) -> CogT:
    """The loaded cog of class ``cls``."""
    found = bot.get_cog(cls.__cog_name__)
    if not isinstance(found, cls):
        raise LookupError(f"cog {cls.__cog_name__} is not loaded")
    return found


class PersistentView(discord.ui.View):
    """A view that never times out (registered once with ``bot.add_view``)."""

    def __init__(self, bot: HeliosBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[PersistentView],
    ) -> None:
        await self.bot.report_interaction_error(interaction, error)


class Form(discord.ui.Modal):
    def __init__(self, bot: HeliosBot, *, custom_id: str) -> None:
        super().__init__(custom_id=custom_id)
        self.bot = bot

    # discord.py's Modal narrows BaseView.on_error's signature; mypy sees it as an override.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await self.bot.report_interaction_error(interaction, error)


class DynamicButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"(?!)",  # matches nothing: each subclass gives its own
):
    """A button whose custom id carries its state, so it works on any message, forever.
    Subclasses implement ``clicked``."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.clicked(interaction)
        except Exception as exc:
            await helios(interaction).report_interaction_error(interaction, exc)

    async def clicked(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


async def answer_under_question(interaction: discord.Interaction, answer: str) -> None:
    """The question keeps its text and loses its buttons; the answer shows under it."""
    asked = interaction.message.content if interaction.message else ""
    await interaction.response.edit_message(content=f"{asked}\n\n{answer}", view=None)
