# SPDX-License-Identifier: Apache-2.0
"""A claim's life after the click: reminders, "still on it", release, and linked PRs."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.models import Claim
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import Message
from tests.e2e.test_onboarding import linked, member, start

REPO = "helios-engine/helios"
DAY = timedelta(days=1)


def clock(sandbox: Sandbox) -> ManualClock:
    assert isinstance(sandbox.clock, ManualClock)
    return sandbox.clock


async def claimed(sandbox: Sandbox, name: str, login: str) -> Message:
    message = await linked(sandbox, name, login)
    await sandbox.driver.click(message, label="Claim helios#1")
    return message


async def days_pass(sandbox: Sandbox, days: int) -> None:
    """Move the clock on, letting the scheduled follow-up run, then wait for its messages."""
    clock(sandbox).advance(days * DAY)
    await sandbox.settle()


async def claim_status(sandbox: Sandbox) -> str | None:
    async with sandbox.running_bot.runtime.sessions() as session:
        return await session.scalar(select(Claim.status).order_by(Claim.id.desc()).limit(1))


def assignees(sandbox: Sandbox, number: int = 1) -> list[str]:
    return [user.login for user in sandbox.github.state.issue(REPO, number).assignees]


async def test_a_quiet_claim_is_reminded_then_released(sandbox: Sandbox) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    ada = member(sandbox, "ada")

    await days_pass(sandbox, 6)
    assert sandbox.discord.dm_messages(ada) == []
    await days_pass(sandbox, 1)
    reminder = await sandbox.driver.wait_for_message(lambda m: "How is it going?" in m.content)
    assert sandbox.discord.dm_messages(ada) == [reminder]
    assert f"{REPO}#1" in reminder.content
    assert reminder.button_labels == ["I'm still on it", "Give it back"]
    await days_pass(sandbox, 1)  # one reminder, not one a day
    assert len(sandbox.discord.dm_messages(ada)) == 1

    await days_pass(sandbox, 6)
    freed = await sandbox.driver.wait_for_message(lambda m: "I've freed" in m.content)
    assert sandbox.discord.dm_messages(ada) == [reminder, freed]
    assert assignees(sandbox) == []
    assert await claim_status(sandbox) == "released"
    # The issue is offered again, to anyone.
    offered = await start(sandbox, "ada")
    assert offered.message is not None
    assert "Claim helios#1" in offered.message.button_labels


async def test_still_on_it_restarts_the_grace_period(sandbox: Sandbox) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    ada = member(sandbox, "ada")
    await days_pass(sandbox, 7)
    reminder = await sandbox.driver.wait_for_message(lambda m: "How is it going?" in m.content)

    kept = await sandbox.driver.click(reminder, label="I'm still on it", member=ada)
    assert kept.ephemeral
    assert kept.content.startswith(f"Great, [{REPO}#1]")

    await days_pass(sandbox, 7)  # 14 days after the claim, 7 after "still on it"
    assert await claim_status(sandbox) == "active"
    assert assignees(sandbox) == ["ada-codes"]
    second = await sandbox.driver.wait_for_message(
        lambda m: "How is it going?" in m.content and m.id != reminder.id
    )
    reminders = [m for m in sandbox.discord.dm_messages(ada) if "How is it going?" in m.content]
    assert reminders == [reminder, second]
    assert reminder.content.startswith(f"Hi! You claimed [{REPO}#1]")
    assert second.content.startswith("Hi! It's been 7 days since you said you're still on")


async def test_give_it_back_from_the_reminder(sandbox: Sandbox) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    await days_pass(sandbox, 7)
    reminder = await sandbox.driver.wait_for_message(lambda m: "How is it going?" in m.content)

    dropped = await sandbox.driver.click(
        reminder, label="Give it back", member=member(sandbox, "ada")
    )
    assert dropped.content.startswith(f"Done: {REPO}#1 is free again")
    assert assignees(sandbox) == []
    # Too late for the other button: the claim has ended, and the bot says so kindly.
    late = await sandbox.driver.click(
        reminder, label="I'm still on it", member=member(sandbox, "ada")
    )
    assert late.ephemeral
    assert late.content.startswith("That claim has ended already.")


async def test_a_claim_with_a_pull_request_is_left_alone_and_ends_when_merged(
    sandbox: Sandbox,
) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    pull = sandbox.github.state.open_pull(REPO, "ada-codes", "docs: eviction flags", "Fixes #1")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    await days_pass(sandbox, 15)
    assert await claim_status(sandbox) == "active"
    assert not [
        m for m in sandbox.discord.dm_messages(member(sandbox, "ada")) if "claimed" in m.content
    ]

    sandbox.github.state.merge(REPO, pull.number, actor="marta")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    assert await claim_status(sandbox) == "done"


async def test_an_issue_with_an_open_linked_pull_request_is_not_recommended(
    sandbox: Sandbox,
) -> None:
    sandbox.github.state.add_user("someone")
    sandbox.github.state.open_pull(REPO, "someone", "Eviction docs", "This closes #1.")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    message = await linked(sandbox, "ada", "ada-codes")
    assert "Claim helios#1" not in message.button_labels
    assert "Claim helios-sdk-python#1" in message.button_labels


async def test_an_old_claim_button_rechecks_the_issue(sandbox: Sandbox) -> None:
    """Announced with a Claim button, then no longer a good first issue: the button refuses."""
    state = sandbox.github.state
    issue = state.open_issue(REPO, "marta", "Profile the loader", labels=["good first issue"])
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    assert sandbox.community is not None
    dev = sandbox.community.channels["dev"]
    (announced,) = [m for m in sandbox.discord.messages_in(dev) if "Profile" in str(m.embeds)]
    state.remove_label(REPO, issue.number, "good first issue", actor="marta")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    await linked(sandbox, "ada", "ada-codes")
    refused = await sandbox.driver.click(announced, label="Claim", member=member(sandbox, "ada"))
    assert refused.content.startswith(
        f"{REPO}#{issue.number} is no longer marked as a good first issue."
    )
    assert assignees(sandbox, issue.number) == []


async def test_a_forged_claim_id_with_a_huge_number_is_not_taken_for_a_claim(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    message = await linked(sandbox, "ada", "ada-codes")
    button = message.find_component(label="Claim helios#1")
    button["custom_id"] = f"claim:{10**30}:1"  # a client can send any custom id
    sandbox.driver.timeout = 0.5
    with pytest.raises(TimeoutError):  # no item matches: nothing runs, nothing fails
        await sandbox.driver.click(message, label="Claim helios#1")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert assignees(sandbox) == []


async def test_a_claim_github_fails_is_sent_once_and_withdrawn(sandbox: Sandbox) -> None:
    """GitHub may have assigned behind its error; the click still makes one request."""
    message = await linked(sandbox, "ada", "ada-codes")
    sandbox.github.inject_error(502, count=20, path=r"/assignees$")
    sandbox.github.counter.reset()

    refused = await sandbox.driver.click(message, label="Claim helios#1")
    assert refused.content.startswith("GitHub didn't accept the claim just now")
    assert sandbox.github.counter.by_route == {
        "POST /repos/{owner}/{repo}/issues/{number}/assignees": 1
    }
    assert await claim_status(sandbox) == "withdrawn"
