# SPDX-License-Identifier: Apache-2.0
"""What the service-level tests share: the settings, and a simulated GitHub whose webhooks
reach the database through the real normaliser."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Settings
from bot.db.reader import Read
from bot.feature import Context
from bot.github.normalise import apply, lock_history, parse_delivery
from bot.sandbox.github import GitHubState

REPO, SDK, VAULT = "acme/widgets", "acme/sdk", "acme/vault"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def configured(**sla: Any) -> Settings:
    """Three followed repositories (the SDK's triage target is 12 hours; the vault is private
    and so not shown), lena a configured maintainer, "needs triage" an automatic label."""
    return Settings.model_validate(
        {
            "discord": {"guild_id": 1},
            "github": {"repositories": [REPO, SDK, VAULT], "maintainers": ["lena"]},
            "sla": {
                "triage_channel_id": 5,
                "automatic_labels": ["needs triage"],
                "repositories": [{"name": SDK, "triage_hours": 12}],
                **sla,
            },
        }
    )


class Hub:
    """A simulated GitHub (marta is a member of acme) whose webhooks are normalised into the
    database, in the order they were sent, when :meth:`settle` is awaited."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: ManualClock,
        read: Read | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        # What the features' jobs are given with :meth:`context`.
        self.read = read
        self.settings = settings
        self.state = GitHubState(clock)
        self._sent: list[tuple[str, dict[str, Any]]] = []
        self.state.subscribe(lambda event, payload: self._sent.append((event, payload)))
        self.state.add_org("acme", members=["marta"])
        for name in (REPO, SDK):
            self.state.create_repo(name)
        self.state.create_repo(VAULT, private=True)

    def context(self, config: Settings | None = None) -> Context:
        """A job's context: ``config``, else the hub's settings, and the hub's Reader."""
        settings = config or self.settings
        assert settings is not None
        assert self.read is not None
        return Context(settings, self.clock, self.sessions, None, read=self.read)

    def id(self, full_name: str) -> int:
        return self.state.repo(full_name).id

    def later(self, by: timedelta) -> datetime:
        self.clock.advance(by)
        return self.clock.now()

    async def settle(self) -> None:
        await self.deliver(self.hold())

    def hold(self) -> list[tuple[str, dict[str, Any]]]:
        """The webhooks sent since the last settle, held back (to :meth:`deliver` late)."""
        held, self._sent = self._sent, []
        return held

    async def deliver(self, webhooks: list[tuple[str, dict[str, Any]]]) -> None:
        async with self.sessions.begin() as session:
            await lock_history(session)
            for event, payload in webhooks:
                await apply(session, parse_delivery(event, payload))
