# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program end to end: mentors join, newcomers are matched as `/start` ends
(or queued), the private thread introduces both, and mentors hand over when they leave."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.config import Config
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import VIEW_CHANNEL, Channel, InteractionResult, Message
from tests.e2e.test_claims import claimed
from tests.e2e.test_onboarding import github_link, linked, member, start


def channel(sandbox: Sandbox, name: str) -> Channel:
    assert sandbox.community is not None
    return sandbox.community.channels[name]


def dms(sandbox: Sandbox, name: str, containing: str) -> list[Message]:
    """The direct messages the bot sent ``name`` that contain ``containing``."""
    return [
        m for m in sandbox.discord.dm_messages(member(sandbox, name)) if containing in m.content
    ]


async def run(sandbox: Sandbox, name: str, command: str, **options: Any) -> InteractionResult:
    general = channel(sandbox, "general")
    return await sandbox.driver.run_command(member(sandbox, name), general, command, options)


async def mentor_joins(sandbox: Sandbox, name: str, areas: str = "docs", **options: Any) -> str:
    joined = await run(sandbox, name, "mentor join", areas=areas, **options)
    assert joined.ephemeral
    await sandbox.settle()
    return joined.content


async def finish(sandbox: Sandbox, message: Message) -> str:
    """Click Finish; returns what the newcomer is told about a mentor."""
    finished = await sandbox.driver.click(message, label="Finish")
    (answer,) = await finished.wait_for_followups()
    assert answer.ephemeral
    await sandbox.settle()
    return answer.content


async def newcomer_finishes(sandbox: Sandbox, name: str, login: str) -> str:
    return await finish(sandbox, await linked(sandbox, name, login))


def threads(sandbox: Sandbox) -> list[Channel]:
    parent = channel(sandbox, "mentoring")
    return [c for c in sandbox.discord.state.channels.values() if c.parent_id == parent.id]


def mention(sandbox: Sandbox, name: str) -> str:
    return f"<@{member(sandbox, name).id}>"


async def test_a_newcomer_who_finishes_start_is_introduced_to_a_mentor_in_a_private_thread(
    sandbox: Sandbox,
) -> None:
    answer = await mentor_joins(sandbox, "kofi", "docs, core", timezone="UTC+1", capacity=3)
    assert answer == "You're a mentor: docs, core · UTC+1 · up to 3 mentees."

    told = await newcomer_finishes(sandbox, "ada", "ada-codes")
    kofi, ada = mention(sandbox, "kofi"), mention(sandbox, "ada")
    mentoring = channel(sandbox, "mentoring").id
    assert told == (
        f"Your mentor is {kofi} (why: docs, core, UTC+1, 0 of 3 mentees); say hello in the "
        f"private thread for you both in <#{mentoring}>."
    )
    (thread,) = threads(sandbox)
    assert thread.type == 12  # private
    assert sorted(thread.thread_member_ids) == sorted(
        [sandbox.discord.bot_user.id, member(sandbox, "kofi").id, member(sandbox, "ada").id]
    )
    (intro,) = sandbox.discord.messages_in(thread)
    assert intro.content.startswith(f"👋 {ada}, meet {kofi}: your mentor until <t:")
    assert "Why you two: docs, core, UTC+1, 0 of 3 mentees." in intro.content
    assert "GitHub: [ada-codes](" in intro.content
    # Only the two of them see it.
    assert sandbox.discord.state.can_see(member(sandbox, "kofi").id, intro)
    assert not sandbox.discord.state.can_see(member(sandbox, "lena").id, intro)

    again = await run(sandbox, "ada", "buddy")
    assert again.content.startswith(f"Your mentor is {kofi} until <t:")
    assert len(threads(sandbox)) == 1


async def test_without_mentors_the_newcomer_is_queued_and_served_when_one_joins(
    sandbox: Sandbox,
) -> None:
    told = await newcomer_finishes(sandbox, "ada", "ada-codes")
    assert told == (
        "All our mentors are busy right now; you're number 1 in line. We'll introduce you as "
        "soon as someone is free."
    )
    (help_wanted,) = sandbox.discord.messages_in(channel(sandbox, "mentors"))
    assert help_wanted.content.startswith("A newcomer is waiting for a mentor (1 waiting in all)")
    assert threads(sandbox) == []
    asked = await run(sandbox, "ada", "buddy")
    assert "you're number 1 in line" in asked.content

    await mentor_joins(sandbox, "lena")
    (thread,) = threads(sandbox)
    assert member(sandbox, "ada").id in thread.thread_member_ids
    assert member(sandbox, "lena").id in thread.thread_member_ids


async def test_a_newcomer_who_is_also_a_mentor_is_never_their_own_mentor(
    sandbox: Sandbox,
) -> None:
    await mentor_joins(sandbox, "kofi")
    told = await newcomer_finishes(sandbox, "kofi", "kofi-gh")
    assert "you're number 1 in line" in told
    assert threads(sandbox) == []

    await mentor_joins(sandbox, "lena")
    (thread,) = threads(sandbox)
    (intro,) = sandbox.discord.messages_in(thread)
    assert intro.content.startswith(
        f"👋 {mention(sandbox, 'kofi')}, meet {mention(sandbox, 'lena')}:"
    )


async def test_a_member_without_the_mentor_role_waits_for_an_organiser(sandbox: Sandbox) -> None:
    asked = await mentor_joins(sandbox, "bruno", "core", languages="English, **Português**")
    assert asked == (
        "Thanks for offering to mentor (core · time zone not given · up to 2 mentees · "
        "English, \\*\\*Português\\*\\*). An organiser must approve you before you're "
        "matched with newcomers."
    )
    told = await newcomer_finishes(sandbox, "ada", "ada-codes")
    assert "you're number 1 in line" in told  # a pending mentor takes nobody

    bruno = member(sandbox, "bruno")
    refused = await run(sandbox, "bruno", "mentor approve", member=bruno)
    assert refused.content == "This command is for organisers."
    refused = await run(sandbox, "marta", "mentor approve", member=bruno)
    assert refused.content == "This command is for organisers."
    assert threads(sandbox) == []

    not_asked = await run(sandbox, "ines", "mentor approve", member=member(sandbox, "marta"))
    assert not_asked.content == f"{mention(sandbox, 'marta')} has not asked to become a mentor."
    approved = await run(sandbox, "ines", "mentor approve", member=bruno)
    assert approved.content.startswith(f"{mention(sandbox, 'bruno')} is now a mentor: core")
    await sandbox.settle()
    (thread,) = threads(sandbox)  # ada, first in line, is served at once
    assert bruno.id in thread.thread_member_ids


async def test_areas_are_completed_and_checked(sandbox: Sandbox) -> None:
    choices = await sandbox.driver.autocomplete(
        member(sandbox, "kofi"),
        channel(sandbox, "general"),
        "mentor join",
        {"areas": "docs, "},
        focused="areas",
    )
    assert [c["value"] for c in choices] == ["docs, core", "docs, sdk-python"]
    refused = await run(sandbox, "kofi", "mentor join", areas="docs, quantum")
    assert refused.content == "Those areas aren't offered here: quantum."
    refused = await run(sandbox, "kofi", "mentor join", areas="docs", timezone="Berlin")
    assert refused.content.startswith("“Berlin” isn't a time zone I understand")


async def test_pausing_takes_a_date_or_days_and_says_so_kindly_otherwise(
    sandbox: Sandbox,
) -> None:
    await mentor_joins(sandbox, "kofi")
    refused = await run(sandbox, "kofi", "mentor pause", until="next tuesday")
    assert refused.ephemeral
    assert refused.content.startswith("“next tuesday” isn't a date I understand: give a day as")
    refused = await run(sandbox, "kofi", "mentor pause", until="2020-01-01")
    assert refused.content == "That date has already passed; give a day in the future."
    paused = await run(sandbox, "kofi", "mentor pause", until="14")
    assert paused.content.startswith("Paused until <t:")

    told = await newcomer_finishes(sandbox, "ada", "ada-codes")
    assert "you're number 1 in line" in told  # kofi is paused
    resumed = await run(sandbox, "kofi", "mentor resume")
    assert resumed.content == "You're available: newcomers can be matched with you."
    await sandbox.settle()
    assert len(threads(sandbox)) == 1


async def test_mentees_shows_each_mentees_state(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    empty = await run(sandbox, "kofi", "mentor mentees")
    assert empty.content == (
        "You have no mentees right now: newcomers are matched with you as they ask."
    )
    await finish(sandbox, await claimed(sandbox, "ada", "ada-codes"))

    listed = await run(sandbox, "kofi", "mentor mentees")
    (embed,) = listed.embeds
    assert embed["title"] == "Your mentees (1)"
    line = embed["description"]
    assert line.startswith(f"- {mention(sandbox, 'ada')} · GitHub **ada-codes** · ")
    assert "[helios-engine/helios#1](" in line
    assert "Document the cache eviction flags" in line
    assert " · 0 pull requests · last active <t:" in line
    assert line.endswith(":R> · 30 days left")


async def test_a_mentor_who_leaves_hands_their_mentee_over(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    await mentor_joins(sandbox, "lena")

    left = await run(sandbox, "kofi", "mentor leave")
    assert left.content == (
        "You've stepped back from mentoring. Thank you! 1 mentee handed over: each is told "
        "who takes over."
    )
    await sandbox.settle()
    (notice,) = dms(sandbox, "ada", "step back")
    assert notice.content == (
        f"Your mentor {mention(sandbox, 'kofi')} has had to step back from mentoring. "
        f"{mention(sandbox, 'lena')} takes over from here: look out for their introduction."
    )
    _first, second = threads(sandbox)
    assert member(sandbox, "lena").id in second.thread_member_ids
    assert (await run(sandbox, "kofi", "mentor mentees")).content.startswith("You have no")


async def test_a_mentor_who_leaves_the_server_hands_over_too(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    await mentor_joins(sandbox, "lena")

    await sandbox.driver.member_leave(member(sandbox, "kofi"))
    notice = await sandbox.driver.wait_for_message(lambda m: "step back" in m.content)
    assert mention(sandbox, "lena") in notice.content
    await sandbox.settle()
    assert len(threads(sandbox)) == 2


async def test_a_mentee_who_leaves_the_server_gives_the_place_back(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi", capacity=1)
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    told = await newcomer_finishes(sandbox, "bruno", "bruno-dev")
    assert "you're number 1 in line" in told

    await sandbox.driver.member_leave(member(sandbox, "ada"))
    await sandbox.discord.wait_until(lambda: len(threads(sandbox)) == 2, what="bruno's thread")
    listed = await run(sandbox, "kofi", "mentor mentees")
    assert listed.embeds[0]["description"].startswith(f"- {mention(sandbox, 'bruno')} · ")


async def test_buddy_stores_the_time_zone_and_needs_a_finished_start(sandbox: Sandbox) -> None:
    refused = await run(sandbox, "bruno", "buddy")
    assert refused.content.startswith("Finish `/start` first")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    refused = await run(sandbox, "ada", "buddy", timezone="UTC+99")
    assert "isn't a time zone I understand" in refused.content
    asked = await run(sandbox, "ada", "buddy", timezone="UTC-5")
    assert "you're number 1 in line" in asked.content
    assert (await github_link(sandbox, "ada")).utc_offset == -300


async def test_the_time_zone_is_an_optional_choice_at_the_interests_step(
    sandbox: Sandbox,
) -> None:
    shown = await start(sandbox, "ada")
    assert shown.message is not None
    await sandbox.driver.click(shown.message, label="I accept")
    await sandbox.driver.select(shown.message, "Your time zone (optional)", ["UTC+5:30"])
    assert (await github_link(sandbox, "ada")).utc_offset == 330
    await sandbox.driver.select(shown.message, "Areas of interest", ["docs"])
    await sandbox.driver.select(shown.message, "Your experience", ["new"])
    moved_on = await sandbox.driver.click(shown.message, label="Continue")
    assert moved_on.embeds[0]["title"] == "Link your GitHub account"


async def test_without_a_thread_channel_the_introduction_goes_by_direct_message(
    sandbox: Sandbox,
) -> None:
    config = sandbox.config
    assert config is not None
    assert config.settings.mentorship is not None
    section = config.settings.mentorship.model_copy(update={"thread_channel_id": None})
    settings = config.settings.model_copy(update={"mentorship": section})
    sandbox.config = Config(settings=settings, secrets=config.secrets, path=config.path)
    await sandbox.restart_bot()

    await mentor_joins(sandbox, "kofi")
    told = await newcomer_finishes(sandbox, "ada", "ada-codes")
    assert told.endswith("I've sent you both a direct message: say hello!")
    assert threads(sandbox) == []
    for name in ("ada", "kofi"):
        (intro,) = dms(sandbox, name, "👋")
        assert intro.content.startswith(f"👋 {mention(sandbox, 'ada')}, meet")


async def test_a_thread_channel_the_members_cannot_see_is_reported_at_start_up(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert sandbox.community is not None
    assert "cannot hold the pairings' private threads" not in caplog.text
    # Hidden from everyone but mentors: newcomers would never see their thread.
    hidden = sandbox.community.channels["mentoring"]
    sandbox.discord.set_permissions(
        hidden, sandbox.community.guild.everyone_role, deny=VIEW_CHANNEL
    )
    sandbox.discord.set_permissions(hidden, sandbox.community.roles["Mentor"], allow=VIEW_CHANNEL)
    guild = sandbox.community.guild
    sandbox.discord.set_permissions(hidden, guild.bot_role, allow=VIEW_CHANNEL)  # as organisers do
    with caplog.at_level(logging.ERROR, logger="cogs.mentorship"):
        await sandbox.restart_bot()
        await sandbox.discord.sync_with_bot()
    mentoring = channel(sandbox, "mentoring")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "cogs.mentorship"]
    assert line == (
        f"config mentorship.thread_channel_id: #mentoring ({mentoring.id}) cannot hold the "
        "pairings' private threads: role Newcomer (onboarding.newcomer_role_id) cannot view "
        "it; introductions there fail until this is fixed"
    )
