# SPDX-License-Identifier: Apache-2.0
"""Service-level pings end to end, on the simulated clock: the real bot posts a notice, the
breach ping, the escalation in the triage channel, and falls silent once a maintainer labels
the issue; an issue triaged in time gets nothing; a pull request whose author is asked for
changes is left alone until they push, then waits on review with pings of its own; `/sla
snooze` is for maintainers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Message
from tests.e2e.test_mentorship import channel, mention, run
from tests.e2e.test_onboarding import member

REPO = "helios-engine/helios"
HOUR = timedelta(hours=1)
# How an item is marked when GitHub calls its author a first-time contributor (a new login
# opening a pull request is one).
FIRST_TIMER = "🌱 first-time contributor · "


def service_levels(community: DemoCommunity) -> str:
    """[sla] with the demo's triage channel and Maintainer role; marta triages every week."""
    return (
        "[sla]\n"
        f"triage_channel_id = {community.channels['triage'].id}\n"
        f"maintainer_role_id = {community.roles['Maintainer'].id}\n"
        f"triagers = [{community.members['marta'].id}]\n"
        "digest = false\n"
    )


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str]:
    return service_levels


async def hours_pass(sandbox: Sandbox, hours: float) -> list[Message]:
    """Move the clock on, let the job run and its messages go out; the new ones in #triage."""
    before = len(triage(sandbox))
    assert isinstance(sandbox.clock, ManualClock)
    sandbox.clock.advance(hours * HOUR)
    await sandbox.settle()
    return triage(sandbox)[before:]


def triage(sandbox: Sandbox) -> list[Message]:
    return sandbox.discord.messages_in(channel(sandbox, "triage"))


def pinged(message: Message) -> tuple[list[int], list[int]]:
    """The users and roles the message may ping, as the bot sent it."""
    allowed = message.allowed_mentions or {}
    return [int(u) for u in allowed.get("users", [])], [int(r) for r in allowed.get("roles", [])]


async def opened(sandbox: Sandbox, title: str) -> int:
    issue = sandbox.github.state.open_issue(REPO, "alice-gh", title)
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    return issue.number


async def test_an_issue_triaged_in_time_gets_no_message(sandbox: Sandbox) -> None:
    number = await opened(sandbox, "Crash on start")
    assert await hours_pass(sandbox, 12) == []
    sandbox.github.state.add_labels(REPO, number, ["bug"], actor="marta")
    await sandbox.github.emitter.flush()
    assert await hours_pass(sandbox, 72) == []


async def test_a_breaching_issue_gets_a_notice_a_ping_an_escalation_then_silence(
    sandbox: Sandbox,
) -> None:
    number = await opened(sandbox, "Crash on start <@&1> **now**")
    marta = member(sandbox, "marta").id
    assert sandbox.community is not None
    maintainers = sandbox.community.roles["Maintainer"].id

    assert await hours_pass(sandbox, 17) == []
    (notice,) = await hours_pass(sandbox, 1)
    assert notice.content.startswith(f"⏳ Issue [{REPO}#{number}](")
    assert "“Crash on start <\u200b@&1> \\*\\*now\\*\\*” has waited 18 h" in notice.content
    assert pinged(notice) == ([], [])

    (breach,) = await hours_pass(sandbox, 6)
    assert breach.content.startswith(f"⚠️ Issue [{REPO}#{number}](")
    assert f"{mention(sandbox, 'marta')} (this week's triager), could you" in breach.content
    assert pinged(breach) == ([marta], [])
    assert await hours_pass(sandbox, 23) == []

    (escalation,) = await hours_pass(sandbox, 1)
    assert escalation.content.startswith(f"🚨 <@&{maintainers}> Issue [{REPO}#{number}](")
    assert pinged(escalation) == ([marta], [maintainers])

    sandbox.github.state.add_labels(REPO, number, ["bug"], actor="marta")
    await sandbox.github.emitter.flush()
    assert await hours_pass(sandbox, 72) == []


async def test_a_pull_request_cycles_through_changes_requested_and_back(
    sandbox: Sandbox,
) -> None:
    state, marta = sandbox.github.state, member(sandbox, "marta").id
    pull = state.open_pull(REPO, "alice-gh", "Retry on 502")
    await sandbox.github.emitter.flush()
    link = f"[{REPO}#{pull.number}]("

    assert await hours_pass(sandbox, 35) == []
    (notice,) = await hours_pass(sandbox, 1)
    assert notice.content.startswith(f"⏳ {FIRST_TIMER}Pull request {link}")
    assert "has waited 36 h of its 48 h review target" in notice.content
    (breach,) = await hours_pass(sandbox, 12)
    assert breach.content.startswith(f"⚠️ {FIRST_TIMER}Pull request {link}")
    assert "is past its 48 h review target" in breach.content
    assert pinged(breach) == ([marta], [])

    # Changes requested: the pull request waits on its author, who has no target.
    state.submit_review(REPO, pull.number, "marta", "CHANGES_REQUESTED", "Only idempotent ones")
    await sandbox.github.emitter.flush()
    for _ in range(5):
        assert await hours_pass(sandbox, 24) == []
    waiting = await run(sandbox, "ada", "sla status")
    assert "Waiting on the author: 1" in waiting.embeds[0]["fields"][0]["value"]

    # The author pushes: a new review wait, counted from the push, with its own stages.
    state.push_commits(REPO, pull.number, actor="alice-gh")
    await sandbox.github.emitter.flush()
    assert await hours_pass(sandbox, 35) == []
    (again,) = await hours_pass(sandbox, 1)
    assert again.content.startswith(f"⏳ {FIRST_TIMER}Pull request {link}")
    assert "has waited 36 h of its 48 h review target" in again.content
    (second_breach,) = await hours_pass(sandbox, 12)
    assert second_breach.content.startswith(f"⚠️ {FIRST_TIMER}Pull request {link}")
    assert pinged(second_breach) == ([marta], [])

    state.submit_review(REPO, pull.number, "marta", "APPROVED")
    await sandbox.github.emitter.flush()
    assert await hours_pass(sandbox, 72) == []


async def test_sla_snooze_is_for_maintainers(sandbox: Sandbox) -> None:
    number = await opened(sandbox, "Crash on start")

    refused = await run(
        sandbox, "ada", "sla snooze", item=f"{REPO}#{number}", duration="2d", reason="later"
    )
    assert refused.ephemeral
    assert refused.content == "Only maintainers can snooze service-level pings."

    bad = await run(
        sandbox, "marta", "sla snooze", item=f"{REPO}#{number}", duration="2 weeks", reason="later"
    )
    assert bad.ephemeral
    assert "“2 weeks” isn't a duration I understand" in bad.content

    snoozed = await run(
        sandbox,
        "marta",
        "sla snooze",
        item=f"https://github.com/{REPO}/issues/{number}",
        duration="3d",
        reason="Waiting for the release",
    )
    assert snoozed.ephemeral
    assert snoozed.content.startswith(f"Snoozed [{REPO}#{number}](")
    assert snoozed.content.endswith("no pings about it until then. Reason: Waiting for the release")
    assert await hours_pass(sandbox, 71) == []
    # The snooze over, the latest stage due: past twice its target, the escalation.
    (escalation,) = await hours_pass(sandbox, 1)
    assert escalation.content.startswith("🚨 <@&")
