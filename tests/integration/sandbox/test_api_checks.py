# SPDX-License-Identifier: Apache-2.0
"""The simulators check every call against Discord's and GitHub's API descriptions
(bot/sandbox/openapi.py): what a broken answer or request looks like to a test.

A violation a test does not take (``api.take_violations()``) fails that test
(tests/api_checks.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import bot.sandbox.discord.rest
from bot.clock import ManualClock
from bot.sandbox import openapi
from bot.sandbox.discord import DiscordSimulator
from bot.sandbox.github import GitHubSimulator
from bot.sandbox.openapi import Violation, load_spec

SECRET = "api-checks-secret"
TOKEN = "ghp_api_checks_token"
REPO = "acme/widgets"


@pytest.fixture
async def discord_sim(clock: ManualClock) -> AsyncIterator[DiscordSimulator]:
    async with DiscordSimulator(clock) as sim:
        yield sim


@pytest.fixture
async def github_sim(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(clock, webhook_secret=SECRET) as sim:
        sim.add_token(TOKEN, "helios-bot")
        sim.state.create_repo(REPO)
        yield sim


async def call(method: str, url: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, headers=headers, json=body) as response,
    ):
        return response.status, await response.json(content_type=None)


def discord_auth(sim: DiscordSimulator) -> dict[str, str]:
    return {"Authorization": f"Bot {sim.token}"}


def problems(violations: list[Violation]) -> list[str]:
    return [f"{v.route}: {v.problem}" for v in violations]


# --- answers ---------------------------------------------------------------------------


async def test_a_numeric_snowflake_in_an_answer_is_a_violation(
    discord_sim: DiscordSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bot.sandbox.discord.rest.private_user_payload

    def numeric_id(user: Any) -> dict[str, Any]:
        return {**real(user), "id": user.id}

    monkeypatch.setattr(bot.sandbox.discord.rest, "private_user_payload", numeric_id)
    status, _ = await call("GET", f"{discord_sim.api_url}/users/@me", discord_auth(discord_sim))
    assert status == 200
    assert problems(discord_sim.api.take_violations()) == [
        f"GET /users/@me: response 200: id: {discord_sim.bot_user.id} is not of type 'string'"
    ]


async def test_a_missing_required_field_in_an_answer_is_a_violation(
    github_sim: GitHubSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    render = github_sim.state.render
    real = render.private_user
    monkeypatch.setattr(
        render, "private_user", lambda user: {k: v for k, v in real(user).items() if k != "login"}
    )
    status, _ = await call("GET", f"{github_sim.api_url}/user", {"Authorization": f"token {TOKEN}"})
    assert status == 200
    assert problems(github_sim.api.take_violations()) == [
        "GET /user: response 200: (top): 'login' is a required property"
    ]


def test_an_answer_may_carry_only_what_the_api_sends() -> None:
    """Objects are closed: GET /gateway (not /gateway/bot) has no shard count."""
    discord = load_spec("discord")
    assert discord is not None
    assert discord.response_problems("GET", "/gateway", {"url": "wss://gateway.invalid"}) == []
    assert discord.response_problems(
        "GET", "/gateway", {"url": "wss://gateway.invalid", "shards": 1}
    ) == ["response 200: (top): Additional properties are not allowed ('shards' was unexpected)"]


async def test_openapi_3_0_nullable_fields_accept_null_and_only_those(
    github_sim: GitHubSimulator,
) -> None:
    github = load_spec("github")
    assert github is not None
    state = github_sim.state
    issue = state.render.issue(state.repo(REPO), state.open_issue(REPO, "alice", "Crash"))
    route = "/repos/{owner}/{repo}/issues/{issue_number}"
    assert issue["closed_at"] is None  # `nullable: true` in GitHub's description
    assert github.response_problems("GET", route, issue) == []
    assert github.response_problems("GET", route, {**issue, "title": None}) == [
        "response 200: title: None is not of type 'string'"
    ]
    assert github.response_problems("GET", route, {**issue, "created_at": "yesterday"}) == [
        "response 200: created_at: 'yesterday' is not a 'date-time'"
    ]


# --- requests ---------------------------------------------------------------------------


async def test_requests_are_checked_too(discord_sim: DiscordSimulator) -> None:
    guild = discord_sim.add_guild()
    channel = discord_sim.add_channel(guild, "general")
    base, auth = discord_sim.api_url, discord_auth(discord_sim)
    await call("GET", f"{base}/channels/{channel.id}/messages?limit=500", auth)
    await call("POST", f"{base}/channels/{channel.id}/messages", auth, {"content": "Hi", "tts": 1})
    await call("GET", f"{base}/channels/{channel.id}/no-such-thing", auth)
    assert problems(discord_sim.api.take_violations()) == [
        "GET /channels/{channel_id}/messages: "
        "query parameter limit='500': (top): 500 is greater than the maximum of 100",
        "POST /channels/{channel_id}/messages: body: tts: 1 is not of type 'boolean', 'null'",
        f"GET /channels/{channel.id}/no-such-thing: no such operation in the API description",
    ]


async def test_a_listed_exception_lets_a_request_through(discord_sim: DiscordSimulator) -> None:
    """discord.py sends a DM's recipient id as a number (bot/sandbox/api_exceptions.py)."""
    guild = discord_sim.add_guild()
    ada = discord_sim.add_member(guild, "ada")
    body = {"recipient_id": ada.id}
    url = f"{discord_sim.api_url}/users/@me/channels"
    status, _ = await call("POST", url, discord_auth(discord_sim), body)
    assert status == 200
    assert discord_sim.api.take_violations() == []
    assert openapi.report(discord_sim.api).splitlines()[1:3] == [
        "discord       1      1  POST /users/@me/channels",
        "1 routes, 1 calls, 1 fully valid",
    ]


# --- without the description ---------------------------------------------------------------


async def test_without_the_description_the_simulator_works_unchecked(
    clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make sandbox` needs no node: GitHub's description may not be installed."""
    monkeypatch.setitem(openapi.SPEC_FILES, "github", tmp_path / "missing.json")
    assert not openapi.installed("github")
    async with GitHubSimulator(clock, webhook_secret=SECRET) as sim:
        sim.add_token(TOKEN, "helios-bot")
        assert not sim.api.enabled
        status, body = await call("GET", f"{sim.api_url}/user", {"Authorization": f"token {TOKEN}"})
        assert (status, body["login"]) == (200, "helios-bot")
        assert openapi.report(sim.api).splitlines()[1:] == ["0 routes, 0 calls, 0 fully valid"]
