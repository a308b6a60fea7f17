# SPDX-License-Identifier: Apache-2.0
"""The end of a pairing and its turns, through the simulators: the first merged pull request
celebrated in the thread, the wrap-up with the feedback form and Extend, the pairing closing
with its thread archived; declining a mentor, and an organiser's reassignment."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Feedback
from bot.sandbox.community import Sandbox
from bot.sandbox.discord import Channel, Message
from tests.e2e.test_claims import days_pass
from tests.e2e.test_mentorship import dms, mention, mentor_joins, newcomer_finishes, run, threads
from tests.e2e.test_onboarding import member

REPO = "helios-engine/helios"


def said_in(sandbox: Sandbox, thread: Channel, containing: str) -> list[Message]:
    return [m for m in sandbox.discord.messages_in(thread) if containing in m.content]


async def test_a_pairing_celebrates_wraps_up_extends_and_closes(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    (thread,) = threads(sandbox)
    ada, kofi = mention(sandbox, "ada"), mention(sandbox, "kofi")

    # Ada's first pull request is merged: celebrated in the thread, once.
    pull = sandbox.github.state.open_pull(REPO, "ada-codes", "docs: eviction flags")
    sandbox.github.state.merge(REPO, pull.number, actor="marta")
    await sandbox.github.emitter.flush()
    await days_pass(sandbox, 1)
    (party,) = said_in(sandbox, thread, "🎉")
    assert party.content.startswith(f"🎉 {ada}'s first pull request is merged: [{REPO}#")
    await days_pass(sandbox, 1)
    assert len(said_in(sandbox, thread, "🎉")) == 1

    await days_pass(sandbox, 28)  # day 30: the wrap-up
    (wrap,) = said_in(sandbox, thread, "🎓")
    assert wrap.content.startswith(f"🎓 {ada} and {kofi}: your 30 days together are up.")
    assert wrap.button_labels == ["Give feedback", "Extend"]

    # Feedback: a form with a score and a few words, only for the two of them.
    opened = await sandbox.driver.click(wrap, label="Give feedback", member=member(sandbox, "ada"))
    assert opened.modal is not None
    assert opened.modal.title == "How was your pairing?"
    sent = await sandbox.driver.submit_modal(
        opened, {"score": ["5"], "words": "Kofi explained **everything** <@&1>"}
    )
    assert sent.ephemeral
    assert sent.content == "Thank you! Your feedback helps the next pairings."
    async with sandbox.running_bot.runtime.sessions() as session:
        (given,) = (await session.scalars(select(Feedback))).all()
    assert (given.user_id, given.side, given.score, given.text) == (
        member(sandbox, "ada").id,
        "mentee",
        5,
        "Kofi explained **everything** <@&1>",
    )
    await mentor_joins(sandbox, "lena")
    # Lena can't see the thread, so a forged click comes from elsewhere: the custom id alone.
    refused = await sandbox.driver.click(
        wrap, label="Give feedback", member=member(sandbox, "kofi")
    )
    assert refused.modal is not None  # Kofi may give his too

    # Extend: both click, and the pairing goes on.
    first = await sandbox.driver.click(wrap, label="Extend", member=member(sandbox, "kofi"))
    assert (first.ephemeral, first.content) == (
        True,
        f"Noted! If {ada} clicks Extend too, you go on for 30 more days.",
    )
    second = await sandbox.driver.click(wrap, label="Extend", member=member(sandbox, "ada"))
    assert second.content.startswith("Extended: you go on until <t:")
    await sandbox.settle()
    (extended,) = said_in(sandbox, thread, "🌱")
    assert extended.content.startswith("🌱 You both chose to go on")

    await days_pass(sandbox, 30)  # day 60: the second wrap-up; nobody extends this time
    assert len(said_in(sandbox, thread, "🎓")) == 2
    stale = await sandbox.driver.click(wrap, label="Extend", member=member(sandbox, "ada"))
    assert stale.content == "This pairing has already been extended or closed."
    await days_pass(sandbox, 3)
    (closed,) = said_in(sandbox, thread, "This pairing has closed.")
    assert closed.content.startswith(f"This pairing has closed. {ada}, keep going")
    assert sandbox.discord.state.channels[thread.id].archived
    assert (await run(sandbox, "kofi", "mentor mentees")).content.startswith("You have no")


async def test_a_mentee_declines_once_and_an_organiser_reassigns(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    await mentor_joins(sandbox, "lena")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    kofi, lena, ada = (mention(sandbox, name) for name in ("kofi", "lena", "ada"))
    (offer,) = dms(sandbox, "ada", "you can ask once")
    assert offer.content.startswith(f"You've been matched with {kofi}.")

    declined = await sandbox.driver.click(
        offer, label="Ask for someone else", member=member(sandbox, "ada")
    )
    assert declined.message is not None
    assert declined.message.content.endswith(
        f"Done: your new mentor is {lena}; look out for their introduction."
    )
    assert declined.message.button_labels == []
    await sandbox.settle()
    (thanks,) = dms(sandbox, "kofi", "asked to try another mentor")
    assert thanks.content.startswith(f"{ada} asked to try another mentor.")
    assert len(threads(sandbox)) == 2
    assert dms(sandbox, "ada", "you can ask once") == [offer]  # no second offer

    refused = await run(sandbox, "kofi", "mentor reassign", mentee=member(sandbox, "ada"))
    assert refused.content == "This command is for organisers."
    moved = await run(
        sandbox,
        "ines",
        "mentor reassign",
        mentee=member(sandbox, "ada"),
        mentor=member(sandbox, "kofi"),
    )
    assert moved.ephemeral
    assert moved.content.startswith(f"{ada} is now paired with {kofi} (")
    await sandbox.settle()
    (told,) = dms(sandbox, "ada", "The organisers have asked")
    assert told.content.startswith(
        f"The organisers have asked a new mentor to take over from {lena}."
    )
    (lena_told,) = dms(sandbox, "lena", "The organisers have matched")
    assert lena_told.content.startswith(f"The organisers have matched {ada} with another mentor.")
    assert len(threads(sandbox)) == 3
