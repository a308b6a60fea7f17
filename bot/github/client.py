# SPDX-License-Identifier: Apache-2.0
"""The GitHub API client: the only module that imports PyGithub.

PyGithub is synchronous, so every call runs in a worker thread (``asyncio.to_thread``) and
the event loop never waits on GitHub. Authentication is a personal token or a GitHub App
(installation tokens, which PyGithub refreshes before they expire).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import github
from github import Auth, Github, GithubIntegration
from github.GithubRetry import GithubRetry

from bot.config import Config
from bot.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")
PER_PAGE = 100


class GitHubUnavailable(Exception):
    """GitHub cannot be reached or refused the request; the message says why."""


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str
    is_bot: bool


def _options(config: Config) -> dict[str, Any]:
    settings = config.settings.github
    return {
        "base_url": settings.api_url,
        "per_page": PER_PAGE,
        # Objects are fetched when first read, not when named: assigning needs no GET first.
        "lazy": True,
        # Honours Retry-After on secondary limits and sleeps until the reset on primary
        # limits (in the worker thread), so a rate limit slows a run down, never fails it.
        "retry": GithubRetry(total=10, secondary_rate_wait=60),
        "seconds_between_requests": settings.seconds_between_requests or None,
        "seconds_between_writes": settings.seconds_between_writes or None,
    }


class GitHubClient:
    def __init__(self, github_api: Github, integration: GithubIntegration | None = None) -> None:
        self._api = github_api
        self._integration = integration

    @classmethod
    async def connect(cls, config: Config) -> GitHubClient | None:
        """A client authenticated as configured, or None when no GitHub credentials are set."""
        secrets, options = config.secrets, _options(config)
        if secrets.github_app_id is not None and secrets.github_app_private_key is not None:
            app_auth = Auth.AppAuth(
                secrets.github_app_id, secrets.github_app_private_key.get_secret_value()
            )
            integration = GithubIntegration(
                auth=app_auth, base_url=options["base_url"], retry=options["retry"]
            )
            repositories = config.settings.github.repositories
            if not repositories:
                raise GitHubUnavailable(
                    "a GitHub App needs github.repositories to find its installation"
                )
            owner, name = repositories[0].split("/")
            try:
                installation = await asyncio.to_thread(
                    integration.get_repo_installation, owner, name
                )
            except github.GithubException as exc:
                raise GitHubUnavailable(
                    f"the GitHub App is not installed on {owner}/{name} ({exc.status})"
                ) from exc
            api = Github(auth=app_auth.get_installation_auth(installation.id), **options)
            return cls(api, integration)
        if secrets.github_token is not None:
            token = Auth.Token(secrets.github_token.get_secret_value())
            return cls(Github(auth=token, **options))
        return None

    @property
    def api(self) -> Github:
        """The PyGithub object, for code that already runs in a worker thread."""
        return self._api

    async def call(self, work: Callable[[], T]) -> T:
        """Run blocking PyGithub ``work`` in a thread, mapping its failures to one error."""
        try:
            return await asyncio.to_thread(work)
        except github.GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise GitHubUnavailable(f"GitHub answered {exc.status}: {message or exc}") from exc
        except OSError as exc:
            raise GitHubUnavailable(f"GitHub is unreachable: {exc}") from exc

    async def user(self, login: str) -> GitHubUser | None:
        """The account with this login, or None if there is none."""

        def fetch() -> GitHubUser | None:
            try:
                found = self._api.get_user(login)
                return GitHubUser(found.id, found.login, found.type == "Bot")
            except github.UnknownObjectException:
                return None

        return await self.call(fetch)

    async def assign(self, full_name: str, number: int, login: str) -> None:
        await self.call(
            lambda: self._api.get_repo(full_name).get_issue(number).add_to_assignees(login)
        )

    async def unassign(self, full_name: str, number: int, login: str) -> None:
        await self.call(
            lambda: self._api.get_repo(full_name).get_issue(number).remove_from_assignees(login)
        )

    async def comment(self, full_name: str, number: int, body: str) -> None:
        await self.call(
            lambda: self._api.get_repo(full_name).get_issue(number).create_comment(body)
        )

    def close(self) -> None:
        self._api.close()
        if self._integration is not None:
            self._integration.close()
