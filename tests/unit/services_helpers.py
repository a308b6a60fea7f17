# SPDX-License-Identifier: Apache-2.0
"""What the service unit tests share: settings, recording fakes of GitHub, seeded history."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.config import Settings
from bot.db.base import Base
from bot.feature import Context
from bot.github.api import (
    DeviceCode,
    DeviceFlowError,
    DeviceFlowProblem,
    GitHubAccount,
    GitHubUnavailable,
)
from bot.github.ingest import GitHubEvent
from bot.github.normalise import (
    Changes,
    IssueRecord,
    RepositoryRecord,
    UserRecord,
    apply,
    lock_history,
)
from bot.services import members, onboarding

GUILD = 100000000000000001
REPO_ID, REPO = 501, "helios-engine/helios"
SDK_ID, SDK = 502, "helios-engine/helios-sdk-python"
HELP_CHANNEL, NEWCOMER_ROLE = 300, 400
AREAS = ["docs", "core", "sdk"]
ONBOARDING: dict[str, Any] = {
    "code_of_conduct_url": "https://example.org/coc",
    "contributing_url": "https://example.org/contributing",
    "help_channel_id": HELP_CHANNEL,
    "newcomer_role_id": NEWCOMER_ROLE,
    "areas": [
        {"name": "docs", "labels": ["docs", "documentation"]},
        {"name": "core", "labels": ["core"]},
        {"name": "sdk", "labels": ["sdk"]},
    ],
    "github_oauth_client_id": "Iv1.unit-tests",
    "priority_labels": ["help wanted"],
}

Row = TypeVar("Row", bound=Base)
T = TypeVar("T")
Handler = Callable[[Context, AsyncSession, GitHubEvent], Awaitable[None]]
_deliveries = itertools.count(1)


# The seeded repositories are followed; their issues may appear in Discord.
GITHUB: dict[str, Any] = {"repositories": [REPO, SDK]}


def settings(**sections: dict[str, Any] | None) -> Settings:
    """Settings with [discord], [github] and [onboarding]; a section given as None is left
    out."""
    raw: dict[str, Any] = {
        "discord": {"guild_id": GUILD},
        "github": GITHUB,
        "onboarding": ONBOARDING,
    } | sections
    return Settings.model_validate({key: value for key, value in raw.items() if value is not None})


def account(user_id: int, login: str, seen_at: datetime) -> UserRecord:
    return UserRecord(id=user_id, login=login, type="User", is_bot=False, seen_at=seen_at)


class FakeGitHub:
    """Stands in for GitHub (bot.github.api.GitHub): records each call, fails when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.accounts: dict[str, GitHubAccount] = {}
        self.failing: set[str] = set()  # method names that raise GitHubUnavailable

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        if call[0] in self.failing:
            raise GitHubUnavailable(f"{call[0]} refused (a test said so)")

    async def user(self, login: str) -> GitHubAccount | None:
        self._call("user", login)
        return self.accounts.get(login.lower())

    async def assign(self, full_name: str, number: int, login: str) -> None:
        self._call("assign", full_name, number, login)

    async def unassign(self, full_name: str, number: int, login: str) -> None:
        self._call("unassign", full_name, number, login)

    async def comment_once(self, full_name: str, number: int, body: str, *, marker: str) -> None:
        self._call("comment_once", full_name, number, body, marker)


class FakeVerifier:
    """Stands in for GitHub's device flow (bot.github.api.AccountVerifier)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[tuple[object, ...]] = []
        self.account: GitHubAccount | None = None  # who approves the code
        self.start_fails = False
        self.problem: DeviceFlowProblem | None = None  # why waiting for the account fails

    async def start(self) -> DeviceCode:
        self.calls.append(("start",))
        if self.start_fails:
            raise DeviceFlowError("unavailable", "GitHub answered 503")
        return DeviceCode(
            device_code="device-1",
            user_code="ABCD-1234",
            verification_uri="https://github.com/login/device",
            expires_at=self.clock.now() + timedelta(minutes=15),
            interval=5,
        )

    async def wait_for_account(self, code: DeviceCode) -> GitHubAccount:
        self.calls.append(("wait_for_account", code.device_code))
        if self.problem is not None:
            raise DeviceFlowError(self.problem, f"the device flow ended: {self.problem}")
        assert self.account is not None, "the test names who approves the code"
        return self.account


@dataclass
class World:
    """A migrated SQLite database, a manual clock and the fakes, for one test."""

    sessions: async_sessionmaker[AsyncSession]
    clock: ManualClock
    github: FakeGitHub = field(default_factory=FakeGitHub)
    verifier: FakeVerifier = field(init=False)
    maintainer: UserRecord = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = FakeVerifier(self.clock)
        self.maintainer = account(1, "marta", self.clock.now())

    def context(self, configured: Settings | None = None, *, connected: bool = True) -> Context:
        """A feature's context; ``connected=False``: no GitHub credentials, no device flow."""
        return Context(
            configured or settings(),
            self.clock,
            self.sessions,
            github=self.github if connected else None,
            verifier=self.verifier if connected else None,
            read=self.read,
        )

    async def write(self, changes: Changes) -> None:
        """Write history the way ingestion does: :func:`bot.github.normalise.apply`."""
        async with self.sessions.begin() as session:
            await lock_history(session)
            await apply(session, changes)

    async def deliver(
        self, context: Context, handle: Handler, event: str, action: str, issue: IssueRecord
    ) -> None:
        """A webhook delivery about ``issue``, as ingestion runs it: the history is written,
        then the feature's handler runs, in one transaction."""
        changes = Changes(issues=[issue])
        delivery = GitHubEvent(f"delivery-{next(_deliveries)}", event, action, changes)
        async with self.sessions.begin() as session:
            await lock_history(session)
            await apply(session, changes)
            await handle(context, session, delivery)

    async def read(self, read: Callable[[Session], T]) -> T:
        """A plain synchronous read (recommendations, /start's step), as bot/db/reader.py
        runs it where there is no read-only SQLite pool."""
        async with self.sessions() as session:
            return await session.run_sync(read)

    async def repository(
        self,
        repository_id: int = REPO_ID,
        full_name: str = REPO,
        *,
        archived: bool = False,
        private: bool = False,
    ) -> None:
        record = RepositoryRecord(repository_id, full_name, archived, self.clock.now(), private)
        await self.write(Changes(repositories=[record]))

    def issue(
        self,
        number: int,
        *,
        repository_id: int = REPO_ID,
        title: str = "",
        labels: tuple[str, ...] = (),
        assignees: tuple[UserRecord, ...] = (),
        author: UserRecord | None = None,
        state: str = "open",
        pull: bool = False,
        merged: bool = False,
        closes: tuple[str, ...] | None = None,
        created_at: datetime | None = None,
    ) -> IssueRecord:
        """An issue (or, with ``pull``, a pull request) as the normaliser would parse it."""
        now = self.clock.now()
        closed = state == "closed"
        return IssueRecord(
            repository_id=repository_id,
            number=number,
            is_pull_request=pull,
            title=title or f"Issue {number}",
            state=state,
            state_reason="completed" if closed and not pull else None,
            draft=False if pull else None,
            merged_at=now if merged else None,
            merged_by=self.maintainer if merged else None,
            labels=tuple(sorted(labels)),
            assignees=assignees,
            requested_reviewers=() if pull else None,
            author=author or self.maintainer,
            author_association="NONE",
            created_at=created_at or now,
            updated_at=now,
            closed_at=now if closed else None,
            html_url=f"https://github.com/repo-{repository_id}/{'pull' if pull else 'issues'}/"
            f"{number}",
            closes=(closes or ()) if pull else None,
        )

    async def seed(self, *issues: IssueRecord) -> None:
        await self.write(Changes(issues=list(issues)))

    async def newcomer(
        self, user_id: int, github: UserRecord | None = None, *, areas: tuple[str, ...] = ()
    ) -> None:
        """A member through /start's steps (the project's own writers), linked if ``github``."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await onboarding.accept_code_of_conduct(session, GUILD, user_id, now)
            await onboarding.choose_areas(session, GUILD, user_id, list(areas), AREAS, now)
            await onboarding.choose_experience(session, GUILD, user_id, "new", now)
            if github is not None:
                await members.link_github(
                    session,
                    GUILD,
                    user_id,
                    github_user_id=github.id,
                    login=github.login,
                    verified=True,
                    now=now,
                )

    async def rows(self, model: type[Row]) -> list[Row]:
        """Every row of a table, in primary-key order."""
        async with self.sessions() as session:
            keys = model.__mapper__.primary_key
            return list(await session.scalars(select(model).order_by(*keys)))
