# SPDX-License-Identifier: Apache-2.0
"""Only followed repositories reach Discord, and private ones only when the config opts in.

Through the real bot and both simulators: announcements, `/issues` and its autocomplete,
`/start`'s recommendations and Claim buttons, and what reaches GitHub.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import Config, GitHubSettings
from bot.db.models import GitHubRepository, WebhookDelivery
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import InteractionResult, Message
from tests.e2e.test_onboarding import linked, member

CORE, SDK = "helios-engine/helios", "helios-engine/helios-sdk-python"
VAULT = "helios-engine/vault"  # private, followed through the organisation
OUTSIDER = "someone/secret-plans"  # private, not followed


@pytest.fixture
async def sandbox(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Sandbox]:
    """The demo community, following its organisation's repositories too."""
    sandbox = Sandbox(tmp_path, clock, github_extra='organization = "helios-engine"\n')
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def arrive(sandbox: Sandbox) -> None:
    await sandbox.github.emitter.flush()
    await sandbox.settle()


def announced(sandbox: Sandbox) -> list[str]:
    """The titles of the issues announced in #dev, the good-first-issues channel."""
    assert sandbox.community is not None
    dev = sandbox.community.channels["dev"]
    return [m.embeds[0]["title"] for m in sandbox.discord.messages_in(dev) if m.embeds]


def announcement_of(sandbox: Sandbox, issue: str) -> Message:
    assert sandbox.community is not None
    dev = sandbox.community.channels["dev"]
    messages = sandbox.discord.messages_in(dev)
    return next(m for m in messages if m.embeds and m.embeds[0]["title"].startswith(issue))


async def browse(sandbox: Sandbox, **options: str) -> InteractionResult:
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    return await sandbox.driver.run_command(member(sandbox, "ada"), general, "issues", options)


async def listed(sandbox: Sandbox) -> str:
    """What `/issues` lists for ada."""
    return str((await browse(sandbox)).embeds[0].get("description", ""))


async def repositories_offered(sandbox: Sandbox, typed: str) -> list[str]:
    assert sandbox.community is not None
    choices = await sandbox.driver.autocomplete(
        member(sandbox, "ada"),
        sandbox.community.channels["general"],
        "issues",
        {"repo": typed},
        focused="repo",
    )
    return [choice["value"] for choice in choices]


async def reconfigure(sandbox: Sandbox, **github: object) -> None:
    """Restart the bot with these [github] settings changed, as an organiser would."""
    assert sandbox.config is not None
    settings = sandbox.config.settings
    changed = GitHubSettings.model_validate(settings.github.model_dump() | github)
    sandbox.config = Config(
        settings=settings.model_copy(update={"github": changed}),
        secrets=sandbox.config.secrets,
        path=sandbox.config.path,
    )
    await sandbox.restart_bot()


async def claim(sandbox: Sandbox, announcement: Message) -> InteractionResult:
    return await sandbox.driver.click(announcement, label="Claim", member=member(sandbox, "ada"))


def assignees(sandbox: Sandbox, repository: str, number: int) -> list[str]:
    return [user.login for user in sandbox.github.state.issue(repository, number).assignees]


async def test_an_unfollowed_repository_never_reaches_discord(sandbox: Sandbox) -> None:
    state = sandbox.github.state
    state.add_org("someone")
    state.create_repo(OUTSIDER, private=True)
    issue = state.open_issue(OUTSIDER, "marta", "Rotate the keys", labels=["good first issue"])
    await arrive(sandbox)

    assert not [title for title in announced(sandbox) if OUTSIDER in title]
    await linked(sandbox, "ada", "ada-codes")
    assert OUTSIDER not in await listed(sandbox)
    assert await repositories_offered(sandbox, "secret") == []
    refused = await browse(sandbox, repo=OUTSIDER)
    assert refused.content.startswith(f"I don't follow a repository called **{OUTSIDER}**")
    assert assignees(sandbox, OUTSIDER, issue.number) == []
    # Recorded as ignored, with the reason; nothing of it was normalised.
    async with sandbox.running_bot.runtime.sessions() as session:
        deliveries = list(
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.last_error.contains(OUTSIDER))
            )
        )
        names = set(await session.scalars(select(GitHubRepository.full_name)))
    assert deliveries
    assert {(d.status, d.body, d.last_error) for d in deliveries} == {
        ("ignored", None, f"not a followed repository: {OUTSIDER}")
    }
    assert OUTSIDER not in names


async def test_a_repository_unfollowed_later_leaves_discord(sandbox: Sandbox) -> None:
    stale = announcement_of(sandbox, f"{SDK}#1")  # announced while SDK was followed
    await linked(sandbox, "ada", "ada-codes")
    await reconfigure(sandbox, repositories=[CORE], organization=None)

    assert f"{SDK}#1" not in await listed(sandbox)
    assert f"{CORE}#1" in await listed(sandbox)
    assert await repositories_offered(sandbox, "sdk") == []
    refused = await claim(sandbox, stale)
    assert refused.content.startswith(f"{SDK}#1 isn't offered here any more.")
    assert assignees(sandbox, SDK, 1) == []  # nothing was written to GitHub

    sandbox.github.state.open_issue(SDK, "marta", "Add retries", labels=["good first issue"])
    await arrive(sandbox)
    assert not [title for title in announced(sandbox) if title.startswith(f"{SDK}#2")]


async def test_a_private_repository_is_shown_only_once_opted_in(sandbox: Sandbox) -> None:
    state = sandbox.github.state
    state.create_repo(VAULT, private=True)
    state.open_issue(VAULT, "marta", "Audit the vault", labels=["good first issue"])
    await arrive(sandbox)
    await linked(sandbox, "ada", "ada-codes")

    assert not [title for title in announced(sandbox) if VAULT in title]
    assert VAULT not in await listed(sandbox)
    assert await repositories_offered(sandbox, "vault") == []

    await reconfigure(sandbox, private_repositories=[VAULT])
    assert f"{VAULT}#1" in await listed(sandbox)
    assert await repositories_offered(sandbox, "vault") == [VAULT]
    state.open_issue(VAULT, "marta", "Document the vault", labels=["good first issue"])
    await arrive(sandbox)
    claimed = await claim(sandbox, announcement_of(sandbox, f"{VAULT}#2"))
    assert claimed.content.startswith(f"It's yours: [{VAULT}#2]")
    assert assignees(sandbox, VAULT, 2) == ["ada-codes"]


async def test_a_repository_turned_private_leaves_discord_at_once(sandbox: Sandbox) -> None:
    stale = announcement_of(sandbox, f"{CORE}#1")
    await linked(sandbox, "ada", "ada-codes")
    sandbox.github.state.set_private(CORE, True, actor="ines")
    sandbox.github.state.open_issue(CORE, "marta", "Tidy the docs", labels=["good first issue"])
    await arrive(sandbox)

    assert not [title for title in announced(sandbox) if title.startswith(f"{CORE}#3")]
    assert f"{CORE}#" not in await listed(sandbox)
    refused = await claim(sandbox, stale)
    assert refused.content.startswith(f"{CORE}#1 isn't offered here any more.")
    assert assignees(sandbox, CORE, 1) == []

    sandbox.github.state.set_private(CORE, False, actor="ines")
    await arrive(sandbox)
    assert f"{CORE}#1" in await listed(sandbox)
