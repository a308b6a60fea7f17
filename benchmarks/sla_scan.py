# SPDX-License-Identifier: Apache-2.0
"""The service-level scan (bot/services/sla/scan.py) over a large synthetic history.

20 followed repositories with ``--open`` open issues and pull requests (5,000 by default)
among 4 times as many closed ones, and ``--events`` events (200,000) spread over all of them,
plus comments and reviews (a quarter and a twentieth as many), written straight into a fresh
SQLite file migrated with bot.db.migrate, and into a scratch database of the PostgreSQL at
``--postgres-url`` (skipped if unreachable). Open items are a mix: triaged or not, pull
requests reviewed, waiting on their author or on review, drafts, bots' and maintainers' own.

Printed figures, median (and best) of ``--runs`` runs, each with the CPU time of the thread
that ran it and the longest the event loop went without running a 1 ms ticker:

- ``refresh`` of the kept waits (bot/services/sla/store.py) from an empty store, as the job
  runs it (``recompute`` through the Reader, then ``keep`` through ``run_sync`` in a write
  transaction);
- ``open_waits`` with the store fresh, wall-clock mode and business-days mode (Europe/Berlin,
  two holidays), run as the bot runs it (bot/db/reader.py): on SQLite in a worker thread on a
  read-only connection, on PostgreSQL on the reader's thread and event loop. Goal on SQLite:
  <= 100 ms;
- ``open_waits`` with ``--changed`` items' histories changed since the refresh (their
  revisions bumped, as deliveries do), then the ``refresh`` that recomputes them;
- ``met_share`` over the last 30 days, for scale (the daily digest's figure).
- the report of `/sla status` and the daily digest in business-days mode (open_waits, the
  share on the wall clock and in business hours, and the embed).

Prints figures; asserts nothing.

    python benchmarks/sla_scan.py [--open 5000] [--events 200000] [--runs 5] [--changed 50]
        [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import delete, insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.base import Base
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.db.models import (
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubRepository,
    GitHubReview,
    GitHubUser,
    SlaWait,
)
from bot.db.reader import Reader
from bot.services.sla.report import embed, status
from bot.services.sla.scan import met_share, open_waits
from bot.services.sla.store import keep, recompute

POSTGRES_URL = "postgresql://helios:helios@127.0.0.1:5432/postgres"
REPOSITORIES = [f"helios-engine/repo-{n:02}" for n in range(20)]
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
GOAL_MS = 100.0
MAINTAINERS = range(1, 21)  # user ids of members
CONTRIBUTORS = range(100, 2100)
BOTS = range(5000, 5003)
BATCH = 5000


def settings(*, business_days: bool) -> Settings:
    return Settings.model_validate(
        {
            "discord": {"guild_id": 1},
            "github": {"repositories": REPOSITORIES, "maintainers": ["user1", "user2"]},
            "sla": {
                "triage_channel_id": 2,
                "automatic_labels": ["needs triage"],
                "business_days": business_days,
                "time_zone": "Europe/Berlin",
                "holidays": ["2026-05-01", "2026-05-25"],
            },
        }
    )


# The rows of the synthetic history, by table.
Rows = dict[type[Base], list[dict[str, Any]]]


def history(args: argparse.Namespace) -> Rows:
    """Rows of every table: open and closed items, their events, comments and reviews."""
    rng = random.Random(args.seed)
    rows: dict[type[Base], list[dict[str, Any]]] = {
        GitHubRepository: [
            {"id": 1000 + n, "full_name": name, "archived": False, "private": False}
            for n, name in enumerate(REPOSITORIES)
        ],
        GitHubUser: [
            {"id": i, "login": f"user{i}", "type": "User", "is_bot": False, "seen_at": NOW}
            for i in [*MAINTAINERS, *CONTRIBUTORS]
        ]
        + [
            {"id": i, "login": f"helper{i}[bot]", "type": "Bot", "is_bot": True, "seen_at": NOW}
            for i in BOTS
        ],
        GitHubIssue: [],
        GitHubIssueEvent: [],
        GitHubComment: [],
        GitHubReview: [],
    }
    closed = 4 * args.open
    items = [(n < args.open, n) for n in range(args.open + closed)]
    events_per_item = args.events / len(items)
    ids = iter(range(1, 10**9))
    for is_open, n in items:
        repository = 1000 + n % len(REPOSITORIES)
        number = n // len(REPOSITORIES) + 1
        is_pull = rng.random() < 0.4
        author = rng.choice(
            [rng.choice(CONTRIBUTORS)] * 8 + [rng.choice(MAINTAINERS), rng.choice(BOTS)]
        )
        opened = NOW - timedelta(days=rng.uniform(0.1, 400 if not is_open else 120))
        association = "MEMBER" if author in MAINTAINERS else "CONTRIBUTOR"
        rows[GitHubIssue].append(
            {
                "repository_id": repository,
                "number": number,
                "is_pull_request": is_pull,
                "title": f"Item {n}",
                "state": "open" if is_open else "closed",
                "draft": is_pull and rng.random() < 0.1,
                "labels": [],
                "assignee_ids": [],
                "requested_reviewer_ids": [],
                "author_id": author,
                "author_association": association,
                "created_at": opened,
                "updated_at": opened,
                "html_url": f"https://github.com/x/{number}",
                "closes": [],
            }
        )

        def when(share: float, opened: datetime = opened) -> datetime:
            return opened + (NOW - opened) * share

        count = max(1, round(rng.expovariate(1 / events_per_item)))
        for k in range(count):
            kind = rng.choice(["labeled", "labeled", "assigned", "unassigned", "pushed"])
            if k == 0 and not is_open:
                kind = "closed"
            actor = rng.choice([author, rng.choice(MAINTAINERS), rng.choice(BOTS)])
            rows[GitHubIssueEvent].append(
                {
                    "repository_id": repository,
                    "number": number,
                    "kind": kind,
                    "subject": rng.choice(["bug", "needs triage", "docs"]),
                    "occurred_at": when(rng.random()) + timedelta(microseconds=k),
                    "actor_id": actor,
                }
            )
        for _ in range(round(rng.expovariate(4 / events_per_item))):
            writer = rng.choice([author, rng.choice(MAINTAINERS), rng.choice(CONTRIBUTORS)])
            rows[GitHubComment].append(
                {
                    "id": next(ids),
                    "repository_id": repository,
                    "number": number,
                    "kind": "issue",
                    "author_id": writer,
                    "author_association": "MEMBER" if writer in MAINTAINERS else "NONE",
                    "created_at": when(rng.random()),
                    "deleted": False,
                }
            )
        if is_pull and rng.random() < 0.5:
            rows[GitHubReview].append(
                {
                    "id": next(ids),
                    "repository_id": repository,
                    "number": number,
                    "reviewer_id": rng.choice(MAINTAINERS),
                    "state": rng.choice(["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]),
                    "submitted_at": when(rng.random()),
                    "author_association": "MEMBER",
                }
            )
    return rows


async def fill(engine: AsyncEngine, rows: dict[type[Base], list[dict[str, Any]]]) -> None:
    await migrate(engine)
    async with engine.begin() as connection:
        for model, table_rows in rows.items():
            for start in range(0, len(table_rows), BATCH):
                await connection.execute(insert(model), table_rows[start : start + BATCH])


class Stalls:
    """The longest the event loop went without running a 1 ms ticker: how long a read or a
    refresh held the loop (on SQLite the Reader's thread should leave it free)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stalls:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.longest = max(self.longest, (time.perf_counter() - started - 0.001) * 1000)


@dataclass
class Figures:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    stall: list[float] = field(default_factory=list)

    def line(self, label: str, extra: str = "") -> str:
        return (
            f"  {label:<34} median {statistics.median(self.wall):7.1f} ms "
            f"(best {min(self.wall):6.1f}), CPU {statistics.median(self.cpu):6.1f} ms, "
            f"loop held {statistics.median(self.stall):6.1f} ms{extra}"
        )


def timed(cpu: list[float], work: Callable[[Session], Any]) -> Callable[[Session], Any]:
    """``work``, noting the CPU time of the thread it runs in."""

    def run(session: Session) -> Any:
        started = time.thread_time()
        try:
            return work(session)
        finally:
            cpu.append((time.thread_time() - started) * 1000)

    return run


async def timed_read(reader: Reader, figures: Figures, work: Callable[[Session], Any]) -> Any:
    """``work`` read through ``reader``, noting its wall time, CPU and the loop held."""
    async with Stalls() as stalls:
        started = time.perf_counter()
        found = await reader(timed(figures.cpu, work))
        figures.wall.append((time.perf_counter() - started) * 1000)
    figures.stall.append(stalls.longest)
    return found


async def measure(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    reader: Reader,
    args: argparse.Namespace,
    rows: Any,
) -> None:
    wall, business = settings(business_days=False), settings(business_days=True)
    rng = random.Random(args.seed)
    open_keys = [
        (row["repository_id"], row["number"]) for row in rows[GitHubIssue] if row["state"] == "open"
    ]

    read = functools.partial(timed_read, reader)

    async def refreshed(figures: Figures) -> int:
        """A refresh as the job runs it: the rows recomputed by a read off the loop, then kept
        through run_sync in a write transaction (CPU: both steps' threads)."""
        async with Stalls() as stalls:
            started, steps = time.perf_counter(), list[float]()
            recomputed = await reader(timed(steps, lambda s: recompute(s, wall)))
            async with sessions.begin() as session:
                count: int = await session.run_sync(timed(steps, lambda s: keep(s, recomputed)))
            figures.wall.append((time.perf_counter() - started) * 1000)
            figures.cpu.append(sum(steps))
        figures.stall.append(stalls.longest)
        return count

    async def touch(count: int) -> None:
        """``count`` open items' histories change, as deliveries would mark them."""
        chosen = rng.sample(open_keys, count)
        async with sessions.begin() as session:
            for repository_id, number in chosen:
                await session.execute(
                    update(GitHubIssue)
                    .where(GitHubIssue.repository_id == repository_id, GitHubIssue.number == number)
                    .values(revision=GitHubIssue.revision + 1)
                )

    cold = Figures()
    found = None
    for run in range(args.runs):
        if run:
            async with sessions.begin() as session:
                await session.execute(delete(SlaWait))
        found = await refreshed(cold)
    print(cold.line("refresh, cold (empty store)", f"; {found} rows"), flush=True)

    reads: list[tuple[str, Callable[[Session], Any]]] = [
        ("open_waits, wall clock", lambda session: open_waits(session, wall, NOW)),
        ("open_waits, business days", lambda session: open_waits(session, business, NOW)),
    ]
    for label, work in reads:
        figures = Figures()
        for _ in range(args.runs):
            found = await read(figures, work)
        goal = f" (goal <= {GOAL_MS:.0f} ms)" if name == "SQLite" else ""
        print(figures.line(label + ", store fresh", f"; {len(found)} waits{goal}"), flush=True)

    stale, refresh_figures = Figures(), Figures()
    for _ in range(args.runs):
        await touch(args.changed)
        found = await read(stale, reads[0][1])
        assert await refreshed(refresh_figures) == args.changed
    print(stale.line(f"open_waits, {args.changed} items stale"), flush=True)
    print(refresh_figures.line(f"refresh after {args.changed} changed"), flush=True)

    share = Figures()
    for _ in range(args.runs):
        found = await read(
            share, lambda session: met_share(session, wall, NOW - timedelta(days=30), NOW)
        )
    decided = sum(s.total for s in found)
    print(share.line("met_share, 30 days", f"; {decided} decided waits"), flush=True)

    report = Figures()
    for _ in range(args.runs):
        found = await read(
            report, lambda session: embed(status(session, business, NOW), "Service levels")
        )
    shown = len(found["fields"])
    print(report.line("status, business days", f"; {shown} repositories shown"), flush=True)


# A benchmark on one database: its name, sessions and Reader, the options, the history.
Measure = Callable[
    [str, async_sessionmaker[AsyncSession], Reader, argparse.Namespace, Rows], Awaitable[None]
]


def arguments(description: str) -> argparse.ArgumentParser:
    """The options of the benchmarks on this history (this one and benchmarks/sla_pings.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--open", type=int, default=5000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("HELIOS_TEST_POSTGRES_URL", POSTGRES_URL)
    )
    return parser


async def on_each_database(measure: Measure, args: argparse.Namespace, rows: Rows) -> None:
    """``measure`` on a new SQLite file, then on a scratch database of the PostgreSQL at
    ``--postgres-url`` (skipped if unreachable), dropped afterwards."""
    # The synthetic history, 280,000 rows kept for the whole run, is this script's and
    # not the bot's: left to the collector, every full collection a read sets off walks it,
    # holding the GIL (and so every event loop) for 100-200 ms that the bot would not spend.
    gc.collect()
    gc.freeze()
    counts = ", ".join(f"{len(r)} {model.__tablename__}" for model, r in rows.items())
    print(f"history: {counts}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'helios.db'}"
        await _measure_on("SQLite", url, measure, args, rows)
    scratch = f"helios_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(args.postgres_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL unreachable ({exc}): skipped")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{scratch}"')
        url = make_url(args.postgres_url).set(database=scratch)
        await _measure_on(
            "PostgreSQL", url.render_as_string(hide_password=False), measure, args, rows
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


async def _measure_on(
    name: str, url: str, measure: Measure, args: argparse.Namespace, rows: Rows
) -> None:
    """``measure`` on the database at ``url``, once the history is written to it."""
    engine = create_engine(url)
    started = time.perf_counter()
    await fill(engine, rows)
    print(f"{name}: history written in {time.perf_counter() - started:.1f} s", flush=True)
    sessions = create_session_factory(engine)
    reader = Reader(engine, sessions)
    try:
        await measure(name, sessions, reader, args, rows)
    finally:
        await reader.close()
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    await on_each_database(measure, args, history(args))


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--changed", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
