# SPDX-License-Identifier: Apache-2.0
"""A member who leaves: their claim is freed at once, nothing more is sent to them, and
their data is forgotten after the retention period unless they come back first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.db.models import FORGOTTEN, Claim, Newcomer, Promise
from bot.outbox import promise
from bot.sandbox.community import Sandbox
from bot.services.members import Link
from tests.e2e.test_claims import REPO, assignees, claimed, clock, days_pass
from tests.e2e.test_mentorship import run
from tests.e2e.test_onboarding import github_link, member, newcomer

UNASSIGN = "DELETE /repos/{owner}/{repo}/issues/{number}/assignees"


async def rows(sandbox: Sandbox, model: type[Claim] | type[Newcomer]) -> int:
    async with sandbox.running_bot.runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def departed(sandbox: Sandbox, name: str, expected: bool) -> None:
    """Wait (real time, at most 5 s) until the bot has recorded the member leaving or not."""
    for _ in range(250):
        row = await newcomer(sandbox, name)
        if (row.departed_at is not None) == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} departed is still {not expected}")


async def test_a_member_who_leaves_frees_their_claim_and_is_forgotten_after_30_days(
    sandbox: Sandbox,
) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    assert assignees(sandbox) == ["ada-codes"]
    ada = member(sandbox, "ada")
    bot = sandbox.running_bot
    async with bot.runtime.sessions.begin() as session:  # a message due tomorrow
        await promise(
            session,
            feature="test",
            guild_id=bot.guild_id,
            key="later:ada",
            target_kind="dm",
            target_id=ada.id,
            payload={"content": "See you tomorrow"},
            now=sandbox.clock.now(),
            not_before=sandbox.clock.now() + timedelta(days=1),
        )

    await sandbox.driver.member_leave(ada)
    await departed(sandbox, "ada", True)
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    assert assignees(sandbox) == []  # free for someone else at once
    async with bot.runtime.sessions() as session:
        claim = await session.scalar(select(Claim))
        later = await session.scalar(select(Promise).where(Promise.key == "later:ada"))
    assert claim is not None
    assert claim.status == "withdrawn"
    assert later is not None
    assert (later.status, later.last_error) == ("skipped", "the member left the server")

    await days_pass(sandbox, 29)
    assert await rows(sandbox, Newcomer) == 1
    await days_pass(sandbox, 1)
    assert await rows(sandbox, Newcomer) == 0
    assert await rows(sandbox, Claim) == 0
    assert sandbox.discord.dm_messages(ada) == []
    # Public GitHub facts stay: the issue is still known, and free.
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    offered = await sandbox.driver.run_command(member(sandbox, "bruno"), general, "issues")
    assert offered.message is not None
    assert f"{REPO}#1" in offered.message.embeds[0]["description"]


async def test_a_member_who_comes_back_in_time_keeps_their_progress(sandbox: Sandbox) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    ada = member(sandbox, "ada")
    await sandbox.driver.member_leave(ada)
    await departed(sandbox, "ada", True)

    await sandbox.driver.member_return(ada)
    await departed(sandbox, "ada", False)
    await days_pass(sandbox, 31)
    assert (await github_link(sandbox, "ada")).github_login == "ada-codes"


async def test_a_claim_github_refuses_to_unassign_outlives_forget_me_until_github_lets_go(
    sandbox: Sandbox,
) -> None:
    """Ada asks to be forgotten while GitHub refuses to unassign her: the claim stays, naming
    nobody, and the claims' follow-up unassigns it once GitHub accepts, and only once."""
    await claimed(sandbox, "ada", "ada-codes")
    sandbox.github.inject_error(403, count=100, path=r"/assignees$", method="DELETE")
    asked = await run(sandbox, "ada", "privacy forget-me")
    assert asked.message is not None
    await sandbox.driver.click(asked.message, label="Yes, forget me")
    await sandbox.settle()
    assert asked.message.content.startswith("Done: the bot has forgotten you.")
    assert await github_link(sandbox, "ada") == Link()
    assert assignees(sandbox) == ["ada-codes"]

    async def claims_left() -> list[tuple[int, str, str | None]]:
        async with sandbox.running_bot.runtime.sessions() as session:
            rows = await session.scalars(select(Claim))
            return [(row.user_id, row.status, row.github_login) for row in rows]

    async def follow_up() -> None:
        """The claims' follow-up job runs every 15 minutes."""
        clock(sandbox).advance(timedelta(minutes=15))
        await sandbox.settle()

    assert await claims_left() == [(FORGOTTEN, "unassigning", "ada-codes")]
    await follow_up()  # GitHub still refuses
    assert assignees(sandbox) == ["ada-codes"]
    assert await claims_left() == [(FORGOTTEN, "unassigning", "ada-codes")]

    sandbox.github.faults.clear()
    sandbox.github.counter.reset()
    await follow_up()
    assert assignees(sandbox) == []
    assert await claims_left() == []
    await follow_up()
    assert sandbox.github.counter.by_route[UNASSIGN] == 1
