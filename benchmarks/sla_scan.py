# SPDX-License-Identifier: Apache-2.0
"""The service-level scan (bot/services/sla/scan.py) over a large synthetic history.

20 followed repositories with ``--open`` open issues and pull requests (5,000 by default)
among 4 times as many closed ones, and ``--events`` events (200,000) spread over all of them,
plus comments and reviews (a quarter and a twentieth as many), written straight into a fresh
SQLite file migrated with bot.db.migrate, and into a scratch database of the PostgreSQL at
``--postgres-url`` (skipped if unreachable). Open items are a mix: triaged or not, pull
requests reviewed, waiting on their author or on review, drafts, bots' and maintainers' own.

Printed figures, median and best of ``--runs`` runs:

- ``open_waits``, wall-clock mode and business-days mode (Europe/Berlin, two holidays), run
  as the bot runs it (bot/db/reader.py): on SQLite in a worker thread on a read-only
  connection, on PostgreSQL through ``run_sync``. Goal on SQLite: <= 100 ms.
- ``met_share`` over the last 30 days, for scale (the daily digest's figure).
- the report of `/sla status` and the daily digest in business-days mode (open_waits, the
  share on the wall clock and in business hours, and the embed).
- the CPU time the reading thread spent (median): on a busy machine the wall time is
  mostly waiting for a core.
- how many open waits and decided waits they found, so runs can be compared.

Prints figures; asserts nothing.

    python benchmarks/sla_scan.py [--open 5000] [--events 200000] [--runs 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
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
)
from bot.db.reader import Reader
from bot.services.sla.report import embed, status
from bot.services.sla.scan import met_share, open_waits

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
            "github": {"repositories": REPOSITORIES},
            "sla": {
                "triage_channel_id": 2,
                "automatic_labels": ["needs triage"],
                "business_days": business_days,
                "time_zone": "Europe/Berlin",
                "holidays": ["2026-05-01", "2026-05-25"],
            },
        }
    )


def history(args: argparse.Namespace) -> dict[type[Base], list[dict[str, Any]]]:
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


async def measure(name: str, url: str, args: argparse.Namespace, rows: Any) -> None:
    engine = create_engine(url)
    started = time.perf_counter()
    await fill(engine, rows)
    print(f"{name}: history written in {time.perf_counter() - started:.1f} s", flush=True)
    reader = Reader(engine, create_session_factory(engine))
    wall, business = settings(business_days=False), settings(business_days=True)
    reads: list[tuple[str, Callable[[Session], Any]]] = [
        ("open_waits, wall clock", lambda session: open_waits(session, wall, NOW)),
        ("open_waits, business days", lambda session: open_waits(session, business, NOW)),
        (
            "met_share, 30 days",
            lambda session: met_share(session, wall, NOW - timedelta(days=30), NOW),
        ),
        # `/sla status` and the digest: open_waits, met_share twice (wall clock and business
        # hours) and the embed.
        (
            "status, business days",
            lambda session: embed(status(session, business, NOW), "Service levels"),
        ),
    ]
    try:
        for label, read in reads:
            times: list[float] = []
            cpu: list[float] = []
            found = None

            def counted(
                session: Session, read: Callable[[Session], Any] = read, cpu: list[float] = cpu
            ) -> Any:
                started = time.thread_time()
                try:
                    return read(session)
                finally:
                    cpu.append((time.thread_time() - started) * 1000)

            for _ in range(args.runs):
                started = time.perf_counter()
                found = await reader(counted)
                times.append((time.perf_counter() - started) * 1000)
            if label.startswith("status"):
                size = len(found["fields"]) if found is not None else 0
                unit = "repositories shown"
            elif label.startswith("open"):
                size, unit = len(found or []), "waits"
            else:
                size, unit = sum(share.total for share in found or []), "waits"
            goal = f" (goal <= {GOAL_MS:.0f} ms)" if name == "SQLite" and "open" in label else ""
            print(
                f"  {label:<28} median {statistics.median(times):7.1f} ms, "
                f"best {min(times):7.1f} ms{goal}, CPU {statistics.median(cpu):7.1f} ms; "
                f"{size} {unit}",
                flush=True,
            )
    finally:
        reader.close()
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    rows = history(args)
    counts = ", ".join(f"{len(r)} {model.__tablename__}" for model, r in rows.items())
    print(f"history: {counts}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "helios.db"
        await measure("SQLite", f"sqlite+aiosqlite:///{path}", args, rows)
    scratch = f"helios_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(args.postgres_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL unreachable ({exc}): skipped")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{scratch}"')
        url = make_url(args.postgres_url).set(database=scratch)
        await measure("PostgreSQL", url.render_as_string(hide_password=False), args, rows)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=5000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("HELIOS_TEST_POSTGRES_URL", POSTGRES_URL)
    )
    asyncio.run(main(parser.parse_args()))
