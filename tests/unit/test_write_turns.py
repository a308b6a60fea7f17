# SPDX-License-Identifier: Apache-2.0
"""WriteTurns: webhook acknowledgements (urgent) before normalisation (background)."""

from __future__ import annotations

import asyncio

import pytest

from bot.db.engine import WriteTurns


@pytest.mark.parametrize("serialise", [True, False])
async def test_background_work_waits_until_urgent_work_pauses(serialise: bool) -> None:
    turns = WriteTurns(serialise=serialise, quiet=0.5)
    order: list[str] = []

    async def background() -> None:
        async with turns.background():
            order.append("background")

    async with turns.urgent():
        order.append("urgent 0")
    waiting = asyncio.create_task(background())
    # A stream of deliveries closer together than the quiet time: the background work
    # neither slips in between two of them nor runs beside one.
    for n in range(1, 4):
        await asyncio.sleep(0.01)
        async with turns.urgent():
            order.append(f"urgent {n}")
    await waiting
    assert order == ["urgent 0", "urgent 1", "urgent 2", "urgent 3", "background"]


async def test_background_work_goes_at_once_when_nothing_is_urgent() -> None:
    turns = WriteTurns(serialise=True, quiet=3600)
    async with asyncio.timeout(60), turns.background():
        pass
