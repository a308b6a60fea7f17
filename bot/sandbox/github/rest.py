# SPDX-License-Identifier: Apache-2.0
"""REST handlers: the subset of api.github.com the bot (through PyGithub) uses.

Each handler reads or changes :class:`~bot.sandbox.github.state.GitHubState`; changes go
through the state's mutation methods so that they also produce webhooks, as on GitHub.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from yarl import URL

from bot.sandbox.github.render import JSON, ts
from bot.sandbox.github.state import Issue, NotFoundError, Repository, User, ValidationError
from bot.sandbox.github.webhooks import Delivery

if TYPE_CHECKING:
    from bot.sandbox.github.server import GitHubSimulator

API_PREFIX = "/api/v3"
REPO_ROUTE = "/repos/{owner}/{repo}"
# Where GitHub's Link headers point: repositories and organisations by id.
REPO_BY_ID = API_PREFIX + r"/repositories/{repository_id:\d+}"
ORG_BY_ID = API_PREFIX + r"/organizations/{organization_id:\d+}"
DOCS = "https://docs.github.com/rest"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
# The hook deliveries listing pages with an opaque cursor: here the first attempt id it shows.
_CURSOR = re.compile(r"^v1_(\d+)$")


@dataclass
class Identity:
    """Who is calling: a user (or an app's bot user) or the GitHub App itself (JWT)."""

    user: User | None
    app: bool = False
    installation_id: int | None = None


IDENTITY = web.RequestKey("identity", Identity)


class ApiError(Exception):
    """Answer with GitHub's error body for ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RedirectError(Exception):
    """The repository was renamed or transferred: answer 301 to its new address."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def error_response(
    status: int,
    message: str,
    documentation_url: str = DOCS,
    *,
    errors: list[JSON] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """GitHub's error body: ``{"message": ..., "documentation_url": ...}``."""
    body: JSON = {"message": message, "documentation_url": documentation_url}
    if errors:
        body["errors"] = errors  # a validation error, which carries no status
    else:
        body["status"] = str(status)
    return web.json_response(body, status=status, headers=headers)


def _param_int(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError as exc:
        raise ValidationError("Query", name, "invalid") from exc


def paginate(request: web.Request, items: Sequence[JSON], url: URL | None = None) -> web.Response:
    """One page of ``items`` with RFC 5988 ``Link`` headers (prev, next, last, first) to
    ``url`` (by default the request's), which GitHub gives with the request's query."""
    per_page = min(max(_param_int(request, "per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    page = max(_param_int(request, "page", 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    base = url or request.url

    def link(target: int, rel: str) -> str:
        address = base.update_query(page=str(target), per_page=str(per_page))
        return f'<{address}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(page - 1, "prev"))
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links.append(link(1, "first"))
    headers = {"Link": ", ".join(links)} if links else None
    return web.json_response(list(chunk), headers=headers)


def _since(request: web.Request) -> datetime | None:
    raw = request.query.get("since")
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError("Query", "since", "invalid") from exc


_SORT_KEYS: dict[str, Callable[[Issue], Any]] = {
    "created": lambda i: (i.created_at, i.number),
    "updated": lambda i: (i.updated_at, i.number),
    "comments": lambda i: (len(i.comments), i.number),
    "popularity": lambda i: (len(i.comments), i.number),
    "long-running": lambda i: (i.updated_at - i.created_at, i.number),
}


def _sorted(issues: list[Issue], sort: str, direction: str) -> list[Issue]:
    key = _SORT_KEYS.get(sort)
    if key is None:
        raise ValidationError("Query", "sort", "invalid")
    return sorted(issues, key=key, reverse=direction != "asc")


class RestApi:
    def __init__(self, sim: GitHubSimulator) -> None:
        self._sim = sim
        self._state = sim.state
        self._render = sim.state.render

    def routes(self) -> list[web.RouteDef]:
        """The API's routes; those of a repository also under ``/repositories/{id}``, the
        address GitHub gives in its ``Link`` headers (it survives renames)."""
        repo = API_PREFIX + REPO_ROUTE
        issue = repo + r"/issues/{number:\d+}"
        pull = repo + r"/pulls/{number:\d+}"
        get, post, delete, patch = web.get, web.post, web.delete, web.patch
        routes = [
            get(API_PREFIX + "/rate_limit", self.rate_limit),
            get(API_PREFIX + "/user", self.me),
            get(API_PREFIX + r"/user/{id:\d+}", self.user_by_id),
            get(API_PREFIX + "/users/{login}", self.user),
            get(API_PREFIX + "/orgs/{org}", self.org),
            get(API_PREFIX + "/orgs/{org}/repos", self.org_repos),
            get(API_PREFIX + "/app/installations", self.installations),
            post(API_PREFIX + r"/app/installations/{id:\d+}/access_tokens", self.access_token),
            get(API_PREFIX + "/app/hook/deliveries", self.hook_deliveries),
            post(API_PREFIX + r"/app/hook/deliveries/{id:\d+}/attempts", self.redeliver),
            get(repo, self.repo),
            get(repo + "/installation", self.repo_installation),
            get(repo + "/labels", self.labels),
            get(repo + "/issues", self.issues),
            get(repo + "/issues/events", self.repo_events),
            get(repo + r"/issues/events/{id:\d+}", self.repo_event),
            get(issue, self.issue),
            patch(issue, self.edit_issue),
            get(issue + "/comments", self.comments),
            post(issue + "/comments", self.create_comment),
            get(issue + "/events", self.issue_events),
            get(issue + "/labels", self.issue_labels),
            post(issue + "/labels", self.add_labels),
            delete(issue + "/labels/{name}", self.remove_label),
            post(issue + "/assignees", self.add_assignees),
            delete(issue + "/assignees", self.remove_assignees),
            get(repo + "/pulls", self.pulls),
            get(pull, self.pull),
            get(pull + "/reviews", self.reviews),
            get(pull + "/comments", self.review_comments),
            get(pull + "/requested_reviewers", self.requested_reviewers),
            get(ORG_BY_ID + "/repos", self.org_repos),
        ]
        return routes + [
            web.route(r.method, REPO_BY_ID + r.path.removeprefix(repo), r.handler)
            for r in routes
            if isinstance(r, web.RouteDef) and r.path.startswith(repo)
        ]

    # --- helpers --------------------------------------------------------------------------

    def _identity(self, request: web.Request) -> Identity:
        return request[IDENTITY]

    def _actor(self, request: web.Request) -> str:
        """The login changes are attributed to; the app JWT alone may not change anything."""
        user = self._identity(request).user
        if user is None:
            raise ApiError(403, "Resource not accessible by integration")
        return user.login

    def _require_app(self, request: web.Request) -> None:
        if not self._identity(request).app:
            raise ApiError(401, "A JSON web token could not be decoded")

    def _repo(self, request: web.Request) -> Repository:
        if "repository_id" in request.match_info:
            return self._state.repo_by_id(int(request.match_info["repository_id"]))
        name = f"{request.match_info['owner']}/{request.match_info['repo']}"
        try:
            return self._state.repo(name)
        except NotFoundError:
            new_name = self._state.renamed.get(name.lower())
            if new_name is None:
                raise
            old_prefix = f"{API_PREFIX}/repos/{request.match_info['owner']}/"
            rest = request.path_qs.removeprefix(old_prefix).split("/", 1)[1:]
            location = f"{self._sim.api_url}/repos/{new_name}" + "".join("/" + r for r in rest)
            raise RedirectError(location) from None

    def _issue(self, request: web.Request) -> tuple[Repository, Issue]:
        repo = self._repo(request)
        return repo, self._state.issue(repo.full_name, int(request.match_info["number"]))

    def _pull(self, request: web.Request) -> tuple[Repository, Issue]:
        repo, issue = self._issue(request)
        if issue.pull is None:
            raise NotFoundError(f"{repo.full_name}#{issue.number} is not a pull request")
        return repo, issue

    def _page(self, request: web.Request, items: Sequence[JSON]) -> web.Response:
        """A page of a listing; links to a repository's or organisation's listing name it
        by id, as GitHub's do."""
        info, url = request.match_info, request.url
        if "owner" in info and "repo" in info:
            tail = request.path.removeprefix(f"{API_PREFIX}/repos/{info['owner']}/{info['repo']}")
            url = url.with_path(f"{REPO_BY_ID.split('{')[0]}{self._repo(request).id}{tail}")
        elif "org" in info:
            url = url.with_path(f"{ORG_BY_ID.split('{')[0]}{self._org(request).id}/repos")
        return paginate(request, items, url.with_query(request.url.query))

    def _org(self, request: web.Request) -> User:
        if "organization_id" in request.match_info:
            return self._state.user_by_id(int(request.match_info["organization_id"]))
        org = self._state.find_user(request.match_info["org"])
        if org.type != "Organization":
            raise NotFoundError(org.login)
        return org

    async def _json(self, request: web.Request) -> Any:
        try:
            return await request.json()
        except ValueError as exc:
            raise ValidationError("Body", "json", "invalid", "Problems parsing JSON") from exc

    # --- users, orgs, repositories --------------------------------------------------------

    async def rate_limit(self, request: web.Request) -> web.Response:
        rate = self._sim.rate
        reset_at = rate.refresh(self._sim.clock.now())
        core = {
            "limit": rate.limit,
            "remaining": rate.remaining,
            "reset": math.ceil(reset_at.timestamp()),
            "used": rate.used,
        }
        # Only the core bucket is simulated; search, which GitHub always lists, stays full.
        search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
        return web.json_response({"resources": {"core": core, "search": search}, "rate": core})

    async def me(self, request: web.Request) -> web.Response:
        identity = self._identity(request)
        if identity.user is None or identity.installation_id is not None:
            raise ApiError(403, "Resource not accessible by integration")
        return web.json_response(self._render.private_user(identity.user))

    async def user_by_id(self, request: web.Request) -> web.Response:
        user = self._state.user_by_id(int(request.match_info["id"]))
        return web.json_response(self._render.full_user(user))

    async def user(self, request: web.Request) -> web.Response:
        user = self._state.find_user(request.match_info["login"])
        return web.json_response(self._render.full_user(user))

    async def org(self, request: web.Request) -> web.Response:
        return web.json_response(self._render.full_org(self._org(request)))

    async def org_repos(self, request: web.Request) -> web.Response:
        org = self._org(request)
        repos = [r for r in self._state.repos.values() if r.owner.id == org.id]
        repos.sort(key=lambda r: (r.created_at, r.id))
        return self._page(request, [self._render.repo(r) for r in repos])

    async def repo(self, request: web.Request) -> web.Response:
        return web.json_response(self._render.full_repo(self._repo(request)))

    async def labels(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        labels = sorted(repo.labels.values(), key=lambda lb: lb.name.lower())
        return self._page(request, [self._render.label(repo, lb) for lb in labels])

    # --- GitHub App -----------------------------------------------------------------------

    async def installations(self, request: web.Request) -> web.Response:
        self._require_app(request)
        found = sorted(self._state.installations.values(), key=lambda i: i.id)
        return self._page(request, [self._render.installation(i) for i in found])

    async def repo_installation(self, request: web.Request) -> web.Response:
        self._require_app(request)
        installation = self._state.installation_for(self._repo(request))
        if installation is None:
            raise NotFoundError("installation")
        return web.json_response(self._render.installation(installation))

    async def access_token(self, request: web.Request) -> web.Response:
        self._require_app(request)
        installation = self._state.installations.get(int(request.match_info["id"]))
        if installation is None:
            raise NotFoundError("installation")
        token, expires_at = self._sim.issue_installation_token(installation.id)
        body = {
            "token": token,
            "expires_at": ts(expires_at),
            "permissions": self._render.installation(installation)["permissions"],
            "repository_selection": installation.repository_selection,
        }
        return web.json_response(body, status=201)

    # --- the app's webhook: its log of deliveries, redelivery --------------------------------

    async def hook_deliveries(self, request: web.Request) -> web.Response:
        """Every attempt, newest first, a page at a time from ``cursor``; ``status``
        (success: 200-399, failure: 400-599) filters them, as on GitHub."""
        self._require_app(request)
        attempts = sorted(self._sim.emitter.sent, key=lambda a: a.attempt_id or 0, reverse=True)
        wanted = request.query.get("status")
        if wanted is not None:
            codes = {"success": range(200, 400), "failure": range(400, 600)}.get(wanted)
            if codes is None:
                raise ValidationError("Query", "status", "invalid")
            attempts = [a for a in attempts if _status_code(a) in codes]
        if (cursor := request.query.get("cursor")) is not None:
            found = _CURSOR.match(cursor)
            if found is None:
                raise ValidationError("Query", "cursor", "invalid")
            attempts = [a for a in attempts if (a.attempt_id or 0) <= int(found[1])]
        per_page = min(max(_param_int(request, "per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
        page, rest = attempts[:per_page], attempts[per_page:]
        headers = None
        if rest:
            url = request.url.update_query(cursor=f"v1_{rest[0].attempt_id}", per_page=per_page)
            headers = {"Link": f'<{url}>; rel="next"'}
        return web.json_response([_hook_delivery(a) for a in page], headers=headers)

    async def redeliver(self, request: web.Request) -> web.Response:
        self._require_app(request)
        try:
            self._sim.emitter.redeliver(int(request.match_info["id"]))
        except KeyError:
            raise NotFoundError("hook delivery") from None
        return web.json_response({}, status=202)

    # --- issues ---------------------------------------------------------------------------

    async def issues(self, request: web.Request) -> web.Response:
        repo, query = self._repo(request), request.query
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise ValidationError("Issue", "state", "invalid")
        wanted_labels = {n.strip().lower() for n in query.get("labels", "").split(",") if n}
        assignee, creator, since = query.get("assignee"), query.get("creator"), _since(request)

        def keep(issue: Issue) -> bool:
            names = {lb.name.lower() for lb in issue.labels}
            logins = {a.login.lower() for a in issue.assignees}
            return (
                (state == "all" or issue.state == state)
                and wanted_labels <= names
                and (since is None or issue.updated_at >= since)
                and (creator is None or issue.user.login.lower() == creator.lower())
                and (
                    assignee is None
                    or (assignee == "none" and not logins)
                    or (assignee == "*" and bool(logins))
                    or assignee.lower() in logins
                )
            )

        found = _sorted(
            [i for i in repo.issues.values() if keep(i)],
            query.get("sort", "created"),
            query.get("direction", "desc"),
        )
        return self._page(request, [self._render.issue(repo, i) for i in found])

    async def issue(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        return web.json_response(self._render.issue(repo, issue))

    async def edit_issue(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        body, actor = await self._json(request), self._actor(request)
        name = repo.full_name
        self._state.edit_issue(
            name, issue.number, actor=actor, title=body.get("title"), body=body.get("body")
        )
        if body.get("state") == "closed":
            reason = body.get("state_reason") or "completed"
            self._state.close_issue(name, issue.number, actor=actor, reason=reason)
        elif body.get("state") == "open":
            self._state.reopen_issue(name, issue.number, actor=actor)
        if "labels" in body:
            current = [lb.name for lb in issue.labels]
            for old in current:
                if old not in body["labels"]:
                    self._state.remove_label(name, issue.number, old, actor=actor)
            self._state.add_labels(name, issue.number, body["labels"], actor=actor)
        return web.json_response(self._render.issue(repo, issue))

    async def comments(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        since = _since(request)
        found = [c for c in issue.comments if since is None or c.updated_at >= since]
        return self._page(request, [self._render.comment(repo, issue, c) for c in found])

    async def create_comment(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        body = await self._json(request)
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            raise ValidationError("IssueComment", "body", "missing_field")
        comment = self._state.comment(repo.full_name, issue.number, self._actor(request), text)
        return web.json_response(self._render.comment(repo, issue, comment), status=201)

    async def issue_events(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        found = [e for e in repo.events if e.issue_number == issue.number]
        return self._page(
            request, [self._render.issue_event(repo, e, with_issue=False) for e in found]
        )

    async def repo_events(self, request: web.Request) -> web.Response:
        """Newest first, each with the issue it belongs to, like GitHub's repository list."""
        repo = self._repo(request)
        found = sorted(repo.events, key=lambda e: e.id, reverse=True)
        return self._page(
            request, [self._render.issue_event(repo, e, with_issue=True) for e in found]
        )

    async def repo_event(self, request: web.Request) -> web.Response:
        repo, wanted = self._repo(request), int(request.match_info["id"])
        event = next((e for e in repo.events if e.id == wanted), None)
        if event is None:
            raise NotFoundError(str(wanted))
        return web.json_response(self._render.issue_event(repo, event, with_issue=True))

    async def issue_labels(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        return self._page(request, [self._render.label(repo, lb) for lb in issue.labels])

    async def add_labels(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        body = await self._json(request)
        names = body.get("labels") if isinstance(body, dict) else body  # both forms documented
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationError("Label", "labels", "invalid")
        labels = self._state.add_labels(
            repo.full_name, issue.number, names, actor=self._actor(request)
        )
        return web.json_response([self._render.label(repo, lb) for lb in labels])

    async def remove_label(self, request: web.Request) -> web.Response:
        repo, issue = self._issue(request)
        name = request.match_info["name"]
        labels = self._state.remove_label(
            repo.full_name, issue.number, name, actor=self._actor(request)
        )
        return web.json_response([self._render.label(repo, lb) for lb in labels])

    async def _assignees(self, request: web.Request) -> tuple[Repository, Issue, list[str]]:
        repo, issue = self._issue(request)
        body = await self._json(request)
        logins = body.get("assignees") if isinstance(body, dict) else None
        if not isinstance(logins, list) or not all(isinstance(n, str) for n in logins):
            raise ValidationError("Issue", "assignees", "invalid")
        for login in logins:  # GitHub silently drops unknown users; we refuse them loudly
            if login.lower() not in self._state.users:
                raise ValidationError("Issue", "assignees", "invalid", f"unknown user {login}")
        return repo, issue, logins

    async def add_assignees(self, request: web.Request) -> web.Response:
        repo, issue, logins = await self._assignees(request)
        self._state.assign(repo.full_name, issue.number, logins, actor=self._actor(request))
        return web.json_response(self._render.issue(repo, issue), status=201)

    async def remove_assignees(self, request: web.Request) -> web.Response:
        repo, issue, logins = await self._assignees(request)
        self._state.unassign(repo.full_name, issue.number, logins, actor=self._actor(request))
        return web.json_response(self._render.issue(repo, issue))

    # --- pull requests --------------------------------------------------------------------

    async def pulls(self, request: web.Request) -> web.Response:
        repo, query = self._repo(request), request.query
        state, base = query.get("state", "open"), query.get("base")
        if state not in ("open", "closed", "all"):
            raise ValidationError("PullRequest", "state", "invalid")
        sort = query.get("sort", "created")
        found = [
            i
            for i in repo.issues.values()
            if i.pull is not None
            and (state == "all" or i.state == state)
            and (base is None or i.pull.base_ref == base)
        ]
        # Documented default: descending for "created", ascending otherwise.
        direction = query.get("direction", "desc" if sort == "created" else "asc")
        found = _sorted(found, sort, direction)
        # The listing gives the short shape: no merged_by, no counts (GET one for those).
        return self._page(
            request, [self._render.pull(repo, i, simple=True, rest=True) for i in found]
        )

    async def pull(self, request: web.Request) -> web.Response:
        repo, issue = self._pull(request)
        return web.json_response(self._render.pull(repo, issue, rest=True))

    async def reviews(self, request: web.Request) -> web.Response:
        repo, issue = self._pull(request)
        assert issue.pull is not None
        found = [self._render.review(repo, issue, r, webhook=False) for r in issue.pull.reviews]
        return self._page(request, found)

    async def review_comments(self, request: web.Request) -> web.Response:
        repo, issue = self._pull(request)
        assert issue.pull is not None
        found = [self._render.review_comment(repo, issue, c) for c in issue.pull.review_comments]
        return self._page(request, found)

    async def requested_reviewers(self, request: web.Request) -> web.Response:
        _, issue = self._pull(request)
        assert issue.pull is not None
        users = [self._render.user(u) for u in issue.pull.requested_reviewers]
        return web.json_response({"users": users, "teams": []})


def _status_code(attempt: Delivery) -> int:
    """What GitHub records for an attempt; an attempt that got no answer as GitHub's own
    example shows one ("failed to connect", 502)."""
    return attempt.status if attempt.status is not None else 502


def _hook_delivery(attempt: Delivery) -> JSON:
    """An item of GET /app/hook/deliveries (hook-delivery-item)."""
    payload = attempt.payload if isinstance(attempt.payload, dict) else {}
    installation = payload.get("installation")
    repository = payload.get("repository")
    code = _status_code(attempt)
    if attempt.status is None:
        status = "failed to connect"
    else:
        status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
    assert attempt.delivered_at is not None
    return {
        "id": attempt.attempt_id,
        "guid": attempt.delivery_id,
        "delivered_at": ts(attempt.delivered_at),
        "redelivery": attempt.redelivery,
        "duration": round(attempt.duration, 2),
        "status": status,
        "status_code": code,
        "event": attempt.event,
        "action": attempt.action,
        "installation_id": installation.get("id") if isinstance(installation, dict) else None,
        "repository_id": repository.get("id") if isinstance(repository, dict) else None,
        "throttled_at": None,
    }
