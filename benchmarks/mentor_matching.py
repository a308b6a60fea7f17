# SPDX-License-Identifier: Apache-2.0
"""Mentor matching over a synthetic year: how fairly the work is spread, how soon newcomers
get a mentor, and how long one request takes.

A fresh SQLite file migrated with bot.db.migrate, and the real bot.services.mentorship:

- 50 mentors, each with 1 to 3 of six areas, a UTC offset from a list spanning the
  Americas, Europe and Asia, and a capacity of 1 to 3; 40 join on day 0, 10 on random days
  later. 15 pause once for 1 to 8 weeks: some with an end date (the periodic job resumes
  them), the others until they `/mentor resume`.
- 600 newcomers arriving unevenly: 510 spread over the months with a seasonal weight
  (October's Hacktoberfest busiest, summer quietest) and 90 in three bursts of 30 within a
  day (a conference talk, a release, a popular post). Interests are skewed (docs most
  asked for); one in ten gives no time zone. Each finishes `/start` (a Newcomer row with
  areas and finished_at, a Member row with the utc_offset) and asks for a mentor at once
  (mentorship.request).
- ``--leavers`` of the mentors who never pause (8 by default, or as many as there are)
  leave on a random day, at least 30 days after joining and a week before the year ends
  (mentorship.leave): each of their mentees then is handed over, to another mentor at once
  or to the front of the queue. They are drawn from a random generator of their own, so
  the figures of ``--leavers 0`` are those of the benchmark before leavers were added.
- Time is driven by what the periodic job does about matching, every ``--tend-minutes`` (60
  by default): mentorship.tend (pauses end, the queue is served) and
  wrap_up.tend_wrap_ups (a pairing wraps up after ``pairing_days`` (30) and closes
  ``wrap_up_days`` (3) later; nobody extends). Check-ins are not played: nobody would
  answer them, and every pairing would be handed over as unanswered.
- A mentor who pauses past a mentee's end date hands them over (mentorship.pause), as one
  pausing without an end date hands over every mentee.

Printed figures:

- Gini coefficient of the work per unit of capacity offered, across the 50 mentors (goal
  <= 0.2). For mentor m: x_m = mentees matched with m over the year / (capacity_m x days
  available_m), where days available are the days from joining to the end of the year (or
  leaving) not spent paused. Gini = sum over all pairs (i, j) of |x_i - x_j| / (2 n^2
  mean(x)); 0 is perfectly even, 1 is one mentor doing everything. A mentor who joined
  late, paused or left is not counted as under-used for the time they were away.
- The same Gini with x_m = mentees / capacity_m (the plain per-capacity version, which
  counts late joiners and pausers as under-used).
- The share of newcomers matched within 24 h of asking (their first request: a handover's
  new request keeps the time of the first, and is counted below instead).
- Hours without an active mentor, handovers included, as `/mentor stats` measures them
  (bot.services.mentorship.stats.waiting over the year): the longest wait of any mentee,
  and the share of mentees who waited more than 72 h at a stretch.
- The median match score (bot.services.mentorship.score, 0 to 1), and the share of
  matches where the mentor covers at least one of the newcomer's areas.
- p50 and p99 wall time of one request() call, from the transaction's start to its
  answer (goal p99 <= 20 ms on SQLite), and the CPU time it took (the main thread and
  aiosqlite's together: on a busy machine wall time is mostly waiting for a core); of the
  whole transaction with its commit (SQLite syncs the WAL to disk: synchronous=FULL), and
  of one tend() transaction, for scale.

Results are reproducible for a given ``--seed`` (the timings aside). Prints figures;
asserts nothing.

With the default 50 mentors there is room for nearly everyone at once; ``--mentors 40``
shows the queue at work (waits, matches served by tend(), handed-over mentees waiting
their turn), and ``--mentors 20`` overwhelms it.

    python benchmarks/mentor_matching.py [--seed 1] [--mentors 50] [--leavers 8]
                                         [--tend-minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.db.models import Member, Newcomer, Pairing
from bot.services import mentorship
from bot.services.mentorship import MentorProfile, stats, wrap_up

GUILD = 1
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
AREAS = ["docs", "core", "sdk", "editor", "rendering", "tooling"]
# How often newcomers pick each area (docs most, the specialised ones least).
AREA_DEMAND = [0.3, 0.2, 0.2, 0.1, 0.1, 0.1]
OFFSETS = [-480, -420, -360, -300, -240, -180, 0, 60, 120, 180, 330, 480, 540, 600]
# Relative arrivals per month: Hacktoberfest in October, a quiet summer.
MONTH_WEIGHTS = [1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.6, 0.7, 1.1, 1.6, 1.0, 0.6]
LATE_JOINERS, PAUSERS = 10, 15
NEWCOMERS, BURSTS, BURST_SIZE = 600, 3, 30
GOAL_GINI, GOAL_P99_MS = 0.2, 20.0
SETTINGS = Settings.model_validate(
    {"discord": {"guild_id": GUILD}, "mentorship": {"mentor_role_id": 2, "mentors_channel_id": 3}}
)


@dataclass
class MentorPlan:
    user_id: int
    profile: MentorProfile
    joins: datetime
    pause: tuple[datetime, datetime, bool] | None  # (from, until, with an end date)
    leaves: datetime | None = None

    def days_available(self) -> float:
        end = self.leaves or YEAR_START + timedelta(days=DAYS)
        days = (end - self.joins) / timedelta(days=1)
        if self.pause is not None:
            start, until, _ = self.pause
            days -= (min(until, end) - start) / timedelta(days=1)
        return days


def plan_mentors(rng: random.Random, count: int) -> list[MentorPlan]:
    plans = []
    for n in range(count):
        areas = tuple(sorted(rng.sample(AREAS, rng.randint(1, 3)), key=AREAS.index))
        profile = MentorProfile(areas, rng.randint(1, 3), rng.choice(OFFSETS), ())
        joins = YEAR_START
        if n >= count - LATE_JOINERS:
            joins += timedelta(days=rng.uniform(1, DAYS - 60))
        plans.append(MentorPlan(10_000 + n, profile, joins, None))
    for plan in rng.sample(plans, PAUSERS):
        year_left = (YEAR_START + timedelta(days=DAYS) - plan.joins) / timedelta(days=1)
        start = plan.joins + timedelta(days=rng.uniform(1, year_left - 14))
        until = start + timedelta(days=rng.uniform(7, 56))
        plan.pause = (start, until, rng.random() < 0.5)
    return plans


def plan_leavers(rng: random.Random, plans: list[MentorPlan], count: int) -> None:
    """Mentors who never pause (a paused one could not resume) leave on a random day: as
    many as asked, or as there are."""
    year_end = YEAR_START + timedelta(days=DAYS)
    steady = [plan for plan in plans if plan.pause is None]
    for plan in rng.sample(steady, min(count, len(steady))):
        first, last = plan.joins + timedelta(days=30), year_end - timedelta(days=7)
        plan.leaves = first + (last - first) * rng.random()


def plan_arrivals(rng: random.Random) -> list[datetime]:
    arrivals = []
    months = [YEAR_START.replace(month=m) for m in range(1, 13)]
    for _ in range(NEWCOMERS - BURSTS * BURST_SIZE):
        month = rng.choices(range(12), MONTH_WEIGHTS)[0]
        length = (months[month + 1] if month < 11 else YEAR_START.replace(year=2027)) - months[
            month
        ]
        arrivals.append(months[month] + length * rng.random())
    for _ in range(BURSTS):
        burst = YEAR_START + timedelta(days=rng.uniform(0, DAYS - 31))
        arrivals += [burst + timedelta(hours=rng.uniform(0, 24)) for _ in range(BURST_SIZE)]
    return sorted(arrivals)


def gini(values: list[float]) -> float:
    mean = statistics.fmean(values)
    if mean == 0:
        return 0.0
    spread = sum(abs(a - b) for a in values for b in values)
    return spread / (2 * len(values) ** 2 * mean)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def simulate(args: argparse.Namespace, database: Path) -> None:
    rng = random.Random(args.seed)
    mentors = plan_mentors(rng, args.mentors)
    arrivals = plan_arrivals(rng)
    plan_leavers(random.Random(f"leavers:{args.seed}"), mentors, args.leavers)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await migrate(engine)
    sessions = create_session_factory(engine)
    call_ms: list[float] = []  # request() itself, in its transaction
    cpu_ms: list[float] = []  # the CPU time it took, this process's threads together
    request_ms: list[float] = []  # the whole transaction: begin, request(), commit
    tend_ms: list[float] = []
    handed_over: list[int] = []  # mentees handed over by each mentor who left
    paused_over: list[int] = []  # ... and by each mentor who paused

    # Every event of the year as (when, order, action); the order keeps ties reproducible.
    events: list[tuple[datetime, int, Callable[[datetime], Awaitable[None]]]] = []

    def at(when: datetime, action: Callable[[datetime], Awaitable[None]]) -> None:
        events.append((when, len(events), action))

    def joining(plan: MentorPlan) -> Callable[[datetime], Awaitable[None]]:
        async def run(now: datetime) -> None:
            async with sessions.begin() as session:
                await mentorship.join(
                    session,
                    SETTINGS,
                    GUILD,
                    plan.user_id,
                    plan.profile,
                    offered=AREAS,
                    approved=True,
                    now=now,
                )

        return run

    def pausing(plan: MentorPlan, until: datetime | None) -> Callable[[datetime], Awaitable[None]]:
        async def run(now: datetime) -> None:
            async with sessions.begin() as session:
                paused_over.append(
                    await mentorship.pause(session, SETTINGS, GUILD, plan.user_id, until, now)
                )

        return run

    def resuming(plan: MentorPlan) -> Callable[[datetime], Awaitable[None]]:
        async def run(now: datetime) -> None:
            async with sessions.begin() as session:
                await mentorship.resume(session, SETTINGS, GUILD, plan.user_id, now)

        return run

    def leaving(plan: MentorPlan) -> Callable[[datetime], Awaitable[None]]:
        async def run(now: datetime) -> None:
            async with sessions.begin() as session:
                handed_over.append(
                    await mentorship.leave(session, SETTINGS, GUILD, plan.user_id, now)
                )

        return run

    def arriving(user_id: int) -> Callable[[datetime], Awaitable[None]]:
        areas = sorted(set(rng.choices(AREAS, AREA_DEMAND, k=rng.randint(1, 2))))
        offset = None if rng.random() < 0.1 else rng.choice(OFFSETS)

        async def run(now: datetime) -> None:
            async with sessions.begin() as session:
                session.add(
                    Newcomer(
                        guild_id=GUILD,
                        user_id=user_id,
                        started_at=now - timedelta(minutes=10),
                        coc_accepted_at=now - timedelta(minutes=9),
                        areas=areas,
                        experience="new",
                        finished_at=now,
                    )
                )
                session.add(
                    Member(
                        guild_id=GUILD,
                        user_id=user_id,
                        github_login=f"newcomer-{user_id}",
                        github_verified=True,
                        utc_offset=offset,
                    )
                )
            started, cpu = time.perf_counter(), time.process_time()
            async with sessions.begin() as session:
                await mentorship.request(session, SETTINGS, GUILD, user_id, now)
                call_ms.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - cpu) * 1000)
            request_ms.append((time.perf_counter() - started) * 1000)

        return run

    async def tending(now: datetime) -> None:
        started = time.perf_counter()
        async with sessions.begin() as session:
            await mentorship.tend(session, SETTINGS, GUILD, now)
            await wrap_up.tend_wrap_ups(session, SETTINGS, GUILD, now)
        tend_ms.append((time.perf_counter() - started) * 1000)

    for plan in mentors:
        at(plan.joins, joining(plan))
        if plan.pause is not None:
            start, until, dated = plan.pause
            at(start, pausing(plan, until if dated else None))
            if not dated:
                at(until, resuming(plan))
        if plan.leaves is not None:
            at(plan.leaves, leaving(plan))
    for n, arrival in enumerate(arrivals):
        at(arrival, arriving(n + 1))
    step = timedelta(minutes=args.tend_minutes)
    for tick in range(int(timedelta(days=DAYS) / step)):
        at(YEAR_START + step * (tick + 1), tending)

    started = time.perf_counter()
    for when, _, action in sorted(events, key=lambda event: event[:2]):
        await action(when)
    elapsed = time.perf_counter() - started

    year_end = YEAR_START + timedelta(days=DAYS)
    async with sessions() as session:
        rows = list(await session.scalars(select(Pairing).order_by(Pairing.id)))
        waiting = await session.run_sync(
            lambda sync: stats.waiting(sync, GUILD, since=YEAR_START, now=year_end)
        )
    await engine.dispose()
    report(mentors, rows, call_ms, cpu_ms, request_ms, tend_ms, elapsed)
    report_waiting(handed_over, paused_over, waiting)


def report(
    mentors: list[MentorPlan],
    rows: list[Pairing],
    call_ms: list[float],
    cpu_ms: list[float],
    request_ms: list[float],
    tend_ms: list[float],
    elapsed: float,
) -> None:
    matched = [row for row in rows if row.matched_at is not None]
    per_mentor = Counter(row.mentor_id for row in matched)
    per_capacity_day = [
        per_mentor[plan.user_id] / (plan.profile.capacity * plan.days_available())
        for plan in mentors
    ]
    per_capacity = [per_mentor[plan.user_id] / plan.profile.capacity for plan in mentors]
    # Each newcomer's first request (a handover's keeps its time, and waits are its own).
    requests = list({row.mentee_id: row for row in reversed(rows)}.values())
    waits = [
        (row.matched_at - row.requested_at) / timedelta(hours=1)
        for row in requests
        if row.matched_at is not None
    ]
    soon = [wait for wait in waits if wait <= 24]
    scores = [row.score for row in matched if row.score is not None]
    counts = sorted(per_mentor[plan.user_id] for plan in mentors)
    capacity = sum(plan.profile.capacity for plan in mentors)

    print(
        f"A synthetic year: {len(mentors)} mentors ({capacity} places, {LATE_JOINERS} joining "
        f"late, {PAUSERS} pausing once), {len(requests)} requests, real SQLite, simulated in "
        f"{elapsed:.1f} s"
    )
    print(
        f"  Gini of mentees per capacity x day available: {gini(per_capacity_day):.3f}"
        f" (goal <= {GOAL_GINI})"
    )
    print(f"  Gini of mentees per unit of capacity:          {gini(per_capacity):.3f}")
    print(
        f"  mentees per mentor: min {counts[0]}, median {statistics.median(counts):g}, "
        f"max {counts[-1]}"
    )
    print(
        f"  matched within 24 h: {len(soon) / len(requests):.1%} ({len(soon)} of "
        f"{len(requests)}); never matched: {len(requests) - len(waits)}; longest wait "
        f"{max(waits):.0f} h"
    )
    shared = [row for row in matched if not (row.reason or "").startswith("no shared area")]
    print(
        f"  median match score: {statistics.median(scores):.3f}; matches sharing an area: "
        f"{len(shared) / len(matched):.1%}"
    )
    print(
        f"  one request() call: p50 {percentile(call_ms, 0.5):.1f} ms, "
        f"p99 {percentile(call_ms, 0.99):.1f} ms (goal p99 <= {GOAL_P99_MS:g} ms)"
    )
    print(
        f"  its CPU time: p50 {percentile(cpu_ms, 0.5):.1f} ms, "
        f"p99 {percentile(cpu_ms, 0.99):.1f} ms"
    )
    print(
        f"  its whole transaction (with the commit's fsync): p50 "
        f"{percentile(request_ms, 0.5):.1f} ms, p99 {percentile(request_ms, 0.99):.1f} ms"
    )
    print(
        f"  one tend() (transaction, {len(tend_ms)} runs): p50 {percentile(tend_ms, 0.5):.1f} ms, "
        f"p99 {percentile(tend_ms, 0.99):.1f} ms"
    )


def report_waiting(handed_over: list[int], paused_over: list[int], waiting: stats.Waiting) -> None:
    longest = waiting.longest / timedelta(hours=1) if waiting.longest is not None else 0
    over = waiting.over_limit
    print(
        f"  mentors leaving mid-year: {len(handed_over)}, handing over {sum(handed_over)} "
        f"mentees; pausing: {len(paused_over)}, handing over {sum(paused_over)}"
    )
    print(
        f"  without an active mentor (handovers included): longest {longest:.0f} h; "
        f"over 72 h: {over.hits / over.of:.1%} ({over.hits} of {over.of} mentees)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="the random generator's seed")
    parser.add_argument("--mentors", type=int, default=50, help="fewer make a queue (from 16 up)")
    parser.add_argument(
        "--leavers", type=int, default=8, help="mentors who leave mid-year (handovers)"
    )
    parser.add_argument(
        "--tend-minutes", type=int, default=60, help="how often the periodic job runs"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(simulate(args, Path(directory) / "helios.db"))


if __name__ == "__main__":
    main()
