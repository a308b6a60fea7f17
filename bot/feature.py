# SPDX-License-Identifier: Apache-2.0
"""How a feature declares what it needs from the shared machinery.

Each feature module in ``bot/services/`` exports one :class:`Feature`: its name (which is
also its config section, its outbox feature and its log name), the GitHub webhook events it
concerns with their handler, its scheduled jobs, the outbox kinds it promises and the
Discord permissions it needs. The runtime collects the declarations of
``bot.services.FEATURES`` and wires each enabled one into ingestion, the scheduler and the
outbox, and `helios-bot invite-url` asks for their permissions; nothing shared learns a
feature's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntFlag

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db.reader import Read
from bot.github.api import AccountVerifier, GitHub
from bot.github.ingest import GitHubEvent
from bot.outbox import TargetKind


@dataclass(frozen=True)
class Context:
    """What handlers and jobs are given: the settings, the clock, the database and GitHub.

    ``read`` runs a heavy read off the event loop (bot/db/reader.py), for jobs as for
    commands: ``await context.read(lambda session: open_waits(session, settings, now))``.
    """

    settings: Settings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    # None when no GitHub credentials are configured.
    github: GitHub | None
    # GitHub's device flow, None unless an OAuth client id is configured.
    verifier: AccountVerifier | None = None
    read: Read = field(kw_only=True)

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id


@dataclass(frozen=True)
class Webhook:
    """The webhook deliveries a feature reacts to, and how.

    ``events`` maps an event name to its actions (an empty set: every action). ``handle``
    runs inside the ingestion transaction, after normalisation, in its own savepoint; it must
    be idempotent, since a failed delivery is handled again.
    """

    events: Mapping[str, frozenset[str]]
    handle: Callable[[Context, AsyncSession, GitHubEvent], Awaitable[None]]

    def concerns(self, event: str, action: str | None) -> bool:
        actions = self.events.get(event)
        return actions is not None and (not actions or action in actions)


@dataclass(frozen=True)
class Periodic:
    """A periodic job (bot/scheduler.py): every process offers it, one runs it each
    ``interval``; it must be idempotent, picking up whatever its last run left undone."""

    name: str
    interval: timedelta
    run: Callable[[Context], Awaitable[None]]
    first_run_after: timedelta = timedelta(0)


class Permission(IntFlag):
    """The bot's permissions in the guild that features need, with the bit values of Discord's
    permissions documentation (tests check them against discord.py's)."""

    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    # Giving and taking roles below the bot's own highest role.
    MANAGE_ROLES = 1 << 28
    # Archiving a thread (even one the bot made).
    MANAGE_THREADS = 1 << 34
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


# What posting a promised message in a channel takes: seeing it, sending, and showing embeds
# (and the previews of links).
POST_IN_CHANNELS = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.EMBED_LINKS


def _no_permissions(settings: Settings) -> Permission:
    return Permission(0)


@dataclass(frozen=True)
class Feature:
    name: str
    webhooks: tuple[Webhook, ...] = ()
    jobs: tuple[Periodic, ...] = ()
    # The outbox kinds its promises use: a process delivers GitHub kinds only when an
    # enabled feature promises them.
    promises: frozenset[TargetKind] = frozenset()
    # On when its config section is present, unless it says otherwise.
    enabled: Callable[[Settings], bool] | None = None
    # The guild permissions it needs with these settings (its section is present); the
    # invite link asks for those of every enabled feature. Private messages and answers to
    # commands and buttons need none.
    discord_permissions: Callable[[Settings], Permission] = _no_permissions

    def is_enabled(self, settings: Settings) -> bool:
        if self.enabled is not None:
            return self.enabled(settings)
        return getattr(settings, self.name, None) is not None
