# SPDX-License-Identifier: Apache-2.0
"""The simulated world of GitHub: users, repositories, issues, pull requests and their history.

Tests and the sandbox change it only through the mutation methods below. Each of them records
what GitHub would record (issue events, timestamps from the :class:`~bot.clock.Clock`) and
announces the matching webhook to every subscriber, exactly once, in the order GitHub would.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import Clock, SystemClock
from bot.log import get_logger
from bot.sandbox.github.render import Renderer

log = get_logger(__name__)

# (event name, payload) -> None; the webhook emitter is the usual subscriber.
Subscriber = Callable[[str, dict[str, Any]], object]

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED")


class NotFoundError(LookupError):
    """The repository, issue, user or label does not exist (REST answers 404)."""


class ValidationError(ValueError):
    """The change is not allowed (REST answers 422 Validation Failed)."""

    def __init__(self, resource: str, field_name: str, code: str, message: str = "") -> None:
        super().__init__(message or f"{resource}.{field_name}: {code}")
        self.resource = resource
        self.field_name = field_name
        self.code = code


@dataclass
class User:
    id: int
    login: str
    type: str = "User"  # "User", "Bot" or "Organization"
    name: str | None = None
    email: str | None = None
    site_admin: bool = False
    created_at: datetime | None = None
    members: set[str] = field(default_factory=set)  # only for organizations


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Review:
    id: int
    user: User
    state: str  # one of REVIEW_STATES
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class ReviewComment:
    id: int
    review_id: int
    user: User
    body: str
    path: str
    line: int
    commit_id: str
    created_at: datetime
    updated_at: datetime


@dataclass
class PullInfo:
    """What a pull request has on top of an issue."""

    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    requested_reviewers: list[User] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)
    commits: int = 1


@dataclass
class Issue:
    """An issue, or a pull request when ``pull`` is set (GitHub numbers both in one sequence)."""

    id: int
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    locked: bool = False
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    pull: PullInfo | None = None


@dataclass
class IssueEvent:
    id: int
    issue_number: int
    actor: User
    event: str  # labeled, unlabeled, assigned, unassigned, closed, reopened, merged, ...
    created_at: datetime
    label: Label | None = None
    assignee: User | None = None
    requested_reviewer: User | None = None
    commit_id: str | None = None


@dataclass
class Repository:
    id: int
    owner: User
    name: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    private: bool = False
    default_branch: str = "main"
    labels: dict[str, Label] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> permission
    issues: dict[int, Issue] = field(default_factory=dict)
    events: list[IssueEvent] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Installation:
    id: int
    account: User
    app_id: int
    created_at: datetime
    repository_ids: list[int] = field(default_factory=list)
    repository_selection: str = "selected"


def _sha(*parts: object) -> str:
    """A stable fake commit id, so repeated runs produce the same payloads."""
    return hashlib.sha1("/".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


class GitHubState:
    """All simulated GitHub data plus the mutation methods that emit webhooks."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        api_url: str = "https://api.github.com",
        web_url: str = "https://github.com",
        app_id: int = 1,
        app_slug: str = "helios-bot",
    ) -> None:
        self.clock = clock or SystemClock()
        # The server overwrites both once it knows its port.
        self.api_url = api_url
        self.web_url = web_url
        self.app_id = app_id
        self.app_slug = app_slug
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repository] = {}  # by lower-case full name
        self.renamed: dict[str, str] = {}  # old lower-case full name -> current full name
        self.installations: dict[int, Installation] = {}
        self.render = Renderer(self)
        self._ids = itertools.count(1001)
        self._subscribers: list[Subscriber] = []

    # --- plumbing -------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> datetime:
        return self.clock.now()

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        log.debug("github sim event %s.%s", event, payload.get("action"))
        for subscriber in self._subscribers:
            subscriber(event, payload)

    def _repo_event(
        self, event: str, action: str, repo: Repository, sender: User, **objects: Any
    ) -> None:
        payload: dict[str, Any] = {"action": action, **objects}
        payload.update(self.render.envelope(repo, sender))
        self._emit(event, payload)

    # --- look-ups -------------------------------------------------------------------------

    def user(self, login: str) -> User:
        """The user called ``login``, created on first mention (``…[bot]`` logins are bots)."""
        found = self.users.get(login.lower())
        if found is None:
            kind = "Bot" if login.endswith("[bot]") else "User"
            found = User(self.next_id(), login, kind, created_at=self.now())
            self.users[login.lower()] = found
        return found

    def find_user(self, login: str) -> User:
        found = self.users.get(login.lower())
        if found is None:
            raise NotFoundError(login)
        return found

    def repo(self, full_name: str) -> Repository:
        found = self.repos.get(full_name.lower())
        if found is None:
            raise NotFoundError(full_name)
        return found

    def user_by_id(self, user_id: int) -> User:
        found = next((u for u in self.users.values() if u.id == user_id), None)
        if found is None:
            raise NotFoundError(str(user_id))
        return found

    def repo_by_id(self, repo_id: int) -> Repository:
        found = next((r for r in self.repos.values() if r.id == repo_id), None)
        if found is None:
            raise NotFoundError(str(repo_id))
        return found

    def issue(self, full_name: str, number: int) -> Issue:
        found = self.repo(full_name).issues.get(number)
        if found is None:
            raise NotFoundError(f"{full_name}#{number}")
        return found

    def pull(self, full_name: str, number: int) -> tuple[Issue, PullInfo]:
        issue = self.issue(full_name, number)
        if issue.pull is None:
            raise NotFoundError(f"{full_name}#{number} is not a pull request")
        return issue, issue.pull

    def installation_for(self, repo: Repository) -> Installation | None:
        for installation in self.installations.values():
            if repo.id in installation.repository_ids:
                return installation
        return None

    def author_association(self, repo: Repository, user: User) -> str:
        """GitHub's relation of ``user`` to ``repo``, from strongest to weakest."""
        if user.id == repo.owner.id:
            return "OWNER"
        if user.login.lower() in repo.owner.members:
            return "MEMBER"
        if user.login.lower() in repo.collaborators:
            return "COLLABORATOR"
        pulls = [i.pull for i in repo.issues.values() if i.pull and i.user.id == user.id]
        if any(p.merged_at for p in pulls):
            return "CONTRIBUTOR"
        if pulls:
            return "FIRST_TIME_CONTRIBUTOR"
        return "NONE"

    # --- users, organisations, repositories -----------------------------------------------

    def add_user(
        self, login: str, *, type: str = "User", name: str | None = None, email: str | None = None
    ) -> User:
        user = self.user(login)
        user.type, user.name, user.email = type, name, email
        return user

    def add_org(self, login: str, *, members: Iterable[str] = ()) -> User:
        org = self.add_user(login, type="Organization")
        org.members.update(m.lower() for m in members)
        for member in members:
            self.user(member)
        return org

    def create_repo(
        self,
        full_name: str,
        *,
        description: str | None = None,
        private: bool = False,
        labels: Iterable[str] = ("bug", "good first issue", "help wanted"),
    ) -> Repository:
        owner_login, name = full_name.split("/")
        if full_name.lower() in self.repos:
            raise ValidationError("Repository", "name", "already_exists")
        now = self.now()
        repo = Repository(self.next_id(), self.user(owner_login), name, now, now, description)
        repo.private = private
        for label in labels:
            repo.labels[label.lower()] = Label(self.next_id(), label, default=True)
        self.repos[full_name.lower()] = repo
        return repo

    def create_label(
        self,
        full_name: str,
        name: str,
        *,
        color: str = "ededed",
        description: str | None = None,
        actor: str | None = None,
    ) -> Label:
        repo = self.repo(full_name)
        if name.lower() in repo.labels:
            raise ValidationError("Label", "name", "already_exists")
        label = Label(self.next_id(), name, color, description)
        repo.labels[name.lower()] = label
        sender = self.user(actor or repo.owner.login)
        self._repo_event("label", "created", repo, sender, label=self.render.label(repo, label))
        return label

    def add_collaborator(
        self, full_name: str, login: str, *, permission: str = "write", actor: str | None = None
    ) -> None:
        repo = self.repo(full_name)
        member = self.user(login)
        repo.collaborators[member.login.lower()] = permission
        sender = self.user(actor or repo.owner.login)
        self._repo_event(
            "member",
            "added",
            repo,
            sender,
            member=self.render.user(member),
            changes={"permission": {"to": permission}},
        )

    def rename_repo(self, full_name: str, new_name: str, *, actor: str | None = None) -> Repository:
        repo = self.repo(full_name)
        old_name = repo.name
        self._move_repo(repo, repo.owner, new_name)
        changes = {"repository": {"name": {"from": old_name}}}
        sender = self.user(actor or repo.owner.login)
        self._repo_event("repository", "renamed", repo, sender, changes=changes)
        return repo

    def transfer_repo(
        self, full_name: str, new_owner: str, *, actor: str | None = None
    ) -> Repository:
        repo = self.repo(full_name)
        old_owner = repo.owner
        self._move_repo(repo, self.user(new_owner), repo.name)
        key = "organization" if old_owner.type == "Organization" else "user"
        changes = {"owner": {"from": {key: self.render.user(old_owner)}}}
        sender = self.user(actor or old_owner.login)
        self._repo_event("repository", "transferred", repo, sender, changes=changes)
        return repo

    def set_private(self, full_name: str, private: bool, *, actor: str | None = None) -> None:
        """Change a repository's visibility; GitHub says so with "privatized" or "publicized"."""
        repo = self.repo(full_name)
        if repo.private == private:
            return
        repo.private, repo.updated_at = private, self.now()
        sender = self.user(actor or repo.owner.login)
        self._repo_event("repository", "privatized" if private else "publicized", repo, sender)

    def _move_repo(self, repo: Repository, owner: User, name: str) -> None:
        old_key = repo.full_name.lower()
        del self.repos[old_key]
        repo.owner, repo.name, repo.updated_at = owner, name, self.now()
        self.repos[repo.full_name.lower()] = repo
        self.renamed[old_key] = repo.full_name  # GitHub keeps redirecting the old name

    # --- GitHub App installations ---------------------------------------------------------

    def install_app(
        self, account: str, repos: Iterable[str] = (), *, actor: str | None = None
    ) -> Installation:
        owner = self.user(account)
        chosen = [self.repo(r) for r in repos]
        installation = Installation(self.next_id(), owner, self.app_id, self.now())
        installation.repository_ids = [r.id for r in chosen]
        self.installations[installation.id] = installation
        sender = self.user(actor or account)
        self._emit(
            "installation",
            {
                "action": "created",
                "installation": self.render.installation(installation),
                "repositories": [self.render.repo_lite(r) for r in chosen],
                "sender": self.render.user(sender),
            },
        )
        return installation

    def add_installation_repos(
        self, installation_id: int, repos: Iterable[str], *, actor: str | None = None
    ) -> None:
        installation = self.installations[installation_id]
        added = [self.repo(r) for r in repos]
        installation.repository_ids.extend(r.id for r in added)
        sender = self.user(actor or installation.account.login)
        self._emit(
            "installation_repositories",
            {
                "action": "added",
                "installation": self.render.installation(installation),
                "repository_selection": installation.repository_selection,
                "repositories_added": [self.render.repo_lite(r) for r in added],
                "repositories_removed": [],
                "requester": None,
                "sender": self.render.user(sender),
            },
        )

    # --- issues ---------------------------------------------------------------------------

    def _new_issue(self, repo: Repository, author: User, title: str, body: str | None) -> Issue:
        if not title:
            raise ValidationError("Issue", "title", "missing_field")
        now = self.now()
        issue = Issue(self.next_id(), repo.next_number, title, body, author, now, now)
        repo.issues[issue.number] = issue
        repo.next_number += 1
        return issue

    def _issue_kind(self, issue: Issue) -> str:
        return "pull_request" if issue.pull else "issues"

    def _issue_webhook(
        self, repo: Repository, issue: Issue, action: str, sender: User, **extra: Any
    ) -> None:
        """Announce an issue change; pull requests use the pull_request event instead."""
        if issue.pull:
            obj = {"number": issue.number, "pull_request": self.render.pull(repo, issue)}
        else:
            obj = {"issue": self.render.issue(repo, issue)}
        self._repo_event(self._issue_kind(issue), action, repo, sender, **obj, **extra)

    def _record(self, repo: Repository, issue: Issue, actor: User, event: str, **kw: Any) -> None:
        now = self.now()
        repo.events.append(IssueEvent(self.next_id(), issue.number, actor, event, now, **kw))
        issue.updated_at = now

    def open_issue(
        self,
        full_name: str,
        author: str,
        title: str,
        body: str | None = None,
        *,
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
    ) -> Issue:
        repo = self.repo(full_name)
        issue = self._new_issue(repo, self.user(author), title, body)
        self._issue_webhook(repo, issue, "opened", issue.user)
        # Like GitHub, labels and assignees given at creation arrive as their own events.
        self.add_labels(full_name, issue.number, labels, actor=author)
        self.assign(full_name, issue.number, assignees, actor=author)
        return issue

    def edit_issue(
        self,
        full_name: str,
        number: int,
        *,
        actor: str,
        title: str | None = None,
        body: str | None = None,
    ) -> Issue:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        changes: dict[str, Any] = {}
        if title is not None and title != issue.title:
            changes["title"] = {"from": issue.title}
            issue.title = title
        if body is not None and body != issue.body:
            changes["body"] = {"from": issue.body or ""}
            issue.body = body
        if changes:
            issue.updated_at = self.now()
            self._issue_webhook(repo, issue, "edited", self.user(actor), changes=changes)
        return issue

    def close_issue(
        self, full_name: str, number: int, *, actor: str, reason: str = "completed"
    ) -> Issue:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        if issue.state == "closed":
            return issue
        sender = self.user(actor)
        issue.state, issue.closed_at = "closed", self.now()
        issue.state_reason = None if issue.pull else reason
        self._record(repo, issue, sender, "closed")
        self._issue_webhook(repo, issue, "closed", sender)
        return issue

    def reopen_issue(self, full_name: str, number: int, *, actor: str) -> Issue:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        if issue.state == "open":
            return issue
        if issue.pull and issue.pull.merged_at:
            raise ValidationError("PullRequest", "state", "invalid", "merged pulls stay closed")
        sender = self.user(actor)
        issue.state, issue.closed_at = "open", None
        issue.state_reason = None if issue.pull else "reopened"
        self._record(repo, issue, sender, "reopened")
        self._issue_webhook(repo, issue, "reopened", sender)
        return issue

    def add_labels(
        self, full_name: str, number: int, names: Iterable[str], *, actor: str
    ) -> list[Label]:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        sender = self.user(actor)
        for name in names:
            label = repo.labels.get(name.lower())
            if label is None:  # GitHub creates unknown labels on the fly
                label = Label(self.next_id(), name)
                repo.labels[name.lower()] = label
            if any(existing.id == label.id for existing in issue.labels):
                continue
            issue.labels.append(label)
            self._record(repo, issue, sender, "labeled", label=label)
            self._issue_webhook(
                repo, issue, "labeled", sender, label=self.render.label(repo, label)
            )
        return issue.labels

    def remove_label(self, full_name: str, number: int, name: str, *, actor: str) -> list[Label]:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        label = next((lb for lb in issue.labels if lb.name.lower() == name.lower()), None)
        if label is None:
            raise NotFoundError(f"label {name}")
        sender = self.user(actor)
        issue.labels.remove(label)
        self._record(repo, issue, sender, "unlabeled", label=label)
        self._issue_webhook(repo, issue, "unlabeled", sender, label=self.render.label(repo, label))
        return issue.labels

    def assign(self, full_name: str, number: int, logins: Iterable[str], *, actor: str) -> Issue:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        sender = self.user(actor)
        for login in logins:
            user = self.user(login)
            if any(a.id == user.id for a in issue.assignees):
                continue
            if len(issue.assignees) >= 10:  # GitHub's documented cap
                raise ValidationError("Issue", "assignees", "invalid", "too many assignees")
            issue.assignees.append(user)
            self._record(repo, issue, sender, "assigned", assignee=user)
            self._issue_webhook(repo, issue, "assigned", sender, assignee=self.render.user(user))
        return issue

    def unassign(self, full_name: str, number: int, logins: Iterable[str], *, actor: str) -> Issue:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        sender = self.user(actor)
        for login in logins:
            user = next((a for a in issue.assignees if a.login.lower() == login.lower()), None)
            if user is None:
                continue  # GitHub ignores logins that are not assigned
            issue.assignees.remove(user)
            self._record(repo, issue, sender, "unassigned", assignee=user)
            self._issue_webhook(repo, issue, "unassigned", sender, assignee=self.render.user(user))
        return issue

    def comment(self, full_name: str, number: int, author: str, body: str) -> Comment:
        repo, issue = self.repo(full_name), self.issue(full_name, number)
        if not body:
            raise ValidationError("IssueComment", "body", "missing_field")
        now = self.now()
        comment = Comment(self.next_id(), self.user(author), body, now, now)
        issue.comments.append(comment)
        issue.updated_at = now
        self._repo_event(
            "issue_comment",
            "created",
            repo,
            comment.user,
            issue=self.render.issue(repo, issue),
            comment=self.render.comment(repo, issue, comment),
        )
        return comment

    def transfer_issue(self, full_name: str, number: int, target: str, *, actor: str) -> Issue:
        """Move an issue to another repository, where it gets a new number."""
        old_repo, old_issue = self.repo(full_name), self.issue(full_name, number)
        if old_issue.pull:
            raise ValidationError("Issue", "number", "invalid", "pull requests cannot move")
        new_repo, sender = self.repo(target), self.user(actor)
        new_issue = self._new_issue(new_repo, old_issue.user, old_issue.title, old_issue.body)
        new_issue.assignees = list(old_issue.assignees)
        # Labels survive only where the target repository has a label of the same name.
        names = [lb.name.lower() for lb in old_issue.labels]
        new_issue.labels = [new_repo.labels[n] for n in names if n in new_repo.labels]
        del old_repo.issues[number]
        self._repo_event(
            "issues",
            "transferred",
            old_repo,
            sender,
            issue=self.render.issue(old_repo, old_issue),
            changes={
                "new_issue": self.render.issue(new_repo, new_issue),
                "new_repository": self.render.repo(new_repo),
            },
        )
        self._repo_event(
            "issues",
            "opened",
            new_repo,
            sender,
            issue=self.render.issue(new_repo, new_issue),
            changes={
                "old_issue": self.render.issue(old_repo, old_issue),
                "old_repository": self.render.repo(old_repo),
            },
        )
        return new_issue

    # --- pull requests --------------------------------------------------------------------

    def open_pull(
        self,
        full_name: str,
        author: str,
        title: str,
        body: str | None = None,
        *,
        head: str | None = None,
        base: str | None = None,
        draft: bool = False,
        labels: Iterable[str] = (),
    ) -> Issue:
        repo = self.repo(full_name)
        issue = self._new_issue(repo, self.user(author), title, body)
        head = head or f"{author}-patch-{issue.number}"
        issue.pull = PullInfo(head, _sha(repo.id, issue.number, 1), base or repo.default_branch)
        issue.pull.draft = draft
        self._issue_webhook(repo, issue, "opened", issue.user)
        self.add_labels(full_name, issue.number, labels, actor=author)
        return issue

    def set_draft(self, full_name: str, number: int, draft: bool, *, actor: str) -> Issue:
        """Mark ready for review (``draft=False``) or convert back to draft."""
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        if pull.draft == draft:
            return issue
        pull.draft, issue.updated_at = draft, self.now()
        sender = self.user(actor)
        self._record(repo, issue, sender, "convert_to_draft" if draft else "ready_for_review")
        self._issue_webhook(
            repo, issue, "converted_to_draft" if draft else "ready_for_review", sender
        )
        return issue

    def push_commits(
        self, full_name: str, number: int, *, actor: str, count: int = 1, force: bool = False
    ) -> str:
        """New commits on the head branch; returns the new head sha. GitHub records a force
        push as an issue event too ("head_ref_force_pushed"); a plain push only in the
        timeline."""
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        before, sender = pull.head_sha, self.user(actor)
        pull.commits += count
        pull.head_sha = _sha(repo.id, number, pull.commits)
        issue.updated_at = self.now()
        if force:
            self._record(repo, issue, sender, "head_ref_force_pushed")
        self._issue_webhook(repo, issue, "synchronize", sender, before=before, after=pull.head_sha)
        return pull.head_sha

    def request_review(self, full_name: str, number: int, reviewer: str, *, actor: str) -> Issue:
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        user, sender = self.user(reviewer), self.user(actor)
        if user.id == issue.user.id:
            raise ValidationError("PullRequest", "reviewers", "invalid", "author cannot review")
        if all(r.id != user.id for r in pull.requested_reviewers):
            pull.requested_reviewers.append(user)
        self._record(repo, issue, sender, "review_requested", requested_reviewer=user)
        self._issue_webhook(
            repo, issue, "review_requested", sender, requested_reviewer=self.render.user(user)
        )
        return issue

    def submit_review(
        self, full_name: str, number: int, reviewer: str, state: str, body: str = ""
    ) -> Review:
        """``state`` is APPROVED, CHANGES_REQUESTED or COMMENTED."""
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        if state not in REVIEW_STATES:
            raise ValidationError("PullRequestReview", "event", "invalid")
        user = self.user(reviewer)
        review = Review(self.next_id(), user, state, body, pull.head_sha, self.now())
        pull.reviews.append(review)
        # A submitted review fulfils the request, as on GitHub.
        pull.requested_reviewers = [r for r in pull.requested_reviewers if r.id != user.id]
        issue.updated_at = review.submitted_at
        self._repo_event(
            "pull_request_review",
            "submitted",
            repo,
            user,
            review=self.render.review(repo, issue, review, webhook=True),
            pull_request=self.render.pull(repo, issue, simple=True),
        )
        return review

    def review_comment(
        self,
        full_name: str,
        number: int,
        author: str,
        body: str,
        *,
        path: str = "README.md",
        line: int = 1,
    ) -> ReviewComment:
        """A single-line review comment; GitHub wraps it in a COMMENTED review."""
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        user, now = self.user(author), self.now()
        review = Review(self.next_id(), user, "COMMENTED", "", pull.head_sha, now)
        pull.reviews.append(review)
        comment = ReviewComment(
            self.next_id(), review.id, user, body, path, line, pull.head_sha, now, now
        )
        pull.review_comments.append(comment)
        issue.updated_at = now
        self._repo_event(
            "pull_request_review_comment",
            "created",
            repo,
            user,
            comment=self.render.review_comment(repo, issue, comment),
            pull_request=self.render.pull(repo, issue, simple=True),
        )
        return comment

    def merge(self, full_name: str, number: int, *, actor: str) -> Issue:
        repo, (issue, pull) = self.repo(full_name), self.pull(full_name, number)
        if issue.state != "open" or pull.draft:
            raise ValidationError("PullRequest", "state", "invalid", "pull is not mergeable")
        sender, now = self.user(actor), self.now()
        pull.merged_at, pull.merged_by = now, sender
        pull.merge_commit_sha = _sha(repo.id, number, "merge")
        issue.state, issue.closed_at, issue.updated_at = "closed", now, now
        self._record(repo, issue, sender, "merged", commit_id=pull.merge_commit_sha)
        self._record(repo, issue, sender, "closed", commit_id=pull.merge_commit_sha)
        self._issue_webhook(repo, issue, "closed", sender)
        return issue
