# SPDX-License-Identifier: Apache-2.0
"""GitHub JSON → one normalised contributor history.

Two halves, so that webhooks and the REST backfill produce the same rows:

- parsing: pure functions from a GitHub object (a webhook payload, or a REST issue, pull,
  review, comment or issue event, which have the same shapes) to plain records;
- writing: :func:`apply` upserts a :class:`Changes` bundle of records, keyed by GitHub ids.

Every write is idempotent and independent of arrival order: times come from the payload, a
snapshot only replaces the stored one when its ``updated_at`` is newer or equal, transitions
are unique by (repository, number, kind, subject, time) and removals are sticky. Bodies of
issues and comments are never read into a record, so they cannot be stored; only a pull
request's closing references ("Fixes #12") are read out of its body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import insert_for
from bot.db.models import (
    GitHubCollaborator,
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubLabel,
    GitHubRepository,
    GitHubReview,
    GitHubUser,
)
from bot.log import get_logger

log = get_logger(__name__)

JSON = dict[str, Any]

# For users in payloads that carry no time of their own (member, membership): such a login is
# stored for a user never seen before but never replaces a dated one.
UNDATED = datetime(1970, 1, 1, tzinfo=UTC)

MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})

# GitHub's closing keywords, then "#12", "owner/repo#12" or an issue's address.
_CLOSING_REFERENCE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+"
    r"(?:https://[^/\s]+/(?P<url_repo>[\w.-]+/[\w.-]+)/issues/(?P<url_number>\d+)"
    r"|(?P<repo>[\w.-]+/[\w.-]+)?#(?P<number>\d+))",
    re.IGNORECASE,
)

# Issue-event names as the REST API spells them -> our kinds (webhook actions use the same
# words except "converted_to_draft").
EVENT_KINDS = {
    "labeled": "labeled",
    "unlabeled": "unlabeled",
    "assigned": "assigned",
    "unassigned": "unassigned",
    "review_requested": "review_requested",
    "review_request_removed": "review_request_removed",
    "ready_for_review": "ready_for_review",
    "convert_to_draft": "converted_to_draft",
    "converted_to_draft": "converted_to_draft",
    "closed": "closed",
    "reopened": "reopened",
    "merged": "merged",
}


def is_maintainer(
    login: str | None, author_association: str | None, configured_logins: Collection[str]
) -> bool:
    """A configured login (any case), or GitHub says OWNER, MEMBER or COLLABORATOR."""
    if author_association in MAINTAINER_ASSOCIATIONS:
        return True
    if login is None:
        return False
    return login.lower() in {name.lower() for name in configured_logins}


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRecord:
    id: int
    login: str
    type: str
    is_bot: bool
    # The payload time this login was read at; the newest wins.
    seen_at: datetime


@dataclass(frozen=True)
class RepositoryRecord:
    id: int
    full_name: str
    archived: bool
    # None for the short form in installation payloads, which must not replace a full one.
    updated_at: datetime | None


@dataclass(frozen=True)
class IssueRecord:
    """An issue or pull request snapshot. None in an optional field: "not in this shape"."""

    repository_id: int
    number: int
    is_pull_request: bool
    title: str
    state: str
    state_reason: str | None
    draft: bool | None
    merged_at: datetime | None
    merged_by: UserRecord | None
    labels: tuple[str, ...]
    assignees: tuple[UserRecord, ...]
    requested_reviewers: tuple[UserRecord, ...] | None
    author: UserRecord | None
    author_association: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    html_url: str
    # Closing references of a pull request (see closing_references); None: no body in this shape.
    closes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    repository_id: int
    number: int
    reviewer: UserRecord | None
    state: str
    submitted_at: datetime
    author_association: str


@dataclass(frozen=True)
class CommentRecord:
    id: int
    repository_id: int
    number: int
    kind: str  # "issue" or "review"
    author: UserRecord | None
    author_association: str
    created_at: datetime
    deleted: bool = False


@dataclass(frozen=True)
class EventRecord:
    repository_id: int
    number: int
    kind: str
    subject: str
    occurred_at: datetime
    actor: UserRecord | None


@dataclass(frozen=True)
class LabelRecord:
    id: int
    repository_id: int
    name: str
    deleted: bool = False


@dataclass
class Changes:
    """Everything one delivery (or one page of backfill) says, ready for :func:`apply`."""

    users: list[UserRecord] = field(default_factory=list)
    repositories: list[RepositoryRecord] = field(default_factory=list)
    issues: list[IssueRecord] = field(default_factory=list)
    reviews: list[ReviewRecord] = field(default_factory=list)
    comments: list[CommentRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    labels: list[LabelRecord] = field(default_factory=list)
    # (repository id, number, "deleted" or "transferred")
    removed_issues: list[tuple[int, int, str]] = field(default_factory=list)
    deleted_repository_ids: list[int] = field(default_factory=list)
    # (installation id, repository ids, installed?)
    installations: list[tuple[int, list[int], bool]] = field(default_factory=list)
    # (repository id, user id, permission, still a collaborator?)
    collaborators: list[tuple[int, int, str | None, bool]] = field(default_factory=list)


# --- parsing: GitHub JSON -> records (pure) -----------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """GitHub's ISO 8601 timestamps ("2026-01-05T09:00:00Z"); None stays None."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return moment


def _time(value: Any) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise ValueError("a required timestamp is missing")
    return moment


def parse_user(obj: JSON | None, seen_at: datetime) -> UserRecord | None:
    """A user object (None for deleted accounts in REST answers)."""
    if not obj:
        return None
    login = str(obj["login"])
    kind = str(obj.get("type") or "User")
    return UserRecord(
        id=int(obj["id"]),
        login=login,
        type=kind,
        is_bot=kind == "Bot" or login.endswith("[bot]"),
        seen_at=seen_at,
    )


def parse_repository(obj: JSON) -> RepositoryRecord:
    return RepositoryRecord(
        id=int(obj["id"]),
        full_name=str(obj["full_name"]),
        archived=bool(obj.get("archived", False)),
        updated_at=parse_time(obj.get("updated_at")),
    )


def parse_issue(obj: JSON, repository_id: int) -> IssueRecord:
    """An issue or pull request object, in issue shape or pull request shape."""
    updated_at = _time(obj["updated_at"])
    # Issue shape: a pull request carries a "pull_request" link object; pull shape: "head".
    link = obj.get("pull_request")
    is_pull = "head" in obj or isinstance(link, dict)
    merged_at = parse_time(obj.get("merged_at") or (link or {}).get("merged_at"))
    requested = obj.get("requested_reviewers")
    return IssueRecord(
        repository_id=repository_id,
        number=int(obj["number"]),
        is_pull_request=is_pull,
        title=str(obj.get("title") or ""),
        state=str(obj["state"]),
        state_reason=obj.get("state_reason"),
        draft=obj.get("draft") if is_pull else False,
        merged_at=merged_at,
        merged_by=parse_user(obj.get("merged_by"), updated_at),
        labels=tuple(sorted(str(label["name"]) for label in obj.get("labels") or ())),
        assignees=_users(obj.get("assignees") or (), updated_at),
        requested_reviewers=None if requested is None else _users(requested, updated_at),
        author=parse_user(obj.get("user"), updated_at),
        author_association=str(obj.get("author_association") or "NONE"),
        created_at=_time(obj["created_at"]),
        updated_at=updated_at,
        closed_at=parse_time(obj.get("closed_at")),
        html_url=str(obj.get("html_url") or ""),
        closes=closing_references(obj.get("body")) if is_pull and "body" in obj else None,
    )


def closing_references(body: str | None) -> tuple[str, ...]:
    """The issues a pull request's description says it closes, in GitHub's keyword syntax.

    "#12" for an issue in the pull request's own repository, "owner/repo#12" (lower case)
    for one elsewhere; each once, in order of mention.
    """
    found: dict[str, None] = {}
    for match in _CLOSING_REFERENCE.finditer(body or ""):
        repository = match["url_repo"] or match["repo"]
        number = int(match["url_number"] or match["number"])
        found[f"{repository.lower()}#{number}" if repository else f"#{number}"] = None
    return tuple(found)


def _users(objs: Iterable[JSON], seen_at: datetime) -> tuple[UserRecord, ...]:
    parsed = (parse_user(obj, seen_at) for obj in objs)
    return tuple(user for user in parsed if user is not None)


def _number_from_url(url: str) -> int:
    # ".../issues/7" or ".../pulls/7": REST reviews and comments name their issue this way.
    return int(url.rstrip("/").rsplit("/", 1)[1])


def parse_review(obj: JSON, repository_id: int) -> ReviewRecord | None:
    """A submitted review; None for a pending one (not yet visible to anyone else)."""
    submitted_at = parse_time(obj.get("submitted_at"))
    if submitted_at is None:
        return None
    return ReviewRecord(
        id=int(obj["id"]),
        repository_id=repository_id,
        number=_number_from_url(str(obj["pull_request_url"])),
        reviewer=parse_user(obj.get("user"), submitted_at),
        state=str(obj["state"]).upper(),
        submitted_at=submitted_at,
        author_association=str(obj.get("author_association") or "NONE"),
    )


def parse_comment(obj: JSON, repository_id: int) -> CommentRecord:
    """An issue comment (it has ``issue_url``) or a review comment (``pull_request_url``)."""
    created_at = _time(obj["created_at"])
    seen_at = parse_time(obj.get("updated_at")) or created_at
    is_review = "pull_request_url" in obj
    url = obj["pull_request_url"] if is_review else obj["issue_url"]
    return CommentRecord(
        id=int(obj["id"]),
        repository_id=repository_id,
        number=_number_from_url(str(url)),
        kind="review" if is_review else "issue",
        author=parse_user(obj.get("user"), seen_at),
        author_association=str(obj.get("author_association") or "NONE"),
        created_at=created_at,
    )


def parse_issue_event(
    obj: JSON, repository_id: int, number: int | None = None
) -> EventRecord | None:
    """A REST issue event (the repository-wide list embeds its issue); None if not tracked."""
    kind = EVENT_KINDS.get(str(obj.get("event")))
    if kind is None:
        return None
    if number is None:
        number = int(obj["issue"]["number"])
    occurred_at = _time(obj["created_at"])
    return EventRecord(
        repository_id=repository_id,
        number=number,
        kind=kind,
        subject=_subject(kind, obj),
        occurred_at=occurred_at,
        actor=parse_user(obj.get("actor"), occurred_at),
    )


def _subject(kind: str, obj: JSON) -> str:
    """What a transition is about, spelled the same by webhooks and REST issue events."""
    if kind in ("labeled", "unlabeled"):
        return str(obj["label"]["name"])
    if kind in ("assigned", "unassigned"):
        return str(obj["assignee"]["id"])
    if kind in ("review_requested", "review_request_removed"):
        if obj.get("requested_reviewer"):
            return str(obj["requested_reviewer"]["id"])
        return "team:" + str(obj["requested_team"]["slug"])
    return ""


def parse_delivery(event: str, payload: JSON) -> Changes:
    """What a webhook delivery says, as records; an event or action we do not use says nothing."""
    changes = Changes()
    parse = _PARSERS.get(event)
    if parse is not None:
        parse(payload, changes)
    return changes


def _repository(payload: JSON, changes: Changes) -> int:
    repository = parse_repository(payload["repository"])
    changes.repositories.append(repository)
    return repository.id


def _sender(payload: JSON, seen_at: datetime, changes: Changes) -> UserRecord | None:
    sender = parse_user(payload.get("sender"), seen_at)
    if sender is not None:
        changes.users.append(sender)
    return sender


def _issue_delivery(payload: JSON, changes: Changes) -> None:
    """``issues`` and ``pull_request``: a snapshot plus, for transitions, an event row."""
    action = str(payload.get("action"))
    repository_id = _repository(payload, changes)
    obj = payload.get("pull_request") or payload["issue"]
    issue = parse_issue(obj, repository_id)
    changes.issues.append(issue)
    sender = _sender(payload, issue.updated_at, changes)

    if action in ("deleted", "transferred"):
        changes.removed_issues.append((repository_id, issue.number, action))
        moved = payload.get("changes") or {}
        if action == "transferred" and moved.get("new_issue") and moved.get("new_repository"):
            new_repository = parse_repository(moved["new_repository"])
            changes.repositories.append(new_repository)
            changes.issues.append(parse_issue(moved["new_issue"], new_repository.id))
        return

    kind = EVENT_KINDS.get(action)
    if kind is None:  # opened, edited, synchronize: the snapshot is all there is
        return
    if kind == "closed" and issue.merged_at is not None:
        merger = issue.merged_by or sender
        changes.events.append(
            EventRecord(repository_id, issue.number, "merged", "", issue.merged_at, merger)
        )
    occurred_at = issue.closed_at if kind == "closed" and issue.closed_at else issue.updated_at
    changes.events.append(
        EventRecord(repository_id, issue.number, kind, _subject(kind, payload), occurred_at, sender)
    )
    for key in ("assignee", "requested_reviewer"):
        user = parse_user(payload.get(key), occurred_at)
        if user is not None:
            changes.users.append(user)


def _review_delivery(payload: JSON, changes: Changes) -> None:
    repository_id = _repository(payload, changes)
    pull = parse_issue(payload["pull_request"], repository_id)
    changes.issues.append(pull)
    review = parse_review(payload["review"], repository_id)
    if review is not None:
        changes.reviews.append(review)
    _sender(payload, pull.updated_at, changes)


def _comment_delivery(payload: JSON, changes: Changes) -> None:
    repository_id = _repository(payload, changes)
    issue = parse_issue(payload.get("pull_request") or payload["issue"], repository_id)
    changes.issues.append(issue)
    comment = parse_comment(payload["comment"], repository_id)
    if payload.get("action") == "deleted":
        comment = replace(comment, deleted=True)
    changes.comments.append(comment)
    _sender(payload, issue.updated_at, changes)


def _label_delivery(payload: JSON, changes: Changes) -> None:
    repository_id = _repository(payload, changes)
    label = payload["label"]
    changes.labels.append(
        LabelRecord(
            id=int(label["id"]),
            repository_id=repository_id,
            name=str(label["name"]),
            deleted=payload.get("action") == "deleted",
        )
    )


def _member_delivery(payload: JSON, changes: Changes) -> None:
    repository_id = _repository(payload, changes)
    member = parse_user(payload["member"], UNDATED)
    if member is None:
        return
    changes.users.append(member)
    if payload.get("action") == "removed":
        changes.collaborators.append((repository_id, member.id, None, False))
        return
    permission = ((payload.get("changes") or {}).get("permission") or {}).get("to")
    changes.collaborators.append((repository_id, member.id, permission, True))


def _membership_delivery(payload: JSON, changes: Changes) -> None:
    # Team membership is an organisation matter: only the member's identity is recorded.
    member = parse_user(payload.get("member"), UNDATED)
    if member is not None:
        changes.users.append(member)


def _installation_delivery(payload: JSON, changes: Changes) -> None:
    action = str(payload.get("action"))
    installation_id = int(payload["installation"]["id"])
    if "repositories_added" in payload or "repositories_removed" in payload:  # *_repositories
        added = [parse_repository(r) for r in payload.get("repositories_added") or ()]
        removed = [parse_repository(r) for r in payload.get("repositories_removed") or ()]
    elif action in ("created", "new_permissions_accepted", "unsuspend"):
        added, removed = [parse_repository(r) for r in payload.get("repositories") or ()], []
    elif action == "deleted":
        added, removed = [], [parse_repository(r) for r in payload.get("repositories") or ()]
    else:
        return
    changes.repositories += added + removed
    if added:
        changes.installations.append((installation_id, [r.id for r in added], True))
    if removed:
        changes.installations.append((installation_id, [r.id for r in removed], False))


def _repository_delivery(payload: JSON, changes: Changes) -> None:
    repository_id = _repository(payload, changes)
    if payload.get("action") == "deleted":
        changes.deleted_repository_ids.append(repository_id)


_PARSERS: dict[str, Callable[[JSON, Changes], None]] = {
    "issues": _issue_delivery,
    "pull_request": _issue_delivery,
    "pull_request_review": _review_delivery,
    "issue_comment": _comment_delivery,
    "pull_request_review_comment": _comment_delivery,
    "label": _label_delivery,
    "member": _member_delivery,
    "membership": _membership_delivery,
    "installation": _installation_delivery,
    "installation_repositories": _installation_delivery,
    "repository": _repository_delivery,
}
NORMALISED_EVENTS = frozenset(_PARSERS)


# --- writing: idempotent upserts ----------------------------------------------------------

# Any constant works; it only has to be the same in every process of a deployment.
_HISTORY_LOCK_ID = 0x48454C494F5348


# The hottest upserts are built once per dialect (and shape) and run with their values as
# parameters, on the tables rather than the mapped classes: building the statement for every
# delivery, with its ``excluded`` alias (a proxy per column), and the ORM's bulk-insert path
# cost more CPU on the event loop than everything else in normalising a delivery.
_INSERT: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_USERS = GitHubUser.__table__
_REPOSITORIES = GitHubRepository.__table__
_ISSUES = GitHubIssue.__table__
_EVENTS = GitHubIssueEvent.__table__


def _dialect(session: AsyncSession) -> str:
    assert session.bind is not None
    return session.bind.dialect.name


async def lock_history(session: AsyncSession) -> None:
    """Make this transaction the only writer of the history until it ends.

    Deliveries and backfill pages touch shared rows (a repository, a busy contributor) in no
    order anyone controls, so two concurrent writers on PostgreSQL would deadlock; they would
    queue on the repository's row anyway. SQLite has a single writer already.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _HISTORY_LOCK_ID})


async def apply(session: AsyncSession, changes: Changes) -> None:
    """Write ``changes`` inside the caller's transaction (which called :func:`lock_history`)."""
    await upsert_users(session, _all_users(changes))
    for repository in changes.repositories:
        await upsert_repository(session, repository)
    for installation_id, repository_ids, installed in changes.installations:
        await set_installation(session, installation_id, repository_ids, installed=installed)
    for repository_id in changes.deleted_repository_ids:
        await session.execute(
            update(GitHubRepository)
            .where(GitHubRepository.id == repository_id)
            .values(deleted=True)
        )
    for label in changes.labels:
        await upsert_label(session, label)
    for repository_id, user_id, permission, present in changes.collaborators:
        await set_collaborator(session, repository_id, user_id, permission, present=present)
    for issue in changes.issues:
        await upsert_issue(session, issue)
    for repository_id, number, how in changes.removed_issues:
        await mark_issue_removed(session, repository_id, number, how)
    for review in changes.reviews:
        await upsert_review(session, review)
    for comment in changes.comments:
        await upsert_comment(session, comment)
    await record_events(session, changes.events)


def _all_users(changes: Changes) -> list[UserRecord]:
    found = list(changes.users)
    for issue in changes.issues:
        found += [u for u in (issue.author, issue.merged_by) if u is not None]
        found += issue.assignees
        found += issue.requested_reviewers or ()
    found += [r.reviewer for r in changes.reviews if r.reviewer is not None]
    found += [c.author for c in changes.comments if c.author is not None]
    found += [e.actor for e in changes.events if e.actor is not None]
    return found


async def upsert_users(session: AsyncSession, users: Iterable[UserRecord]) -> None:
    """Insert or update users; a login read at an older payload time never wins."""
    newest: dict[int, UserRecord] = {}
    for user in users:
        if user.id not in newest or newest[user.id].seen_at < user.seen_at:
            newest[user.id] = user
    if not newest:
        return
    rows = [
        {"id": u.id, "login": u.login, "type": u.type, "is_bot": u.is_bot, "seen_at": u.seen_at}
        for u in newest.values()
    ]
    await session.execute(_users_upsert(_dialect(session)), rows)


@functools.cache
def _users_upsert(dialect: str) -> Any:
    statement = _INSERT[dialect](_USERS)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={"login": new.login, "type": new.type, "is_bot": new.is_bot, "seen_at": new.seen_at},
        where=_USERS.c.seen_at <= new.seen_at,
    )


async def upsert_repository(session: AsyncSession, repository: RepositoryRecord) -> None:
    """Follow renames and transfers: the repository object with the newest updated_at wins."""
    row = {
        "id": repository.id,
        "full_name": repository.full_name,
        "archived": repository.archived,
        "updated_at": repository.updated_at,
        "deleted": False,
    }
    # Without updated_at, the short form only says the repository exists.
    dated = repository.updated_at is not None
    await session.execute(_repository_upsert(_dialect(session), dated), row)


@functools.cache
def _repository_upsert(dialect: str, dated: bool) -> Any:
    statement = _INSERT[dialect](_REPOSITORIES)
    if not dated:
        return statement.on_conflict_do_nothing(index_elements=["id"])
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={"full_name": new.full_name, "archived": new.archived, "updated_at": new.updated_at},
        where=or_(
            _REPOSITORIES.c.updated_at.is_(None), _REPOSITORIES.c.updated_at <= new.updated_at
        ),
    )


async def set_installation(
    session: AsyncSession, installation_id: int, repository_ids: Sequence[int], *, installed: bool
) -> None:
    """Record that the GitHub App was installed on (or removed from) these repositories."""
    statement = update(GitHubRepository).where(GitHubRepository.id.in_(repository_ids))
    if installed:
        await session.execute(statement.values(installation_id=installation_id))
    else:
        await session.execute(
            statement.where(GitHubRepository.installation_id == installation_id).values(
                installation_id=None
            )
        )


async def upsert_label(session: AsyncSession, label: LabelRecord) -> None:
    statement = insert_for(session)(GitHubLabel).values(
        id=label.id, repository_id=label.repository_id, name=label.name, deleted=label.deleted
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            # A deleted label stays deleted, whatever order created/edited/deleted arrive in.
            set_={
                "name": case(
                    (GitHubLabel.deleted, GitHubLabel.name), else_=statement.excluded.name
                ),
                "deleted": or_(GitHubLabel.deleted, statement.excluded.deleted),
            },
        )
    )


async def set_collaborator(
    session: AsyncSession,
    repository_id: int,
    user_id: int,
    permission: str | None,
    *,
    present: bool,
) -> None:
    if not present:
        await session.execute(
            delete(GitHubCollaborator).where(
                GitHubCollaborator.repository_id == repository_id,
                GitHubCollaborator.user_id == user_id,
            )
        )
        return
    statement = insert_for(session)(GitHubCollaborator).values(
        repository_id=repository_id, user_id=user_id, permission=permission
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["repository_id", "user_id"],
            set_={"permission": statement.excluded.permission},
        )
    )


async def upsert_issue(session: AsyncSession, issue: IssueRecord) -> None:
    """Store the snapshot unless a newer one (by ``updated_at``) is already stored.

    Fields the payload's shape does not carry (draft and requested reviewers in issue shape,
    merged_by in a review's pull request) keep their stored values.
    """
    merged_by_id = issue.merged_by.id if issue.merged_by else None
    values: dict[str, Any] = {
        "is_pull_request": issue.is_pull_request,
        "title": issue.title,
        "state": issue.state,
        "state_reason": issue.state_reason,
        "merged": issue.merged_at is not None,
        "merged_at": issue.merged_at,
        "labels": list(issue.labels),
        "assignee_ids": sorted(u.id for u in issue.assignees),
        "author_id": issue.author.id if issue.author else None,
        "author_association": issue.author_association,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "html_url": issue.html_url,
    }
    if issue.draft is not None:
        values["draft"] = issue.draft
    if issue.requested_reviewers is not None:
        values["requested_reviewer_ids"] = sorted(u.id for u in issue.requested_reviewers)
    if issue.closes is not None:
        values["closes"] = list(issue.closes)
    if merged_by_id is not None or issue.merged_at is None:
        values["merged_by_id"] = merged_by_id
    row = {
        "repository_id": issue.repository_id,
        "number": issue.number,
        **{"draft": False, "requested_reviewer_ids": [], "merged_by_id": None, "closes": []}
        | values,
    }
    await session.execute(_issue_upsert(_dialect(session), frozenset(values)), row)


@functools.cache
def _issue_upsert(dialect: str, updated: frozenset[str]) -> Any:
    statement = _INSERT[dialect](_ISSUES)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["repository_id", "number"],
        set_={key: new[key] for key in sorted(updated)},
        where=_ISSUES.c.updated_at <= new.updated_at,
    )


async def mark_issue_removed(
    session: AsyncSession, repository_id: int, number: int, how: str
) -> None:
    """Deleted or transferred away; sticky, so later snapshots of it cannot revive it."""
    await session.execute(
        update(GitHubIssue)
        .where(
            GitHubIssue.repository_id == repository_id,
            GitHubIssue.number == number,
            GitHubIssue.removed.is_(None),
        )
        .values(removed=how)
    )


async def upsert_review(session: AsyncSession, review: ReviewRecord) -> None:
    statement = insert_for(session)(GitHubReview).values(
        id=review.id,
        repository_id=review.repository_id,
        number=review.number,
        reviewer_id=review.reviewer.id if review.reviewer else None,
        state=review.state,
        submitted_at=review.submitted_at,
        author_association=review.author_association,
    )
    new = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            # Dismissal is final: a late "submitted" must not undo it.
            set_={
                "state": case((GitHubReview.state == "DISMISSED", "DISMISSED"), else_=new.state),
                "author_association": new.author_association,
            },
        )
    )


async def upsert_comment(session: AsyncSession, comment: CommentRecord) -> None:
    statement = insert_for(session)(GitHubComment).values(
        id=comment.id,
        repository_id=comment.repository_id,
        number=comment.number,
        kind=comment.kind,
        author_id=comment.author.id if comment.author else None,
        author_association=comment.author_association,
        created_at=comment.created_at,
        deleted=comment.deleted,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"deleted": or_(GitHubComment.deleted, statement.excluded.deleted)},
        )
    )


async def record_events(session: AsyncSession, events: Sequence[EventRecord]) -> None:
    """Store transitions once each, however often (and from wherever) they are reported."""
    if not events:
        return
    rows = [
        {
            "repository_id": e.repository_id,
            "number": e.number,
            "kind": e.kind,
            "subject": e.subject,
            "occurred_at": e.occurred_at,
            "actor_id": e.actor.id if e.actor else None,
        }
        for e in events
    ]
    await session.execute(_events_insert(_dialect(session)), rows)


@functools.cache
def _events_insert(dialect: str) -> Any:
    return _INSERT[dialect](_EVENTS).on_conflict_do_nothing(
        index_elements=["repository_id", "number", "kind", "subject", "occurred_at"]
    )
