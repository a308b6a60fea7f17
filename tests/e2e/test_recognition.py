# SPDX-License-Identifier: Apache-2.0
"""Recognition end to end: kudos given and refused, the consent question by direct message
and its buttons (a forged one refused), `/spotlight preview` for organisers, the weekly
spotlight in its channel with an embed per person, `/spotlight skip` and opting out, and
`/privacy forget-me`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.models import Consent, Kudos
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Message
from bot.services.members import Link
from tests.e2e.test_mentorship import channel, dms, mention, run
from tests.e2e.test_onboarding import github_link, linked, member

REPO = "helios-engine/helios"


def recognition(community: DemoCommunity) -> str:
    """[recognition] posting in #general, on Mondays at 15:00 UTC (the defaults)."""
    return f"[recognition]\nspotlight_channel_id = {community.channels['general'].id}\n"


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str]:
    """Recognition on (the clock starts on Monday 5 January 2026 at 09:00 UTC: the first
    spotlight is on Monday 12 January at 15:00)."""
    return recognition


async def at(sandbox: Sandbox, clock: ManualClock, day: int, hour: int, minute: int = 0) -> None:
    clock.set(datetime(2026, 1, day, hour, minute, tzinfo=UTC))
    await sandbox.settle()


def spotlights(sandbox: Sandbox) -> list[Message]:
    return [
        m
        for m in sandbox.discord.messages_in(channel(sandbox, "general"))
        if m.content.startswith("🌟 **Weekly spotlight**")
    ]


async def first_merge(sandbox: Sandbox, login: str, title: str) -> int:
    state = sandbox.github.state
    pull = state.open_pull(REPO, login, title)
    state.merge(REPO, pull.number, actor="marta")
    await sandbox.github.emitter.flush()
    await sandbox.settle()
    return pull.number


async def test_kudos_are_given_told_and_refused_kindly(sandbox: Sandbox) -> None:
    bruno = member(sandbox, "bruno")
    given = await run(sandbox, "ada", "kudos", member=bruno, reason="Helped me **set up**")
    assert given.ephemeral
    assert given.content == (
        f"Kudos sent to {mention(sandbox, 'bruno')}: they'll get a direct message. "
        "(4 more you can give in these 24 hours.)"
    )
    await sandbox.settle()
    (told,) = dms(sandbox, "bruno", "gave you kudos")
    assert told.content.startswith(
        f"🙌 {mention(sandbox, 'ada')} gave you kudos: “Helped me \\*\\*set up\\*\\*”"
    )

    to_self = await run(sandbox, "ada", "kudos", member=member(sandbox, "ada"), reason="Me!")
    assert to_self.ephemeral
    assert to_self.content.startswith("Kudos are for thanking someone else")
    to_bot = await run(sandbox, "ada", "kudos", member=sandbox.discord.state.bot, reason="Yay")
    assert (to_bot.ephemeral, to_bot.content) == (
        True,
        "Kudos are for people: bots can't receive them.",
    )


async def test_consent_preview_and_the_weekly_spotlight(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    await at(sandbox, clock, 6, 9)  # Tuesday: the week of Monday 12 January's spotlight
    await linked(sandbox, "ada", "ada-codes")
    number = await first_merge(sandbox, "ada-codes", "docs: **cache** eviction flags")
    await run(sandbox, "bruno", "kudos", member=member(sandbox, "ada"), reason="Great docs fix")

    await at(sandbox, clock, 11, 15, 5)  # a day before the post: ada is asked
    (question,) = dms(sandbox, "ada", "Is that all right with you?")
    assert question.button_labels == ["Yes", "Not this time", "Never"]
    # Ada's client sends the custom id of a question asked of someone else.
    forged = f"recognition:consent:20260112:{member(sandbox, 'bruno').id}:never"
    question.find_component(label="Never")["custom_id"] = forged
    refused = await sandbox.driver.click(question, label="Never", member=member(sandbox, "ada"))
    assert (refused.ephemeral, refused.content) == (True, "This question is for someone else.")
    said = await sandbox.driver.click(question, label="Yes", member=member(sandbox, "ada"))
    assert said.message is not None
    assert said.message.content.endswith("`/spotlight opt-out` changes your mind at any time.")
    assert said.message.button_labels == []

    refused = await run(sandbox, "bruno", "spotlight preview")
    assert (refused.ephemeral, refused.content) == (True, "This command is for organisers.")
    preview = await run(sandbox, "ines", "spotlight preview")
    assert preview.ephemeral
    (shown,) = preview.embeds
    assert shown["title"] == "Spotlight of Monday 12 January"
    assert shown["description"] == (
        f"🌟 1. {mention(sandbox, 'ada')} (ada-codes): score 4 · first merge · 1 merged · "
        "0 reviewed · 0 docs/tests · 1 kudos · consent: yes"
    )

    await at(sandbox, clock, 12, 14, 55)
    assert spotlights(sandbox) == []
    await at(sandbox, clock, 12, 15, 10)
    (post,) = spotlights(sandbox)
    (embed,) = post.embeds
    web = sandbox.github.web_url
    assert embed["title"] == "🌟 ada-codes"
    assert embed["url"] == f"{web}/ada-codes"
    assert (
        embed["description"] == f"{mention(sandbox, 'ada')} · GitHub [ada-codes]({web}/ada-codes)"
    )
    assert embed["thumbnail"]["url"].startswith("https://avatars.githubusercontent.com/u/")
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [
        (
            "🌱 First contribution",
            f"[{REPO}#{number}]({web}/{REPO}/pull/{number}) docs: \\*\\*cache\\*\\* eviction flags",
        ),
        ("🙌 Kudos (1)", f"“Great docs fix” — {mention(sandbox, 'bruno')}"),
    ]

    await sandbox.restart_bot()
    await at(sandbox, clock, 12, 16)
    assert len(spotlights(sandbox)) == 1  # once, after a restart too


async def test_a_skipped_week_and_an_opt_out(sandbox: Sandbox, clock: ManualClock) -> None:
    await at(sandbox, clock, 6, 9)
    await linked(sandbox, "ada", "ada-codes")
    await first_merge(sandbox, "ada-codes", "First")
    opted = await run(sandbox, "ada", "spotlight opt-in")
    assert opted.content.startswith("You're in: from the next spotlight on")

    skipped = await run(sandbox, "ines", "spotlight skip")
    assert skipped.ephemeral
    assert skipped.content.startswith("The spotlight of <t:1768230000:F> won't be posted.")
    again = await run(sandbox, "ines", "spotlight skip")
    assert again.content == "The spotlight of Monday 12 January was already skipped."
    await at(sandbox, clock, 12, 15, 10)
    assert spotlights(sandbox) == []

    await first_merge(sandbox, "ada-codes", "Second")
    out = await run(sandbox, "ada", "spotlight opt-out")
    assert out.content.startswith("You're out: from the next spotlight on, you won't be featured")
    await at(sandbox, clock, 19, 14)
    preview = await run(sandbox, "ines", "spotlight preview")
    assert preview.embeds[0]["description"].endswith("consent: no — not featured: opted out")
    await at(sandbox, clock, 19, 15, 10)
    assert spotlights(sandbox) == []


async def test_forget_me_asks_first_then_forgets_only_the_member(sandbox: Sandbox) -> None:
    await linked(sandbox, "ada", "ada-codes")
    await linked(sandbox, "bruno", "bruno-dev")
    await run(sandbox, "ada", "kudos", member=member(sandbox, "bruno"), reason="Thanks!")
    await run(sandbox, "bruno", "kudos", member=member(sandbox, "ada"), reason="Great docs fix")
    await run(sandbox, "bruno", "spotlight opt-in")

    asked = await run(sandbox, "ada", "privacy forget-me")
    assert asked.ephemeral
    assert asked.content.startswith("**Forget me?** This deletes what the bot keeps about you")
    assert asked.message is not None
    assert asked.message.button_labels == ["Yes, forget me"]
    assert (await github_link(sandbox, "ada")).github_login == "ada-codes"  # nothing yet
    # Ada's client sends a custom id that would forget Bruno.
    button = asked.message.find_component(label="Yes, forget me")
    mine, button["custom_id"] = (
        button["custom_id"],
        f"privacy:forget-me:{member(sandbox, 'bruno').id}",
    )
    forged = await sandbox.driver.click(asked.message, label="Yes, forget me")
    assert (forged.ephemeral, forged.content) == (
        True,
        "This button is for the member who asked; nothing was deleted.",
    )
    button["custom_id"] = mine

    await sandbox.driver.click(asked.message, label="Yes, forget me")
    await sandbox.settle()
    assert asked.message.content.startswith("Done: the bot has forgotten you.")
    assert asked.message.button_labels == []
    assert await github_link(sandbox, "ada") == Link()
    assert (await github_link(sandbox, "bruno")).github_login == "bruno-dev"
    async with sandbox.running_bot.runtime.sessions() as session:
        thanked = (await session.execute(select(Kudos.giver_id, Kudos.receiver_id))).all()
        consented = list(await session.scalars(select(Consent.user_id)))
    assert (thanked, consented) == ([], [member(sandbox, "bruno").id])
