# SPDX-License-Identifier: Apache-2.0
"""Backfill: `helios-bot sync`'s work on one simulated repository of N issues and pulls.

The GitHub simulator runs in a child process with the repository built directly in its state
(labels and assignments, so the issue events listing has pages; reviews on some pull requests,
half of the history inside the metrics window). This process runs the real RepositorySync,
real PyGithub and a fresh SQLite file, and prints:

- requests per listing against the minimum, ceil(items / 100) per listing (goal: <= 1.1x);
- the per-pull-request requests (reviews, comments) for the metrics window, apart;
- wall time and this process's peak RSS (the simulator's memory is not counted).

The simulator renders every matching item for each page it serves, which is quadratic at this
size, so the child memoises its renderer (nothing changes while the sync runs). Prints
figures; asserts nothing.

With ``--check-api`` the simulator checks every call against GitHub's API description
(bot/sandbox/openapi.py) and the report is printed at the end; the checks take CPU in the
simulator's process, so the timing figures are for runs without it.

    python benchmarks/backfill.py [--issues 10000] [--check-api]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.clock import ManualClock, SystemClock
from bot.config import load_config
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.github.client import GitHubClient
from bot.github.sync import RepositorySync
from bot.sandbox.github import GitHubSimulator
from bot.sandbox.github.state import GitHubState, Issue, IssueEvent, PullInfo, Review
from bot.sandbox.openapi import preload as preload_api_descriptions
from bot.sandbox.openapi import report as api_report

REPO = "helios-engine/helios"
TOKEN = "ghp_benchmark_token"  # noqa: S105 (a throwaway, loopback only)
WEBHOOK_SECRET = "unused-webhook-secret"  # noqa: S105 (no webhook is sent)
WINDOW_DAYS = 180
GOAL_RATIO = 1.1


def build(state: GitHubState, count: int, end: datetime) -> dict[str, int]:
    """``count`` issues and pulls, evenly spread so that half fall inside the window."""
    state.add_org("helios-engine", members=["maintainer"])
    repo = state.create_repo(REPO)
    maintainer = state.user("maintainer")
    contributors = [state.user(f"contributor{n}") for n in range(50)]
    step = timedelta(days=2 * WINDOW_DAYS) / count
    figures = {"issues": 0, "pulls": 0, "events": 0, "reviews": 0}

    def event(issue: Issue, kind: str, at: datetime, **details: Any) -> None:
        repo.events.append(
            IssueEvent(state.next_id(), issue.number, maintainer, kind, at, **details)
        )
        figures["events"] += 1

    for n in range(count):
        at = end - step * (count - n)
        author = contributors[n % len(contributors)]
        issue = Issue(state.next_id(), n + 1, f"Item {n}", None, author, at, at)
        repo.issues[issue.number] = issue
        if n % 3 == 0:
            issue.labels.append(repo.labels["good first issue"])
            event(issue, "labeled", at, label=repo.labels["good first issue"])
        if n % 5 == 0:
            issue.assignees.append(author)
            event(issue, "assigned", at, assignee=author)
        if n % 10 < 3:
            issue.pull = PullInfo(f"patch-{n}", f"{n:040x}", "main")
            figures["pulls"] += 1
            if n % 2 == 0:
                event(issue, "review_requested", at, requested_reviewer=maintainer)
                review = Review(state.next_id(), maintainer, "APPROVED", "", f"{n:040x}", at)
                issue.pull.reviews.append(review)
                figures["reviews"] += 1
        else:
            figures["issues"] += 1
    repo.next_number = count + 1
    return figures


def memoise(state: GitHubState) -> None:
    """Cache the simulator's rendering: it renders every item for every page it serves."""
    render = state.render
    for name, key in (
        ("issue", lambda repo, item, **_: item.id),
        ("pull", lambda repo, item, **kw: (item.id, kw.get("simple"), kw.get("rest"))),
        ("issue_event", lambda repo, item, **kw: (item.id, kw.get("with_issue"))),
    ):
        setattr(render, name, _cached(getattr(render, name), key))


def _cached(function: Callable[..., Any], key: Callable[..., Any]) -> Callable[..., Any]:
    cache: dict[Any, Any] = {}

    @functools.wraps(function)
    def cached(*args: Any, **kwargs: Any) -> Any:
        found = key(*args, **kwargs)
        if found not in cache:
            cache[found] = function(*args, **kwargs)
        return cache[found]

    return cached


def serve(count: int, end: datetime, check_api: bool, pipe: Connection) -> None:
    """The child process: build the repository, serve it, report the request count (and the
    API check) at the end."""

    async def run() -> None:
        clock = ManualClock(end)
        state = GitHubState(clock)
        figures = build(state, count, end)
        memoise(state)
        async with GitHubSimulator(clock, webhook_secret=WEBHOOK_SECRET, state=state) as sim:
            sim.api.enabled = check_api
            sim.add_token(TOKEN, "helios-bot")
            pipe.send((sim.api_url, figures))
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            report = await asyncio.to_thread(api_report, sim.api) if check_api else ""
            pipe.send((dict(sim.counter.by_route), report))

    if check_api:
        preload_api_descriptions()  # before the event loop runs
    asyncio.run(run())


async def backfill(api_url: str, directory: Path) -> tuple[RepositorySync, float]:
    path = directory / "config.toml"
    path.write_text(
        f'[discord]\nguild_id = 1\n[github]\napi_url = "{api_url}"\nrepositories = ["{REPO}"]\n'
        f"seconds_between_requests = 0\nmetrics_window_days = {WINDOW_DAYS}\n",
        encoding="utf-8",
    )
    config = load_config(path, {"GITHUB_TOKEN": TOKEN})
    client = await GitHubClient.connect(config)
    assert client is not None
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'helios.db'}")
    await migrate(engine)
    job = RepositorySync(
        client,
        create_session_factory(engine),
        SystemClock(),
        config.settings.github,
        REPO,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    started = time.perf_counter()
    try:
        await job.run()
    finally:
        client.close()
        await engine.dispose()
    return job, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000, help="issues and pulls in all")
    parser.add_argument(
        "--check-api",
        action="store_true",
        help="check every call against GitHub's API description and print the report",
    )
    args = parser.parse_args()

    end = datetime.now(UTC).replace(microsecond=0)
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(
        target=serve, args=(args.issues, end, args.check_api, theirs), daemon=True
    )
    child.start()
    api_url, figures = ours.recv()
    with tempfile.TemporaryDirectory() as directory:
        job, seconds = asyncio.run(backfill(api_url, Path(directory)))
    ours.send("done")
    served, report = ours.recv()
    child.join()

    stats = job.stats
    items = {
        "issues": figures["issues"] + figures["pulls"],
        "pulls": figures["pulls"],
        "events": figures["events"],
    }
    print(
        f"repository: {args.issues} issues and pulls ({figures['pulls']} pulls), "
        f"{figures['events']} issue events, {figures['reviews']} reviews"
    )
    print(f"{'listing':<10}{'items':>8}{'requests':>10}{'minimum':>9}{'ratio':>7}")
    used = minimum = 0
    for listing, count in items.items():
        least = max(math.ceil(count / 100), 1)
        made = stats.requests.get(listing, 0)
        used, minimum = used + made, minimum + least
        print(
            f"{listing:<10}{stats.items.get(listing, 0):>8}{made:>10}{least:>9}{made / least:>7.2f}"
        )
    print(
        f"{'listings':<10}{'':>8}{used:>10}{minimum:>9}{used / minimum:>7.2f}"
        f"   (goal <= {GOAL_RATIO}x)"
    )
    print(
        f"metrics window ({WINDOW_DAYS} days): {stats.requests.get('reviews', 0)} review and "
        f"{stats.requests.get('comments', 0)} comment requests, "
        f"{stats.items.get('reviews', 0)} reviews"
    )
    print(f"requests the simulator served: {sum(served.values())}")
    print(f"wall time: {seconds:.1f} s ({stats.total_items / seconds:.0f} items/s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (this process): {peak:.0f} MB")
    if report:
        print(f"\nAPI calls checked against GitHub's description:\n{report}", end="")


if __name__ == "__main__":
    main()
