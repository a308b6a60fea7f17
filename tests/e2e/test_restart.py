# SPDX-License-Identifier: Apache-2.0
"""A restart across OS processes: `helios-bot run` against the simulators is killed and run
again on the same SQLite file, and a button on a message from the first process still works."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.sandbox.community import (
    GITHUB_TOKEN,
    WEBHOOK_SECRET,
    DemoCommunity,
    config_text,
    seed_discord,
    seed_github,
)
from bot.sandbox.discord import DiscordDriver, DiscordSimulator
from bot.sandbox.github import GitHubSimulator
from tests.integration.processes import start_run

CONNECTED = "connected to Discord as"
START_TIMEOUT = 60  # a deadline for a process start on a busy machine, not a measurement


@dataclass
class World:
    discord: DiscordSimulator
    github: GitHubSimulator
    community: DemoCommunity
    config: Path
    env: dict[str, str]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # Two processes share no ManualClock: both sides keep real time.
    clock = SystemClock()
    discord = DiscordSimulator(clock)
    github = GitHubSimulator(clock, webhook_secret=WEBHOOK_SECRET)
    await discord.start()
    await github.start()
    try:
        community = seed_discord(discord)
        seed_github(github)
        config = tmp_path / "config.toml"
        config.write_text(config_text(community, github.api_url, github.web_url))
        env = {
            "DISCORD_TOKEN": discord.token,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'helios.db'}",
        }
        yield World(discord, github, community, config, env)
    finally:
        await github.close()
        await discord.stop()


class BotProcess:
    """`helios-bot run` in a process of its own; its log is read as it comes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await start_run(self.world.discord.url, self.world.config, self.world.env)
        self._reader = asyncio.create_task(self._read())
        ready = asyncio.create_task(self._connected.wait())
        await asyncio.wait(
            {ready, self._reader}, timeout=START_TIMEOUT, return_when="FIRST_COMPLETED"
        )
        ready.cancel()
        assert self._connected.is_set(), "the bot did not connect:\n" + "\n".join(self.log)

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.log.append(line)
            if CONNECTED in line:
                self._connected.set()

    async def stop(self, sig: signal.Signals) -> int:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), START_TIMEOUT)
        if self._reader is not None:
            await self._reader
        return code


async def test_a_button_from_before_a_crash_works_in_the_next_process(world: World) -> None:
    driver = DiscordDriver(world.discord, timeout=START_TIMEOUT)
    ines = world.community.members["ines"]
    general = world.community.channels["general"]

    first = BotProcess(world)
    await first.start()
    try:
        shown = await driver.run_command(ines, general, "helios status")
    finally:
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL  # a crash: no clean-up
    assert shown.message is not None
    assert shown.embeds[0]["title"] == "Helios bot status"
    await world.discord.wait_until(
        lambda: not world.discord.gateway.connected, what="the dead bot's gateway to drop"
    )

    second = BotProcess(world)
    await second.start()
    try:
        refreshed = await driver.click(shown.message, label="Refresh", member=ines)
        assert refreshed.response_type == 7  # UPDATE_MESSAGE: the same message, new content
        assert refreshed.embeds[0]["title"] == "Helios bot status"
        assert world.discord.gateway_stats.identifies == 2  # a new process, a new session
    finally:
        assert await second.stop(signal.SIGTERM) == 0, "\n".join(second.log)
    # Commands were synced once: the second process found their hash in the database.
    assert len(world.discord.requests_to("PUT", "/applications/*/guilds/*/commands")) == 1
