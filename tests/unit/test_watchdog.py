# SPDX-License-Identifier: Apache-2.0
"""The suite's own instrument: the CPU-time watchdog of servers run in a thread."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import BLOCKING_LIMIT, CpuTimedEventLoop


def burn(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_callback_that_uses_the_cpu_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    loop = CpuTimedEventLoop()
    try:
        loop.call_soon(burn, BLOCKING_LIMIT + 0.05)
        loop.call_soon(time.sleep, BLOCKING_LIMIT + 0.05)  # waiting, not computing
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    reports = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert len(reports) == 1
    assert reports[0].startswith("Executing <function burn")
