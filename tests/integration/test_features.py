# SPDX-License-Identifier: Apache-2.0
"""A feature is one place: a toy feature, declared here and given to the Runtime, sees its
webhook handler, its job and its promise run through the real ingestion, scheduler and
outbox, without any shared module learning its name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.models import Promise
from bot.feature import Context, Feature, Periodic, Webhook
from bot.github.ingest import GitHubEvent
from bot.outbox import promise
from bot.runtime import Runtime
from bot.sandbox.github import GitHubSimulator
from bot.services import celebrations

SECRET = "toy-webhook-secret-0123"
TOKEN = "ghp_toy_feature_token"
REPO = "acme/widgets"


class Toy:
    """Thanks whoever opens an issue, on GitHub, and counts its job's runs."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, str | None, int]] = []
        self.job_runs: list[str] = []
        self.feature = Feature(
            "toy",
            webhooks=(Webhook({"issues": frozenset({"opened"})}, self.on_issue),),
            jobs=(Periodic("toy-tally", timedelta(hours=1), self.tally),),
            promises=frozenset({"github_comment"}),
            enabled=lambda _settings: True,  # no config section of its own
        )

    async def on_issue(self, context: Context, session: AsyncSession, event: GitHubEvent) -> None:
        issue = event.issue  # typed, parsed once by ingestion
        self.handled.append((event.event, event.action, issue.number))
        await promise(
            session,
            feature="toy",
            guild_id=context.guild_id,
            key=f"toy-thanks:{issue.repository_id}:{issue.number}",
            target_kind="github_comment",
            target_id=issue.repository_id,
            payload={"repository": REPO, "number": issue.number, "body": "Thanks, from toy!"},
            now=context.clock.now(),
        )

    async def tally(self, context: Context) -> None:
        self.job_runs.append(context.clock.now().isoformat())


@pytest.fixture
async def github(clock: ManualClock) -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(clock, webhook_secret=SECRET) as simulator:
        simulator.add_token(TOKEN, "helios-bot")
        simulator.state.create_repo(REPO)
        yield simulator


@pytest.fixture
def start_runtime(
    database_url: str,
    write_config: Callable[..., Path],
    clock: ManualClock,
    github: GitHubSimulator,
) -> Callable[[list[Feature]], Runtime]:
    config = load_config(
        write_config(
            f'[github]\napi_url = "{github.api_url}"\nrepositories = ["{REPO}"]\n'
            "seconds_between_requests = 0\nseconds_between_writes = 0\n"
            "sync_interval_minutes = 0\n"
        ),
        {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": TOKEN},
    )
    return lambda features: Runtime(config, clock, "web", features=features)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):  # real time, at most 10 s
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"never happened: {what}")


async def test_a_toy_feature_runs_its_handler_job_and_promise_through_the_real_machinery(
    start_runtime: Callable[[list[Feature]], Runtime],
    github: GitHubSimulator,
    clock: ManualClock,
) -> None:
    toy = Toy()
    # Celebrations have no [celebrations] section in this config: declared, but off.
    runtime = start_runtime([toy.feature, celebrations.FEATURE])
    await runtime.start(apply_migrations=True)
    try:
        assert [feature.name for feature in runtime.features] == ["toy"]
        github.emitter.target_url = f"{runtime.url}/github/webhook"
        issue = github.state.open_issue(REPO, "alice", "The widget squeaks")
        (opened,) = await github.emitter.flush()
        assert opened.status == 200

        await eventually(lambda: bool(issue.comments), "the promised comment")
        assert toy.handled == [("issues", "opened", issue.number)]
        assert [c.body.split("\n\n")[0] for c in issue.comments] == ["Thanks, from toy!"]

        await eventually(lambda: len(toy.job_runs) == 1, "the job's first run")
        clock.advance(timedelta(hours=1))
        await eventually(lambda: len(toy.job_runs) == 2, "the job's second run")
        assert toy.job_runs[1] == clock.now().isoformat()

        # The same event in a new delivery: handled again, but promised and posted once.
        again = github.emitter.enqueue(opened.event, json.loads(opened.body))
        assert (await github.emitter.deliver(again)).status == 200
        await eventually(lambda: len(toy.handled) == 2, "the second delivery")
        async with runtime.sessions() as session:
            promised = list(await session.scalars(select(Promise).where(Promise.feature == "toy")))
        assert [(p.key, p.status) for p in promised] == [
            (f"toy-thanks:{github.state.repo(REPO).id}:{issue.number}", "sent")
        ]
        assert len(issue.comments) == 1
    finally:
        await runtime.close()
