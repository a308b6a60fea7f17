# SPDX-License-Identifier: Apache-2.0
"""The recognition reads (bot/services/recognition/) over a large synthetic history.

The history of benchmarks/sla_scan.py (20 followed repositories, 25,000 issues and pull
requests, 200,000 events, comments and reviews), with what recognition reads added: closed
pull requests mostly merged (some labelled docs or tests), reviews by contributors too, and
each item's ``updated_at`` its newest fact; ``--members`` members (2,000) linked, verified,
to the contributors' GitHub accounts, ``--kudos`` kudos (5,000) over the year among them,
standing consent for about half, a year of spotlights and champions, and 40 mentors with a
year of pairings and their check-ins. Written into a fresh SQLite file and into a scratch
database of the PostgreSQL at ``--postgres-url`` (skipped if unreachable).

Printed figures, median (and best) of ``--runs`` runs, each with the CPU time and the longest
the event loop went without running a 1 ms ticker ("loop held"):

- ``spotlight.candidates`` of the week before Monday 1 June 2026, 15:00, and
  ``champions.candidates`` of May 2026, each read as the bot reads it (bot/db/reader.py);
- the recognition job (``run_spotlight``) at 15:01 that day, when both are due: both reads
  through the Reader, then the post, the announcement and their consent questions written
  (the decisions are undone between runs). CPU: the whole process's.

Prints figures; asserts nothing.

    python -m benchmarks.recognition_reads [--members 2000] [--kudos 5000] [--runs 5]
        [--open 5000] [--events 200000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import time
from datetime import date, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.sla_scan import (
    CONTRIBUTORS,
    NOW,
    REPOSITORIES,
    Figures,
    Rows,
    Stalls,
    arguments,
    history,
    on_each_database,
    timed_read,
)
from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import (
    Champion,
    ChampionsMonth,
    CheckIn,
    Consent,
    ConsentAsk,
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubReview,
    Kudos,
    Member,
    Pairing,
    Promise,
    SpotlightFeature,
    SpotlightWeek,
)
from bot.db.reader import Reader
from bot.feature import Context
from bot.services.recognition import champions, spotlight
from bot.services.recognition.feature import run_spotlight

GUILD = 1
# Monday 1 June 2026: the weekly spotlight and May's champions are both due at 15:00.
WEEK, MONTH = date(2026, 6, 1), date(2026, 5, 1)
DUE = datetime(2026, 6, 1, 15, 1, tzinfo=NOW.tzinfo)
YEAR = timedelta(days=365)
# Discord ids of members: a member's is this plus their GitHub account's id.
MEMBER_IDS = 10**15
MENTORS = 40


def settings() -> Settings:
    return Settings.model_validate(
        {
            "discord": {"guild_id": GUILD},
            "github": {"repositories": REPOSITORIES, "maintainers": ["user1", "user2"]},
            "recognition": {"spotlight_channel_id": 2},
        }
    )


def recognition(rows: Rows, args: argparse.Namespace) -> None:
    """Add to the history what recognition reads: merges, contributors' reviews, members,
    kudos, consent, past spotlights and champions, and mentoring."""
    rng = random.Random(args.seed)
    latest: dict[tuple[int, int], datetime] = {}

    def seen(key: tuple[int, int], at: datetime) -> None:
        latest[key] = max(latest.get(key, at), at)

    review_ids = iter(range(10**9, 2 * 10**9))
    for item in rows[GitHubIssue]:
        key = (item["repository_id"], item["number"])
        opened = item["created_at"]
        item.update(merged=False, merged_at=None, closed_at=None)
        if item["is_pull_request"] and item["state"] == "closed" and rng.random() < 0.75:
            merged_at = min(opened + timedelta(days=rng.expovariate(1 / 3)), NOW)
            item.update(merged=True, merged_at=merged_at, closed_at=merged_at)
            if rng.random() < 0.15:
                item["labels"] = [rng.choice(["docs", "tests"])]
            seen(key, merged_at)
        if item["is_pull_request"] and rng.random() < 0.3:
            reviewer = rng.choice(CONTRIBUTORS)
            if reviewer != item["author_id"]:
                rows[GitHubReview].append(
                    {
                        "id": next(review_ids),
                        "repository_id": key[0],
                        "number": key[1],
                        "reviewer_id": reviewer,
                        "state": "APPROVED",
                        "submitted_at": opened + (NOW - opened) * rng.random() * 0.2,
                        "author_association": "CONTRIBUTOR",
                    }
                )
        seen(key, opened)
    for model, at in (
        (GitHubReview, "submitted_at"),
        (GitHubIssueEvent, "occurred_at"),
        (GitHubComment, "created_at"),
    ):
        for fact in rows[model]:
            seen((fact["repository_id"], fact["number"]), fact[at])
    for item in rows[GitHubIssue]:
        item["updated_at"] = latest[(item["repository_id"], item["number"])]

    accounts = rng.sample(list(CONTRIBUTORS), min(args.members, len(CONTRIBUTORS)))
    members = [MEMBER_IDS + account for account in accounts]
    rows[Member] = [
        {
            "guild_id": GUILD,
            "user_id": MEMBER_IDS + account,
            "github_user_id": account,
            "github_login": f"user{account}",
            "github_verified": True,
            "linked_at": NOW - YEAR,
        }
        for account in accounts
    ]
    rows[Kudos] = []
    for _ in range(args.kudos):
        giver, receiver = rng.sample(members, 2)
        rows[Kudos].append(
            {
                "guild_id": GUILD,
                "giver_id": giver,
                "receiver_id": receiver,
                "reason": "Thanks for the help with the build!",
                "given_at": NOW - YEAR * rng.random(),
            }
        )
    rows[Consent] = [
        {"guild_id": GUILD, "user_id": user_id, "choice": choice, "changed_at": NOW - YEAR}
        for user_id in members
        if (choice := rng.choice(["yes", "yes", "yes", "yes", "no", None, None, None, None]))
    ]
    rows[ConsentAsk] = [
        {
            "guild_id": GUILD,
            "user_id": user_id,
            "week": (NOW - timedelta(weeks=rng.randrange(1, 52))).date(),
            "asked_at": NOW - YEAR,
            "answer": rng.choice(["yes", "not_now", None]),
        }
        for user_id in rng.sample(members, len(members) // 4)
    ]
    weeks = [WEEK - timedelta(weeks=n) for n in range(1, 53)]
    rows[SpotlightWeek] = [
        {"guild_id": GUILD, "week": week, "status": "posted", "at": NOW} for week in weeks
    ]
    rows[SpotlightFeature] = [
        {
            "guild_id": GUILD,
            "week": week,
            "position": position,
            "user_id": user_id,
            "github_user_id": user_id - MEMBER_IDS,
            "named_only": False,
        }
        for week in weeks
        for position, user_id in enumerate(rng.sample(members, 3), 1)
    ]
    # The eleven months before May 2026.
    months = [date(2026 if k < 5 else 2025, (4 - k) % 12 + 1, 1) for k in range(1, 12)]
    rows[ChampionsMonth] = [
        {"guild_id": GUILD, "month": month, "status": "posted", "at": NOW} for month in months
    ]
    rows[Champion] = [
        {
            "guild_id": GUILD,
            "month": month,
            "user_id": user_id,
            "github_user_id": user_id - MEMBER_IDS,
            "position": position,
            "score": 40 - position,
        }
        for month in months
        for position, user_id in enumerate(rng.sample(members, 3), 1)
    ]
    mentors, mentees = members[:MENTORS], members[MENTORS:]
    rows[Pairing], rows[CheckIn] = [], []
    for pairing_id, mentee in enumerate(rng.sample(mentees, 400), 1):
        matched = NOW - YEAR * rng.random()
        ended = matched + timedelta(days=30)
        rows[Pairing].append(
            {
                "id": pairing_id,
                "guild_id": GUILD,
                "mentee_id": mentee,
                "mentor_id": rng.choice(mentors),
                "status": "ended" if ended < NOW else "active",
                "requested_at": matched,
                "matched_at": matched,
                "ends_at": ended,
                "ended_at": ended if ended < NOW else None,
                "excluded_mentor_ids": [],
            }
        )
        for side in ("mentor", "mentee"):
            for day in (2, 7, 14, 21, 28):
                asked = matched + timedelta(days=day)
                if asked < NOW:
                    answered = rng.random() < 0.7
                    rows[CheckIn].append(
                        {
                            "pairing_id": pairing_id,
                            "stage": f"{side}-{day}",
                            "asked_at": asked,
                            "answer": "talked" if answered else None,
                            "answered_at": asked + timedelta(hours=5) if answered else None,
                        }
                    )


async def measure(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    reader: Reader,
    args: argparse.Namespace,
    rows: Rows,
) -> None:
    configured = settings()
    context = Context(configured, ManualClock(DUE), sessions, None, read=reader)

    read = functools.partial(timed_read, reader)

    async def undo() -> None:
        """Forget the day's decisions, so that the next run makes them again."""
        async with sessions.begin() as session:
            await session.execute(delete(SpotlightWeek).where(SpotlightWeek.week == WEEK))
            await session.execute(delete(SpotlightFeature).where(SpotlightFeature.week == WEEK))
            await session.execute(delete(ChampionsMonth).where(ChampionsMonth.month == MONTH))
            await session.execute(delete(Champion).where(Champion.month == MONTH))
            await session.execute(delete(ConsentAsk).where(ConsentAsk.week == WEEK))
            await session.execute(delete(Promise))

    week, month = Figures(), Figures()
    for _ in range(args.runs):
        found = await read(week, lambda s: spotlight.candidates(s, configured, GUILD, WEEK, DUE))
    print(
        week.line(
            "spotlight.candidates, a week",
            f"; {len(found.ranked)} candidates, {len(found.featured)} featured",
        ),
        flush=True,
    )
    for _ in range(args.runs):
        named = await read(month, lambda s: champions.candidates(s, configured, GUILD, MONTH, DUE))
    print(
        month.line(
            "champions.candidates, a month",
            f"; {len(named.ranked)} candidates, {len(named.champions)} champions",
        ),
        flush=True,
    )

    job = Figures()
    for _ in range(args.runs):
        await undo()
        async with Stalls() as stalls:
            wall, cpu = time.perf_counter(), time.process_time()
            await run_spotlight(context)
            job.wall.append((time.perf_counter() - wall) * 1000)
            job.cpu.append((time.process_time() - cpu) * 1000)
        job.stall.append(stalls.longest)
    async with sessions() as session:
        decided = (
            await spotlight.decided(session, GUILD, WEEK),
            await champions.decided(session, GUILD, MONTH),
        )
    print(job.line("the job, both due", f"; spotlight {decided[0]}, champions {decided[1]}"))


async def main(args: argparse.Namespace) -> None:
    rows = history(args)
    recognition(rows, args)
    await on_each_database(measure, args, rows)


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--kudos", type=int, default=5000)
    asyncio.run(main(parser.parse_args()))
