# SPDX-License-Identifier: Apache-2.0
"""A seeded demo community with the real bot running against both simulators.

Used by the end-to-end tests and by `helios-bot sandbox`: the same start-up code path as
`helios-bot run`, with discord.py pointed at the Discord simulator, PyGithub at the GitHub
simulator, the GitHub simulator's webhooks posted to the bot's real endpoint, and one clock
shared by all three.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bot.app import HeliosBot
from bot.clock import Clock
from bot.config import Config, load_config
from bot.db.models import OutboxMessage, WebhookDelivery
from bot.log import get_logger
from bot.sandbox.discord import (
    Channel,
    DiscordDriver,
    DiscordSimulator,
    Guild,
    Member,
    Role,
    point_discord_py_at,
)
from bot.sandbox.github import GitHubSimulator

log = get_logger(__name__)

WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 (a loopback-only simulator's secret)
GITHUB_TOKEN = "ghp_sandbox_token"  # noqa: S105
SETTLE_POLL = 0.02
REPOSITORIES = ("helios-engine/helios", "helios-engine/helios-sdk-python")
ROLES = ("Organiser", "Maintainer", "Mentor", "Newcomer", "Contributor")
CHANNELS = ("general", "dev", "performance", "help", "bot-log")
# username -> roles
PEOPLE = {
    "ines": ("Organiser", "Maintainer"),
    "marta": ("Maintainer",),
    "kofi": ("Mentor",),
    "lena": ("Mentor",),
    "ada": (),
    "bruno": (),
}


@dataclass
class DemoCommunity:
    guild: Guild
    roles: dict[str, Role] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)


def seed_discord(sim: DiscordSimulator) -> DemoCommunity:
    community = DemoCommunity(guild=sim.add_guild("Helios Engine"))
    for name in ROLES:
        community.roles[name] = sim.add_role(community.guild, name)
    for name in CHANNELS:
        community.channels[name] = sim.add_channel(community.guild, name)
    for username, roles in PEOPLE.items():
        community.members[username] = sim.add_member(
            community.guild, username, roles=[community.roles[r] for r in roles]
        )
    return community


def seed_github(sim: GitHubSimulator) -> None:
    state = sim.state
    state.add_org("helios-engine", members=("ines", "marta"))
    for full_name in REPOSITORIES:
        state.create_repo(full_name, labels=("bug", "good first issue", "help wanted", "docs"))
    core, sdk = REPOSITORIES
    state.open_issue(
        core, "marta", "Document the cache eviction flags", labels=["good first issue"]
    )
    state.open_issue(core, "ines", "Flaky test in the L2 storage suite", labels=["bug"])
    state.open_issue(sdk, "marta", "Add type hints to the client", labels=["good first issue"])
    sim.add_token(GITHUB_TOKEN, "helios-bot")


def config_text(community: DemoCommunity, github_api_url: str, github_web_url: str) -> str:
    repositories = ", ".join(f'"{name}"' for name in REPOSITORIES)
    return f"""\
# Written by the sandbox for its simulated community.
[discord]
guild_id = {community.guild.id}

[web]
host = "127.0.0.1"
port = 0

[github]
api_url = "{github_api_url}"
repositories = [{repositories}]
seconds_between_requests = 0
seconds_between_writes = 0
# Every webhook reaches the bot here: the repair sync would only make runs less repeatable.
sync_interval_minutes = 0

[admin]
organiser_role_id = {community.roles["Organiser"].id}
log_channel_id = {community.channels["bot-log"].id}

[announcements]
good_first_issues_channel_id = {community.channels["dev"].id}
label_channels = {{ performance = {community.channels["performance"].id} }}

[onboarding]
code_of_conduct_url = "https://github.com/helios-engine/helios/blob/main/CODE_OF_CONDUCT.md"
contributing_url = "https://github.com/helios-engine/helios/blob/main/CONTRIBUTING.md"
help_channel_id = {community.channels["help"].id}
newcomer_role_id = {community.roles["Newcomer"].id}
contributor_role_id = {community.roles["Contributor"].id}
celebration_channel_id = {community.channels["general"].id}
github_welcome_comment = true
github_oauth_client_id = "Iv1.sandbox"
github_web_url = "{github_web_url}"
areas = [
    {{ name = "docs", description = "Documentation", labels = ["docs"] }},
    {{ name = "core", description = "The engine", labels = ["bug", "core"] }},
    {{ name = "sdk-python", description = "The Python SDK", labels = ["sdk-python"] }},
]
"""


class Sandbox:
    """Both simulators, a seeded community and the real bot, all on one clock."""

    def __init__(self, directory: Path, clock: Clock, *, onboarding_extra: str = "") -> None:
        self.directory = directory
        self.clock = clock
        # More keys for the [onboarding] section, the last one of the written config.
        self.onboarding_extra = onboarding_extra
        self.discord = DiscordSimulator(clock)
        self.github = GitHubSimulator(clock, webhook_secret=WEBHOOK_SECRET)
        self.driver = DiscordDriver(self.discord)
        self.community: DemoCommunity | None = None
        self.config: Config | None = None
        self.bot: HeliosBot | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._exit = contextlib.ExitStack()

    @property
    def running_bot(self) -> HeliosBot:
        if self.bot is None:
            raise RuntimeError("the sandbox's bot is not running")
        return self.bot

    async def start(self) -> None:
        await self.discord.start()
        await self.github.start()
        self.community = seed_discord(self.discord)
        seed_github(self.github)
        path = self.directory / "config.toml"
        path.write_text(
            config_text(self.community, self.github.api_url, self.github.web_url)
            + self.onboarding_extra
        )
        self.config = load_config(
            path,
            {
                "DISCORD_TOKEN": self.discord.token,
                "GITHUB_TOKEN": GITHUB_TOKEN,
                "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "DATABASE_URL": f"sqlite+aiosqlite:///{self.directory / 'helios.db'}",
            },
        )
        self._exit.enter_context(point_discord_py_at(self.discord.url))
        await self.start_bot()
        # The seed's webhooks reach the bot as if it had been listening all along.
        await self.github.emitter.flush()
        await self.settle()

    async def start_bot(self) -> None:
        """Start the bot the way `helios-bot run` does and wait until it is ready."""
        assert self.config is not None
        bot = HeliosBot(self.config, self.clock, guild_ready_timeout=0.05)
        self.bot = bot
        self._gateway = asyncio.create_task(bot.start(self.discord.token), name="sandbox-bot")
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({ready, self._gateway}, return_when=asyncio.FIRST_COMPLETED)
        if self._gateway.done():
            ready.cancel()
            self._gateway.result()  # start-up failed: raise its error
            raise RuntimeError("the bot stopped during start-up")
        self.github.emitter.target_url = f"{bot.runtime.url}/github/webhook"

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._gateway is not None:
            await self._gateway
        self.bot = None
        self._gateway = None

    async def settle(self, within: float = 5.0) -> None:
        """Wait until the bot has caught up: deliveries normalised, due jobs run and due
        messages sent."""
        bot = self.running_bot
        due = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        undigested = (
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
        )
        for _ in range(int(within / SETTLE_POLL)):
            async with bot.runtime.sessions() as session:
                now_due = due.where(OutboxMessage.not_before <= self.clock.now())
                busy = (await session.scalar(now_due) or 0) + (
                    await session.scalar(undigested) or 0
                )
            if not busy and await bot.runtime.jobs_settled():
                return
            await asyncio.sleep(SETTLE_POLL)  # work in progress is rows, not events
        log.warning("the bot has not caught up after %.0f s", within)

    async def restart_bot(self) -> None:
        await self.stop_bot()
        await self.start_bot()

    async def stop(self) -> None:
        try:
            await self.stop_bot()
        finally:
            self._exit.close()
            await self.github.close()
            await self.discord.stop()
