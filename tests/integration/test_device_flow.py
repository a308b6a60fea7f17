# SPDX-License-Identifier: Apache-2.0
"""The OAuth device flow against the GitHub simulator, on a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.github.api import DeviceCode, DeviceFlowError, GitHubAccount
from bot.github.device_flow import DeviceFlow
from bot.sandbox.github import GitHubSimulator


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(clock, webhook_secret="client-webhook-secret") as simulator:
        simulator.state.add_user("ada")
        yield simulator


@pytest.fixture
async def flow(sim: GitHubSimulator, clock: ManualClock) -> AsyncIterator[DeviceFlow]:
    async with aiohttp.ClientSession() as http:
        yield DeviceFlow(
            http, clock, client_id="Iv1.helios", web_url=sim.web_url, api_url=sim.api_url
        )


async def waiting(clock: ManualClock) -> None:
    """Let the poller run until it sleeps on the clock."""
    for _ in range(1000):
        if clock.next_deadline() is not None:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the poller never went to sleep")


async def poll_in_background(
    flow: DeviceFlow, clock: ManualClock
) -> tuple[DeviceCode, asyncio.Task[object]]:
    code = await flow.start()
    task: asyncio.Task[object] = asyncio.create_task(flow.wait_for_account(code))
    await waiting(clock)
    return code, task


async def test_approved_code_links_the_account_and_keeps_no_token(
    sim: GitHubSimulator, flow: DeviceFlow, clock: ManualClock
) -> None:
    code, task = await poll_in_background(flow, clock)
    assert code.verification_uri == f"{sim.web_url}/login/device"
    clock.advance(timedelta(seconds=code.interval))  # one poll: still pending
    await waiting(clock)
    sim.device.approve(code.user_code, "ada")
    clock.advance(timedelta(seconds=code.interval))
    account = await asyncio.wait_for(task, timeout=5)
    assert account == GitHubAccount(id=sim.state.user("ada").id, login="ada")


async def test_denied_code_is_reported(
    sim: GitHubSimulator, flow: DeviceFlow, clock: ManualClock
) -> None:
    code, task = await poll_in_background(flow, clock)
    sim.device.deny(code.user_code)
    clock.advance(timedelta(seconds=code.interval))
    with pytest.raises(DeviceFlowError) as caught:
        await asyncio.wait_for(task, timeout=5)
    assert caught.value.reason == "denied"


async def test_code_nobody_enters_expires(flow: DeviceFlow, clock: ManualClock) -> None:
    code, task = await poll_in_background(flow, clock)
    clock.advance(timedelta(minutes=16))
    with pytest.raises(DeviceFlowError) as caught:
        await asyncio.wait_for(task, timeout=5)
    assert caught.value.reason == "expired"
    assert code.expires_at < clock.now()


async def test_github_unreachable_is_unavailable(clock: ManualClock) -> None:
    async with aiohttp.ClientSession() as http:
        flow = DeviceFlow(
            http, clock, client_id="x", web_url="http://127.0.0.1:9", api_url="http://127.0.0.1:9"
        )
        with pytest.raises(DeviceFlowError) as caught:
            await flow.start()
    assert caught.value.reason == "unavailable"
