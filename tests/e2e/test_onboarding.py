# SPDX-License-Identifier: Apache-2.0
"""`/start` end to end: the real bot, the Discord simulator, the GitHub simulator."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Claim, Newcomer
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import InteractionResult, Member, Message
from bot.services import members, onboarding
from bot.services.members import Link
from bot.services.onboarding import Progress


def member(sandbox: Sandbox, name: str) -> Member:
    assert sandbox.community is not None
    return sandbox.community.members[name]


async def start(sandbox: Sandbox, name: str) -> InteractionResult:
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    return await sandbox.driver.run_command(member(sandbox, name), general, "start")


async def through_interests(sandbox: Sandbox, name: str) -> Message:
    shown = await start(sandbox, name)
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    await sandbox.driver.select(shown.message, "Areas of interest", ["docs", "core"])
    await sandbox.driver.select(shown.message, "Your experience", ["new"])
    await sandbox.driver.click(shown.message, label="Continue")
    return shown.message


async def user_code(sandbox: Sandbox, message: Message, label: str = "Link with GitHub") -> str:
    """Click the device flow's button and read the code the bot shows."""
    result = await sandbox.driver.click(message, label=label)
    await result.wait_for_edits()
    found = re.search(r"`([0-9A-F]{4}-[0-9A-F]{4})`", message.embeds[0]["description"])
    assert found is not None, message.embeds[0]["description"]
    return found.group(1)


async def let_time_pass_until(sandbox: Sandbox, condition: Callable[[], bool], what: str) -> None:
    """Move the clock on by GitHub's polling interval until ``condition`` holds."""
    for _ in range(20):
        sandbox.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        with contextlib.suppress(TimeoutError):
            await sandbox.discord.wait_until(condition, within=0.25, what=what)
            return
    raise AssertionError(f"never saw {what}")


async def link_with_device_flow(sandbox: Sandbox, message: Message, login: str) -> None:
    sandbox.github.device.approve(await user_code(sandbox, message), login)


async def github_link(sandbox: Sandbox, name: str) -> Link:
    """The member's GitHub link and time zone, as stored."""
    bot, user_id = sandbox.running_bot, member(sandbox, name).id
    return await bot.runtime.read(lambda session: members.current(session, bot.guild_id, user_id))


async def newcomer(sandbox: Sandbox, name: str) -> Newcomer:
    async with sandbox.running_bot.runtime.sessions() as session:
        row = await session.scalar(
            select(Newcomer).where(Newcomer.user_id == member(sandbox, name).id)
        )
    assert row is not None
    return row


async def test_the_whole_path_with_a_verified_link(sandbox: Sandbox) -> None:
    sandbox.github.state.add_user("ada-codes")
    shown = await start(sandbox, "ada")
    assert shown.ephemeral
    assert shown.embeds[0]["title"] == "Welcome to Helios Engine!"
    assert shown.message is not None
    assert "Read the Code of Conduct" in shown.message.button_labels

    message = await through_interests(sandbox, "ada")
    assert message.embeds[0]["title"] == "Link your GitHub account"

    await link_with_device_flow(sandbox, message, "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Almost there", "the issues step"
    )
    description = message.embeds[0]["description"]
    assert "Linked to GitHub as **ada-codes**." in description
    assert "helios-engine/helios#1" in description  # a good first issue, matching docs
    assert "make dev-setup" in description

    await sandbox.driver.click(message, label="Finish")
    assert message.embeds[0]["title"] == "You're all set!"
    row = await newcomer(sandbox, "ada")
    assert (row.areas, row.experience) == (["docs", "core"], "new")
    assert row.finished_at == sandbox.clock.now()
    linked = await github_link(sandbox, "ada")
    assert (linked.github_login, linked.github_verified) == ("ada-codes", True)
    assert sandbox.community is not None
    newcomer_role = sandbox.community.roles["Newcomer"].id
    assert newcomer_role in member(sandbox, "ada").role_ids


async def test_a_newcomer_role_the_bot_may_not_give_does_not_stop_the_path(
    sandbox: Sandbox,
) -> None:
    """The organiser left the Newcomer role above the bot's: finishing /start still works,
    and the refusal is explained to organisers in /helios status."""
    assert sandbox.community is not None
    guild, newcomer_role = sandbox.community.guild, sandbox.community.roles["Newcomer"]
    sandbox.discord.move_role(guild, newcomer_role, guild.bot_role.position)
    await sandbox.restart_bot()  # discord.py reads the roles' order as it connects
    message = await linked(sandbox, "ada", "ada-codes")

    await sandbox.driver.click(message, label="Finish")
    await sandbox.settle()

    assert message.embeds[0]["title"] == "You're all set!"
    assert newcomer_role.id not in member(sandbox, "ada").role_ids
    status = await sandbox.driver.run_command(
        member(sandbox, "ines").user, sandbox.community.channels["general"], "helios status"
    )
    (failure,) = [f for f in status.embeds[0]["fields"] if f["name"] == "Latest delivery failure"]
    assert "drag the bot's role above @Newcomer" in failure["value"]


async def test_start_again_resumes_where_the_member_stopped(sandbox: Sandbox) -> None:
    shown = await start(sandbox, "bruno")
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    again = await start(sandbox, "bruno")
    assert again.embeds[0]["title"] == "What would you like to work on?"


def progress_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The members whose progress the bot reads from the database, from now on."""
    read: list[int] = []
    real = onboarding.current

    def current(session: Session, guild_id: int, user_id: int) -> Progress:
        read.append(user_id)
        return real(session, guild_id, user_id)

    monkeypatch.setattr(onboarding, "current", current)
    return read


async def test_resuming_reads_the_progress_once_per_process(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = await start(sandbox, "bruno")
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    reads = progress_reads(monkeypatch)

    again = await start(sandbox, "bruno")
    assert again.embeds[0]["title"] == "What would you like to work on?"
    assert reads == []  # the click told this process where bruno is

    await sandbox.restart_bot()
    for _ in range(2):
        again = await start(sandbox, "bruno")
        assert again.embeds[0]["title"] == "What would you like to work on?"
    assert reads == [member(sandbox, "bruno").id]


async def test_a_read_overtaken_by_a_change_is_not_remembered(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = await start(sandbox, "bruno")
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    await sandbox.driver.select(shown.message, "Areas of interest", ["docs"])
    await sandbox.restart_bot()  # a new process: it reads bruno's progress when first asked
    read_done, change_done = threading.Event(), threading.Event()
    real = onboarding.current

    def current_then_wait(session: Session, guild_id: int, user_id: int) -> Progress:
        progress = real(session, guild_id, user_id)
        read_done.set()
        change_done.wait(10)  # a worker thread: the loop goes on meanwhile
        return progress

    monkeypatch.setattr(onboarding, "current", current_then_wait)
    resumed = asyncio.create_task(start(sandbox, "bruno"))
    await asyncio.to_thread(read_done.wait, 10)
    await sandbox.driver.select(shown.message, "Your experience", ["new"])
    change_done.set()
    assert (await resumed).embeds[0]["title"] == "What would you like to work on?"

    again = await start(sandbox, "bruno")
    assert again.embeds[0]["title"] == "Link your GitHub account"


async def test_buttons_keep_working_after_a_restart(sandbox: Sandbox) -> None:
    shown = await start(sandbox, "bruno")
    assert shown.message is not None
    await sandbox.restart_bot()
    after = await sandbox.driver.click(shown.message, label="I accept")
    assert after.embeds[0]["title"] == "What would you like to work on?"


async def test_continue_without_choices_is_refused_kindly(sandbox: Sandbox) -> None:
    shown = await start(sandbox, "bruno")
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    refused = await sandbox.driver.click(shown.message, label="Continue")
    assert refused.ephemeral
    assert refused.content == "Pick at least one area and your experience first."


async def test_denied_code_offers_a_retry(sandbox: Sandbox) -> None:
    message = await through_interests(sandbox, "bruno")
    sandbox.github.device.deny(await user_code(sandbox, message))
    await let_time_pass_until(
        sandbox, lambda: "cancelled on GitHub" in message.embeds[0]["description"], "a refusal"
    )
    assert "Try again" in message.button_labels


async def test_account_linked_to_another_member_is_refused(sandbox: Sandbox) -> None:
    sandbox.github.state.add_user("shared-login")
    first = await through_interests(sandbox, "ada")
    await link_with_device_flow(sandbox, first, "shared-login")
    await let_time_pass_until(
        sandbox, lambda: first.embeds[0]["title"] == "Almost there", "ada linked"
    )
    second = await through_interests(sandbox, "bruno")
    await link_with_device_flow(sandbox, second, "shared-login")
    await let_time_pass_until(
        sandbox,
        lambda: "already linked to another member" in second.embeds[0]["description"],
        "the refusal",
    )
    assert (await github_link(sandbox, "bruno")).github_login is None


async def linked(sandbox: Sandbox, name: str, login: str) -> Message:
    """Take ``name`` through /start up to the recommendations, linked as ``login``."""
    sandbox.github.state.add_user(login)
    message = await through_interests(sandbox, name)
    await link_with_device_flow(sandbox, message, login)
    await let_time_pass_until(
        sandbox, lambda: message.embeds[0]["title"] == "Almost there", f"{name} linked"
    )
    return message


async def test_claim_assigns_on_github_and_one_claim_at_a_time(sandbox: Sandbox) -> None:
    message = await linked(sandbox, "ada", "ada-codes")
    assert "Claim helios#1" in message.button_labels
    claimed = await sandbox.driver.click(message, label="Claim helios#1")
    assert claimed.ephemeral
    assert claimed.content.startswith("It's yours: [helios-engine/helios#1]")
    assignees = sandbox.github.state.issue("helios-engine/helios", 1).assignees
    assert [user.login for user in assignees] == ["ada-codes"]

    second = await sandbox.driver.click(
        message, label="Claim helios#1", member=member(sandbox, "ada")
    )
    assert second.content == "You already have helios-engine/helios#1. Good luck with it!"


async def test_an_issue_someone_holds_is_refused_with_alternatives(sandbox: Sandbox) -> None:
    ada_message = await linked(sandbox, "ada", "ada-codes")
    bruno_message = await linked(sandbox, "bruno", "bruno-dev")
    await sandbox.driver.click(ada_message, label="Claim helios#1")

    refused = await sandbox.driver.click(bruno_message, label="Claim helios#1")
    text = refused.content
    assert text.startswith("Someone else has just claimed helios-engine/helios#1")
    assert "helios-engine/helios-sdk-python#1" in text  # an alternative, with its button
    assert refused.message is not None
    assert refused.message.button_labels == ["Claim helios-sdk-python#1"]
    assert [u.login for u in sandbox.github.state.issue("helios-engine/helios", 1).assignees] == [
        "ada-codes"
    ]


async def test_unclaim_gives_the_issue_back(sandbox: Sandbox) -> None:
    message = await linked(sandbox, "ada", "ada-codes")
    await sandbox.driver.click(message, label="Claim helios#1")
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    choices = await sandbox.driver.autocomplete(
        member(sandbox, "ada"), general, "unclaim", {"issue": "hel"}, focused="issue"
    )
    assert [c["value"] for c in choices] == ["helios-engine/helios#1"]

    result = await sandbox.driver.run_command(member(sandbox, "ada"), general, "unclaim")
    assert result.content.startswith("Done: helios-engine/helios#1 is free again")
    assert sandbox.github.state.issue("helios-engine/helios", 1).assignees == []

    again = await sandbox.driver.run_command(member(sandbox, "ada"), general, "unclaim")
    assert again.content == "You have no claimed issue right now. `/start` suggests some."


async def test_claim_first_pr_and_merge_are_celebrated_once(sandbox: Sandbox) -> None:
    message = await linked(sandbox, "ada", "ada-codes")
    await sandbox.driver.click(message, label="Claim helios#1")
    await sandbox.driver.click(message, label="Finish")
    ada = member(sandbox, "ada")
    repo = "helios-engine/helios"

    pull = sandbox.github.state.open_pull(repo, "ada-codes", "docs: cache eviction flags")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    dm = await sandbox.driver.wait_for_message(lambda m: "first pull request" in m.content)
    assert sandbox.discord.dm_messages(ada) == [dm]
    assert f"{repo}#{pull.number}" in dm.content

    sandbox.github.state.submit_review(repo, pull.number, "marta", "APPROVED")
    sandbox.github.state.merge(repo, pull.number, actor="marta")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    cheer = await sandbox.driver.wait_for_message(lambda m: "first contribution" in m.content)
    assert sandbox.community is not None
    assert cheer.channel_id == sandbox.community.channels["general"].id
    assert f"<@{ada.id}>" in cheer.content
    assert cheer.allowed_mentions is not None
    assert (cheer.allowed_mentions["parse"], cheer.allowed_mentions["users"]) == ([], [ada.id])
    contributor = sandbox.community.roles["Contributor"].id
    await sandbox.discord.wait_until(lambda: contributor in ada.role_ids, what="the role")
    async with sandbox.running_bot.runtime.sessions() as session:
        assert await session.scalar(select(Claim.status)) == "done"

    # A second pull request is no first: nothing more is said.
    second = sandbox.github.state.open_pull(repo, "ada-codes", "docs: typo")
    sandbox.github.state.merge(repo, second.number, actor="marta")
    for delivery in list(sandbox.github.emitter.pending):  # GitHub redelivers, too
        sandbox.github.emitter.pending.append(delivery)
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    said = [
        m.content
        for m in sandbox.discord.state.messages.values()
        if "first pull request" in m.content or "first contribution" in m.content
    ]
    assert len(said) == 2
    # The sandbox turns on the welcome comment on GitHub: one, on the first merged PR only.
    welcome = [
        (number, c.user.login, c.body)
        for number in (pull.number, second.number)
        for c in sandbox.github.state.issue(repo, number).comments
    ]
    assert len(welcome) == 1
    number, author, body = welcome[0]
    assert (number, author) == (pull.number, "helios-bot")
    assert body.startswith("Congratulations on your first merged pull request here, @ada-codes!")


async def test_celebrations_off_means_no_cheers_but_the_role(sandbox: Sandbox) -> None:
    await linked(sandbox, "ada", "ada-codes")
    ada = member(sandbox, "ada")
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    off = await sandbox.driver.run_command(ada, general, "celebrations", {"setting": "off"})
    assert off.ephemeral
    assert off.content.startswith("Done: no messages or shout-outs")
    assert (await newcomer(sandbox, "ada")).celebrate is False

    repo = "helios-engine/helios"
    pull = sandbox.github.state.open_pull(repo, "ada-codes", "docs: cache eviction flags")
    sandbox.github.state.merge(repo, pull.number, actor="marta")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    contributor = sandbox.community.roles["Contributor"].id
    await sandbox.discord.wait_until(lambda: contributor in ada.role_ids, what="the role")
    assert sandbox.discord.dm_messages(ada) == []
    assert not [m for m in sandbox.discord.messages_in(general) if f"<@{ada.id}>" in m.content]

    on = await sandbox.driver.run_command(ada, general, "celebrations", {"setting": "on"})
    assert on.content.startswith("Celebrations are on")
    assert (await newcomer(sandbox, "ada")).celebrate is True


async def test_a_typed_login_is_linked_unverified(typed_logins: Sandbox) -> None:
    sandbox = typed_logins
    sandbox.github.state.add_user("ada-codes")
    message = await through_interests(sandbox, "ada")
    assert message.button_labels == ["Link with GitHub", "Type my GitHub login instead"]

    typo = await sandbox.driver.click(message, label="Type my GitHub login instead")
    refused = await sandbox.driver.submit_modal(typo, {"login": "ada-c0des"})
    (apology,) = await refused.wait_for_followups()
    assert apology.content == "There's no GitHub account called **ada-c0des**. Typo?"
    assert (await github_link(sandbox, "ada")).github_login is None

    opened = await sandbox.driver.click(message, label="Type my GitHub login instead")
    await sandbox.driver.submit_modal(opened, {"login": "@ada-codes "})
    await sandbox.discord.wait_until(
        lambda: message.embeds[0]["title"] == "Almost there", what="the linked step"
    )
    assert "Linked to GitHub as **ada-codes** (unverified)." in message.embeds[0]["description"]
    linked = await github_link(sandbox, "ada")
    assert (linked.github_login, linked.github_verified) == ("ada-codes", False)


async def test_github_failing_a_typed_login_gets_one_friendly_message(
    typed_logins: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = typed_logins
    sandbox.github.state.add_user("ada-codes")
    message = await through_interests(sandbox, "ada")
    sandbox.github.inject_error(401, path="/users/ada-codes$")

    opened = await sandbox.driver.click(message, label="Type my GitHub login instead")
    answered = await sandbox.driver.submit_modal(opened, {"login": "ada-codes"})
    (apology,) = await answered.wait_for_followups()
    assert apology.content == "GitHub isn't answering right now. Please try again in a moment."
    assert (await github_link(sandbox, "ada")).github_login is None
    assert [r.getMessage() for r in caplog.records if r.name == "bot.app"] == [
        "component onboarding:link:login: GitHub answered 401: Server Error"
    ]


async def test_a_new_link_attempt_replaces_the_member_s_earlier_one(sandbox: Sandbox) -> None:
    """One device flow per member: approving an abandoned code links nothing."""
    sandbox.github.state.add_user("ada-codes")
    sandbox.github.state.add_user("someone-else")
    first = await through_interests(sandbox, "ada")
    abandoned = await user_code(sandbox, first)
    again = await start(sandbox, "ada")  # /start again, and link from there
    assert again.message is not None
    second = again.message
    current = await user_code(sandbox, second)

    sandbox.github.device.approve(abandoned, "someone-else")
    sandbox.github.device.approve(current, "ada-codes")
    await let_time_pass_until(
        sandbox, lambda: second.embeds[0]["title"] == "Almost there", "the issues step"
    )
    for _ in range(3):  # the abandoned poller would have redeemed its code by now
        sandbox.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    grants = {g.user_code: g for g in sandbox.github.device.grants.values()}
    assert (grants[abandoned].redeemed, grants[current].redeemed) == (False, True)
    assert (await github_link(sandbox, "ada")).github_login == "ada-codes"
