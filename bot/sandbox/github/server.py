# SPDX-License-Identifier: Apache-2.0
"""The loopback HTTP server: authentication, rate limits, injected faults and request counts.

Layout mirrors GitHub Enterprise Server: the REST API lives under ``{url}/api/v3`` (pass
:attr:`GitHubSimulator.api_url` to ``github.Github(base_url=...)``) and the github.com pages,
here only the OAuth device flow, live at the root (:attr:`GitHubSimulator.web_url`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.clock import Clock
from bot.log import get_logger
from bot.sandbox.github.device import DeviceFlow
from bot.sandbox.github.rest import (
    API_PREFIX,
    IDENTITY,
    ORG_BY_ID,
    REPO_BY_ID,
    REPO_ROUTE,
    ApiError,
    Identity,
    RedirectError,
    RestApi,
    error_response,
)
from bot.sandbox.github.state import GitHubState, NotFoundError, ValidationError
from bot.sandbox.github.webhooks import WebhookEmitter
from bot.sandbox.openapi import ApiCheck

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)


@dataclass
class Token:
    login: str | None = None  # a user token acts as this user
    installation_id: int | None = None  # an installation token acts as the app's bot
    expires_at: datetime | None = None


@dataclass
class Fault:
    """An injected failure for the next ``count`` requests whose path matches ``path`` (and
    whose method is ``method``, if given)."""

    status: int
    count: int
    path: re.Pattern[str] | None
    method: str | None = None
    retry_after: int | None = None
    message: str = "Server Error"
    applied: bool = False  # the request takes effect all the same; only the answer fails


@dataclass
class RequestCounter:
    """How many requests reached the simulator, in total and per route ("GET /repos/...")."""

    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)

    def record(self, route: str) -> None:
        self.total += 1
        self.by_route[route] += 1

    def reset(self) -> None:
        self.total = 0
        self.by_route.clear()


@dataclass
class GitHubRequest:
    """One request as it reached the simulator, for tests and the sandbox's transcript."""

    method: str
    route: str  # the route's template, e.g. "/repos/{owner}/{repo}/issues/{number}"
    params: dict[str, str]  # the template's values: {"owner": ..., "repo": ..., "number": ...}
    api: bool  # under the REST API, rather than a github.com page (the device flow)
    status: int = 0


@dataclass
class RateLimit:
    """One "core" bucket for the whole simulator; the window restarts when the reset passes."""

    limit: int = 5000
    used: int = 0
    reset_at: datetime | None = None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def refresh(self, now: datetime) -> datetime:
        """Start a new window if the last one has passed; returns when the current one ends."""
        if self.reset_at is None or now >= self.reset_at:
            self.used, self.reset_at = 0, now + timedelta(hours=1)
        return self.reset_at

    def headers(self, now: datetime) -> dict[str, str]:
        reset_at = self.refresh(now)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            # Rounded up so a client that sleeps until then finds the window reset.
            "X-RateLimit-Reset": str(math.ceil(reset_at.timestamp())),
            "X-RateLimit-Used": str(self.used),
            "X-RateLimit-Resource": "core",
        }


class GitHubSimulator:
    """GitHub REST API, device flow and webhook source on 127.0.0.1, for tests and the sandbox."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        webhook_secret: str,
        state: GitHubState | None = None,
        webhook_url: str | None = None,
        auto_deliver: bool = False,
    ) -> None:
        self.state = state or GitHubState(clock)
        self.clock = self.state.clock
        self.emitter = WebhookEmitter(webhook_secret, webhook_url, auto_deliver=auto_deliver)
        self.emitter.attach(self.state)
        self.counter = RequestCounter()
        self.requests: list[GitHubRequest] = []
        self.rate = RateLimit()
        self.faults: list[Fault] = []
        self.primary_status = 403  # GitHub answers primary exhaustion with 403 or 429
        self.tokens: dict[str, Token] = {}
        self.device = DeviceFlow(self.clock, self._user_token)
        # Every REST call checked against GitHub's OpenAPI description, when installed.
        self.api = ApiCheck("github", prefix=API_PREFIX, canonical_path=self._canonical_path)
        self._rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}{API_PREFIX}"

    @property
    def web_url(self) -> str:
        return self.url

    async def start(self) -> str:
        """Listen on an ephemeral loopback port; returns the root URL."""
        app = web.Application(middlewares=[self.api.middleware, self._middleware])
        app.add_routes(self._rest.routes())
        app.add_routes(
            [
                web.post("/login/device/code", self._device_code),
                web.post("/login/oauth/access_token", self._access_token),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.state.api_url, self.state.web_url = self.api_url, self.web_url
        log.info("github simulator listening on %s", self.url)
        return self.url

    async def close(self) -> None:
        await self.emitter.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> GitHubSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- credentials ----------------------------------------------------------------------

    def add_token(self, token: str, login: str) -> None:
        """Accept ``token`` (as ``token X`` or ``Bearer X``) as acting for user ``login``."""
        self.state.user(login)
        self.tokens[token] = Token(login=login)

    def _user_token(self, login: str) -> str:
        token = "gho_" + secrets.token_hex(18)
        self.add_token(token, login)
        return token

    def issue_installation_token(self, installation_id: int) -> tuple[str, datetime]:
        """A one-hour installation token, as POST /app/installations/{id}/access_tokens gives."""
        expires_at = self.clock.now() + timedelta(hours=1)
        token = "ghs_" + secrets.token_hex(18)
        self.tokens[token] = Token(installation_id=installation_id, expires_at=expires_at)
        return token, expires_at

    def _identify(self, header: str) -> Identity | None:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not credential:
            return None
        if credential.count(".") == 2:
            return self._identify_jwt(credential)
        token = self.tokens.get(credential)
        if token is None:
            return None
        if token.expires_at is not None and self.clock.now() >= token.expires_at:
            return None
        if token.installation_id is not None:
            bot = self.state.user(f"{self.state.app_slug}[bot]")
            return Identity(bot, installation_id=token.installation_id)
        assert token.login is not None
        return Identity(self.state.user(token.login))

    def _identify_jwt(self, jwt: str) -> Identity | None:
        """Accept an app JWT whose ``iss`` is our app id; the RSA signature is not checked."""
        try:
            claims = json.loads(base64.urlsafe_b64decode(_pad(jwt.split(".")[1])))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict) or str(claims.get("iss")) != str(self.state.app_id):
            return None
        return Identity(None, app=True)

    # --- fault injection ------------------------------------------------------------------

    def inject_error(
        self,
        status: int = 502,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        applied: bool = False,
    ) -> None:
        """Answer the next ``count`` API requests (matching regex ``path``, and ``method``)
        with ``status``.

        With ``applied``, each request is carried out first and only its answer is the error:
        GitHub did the work, then a proxy in between timed out.
        """
        pattern = re.compile(path) if path else None
        self.faults.append(Fault(status, count, pattern, method=method, applied=applied))

    def inject_secondary_rate_limit(
        self, *, retry_after: int = 1, count: int = 1, path: str | None = None
    ) -> None:
        """403 with ``Retry-After`` and GitHub's secondary rate limit message."""
        pattern = re.compile(path) if path else None
        self.faults.append(
            Fault(403, count, pattern, retry_after=retry_after, message=SECONDARY_MESSAGE)
        )

    def exhaust_rate_limit(self, reset_in: timedelta, *, status: int = 403) -> None:
        """Use up the primary rate limit until ``reset_in`` from now (per the clock)."""
        self.rate.used = self.rate.limit
        self.rate.reset_at = self.clock.now() + reset_in
        self.primary_status = status

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method not in (None, method):
                continue
            if fault.path is None or fault.path.search(path):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- middleware -----------------------------------------------------------------------

    def _template(self, request: web.Request) -> str:
        """The route's template; one for a repository's routes at either of its addresses."""
        info = request.match_info.route.resource
        template = info.canonical if info is not None else request.path
        template = template.replace(REPO_BY_ID.replace(r":\d+", ""), API_PREFIX + REPO_ROUTE)
        template = template.replace(ORG_BY_ID.replace(r":\d+", ""), API_PREFIX + "/orgs/{org}")
        return template.removeprefix(API_PREFIX) or "/"

    def _canonical_path(self, path: str) -> str:
        """A path under the API by owner and name, as the API description writes it."""
        by_id = re.match(r"^/(repositories|organizations)/(\d+)(/.*)?$", path)
        if by_id is None:
            return path
        kind, number, tail = by_id.group(1), int(by_id.group(2)), by_id.group(3) or ""
        try:
            if kind == "repositories":
                return f"/repos/{self.state.repo_by_id(number).full_name}{tail}"
            return f"/orgs/{self.state.user_by_id(number).login}{tail}"
        except NotFoundError:
            return path

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        template = self._template(request)
        self.counter.record(f"{request.method} {template}")
        api = request.path.startswith(API_PREFIX)
        record = GitHubRequest(request.method, template, dict(request.match_info), api)
        self.requests.append(record)
        if not api:
            response = await handler(request)  # github.com pages: no API rules apply
            record.status = response.status
            return response
        request_id = uuid.uuid4().hex[:20].upper()
        response = await self._api(request, handler, request_id)
        response.headers.update(self.rate.headers(self.clock.now()))
        response.headers["X-GitHub-Request-Id"] = request_id
        response.headers["X-GitHub-Media-Type"] = "github.v3; format=json"
        record.status = response.status
        return response

    async def _api(
        self, request: web.Request, handler: Handler, request_id: str
    ) -> web.StreamResponse:
        fault = self._take_fault(request.method, request.path)
        if fault is None:
            return await self._serve(request, handler, request_id)
        if fault.applied:
            await self._serve(request, handler, request_id)
        response = error_response(fault.status, fault.message.format(request_id=request_id))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    async def _serve(
        self, request: web.Request, handler: Handler, request_id: str
    ) -> web.StreamResponse:
        identity = self._identify(request.headers.get("Authorization", ""))
        if identity is None:
            return error_response(401, "Bad credentials")
        self.rate.refresh(self.clock.now())
        if self.rate.remaining == 0:
            who = identity.user.id if identity.user else self.state.app_id
            message = (
                f"API rate limit exceeded for user ID {who}. If you reach out to GitHub Support "
                f"for help, please include the request ID {request_id}."
            )
            return error_response(self.primary_status, message, RATE_LIMIT_DOCS)
        if not request.path.endswith("/rate_limit"):  # GitHub does not count this call
            self.rate.used += 1
        request[IDENTITY] = identity
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed, NotFoundError):
            return error_response(404, "Not Found")
        except ApiError as refused:
            return error_response(refused.status, refused.message)
        except RedirectError as moved:
            return error_response(301, "Moved Permanently", headers={"Location": moved.location})
        except ValidationError as invalid:
            errors = [
                {"resource": invalid.resource, "field": invalid.field_name, "code": invalid.code}
            ]
            return error_response(422, "Validation Failed", errors=errors)

    # --- device flow (github.com) ---------------------------------------------------------

    async def _form(self, request: web.Request) -> dict[str, str]:
        """Device flow clients send form data, JSON or query parameters; accept all three."""
        values = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            values.update({k: str(v) for k, v in body.items()})
        else:
            values.update({k: str(v) for k, v in (await request.post()).items()})
        return values

    def _oauth_answer(self, request: web.Request, data: dict[str, Any]) -> web.Response:
        # GitHub answers form-encoded unless the client asks for JSON.
        if "json" in request.headers.get("Accept", ""):
            return web.json_response(data)
        return web.Response(text=urlencode(data), content_type="application/x-www-form-urlencoded")

    async def _device_code(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        data = self.device.start(
            form.get("client_id", ""), form.get("scope", ""), f"{self.web_url}/login/device"
        )
        return self._oauth_answer(request, data)

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        data = self.device.poll(
            form.get("client_id", ""), form.get("device_code", ""), form.get("grant_type", "")
        )
        return self._oauth_answer(request, data)


def _pad(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)
