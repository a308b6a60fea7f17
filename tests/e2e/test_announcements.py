# SPDX-License-Identifier: Apache-2.0
"""New issues announced in their channels as the webhooks arrive, once each."""

from __future__ import annotations

import pytest

from bot.sandbox.community import Sandbox
from bot.sandbox.discord import Message
from bot.text import ZERO_WIDTH_SPACE
from tests.e2e.test_onboarding import linked, member

REPO = "helios-engine/helios"


@pytest.fixture
def seeded(sandbox: Sandbox) -> set[int]:
    """Messages from start-up, when the seeded good first issues were announced."""
    assert len(sandbox.discord.state.messages) == 2
    return set(sandbox.discord.state.messages)


def channel_messages(sandbox: Sandbox, name: str, seeded: set[int]) -> list[Message]:
    assert sandbox.community is not None
    channel = sandbox.community.channels[name]
    return [m for m in sandbox.discord.messages_in(channel) if m.id not in seeded]


async def arrive(sandbox: Sandbox) -> None:
    await sandbox.github.emitter.flush()
    await sandbox.settle()


async def test_a_good_first_issue_is_announced_once_with_a_claim_button(
    sandbox: Sandbox, seeded: set[int]
) -> None:
    issue = sandbox.github.state.open_issue(
        REPO, "marta", "Explain the frame graph", labels=["good first issue", "docs"]
    )
    for delivery in list(sandbox.github.emitter.pending):  # GitHub redelivers, too
        sandbox.github.emitter.pending.append(delivery)
    await arrive(sandbox)

    (announced,) = channel_messages(sandbox, "dev", seeded)
    assert announced.content.startswith("New good first issue!")
    assert announced.embeds[0]["title"] == f"{REPO}#{issue.number}: Explain the frame graph"
    # GitHub sends a labeled event per label given at creation; the first one announces.
    assert "`good first issue`" in announced.embeds[0]["description"]
    assert announced.button_labels == ["Claim"]
    assert channel_messages(sandbox, "performance", seeded) == []

    # Its Claim button is the same as everywhere else.
    await linked(sandbox, "ada", "ada-codes")
    assert sandbox.community is not None
    claimed = await sandbox.driver.click(
        announced, label="Claim", member=sandbox.community.members["ada"]
    )
    assert claimed.ephemeral
    assert claimed.content.startswith(f"It's yours: [{REPO}#{issue.number}]")


async def test_labels_route_new_issues_to_their_channels(
    sandbox: Sandbox, seeded: set[int]
) -> None:
    issue = sandbox.github.state.open_issue(REPO, "ines", "Culling is slow on big scenes")
    await arrive(sandbox)
    assert channel_messages(sandbox, "performance", seeded) == []  # no label yet

    sandbox.github.state.add_labels(REPO, issue.number, ["performance"], actor="marta")
    await arrive(sandbox)
    (routed,) = channel_messages(sandbox, "performance", seeded)
    assert routed.content == "New issue:"
    assert routed.button_labels == []
    assert channel_messages(sandbox, "dev", seeded) == []  # not a good first issue

    sandbox.github.state.add_labels(REPO, issue.number, ["bug"], actor="marta")
    await arrive(sandbox)
    assert len(channel_messages(sandbox, "performance", seeded)) == 1  # announced once


async def test_pull_requests_and_assigned_issues_are_not_announced(
    sandbox: Sandbox, seeded: set[int]
) -> None:
    sandbox.github.state.add_user("someone")
    sandbox.github.state.open_pull(REPO, "someone", "Speed up culling", labels=["performance"])
    taken = sandbox.github.state.open_issue(REPO, "marta", "Taken already", assignees=["marta"])
    sandbox.github.state.add_labels(REPO, taken.number, ["good first issue"], actor="marta")
    await arrive(sandbox)
    assert channel_messages(sandbox, "performance", seeded) == []
    assert channel_messages(sandbox, "dev", seeded) == []


async def test_an_issue_title_is_shown_as_written_not_as_a_link_or_mention(
    sandbox: Sandbox, seeded: set[int]
) -> None:
    title = "[Verify your account](https://evil.example) @everyone"
    issue = sandbox.github.state.open_issue(REPO, "marta", title, labels=["good first issue"])
    await arrive(sandbox)
    shown = rf"\[Verify your account\](https://evil.example) @{ZERO_WIDTH_SPACE}everyone"

    (announced,) = channel_messages(sandbox, "dev", seeded)
    assert announced.embeds[0]["title"] == f"{REPO}#{issue.number}: {shown}"
    assert announced.allowed_mentions is not None
    assert (announced.allowed_mentions["parse"], announced.allowed_mentions["users"]) == ([], [])

    assert sandbox.community is not None
    listed = await sandbox.driver.run_command(
        member(sandbox, "ada"), sandbox.community.channels["general"], "issues", {}
    )
    description = listed.embeds[0]["description"]
    assert f"/issues/{issue.number}) {shown}" in description
    assert title not in description
