# SPDX-License-Identifier: Apache-2.0
"""Community Champions end to end: January's champion announced in its channel on 1 February,
given the Champion role, and February's champion taking it over on 1 March."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Message
from tests.e2e.test_mentorship import channel, mention, run
from tests.e2e.test_onboarding import linked, member
from tests.e2e.test_recognition import first_merge, recognition


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str]:
    """One champion a month, who holds its Champion role (the clock starts on Monday 5
    January 2026)."""

    def with_champion(community: DemoCommunity) -> str:
        role = community.roles["Champion"]
        return recognition(community) + f"champions = 1\nchampion_role_id = {role.id}\n"

    return with_champion


async def on(sandbox: Sandbox, clock: ManualClock, month: int, day: int, hour: int) -> None:
    clock.set(datetime(2026, month, day, hour, tzinfo=UTC))
    await sandbox.settle()


def announcements(sandbox: Sandbox) -> list[Message]:
    return [
        m
        for m in sandbox.discord.messages_in(channel(sandbox, "general"))
        if m.content.startswith("🏆 **Community Champions**")
    ]


def champions(sandbox: Sandbox) -> list[str]:
    assert sandbox.community is not None
    role = sandbox.community.roles["Champion"].id
    return sorted(n for n in ("ada", "bruno") if role in member(sandbox, n).role_ids)


async def test_champions_are_announced_and_the_role_moves(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    await on(sandbox, clock, 1, 6, 9)
    for name, login in (("ada", "ada-codes"), ("bruno", "bruno-dev")):
        await linked(sandbox, name, login)
        await run(sandbox, name, "spotlight opt-in")
    await first_merge(sandbox, "ada-codes", "docs: **cache** flags")

    await on(sandbox, clock, 2, 1, 14)
    assert announcements(sandbox) == []
    await on(sandbox, clock, 2, 1, 16)
    (post,) = announcements(sandbox)
    assert post.content.startswith("🏆 **Community Champions** of January 2026: thank you")
    (embed,) = post.embeds
    assert embed["title"] == "🏆 ada-codes"
    assert embed["description"].startswith(mention(sandbox, "ada"))
    assert embed["fields"][0]["value"].endswith("docs: \\*\\*cache\\*\\* flags")
    assert champions(sandbox) == ["ada"]

    await first_merge(sandbox, "bruno-dev", "Fix crash")
    await on(sandbox, clock, 3, 1, 16)
    assert len(announcements(sandbox)) == 2
    assert announcements(sandbox)[1].embeds[0]["title"] == "🏆 bruno-dev"
    assert champions(sandbox) == ["bruno"]  # given to bruno, taken from ada


async def test_a_champion_role_above_the_bot_s_is_explained_and_the_post_still_goes_out(
    sandbox: Sandbox, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The organiser left the bot's role below Champion: the announcement is posted, giving
    the role is refused once and not retried, and the failure says what to change."""
    assert sandbox.community is not None
    guild, champion = sandbox.community.guild, sandbox.community.roles["Champion"]
    sandbox.discord.move_role(guild, champion, guild.bot_role.position)
    await sandbox.restart_bot()  # discord.py reads the roles' order as it connects
    await on(sandbox, clock, 1, 6, 9)
    await linked(sandbox, "ada", "ada-codes")
    await run(sandbox, "ada", "spotlight opt-in")
    await first_merge(sandbox, "ada-codes", "docs: cache flags")

    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        await on(sandbox, clock, 2, 1, 16)
        await on(sandbox, clock, 2, 3, 16)  # past any retry
    (post,) = announcements(sandbox)
    assert post.embeds[0]["title"] == "🏆 ada-codes"
    assert champions(sandbox) == []
    refused = sandbox.discord.requests_to("PUT", f"/guilds/*/members/*/roles/{champion.id}")
    assert [r.status for r in refused] == [403]
    (line,) = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert line.endswith(
        ": Missing Permissions (@Champion is not below the bot's highest role @Helios: in "
        "Server Settings > Roles, drag the bot's role above @Champion)"
    )
    status = await run(sandbox, "ines", "helios status")
    (embed,) = status.embeds
    assert embed["footer"]["text"] == "1 message(s) could not be delivered; see the logs."
    (latest,) = [f for f in embed["fields"] if f["name"] == "Latest delivery failure"]
    assert "drag the bot's role above @Champion" in latest["value"]
