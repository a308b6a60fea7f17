# SPDX-License-Identifier: Apache-2.0
"""Periodic jobs: the GitHub repair sync, and the jobs features declare (bot/feature.py).

Every long-running process runs a :class:`Scheduler`, and the database decides which one runs
a due job: the ``scheduled_jobs`` row holds when the job is next due, and a process takes the
job by moving that time forward with one conditional UPDATE, which only one process can win
(on SQLite and PostgreSQL alike). A job that fails is logged and runs again at its next time,
so jobs are written to be idempotent: they pick up whatever the last run left undone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.engine import insert_for
from bot.db.models import ScheduledJob
from bot.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval: timedelta
    run: Callable[[], Awaitable[None]]
    # How long after the job is first known to wait before its first run.
    first_run_after: timedelta = timedelta(0)


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        jobs: Sequence[Job],
        owner: str,
    ) -> None:
        if len({job.name for job in jobs}) != len(jobs):
            raise ValueError("two scheduled jobs share a name")
        self.sessions = sessions
        self.clock = clock
        self.jobs = {job.name: job for job in jobs}
        self.owner = owner
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        if self.jobs:
            self._task = asyncio.create_task(self._run_forever(), name="scheduler")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.run_due()
                wake_at = await self._next_due()
            except Exception:
                # The database may be briefly away; every job is still in its row.
                log.exception("scheduler could not read its jobs; retrying in a minute")
                wake_at = self.clock.now() + timedelta(minutes=1)
            await self.clock.sleep_until(wake_at)

    async def run_due(self) -> list[str]:
        """Run every job that is due and that no other process took first; their names."""
        ran = []
        self._running = True
        try:
            for job in self.jobs.values():
                if not await self._take(job):
                    continue
                ran.append(job.name)
                try:
                    await job.run()
                except Exception:
                    log.exception(
                        "scheduled job %s failed; it runs again in %s", job.name, job.interval
                    )
        finally:
            self._running = False
        return ran

    async def settled(self) -> bool:
        """No job is running here and none is due (for the sandbox and tests to wait on)."""
        # The due times first: a pass that starts during this read may already have moved
        # its job's due time on, and is running when the read returns.
        nothing_due = not self.jobs or await self._next_due() > self.clock.now()
        return nothing_due and not self._running

    async def _take(self, job: Job) -> bool:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await session.execute(
                insert_for(session)(ScheduledJob)
                .values(name=job.name, due_at=now + job.first_run_after)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            taken = await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.name == job.name, ScheduledJob.due_at <= now)
                .values(due_at=now + job.interval, started_at=now, started_by=self.owner)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def _next_due(self) -> datetime:
        async with self.sessions() as session:
            rows = await session.execute(
                select(ScheduledJob.name, ScheduledJob.due_at).where(
                    ScheduledJob.name.in_(list(self.jobs))
                )
            )
            due = {name: due_at for name, due_at in rows.all()}
        if len(due) < len(self.jobs):  # a job no run has taken yet (the database was away)
            return self.clock.now()
        return min(due.values(), default=self.clock.now() + timedelta(minutes=1))
