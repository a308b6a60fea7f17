# SPDX-License-Identifier: Apache-2.0
"""Waiting for the simulated world to reach a condition, woken by changes instead of polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Waiters:
    """Predicates re-checked whenever the simulator records a change."""

    def __init__(self) -> None:
        self._pending: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def notify(self) -> None:
        still_pending = []
        for predicate, future in self._pending:
            if future.done():
                continue
            try:
                ready = predicate()
            except Exception as exc:  # a broken predicate must fail its waiter, not the server
                future.set_exception(exc)
                continue
            if ready:
                future.set_result(None)
            else:
                still_pending.append((predicate, future))
        self._pending = still_pending

    async def wait_until(self, predicate: Callable[[], bool], within: float, what: str) -> None:
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((predicate, future))
        try:
            await asyncio.wait_for(future, within)
        except TimeoutError:
            raise TimeoutError(f"timed out after {within}s waiting for {what}") from None
