# SPDX-License-Identifier: Apache-2.0
"""Service levels in business-days mode, end to end: an issue opened on a Friday evening is
neither noticed nor breached over the weekend; its notice and breach come when Monday's hours
(in the community's time zone) have made up the rest of its target, and a pull request's on
Tuesday."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox
from tests.e2e.test_onboarding import member
from tests.e2e.test_sla_pings import FIRST_TIMER, REPO, pinged, triage


def service_levels(community: DemoCommunity) -> str:
    """Business days in Berlin (UTC+1 in January); marta triages every week."""
    return (
        "[sla]\n"
        f"triage_channel_id = {community.channels['triage'].id}\n"
        f"triagers = [{community.members['marta'].id}]\n"
        "business_days = true\n"
        'time_zone = "Europe/Berlin"\n'
        "digest = false\n"
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """Friday 9 January 2026, 20:00 UTC: 21:00 in Berlin, three business hours left."""
    sandbox = Sandbox(tmp_path, ManualClock(at(9, 20)), sections=service_levels)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of January 2026, in UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


async def said_at(sandbox: Sandbox, when: datetime) -> list[str]:
    """Set the clock to ``when``, let the job run; what it said in #triage meanwhile."""
    before = len(triage(sandbox))
    assert isinstance(sandbox.clock, ManualClock)
    sandbox.clock.set(when)
    await sandbox.settle()
    return [message.content for message in triage(sandbox)[before:]]


async def test_a_friday_evening_issue_waits_out_the_weekend(sandbox: Sandbox) -> None:
    state = sandbox.github.state
    issue = state.open_issue(REPO, "alice-gh", "Crash on start")
    pull = state.open_pull(REPO, "bob-gh", "Retry on 502")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    # On the wall clock the issue's notice would come on Saturday at 14:00 and its breach
    # at 20:00: the weekend counts nothing.
    for day in (10, 11):
        for hour in (0, 6, 12, 14, 18, 20, 23):
            assert await said_at(sandbox, at(day, hour)) == [], f"January {day}, {hour}:00"
    # Monday: 3 hours on Friday and 15 on Monday (from midnight in Berlin) make 18 of 24.
    assert await said_at(sandbox, at(12, 13, 55)) == []
    (notice,) = await said_at(sandbox, at(12, 14))
    assert notice.startswith(f"⏳ Issue [{REPO}#{issue.number}](")
    assert "has waited 18 h of its 24 h triage target" in notice
    assert await said_at(sandbox, at(12, 19, 55)) == []
    (breach,) = await said_at(sandbox, at(12, 20))
    assert breach.startswith(f"⚠️ Issue [{REPO}#{issue.number}](")
    assert "is past its 24 h triage target" in breach
    marta = member(sandbox, "marta").id
    assert pinged(next(m for m in triage(sandbox) if m.content == breach)) == ([marta], [])

    state.add_labels(REPO, issue.number, ["bug"], actor="marta")
    await sandbox.github.emitter.flush()
    # The pull request: 3 hours on Friday and 33 on Monday and Tuesday make 36 of 48 at
    # 08:00 UTC on Tuesday, 48 at 20:00.
    assert await said_at(sandbox, at(13, 7, 55)) == []
    (review_notice,) = await said_at(sandbox, at(13, 8))
    assert review_notice.startswith(f"⏳ {FIRST_TIMER}Pull request [{REPO}#{pull.number}](")
    assert "has waited 36 h of its 48 h review target" in review_notice
    assert await said_at(sandbox, at(13, 19, 55)) == []
    (review_breach,) = await said_at(sandbox, at(13, 20))
    assert review_breach.startswith(f"⚠️ {FIRST_TIMER}Pull request [{REPO}#{pull.number}](")
