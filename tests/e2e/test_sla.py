# SPDX-License-Identifier: Apache-2.0
"""Service levels end to end: `/sla status` shows an item near its target, the daily digest
arrives in the triage channel at the configured local time (once a day), and a newcomer's
first pull request is told how soon a review usually comes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Message
from tests.e2e.test_mentorship import channel, run
from tests.e2e.test_onboarding import linked, member

REPO, SDK = "helios-engine/helios", "helios-engine/helios-sdk-python"


def service_levels(community: DemoCommunity) -> str:
    """[sla] with the demo's triage channel; 17:00 in Berlin is 16:00 UTC in January."""
    return (
        "[sla]\n"
        f"triage_channel_id = {community.channels['triage'].id}\n"
        "triage_hours = 8\n"
        'time_zone = "Europe/Berlin"\n'
        'digest_time = "17:00"\n'
    )


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str]:
    """Service levels on (the clock starts on Monday 5 January 2026 at 09:00 UTC)."""
    return service_levels


async def at(
    sandbox: Sandbox, clock: ManualClock, hour: int, minute: int = 0, day: int = 5
) -> None:
    clock.set(datetime(2026, 1, day, hour, minute, tzinfo=UTC))
    await sandbox.settle()


def digests(sandbox: Sandbox) -> list[Message]:
    """The digests in #triage (where the pings go too)."""
    triage = channel(sandbox, "triage").id
    return [
        m
        for m in sandbox.discord.state.messages.values()
        if m.channel_id == triage
        and m.embeds
        and m.embeds[0]["title"].startswith("Service levels: daily digest")
    ]


async def test_status_and_the_daily_digest(sandbox: Sandbox, clock: ManualClock) -> None:
    issue = sandbox.github.state.open_issue(REPO, "alice", "Crash when the cache is full")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    await at(sandbox, clock, 15)  # six hours of eight: near its target
    shown = await run(sandbox, "ada", "sla status")  # anyone may look
    assert shown.ephemeral
    (embed,) = shown.embeds
    assert embed["title"] == "Service levels"
    assert embed["description"] == "**0** past target, **1** near it (75% of it or more)."
    (field,) = embed["fields"]
    assert field["name"] == f"{REPO}: 0 past target, 1 near it"
    web = sandbox.github.web_url
    assert field["value"] == (
        f"**Near target**\n[\\#{issue.number}]({web}/{REPO}/issues/{issue.number}) Crash"
        " when the cache is full · triage, 6 h of 8 h\n"
        "Met within target (30 days): no waits decided yet"
    )
    choices = await sandbox.driver.autocomplete(
        member(sandbox, "ada"), channel(sandbox, "general"), "sla status", {"repo": "SDK"}, "repo"
    )
    assert [c["value"] for c in choices] == [SDK]
    quiet = await run(sandbox, "ada", "sla status", repo=SDK)
    assert quiet.embeds[0]["title"] == f"Service levels: {SDK}"
    assert quiet.embeds[0]["fields"][0]["name"] == f"{SDK}: 0 past target, 0 near it"
    unknown = await run(sandbox, "ada", "sla status", repo="helios-engine/nope")
    assert unknown.ephemeral
    assert unknown.content.startswith("I don't measure a repository called “helios-engine/nope”")

    await at(sandbox, clock, 15, 59)
    assert digests(sandbox) == []
    await at(sandbox, clock, 16)  # 17:00 in Berlin
    (monday,) = digests(sandbox)
    (embed,) = monday.embeds
    assert embed["title"] == "Service levels: daily digest for Monday 5 January 2026"
    (field,) = embed["fields"]
    assert field["name"] == f"{REPO}: 0 past target, 1 near it"
    assert "Crash when the cache is full · triage, 7 h of 8 h" in field["value"]

    await at(sandbox, clock, 23)
    assert len(digests(sandbox)) == 1  # once a day
    await at(sandbox, clock, 16, 5, day=6)
    _, tuesday = digests(sandbox)
    (embed,) = tuesday.embeds
    assert embed["title"] == "Service levels: daily digest for Tuesday 6 January 2026"
    assert embed["fields"][0]["name"] == f"{REPO}: 1 past target, 0 near it"
    assert embed["fields"][0]["value"].endswith("Met within target (30 days): triage 0% (0 of 1)")


async def test_a_first_pull_request_is_told_how_soon_a_review_usually_comes(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    state = sandbox.github.state
    for n, hours in enumerate([2, 3, 5, 9, 30]):
        pull = state.open_pull(REPO, f"contributor{n}", f"Change {n}")
        clock.advance(timedelta(hours=hours))
        state.submit_review(REPO, pull.number, "marta", "APPROVED")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    await linked(sandbox, "ada", "ada-codes")
    pull = state.open_pull(REPO, "ada-codes", "docs: cache eviction flags")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    dm = await sandbox.driver.wait_for_message(lambda m: "first pull request" in m.content)
    assert dm.content == (
        f"You opened your first pull request, [{REPO}#{pull.number}]"
        f"({sandbox.github.web_url}/{REPO}/pull/{pull.number}). That's a big step! A "
        "maintainer will review it, usually within about 5 hours here; questions are always "
        "welcome."
    )
