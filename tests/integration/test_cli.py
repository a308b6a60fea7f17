# SPDX-License-Identifier: Apache-2.0
"""The `helios-bot` command line, run as an operator runs it: a separate process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bot.db.migrate import head_revision
from tests.integration.processes import start_web

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "config.example.toml"


async def cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_check_config_accepts_the_example(dummy_env: dict[str, str]) -> None:
    code, out, err = await cli("check-config", "--config", str(EXAMPLE), env=dummy_env)
    assert code == 0, err
    assert "[discord]\nguild_id = 100000000000000001" in out
    for secret in ("discord-token-for-tests", "ghp_test_token_value", "webhook-secret-one"):
        assert secret not in out + err


async def test_check_config_hides_every_password_of_the_database_url(
    dummy_env: dict[str, str],
) -> None:
    url = "postgresql://helios:db-pass-1@db/helios?sslmode=verify-full&sslpassword=key-pass-2"
    env = {**dummy_env, "DATABASE_URL": url}
    code, out, err = await cli("check-config", "--config", str(EXAMPLE), env=env)
    assert code == 0, err
    assert (
        'DATABASE_URL = "postgresql://helios:***@db/helios?sslmode=verify-full&sslpassword=***"'
        in out
    )
    assert "pass-" not in out + err


async def test_a_short_webhook_secret_is_refused(dummy_env: dict[str, str]) -> None:
    env = {**dummy_env, "GITHUB_WEBHOOK_SECRET": "hunter22"}
    code, out, err = await cli("check-config", "--config", str(EXAMPLE), env=env)
    assert (code, out) == (2, "")
    assert err == (
        "environment: GITHUB_WEBHOOK_SECRET: each secret must be at least 16 characters "
        "(got one of 8)\n"
    )


async def test_check_config_names_an_unknown_key(dummy_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(EXAMPLE.read_text() + "\n[web.extra]\ncolour = 'blue'\n")
    code, out, err = await cli("check-config", "--config", str(path), env=dummy_env)
    assert code == 2
    assert out == ""
    assert err == f"{path}: web.extra: unknown key\n"


async def test_config_path_comes_from_the_environment(dummy_env: dict[str, str]) -> None:
    env = {**dummy_env, "HELIOS_BOT_CONFIG": str(EXAMPLE)}
    code, out, _ = await cli("check-config", env=env)
    assert code == 0
    assert f"# resolved from {EXAMPLE}" in out


async def test_run_needs_a_discord_token(
    dummy_env: dict[str, str], write_config: Callable[..., Path]
) -> None:
    env = {**dummy_env, "DISCORD_TOKEN": ""}
    code, _, err = await cli("run", "--config", str(write_config()), env=env)
    assert code == 2
    assert err == "environment: DISCORD_TOKEN: required by `helios-bot run`\n"


async def test_invite_url_asks_for_what_the_example_s_features_need(
    dummy_env: dict[str, str],
) -> None:
    # A token shaped like Discord's: its first part is base64 for 100000000000000042.
    env = {**dummy_env, "DISCORD_TOKEN": "MTAwMDAwMDAwMDAwMDAwMDQy.GabcDe.signature_part"}
    code, out, err = await cli("invite-url", "--config", str(EXAMPLE), env=env)
    # View Channels, Send Messages, Embed Links and Manage Roles; Create Private Threads and
    # Send Messages in Threads for the mentorship's pairings.
    assert (code, out, err) == (
        0,
        "https://discord.com/oauth2/authorize?client_id=100000000000000042"
        "&scope=bot+applications.commands&permissions=361045707776"
        "&guild_id=100000000000000001&disable_guild_select=true\n",
        "",
    )


async def test_invite_url_without_roles_or_token(dummy_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[discord]\nguild_id = 100000000000000001\napplication_id = 100000000000000099\n"
        "[announcements]\ngood_first_issues_channel_id = 100000000000000008\n"
    )
    env = {**dummy_env, "DISCORD_TOKEN": ""}
    code, out, err = await cli("invite-url", "--config", str(path), env=env)
    # View Channels, Send Messages and Embed Links: no role to give.
    assert (code, out, err) == (
        0,
        "https://discord.com/oauth2/authorize?client_id=100000000000000099"
        "&scope=bot+applications.commands&permissions=19456"
        "&guild_id=100000000000000001&disable_guild_select=true\n",
        "",
    )


async def test_invite_url_names_a_token_it_cannot_read(dummy_env: dict[str, str]) -> None:
    code, out, err = await cli("invite-url", "--config", str(EXAMPLE), env=dummy_env)
    assert (code, out) == (2, "")
    assert err == (
        "environment: DISCORD_TOKEN: not a bot token, whose first part is the bot's id in "
        f"base64; copy it again, or set discord.application_id in {EXAMPLE}\n"
    )
    assert dummy_env["DISCORD_TOKEN"] not in err


async def test_migrate_up_and_down(
    dummy_env: dict[str, str], write_config: Callable[..., Path], empty_database_url: str
) -> None:
    env = {**dummy_env, "DATABASE_URL": empty_database_url}
    config = str(write_config())
    head = head_revision()
    code, out, _ = await cli("migrate", "--config", config, env=env)
    assert (code, out) == (0, f"database schema: empty -> {head}\n")
    code, out, _ = await cli("migrate", "--config", config, "--to", "0001", env=env)
    assert (code, out) == (0, f"database schema: {head} -> 0001\n")
    code, out, _ = await cli("migrate", "--config", config, "--to", "base", env=env)
    assert (code, out) == (0, "database schema: 0001 -> empty\n")


async def test_web_serves_then_stops_cleanly_on_sigterm(
    dummy_env: dict[str, str], write_config: Callable[..., Path]
) -> None:
    process = await start_web(write_config(), dummy_env)
    assert process.stderr is not None
    url = None
    while url is None:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode()
        assert line, "helios-bot web exited before serving"
        if found := re.search(r"serving on (http://[0-9.:]+)", line):
            url = found.group(1)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{url}/metrics") as response:
            assert "helios_build_info" in await response.text()

    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(process.stderr.read(), timeout=15)
    assert await process.wait() == 0
    assert time.monotonic() - stopping < 10
    assert b"stopped cleanly" in rest
