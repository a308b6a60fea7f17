# SPDX-License-Identifier: Apache-2.0
"""bot.github.client: real PyGithub against the GitHub simulator, always off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.github.api import GitHubUnavailable
from bot.github.client import GitHubClient
from bot.sandbox.github import GitHubSimulator

REPO = "acme/widgets"
TOKEN = "ghp_client_test_token"


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(clock, webhook_secret="client-webhook-secret") as simulator:
        simulator.add_token(TOKEN, "helios-bot")
        simulator.state.create_repo(REPO)
        simulator.state.open_issue(REPO, "maintainer", "Write docs", labels=["good first issue"])
        yield simulator


@pytest.fixture
def configure(
    sim: GitHubSimulator, write_config: Callable[..., Path]
) -> Callable[[dict[str, str]], Config]:
    def make(env: dict[str, str]) -> Config:
        extra = (
            f'[github]\napi_url = "{sim.api_url}"\nrepositories = ["{REPO}"]\n'
            "seconds_between_requests = 0\nseconds_between_writes = 0\n"
        )
        return load_config(write_config(extra), env)

    return make


async def test_no_credentials_no_client(configure: Callable[[dict[str, str]], Config]) -> None:
    assert await GitHubClient.connect(configure({})) is None


async def test_token_client_reads_and_writes(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": TOKEN}))
    assert client is not None
    try:
        ada = sim.state.add_user("ada")
        found = await client.user("ada")
        assert found is not None
        assert (found.id, found.login, found.is_bot) == (ada.id, "ada", False)
        assert await client.user("nobody-has-this-login") is None

        await client.assign(REPO, 1, "ada")
        assert [u.login for u in sim.state.issue(REPO, 1).assignees] == ["ada"]
        await client.comment_once(REPO, 1, "I'd like to work on this.", marker="m")
        await client.unassign(REPO, 1, "ada")
        assert sim.state.issue(REPO, 1).assignees == []
        writes = {r for r in sim.counter.by_route if not r.startswith("GET")}
        assert "POST /repos/{owner}/{repo}/issues/{number}/comments" in writes
    finally:
        client.close()


async def test_comment_once_survives_a_retry(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    """A retry after a crash between posting and recording finds the first comment."""
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": TOKEN}))
    assert client is not None
    try:
        for _ in range(2):
            await client.comment_once(REPO, 1, "Welcome!", marker="first-merge-7")
        await client.comment_once(REPO, 1, "Another thing", marker="other")
        bodies = [c.body for c in sim.state.issue(REPO, 1).comments]
        assert bodies == [
            "Welcome!\n\n<!-- helios:first-merge-7 -->",
            "Another thing\n\n<!-- helios:other -->",
        ]
    finally:
        client.close()


COMMENTS = "POST /repos/{owner}/{repo}/issues/{number}/comments"
ASSIGN = "POST /repos/{owner}/{repo}/issues/{number}/assignees"


async def test_a_failed_write_is_sent_once(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    """GitHub may have done a write it answers with an error: PyGithub must not send it again."""
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": TOKEN}))
    assert client is not None
    sim.state.add_user("ada")
    try:
        sim.inject_error(502, count=20, path=r"/assignees$")
        with pytest.raises(GitHubUnavailable, match="502"):
            await client.assign(REPO, 1, "ada")
        sim.inject_error(503, count=20, path=r"/comments$", method="POST")
        with pytest.raises(GitHubUnavailable, match="503"):
            await client.comment_once(REPO, 1, "I'd like to work on this.", marker="m")
        assert (sim.counter.by_route[ASSIGN], sim.counter.by_route[COMMENTS]) == (1, 1)
    finally:
        sim.faults.clear()
        client.close()


async def test_reads_and_idempotent_writes_are_retried(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": TOKEN}))
    assert client is not None
    sim.state.assign(REPO, 1, ["maintainer"], actor="maintainer")
    try:
        sim.inject_error(502, count=2, path=r"/issues/1$")
        assert (await client.get(f"/repos/{REPO}/issues/1"))["number"] == 1
        assert sim.counter.by_route["GET /repos/{owner}/{repo}/issues/{number}"] == 3
        sim.inject_error(502, path=r"/assignees$")
        await client.unassign(REPO, 1, "maintainer")  # DELETE: the same result however often
        assert sim.state.issue(REPO, 1).assignees == []
        assert sim.counter.by_route["DELETE /repos/{owner}/{repo}/issues/{number}/assignees"] == 2
    finally:
        client.close()


async def test_comment_once_recognises_a_comment_github_made_behind_an_error(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": TOKEN}))
    assert client is not None
    try:
        sim.inject_error(502, path=r"/comments$", method="POST", applied=True)
        await client.comment_once(REPO, 1, "Welcome!", marker="first-merge-7")
        await client.comment_once(REPO, 1, "Welcome!", marker="first-merge-7")
        assert [c.body for c in sim.state.issue(REPO, 1).comments] == [
            "Welcome!\n\n<!-- helios:first-merge-7 -->"
        ]
        assert sim.counter.by_route[COMMENTS] == 1

        # Refused and not done: reported, so the outbox tries again later, once.
        sim.inject_error(502, count=20, path=r"/comments$", method="POST")
        with pytest.raises(GitHubUnavailable, match="502"):
            await client.comment_once(REPO, 1, "Thanks!", marker="other")
        sim.faults.clear()
        await client.comment_once(REPO, 1, "Thanks!", marker="other")
        assert len(sim.state.issue(REPO, 1).comments) == 2
        assert sim.counter.by_route[COMMENTS] == 3
    finally:
        client.close()


async def test_errors_become_one_domain_error(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    client = await GitHubClient.connect(configure({"GITHUB_TOKEN": "ghp_revoked"}))
    assert client is not None
    try:
        with pytest.raises(GitHubUnavailable, match="GitHub answered 401: Bad credentials"):
            await client.assign(REPO, 1, "ada")
    finally:
        client.close()


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
async def app_client(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> AsyncIterator[GitHubClient]:
    """The bot's client authenticated as a GitHub App installed on REPO's organisation."""
    sim.state.install_app("acme", [REPO], actor="maintainer")
    key = await asyncio.to_thread(_private_key)
    env = {"GITHUB_APP_ID": str(sim.state.app_id), "GITHUB_APP_PRIVATE_KEY": key}
    client = await GitHubClient.connect(configure(env))
    assert client is not None
    yield client
    client.close()


async def test_app_client_acts_as_the_installation(
    sim: GitHubSimulator, app_client: GitHubClient
) -> None:
    await app_client.comment_once(REPO, 1, "Thanks for the report!", marker="thanks")
    (comment,) = sim.state.issue(REPO, 1).comments
    assert comment.user.login.endswith("[bot]")
    assert "POST /app/installations/{id}/access_tokens" in sim.counter.by_route


async def test_an_expired_installation_token_is_replaced(
    sim: GitHubSimulator, clock: ManualClock, app_client: GitHubClient
) -> None:
    await app_client.comment_once(REPO, 1, "First", marker="first")
    clock.advance(timedelta(hours=2))  # the simulator now refuses the first token
    await app_client.comment_once(REPO, 1, "Second", marker="second")

    bodies = [c.body.split("\n\n")[0] for c in sim.state.issue(REPO, 1).comments]
    assert bodies == ["First", "Second"]
    assert sim.counter.by_route["POST /app/installations/{id}/access_tokens"] >= 2


async def test_app_not_installed_is_reported(
    sim: GitHubSimulator, configure: Callable[[dict[str, str]], Config]
) -> None:
    key = await asyncio.to_thread(_private_key)
    env = {"GITHUB_APP_ID": str(sim.state.app_id), "GITHUB_APP_PRIVATE_KEY": key}
    with pytest.raises(GitHubUnavailable, match=f"not installed on {REPO}"):
        await GitHubClient.connect(configure(env))
