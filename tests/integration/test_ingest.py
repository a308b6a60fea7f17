# SPDX-License-Identifier: Apache-2.0
"""Ingestion: simulated GitHub → signed webhooks → the real endpoint → the worker → history."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import GitHubSettings, load_config
from bot.db.base import Base
from bot.db.models import (
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubRepository,
    GitHubReview,
    GitHubUser,
    Promise,
    WebhookDelivery,
)
from bot.github.inbox import Inbox, Incoming
from bot.github.ingest import MAX_ATTEMPTS, NORMALISER, GitHubEvent, Handler, IngestWorker
from bot.github.normalise import (
    Changes,
    apply,
    parse_comment,
    parse_delivery,
    parse_issue,
    parse_issue_event,
    parse_review,
)
from bot.outbox import promise
from bot.runtime import Runtime
from bot.sandbox.github import Delivery as SentDelivery
from bot.sandbox.github import GitHubSimulator
from tests.integration.sandbox.conftest_github import populate

SECRET = "ingest-test-secret"
REPO = "acme/widgets"
# Every repository of the simulated organisation (tests.integration.sandbox.conftest_github
# populates them), and the personal one transferred into it.
FOLLOWED = '[github]\norganization = "acme"\nrepositories = ["alice/dotfiles"]\n'
FOLLOWS = GitHubSettings(organization="acme").follows
HISTORY = [
    "github_repositories",
    "github_users",
    "github_issues",
    "github_reviews",
    "github_comments",
    "github_issue_events",
    "github_labels",
    "github_collaborators",
]


@pytest.fixture
async def runtime(
    database_url: str, write_config: Callable[..., Path], clock: ManualClock
) -> AsyncIterator[Runtime]:
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    started = Runtime(load_config(write_config(FOLLOWED), env), clock, "web")
    await started.start(apply_migrations=True)
    yield started
    await started.close()


@pytest.fixture
async def github(clock: ManualClock, runtime: Runtime) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(
        clock, webhook_secret=SECRET, webhook_url=f"{runtime.url}/github/webhook"
    ) as simulator:
        yield simulator


async def settled(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Wait (real time, at most 10 s) until the runtime's worker has nothing left to do."""
    for _ in range(500):
        async with sessions() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending")
            )
        if not pending:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"{pending} deliveries still pending")


async def post_in_order(
    github: GitHubSimulator, clock: ManualClock, deliveries: list[SentDelivery]
) -> None:
    """Post one by one, a second apart, so "received order" is exactly this order."""
    for delivery in deliveries:
        await github.emitter.deliver(delivery)
        assert delivery.status in (200, 202), delivery.error
        clock.advance(timedelta(seconds=1))


async def history(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every normalised row, surrogate keys and issues' revisions (a count of the writes that
    touched them, which differs with the route the facts came by) left out, in a stable order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for name in HISTORY:
            table = Base.metadata.tables[name]
            # Only the events table has a surrogate key; elsewhere "id" is GitHub's.
            surrogate = "id" if name == "github_issue_events" else None
            columns = [c for c in table.columns if c.name not in (surrogate, "revision")]
            rows = (await session.execute(select(*columns))).all()
            found[name] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def forget_everything(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for name in [*HISTORY, "webhook_deliveries"]:
            await session.execute(delete(Base.metadata.tables[name]))


def scenario(github: GitHubSimulator, clock: ManualClock) -> datetime:
    """A newcomer's first contribution, a minute between steps (GitHub times are seconds)."""
    state = github.state

    def step() -> None:
        clock.advance(timedelta(minutes=1))

    state.add_org("acme", members=["maintainer"])
    state.create_repo(REPO)
    state.install_app("acme", [REPO], actor="maintainer")
    step()
    state.open_issue(REPO, "alice", "Crash on start", "my stack trace")
    step()
    state.add_labels(REPO, 1, ["good first issue"], actor="maintainer")
    step()
    state.add_labels(REPO, 1, ["bug"], actor="maintainer")
    step()
    state.remove_label(REPO, 1, "bug", actor="maintainer")
    step()
    state.assign(REPO, 1, ["newbie"], actor="maintainer")
    step()
    state.comment(REPO, 1, "newbie", "I'd like to work on this")
    step()
    state.open_pull(REPO, "newbie", "Fix crash", "Fixes #1", draft=True)
    step()
    state.set_draft(REPO, 2, False, actor="newbie")
    step()
    state.request_review(REPO, 2, "maintainer", actor="newbie")
    step()
    state.submit_review(REPO, 2, "maintainer", "CHANGES_REQUESTED", "nit")
    step()
    state.review_comment(REPO, 2, "maintainer", "rename this")
    step()
    # A rebase: GitHub lists a force push among the issue events, so the backfill sees it too.
    state.push_commits(REPO, 2, actor="newbie", force=True)
    step()
    state.submit_review(REPO, 2, "maintainer", "APPROVED", "LGTM")
    step()
    state.merge(REPO, 2, actor="maintainer")
    step()
    state.close_issue(REPO, 1, actor="maintainer")
    return clock.now()


async def test_a_first_contribution_is_normalised(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    finished = scenario(github, clock)
    await post_in_order(github, clock, list(github.emitter.pending))
    await settled(runtime.sessions)

    state = github.state
    repo, newbie = state.repo(REPO), state.user("newbie")
    maintainer = state.user("maintainer")
    async with runtime.sessions() as session:
        (repository,) = await session.scalars(select(GitHubRepository))
        issues = {i.number: i for i in await session.scalars(select(GitHubIssue))}
        reviews = list(await session.scalars(select(GitHubReview).order_by(GitHubReview.id)))
        comments = list(await session.scalars(select(GitHubComment).order_by(GitHubComment.id)))
        events = list(
            await session.scalars(
                select(GitHubIssueEvent).order_by(
                    GitHubIssueEvent.occurred_at, GitHubIssueEvent.kind
                )
            )
        )
        users = {u.login: u for u in await session.scalars(select(GitHubUser))}
        deliveries = list(await session.scalars(select(WebhookDelivery)))

    assert (repository.id, repository.full_name) == (repo.id, REPO)
    assert repository.installation_id == next(iter(state.installations))

    issue, pull = issues[1], issues[2]
    assert (issue.is_pull_request, issue.state, issue.state_reason) == (
        False,
        "closed",
        "completed",
    )
    assert (issue.labels, issue.assignee_ids, issue.author_id) == (
        ["good first issue"],
        [newbie.id],
        state.user("alice").id,
    )
    assert issue.closed_at == finished  # the payload's time, not the arrival's
    assert (pull.is_pull_request, pull.state, pull.merged, pull.draft) == (
        True,
        "closed",
        True,
        False,
    )
    assert (pull.merged_by_id, pull.author_id, pull.requested_reviewer_ids) == (
        maintainer.id,
        newbie.id,
        [],
    )
    assert pull.author_association == "CONTRIBUTOR"  # merged by now
    assert pull.html_url.endswith(f"/{REPO}/pull/2")

    assert [(r.state, r.reviewer_id, r.number) for r in reviews] == [
        ("CHANGES_REQUESTED", maintainer.id, 2),
        ("APPROVED", maintainer.id, 2),
    ]
    assert [(c.kind, c.number, c.author_id) for c in comments] == [
        ("issue", 1, newbie.id),
        ("review", 2, maintainer.id),
    ]
    assert [(e.number, e.kind) for e in events] == [
        (1, "labeled"),
        (1, "labeled"),
        (1, "unlabeled"),
        (1, "assigned"),
        (2, "ready_for_review"),
        (2, "review_requested"),
        (2, "pushed"),
        (2, "closed"),
        (2, "merged"),
        (1, "closed"),
    ]
    assert events[3].subject == str(newbie.id)
    assert events[3].actor_id == maintainer.id
    assert not users["newbie"].is_bot
    # No text of an issue, pull request or comment survives anywhere.
    assert {(d.status, d.body) for d in deliveries} == {("processed", None)}
    dump = repr(await history(runtime.sessions))
    for text in ("my stack trace", "I'd like to work", "Fixes #1", "rename this", "LGTM"):
        assert text not in dump


async def test_out_of_order_and_duplicate_deliveries_converge(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    scenario(github, clock)
    deliveries = list(github.emitter.pending)
    github.emitter.pending.clear()

    await post_in_order(github, clock, deliveries)
    await settled(runtime.sessions)
    in_order = await history(runtime.sessions)
    assert len(in_order["github_issue_events"]) == 10

    for seed in (1, 2):
        await forget_everything(runtime.sessions)
        shuffled = [*deliveries, *random.Random(seed).sample(deliveries, 8)]
        random.Random(seed).shuffle(shuffled)
        # Some come again under the same delivery id, some as fresh deliveries of the same
        # event (as a backfill would report them).
        again = [github.emitter.enqueue(d.event, d.payload) for d in deliveries[::3]]
        github.emitter.pending.clear()
        await post_in_order(github, clock, [*shuffled, *again])
        await settled(runtime.sessions)
        assert await history(runtime.sessions) == in_order


async def test_backfill_from_rest_objects_adds_nothing_new(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    """The REST shapes of the same facts, written through the same upserts, change nothing."""
    scenario(github, clock)
    await post_in_order(github, clock, list(github.emitter.pending))
    await settled(runtime.sessions)
    from_webhooks = await history(runtime.sessions)

    state = github.state
    repo = state.repo(REPO)
    render = state.render
    changes = Changes()
    for issue in repo.issues.values():
        changes.issues.append(parse_issue(render.issue(repo, issue), repo.id))
        if issue.pull is not None:
            changes.issues.append(parse_issue(render.pull(repo, issue), repo.id))
            # The simulator announces a single review comment's wrapping review only as the
            # comment (GitHub also sends pull_request_review for it), so leave that one out.
            wrappers = {c.review_id for c in issue.pull.review_comments}
            for review in (r for r in issue.pull.reviews if r.id not in wrappers):
                parsed = parse_review(render.review(repo, issue, review, webhook=False), repo.id)
                assert parsed is not None
                changes.reviews.append(parsed)
            changes.comments += [
                parse_comment(render.review_comment(repo, issue, c), repo.id)
                for c in issue.pull.review_comments
            ]
        changes.comments += [
            parse_comment(render.comment(repo, issue, c), repo.id) for c in issue.comments
        ]
    for event in repo.events:
        parsed_event = parse_issue_event(render.issue_event(repo, event, with_issue=True), repo.id)
        if parsed_event is not None:
            changes.events.append(parsed_event)
    async with runtime.sessions.begin() as session:
        await apply(session, changes)

    after = await history(runtime.sessions)
    for table in ("github_issues", "github_reviews", "github_comments", "github_issue_events"):
        assert after[table] == from_webhooks[table], table


async def test_every_webhook_kind_is_processed(runtime: Runtime, github: GitHubSimulator) -> None:
    populate(github.state, github.emitter)
    posted = await github.emitter.flush()
    assert {d.status for d in posted} <= {200, 202}
    await settled(runtime.sessions)

    state = github.state
    async with runtime.sessions() as session:
        outcomes = {(d.status, d.attempts) for d in await session.scalars(select(WebhookDelivery))}
        repositories = {r.id: r for r in await session.scalars(select(GitHubRepository))}
        issues = list(await session.scalars(select(GitHubIssue)))
    assert outcomes == {("processed", 1)}  # each kind normalised at the first attempt
    # Renames and transfers are followed by repository id.
    assert repositories[state.repo("acme/gizmos").id].full_name == "acme/gizmos"
    assert repositories[state.repo("acme/dotfiles").id].full_name == "acme/dotfiles"
    assert repositories[state.repo("acme/gizmos").id].installation_id is not None
    transferred = [i for i in issues if i.removed == "transferred"]
    assert [(i.repository_id, i.number) for i in transferred] == [(state.repo(REPO).id, 1)]


# --- which repositories -------------------------------------------------------------------


async def test_deliveries_from_unfollowed_repositories_are_ignored_with_the_reason(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    """FOLLOWED: the acme organisation, and alice/dotfiles; nothing of bob's."""
    state = github.state
    state.create_repo("alice/dotfiles")
    state.create_repo("alice/notes")
    state.create_repo("bob/diary", private=True)
    state.install_app("alice", ["alice/dotfiles", "alice/notes"])  # kept: dotfiles only
    state.install_app("bob", ["bob/diary"])
    state.open_issue("bob/diary", "bob", "Dear diary", labels=["good first issue"])
    state.open_issue("alice/dotfiles", "alice", "Personal note")
    await post_in_order(github, clock, list(github.emitter.pending))
    await settled(runtime.sessions)

    async with runtime.sessions() as session:
        deliveries = list(await session.scalars(select(WebhookDelivery)))
        repositories = list(await session.scalars(select(GitHubRepository)))
        logins = set(await session.scalars(select(GitHubUser.login)))
        issues = [(i.repository_id, i.number) for i in await session.scalars(select(GitHubIssue))]
    outcomes = sorted((d.event, d.action, d.status, d.last_error) for d in deliveries)
    bob = "not a followed repository: bob/diary"
    assert outcomes == [
        ("installation", "created", "ignored", bob),
        ("installation", "created", "processed", None),
        ("issues", "labeled", "ignored", bob),
        ("issues", "opened", "ignored", bob),
        ("issues", "opened", "processed", None),
    ]
    assert {d.body for d in deliveries} == {None}
    dotfiles = state.repo("alice/dotfiles")
    assert [(r.full_name, r.installation_id is not None) for r in repositories] == [
        ("alice/dotfiles", True)
    ]
    assert issues == [(dotfiles.id, 1)]
    assert logins == {"alice"}  # bob, the sender of the ignored ones, was never recorded


async def test_a_config_that_follows_nothing_ignores_every_delivery_and_says_so(
    database_url: str,
    write_config: Callable[..., Path],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    runtime = Runtime(load_config(write_config(), env), clock, "web")
    await runtime.start(apply_migrations=True)
    try:
        assert "every webhook delivery will be ignored" in caplog.text
        async with GitHubSimulator(
            clock, webhook_secret=SECRET, webhook_url=f"{runtime.url}/github/webhook"
        ) as github:
            github.state.create_repo(REPO)
            github.state.open_issue(REPO, "alice", "Crash")
            await post_in_order(github, clock, list(github.emitter.pending))
        await settled(runtime.sessions)
        statuses = {r.status for r in await delivery_rows(runtime.sessions)}
    finally:
        await runtime.close()
    assert statuses == {"ignored"}


async def test_a_repository_moved_out_of_the_followed_ones_is_renamed_then_left_alone(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    state = github.state
    state.add_org("acme")
    state.create_repo(REPO)
    state.open_issue(REPO, "alice", "Crash")
    state.transfer_repo(REPO, "bob")  # bob/widgets: its old name is followed, its new one not
    state.open_issue("bob/widgets", "alice", "Later")
    await post_in_order(github, clock, list(github.emitter.pending))
    await settled(runtime.sessions)

    async with runtime.sessions() as session:
        (repository,) = await session.scalars(select(GitHubRepository))
        numbers = list(await session.scalars(select(GitHubIssue.number)))
        outcomes = [
            (d.event, d.status, d.last_error)
            for d in await session.scalars(
                select(WebhookDelivery).order_by(WebhookDelivery.received_at)
            )
        ]
    assert repository.full_name == "bob/widgets"  # so reads no longer take it for followed
    assert numbers == [1]
    assert outcomes == [
        ("issues", "processed", None),
        ("repository", "processed", None),
        ("issues", "ignored", "not a followed repository: bob/widgets"),
    ]


async def test_private_is_recorded_from_full_and_short_repository_objects(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    state = github.state
    state.add_org("acme")
    for name, private in (("acme/quiet", True), ("acme/vault", True), (REPO, False)):
        state.create_repo(name, private=private)
    # The installation's short form says it for all three; only acme/quiet has nothing newer.
    state.install_app("acme", ["acme/quiet", "acme/vault", REPO])
    clock.advance(timedelta(minutes=1))
    state.open_issue("acme/vault", "alice", "Audit")
    state.open_issue(REPO, "alice", "Crash")
    clock.advance(timedelta(minutes=1))
    state.set_private("acme/vault", False)  # "publicized"
    state.set_private(REPO, True)  # "privatized"
    await post_in_order(github, clock, list(github.emitter.pending))
    await settled(runtime.sessions)

    async with runtime.sessions() as session:
        rows = await session.execute(select(GitHubRepository.full_name, GitHubRepository.private))
        private = {name: private for name, private in rows.all()}
    assert private == {"acme/quiet": True, "acme/vault": False, REPO: True}


async def commit_deliveries(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, count: int
) -> list[str]:
    """Open ``count`` issues in a simulated GitHub and commit their webhooks via the inbox."""
    github = GitHubSimulator(clock, webhook_secret=SECRET)
    state = github.state
    state.create_repo(REPO)
    for n in range(count):
        state.open_issue(REPO, f"user{n % 7}", f"Issue {n}")
    inbox = Inbox(sessions, clock)
    inbox.start()
    try:
        for delivery in github.emitter.pending:
            incoming = Incoming(delivery.delivery_id, delivery.event, "opened", delivery.body)
            assert await inbox.record(incoming)
    finally:
        await inbox.close()
    return [d.delivery_id for d in github.emitter.pending]


async def delivery_rows(sessions: async_sessionmaker[AsyncSession]) -> list[WebhookDelivery]:
    async with sessions() as session:
        return list(await session.scalars(select(WebhookDelivery)))


async def test_a_failing_handler_is_retried_without_stopping_the_others(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await commit_deliveries(sessions, clock, 1)
    failures_left = 2

    async def promise_then_fail(session: AsyncSession, event: GitHubEvent) -> None:
        nonlocal failures_left
        # Its write must be rolled back with it, while the normaliser's stays.
        await promise(
            session,
            feature="welcome",
            guild_id=1,
            key=f"welcome:{event.delivery_id}",
            target_kind="channel",
            target_id=2,
            payload={"content": "welcome"},
            now=clock.now(),
        )
        if failures_left:
            failures_left -= 1
            raise RuntimeError("discord feature is broken")

    flaky = Handler("welcome", lambda event, _action: event == "issues", promise_then_fail)
    never = Handler("never", lambda event, _action: event == "star", promise_then_fail)
    worker = IngestWorker(sessions, clock, follows=FOLLOWS, handlers=[NORMALISER, flaky, never])

    assert await worker.run_once() == 1
    (row,) = await delivery_rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.body is not None
    assert "welcome: RuntimeError('discord feature is broken')" in (row.last_error or "")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(GitHubIssue)) == 1
        assert await session.scalar(select(func.count()).select_from(Promise)) == 0

    assert await worker.run_once() == 0  # backing off
    clock.advance(timedelta(seconds=30))
    assert await worker.run_once() == 1
    (row,) = await delivery_rows(sessions)
    assert (row.attempts, row.retry_at) == (2, clock.now() + timedelta(seconds=60))

    clock.advance(timedelta(seconds=60))
    assert await worker.run_once() == 1
    (row,) = await delivery_rows(sessions)
    assert (row.status, row.body, row.last_error, row.attempts) == ("processed", None, None, 3)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Promise)) == 1


async def test_a_delivery_that_keeps_failing_is_kept_for_replay(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await commit_deliveries(sessions, clock, 1)

    async def broken(_session: AsyncSession, _event: GitHubEvent) -> None:
        raise ValueError("bug")

    worker = IngestWorker(
        sessions, clock, follows=FOLLOWS, handlers=[Handler("broken", lambda e, a: True, broken)]
    )
    for _ in range(MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0
    (row,) = await delivery_rows(sessions)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.body is not None


async def test_a_malformed_delivery_fails_at_once_and_reaches_no_handler(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    github = GitHubSimulator(clock, webhook_secret=SECRET)
    github.state.create_repo(REPO)
    github.state.open_issue(REPO, "alice", "Crash")
    payload = json.loads(github.emitter.pending[0].body)
    del payload["issue"]["updated_at"]
    inbox = Inbox(sessions, clock)
    inbox.start()
    await inbox.record(Incoming("malformed", "issues", "opened", json.dumps(payload).encode()))
    await inbox.record(Incoming("no-object", "issues", "opened", b"[]"))
    await inbox.close()
    seen: list[str] = []

    async def record(_session: AsyncSession, event: GitHubEvent) -> None:
        seen.append(event.delivery_id)

    worker = IngestWorker(
        sessions,
        clock,
        follows=FOLLOWS,
        handlers=[NORMALISER, Handler("record", lambda e, a: True, record)],
    )
    assert await worker.run_once() == 2
    rows = {r.delivery_id: r for r in await delivery_rows(sessions)}
    # Retrying cannot change a body: both fail at once, and no handler sees either.
    assert {(r.status, r.attempts, r.retry_at) for r in rows.values()} == {("failed", 1, None)}
    assert seen == []
    assert rows["malformed"].body is not None  # kept for a replay once the parser knows it
    assert rows["malformed"].last_error == (
        "payload: MalformedPayload('issues.opened delivery: issue.updated_at is missing')"
    )


async def test_two_workers_never_process_the_same_delivery(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    ids = await commit_deliveries(sessions, clock, 60)
    seen: list[str] = []

    async def record(_session: AsyncSession, event: GitHubEvent) -> None:
        seen.append(event.delivery_id)
        await asyncio.sleep(0)  # let the other worker run in between

    recorder = Handler("record", lambda _e, _a: True, record)
    workers = [
        IngestWorker(
            sessions, clock, follows=FOLLOWS, handlers=[NORMALISER, recorder], batch_size=7
        )
        for _ in range(2)
    ]
    handled = await asyncio.gather(*(w.drain() for w in workers))

    assert sum(handled) == 60
    assert sorted(seen) == sorted(ids)  # each exactly once
    assert {r.status for r in await delivery_rows(sessions)} == {"processed"}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(GitHubIssue)) == 60
        assert await session.scalar(select(func.count()).select_from(GitHubUser)) == 7


async def test_retention_deletes_old_deliveries_and_failed_ones_later(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    old = await commit_deliveries(sessions, clock, 2)
    inbox = Inbox(sessions, clock)
    inbox.start()
    await inbox.record(Incoming("old-star", "star", "created", None))
    await inbox.record(Incoming("old-bad", "issues", "opened", b"[]"))
    worker = IngestWorker(
        sessions,
        clock,
        follows=FOLLOWS,
        max_attempts=1,
        retention=timedelta(days=7),
        failed_retention=timedelta(days=30),
    )
    assert await worker.drain() == 3
    clock.advance(timedelta(days=6))
    await inbox.record(Incoming("new-star", "star", "created", None))
    await inbox.close()

    assert await worker.purge() == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert await worker.purge() == 3
    left = {r.delivery_id: r.status for r in await delivery_rows(sessions)}
    assert left == {"old-bad": "failed", "new-star": "ignored"}
    assert not set(old) & set(left)
    clock.advance(timedelta(days=22))
    assert await worker.purge() == 1  # new-star
    clock.advance(timedelta(days=1))  # the failed one is 30 days old: it goes, body and all
    assert await worker.purge() == 1
    assert await delivery_rows(sessions) == []


async def test_a_process_without_webhooks_ingests_what_others_commit(
    write_config: Callable[..., Path],
    clock: ManualClock,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    env = {"DATABASE_URL": database_url}
    runtime = Runtime(load_config(write_config(FOLLOWED), env), clock, "web")
    await runtime.start(apply_migrations=True)
    try:
        await asyncio.sleep(0.2)  # the worker's first pass finds nothing and waits for the poll
        await commit_deliveries(sessions, clock, 3)  # another process's inbox: no wake-up here
        await asyncio.sleep(0.05)
        assert {r.status for r in await delivery_rows(sessions)} == {"pending"}
        clock.advance(timedelta(seconds=2))  # the poll
        await settled(sessions)
    finally:
        await runtime.close()
    assert {r.status for r in await delivery_rows(sessions)} == {"processed"}


async def test_renames_and_removals_hold_whatever_the_order(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    github = GitHubSimulator(clock, webhook_secret=SECRET)
    state = github.state
    state.create_repo(REPO)
    state.open_pull(REPO, "dave", "Fix")
    state.submit_review(REPO, 1, "maintainer", "APPROVED")
    state.comment(REPO, 1, "carol", "+1")
    dave = state.user("dave")
    dave.login = "dave-renamed"  # GitHub lets people change their login
    clock.advance(timedelta(minutes=1))
    state.push_commits(REPO, 1, actor="dave")
    events = [(d.event, d.payload) for d in github.emitter.pending]
    newest_first = [parse_delivery(event, payload) for event, payload in reversed(events)]
    # What GitHub would send for a dismissal, a comment deletion and an issue deletion.
    review_payload, comment_payload = events[1][1], events[2][1]
    dismissed = parse_delivery(
        "pull_request_review",
        {
            **review_payload,
            "action": "dismissed",
            "review": {**review_payload["review"], "state": "dismissed"},
        },
    )
    deleted_comment = parse_delivery("issue_comment", {**comment_payload, "action": "deleted"})
    deleted_issue = parse_delivery("pull_request", {**events[-1][1], "action": "deleted"})

    async with sessions.begin() as session:
        for changes in [dismissed, deleted_comment, deleted_issue, *newest_first]:
            await apply(session, changes)

    async with sessions() as session:
        user = await session.get(GitHubUser, dave.id)
        (review,) = await session.scalars(select(GitHubReview))
        (comment,) = await session.scalars(select(GitHubComment))
        (pull,) = await session.scalars(select(GitHubIssue))
    assert user is not None
    assert user.login == "dave-renamed"  # the older payloads' "dave" did not win
    assert review.state == "DISMISSED"
    assert comment.deleted
    assert pull.removed == "deleted"
    assert pull.updated_at == clock.now()  # the newest snapshot, though it was applied first


async def test_a_signed_delivery_of_unexpected_shape_is_kept_and_the_next_goes_through(
    runtime: Runtime, github: GitHubSimulator, clock: ManualClock
) -> None:
    github.state.create_repo(REPO)
    github.state.open_issue(REPO, "alice", "Crash on start")
    github.state.open_issue(REPO, "bob", "Typo in README")
    first, second = github.emitter.pending
    github.emitter.pending.clear()
    payload = json.loads(first.body)
    payload["issue"]["user"]["id"] = str(payload["issue"]["user"]["id"])  # a proxy's "fix"
    malformed = github.emitter.enqueue(first.event, payload)  # signed like any other
    github.emitter.pending.clear()

    await post_in_order(github, clock, [malformed, second])  # both acknowledged: durable
    await settled(runtime.sessions)  # no retries pending for a payload that cannot change

    async with runtime.sessions() as session:
        rows = {d.delivery_id: d for d in await session.scalars(select(WebhookDelivery))}
        issues = [(i.number, i.title) for i in await session.scalars(select(GitHubIssue))]
    kept, done = rows[malformed.delivery_id], rows[second.delivery_id]
    assert (kept.status, kept.attempts, kept.body is not None) == ("failed", 1, True)
    assert kept.last_error == (
        "payload: MalformedPayload('issues.opened delivery: issue.user.id should be an "
        "integer, not a string')"
    )
    assert (done.status, done.last_error) == ("processed", None)
    assert issues == [(2, "Typo in README")]
