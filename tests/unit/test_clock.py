# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock, SystemClock


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    woke: list[str] = []

    async def sleeper(name: str, hours: int) -> None:
        await clock.sleep(hours * 3600)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper(n, h)) for n, h in (("late", 48), ("early", 24))]
    await asyncio.sleep(0)
    assert clock.next_deadline() == datetime(2026, 3, 2, tzinfo=UTC)

    clock.advance(timedelta(hours=30))
    await asyncio.sleep(0)
    assert woke == ["early"]

    clock.advance(timedelta(hours=18))
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    assert clock.next_deadline() is None


async def test_cancelled_sleeper_is_forgotten() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(60))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_deadline() is None


async def test_sleep_until_the_past_returns_at_once() -> None:
    clock = ManualClock()
    await asyncio.wait_for(clock.sleep_until(clock.now() - timedelta(days=1)), timeout=1)


def test_manual_clock_refuses_to_go_backwards_or_naive_start() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.set(clock.now() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(datetime(2026, 1, 1))


async def test_system_clock_is_utc_and_sleeps() -> None:
    clock = SystemClock()
    before = clock.now()
    assert before.tzinfo is UTC
    await clock.sleep(0.01)
    assert clock.now() - before >= timedelta(seconds=0.01)
