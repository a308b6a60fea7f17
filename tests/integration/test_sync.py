# SPDX-License-Identifier: Apache-2.0
"""The REST backfill: real PyGithub against the GitHub simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from bot.clock import Clock, ManualClock, SystemClock
from bot.config import Config, ConfigError, load_config
from bot.db.base import Base
from bot.db.models import (
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubRepository,
    GitHubReview,
    GitHubSyncCheckpoint,
)
from bot.github.api import GitHubUnavailable
from bot.github.client import GitHubClient, Page
from bot.github.normalise import (
    Changes,
    apply,
    lock_history,
    parse_issue,
    parse_issue_event,
    parse_repository,
)
from bot.github.sync import (
    RepositorySync,
    SyncScheduler,
    SyncStats,
    repositories,
)
from bot.runtime import Runtime
from bot.sandbox.github import GitHubSimulator
from tests.integration.test_cli import cli
from tests.integration.test_ingest import HISTORY, history, post_in_order, scenario, settled

REPO = "acme/widgets"
TOKEN = "ghp_sync_test_token"
SECRET = "sync-test-secret"
ISSUES = "GET /repos/{owner}/{repo}/issues"
PULLS = "GET /repos/{owner}/{repo}/pulls"
EVENTS = "GET /repos/{owner}/{repo}/issues/events"
REVIEWS = "GET /repos/{owner}/{repo}/pulls/{number}/reviews"


def github_toml(sim: GitHubSimulator, extra: str = "") -> str:
    return (
        f'[github]\napi_url = "{sim.api_url}"\nrepositories = ["{REPO}"]\n'
        f"seconds_between_requests = 0\nseconds_between_writes = 0\n{extra}"
    )


async def simulator(clock: Clock) -> GitHubSimulator:
    sim = GitHubSimulator(clock, webhook_secret=SECRET)
    await sim.start()
    sim.add_token(TOKEN, "helios-bot")
    return sim


@pytest.fixture
def clock() -> ManualClock:
    """Manual time that starts now, so PyGithub (which reads the real time) agrees with it."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    started = await simulator(clock)
    yield started
    await started.close()


@pytest.fixture
def config(sim: GitHubSimulator, write_config: Callable[..., Path]) -> Config:
    return load_config(write_config(github_toml(sim)), {"GITHUB_TOKEN": TOKEN})


@pytest.fixture
async def client(config: Config) -> AsyncIterator[GitHubClient]:
    connected = await GitHubClient.connect(config)
    assert connected is not None
    yield connected
    connected.close()


@pytest.fixture
def sync(
    client: GitHubClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    config: Config,
) -> Callable[..., Any]:
    def run(**options: Any) -> Any:
        job = RepositorySync(client, sessions, clock, config.settings.github, REPO, **options)
        return job.run()

    return run


async def seed_issues(sim: GitHubSimulator, clock: ManualClock, count: int) -> None:
    """``count`` issues a second apart; every other one labelled, so issue events exist."""
    sim.state.create_repo(REPO)
    for n in range(count):
        if n % 10 == 0:
            await asyncio.sleep(0)  # hundreds of issues at once would hold the loop too long
        clock.advance(timedelta(seconds=1))
        labels = ["bug"] if n % 2 == 0 else []
        sim.state.open_issue(REPO, f"user{n % 7}", f"Issue {n}", labels=labels)
    sim.emitter.pending.clear()


async def forget(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for name in [*HISTORY, "github_sync_checkpoints", "github_sync_leases"]:
            await session.execute(delete(Base.metadata.tables[name]))


def crash_on(client: GitHubClient, sim: GitHubSimulator, listing: str, page: int) -> None:
    """From page ``page`` of ``listing`` (e.g. "issues/events") on, GitHub answers 502 to
    everything. The listing's pages after the first are addressed by repository id."""
    real = client.page
    path = f"/{listing}$"

    async def page_with_outage(url: str, params: Any = None) -> Page:
        if re.search(path, URL(url).path) and f"page={page}" in url:
            sim.inject_error(502, count=10**6, path=path)
        return await real(url, params)

    client.page = page_with_outage  # type: ignore[method-assign]


# --- a full sync --------------------------------------------------------------------------


async def test_a_full_sync_writes_the_normalised_history(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    scenario(sim, clock)
    stats = await sync()

    state = sim.state
    newbie, maintainer = state.user("newbie"), state.user("maintainer")
    async with sessions() as session:
        (repository,) = await session.scalars(select(GitHubRepository))
        issues = {i.number: i for i in await session.scalars(select(GitHubIssue))}
        reviews = list(await session.scalars(select(GitHubReview).order_by(GitHubReview.id)))
        comments = list(await session.scalars(select(GitHubComment).order_by(GitHubComment.id)))
        events = list(await session.scalars(select(GitHubIssueEvent)))
    assert repository.full_name == REPO
    assert (issues[1].state, issues[1].labels, issues[1].assignee_ids) == (
        "closed",
        ["good first issue"],
        [newbie.id],
    )
    pull = issues[2]
    assert (pull.is_pull_request, pull.merged, pull.merged_by_id) == (True, True, maintainer.id)
    # The REST list also has the COMMENTED review wrapping the single review comment.
    assert [r.state for r in reviews] == ["CHANGES_REQUESTED", "COMMENTED", "APPROVED"]
    assert [(c.kind, c.number) for c in comments] == [("issue", 1), ("review", 2)]
    assert len(events) == 10
    # One page per listing: the minimum.
    assert (sim.counter.by_route[ISSUES], sim.counter.by_route[PULLS]) == (1, 1)
    assert sim.counter.by_route[EVENTS] == 1
    assert stats.total_items >= 2 + 1 + 10


async def test_the_backfill_sees_force_pushes_and_not_plain_ones(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    """A plain push is only in the pull request's timeline, which the backfill does not read:
    its webhook is the one way it reaches the history (docs/ingestion.md)."""
    sim.state.create_repo(REPO)
    sim.state.open_pull(REPO, "dave", "Fix")
    clock.advance(timedelta(minutes=1))
    sim.state.push_commits(REPO, 1, actor="dave")
    clock.advance(timedelta(minutes=1))
    sim.state.push_commits(REPO, 1, actor="dave", force=True)
    await sync()

    async with sessions() as session:
        pushes = (
            await session.execute(
                select(GitHubIssueEvent.occurred_at, GitHubIssueEvent.actor_id).where(
                    GitHubIssueEvent.kind == "pushed"
                )
            )
        ).all()
    assert [tuple(push) for push in pushes] == [(clock.now(), sim.state.user("dave").id)]


@pytest.mark.parametrize("event_first", [False, True])
async def test_who_merged_comes_from_the_merge_event_in_either_order(
    sim: GitHubSimulator,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    event_first: bool,
) -> None:
    """The pulls listing gives no merged_by; the "merged" event of the events listing names
    the merger, and a page of either listing may be written first."""
    scenario(sim, clock)
    state = sim.state
    repo, pull = state.repo(REPO), state.issue(REPO, 2)
    listed = parse_issue(state.render.pull(repo, pull, simple=True), repo.id)
    assert listed.merged_at is not None
    assert listed.merged_by is None
    (merged,) = [e for e in repo.events if e.issue_number == 2 and e.event == "merged"]
    event = parse_issue_event(state.render.issue_event(repo, merged, with_issue=True), repo.id)
    assert event is not None
    pages = [
        Changes(repositories=[parse_repository(state.render.repo(repo))], issues=[listed]),
        Changes(events=[event]),
    ]
    for changes in reversed(pages) if event_first else pages:
        async with sessions.begin() as session:
            await lock_history(session)
            await apply(session, changes)
    async with sessions() as session:
        stored = await session.scalar(select(GitHubIssue).where(GitHubIssue.number == 2))
    assert stored is not None
    assert stored.merged_by_id == state.user("maintainer").id


@pytest.fixture
async def runtime(
    database_url: str, write_config: Callable[..., Path], clock: ManualClock
) -> AsyncIterator[Runtime]:
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    followed = f'[github]\nrepositories = ["{REPO}"]\n'
    started = Runtime(load_config(write_config(followed), env), clock, "web")
    await started.start(apply_migrations=True)
    yield started
    await started.close()


def without(
    found: dict[str, list[tuple[Any, ...]]], table: str, column: str
) -> list[tuple[Any, ...]]:
    """The rows of ``table`` with ``column`` left out."""
    names = [c.name for c in Base.metadata.tables[table].columns]
    skip = names.index(column)
    return [tuple(v for n, v in enumerate(row) if n != skip) for row in found[table]]


async def test_sync_and_webhooks_write_the_same_rows(
    runtime: Runtime, clock: ManualClock, write_config: Callable[..., Path]
) -> None:
    sim = await simulator(clock)
    sim.emitter.target_url = f"{runtime.url}/github/webhook"
    config = load_config(write_config(github_toml(sim)), {"GITHUB_TOKEN": TOKEN})
    client = await GitHubClient.connect(config)
    assert client is not None
    job = RepositorySync(client, runtime.sessions, clock, config.settings.github, REPO)
    try:
        scenario(sim, clock)
        await post_in_order(sim, clock, list(sim.emitter.pending))
        await settled(runtime.sessions)
        from_webhooks = await history(runtime.sessions)
        await job.run()  # over the webhooks' rows
        over_webhooks = await history(runtime.sessions)
        await forget(runtime.sessions)
        await job.run()  # into an empty history
        from_sync = await history(runtime.sessions)
    finally:
        client.close()
        await sim.close()

    # The simulator announces the review wrapping a single review comment only as the comment
    # (GitHub also sends a pull_request_review for it): that review is the one row more.
    pulls = [i.pull for i in sim.state.repo(REPO).issues.values() if i.pull is not None]
    wrappers = {c.review_id for pull in pulls for c in pull.review_comments}
    for found in (over_webhooks, from_sync):
        found["github_reviews"] = [r for r in found["github_reviews"] if r[0] not in wrappers]
    for table in ("github_issues", "github_reviews", "github_comments", "github_issue_events"):
        assert over_webhooks[table] == from_webhooks[table], table
    for table in ("github_issues", "github_reviews", "github_issue_events"):
        assert from_sync[table] == from_webhooks[table], table
    # A comment keeps its author's association at the time of the first report: the webhook
    # says NONE (newbie had no merged pull request yet), the REST API says what it is now.
    assert without(from_sync, "github_comments", "author_association") == without(
        from_webhooks, "github_comments", "author_association"
    )
    # Only webhooks announce the App installation.
    assert without(from_sync, "github_repositories", "installation_id") == without(
        from_webhooks, "github_repositories", "installation_id"
    )


# --- incremental sync and checkpoints -----------------------------------------------------


async def test_an_incremental_sync_fetches_only_what_changed(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    await seed_issues(sim, clock, 250)
    await sync()
    assert sim.counter.by_route[ISSUES] == 3  # 250 issues, 100 a page
    before = await history(sessions)

    clock.advance(timedelta(minutes=5))
    sim.state.add_labels(REPO, 42, ["help wanted"], actor="maintainer")
    sim.counter.reset()
    stats = await sync()

    assert sim.counter.by_route[ISSUES] == 1
    assert sim.counter.by_route[PULLS] == 1
    assert sim.counter.by_route[EVENTS] == 1
    # The changed issue, and the newest of the last run again (GitHub's since is inclusive).
    assert stats.items["issues"] == 2
    after = await history(sessions)
    changed = [i for i in after["github_issues"] if i not in before["github_issues"]]
    assert len(changed) == 1
    assert "help wanted" in repr(changed[0])
    assert len(after["github_issue_events"]) == len(before["github_issue_events"]) + 1

    # An explicit --since re-reads from then, and leaves the checkpoint where it was.
    sim.counter.reset()
    await sync(since=clock.now() - timedelta(days=30))
    assert sim.counter.by_route[ISSUES] == 3
    assert await history(sessions) == after


async def test_a_crashed_sync_resumes_without_refetching_finished_pages(
    sim: GitHubSimulator,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    sync: Any,
    client: GitHubClient,
) -> None:
    await seed_issues(sim, clock, 250)
    await sync()
    uninterrupted = await history(sessions)
    await forget(sessions)

    # GitHub breaks down for good on the second page of the events (newest first) listing.
    real_page = client.page
    crash_on(client, sim, "issues/events", page=2)
    sim.counter.reset()
    with pytest.raises(GitHubUnavailable):
        await sync()
    assert sim.counter.by_route[EVENTS] > 1  # PyGithub retried the 502s before giving up
    async with sessions() as session:
        checkpoint = await session.get(GitHubSyncCheckpoint, (REPO, "events"))
    assert checkpoint is not None
    assert checkpoint.next_url is not None
    # Where GitHub's Link header pointed: the repository by id, which survives a rename.
    repository_id = sim.state.repo(REPO).id
    assert f"/repositories/{repository_id}/issues/events?" in checkpoint.next_url
    assert "page=2" in checkpoint.next_url

    # GitHub is back: the next run goes on from page 2 of the events and re-reads nothing else.
    sim.faults.clear()
    client.page = real_page  # type: ignore[method-assign]
    sim.counter.reset()
    await sync()
    assert sim.counter.by_route[EVENTS] == 1  # page 2 of 2 (125 labelled issues)
    assert sim.counter.by_route[ISSUES] == 1  # since the checkpoint: the last issue only
    assert await history(sessions) == uninterrupted


async def test_a_crash_inside_the_issue_listing_resumes_from_its_checkpoint(
    sim: GitHubSimulator,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    sync: Any,
    client: GitHubClient,
) -> None:
    await seed_issues(sim, clock, 250)
    real_page = client.page
    crash_on(client, sim, "issues", page=3)
    with pytest.raises(GitHubUnavailable):
        await sync()
    sim.faults.clear()
    client.page = real_page  # type: ignore[method-assign]

    sim.counter.reset()
    stats = await sync()
    # Pages 1 and 2 are not read again: the resumed listing starts at the 200th issue.
    assert sim.counter.by_route[ISSUES] == 1
    assert stats.items["issues"] == 51
    resumed = await history(sessions)
    await forget(sessions)
    await sync()
    assert await history(sessions) == resumed


# --- rate limits --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
async def test_a_long_primary_rate_limit_is_waited_out_on_the_clock(
    status: int,
    sim: GitHubSimulator,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    sync: Any,
    client: GitHubClient,
) -> None:
    await seed_issues(sim, clock, 250)
    await sync()
    uninterrupted = await history(sessions)
    await forget(sessions)

    # The limit runs out half way for 30 minutes: too long to sleep in PyGithub's thread
    # (403), or not retried by PyGithub at all (429).
    real = client.page
    reset_at = clock.now() + timedelta(minutes=30)
    exhausted: list[bool] = []

    async def limited(url: str, params: Any = None) -> Page:
        if "page=2" in url and not exhausted:
            exhausted.append(True)
            sim.exhaust_rate_limit(reset_at - clock.now(), status=status)
        return await real(url, params)

    client.page = limited  # type: ignore[method-assign]
    task = asyncio.create_task(sync())
    while not task.done():
        await asyncio.sleep(0.01)
        deadline = clock.next_deadline()
        if deadline is not None:
            clock.set(deadline)
    await task  # it did not fail
    assert clock.now() >= reset_at
    assert await history(sessions) == uninterrupted


async def test_a_primary_rate_limit_on_real_time_is_absorbed_by_pygithub(
    write_config: Callable[..., Path], sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = SystemClock()
    sim = await simulator(clock)
    try:
        sim.state.create_repo(REPO)
        sim.state.open_issue(REPO, "alice", "Crash on start", labels=["bug"])
        config = load_config(write_config(github_toml(sim)), {"GITHUB_TOKEN": TOKEN})
        client = await GitHubClient.connect(config)
        assert client is not None
        sim.exhaust_rate_limit(timedelta(seconds=1))  # 403, as GitHub answers most often
        started = time.monotonic()
        await RepositorySync(client, sessions, clock, config.settings.github, REPO).run()
        client.close()
    finally:
        await sim.close()
    assert time.monotonic() - started >= 1.0  # slept (in a worker thread) until the reset
    async with sessions() as session:
        assert len(list(await session.scalars(select(GitHubIssue)))) == 1


async def test_a_secondary_rate_limit_honours_retry_after(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    await seed_issues(sim, clock, 3)
    sim.inject_secondary_rate_limit(retry_after=1, path="/issues/events")
    started = time.monotonic()
    await sync()
    assert time.monotonic() - started >= 1.0
    assert sim.counter.by_route[EVENTS] == 2  # refused once, then answered
    async with sessions() as session:
        assert len(list(await session.scalars(select(GitHubIssueEvent)))) == 2


# --- which repositories, and one sync at a time -------------------------------------------


async def test_an_organisation_is_filtered_by_include_and_exclude(
    sim: GitHubSimulator, write_config: Callable[..., Path], client: GitHubClient
) -> None:
    sim.state.add_org("helios-engine")
    for name in ("helios", "helios-docs", "helios-legacy", "website"):
        sim.state.create_repo(f"helios-engine/{name}")
    extra = 'organization = "helios-engine"\ninclude = ["helios*"]\nexclude = ["*-legacy"]\n'
    settings = load_config(write_config(github_toml(sim, extra)), {}).settings.github

    assert await repositories(client, settings) == [
        REPO,
        "helios-engine/helios",
        "helios-engine/helios-docs",
    ]
    assert settings.follows("Helios-Engine/Helios-Docs")
    assert not settings.follows("helios-engine/helios-legacy")
    assert not settings.follows("helios-engine/website")
    assert not settings.follows("someone/else")


async def test_a_sync_records_whether_the_repository_is_private(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    async def private() -> bool:
        async with sessions() as session:
            (repository,) = await session.scalars(select(GitHubRepository))
        return repository.private

    sim.state.create_repo(REPO, private=True)
    await sync()
    assert await private()
    clock.advance(timedelta(minutes=1))
    sim.state.set_private(REPO, False)
    await sync()
    assert not await private()


async def test_two_syncs_of_one_repository_do_not_both_run(
    sim: GitHubSimulator, clock: ManualClock, sessions: async_sessionmaker[AsyncSession], sync: Any
) -> None:
    await seed_issues(sim, clock, 150)
    outcomes = await asyncio.gather(sync(), sync(), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["SyncBusy", "SyncStats"]
    assert sim.counter.by_route[ISSUES] == 2  # only one of them listed the issues
    # The lease is given back at the end: the next run goes ahead.
    assert isinstance(await sync(), SyncStats)


async def test_the_runtime_repairs_missed_webhooks_every_interval(
    sim: GitHubSimulator,
    clock: ManualClock,
    database_url: str,
    write_config: Callable[..., Path],
    client: GitHubClient,
) -> None:
    await seed_issues(sim, clock, 3)  # their webhooks never arrived
    path = write_config(github_toml(sim, "sync_interval_minutes = 30\n"))
    config = load_config(path, {"DATABASE_URL": database_url, "GITHUB_TOKEN": TOKEN})
    runtime = Runtime(config, clock, "web")
    await runtime.start(apply_migrations=True)
    try:
        await asyncio.sleep(0.05)
        assert sim.counter.total == 0  # the first repair comes one interval after start
        clock.advance(timedelta(minutes=30))
        for _ in range(500):  # until its last listing is done (10 s at most)
            async with runtime.sessions() as session:
                done = await session.get(GitHubSyncCheckpoint, (REPO, "events"))
            if done is not None:
                break
            await asyncio.sleep(0.02)
        async with runtime.sessions() as session:
            assert len(list(await session.scalars(select(GitHubIssue)))) == 3

        # Another process's scheduler finds the repository freshly synced and leaves it.
        sim.counter.reset()
        other = SyncScheduler(client, runtime.sessions, clock, config.settings.github)
        await other.run_once()
        assert sim.counter.by_route[ISSUES] == 0
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('organization = "not/an-org"', "github.organization"),
        ('maintainer_teams = ["no-team-slug"]', "github.maintainer_teams.0"),
        ("sync_interval_minutes = -1", "github.sync_interval_minutes"),
        ("metrics_window_days = 0", "github.metrics_window_days"),
        ("sync_every = 5", "github.sync_every: unknown key"),
    ],
)
def test_bad_sync_settings_are_named(
    line: str, key: str, write_config: Callable[..., Path]
) -> None:
    path = write_config(f"[github]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert any(problem.startswith(f"{path}: {key}") for problem in caught.value.problems)


# --- the command line ---------------------------------------------------------------------


async def test_the_sync_command_prints_progress_and_exits_0(
    sim: GitHubSimulator, clock: ManualClock, dummy_env: dict[str, str], tmp_path: Path
) -> None:
    await seed_issues(sim, clock, 120)
    path = tmp_path / "sync.toml"
    path.write_text(f"[discord]\nguild_id = 1\n{github_toml(sim)}", encoding="utf-8")
    env = {**dummy_env, "GITHUB_TOKEN": TOKEN}
    code, _, err = await cli("sync", "--config", str(path), env=env)
    assert code == 0, err
    assert f"sync {REPO}: " in err
    assert "requests, rate " in err
    assert sim.counter.by_route[ISSUES] == 2

    code, _, err = await cli("sync", "--config", str(path), "--repo", REPO, env=env)
    assert code == 0, err
    assert sim.counter.by_route[ISSUES] == 3  # incremental: one page


async def test_pygithub_log_lines_are_ours_once(
    sim: GitHubSimulator, dummy_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "sync.toml"
    settings = '[logging]\nformat = "json"\n'
    path.write_text(f"[discord]\nguild_id = 1\n{settings}{github_toml(sim)}", encoding="utf-8")
    sim.state.create_repo(REPO)
    sim.inject_secondary_rate_limit(retry_after=0, path="/issues/events")  # PyGithub logs it
    code, _, err = await cli(
        "sync", "--config", str(path), env={**dummy_env, "GITHUB_TOKEN": TOKEN}
    )
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if "failed with 403" in line]
    assert json.loads(line)["logger"] == "github.GithubRetry"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--repo", "someone/else"], "--repo someone/else: not followed by"),
        (["--repo", "not-a-repo"], "--repo not-a-repo: expected OWNER/NAME"),
        (["--since", "last tuesday"], "--since last tuesday: expected a date"),
    ],
)
async def test_the_sync_command_rejects_bad_input(
    arguments: list[str],
    message: str,
    dummy_env: dict[str, str],
    write_config: Callable[..., Path],
) -> None:
    path = write_config(f'[github]\nrepositories = ["{REPO}"]\n')
    code, out, err = await cli("sync", "--config", str(path), *arguments, env=dummy_env)
    assert code == 2
    assert out == ""
    assert message in err
