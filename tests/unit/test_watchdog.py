# SPDX-License-Identifier: Apache-2.0
"""The suite's own instrument: the watchdog that fails a test whose code blocks an event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

from tests.conftest import BLOCKING_CPU_LIMIT, BLOCKING_WALL_LIMIT, LoopWatchdog


def burn(seconds: float) -> None:
    """Compute for ``seconds`` of this thread's CPU time, however long that takes."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


async def computes() -> None:
    burn(BLOCKING_CPU_LIMIT + 0.05)


def run_in_new_loop(callback: Callable[[float], object], seconds: float) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(callback, seconds)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()


def test_a_callback_or_task_that_computes_past_the_cpu_limit_is_blocking() -> None:
    with LoopWatchdog() as watchdog:
        asyncio.run(computes())
        run_in_new_loop(burn, BLOCKING_CPU_LIMIT + 0.05)
        run_in_new_loop(burn, 0.01)
    assert len(watchdog.offences) == 2
    assert "computes()" in watchdog.offences[0]
    assert watchdog.offences[1].startswith("<Handle burn(")  # 3.12 leaves out the arguments


def test_a_callback_that_waits_past_the_wall_limit_is_blocking() -> None:
    with LoopWatchdog() as watchdog:
        run_in_new_loop(time.sleep, BLOCKING_WALL_LIMIT + 0.1)
    assert len(watchdog.offences) == 1
    assert watchdog.offences[0].startswith("<Handle sleep(")


def test_a_loop_in_another_thread_is_watched() -> None:
    with LoopWatchdog() as watchdog:
        thread = threading.Thread(target=run_in_new_loop, args=(burn, BLOCKING_CPU_LIMIT + 0.05))
        thread.start()
        thread.join()
    assert len(watchdog.offences) == 1


def test_asyncio_is_itself_again_afterwards() -> None:
    original = asyncio.Handle._run
    with LoopWatchdog():
        assert asyncio.Handle._run is not original
    assert asyncio.Handle._run is original


@contextlib.contextmanager
def busy_machine() -> Iterator[None]:
    """Two processes and a thread of this one spinning on the CPU this thread is pinned to.

    The loaded 2-core CI machine, made certain: the loop's thread gets a quarter of its CPU
    and, while it has it, must also win the GIL from the spinning thread.
    """
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})  # this thread; the threads it starts inherit it
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    spinner = threading.Thread(target=spin)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for hog in hogs:
            os.sched_setaffinity(hog.pid, {cpu})
        spinner.start()
        yield
    finally:
        stop.set()
        for hog in hogs:
            hog.kill()
            hog.wait()
        spinner.join()
        os.sched_setaffinity(0, allowed)


async def test_a_callback_slowed_by_other_processes_and_threads_is_not_blocking(
    no_blocking: None,
) -> None:
    loop = asyncio.get_running_loop()
    took: asyncio.Future[float] = loop.create_future()

    def short_work() -> None:
        started = time.perf_counter()
        burn(BLOCKING_CPU_LIMIT * 0.4)
        took.set_result(time.perf_counter() - started)

    with busy_machine():
        loop.call_soon(short_work)
        wall = await took
    # What the wall-time watchdog saw, and failed the suite for; no_blocking must not.
    assert wall > BLOCKING_CPU_LIMIT
