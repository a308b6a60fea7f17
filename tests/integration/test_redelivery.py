# SPDX-License-Identifier: Apache-2.0
"""The ``github-redeliver`` job against the GitHub simulator, through the real server.

GitHub does not redeliver a failed delivery by itself: a delivery answered 503 while the
database was down must be asked for again, and end up processed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.models import WebhookDelivery
from bot.github.redeliver import worth_redelivering
from bot.runtime import Runtime
from bot.sandbox.github import GitHubSimulator
from tests.integration.test_webhook import database_down, jobs_settled

SECRET = "redelivery-secret"
REPO = "acme/widgets"
INTERVAL_MINUTES = 10
INTERVAL = timedelta(minutes=INTERVAL_MINUTES)
POLLS = 1000  # of 20 ms: how long to wait for the runtime before calling it stuck


def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


@pytest.fixture
async def github(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(clock, webhook_secret=SECRET) as simulator:
        simulator.state.add_org("acme", members=["maintainer"])
        simulator.state.create_repo(REPO)
        simulator.state.install_app("acme", [REPO])
        yield simulator


@pytest.fixture
async def runtime(
    database_url: str,
    write_config: Callable[..., Path],
    clock: ManualClock,
    github: GitHubSimulator,
) -> AsyncIterator[Runtime]:
    """A `web` process of a GitHub App, which receives the simulator's webhooks."""
    config = write_config(
        "[database]\nsqlite_busy_timeout_ms = 100\n"
        f'[github]\napi_url = "{github.api_url}"\nrepositories = ["{REPO}"]\n'
        f"sync_interval_minutes = 0\nredeliver_interval_minutes = {INTERVAL_MINUTES}\n"
    )
    env = {
        "DATABASE_URL": database_url,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_APP_ID": str(github.state.app_id),
        "GITHUB_APP_PRIVATE_KEY": await asyncio.to_thread(private_key),
    }
    started = Runtime(load_config(config, env), clock, "web")
    await started.start(apply_migrations=True)
    github.emitter.target_url = f"{started.url}/github/webhook"
    yield started
    await started.close()


async def run_due_jobs(runtime: Runtime, clock: ManualClock) -> None:
    """Move time on by one interval and wait until the jobs that became due have run."""
    clock.advance(INTERVAL)
    await jobs_settled(runtime)


async def status_of(runtime: Runtime, delivery_id: str) -> str | None:
    async with runtime.sessions() as session:
        return await session.scalar(
            select(WebhookDelivery.status).where(WebhookDelivery.delivery_id == delivery_id)
        )


async def test_a_delivery_refused_while_the_database_was_down_is_redelivered_and_processed(
    database_url: str, clock: ManualClock, github: GitHubSimulator, runtime: Runtime
) -> None:
    assert {d.status for d in await github.emitter.flush()} == {200}  # the installation
    # The scheduler's first pass records when each job is due; the database going down
    # before that (a busy machine) would push the job's first run a whole interval later.
    await jobs_settled(runtime)
    async with database_down(database_url):
        github.state.open_issue(REPO, "alice", "The renderer crashes on start")
        (refused,) = await github.emitter.flush()
    assert refused.status == 503
    assert await status_of(runtime, refused.delivery_id) is None

    await run_due_jobs(runtime, clock)
    (redelivered,) = await github.emitter.flush()
    assert (redelivered.delivery_id, redelivered.redelivery, redelivered.status) == (
        refused.delivery_id,
        True,
        200,
    )
    for _ in range(POLLS):
        if await status_of(runtime, refused.delivery_id) == "processed":
            break
        await asyncio.sleep(0.02)
    assert await status_of(runtime, refused.delivery_id) == "processed"

    # Delivered now: the next run asks for nothing more.
    await run_due_jobs(runtime, clock)
    assert github.emitter.pending == []


async def test_only_failures_a_retry_can_fix_and_the_inbox_lacks_are_asked_for(
    clock: ManualClock, github: GitHubSimulator, runtime: Runtime
) -> None:
    await github.emitter.flush()
    live, github.emitter.target_url = github.emitter.target_url, "http://127.0.0.1:9/nowhere"
    github.state.open_issue(REPO, "alice", "Sent while the bot was away")
    (unanswered,) = await github.emitter.flush()
    github.emitter.target_url = live
    github.emitter.secret = "not-the-secret"  # a redelivery would get the same 401
    github.state.open_issue(REPO, "alice", "Signed with the wrong secret")
    github.emitter.secret = SECRET
    github.state.open_issue(REPO, "alice", "Stored, but the answer was lost")
    unauthorised, stored = await github.emitter.flush()
    assert (unanswered.status, unauthorised.status, stored.status) == (None, 401, 200)
    github.emitter.sent[-1].status = 504  # as GitHub records an answer it gave up waiting for

    await run_due_jobs(runtime, clock)
    assert [d.delivery_id for d in github.emitter.pending] == [unanswered.delivery_id]


@pytest.mark.parametrize(
    ("status_code", "worth_it"),
    [
        *[(code, True) for code in (0, 408, 429, 502, 503, 504)],
        *[(code, False) for code in (200, 202, 400, 401, 413, 500)],
    ],
)
def test_which_failures_are_worth_a_redelivery(status_code: int, worth_it: bool) -> None:
    assert worth_redelivering(status_code) is worth_it
