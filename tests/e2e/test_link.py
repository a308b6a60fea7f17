# SPDX-License-Identifier: Apache-2.0
"""`/link` end to end: mentors and maintainers link GitHub without `/start`, through the
real bot, the Discord simulator and the GitHub simulator's device flow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.db.models import Newcomer
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import InteractionResult, Message
from tests.e2e.test_claims import claimed
from tests.e2e.test_onboarding import (
    github_link,
    let_time_pass_until,
    linked,
    member,
    start,
    through_interests,
    user_code,
)


async def link(sandbox: Sandbox, name: str, **options: str) -> InteractionResult:
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    return await sandbox.driver.run_command(member(sandbox, name), general, "link", options)


async def link_message(sandbox: Sandbox, name: str, **options: str) -> Message:
    shown = await link(sandbox, name, **options)
    assert shown.ephemeral
    assert shown.message is not None
    return shown.message


def description(message: Message) -> str:
    return str(message.embeds[0]["description"])


async def newcomer_rows(sandbox: Sandbox) -> int:
    async with sandbox.running_bot.runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Newcomer)) or 0


async def test_a_mentor_links_github_and_gives_a_time_zone_without_start(
    sandbox: Sandbox,
) -> None:
    message = await link_message(sandbox, "kofi", timezone="UTC+1")
    assert message.embeds[0]["title"] == "Link your GitHub account"
    assert "Time zone: UTC+1" in description(message)
    assert message.button_labels == ["Link with GitHub"]

    sandbox.github.device.approve(await user_code(sandbox, message), "kofi-gh")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Your GitHub link", "the link"
    )
    assert description(message).startswith(
        "Linked to GitHub as **kofi-gh** (verified by GitHub).\nTime zone: UTC+1"
    )
    assert message.button_labels == ["Link another account"]
    kofi = await github_link(sandbox, "kofi")
    assert (kofi.github_login, kofi.github_verified, kofi.utc_offset) == ("kofi-gh", True, 60)
    assert await newcomer_rows(sandbox) == 0  # a mentor is not counted as a newcomer

    again = await link_message(sandbox, "kofi")  # the link is shown, no flow is started
    assert again.embeds[0]["title"] == "Your GitHub link"
    assert "**kofi-gh** (verified by GitHub)" in description(again)


async def test_the_link_button_keeps_working_after_a_restart(sandbox: Sandbox) -> None:
    message = await link_message(sandbox, "kofi")
    await sandbox.restart_bot()
    sandbox.github.device.approve(await user_code(sandbox, message), "kofi-gh")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Your GitHub link", "the link"
    )


async def test_a_time_zone_nobody_can_read_is_refused_kindly(sandbox: Sandbox) -> None:
    refused = await link(sandbox, "kofi", timezone="Berlin **@everyone**")
    assert refused.ephemeral
    assert refused.content.startswith("“Berlin \\*\\*@\u200beveryone\\*\\*” isn't a time zone")
    assert (await github_link(sandbox, "kofi")).utc_offset is None


async def test_a_member_linked_with_link_skips_the_github_step_of_start(
    sandbox: Sandbox,
) -> None:
    message = await link_message(sandbox, "ada")
    sandbox.github.device.approve(await user_code(sandbox, message), "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Your GitHub link", "the link"
    )

    path = await through_interests(sandbox, "ada")
    assert path.embeds[0]["title"] == "Almost there"
    assert "Linked to GitHub as **ada-codes**." in description(path)


async def test_linking_with_link_midway_through_start_moves_start_on(sandbox: Sandbox) -> None:
    """`/start` remembers each member's step; a link made with `/link` moves it on."""
    path = await through_interests(sandbox, "ada")
    assert path.embeds[0]["title"] == "Link your GitHub account"
    message = await link_message(sandbox, "ada")
    sandbox.github.device.approve(await user_code(sandbox, message), "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Your GitHub link", "the link"
    )

    again = await start(sandbox, "ada")
    assert again.embeds[0]["title"] == "Almost there"


async def test_an_account_another_member_linked_is_refused_with_a_retry(
    sandbox: Sandbox,
) -> None:
    await linked(sandbox, "ada", "ada-codes")
    message = await link_message(sandbox, "kofi")
    sandbox.github.device.approve(await user_code(sandbox, message), "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: "already linked to another member" in description(message), "a refusal"
    )
    assert message.button_labels == ["Try again"]
    assert (await github_link(sandbox, "kofi")).github_login is None


async def test_another_account_waits_until_the_claim_under_this_one_is_given_back(
    sandbox: Sandbox,
) -> None:
    await claimed(sandbox, "ada", "ada-codes")
    message = await link_message(sandbox, "ada")
    assert message.button_labels == ["Link another account"]
    code = await user_code(sandbox, message, "Link another account")
    sandbox.github.device.approve(code, "ada-work")
    await let_time_pass_until(
        sandbox, lambda: "You have a claimed issue" in description(message), "a refusal"
    )
    assert description(message) == (
        "You have a claimed issue as **ada-codes**. Finish it or give it back with `/unclaim` "
        "first, then link your other account."
    )
    assert (await github_link(sandbox, "ada")).github_login == "ada-codes"


async def test_one_device_flow_per_member_between_start_and_link(sandbox: Sandbox) -> None:
    """A code shown by `/link` abandons the one `/start` showed: approving that links nothing."""
    sandbox.github.state.add_user("someone-else")
    path = await through_interests(sandbox, "ada")
    abandoned = await user_code(sandbox, path)
    message = await link_message(sandbox, "ada")
    current = await user_code(sandbox, message)

    sandbox.github.device.approve(abandoned, "someone-else")
    sandbox.github.device.approve(current, "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Your GitHub link", "the link"
    )
    for _ in range(3):  # the abandoned poller would have redeemed its code by now
        sandbox.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    grants = {g.user_code: g for g in sandbox.github.device.grants.values()}
    assert (grants[abandoned].redeemed, grants[current].redeemed) == (False, True)
    assert (await github_link(sandbox, "ada")).github_login == "ada-codes"


async def test_a_typed_login_is_linked_unverified_and_can_be_verified(
    typed_logins: Sandbox,
) -> None:
    sandbox = typed_logins
    message = await link_message(sandbox, "marta")
    assert message.button_labels == ["Link with GitHub", "Type my GitHub login instead"]

    opened = await sandbox.driver.click(message, label="Type my GitHub login instead")
    await sandbox.driver.submit_modal(opened, {"login": "marta"})
    await sandbox.discord.wait_until(
        lambda: message.embeds[0]["title"] == "Your GitHub link", what="the typed link"
    )
    assert "**marta** (typed, not verified)" in description(message)
    assert message.button_labels == ["Verify with GitHub", "Type my GitHub login instead"]

    # Only what looks like a login is looked up on GitHub.
    opened = await sandbox.driver.click(message, label="Type my GitHub login instead")
    refused = await sandbox.driver.submit_modal(opened, {"login": "[x](https://evil.example)"})
    (apology,) = await refused.wait_for_followups()
    assert apology.content.startswith("That isn't a GitHub login")

    sandbox.github.device.approve(await user_code(sandbox, message, "Verify with GitHub"), "marta")
    await let_time_pass_until(
        sandbox, lambda: "(verified by GitHub)" in description(message), "the verified link"
    )
    assert "**marta** (verified by GitHub)" in description(message)
    assert message.button_labels == ["Link another account"]  # a typed login can't replace it
