# SPDX-License-Identifier: Apache-2.0
"""`run` mode end to end: connection, readiness, command sync, the error path, config checks."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import timedelta

import aiohttp
import discord
import pytest
from sqlalchemy import text

from bot.config import Config
from bot.sandbox.community import Sandbox

# A guild the Discord simulator does not serve.
UNKNOWN_GUILD = 555555555555555555


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_bot_connects_and_reports_ready(sandbox: Sandbox) -> None:
    bot = sandbox.running_bot
    status, body = await get_json(f"{bot.runtime.url}/readyz")
    assert status == 200
    assert body["checks"] == {"database": "ok", "migrations": "ok", "discord": "ok"}
    assert bot.disabled_features == set()


async def test_commands_are_synced_once_and_not_on_every_start(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    assert "helios" in sandbox.discord.commands(sandbox.community.guild)
    await sandbox.restart_bot()
    syncs = sandbox.discord.requests_to("PUT", "/applications/*/guilds/*/commands")
    assert len(syncs) == 1


async def test_status_is_shown_to_organisers_privately(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
    result = await sandbox.driver.run_command(ines, general, "helios status")
    assert result.ephemeral
    (embed,) = result.embeds
    assert embed["title"] == "Helios bot status"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Database"].startswith("sqlite, schema ")
    assert "code expects" not in fields["Database"]
    assert fields["Features off"] == "none"


async def test_status_is_refused_kindly_to_others(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    ada, general = sandbox.community.members["ada"], sandbox.community.channels["general"]
    result = await sandbox.driver.run_command(ada, general, "helios status")
    assert result.ephemeral
    assert result.content == "This command is for organisers."


async def test_unexpected_failure_gets_an_apology_with_an_error_id(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert sandbox.community is not None
    ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
    async with sandbox.running_bot.runtime.engine.begin() as connection:
        await connection.execute(text("DROP TABLE outbox"))  # a real fault, not a mock
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        result = await sandbox.driver.run_command(ines, general, "helios status")
    assert result.ephemeral
    assert result.content.startswith("Sorry, something went wrong on our side (error id `")
    error_id = result.content.split("`")[1]
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert f"user {ines.id}" in record.getMessage()
    assert record.exc_info is not None


async def test_missing_role_turns_off_only_its_feature(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    community = sandbox.community
    assert community is not None
    await sandbox.stop_bot()
    organiser = community.roles["Organiser"].id
    del community.guild.roles[organiser]
    for member in community.guild.members.values():
        member.role_ids = [r for r in member.role_ids if r != organiser]
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        await sandbox.start_bot()
    bot = sandbox.running_bot
    assert bot.disabled_features == {"admin"}
    (record,) = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert "admin.organiser_role_id" in record.getMessage()

    ines, general = community.members["ines"], community.channels["general"]
    result = await sandbox.driver.run_command(ines, general, "helios status")
    assert result.content.startswith("Organiser tools are turned off")
    status, _ = await get_json(f"{bot.runtime.url}/readyz")
    assert status == 200  # one feature off is not an outage


def with_discord(config: Config, **changes: object) -> Config:
    discord_settings = config.settings.discord.model_copy(update=changes)
    return dataclasses.replace(
        config, settings=config.settings.model_copy(update={"discord": discord_settings})
    )


async def test_guild_the_bot_cannot_see_is_reported_once_and_not_ready(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert sandbox.config is not None
    await sandbox.stop_bot()
    sandbox.config = with_discord(sandbox.config, guild_id=UNKNOWN_GUILD)
    with caplog.at_level(logging.WARNING):
        await sandbox.start_bot()
        bot = sandbox.running_bot
        # A new session (READY again) does not repeat the error.
        identified = sandbox.discord.gateway_stats.identifies
        ready_again = asyncio.ensure_future(bot.wait_for("ready", timeout=10))
        await sandbox.discord.send_invalid_session(resumable=False)
        await ready_again
        status, body = await get_json(f"{bot.runtime.url}/readyz")
    assert sandbox.discord.gateway_stats.identifies == identified + 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"config discord.guild_id in {sandbox.config.path}: the bot does not see guild "
        f"{UNKNOWN_GUILD}; invite it to that server or correct the id, then restart "
        "(/readyz answers 503)"
    ]
    assert status == 503
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "discord": f"guild {UNKNOWN_GUILD} (discord.guild_id in {sandbox.config.path}) "
        "is not visible to the bot",
    }


async def test_guild_on_another_processs_shard_is_not_reported(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert sandbox.config is not None
    await sandbox.stop_bot()
    other_shard = 1 - (UNKNOWN_GUILD >> 22) % 2
    sandbox.config = with_discord(
        sandbox.config, guild_id=UNKNOWN_GUILD, shard_count=2, shard_ids=[other_shard]
    )
    with caplog.at_level(logging.ERROR):
        await sandbox.start_bot()
    bot = sandbox.running_bot
    assert bot.shard_ids == [other_shard]
    assert not bot.owns_guild()
    status, body = await get_json(f"{bot.runtime.url}/readyz")
    assert (status, body["checks"]["discord"]) == (200, "ok")
    assert not [r for r in caplog.records if "discord.guild_id" in r.getMessage()]


async def test_bot_resumes_after_the_gateway_drops(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
    await sandbox.discord.drop_gateway()
    await sandbox.discord.wait_until(
        lambda: sandbox.discord.gateway_stats.resumes >= 1, what="a RESUME"
    )
    result = await sandbox.driver.run_command(ines, general, "helios status")
    assert result.embeds[0]["title"] == "Helios bot status"


async def test_bot_resumes_after_a_resumable_invalid_session(sandbox: Sandbox) -> None:
    """INVALID_SESSION with d=true: reconnect and RESUME the same session, no new IDENTIFY."""
    assert sandbox.community is not None
    ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
    stats = sandbox.discord.gateway_stats
    identifies = stats.identifies
    await sandbox.discord.send_invalid_session(resumable=True)
    # Dispatched while the bot reconnects: the RESUME replays it.
    result = await sandbox.driver.run_command(ines, general, "helios status")
    assert result.embeds[0]["title"] == "Helios bot status"
    assert stats.resumes == 1
    assert stats.identifies == identifies


async def test_bot_closes_everything_quickly(sandbox: Sandbox) -> None:
    url = sandbox.running_bot.runtime.url
    started = time.monotonic()
    await sandbox.stop_bot()
    assert time.monotonic() - started < 10
    with pytest.raises(aiohttp.ClientConnectionError):
        await get_json(f"{url}/healthz")
    assert not sandbox.discord.gateway.connected


async def test_refresh_button_still_works_after_a_restart(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
    shown = await sandbox.driver.run_command(ines, general, "helios status")
    assert shown.message is not None
    first_time = shown.embeds[0]["timestamp"]

    await sandbox.restart_bot()
    sandbox.clock.advance(timedelta(minutes=5))
    refreshed = await sandbox.driver.click(shown.message, label="Refresh", member=ines)
    assert refreshed.response_type == 7  # UPDATE_MESSAGE: the same message, new content
    assert refreshed.embeds[0]["timestamp"] != first_time
    assert refreshed.embeds[0]["title"] == "Helios bot status"


async def test_refresh_after_losing_the_organiser_role_is_refused_kindly(
    sandbox: Sandbox,
) -> None:
    community = sandbox.community
    assert community is not None
    ines = community.members["ines"]
    shown = await sandbox.driver.run_command(ines, community.channels["general"], "helios status")
    assert shown.message is not None

    # Another organiser takes the role away (through Discord, so the bot hears of it).
    bot = sandbox.running_bot
    guild = bot.get_guild(community.guild.id)
    assert guild is not None
    member = guild.get_member(ines.id)
    assert member is not None
    await member.remove_roles(discord.Object(community.roles["Organiser"].id))
    await sandbox.discord.sync_with_bot()

    refused = await sandbox.driver.click(shown.message, label="Refresh", member=ines)
    assert refused.ephemeral
    assert refused.content == "This command is for organisers."
