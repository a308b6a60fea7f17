# SPDX-License-Identifier: Apache-2.0
"""First contact with a Discord application set up wrong: `helios-bot run`, as a process
against the Discord simulator, ends with exit status 2 and one line naming the fix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.app import operator_fix
from bot.clock import SystemClock
from bot.config import load_config
from bot.sandbox.community import WEBHOOK_SECRET, config_text, invite_bot, seed_discord
from bot.sandbox.discord import DiscordSimulator
from tests.integration.processes import start_run

EXIT_TIMEOUT = 60  # a deadline for a process on a busy machine, not a measurement

REFUSED = (
    "environment: DISCORD_TOKEN: Discord refused this token ({how}); set the bot's current "
    "token, from Bot > Reset Token in the Discord Developer Portal\n"
)
MEMBERS_INTENT_OFF = (
    "Discord Developer Portal: Server Members Intent is off: switch it on under Bot > "
    "Privileged Gateway Intents for this application (the gateway closed with 4014, "
    "disallowed intents)\n"
)


@dataclass
class World:
    discord: DiscordSimulator
    config: Path
    env: dict[str, str]

    async def run(self) -> tuple[int, str]:
        """Start `helios-bot run`; once it has ended, its exit status and stderr."""
        process = await self.start()
        return await self.ended(process)

    async def start(self) -> asyncio.subprocess.Process:
        return await start_run(self.discord.url, self.config, self.env)

    @staticmethod
    async def ended(process: asyncio.subprocess.Process) -> tuple[int, str]:
        _, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
        assert process.returncode is not None
        return process.returncode, err.decode()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with DiscordSimulator(SystemClock()) as simulator:
        community = seed_discord(simulator)
        config = tmp_path / "config.toml"
        # No GitHub: these tests are about Discord. Warnings and errors only, so that stderr
        # holds nothing but what the operator must read.
        github = "http://127.0.0.1:9"
        config.write_text(
            config_text(community, github, github) + '\n[logging]\nlevel = "WARNING"\n'
        )
        env = {
            "DISCORD_TOKEN": simulator.token,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'helios.db'}",
        }
        invite_bot(simulator, community, load_config(config, env).settings)
        yield World(simulator, config, env)


async def test_a_token_reset_since_it_was_copied_is_named(world: World) -> None:
    old = world.discord.token
    world.discord.reset_token()  # the operator reset it in the portal after copying it
    world.env["DISCORD_TOKEN"] = old
    code, err = await world.run()
    assert (code, err) == (2, REFUSED.format(how="401 Unauthorized at login"))
    assert world.discord.gateway_stats.identifies == 0


async def test_the_server_members_intent_switched_off_is_named(world: World) -> None:
    world.discord.set_privileged_intent("members", False)
    code, err = await world.run()
    assert (code, err) == (2, MEMBERS_INTENT_OFF)
    assert world.discord.gateway_stats.connections == 1  # refused, and not tried again


async def test_a_token_reset_while_running_is_named_at_the_next_identify(world: World) -> None:
    process = await world.start()
    try:
        await world.discord.wait_until_connected(within=EXIT_TIMEOUT)
    except BaseException:
        process.kill()
        raise
    world.discord.reset_token()
    await world.discord.send_invalid_session()  # the bot must IDENTIFY again, with the old token
    code, err = await world.ended(process)
    how = "the gateway closed with 4004, authentication failed"
    assert (code, err) == (2, REFUSED.format(how=how))
    assert world.discord.gateway_stats.identifies == 1


class _Closed(discord.ConnectionClosed):
    """A gateway closed with ``code``, as discord.py reports it (no socket needed)."""

    def __init__(self, code: int) -> None:
        super().__init__(None, shard_id=0, code=code)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [1000, 4010, 4011, 4013])
def test_other_close_codes_keep_their_own_error(code: int) -> None:
    assert operator_fix(_Closed(code)) is None
