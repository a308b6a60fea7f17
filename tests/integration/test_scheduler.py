# SPDX-License-Identifier: Apache-2.0
"""Periodic jobs shared by several processes: each due job runs once, wherever it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import ScheduledJob
from bot.scheduler import Job, Scheduler

HOUR = timedelta(hours=1)


def counting(name: str, runs: list[str], *, first_run_after: timedelta = timedelta(0)) -> Job:
    async def run() -> None:
        runs.append(name)

    return Job(name, HOUR, run, first_run_after=first_run_after)


async def test_a_due_job_runs_in_one_process_only(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    runs: list[str] = []
    first = Scheduler(sessions, clock, [counting("digest", runs)], "process-a")
    second = Scheduler(sessions, clock, [counting("digest", runs)], "process-b")

    assert await first.run_due() == ["digest"]
    assert await second.run_due() == []  # process-a moved it on an hour
    clock.advance(HOUR - timedelta(seconds=1))
    assert await second.run_due() == []
    clock.advance(timedelta(seconds=1))
    assert await second.run_due() == ["digest"]
    assert runs == ["digest", "digest"]
    async with sessions() as session:
        row = await session.get(ScheduledJob, "digest")
    assert row is not None
    assert row.started_by == "process-b"
    assert row.due_at == clock.now() + HOUR


async def test_first_run_after_delays_only_the_first_run(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    runs: list[str] = []
    scheduler = Scheduler(sessions, clock, [counting("sync", runs, first_run_after=HOUR)], "a")
    assert await scheduler.run_due() == []
    clock.advance(HOUR)
    assert await scheduler.run_due() == ["sync"]


async def test_a_failing_job_is_logged_and_runs_again_next_time(
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        raise RuntimeError("GitHub fell over")

    runs: list[str] = []
    scheduler = Scheduler(
        sessions, clock, [Job("flaky", HOUR, flaky), counting("other", runs)], "a"
    )
    assert await scheduler.run_due() == ["flaky", "other"]  # one failure stops no other job
    assert "scheduled job flaky failed" in caplog.text
    clock.advance(HOUR)
    await scheduler.run_due()
    assert len(attempts) == 2
    assert runs == ["other", "other"]


async def test_the_loop_sleeps_until_the_next_due_job(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    runs: list[str] = []
    scheduler = Scheduler(sessions, clock, [counting("hourly", runs)], "a")
    scheduler.start()
    try:
        await _until(lambda: runs == ["hourly"])
        await _until(lambda: clock.next_deadline() == clock.now() + HOUR)
        clock.advance(HOUR)
        await _until(lambda: runs == ["hourly", "hourly"])
    finally:
        await scheduler.close()


async def test_a_pass_that_starts_while_settled_reads_is_not_settled(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    # settled() is asked just before a pass starts (the clock moved, the scheduler has not
    # woken yet) and its read of the due times returns only after the pass took its job: a
    # loaded machine, a database just back. These sessions hold every read until the job
    # runs, to make that order certain.
    reads = asyncio.Event()

    class ReadsAfterTheGate(AsyncSession):
        async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if isinstance(statement, Select):
                await reads.wait()
            return await super().execute(statement, *args, **kwargs)

    sessions = async_sessionmaker(engine, class_=ReadsAfterTheGate, expire_on_commit=False)
    running, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        running.set()
        await finish.wait()

    scheduler = Scheduler(sessions, clock, [Job("slow", HOUR, slow)], "a")
    settled = asyncio.create_task(scheduler.settled())
    passing = asyncio.create_task(scheduler.run_due())
    await running.wait()
    reads.set()
    assert await settled is False  # the job is running
    finish.set()
    assert await passing == ["slow"]
    assert await scheduler.settled() is True


def test_job_names_must_be_unique(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match="share a name"):
        Scheduler(sessions, clock, [counting("x", []), counting("x", [])], "a")


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the scheduler did not run the job")
