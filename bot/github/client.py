# SPDX-License-Identifier: Apache-2.0
"""The GitHub API client: the only module that imports PyGithub.

PyGithub is synchronous, so every call runs in a worker thread (``asyncio.to_thread``) and
the event loop never waits on GitHub. Authentication is a personal token or a GitHub App
(installation tokens, which PyGithub refreshes before they expire).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import github
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from github import Auth, Github, GithubIntegration
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubRetry import GithubRetry
from github.Requester import Requester

from bot.config import Config
from bot.github.api import GitHubAccount, GitHubUnavailable
from bot.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")
JSON = dict[str, Any]
PER_PAGE = 100
MAX_THREAD_WAIT = 5.0  # seconds
# Methods PyGithub's transport may send again. An error answer does not mean GitHub did
# nothing (a proxy can time out after GitHub applied the request), so a POST (a comment, an
# assignment) or a PATCH is sent once and its caller decides; reads, PUT and DELETE come out
# the same however often they are sent.
RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_LINK = re.compile(r'<([^>]+)>;\s*rel="(\w+)"')


class RateLimited(GitHubUnavailable):
    """A rate limit PyGithub's retry did not wait out (a 429, or longer than MAX_THREAD_WAIT).

    ``retry_after`` (seconds, secondary limits) or ``reset_at`` (primary limits) says how
    long to wait; the caller waits on its clock, off the worker thread.
    """

    def __init__(self, message: str, retry_after: float | None, reset_at: datetime | None):
        super().__init__(message)
        self.retry_after = retry_after
        self.reset_at = reset_at


@dataclass(frozen=True)
class Page:
    """One page of a REST listing as plain JSON, with what its headers say."""

    items: list[JSON]
    next_url: str | None
    last_page: int | None  # from the Link header, when GitHub gives one
    rate_remaining: int | None
    rate_reset: datetime | None


def _options(config: Config) -> dict[str, Any]:
    settings = config.settings.github
    return {
        "base_url": settings.api_url,
        "per_page": PER_PAGE,
        # Objects are fetched when first read, not when named: assigning needs no GET first.
        "lazy": True,
        # Honours Retry-After on secondary limits and sleeps until the reset on primary
        # limits, in the worker thread. A thread cannot be interrupted, so a wait longer
        # than MAX_THREAD_WAIT raises instead (RateLimited from `page`): the sync waits it
        # out on its clock, and a shutdown is not held up by a sleeping thread.
        "retry": GithubRetry(
            total=10,
            allowed_methods=RETRIED_METHODS,
            secondary_rate_wait=60,
            max_rate_limit_wait=MAX_THREAD_WAIT,
        ),
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
            app_auth = await _app_auth(
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
    def is_app(self) -> bool:
        """Authenticated as a GitHub App, which can also act as the app itself (a JWT)."""
        return self._integration is not None

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

    async def user(self, login: str) -> GitHubAccount | None:
        """The account with this login, or None if there is none."""

        def fetch() -> GitHubAccount | None:
            try:
                found = self._api.get_user(login)
                return GitHubAccount(found.id, found.login, found.type == "Bot")
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

    async def comment_once(self, full_name: str, number: int, body: str, *, marker: str) -> None:
        """Comment unless a comment carrying ``marker`` is already there.

        GitHub has no idempotency key; the marker, an HTML comment GitHub does not show,
        lets a retry after a crash between posting and recording find the first attempt, and
        a post that failed find out whether GitHub made the comment all the same.
        """
        tag = f"<!-- helios:{marker} -->"

        def post() -> None:
            issue = self._api.get_repo(full_name).get_issue(number)

            def posted() -> bool:
                return any(tag in (comment.body or "") for comment in issue.get_comments())

            if posted():
                return
            try:
                issue.create_comment(f"{body}\n\n{tag}")
            except (github.GithubException, OSError):
                if not posted():
                    raise

        await self.call(post)

    async def get(self, path: str) -> JSON:
        """One REST object as JSON, e.g. ``/repos/{owner}/{name}``."""
        return (await self.page(path)).items[0]

    async def page(self, url: str, params: Mapping[str, str | int] | None = None) -> Page:
        """One page of a listing: a path with ``params``, or a ``next_url`` of the last page.

        The raw JSON is read in the worker thread: PyGithub objects fetch lazily on attribute
        access, so none is handed to the event loop. ``per_page`` is always 100.
        """
        return await self._page(self._api.requester, url, params)

    async def app_page(self, url: str, params: Mapping[str, str | int] | None = None) -> Page:
        """Like :meth:`page`, for a listing only the GitHub App itself may read (with its JWT):
        ``/app/hook/deliveries``."""
        return await self._page(self._app_requester(), url, params)

    async def redeliver(self, hook_delivery_id: int) -> None:
        """Ask GitHub to post a delivery of the app's webhook again (same X-GitHub-Delivery)."""
        requester = self._app_requester()
        path = f"/app/hook/deliveries/{hook_delivery_id}/attempts"
        await self.call(lambda: requester.requestJsonAndCheck("POST", path))

    def _app_requester(self) -> Requester:
        if self._integration is None:
            raise GitHubUnavailable("only a GitHub App can read its webhook's deliveries")
        return self._integration.requester

    async def _page(
        self, requester: Requester, url: str, params: Mapping[str, str | int] | None
    ) -> Page:
        query = {"per_page": PER_PAGE, **params} if params is not None else None

        def fetch() -> Page:
            try:
                headers, data = requester.requestJsonAndCheck("GET", url, query)
            except github.GithubException as exc:
                limited = _rate_limited(exc)
                if limited is not None:
                    raise limited from exc
                raise
            links = {rel: target for target, rel in _LINK.findall(headers.get("link", ""))}
            last = re.search(r"[?&]page=(\d+)", links.get("last", ""))
            return Page(
                items=data if isinstance(data, list) else [data],
                next_url=links.get("next"),
                last_page=int(last.group(1)) if last else None,
                rate_remaining=_int_header(headers, "x-ratelimit-remaining"),
                rate_reset=_reset_header(headers),
            )

        return await self.call(fetch)

    def close(self) -> None:
        self._api.close()
        if self._integration is not None:
            self._integration.close()


async def _app_auth(app_id: int, private_key: str) -> Auth.AppAuth:
    """The App's credentials, with its key parsed once.

    Given the PEM text, PyGithub parses it for every JWT it signs: ~0.1 s each with the GIL
    held (cryptography checks the RSA key), which stalls the event loop for every request
    made as the App. Parsed once here, in a thread, each JWT is signed in ~1 ms.
    """
    try:
        key = await asyncio.to_thread(load_pem_private_key, private_key.encode(), None)
    except (ValueError, TypeError) as exc:
        raise GitHubUnavailable("GITHUB_APP_PRIVATE_KEY is not a PEM private key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise GitHubUnavailable("GITHUB_APP_PRIVATE_KEY is not an RSA key (GitHub Apps use RSA)")

    def sign(payload: dict[str, Any]) -> str:
        return jwt.encode(payload, key, algorithm="RS256")

    return Auth.AppAuth(app_id, sign_func=sign)


def _int_header(headers: Mapping[str, Any], name: str) -> int | None:
    value = str(headers.get(name, ""))
    return int(value) if value.isdigit() else None


def _reset_header(headers: Mapping[str, Any]) -> datetime | None:
    reset = _int_header(headers, "x-ratelimit-reset")
    return None if reset is None else datetime.fromtimestamp(reset, UTC)


def _rate_limited(exc: github.GithubException) -> RateLimited | None:
    """A 403 or 429 that is a rate limit (GitHub uses both), else None."""
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    retry_after: float | None = _int_header(headers, "retry-after")
    exhausted = _int_header(headers, "x-ratelimit-remaining") == 0
    if retry_after is None and not exhausted and isinstance(exc, RateLimitExceededExceedsMaxWait):
        retry_after = exc.wait  # a secondary limit without Retry-After
    if exc.status not in (403, 429) or (retry_after is None and not exhausted):
        return None
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    return RateLimited(
        f"GitHub rate limit ({exc.status}): {message or exc}",
        retry_after=retry_after,
        reset_at=_reset_header(headers) if exhausted else None,
    )
