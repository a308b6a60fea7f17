# SPDX-License-Identifier: Apache-2.0
"""`/issues`: browsing good-first-issues with filters and pages, through both simulators."""

from __future__ import annotations

import pytest

from bot.sandbox.community import Sandbox
from bot.sandbox.discord import InteractionResult
from tests.e2e.test_onboarding import member

CORE, SDK = "helios-engine/helios", "helios-engine/helios-sdk-python"


async def browse(sandbox: Sandbox, name: str = "ada", **options: str) -> InteractionResult:
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    return await sandbox.driver.run_command(member(sandbox, name), general, "issues", options)


async def more_issues(sandbox: Sandbox, count: int) -> None:
    for n in range(count):
        labels = ["good first issue", "docs"] if n % 2 else ["good first issue"]
        sandbox.github.state.open_issue(CORE, "marta", f"Starter task {n}", labels=labels)
    await sandbox.github.emitter.flush()
    await sandbox.settle()


async def test_pages_turn_and_keep_their_filters(sandbox: Sandbox) -> None:
    await more_issues(sandbox, 10)  # 12 good first issues in all
    first = await browse(sandbox)
    assert first.ephemeral
    assert first.embeds[0]["footer"]["text"] == "Page 1 of 3 · 12 open"
    message = first.message
    assert message is not None
    assert message.button_labels[-2:] == ["Previous", "Next"]
    assert len([label for label in message.button_labels if label.startswith("Claim")]) == 5

    await sandbox.driver.click(message, label="Next")
    assert message.embeds[0]["footer"]["text"] == "Page 2 of 3 · 12 open"
    await sandbox.driver.click(message, label="Next")
    assert message.embeds[0]["footer"]["text"] == "Page 3 of 3 · 12 open"
    last = message.find_component(label="Next", type=2)
    assert last.get("disabled") is True

    docs = await browse(sandbox, area="docs")
    assert docs.embeds[0]["title"] == "Good first issues in docs"
    assert docs.embeds[0]["footer"]["text"] == "Page 1 of 1 · 5 open"
    assert docs.message is not None
    assert "Next" not in docs.message.button_labels


async def test_repository_filter_and_claim_from_the_list(sandbox: Sandbox) -> None:
    only_sdk = await browse(sandbox, repo=SDK)
    assert only_sdk.embeds[0]["title"] == f"Good first issues in {SDK}"
    assert f"{SDK}#1" in only_sdk.embeds[0]["description"]
    assert CORE + "#" not in only_sdk.embeds[0]["description"]
    assert sandbox.community is not None
    choices = await sandbox.driver.autocomplete(
        member(sandbox, "ada"),
        sandbox.community.channels["general"],
        "issues",
        {"repo": "sdk"},
        focused="repo",
    )
    assert [c["value"] for c in choices] == [SDK]

    # Someone without a GitHub link is sent to /start, kindly.
    assert only_sdk.message is not None
    refused = await sandbox.driver.click(only_sdk.message, label="Claim helios-sdk-python#1")
    assert refused.content.startswith("Link your GitHub account first")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"area": "cooking"}, "There is no area called **cooking**"),
        ({"repo": "someone/else"}, "I don't follow a repository called **someone/else**"),
    ],
)
async def test_unknown_filters_are_refused_by_name(
    sandbox: Sandbox, options: dict[str, str], expected: str
) -> None:
    result = await browse(sandbox, **options)
    assert result.ephemeral
    assert result.content.startswith(expected)


async def test_nothing_matching_says_so(sandbox: Sandbox) -> None:
    result = await browse(sandbox, area="sdk-python")
    assert result.embeds[0]["description"].startswith("Nothing open matches right now")
