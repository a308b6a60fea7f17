# SPDX-License-Identifier: Apache-2.0
"""`/mentor stats` on a large community: how long bot.services.mentorship.stats.outcomes
takes, read as the command reads it (bot.db.reader.Reader: a worker thread on a read-only
SQLite connection; on PostgreSQL, the reader's own thread and event loop).

A synthetic year, written straight into the tables (the rows the services and ingestion
would have written), on a fresh SQLite file and on a scratch PostgreSQL database (skipped
if unreachable):

- ``--newcomers`` (5000) finishing `/start` over the year: 85 % linked to a verified GitHub
  account, 5 % to one typed and unverified, 10 % not linked. Half ask for a mentor: matched
  0 to 100 h after asking, for 30 days (the last month's pairings still active, a few still
  in line); one mentee in twenty is handed over mid-pairing to a second mentor.
- 60 mentors of 1 to 3 places; the five check-ins of each pairing, four in five answered;
  feedback from both sides of three pairings in four.
- 40 repositories, 30 followed; every verified or typed account opens 0 to 6 pull requests
  (one in ten of them before `/start`), half merged; ``--others`` (100 000) issues and pull
  requests by 20 000 other accounts.

Prints the time of one outcomes() call (all mentors' lines; ``--runs`` after one warm-up:
the median and the slowest wall time, and the median CPU time of the process, which a busy
machine does not stretch) and the number of SQL statements it ran. Prints figures; asserts
nothing.

    python benchmarks/mentor_stats.py [--newcomers 5000] [--others 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import GitHubSettings
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.db.models import (
    CheckIn,
    Feedback,
    GitHubIssue,
    GitHubRepository,
    Mentor,
    Newcomer,
    Pairing,
)
from bot.db.reader import Reader
from bot.services.mentorship.stats import outcomes

POSTGRES_URL = "postgresql://helios:helios@127.0.0.1:5432/postgres"
GUILD = 1
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = YEAR_START + timedelta(days=365)
MENTORS, REPOSITORIES, FOLLOWED, OTHER_ACCOUNTS = 60, 40, 30, 20_000
CHECK_IN_DAYS = (2, 7, 14, 21, 28)
CHUNK = 5000
GITHUB = GitHubSettings.model_validate(
    {"repositories": [f"helios/repo-{n}" for n in range(FOLLOWED)]}
)


def rows(args: argparse.Namespace) -> dict[type[Any], list[dict[str, Any]]]:
    rng = random.Random(1)
    tables: dict[type[Any], list[dict[str, Any]]] = {
        model: [] for model in (GitHubRepository, Mentor, Newcomer, Pairing, CheckIn, Feedback)
    }
    tables[GitHubIssue] = []
    for n in range(REPOSITORIES):
        tables[GitHubRepository].append(
            {"id": n + 1, "full_name": f"helios/repo-{n}", "updated_at": YEAR_START}
        )
    mentors = [10_000 + n for n in range(MENTORS)]
    for user_id in mentors:
        tables[Mentor].append(
            {
                "guild_id": GUILD, "user_id": user_id, "status": "active", "areas": ["docs"],
                "capacity": rng.randint(1, 3), "utc_offset": 0, "languages": [], "load": 0,
                "joined_at": YEAR_START,
            }
        )  # fmt: skip
    numbers: dict[int, int] = {}

    def issue(author: int, opened: datetime, *, pull: bool, merged: bool) -> None:
        repository = rng.randint(1, REPOSITORIES)
        numbers[repository] = number = numbers.get(repository, 0) + 1
        closed = opened + timedelta(days=rng.uniform(0.1, 20)) if merged else None
        tables[GitHubIssue].append(
            {
                "repository_id": repository, "number": number, "is_pull_request": pull,
                "title": "A change", "state": "closed" if merged else "open", "draft": False,
                "merged": merged, "merged_at": closed, "labels": [], "assignee_ids": [],
                "requested_reviewer_ids": [], "author_id": author,
                "author_association": "NONE", "created_at": opened,
                "updated_at": closed or opened, "closed_at": closed,
                "html_url": f"https://github.com/helios/repo-{repository}/pull/{number}",
            }
        )  # fmt: skip

    pairing_id = 0
    for user_id in range(1, args.newcomers + 1):
        finished = YEAR_START + timedelta(days=rng.uniform(0, 360))
        kind = rng.random()
        account = 1_000_000 + user_id if kind < 0.9 else None
        tables[Newcomer].append(
            {
                "guild_id": GUILD, "user_id": user_id, "started_at": finished, "areas": [],
                "github_user_id": account, "github_login": f"newcomer-{user_id}",
                "github_verified": kind < 0.85, "finished_at": finished,
            }
        )  # fmt: skip
        if account is not None:
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 6))):
                before = rng.random() < 0.1
                opened = finished + timedelta(
                    days=rng.uniform(-60, -1) if before else rng.uniform(0, 120)
                )
                issue(account, min(opened, NOW), pull=True, merged=rng.random() < 0.5)
        if rng.random() < 0.5:
            continue
        handed_over = rng.random() < 0.05
        requested = finished
        matched = requested + timedelta(hours=rng.uniform(0, 100))
        for step in range(2 if handed_over else 1):
            pairing_id += 1
            mentor = rng.choice(mentors)
            ends = matched + timedelta(days=30)
            ended = matched + timedelta(days=10) if handed_over and step == 0 else ends
            open_ = matched > NOW or ended > NOW
            status = ("queued" if matched > NOW else "active") if open_ else "ended"
            tables[Pairing].append(
                {
                    "id": pairing_id, "guild_id": GUILD, "mentee_id": user_id,
                    "mentor_id": None if status == "queued" else mentor, "status": status,
                    "requested_at": requested,
                    "matched_at": None if status == "queued" else matched,
                    "ends_at": ends, "ended_at": None if open_ else ended,
                    "excluded_mentor_ids": [],
                }
            )  # fmt: skip
            for day in CHECK_IN_DAYS:
                asked = matched + timedelta(days=day)
                if status == "queued" or asked > min(ended, NOW):
                    break
                answer = rng.choice(("talked", "talked", "no_answer", "need_help", None))
                tables[CheckIn].append(
                    {
                        "pairing_id": pairing_id, "stage": f"mentor-{day}", "asked_at": asked,
                        "answer": answer, "answered_at": asked if answer else None,
                    }
                )  # fmt: skip
            if status == "ended" and rng.random() < 0.75:
                for side, who in (("mentee", user_id), ("mentor", mentor)):
                    tables[Feedback].append(
                        {
                            "pairing_id": pairing_id, "user_id": who, "side": side,
                            "score": rng.randint(1, 5), "given_at": ended,
                        }
                    )  # fmt: skip
            if status != "ended":
                break
            matched = ended + timedelta(hours=rng.uniform(0, 100))
    for _ in range(args.others):
        opened = YEAR_START + timedelta(days=rng.uniform(-300, 365))
        pull = rng.random() < 0.5
        issue(rng.randint(1, OTHER_ACCOUNTS), opened, pull=pull, merged=pull and rng.random() < 0.5)
    return tables


async def fill(engine: AsyncEngine, tables: dict[type[Any], list[dict[str, Any]]]) -> None:
    await migrate(engine)
    sessions = create_session_factory(engine)
    for model, values in tables.items():
        for start in range(0, len(values), CHUNK):
            async with sessions.begin() as session:
                await session.execute(insert(model), values[start : start + CHUNK])


async def measure(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        tables = rows(args)
        started = time.perf_counter()
        await fill(engine, tables)
        filled = time.perf_counter() - started
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        reader = Reader(engine, create_session_factory(engine))
        times, cpu = [], []
        try:
            await reader(lambda session: outcomes(session, GITHUB, GUILD, NOW))  # warm-up
            # Every engine's: on SQLite the reader has a read-only engine of its own.
            event.listen(Engine, "before_cursor_execute", count)
            for _ in range(args.runs):
                started, used = time.perf_counter(), time.process_time()
                found = await reader(lambda session: outcomes(session, GITHUB, GUILD, NOW))
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
            await reader.close()
        sizes = ", ".join(f"{len(v)} {m.__tablename__}" for m, v in tables.items())
        print(f"{name}: {sizes} (written in {filled:.0f} s)")
        print(
            f"  outcomes(): median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms "
            f"over {args.runs} runs (CPU time: median {statistics.median(cpu):.0f} ms); "
            f"{statements // args.runs} SQL statements each; {found.first_steps.mentees} "
            f"mentees, {len(found.mentors)} mentors' lines"
        )
    finally:
        await engine.dispose()


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        await measure("SQLite", f"sqlite+aiosqlite:///{Path(directory) / 'helios.db'}", args)
    name = f"helios_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_URL)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL: skipped ({error})")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
        await measure("PostgreSQL", url.render_as_string(hide_password=False), args)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--newcomers", type=int, default=5000)
    parser.add_argument("--others", type=int, default=100_000, help="other issues and PRs")
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
