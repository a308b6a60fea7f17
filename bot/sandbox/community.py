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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import HeliosBot
from bot.clock import Clock
from bot.config import Config, Secrets, Settings, WebSettings, discord_refs, load_config
from bot.db.models import Promise, WebhookDelivery
from bot.invite import required_permissions
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
# The names discord.py gives the tasks that handle an interaction or run an event listener.
HANDLER_TASKS = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-dynamic-item-",
    "discord-ui-modal-dispatch-",
    "discord.py: ",
)
REPOSITORIES = ("helios-engine/helios", "helios-engine/helios-sdk-python")
LABELS = ("bug", "good first issue", "help wanted", "docs")
ROLES = ("Organiser", "Maintainer", "Mentor", "Newcomer", "Contributor", "Champion")
CHANNELS = (
    "general",
    "dev",
    "performance",
    "help",
    "bot-log",
    "mentors",
    "mentoring",
    "triage",
    "spotlight",
)
# username -> roles
PEOPLE = {
    "ines": ("Organiser", "Maintainer"),
    "marta": ("Maintainer",),
    "kofi": ("Mentor",),
    "lena": ("Mentor",),
    "ada": (),
    "bruno": (),
}


# With an organiser's config (`sandbox --config`), the channel or role of the demo community
# that each configured id becomes, so scenarios written for the demo (ines the organiser,
# `in = "general"`) play unchanged. Other keys get a name made from the key.
DEMO_NAMES = {
    "admin.organiser_role_id": "Organiser",
    "admin.log_channel_id": "bot-log",
    "announcements.good_first_issues_channel_id": "dev",
    "onboarding.help_channel_id": "help",
    "onboarding.newcomer_role_id": "Newcomer",
    "celebrations.contributor_role_id": "Contributor",
    "celebrations.channel_id": "general",
    "mentorship.mentor_role_id": "Mentor",
    "mentorship.mentors_channel_id": "mentors",
    "mentorship.thread_channel_id": "mentoring",
    "sla.triage_channel_id": "triage",
    "sla.maintainer_role_id": "Maintainer",
    "recognition.spotlight_channel_id": "spotlight",
    "recognition.champion_role_id": "Champion",
}


@dataclass
class DemoCommunity:
    guild: Guild
    roles: dict[str, Role] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    # How an organiser's configured ids were seeded, one line each, for the transcript.
    legend: list[str] = field(default_factory=list)


def _handling() -> bool:
    """The bot (on this loop) is still handling an interaction or an event."""
    return any(
        task.get_name().startswith(HANDLER_TASKS) and not task.done()
        for task in asyncio.all_tasks()
    )


def seed_discord(sim: DiscordSimulator, settings: Settings | None = None) -> DemoCommunity:
    """The demo guild; with ``settings``, also every channel and role they name, by id."""
    guild_id = settings.discord.guild_id if settings else None
    community = DemoCommunity(guild=sim.add_guild("Helios Engine", id=guild_id))
    if settings is not None:
        _seed_configured(sim, community, settings)
    for name in ROLES:
        if name not in community.roles:
            community.roles[name] = sim.add_role(community.guild, name)
    for name in CHANNELS:
        if name not in community.channels:
            community.channels[name] = sim.add_channel(community.guild, name)
    for username, roles in PEOPLE.items():
        community.members[username] = sim.add_member(
            community.guild, username, roles=[community.roles[r] for r in roles]
        )
    return community


def invite_bot(sim: DiscordSimulator, community: DemoCommunity, settings: Settings) -> None:
    """Set the bot up as README's step 3 says: invited with the link of `helios-bot
    invite-url` (its role gets exactly the permissions the enabled features ask for), then its
    role dragged above the roles it gives (to the top)."""
    guild = community.guild
    guild.bot_role.permissions = int(required_permissions(settings))
    sim.move_role(guild, guild.bot_role, len(guild.roles) - 1)


def _seed_configured(sim: DiscordSimulator, community: DemoCommunity, settings: Settings) -> None:
    by_id: dict[int, tuple[str, str]] = {}  # id -> (kind, name) of what was created
    for _, key, kind, ref_id in discord_refs(settings):
        if ref_id in by_id:
            made_kind, made_name = by_id[ref_id]
            if made_kind == kind:
                community.legend.append(f"{key} = {ref_id}: the same {kind} as {made_name}")
            else:
                # One id cannot be a channel and a role: the bot reports the missing one.
                community.legend.append(
                    f"{key} = {ref_id}: already the {made_kind} {made_name}, so no {kind} has it"
                )
            continue
        if ref_id == community.guild.id:
            community.legend.append(f"{key} = {ref_id}: the server's own id, so no {kind} has it")
            continue
        table: dict[str, Channel] | dict[str, Role]
        table = community.channels if kind == "channel" else community.roles
        name = _unique(_name_for(key, kind), table)
        if kind == "channel":
            community.channels[name] = sim.add_channel(community.guild, name, id=ref_id)
            shown = f"#{name}"
        else:
            community.roles[name] = sim.add_role(community.guild, name, id=ref_id)
            shown = f"role {name}"
        by_id[ref_id] = (kind, shown)
        community.legend.append(f"{key} = {ref_id}: {shown}")


def _name_for(key: str, kind: str) -> str:
    if key in DEMO_NAMES:
        return DEMO_NAMES[key]
    last = key.rsplit(".", 1)[1]
    if kind == "channel":  # a Discord channel name: lower case, no spaces
        return re.sub(r"[^a-z0-9_-]+", "-", last.removesuffix("_channel_id").lower())
    return last.removesuffix("_role_id").replace("_", " ").capitalize()


def _unique(name: str, taken: dict[str, Channel] | dict[str, Role]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}-{number}", number + 1
    return candidate


def seed_github(sim: GitHubSimulator, settings: Settings | None = None) -> None:
    """The demo repositories and issues; with ``settings``, in the repositories they follow,
    labelled with their beginner and priority labels."""
    state = sim.state
    repositories, labels, beginner = list(REPOSITORIES), list(LABELS), "good first issue"
    if settings is not None:
        repositories = followed_repositories(settings)
        if settings.onboarding is not None:
            onboarding = settings.onboarding
            beginner = onboarding.beginner_labels[0] if onboarding.beginner_labels else beginner
            labels += onboarding.beginner_labels + onboarding.priority_labels
    for owner in dict.fromkeys(name.split("/")[0] for name in repositories):
        state.add_org(owner, members=("ines", "marta"))
    for full_name in repositories:
        state.create_repo(full_name, labels=tuple(dict.fromkeys(labels)))
    if repositories:
        core = repositories[0]
        state.open_issue(core, "marta", "Document the cache eviction flags", labels=[beginner])
        state.open_issue(core, "ines", "Flaky test in the L2 storage suite", labels=["bug"])
    if len(repositories) > 1:  # with one repository, its numbers stay those of the demo's
        sdk = repositories[1]
        state.open_issue(sdk, "marta", "Add type hints to the client", labels=[beginner])
    sim.add_token(GITHUB_TOKEN, "helios-bot")


def followed_repositories(settings: Settings) -> list[str]:
    """The repositories an organiser's config follows: those listed, and with
    ``github.organization`` the demo's repository names under that organisation."""
    github = settings.github
    names = list(github.repositories)
    if github.organization is not None:
        names += [f"{github.organization}/{name.split('/')[1]}" for name in REPOSITORIES]
    return list(dict.fromkeys(names))


def sandboxed(config: Config, github: GitHubSimulator, secrets: Secrets) -> Config:
    """An organiser's config with what the sandbox must own replaced: the simulators' URLs,
    a loopback port, no pauses between GitHub calls, one shard, and the sandbox's secrets."""
    settings = config.settings
    updates: dict[str, object] = {
        "discord": settings.discord.model_copy(update={"shard_count": None, "shard_ids": None}),
        "web": WebSettings(host="127.0.0.1", port=0),
        "github": settings.github.model_copy(
            update={
                "api_url": github.api_url,
                "seconds_between_requests": 0,
                "seconds_between_writes": 0,
                "sync_interval_minutes": 0,
            }
        ),
    }
    if settings.onboarding is not None:
        updates["onboarding"] = settings.onboarding.model_copy(
            update={"github_web_url": github.web_url}
        )
    return Config(settings=settings.model_copy(update=updates), secrets=secrets, path=config.path)


def config_text(
    community: DemoCommunity, github_api_url: str, github_web_url: str, github_extra: str = ""
) -> str:
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
{github_extra}
[admin]
organiser_role_id = {community.roles["Organiser"].id}
log_channel_id = {community.channels["bot-log"].id}

[announcements]
good_first_issues_channel_id = {community.channels["dev"].id}
label_channels = {{ performance = {community.channels["performance"].id} }}

[celebrations]
channel_id = {community.channels["general"].id}
contributor_role_id = {community.roles["Contributor"].id}
github_welcome_comment = true

[mentorship]
mentor_role_id = {community.roles["Mentor"].id}
mentors_channel_id = {community.channels["mentors"].id}
thread_channel_id = {community.channels["mentoring"].id}

[sla]
triage_channel_id = {community.channels["triage"].id}
maintainer_role_id = {community.roles["Maintainer"].id}
triagers = [{community.members["marta"].id}]
quiet_hours = {{ start = "22:00", end = "08:00" }}
# After the demo's working day, so that a test starting at 09:00 gets no digest at start-up.
digest_time = "18:00"
business_days = false

[recognition]
# The weekly spotlight, Mondays at 15:00 UTC, and the month's Community Champions, the 1st
# at 15:00 UTC, in the same channel (the defaults); the champions hold the Champion role.
spotlight_channel_id = {community.channels["spotlight"].id}
champion_role_id = {community.roles["Champion"].id}

[onboarding]
code_of_conduct_url = "https://github.com/helios-engine/helios/blob/main/CODE_OF_CONDUCT.md"
contributing_url = "https://github.com/helios-engine/helios/blob/main/CONTRIBUTING.md"
help_channel_id = {community.channels["help"].id}
newcomer_role_id = {community.roles["Newcomer"].id}
github_oauth_client_id = "Iv1.sandbox"
github_web_url = "{github_web_url}"
areas = [
    {{ name = "docs", description = "Documentation", labels = ["docs"] }},
    {{ name = "core", description = "The engine", labels = ["bug", "core"] }},
    {{ name = "sdk-python", description = "The Python SDK", labels = ["sdk-python"] }},
]
"""


_TABLE = re.compile(r"^\[\[?([\w-]+)")


def tables(text: str) -> set[str]:
    """The top-level tables a config's text defines: ``{"sla"}`` for ``[sla]``."""
    return {found.group(1) for line in text.splitlines() if (found := _TABLE.match(line))}


def without(text: str, names: set[str]) -> str:
    """A config's text less the top-level tables named (with their sub-tables)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if found := _TABLE.match(line):
            skipping = found.group(1) in names
        if not skipping:
            kept.append(line)
    return "".join(kept)


class Sandbox:
    """Both simulators, a seeded community and the real bot, all on one clock."""

    def __init__(
        self,
        directory: Path,
        clock: Clock,
        *,
        onboarding_extra: str = "",
        github_extra: str = "",
        sections: Callable[[DemoCommunity], str] | None = None,
        organiser_config: Config | None = None,
        database_url: str | None = None,
    ) -> None:
        self.directory = directory
        self.clock = clock
        # More keys for the [onboarding] section, the last one of the written config, and
        # for the [github] section.
        self.onboarding_extra = onboarding_extra
        self.github_extra = github_extra
        # More sections for the written config, given the seeded community (its ids); one
        # the demo's config has too (a test's own [sla]) takes the place of the demo's.
        self.sections = sections
        # An organiser's own config to dry-run instead of the demo's (`sandbox --config`).
        self.organiser_config = organiser_config
        # The bot's database: a SQLite file in ``directory`` unless given (tests give a
        # PostgreSQL one too).
        self.database_url = database_url or f"sqlite+aiosqlite:///{directory / 'helios.db'}"
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
        organiser = self.organiser_config
        settings = organiser.settings if organiser is not None else None
        self.community = seed_discord(self.discord, settings)
        seed_github(self.github, settings)
        database_url = self.database_url
        environment = {
            "DISCORD_TOKEN": self.discord.token,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DATABASE_URL": database_url,
        }
        if organiser is not None:
            secrets = Secrets(
                discord_token=SecretStr(self.discord.token),
                github_token=SecretStr(GITHUB_TOKEN),
                github_webhook_secrets=(SecretStr(WEBHOOK_SECRET),),
                database_url=SecretStr(database_url),
            )
            self.config = sandboxed(organiser, self.github, secrets)
        else:
            path = self.directory / "config.toml"
            sections = self.sections(self.community) if self.sections else ""
            demo = config_text(
                self.community, self.github.api_url, self.github.web_url, self.github_extra
            )
            path.write_text(
                without(demo, tables(sections)) + self.onboarding_extra + "\n" + sections
            )
            self.config = load_config(path, environment)
        invite_bot(self.discord, self.community, self.config.settings)
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
            failed, self._gateway, self.bot = self._gateway, None, None
            await bot.close()  # release what setup_hook opened before it failed
            failed.result()  # start-up failed: raise its error
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
        """Wait until the bot has caught up: deliveries normalised, interactions and events
        handled (a listener may follow an answer up, or promise more), due jobs run and due
        messages sent."""
        bot = self.running_bot
        undigested = (
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
        )
        for _ in range(int(within / SETTLE_POLL)):
            # Causes before their effects: a handler or job that ends after it is looked at
            # here has committed before the count below. The count is one statement, so one
            # snapshot: each statement reads what is committed at its own moment, and a
            # delivery processed between two would be counted in neither, nor its promise.
            handling = _handling() or not await bot.runtime.jobs_settled()
            now_due = (
                select(func.count())
                .select_from(Promise)
                .where(Promise.status == "pending", Promise.not_before <= self.clock.now())
            )
            async with bot.runtime.sessions() as session:
                busy = await session.scalar(
                    select(now_due.scalar_subquery() + undigested.scalar_subquery())
                )
            if not handling and not busy:
                return
            await asyncio.sleep(SETTLE_POLL)  # work in progress is rows and handler tasks
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
