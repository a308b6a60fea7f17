# SPDX-License-Identifier: Apache-2.0
"""The Discord side: the Bot subclass that owns every resource of the `run` mode.

``setup_hook`` opens the runtime (database, HTTP session, web server) and loads the cogs;
``close`` closes the gateway first, then the runtime, in reverse order of opening.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
import time
import uuid
from collections.abc import Mapping

import discord
from discord import app_commands
from discord.ext import commands

import cogs
from bot.clock import Clock
from bot.config import Config, ConfigError, discord_refs
from bot.errors import DomainError
from bot.github.api import GitHubUnavailable
from bot.log import get_logger
from bot.runtime import (
    CLOSE_RESERVE,
    GATEWAY_CLOSE,
    SHUTDOWN_DEADLINE,
    Deadline,
    Runtime,
    bounded,
    shutdown_signals,
)
from bot.services.command_sync import needs_sync, payload_hash, record_sync

log = get_logger(__name__)

GITHUB_UNAVAILABLE = "GitHub isn't answering right now. Please try again in a moment."

# Discord refusing the bot for what only its operator can fix: one line saying what to change,
# and exit status 2, as for any configuration error (bot/__main__.py).
CLOSE_AUTHENTICATION_FAILED = 4004
LOGIN_REFUSED = (
    "environment: DISCORD_TOKEN: Discord refused this token ({how}); set the bot's current "
    "token, from Bot > Reset Token in the Discord Developer Portal"
)
MEMBERS_INTENT_OFF = (
    "Discord Developer Portal: Server Members Intent is off: switch it on under Bot > "
    "Privileged Gateway Intents for this application (the gateway closed with 4014, "
    "disallowed intents)"
)


def extension_names() -> list[str]:
    """Every module under cogs/, found by walking the package rather than a hand-kept list."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class HeliosBot(commands.AutoShardedBot):
    def __init__(
        self,
        config: Config,
        clock: Clock,
        *,
        apply_migrations: bool = True,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # No voice features here: discord.py's warnings about missing voice libraries are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        intents.members = True  # member joins and role checks need the member list
        discord_settings = config.settings.discord
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            shard_count=discord_settings.shard_count,
            # None means every shard; discord.py accepts it though its annotation says list.
            shard_ids=discord_settings.shard_ids,  # type: ignore[arg-type]
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False),
            help_command=None,
            # How long discord.py waits after the last GUILD_CREATE before READY; the sandbox,
            # whose guilds all arrive at once, shortens it.
            guild_ready_timeout=guild_ready_timeout,
        )
        self.config = config
        self.clock = clock
        self.runtime = Runtime(config, clock, "run")
        # Features turned off, each with why: the first of its Discord ids the guild lacks.
        self.disabled_reasons: dict[str, str] = {}
        self._apply_migrations = apply_migrations
        self._refs_checked = False
        self._guild_checked = False
        self._started = time.monotonic()

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started

    @property
    def guild_id(self) -> int:
        return self.config.settings.discord.guild_id

    def owns_guild(self) -> bool:
        """This process runs the shard that carries the configured guild (Discord's formula)."""
        shard_ids, shard_count = self.shard_ids, self.shard_count
        if shard_ids is None or shard_count is None:  # every shard is ours
            return True
        return (self.guild_id >> 22) % shard_count in shard_ids

    def guild_missing(self) -> bool:
        """Connected, owning the guild's shard, and still not seeing the guild: the bot is not
        in that server (an unavailable guild, during a Discord outage, is still seen)."""
        return self.is_ready() and self.owns_guild() and self.get_guild(self.guild_id) is None

    @property
    def disabled_features(self) -> set[str]:
        return set(self.disabled_reasons)

    def feature_enabled(self, name: str) -> bool:
        """A feature runs when its config section exists and its Discord ids were found."""
        configured = getattr(self.config.settings, name, None) is not None
        return configured and name not in self.disabled_reasons

    async def setup_hook(self) -> None:
        await self.runtime.start(apply_migrations=self._apply_migrations)
        self.runtime.readiness["discord"] = self._discord_ready
        self.tree.error(self.on_app_command_error)
        names = extension_names()
        # discord.py executes each extension's module on the loop, afresh; importing them in
        # a thread first leaves it only that module's own body, not everything it imports.
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in names])
        for name in names:
            await self.load_extension(name)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands in the guild, only when their definitions changed."""
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        digest = payload_hash([c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)])
        async with self.runtime.sessions() as session:
            if not await needs_sync(session, self.guild_id, digest):
                return
        try:
            await self.tree.sync(guild=guild)
        except (discord.Forbidden, discord.NotFound) as exc:
            # Not in that server (or invited without applications.commands): the guild check
            # at connection says which; the next start tries again.
            log.warning("slash commands not synced to guild %d: %s", self.guild_id, exc.text)
            return
        async with self.runtime.sessions.begin() as session:
            await record_sync(session, self.guild_id, digest, self.clock.now())
        log.info("slash commands synced to guild %d", self.guild_id)

    async def close(self) -> None:
        # The gateway first, then the runtime, on one deadline (bot/runtime.py).
        deadline = Deadline(SHUTDOWN_DEADLINE)
        try:
            await bounded(
                "closing the Discord gateway",
                super().close(),
                deadline.left(GATEWAY_CLOSE, keep=CLOSE_RESERVE),
            )
        finally:
            await self.runtime.close(deadline)

    async def _discord_ready(self) -> str | None:
        if self.is_closed() or not self.is_ready():
            return "not connected to the Discord gateway"
        if self.guild_missing():
            return (
                f"guild {self.guild_id} (discord.guild_id in {self.config.path}) "
                "is not visible to the bot"
            )
        return None

    async def on_ready(self) -> None:
        log.info(
            "connected to Discord as %s in %d guild(s), %.2f s after start",
            self.user,
            len(self.guilds),
            self.uptime_seconds,
        )
        if not self._guild_checked:
            self._guild_checked = True
            if self.guild_missing():
                log.error(
                    "config discord.guild_id in %s: the bot does not see guild %d; invite it "
                    "to that server or correct the id, then restart (/readyz answers 503)",
                    self.config.path,
                    self.guild_id,
                )

    async def on_guild_available(self, guild: discord.Guild) -> None:
        if guild.id == self.guild_id and not self._refs_checked:
            self._refs_checked = True
            self.check_config_refs(guild)

    def check_config_refs(self, guild: discord.Guild) -> None:
        """Report each configured channel or role the guild lacks, once; turn its feature off."""
        for feature, key, kind, ref_id in discord_refs(self.config.settings):
            found = guild.get_channel(ref_id) if kind == "channel" else guild.get_role(ref_id)
            if found is None:
                self.disabled_reasons.setdefault(
                    feature, f"config {key}: {kind} {ref_id} is not in the guild"
                )
                log.error(
                    "config %s: %s %d does not exist in guild %s (%d); feature %r is off "
                    "until the config is fixed and the bot restarted",
                    key,
                    kind,
                    ref_id,
                    guild.name,
                    guild.id,
                    feature,
                )

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await self.report_interaction_error(interaction, cause)

    async def report_interaction_error(
        self, interaction: discord.Interaction, cause: Exception
    ) -> None:
        """The one error path for commands, buttons, menus and forms."""
        if interaction.command is not None:
            what = f"command /{interaction.command.qualified_name}"
        else:
            data: Mapping[str, object] = interaction.data or {}
            what = f"component {data.get('custom_id', '?')}"
        if isinstance(cause, DomainError):
            message = cause.user_message
        elif isinstance(cause, app_commands.CheckFailure):
            message = str(cause) or "You can't use this command here."
        elif isinstance(cause, GitHubUnavailable):
            log.warning("%s: %s", what, cause)
            message = GITHUB_UNAVAILABLE
        else:
            error_id = uuid.uuid4().hex[:8]
            log.error(
                "%s failed for user %d in guild %s (error id %s)",
                what,
                interaction.user.id,
                interaction.guild_id,
                error_id,
                exc_info=cause,
            )
            message = (
                f"Sorry, something went wrong on our side (error id `{error_id}`). "
                "The organisers can look it up in the logs."
            )
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Answer privately whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True)
    else:
        await interaction.response.send_message(message, ephemeral=True)


async def run_bot(config: Config, clock: Clock, *, apply_migrations: bool) -> int:
    """Run until the gateway closes or SIGTERM/SIGINT arrives, then shut down cleanly."""
    token = config.secrets.discord_token
    assert token is not None  # the CLI refuses `run` without DISCORD_TOKEN
    bot = HeliosBot(config, clock, apply_migrations=apply_migrations)
    with shutdown_signals() as stop:  # before start-up: a signal while migrating counts too
        async with bot:
            gateway = asyncio.create_task(bot.start(token.get_secret_value()))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({gateway, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set() and not bot.is_ready():
                gateway.cancel()  # still starting (migrations, login): cut it short
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await gateway  # re-raises a login or connection failure
                except discord.ClientException as exc:
                    if (fix := operator_fix(exc)) is None:
                        raise
                    raise fix from None
    return 0 if stop.is_set() else 1


def operator_fix(error: discord.ClientException) -> ConfigError | None:
    """The configuration error that Discord refusing the token or the intents means, naming
    the fix; None for any other failure, which keeps its own message."""
    if isinstance(error, discord.LoginFailure):  # GET /users/@me answered 401
        return ConfigError([LOGIN_REFUSED.format(how="401 Unauthorized at login")])
    if isinstance(error, discord.PrivilegedIntentsRequired):  # gateway close code 4014
        return ConfigError([MEMBERS_INTENT_OFF])
    if isinstance(error, discord.ConnectionClosed) and error.code == CLOSE_AUTHENTICATION_FAILED:
        how = "the gateway closed with 4004, authentication failed"
        return ConfigError([LOGIN_REFUSED.format(how=how)])
    return None
