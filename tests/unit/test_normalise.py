# SPDX-License-Identifier: Apache-2.0
"""Parsing GitHub payloads into normalised records, on payloads from the GitHub simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.github.normalise import (
    UNDATED,
    EventRecord,
    closing_references,
    is_maintainer,
    parse_comment,
    parse_delivery,
    parse_issue,
    parse_issue_event,
    parse_review,
    parse_time,
    parse_user,
)
from bot.sandbox.github import GitHubState

REPO = "acme/widgets"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class World:
    """A simulated GitHub whose webhooks are collected instead of posted."""

    def __init__(self) -> None:
        self.clock = ManualClock(START)
        self.state = GitHubState(self.clock)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.state.subscribe(lambda event, payload: self.sent.append((event, payload)))
        self.state.add_org("acme", members=["maintainer"])
        self.repo = self.state.create_repo(REPO)

    def tick(self) -> datetime:
        self.clock.advance(timedelta(minutes=1))
        return self.clock.now()

    def last(self) -> tuple[str, dict[str, Any]]:
        return self.sent[-1]


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(
    ("login", "association", "configured", "expected"),
    [
        ("alice", "NONE", [], False),
        ("alice", "FIRST_TIME_CONTRIBUTOR", ["bob"], False),
        ("alice", "CONTRIBUTOR", ["Alice"], True),
        ("ALICE", None, ["alice"], True),
        ("carol", "OWNER", [], True),
        ("carol", "MEMBER", [], True),
        ("carol", "COLLABORATOR", [], True),
        (None, "NONE", ["alice"], False),
    ],
)
def test_is_maintainer(
    login: str | None, association: str | None, configured: list[str], expected: bool
) -> None:
    assert is_maintainer(login, association, configured) is expected


def test_parse_time_keeps_the_zone_and_refuses_naive_times() -> None:
    assert parse_time("2026-01-05T09:00:00Z") == START
    assert parse_time(None) is None
    with pytest.raises(ValueError, match="time zone"):
        parse_time("2026-01-05T09:00:00")


@pytest.mark.parametrize(
    ("login", "kind", "is_bot"),
    [("alice", "User", False), ("dependabot[bot]", "Bot", True), ("renovate[bot]", "User", True)],
)
def test_bots_are_flagged_by_type_or_login(login: str, kind: str, is_bot: bool) -> None:
    user = parse_user({"id": 5, "login": login, "type": kind}, START)
    assert user is not None
    assert (user.login, user.type, user.is_bot, user.seen_at) == (login, kind, is_bot, START)
    assert parse_user(None, START) is None


def test_opened_issue_becomes_a_snapshot_without_its_body(world: World) -> None:
    world.state.open_issue(REPO, "alice", "Crash on start", "secret stack trace")
    event, payload = world.last()
    changes = parse_delivery(event, payload)

    (issue,) = changes.issues
    assert (issue.repository_id, issue.number, issue.is_pull_request) == (world.repo.id, 1, False)
    assert (issue.title, issue.state, issue.author_association) == (
        "Crash on start",
        "open",
        "NONE",
    )
    assert issue.author is not None
    assert issue.author.login == "alice"
    assert (issue.created_at, issue.updated_at, issue.closed_at) == (START, START, None)
    assert "secret stack trace" not in repr(changes)
    assert changes.events == []  # "opened" is the snapshot itself
    assert [r.full_name for r in changes.repositories] == [REPO]


def test_label_and_assignment_become_events_at_the_payload_time(world: World) -> None:
    world.state.open_issue(REPO, "alice", "Crash")
    labeled_at = world.tick()
    world.state.add_labels(REPO, 1, ["bug"], actor="maintainer")
    labeled = parse_delivery(*world.last())
    assigned_at = world.tick()
    world.state.assign(REPO, 1, ["alice"], actor="maintainer")
    assigned = parse_delivery(*world.last())

    alice = world.state.user("alice")
    maintainer = world.state.user("maintainer")
    (label_event,) = labeled.events
    assert (label_event.kind, label_event.subject, label_event.occurred_at) == (
        "labeled",
        "bug",
        labeled_at,
    )
    assert label_event.actor is not None
    assert label_event.actor.id == maintainer.id
    assert labeled.issues[0].labels == ("bug",)
    (assign_event,) = assigned.events
    assert (assign_event.kind, assign_event.subject) == ("assigned", str(alice.id))
    assert assign_event.occurred_at == assigned_at
    assert [u.id for u in assigned.issues[0].assignees] == [alice.id]


def test_merge_is_a_merged_and_a_closed_transition(world: World) -> None:
    world.state.open_pull(REPO, "dave", "Fix crash")
    merged_at = world.tick()
    world.state.merge(REPO, 1, actor="maintainer")
    changes = parse_delivery(*world.last())

    (pull,) = changes.issues
    assert pull.is_pull_request
    assert (pull.state, pull.merged_at, pull.closed_at) == ("closed", merged_at, merged_at)
    assert pull.merged_by is not None
    assert pull.merged_by.login == "maintainer"
    assert [(e.kind, e.occurred_at) for e in changes.events] == [
        ("merged", merged_at),
        ("closed", merged_at),
    ]


def test_closing_unmerged_pull_is_only_closed(world: World) -> None:
    world.state.open_pull(REPO, "erin", "Try something")
    world.state.close_issue(REPO, 1, actor="erin")
    changes = parse_delivery(*world.last())
    assert [e.kind for e in changes.events] == ["closed"]
    assert changes.issues[0].merged_at is None


def test_draft_transitions_and_review_requests(world: World) -> None:
    world.state.open_pull(REPO, "dave", "Fix", draft=True)
    world.state.set_draft(REPO, 1, False, actor="dave")
    ready = parse_delivery(*world.last())
    world.state.request_review(REPO, 1, "maintainer", actor="dave")
    requested = parse_delivery(*world.last())

    assert [e.kind for e in ready.events] == ["ready_for_review"]
    assert ready.issues[0].draft is False
    maintainer = world.state.user("maintainer")
    assert [(e.kind, e.subject) for e in requested.events] == [
        ("review_requested", str(maintainer.id))
    ]
    assert [u.id for u in requested.issues[0].requested_reviewers or ()] == [maintainer.id]


def test_a_push_to_a_pull_request_is_an_event_by_the_pusher(world: World) -> None:
    """``synchronize``: new commits on the head branch, which restart a review clock."""
    world.state.open_pull(REPO, "dave", "Fix")
    pushed_at = world.tick()
    world.state.push_commits(REPO, 1, actor="dave")
    changes = parse_delivery(*world.last())

    (event,) = changes.events
    assert (event.kind, event.subject, event.occurred_at) == ("pushed", "", pushed_at)
    assert event.actor is not None
    assert event.actor.login == "dave"
    assert changes.issues[0].updated_at == pushed_at


def test_the_rest_api_knows_only_force_pushes(world: World) -> None:
    """The repository's issue events list a force push (as the webhook's push: one row) and
    no plain push, which only the timeline shows."""
    world.state.open_pull(REPO, "dave", "Fix")
    world.tick()
    world.state.push_commits(REPO, 1, actor="dave")
    world.tick()
    world.state.push_commits(REPO, 1, actor="dave", force=True)
    webhook = parse_delivery(*world.last()).events[0]

    rest = [
        parse_issue_event(world.state.render.issue_event(world.repo, e, with_issue=True), 7)
        for e in world.repo.events
    ]
    assert [e.event for e in world.repo.events] == ["head_ref_force_pushed"]
    (event,) = rest
    assert event is not None
    assert (event.kind, event.subject, event.occurred_at) == (
        webhook.kind,
        webhook.subject,
        webhook.occurred_at,
    )
    assert event.actor == webhook.actor


def test_review_is_parsed_with_upper_case_state(world: World) -> None:
    world.state.open_pull(REPO, "dave", "Fix")
    world.state.submit_review(REPO, 1, "maintainer", "APPROVED", "LGTM")
    changes = parse_delivery(*world.last())

    (review,) = changes.reviews
    assert (review.number, review.state, review.author_association) == (1, "APPROVED", "MEMBER")
    assert review.reviewer is not None
    assert review.reviewer.login == "maintainer"
    # The review's pull request (simple shape) says nothing about who merged it.
    assert changes.issues[0].merged_by is None


def test_comments_keep_author_and_time_not_text(world: World) -> None:
    world.state.open_pull(REPO, "dave", "Fix")
    world.state.comment(REPO, 1, "carol", "Can reproduce.")
    issue_comment = parse_delivery(*world.last())
    world.state.review_comment(REPO, 1, "maintainer", "Rename this")
    review_comment = parse_delivery(*world.last())

    (first,) = issue_comment.comments
    (second,) = review_comment.comments
    assert (first.kind, first.number, first.deleted) == ("issue", 1, False)
    assert first.author is not None
    assert first.author.login == "carol"
    assert (second.kind, second.number) == ("review", 1)
    assert "Can reproduce" not in repr(issue_comment)
    assert "Rename this" not in repr(review_comment)


def test_transfer_removes_the_old_issue_and_adds_the_new_one(world: World) -> None:
    gadgets = world.state.create_repo("acme/gadgets")
    world.state.open_issue(REPO, "alice", "Crash")
    world.state.transfer_issue(REPO, 1, "acme/gadgets", actor="maintainer")
    transferred = next(p for e, p in world.sent if p.get("action") == "transferred")
    changes = parse_delivery("issues", transferred)

    assert changes.removed_issues == [(world.repo.id, 1, "transferred")]
    assert [(i.repository_id, i.number) for i in changes.issues] == [
        (world.repo.id, 1),
        (gadgets.id, 1),
    ]
    # The new issue names its origin, so it keeps its history and opening time there.
    (moved,) = changes.events
    assert (moved.repository_id, moved.number, moved.kind, moved.subject) == (
        gadgets.id,
        1,
        "transferred",
        f"{world.repo.id}#1",
    )
    assert moved.occurred_at == changes.issues[1].updated_at
    assert moved.actor is not None
    assert moved.actor.login == "maintainer"


def test_repository_rename_and_installation(world: World) -> None:
    installation = world.state.install_app("acme", [REPO], actor="maintainer")
    installed = parse_delivery(*world.last())
    world.tick()
    world.state.rename_repo(REPO, "gizmos", actor="maintainer")
    renamed = parse_delivery(*world.last())

    assert installed.installations == [(installation.id, [world.repo.id], True)]
    assert installed.repository_names == ()  # an installation's repositories are listed
    (repository,) = renamed.repositories
    assert (repository.id, repository.full_name) == (world.repo.id, "acme/gizmos")
    assert repository.updated_at == world.clock.now()
    # The former name too, so that ingestion can tell the repository was followed.
    assert renamed.repository_names == ("acme/gizmos", REPO)


def test_a_transferred_repository_names_its_former_owner(world: World) -> None:
    world.state.create_repo("alice/dotfiles")
    world.state.transfer_repo("alice/dotfiles", "acme", actor="alice")
    from_a_user = parse_delivery(*world.last())
    world.state.add_org("elsewhere")
    world.state.transfer_repo(REPO, "elsewhere", actor="maintainer")
    from_an_organisation = parse_delivery(*world.last())

    assert from_a_user.repository_names == ("acme/dotfiles", "alice/dotfiles")
    assert from_an_organisation.repository_names == ("elsewhere/widgets", REPO)


def test_private_is_read_from_full_and_short_repository_objects(world: World) -> None:
    vault = world.state.create_repo("acme/vault", private=True)
    world.state.install_app("acme", [REPO, "acme/vault"], actor="maintainer")
    short = parse_delivery(*world.last())
    world.state.open_issue("acme/vault", "alice", "Audit")
    full = parse_delivery(*world.last())

    assert [(r.full_name, r.private, r.updated_at) for r in short.repositories] == [
        (REPO, False, None),
        ("acme/vault", True, None),
    ]
    assert [(r.id, r.private) for r in full.repositories] == [(vault.id, True)]
    assert full.repository_names == ("acme/vault",)


def test_label_and_member_events(world: World) -> None:
    world.state.create_label(REPO, "needs triage", actor="maintainer")
    label = parse_delivery(*world.last())
    world.state.add_collaborator(REPO, "carol", actor="maintainer")
    member = parse_delivery(*world.last())

    assert [(lb.name, lb.deleted) for lb in label.labels] == [("needs triage", False)]
    carol = world.state.user("carol")
    assert member.collaborators == [(world.repo.id, carol.id, "write", True)]
    assert [(u.login, u.seen_at) for u in member.users] == [("carol", UNDATED)]


def test_unused_events_say_nothing() -> None:
    changes = parse_delivery("star", {"action": "created"})
    assert changes == type(changes)()


def test_rest_shapes_parse_like_webhook_shapes(world: World) -> None:
    """Backfill reads REST objects; they must give the records webhooks give."""
    world.state.open_pull(REPO, "dave", "Fix", labels=["bug"])
    world.tick()
    world.state.request_review(REPO, 1, "maintainer", actor="dave")
    world.tick()
    world.state.submit_review(REPO, 1, "maintainer", "CHANGES_REQUESTED")
    webhook_review = parse_delivery(*world.last()).reviews[0]
    world.state.comment(REPO, 1, "carol", "+1")
    webhook_comment = parse_delivery(*world.last()).comments[0]
    world.tick()
    world.state.merge(REPO, 1, actor="maintainer")
    webhook_pull = parse_delivery(*world.last()).issues[0]

    render, issue = world.state.render, world.state.issue(REPO, 1)
    assert issue.pull is not None
    assert parse_issue(render.pull(world.repo, issue), world.repo.id) == webhook_pull
    as_issue = parse_issue(render.issue(world.repo, issue), world.repo.id)
    assert as_issue.is_pull_request
    assert as_issue.merged_at == webhook_pull.merged_at
    assert as_issue.requested_reviewers is None  # not in issue shape: kept as stored
    rest_review = parse_review(
        render.review(world.repo, issue, issue.pull.reviews[0], webhook=False), world.repo.id
    )
    assert rest_review == webhook_review
    rest_comment = parse_comment(
        render.comment(world.repo, issue, issue.comments[0]), world.repo.id
    )
    assert rest_comment == webhook_comment

    rest_events = [
        parse_issue_event(render.issue_event(world.repo, e, with_issue=True), world.repo.id)
        for e in world.repo.events
    ]
    kinds = [(e.kind, e.subject) for e in rest_events if isinstance(e, EventRecord)]
    assert kinds == [
        ("labeled", "bug"),
        ("review_requested", str(world.state.user("maintainer").id)),
        ("merged", ""),
        ("closed", ""),
    ]


def test_rest_convert_to_draft_is_the_webhook_kind(world: World) -> None:
    world.state.open_pull(REPO, "dave", "Fix")
    world.state.set_draft(REPO, 1, True, actor="dave")
    (event,) = world.repo.events
    rest = parse_issue_event(world.state.render.issue_event(world.repo, event, with_issue=True), 7)
    webhook = parse_delivery(*world.last()).events[0]
    assert rest is not None
    assert (rest.kind, rest.repository_id) == ("converted_to_draft", 7)
    assert (webhook.kind, webhook.subject, webhook.occurred_at) == (
        rest.kind,
        rest.subject,
        rest.occurred_at,
    )
    assert (
        parse_issue_event({"event": "subscribed", "created_at": "2026-01-05T09:00:00Z"}, 7) is None
    )


@pytest.mark.parametrize(
    ("kind", "gone"),
    [
        ("labeled", {"issue": None}),  # the issue was deleted
        ("labeled", {"label": {"name": None, "color": None}}),  # so was the label
        ("assigned", {"assignee": None}),  # and the assignee's account
    ],
)
def test_rest_events_about_what_github_no_longer_has_are_skipped(
    world: World, kind: str, gone: dict[str, Any]
) -> None:
    """GitHub's API description lets these be null in the repository's events listing."""
    world.state.open_issue(REPO, "alice", "Crash", labels=["bug"], assignees=["alice"])
    (event,) = [e for e in world.repo.events if e.event == kind]
    raw = world.state.render.issue_event(world.repo, event, with_issue=True)
    assert parse_issue_event(raw, world.repo.id) is not None
    assert parse_issue_event({**raw, **gone}, world.repo.id) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Fixes #12", ("#12",)),
        ("closes: #3, and RESOLVED #4", ("#3", "#4")),
        ("Fix helios-engine/Docs#7", ("helios-engine/docs#7",)),
        ("Resolves https://github.com/helios-engine/helios/issues/9", ("helios-engine/helios#9",)),
        ("fixes #5 ... fixed #5 again", ("#5",)),
        ("See #12; prefix#4; suffixes #6; fixes#8", ()),  # no keyword, or no space after it
        (None, ()),
    ],
)
def test_closing_references_follow_github_keywords(
    body: str | None, expected: tuple[str, ...]
) -> None:
    assert closing_references(body) == expected


def test_only_pull_requests_carry_closing_references(world: World) -> None:
    world.state.open_issue(REPO, "dave", "Crash on start")
    issue = parse_delivery(*world.last()).issues[0]
    world.state.open_pull(REPO, "dave", "Fix the crash", "Fixes #1, see #7")
    pull = parse_delivery(*world.last()).issues[0]
    assert (issue.closes, pull.closes) == (None, ("#1",))
    # A shape without a body says nothing about references: the stored ones are kept.
    shape = world.state.render.pull(world.repo, world.state.issue(REPO, 2))
    del shape["body"]
    assert parse_issue(shape, world.repo.id).closes is None
