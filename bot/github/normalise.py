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

from sqlalchemy import bindparam, case, delete, or_, select, text, update
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

# GitHub's closing keywords, then "#12", "owner/repo#12" or an issue's address. Owner and
# repository names are ASCII (matched case-sensitively, as IGNORECASE lets [a-z] match four
# non-ASCII letters too), numbers ASCII digits.
_NAME = r"(?-i:[A-Za-z0-9_.-]+)"
_CLOSING_REFERENCE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+"
    rf"(?:https://[^/\s]+/(?P<url_repo>{_NAME}/{_NAME})/issues/(?P<url_number>[0-9]+)"
    rf"|(?P<repo>{_NAME}/{_NAME})?#(?P<number>[0-9]+))",
    re.IGNORECASE,
)

# Issue-event names as the REST API spells them -> our kinds (webhook actions use the same
# words except "converted_to_draft"). New commits on a pull request are "pushed": the webhook
# action "synchronize" says so for every push, while the REST issue events name only force
# pushes ("head_ref_force_pushed"); plain pushes are timeline events, which the backfill does
# not read.
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
    "synchronize": "pushed",
    "head_ref_force_pushed": "pushed",
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
    private: bool = False


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


@dataclass(frozen=True)
class HookDeliveryRecord:
    """One attempt GitHub made at delivering an event to the app's webhook."""

    id: int  # the attempt's, which a redelivery request names
    guid: str  # the event's: X-GitHub-Delivery, the same in every attempt
    delivered_at: datetime
    status_code: int  # what the receiver answered


@dataclass
class Changes:
    """Everything one delivery (or one page of backfill) says, ready for :func:`apply`."""

    # The full name of a delivery's own repository (its payload's ``repository``), and its
    # former one when the delivery renames or transfers it; empty for installation and
    # membership deliveries and for backfill pages. Ingestion acts only on followed ones.
    repository_names: tuple[str, ...] = ()
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


class MalformedPayload(ValueError):
    """A GitHub object lacks a field the parsers need, or has it with the wrong type.

    Signed deliveries and REST answers can still have an unexpected shape (GitHub changes a
    shape, a proxy mangles one). Every parser of GitHub JSON raises this, and only this, for
    them; the message names where and which field: ``issues.opened delivery: issue.user.id is
    missing``. Retrying cannot fix the payload, so the ingest worker fails such a delivery at
    once, keeping its body for a replay once the parser is fixed.
    """

    def __init__(self, where: str, path: str, problem: str) -> None:
        super().__init__(f"{where}: {path} {problem}" if path else f"{where} {problem}")
        self.where = where
        self.path = path
        self.problem = problem


_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}
# Every integer we store goes into a BIGINT column.
_INT_RANGE = range(-(2**63), 2**63)


def _kind(value: object) -> str:
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _timestamp(text: str) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC (as the database stores it); None if it is not."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or out of range once in UTC
        return None


class _Object:
    """A JSON object that knows where it sits, so that a bad field is reported by its path.

    The parsers read GitHub JSON only through these typed accessors: a missing, null or
    mistyped field raises :class:`MalformedPayload` naming it, never a KeyError or TypeError.
    ``*_or_none`` accessors accept a missing or null field.
    """

    __slots__ = ("_fields", "_path", "_where")

    def __init__(self, value: object, where: str, path: str = "") -> None:
        if type(value) is not dict:
            raise MalformedPayload(where, path, f"should be an object, not {_kind(value)}")
        self._fields: JSON = value
        self._where = where
        self._path = path

    def _at(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def error(self, key: str, problem: str) -> MalformedPayload:
        return MalformedPayload(self._where, self._at(key), problem)

    def has(self, key: str) -> bool:
        return key in self._fields

    def empty(self) -> bool:
        return not self._fields

    def _get(self, key: str, expected: type, *, required: bool) -> Any:
        value = self._fields.get(key)
        if value is None:
            if required:
                raise self.error(key, "is null" if key in self._fields else "is missing")
            return None
        # Exact types: JSON true is no integer, and 1.0 no id.
        if type(value) is not expected:
            raise self.error(key, f"should be {_JSON_KINDS[expected]}, not {_kind(value)}")
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, int, required=True)
        if value not in _INT_RANGE:
            raise self.error(key, "is out of range")
        return value

    def string(self, key: str) -> str:
        value: str = self._get(key, str, required=True)
        return value

    def string_or_none(self, key: str) -> str | None:
        value: str | None = self._get(key, str, required=False)
        return value

    def boolean_or_none(self, key: str) -> bool | None:
        value: bool | None = self._get(key, bool, required=False)
        return value

    def time(self, key: str) -> datetime:
        return self._moment(key, self.string(key))

    def time_or_none(self, key: str) -> datetime | None:
        text = self.string_or_none(key)
        return None if text is None else self._moment(key, text)

    def _moment(self, key: str, text: str) -> datetime:
        moment = _timestamp(text)
        if moment is None:
            raise self.error(key, f"is not an ISO 8601 time with a time zone: {text!r:.40}")
        return moment

    def number_in_url(self, key: str) -> int:
        """The number an issue or pull request URL ends in (".../issues/7")."""
        url = self.string(key)
        tail = url.rstrip("/").rpartition("/")[2]
        if not (tail.isascii() and tail.isdigit() and len(tail) <= 18):
            raise self.error(key, f"does not end in an issue number: {url!r:.80}")
        return int(tail)

    def child(self, key: str) -> _Object:
        return _Object(self._get(key, dict, required=True), self._where, self._at(key))

    def child_or_none(self, *keys: str) -> _Object | None:
        """The object at ``keys`` (each nested in the one before); None if one is missing."""
        obj = self
        for key in keys:
            value = obj._get(key, dict, required=False)
            if value is None:
                return None
            obj = _Object(value, self._where, obj._at(key))
        return obj

    def children(self, key: str) -> list[_Object] | None:
        """A list of objects; None if the field is missing or null."""
        items: list[Any] | None = self._get(key, list, required=False)
        if items is None:
            return None
        at = self._at(key)
        return [_Object(item, self._where, f"{at}[{i}]") for i, item in enumerate(items)]


def parse_time(value: Any) -> datetime | None:
    """GitHub's ISO 8601 timestamps ("2026-01-05T09:00:00Z") in UTC; None stays None."""
    if value is None:
        return None
    moment = _timestamp(value) if type(value) is str else None
    if moment is None:
        raise MalformedPayload(
            "timestamp", "", f"is not an ISO 8601 time with a time zone: {value!r:.40}"
        )
    return moment


def parse_user(obj: JSON | None, seen_at: datetime) -> UserRecord | None:
    """A user object (None for deleted accounts in REST answers)."""
    return _user(None if obj is None else _Object(obj, "user"), seen_at)


def _user(obj: _Object | None, seen_at: datetime) -> UserRecord | None:
    if obj is None or obj.empty():
        return None
    login = obj.string("login")
    kind = obj.string_or_none("type") or "User"
    return UserRecord(
        id=obj.integer("id"),
        login=login,
        type=kind,
        is_bot=kind == "Bot" or login.endswith("[bot]"),
        seen_at=seen_at,
    )


def _users(objs: Iterable[_Object] | None, seen_at: datetime) -> tuple[UserRecord, ...]:
    parsed = (_user(obj, seen_at) for obj in objs or ())
    return tuple(user for user in parsed if user is not None)


def parse_repository(obj: JSON) -> RepositoryRecord:
    return _repository(_Object(obj, "repository"))


def _repository(obj: _Object) -> RepositoryRecord:
    return RepositoryRecord(
        id=obj.integer("id"),
        full_name=obj.string("full_name"),
        archived=bool(obj.boolean_or_none("archived")),
        updated_at=obj.time_or_none("updated_at"),
        private=bool(obj.boolean_or_none("private")),
    )


def parse_issue(obj: JSON, repository_id: int) -> IssueRecord:
    """An issue or pull request object, in issue shape or pull request shape."""
    return _issue(_Object(obj, "issue"), repository_id)


def _issue(obj: _Object, repository_id: int) -> IssueRecord:
    updated_at = obj.time("updated_at")
    # Issue shape: a pull request carries a "pull_request" link object; pull shape: "head".
    link = obj.child_or_none("pull_request")
    is_pull = obj.has("head") or link is not None
    merged_at = obj.time_or_none("merged_at") or (link.time_or_none("merged_at") if link else None)
    requested = obj.children("requested_reviewers")
    return IssueRecord(
        repository_id=repository_id,
        number=obj.integer("number"),
        is_pull_request=is_pull,
        title=obj.string_or_none("title") or "",
        state=obj.string("state"),
        state_reason=obj.string_or_none("state_reason"),
        draft=obj.boolean_or_none("draft") if is_pull else False,
        merged_at=merged_at,
        merged_by=_user(obj.child_or_none("merged_by"), updated_at),
        labels=tuple(sorted(label.string("name") for label in obj.children("labels") or ())),
        assignees=_users(obj.children("assignees"), updated_at),
        requested_reviewers=None if requested is None else _users(requested, updated_at),
        author=_user(obj.child_or_none("user"), updated_at),
        author_association=obj.string_or_none("author_association") or "NONE",
        created_at=obj.time("created_at"),
        updated_at=updated_at,
        closed_at=obj.time_or_none("closed_at"),
        html_url=obj.string_or_none("html_url") or "",
        closes=closing_references(obj.string_or_none("body"))
        if is_pull and obj.has("body")
        else None,
    )


def closing_references(body: str | None) -> tuple[str, ...]:
    """The issues a pull request's description says it closes, in GitHub's keyword syntax.

    "#12" for an issue in the pull request's own repository, "owner/repo#12" (lower case)
    for one elsewhere; each once, in order of mention.
    """
    found: dict[str, None] = {}
    for match in _CLOSING_REFERENCE.finditer(body or ""):
        repository = match["url_repo"] or match["repo"]
        number = (match["url_number"] or match["number"]).lstrip("0") or "0"
        if len(number) > 18:  # no issue number; readers turn references back into integers
            continue
        found[f"{repository.lower()}#{number}" if repository else f"#{number}"] = None
    return tuple(found)


def parse_review(obj: JSON, repository_id: int) -> ReviewRecord | None:
    """A submitted review; None for a pending one (not yet visible to anyone else)."""
    return _review(_Object(obj, "review"), repository_id)


def _review(obj: _Object, repository_id: int) -> ReviewRecord | None:
    submitted_at = obj.time_or_none("submitted_at")
    if submitted_at is None:
        return None
    return ReviewRecord(
        id=obj.integer("id"),
        repository_id=repository_id,
        # REST reviews and comments name their pull request or issue by its URL only.
        number=obj.number_in_url("pull_request_url"),
        reviewer=_user(obj.child_or_none("user"), submitted_at),
        state=obj.string("state").upper(),
        submitted_at=submitted_at,
        author_association=obj.string_or_none("author_association") or "NONE",
    )


def parse_comment(obj: JSON, repository_id: int) -> CommentRecord:
    """An issue comment (it has ``issue_url``) or a review comment (``pull_request_url``)."""
    return _comment(_Object(obj, "comment"), repository_id)


def _comment(obj: _Object, repository_id: int) -> CommentRecord:
    created_at = obj.time("created_at")
    seen_at = obj.time_or_none("updated_at") or created_at
    is_review = obj.has("pull_request_url")
    return CommentRecord(
        id=obj.integer("id"),
        repository_id=repository_id,
        number=obj.number_in_url("pull_request_url" if is_review else "issue_url"),
        kind="review" if is_review else "issue",
        author=_user(obj.child_or_none("user"), seen_at),
        author_association=obj.string_or_none("author_association") or "NONE",
        created_at=created_at,
    )


def parse_issue_event(
    obj: JSON, repository_id: int, number: int | None = None
) -> EventRecord | None:
    """A REST issue event (the repository-wide list embeds its issue); None if not tracked
    or if GitHub no longer says what it was about: the issue, the label's name or the assignee
    can be null (deleted since), which GitHub's API description allows."""
    event = _Object(obj, "issue event")
    kind = EVENT_KINDS.get(event.string_or_none("event") or "")
    if kind is None:
        return None
    if number is None:
        issue = event.child_or_none("issue")
        if issue is None:
            return None
        number = issue.integer("number")
    if _forgotten(kind, event):
        return None
    occurred_at = event.time("created_at")
    return EventRecord(
        repository_id=repository_id,
        number=number,
        kind=kind,
        subject=_subject(kind, event),
        occurred_at=occurred_at,
        actor=_user(event.child_or_none("actor"), occurred_at),
    )


def parse_hook_delivery(obj: JSON) -> HookDeliveryRecord:
    """An item of ``GET /app/hook/deliveries`` (the redelivery job reads no other field)."""
    item = _Object(obj, "hook delivery")
    return HookDeliveryRecord(
        id=item.integer("id"),
        guid=item.string("guid"),
        delivered_at=item.time("delivered_at"),
        status_code=item.integer("status_code"),
    )


def _forgotten(kind: str, event: _Object) -> bool:
    """A REST event whose label name or assignee is null: deleted since, so its subject is
    gone (a webhook, sent at the time, always names it)."""
    if kind in ("labeled", "unlabeled"):
        return event.child("label").string_or_none("name") is None
    if kind in ("assigned", "unassigned"):
        return event.child_or_none("assignee") is None
    return False


def _subject(kind: str, obj: _Object) -> str:
    """What a transition is about, spelled the same by webhooks and REST issue events."""
    if kind in ("labeled", "unlabeled"):
        return obj.child("label").string("name")
    if kind in ("assigned", "unassigned"):
        return str(obj.child("assignee").integer("id"))
    if kind in ("review_requested", "review_request_removed"):
        reviewer = obj.child_or_none("requested_reviewer")
        if reviewer is not None and not reviewer.empty():
            return str(reviewer.integer("id"))
        return "team:" + obj.child("requested_team").string("slug")
    return ""


def parse_delivery(event: str, payload: JSON) -> Changes:
    """What a webhook delivery says, as records; an event or action we do not use says nothing.

    Raises :class:`MalformedPayload` if the payload lacks a field we need or mistypes one.
    """
    changes = Changes()
    parse = _PARSERS.get(event)
    if parse is None:
        return changes
    action = payload.get("action") if type(payload) is dict else None
    where = f"{event}.{action[:40]} delivery" if type(action) is str else f"{event} delivery"
    parse(_Object(payload, where), changes)
    return changes


def _delivery_repository(payload: _Object, changes: Changes) -> int:
    repository = _repository(payload.child("repository"))
    changes.repositories.append(repository)
    changes.repository_names = (repository.full_name,)
    return repository.id


def _sender(payload: _Object, seen_at: datetime, changes: Changes) -> UserRecord | None:
    sender = _user(payload.child_or_none("sender"), seen_at)
    if sender is not None:
        changes.users.append(sender)
    return sender


def _issue_delivery(payload: _Object, changes: Changes) -> None:
    """``issues`` and ``pull_request``: a snapshot plus, for transitions, an event row."""
    action = payload.string_or_none("action")
    repository_id = _delivery_repository(payload, changes)
    obj = payload.child_or_none("pull_request") or payload.child("issue")
    issue = _issue(obj, repository_id)
    changes.issues.append(issue)
    sender = _sender(payload, issue.updated_at, changes)

    if action in ("deleted", "transferred"):
        changes.removed_issues.append((repository_id, issue.number, action))
        if action == "transferred":
            new_issue = payload.child_or_none("changes", "new_issue")
            new_repository = payload.child_or_none("changes", "new_repository")
            if new_issue is not None and new_repository is not None:
                repository = _repository(new_repository)
                changes.repositories.append(repository)
                moved = _issue(new_issue, repository.id)
                changes.issues.append(moved)
                # The new issue remembers where it came from ("<repository id>#<number>"),
                # so that it keeps its history and its original opening time.
                changes.events.append(
                    EventRecord(
                        repository.id,
                        moved.number,
                        "transferred",
                        f"{repository_id}#{issue.number}",
                        moved.updated_at,
                        sender,
                    )
                )
        return

    kind = EVENT_KINDS.get(action or "")
    if kind is None:  # opened, edited: the snapshot is all there is
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
        user = _user(payload.child_or_none(key), occurred_at)
        if user is not None:
            changes.users.append(user)


def _review_delivery(payload: _Object, changes: Changes) -> None:
    repository_id = _delivery_repository(payload, changes)
    pull = _issue(payload.child("pull_request"), repository_id)
    changes.issues.append(pull)
    review = _review(payload.child("review"), repository_id)
    if review is not None:
        changes.reviews.append(review)
    _sender(payload, pull.updated_at, changes)


def _comment_delivery(payload: _Object, changes: Changes) -> None:
    repository_id = _delivery_repository(payload, changes)
    issue = _issue(payload.child_or_none("pull_request") or payload.child("issue"), repository_id)
    changes.issues.append(issue)
    comment = _comment(payload.child("comment"), repository_id)
    if payload.string_or_none("action") == "deleted":
        comment = replace(comment, deleted=True)
    changes.comments.append(comment)
    _sender(payload, issue.updated_at, changes)


def _label_delivery(payload: _Object, changes: Changes) -> None:
    repository_id = _delivery_repository(payload, changes)
    label = payload.child("label")
    changes.labels.append(
        LabelRecord(
            id=label.integer("id"),
            repository_id=repository_id,
            name=label.string("name"),
            deleted=payload.string_or_none("action") == "deleted",
        )
    )


def _member_delivery(payload: _Object, changes: Changes) -> None:
    repository_id = _delivery_repository(payload, changes)
    member = _user(payload.child("member"), UNDATED)
    if member is None:
        return
    changes.users.append(member)
    if payload.string_or_none("action") == "removed":
        changes.collaborators.append((repository_id, member.id, None, False))
        return
    permission = payload.child_or_none("changes", "permission")
    granted = permission.string_or_none("to") if permission is not None else None
    changes.collaborators.append((repository_id, member.id, granted, True))


def _membership_delivery(payload: _Object, changes: Changes) -> None:
    # Team membership is an organisation matter: only the member's identity is recorded.
    member = _user(payload.child_or_none("member"), UNDATED)
    if member is not None:
        changes.users.append(member)


def _installation_delivery(payload: _Object, changes: Changes) -> None:
    action = payload.string_or_none("action")
    installation_id = payload.child("installation").integer("id")

    def repositories(key: str) -> list[RepositoryRecord]:
        return [_repository(r) for r in payload.children(key) or ()]

    if payload.has("repositories_added") or payload.has("repositories_removed"):  # *_repositories
        added, removed = repositories("repositories_added"), repositories("repositories_removed")
    elif action in ("created", "new_permissions_accepted", "unsuspend"):
        added, removed = repositories("repositories"), []
    elif action == "deleted":
        added, removed = [], repositories("repositories")
    else:
        return
    changes.repositories += added + removed
    if added:
        changes.installations.append((installation_id, [r.id for r in added], True))
    if removed:
        changes.installations.append((installation_id, [r.id for r in removed], False))


def _repository_delivery(payload: _Object, changes: Changes) -> None:
    repository_id = _delivery_repository(payload, changes)
    if payload.string_or_none("action") == "deleted":
        changes.deleted_repository_ids.append(repository_id)
    former = _former_name(payload, changes.repository_names[0])
    if former is not None:
        changes.repository_names += (former,)


def _former_name(payload: _Object, full_name: str) -> str | None:
    """The name a renamed or transferred repository had before (``changes`` says it)."""
    owner, _, name = full_name.partition("/")
    renamed = payload.child_or_none("changes", "repository", "name")
    if renamed is not None and (old_name := renamed.string_or_none("from")):
        return f"{owner}/{old_name}"
    moved = payload.child_or_none("changes", "owner", "from")
    if moved is None:
        return None
    old_owner = moved.child_or_none("organization") or moved.child_or_none("user")
    return None if old_owner is None else f"{old_owner.string('login')}/{name}"


_PARSERS: dict[str, Callable[[_Object, Changes], None]] = {
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
    await fill_merged_by(session, changes)
    await bump_revisions(session, changes)


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
        "private": repository.private,
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
        set_={
            "full_name": new.full_name,
            "archived": new.archived,
            "private": new.private,
            "updated_at": new.updated_at,
        },
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


async def fill_merged_by(session: AsyncSession, changes: Changes) -> None:
    """Who merged a pull request, from its "merged" event, where its snapshot did not say.

    The REST pulls listing does not give ``merged_by`` (only a pull request fetched on its
    own does), but the events listing names the merger as the "merged" event's actor. Either
    may be stored first, so both a merged snapshot and a "merged" event look for the other.
    """
    wanted: dict[int, set[int]] = {}
    for issue in changes.issues:
        if issue.merged_at is not None and issue.merged_by is None:
            wanted.setdefault(issue.repository_id, set()).add(issue.number)
    for event in changes.events:
        if event.kind == "merged" and event.actor is not None:
            wanted.setdefault(event.repository_id, set()).add(event.number)
    merger = (
        select(GitHubIssueEvent.actor_id)
        .where(
            GitHubIssueEvent.repository_id == GitHubIssue.repository_id,
            GitHubIssueEvent.number == GitHubIssue.number,
            GitHubIssueEvent.kind == "merged",
            GitHubIssueEvent.actor_id.is_not(None),
        )
        .order_by(GitHubIssueEvent.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    for repository_id, numbers in wanted.items():
        await session.execute(
            update(GitHubIssue)
            .where(
                GitHubIssue.repository_id == repository_id,
                GitHubIssue.number.in_(sorted(numbers)),
                GitHubIssue.merged.is_(True),
                GitHubIssue.merged_by_id.is_(None),
            )
            .values(merged_by_id=merger)
        )


# Items per UPDATE of their revisions: a few hundred numbers fit any parameter limit.
_REVISION_CHUNK = 500


async def bump_revisions(session: AsyncSession, changes: Changes) -> None:
    """Mark the history of every item these changes touch as changed (``revision``), so that
    what was computed from it (the service levels' sla_waits) is recomputed: one UPDATE per
    repository (and few hundred items) of the delivery or backfill page."""
    numbers: dict[int, set[int]] = {}
    touched: Iterable[tuple[int, int]] = (
        *((issue.repository_id, issue.number) for issue in changes.issues),
        *((review.repository_id, review.number) for review in changes.reviews),
        *((comment.repository_id, comment.number) for comment in changes.comments),
        *((event.repository_id, event.number) for event in changes.events),
        *((repository_id, number) for repository_id, number, _ in changes.removed_issues),
    )
    for repository_id, number in touched:
        numbers.setdefault(repository_id, set()).add(number)
    for repository_id, its in sorted(numbers.items()):
        ordered = sorted(its)
        for start in range(0, len(ordered), _REVISION_CHUNK):
            chunk = ordered[start : start + _REVISION_CHUNK]
            await session.execute(_REVISION_BUMP, {"repository": repository_id, "numbers": chunk})


_REVISION_BUMP = (
    update(GitHubIssue)
    .where(
        GitHubIssue.repository_id == bindparam("repository"),
        GitHubIssue.number.in_(bindparam("numbers", expanding=True)),
    )
    .values(revision=GitHubIssue.revision + 1)
    # A plain UPDATE: the ORM's bulk path would look for the rows in the session.
    .execution_options(synchronize_session=False)
)


@functools.cache
def _events_insert(dialect: str) -> Any:
    return _INSERT[dialect](_EVENTS).on_conflict_do_nothing(
        index_elements=["repository_id", "number", "kind", "subject", "occurred_at"]
    )
