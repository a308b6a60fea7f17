# SPDX-License-Identifier: Apache-2.0
"""The shutdown's one deadline: stage budgets, cutting a stage short, start-up cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.runtime import (
    HTTP_SHUTDOWN_TIMEOUT,
    HTTP_STOP,
    SHUTDOWN_DEADLINE,
    STAGE_CAPS,
    Deadline,
    bounded,
    unless_stopped,
)


def test_the_stages_fit_in_the_ten_seconds_orchestrators_allow() -> None:
    assert sum(STAGE_CAPS) <= SHUTDOWN_DEADLINE < 10
    # aiohttp waits for a request, then as long again for it to unwind once cancelled.
    assert HTTP_STOP >= 2 * HTTP_SHUTDOWN_TIMEOUT


def test_a_deadline_gives_each_stage_at_most_its_cap_of_what_is_left() -> None:
    deadline = Deadline(60)
    assert deadline.left(2.0) == 2.0
    assert 0 < deadline.left(keep=59.5) <= 0.5
    assert deadline.left(2.0, keep=60) == 0
    assert Deadline(0).left(3.0) == 0
    assert Deadline(-5).left() == 0


async def test_a_stage_that_hangs_is_cut_short_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hangs = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        assert not await bounded("the stuck stage", hangs.wait(), 0.01)
        assert await bounded("a quick stage", asyncio.sleep(0), 5)
    (record,) = caplog.records
    assert record.getMessage().startswith("shutdown: the stuck stage did not finish in 0.0 s")


async def test_a_signal_during_start_up_cancels_it() -> None:
    stop = asyncio.Event()
    reached = asyncio.Event()
    cancelled = False

    async def migrating() -> None:
        nonlocal cancelled
        reached.set()
        try:
            await asyncio.Event().wait()  # a migration waiting for another process's lock
        except asyncio.CancelledError:
            cancelled = True
            raise

    starting = asyncio.create_task(unless_stopped(migrating(), stop))
    await reached.wait()
    stop.set()
    assert await starting is False
    assert cancelled


async def test_a_finished_start_up_reports_success_or_its_error() -> None:
    stop = asyncio.Event()
    assert await unless_stopped(asyncio.sleep(0), stop) is True

    async def fails() -> None:
        raise RuntimeError("cannot bind the port")

    with pytest.raises(RuntimeError, match="cannot bind the port"):
        await unless_stopped(fails(), stop)
