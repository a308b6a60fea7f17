# SPDX-License-Identifier: Apache-2.0
"""The one place that reads the time.

Everything that needs "now" or needs to wait asks a :class:`Clock`. Production uses
:class:`SystemClock`; tests and the sandbox use :class:`ManualClock`, which they move forward
so that a 30-day mentorship or a 48-hour review window passes in seconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time in UTC and sleeping until a moment in that time."""

    def now(self) -> datetime:
        raise NotImplementedError

    async def sleep_until(self, when: datetime) -> None:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + timedelta(seconds=seconds))


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))


class ManualClock(Clock):
    """A clock that only moves when told to; sleepers wake as time passes their deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._order), future))
        await future

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards) and wake every sleeper that is now due."""
        if when < self._now:
            raise ValueError(f"time cannot go backwards: {when} < {self._now}")
        self._now = when
        while self._sleepers and self._sleepers[0][0] <= when:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def next_deadline(self) -> datetime | None:
        """When the earliest sleeper wants to wake, so a driver can jump straight to it."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleepers
        return self._sleepers[0][0] if self._sleepers else None
