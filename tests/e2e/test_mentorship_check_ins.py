# SPDX-License-Identifier: Apache-2.0
"""A pairing's life end to end, on the simulated clock: the mentor's check-ins with their
buttons, the mentee's day-7 question, a review nudge, the alerts, and a handover after two
check-ins nobody answered."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Pairing
from bot.sandbox.community import Sandbox
from tests.e2e.test_claims import days_pass
from tests.e2e.test_mentorship import (
    channel,
    dms,
    mention,
    mentor_joins,
    newcomer_finishes,
    threads,
)
from tests.e2e.test_onboarding import member

REPO = "helios-engine/helios"


async def paired(sandbox: Sandbox) -> None:
    """Kofi mentors; Ada finishes `/start` and is paired with him."""
    await mentor_joins(sandbox, "kofi")
    await newcomer_finishes(sandbox, "ada", "ada-codes")


async def test_check_ins_ask_the_mentor_with_context_and_record_the_answer(
    sandbox: Sandbox,
) -> None:
    await paired(sandbox)
    ada, kofi = mention(sandbox, "ada"), mention(sandbox, "kofi")

    await days_pass(sandbox, 1)
    assert dms(sandbox, "kofi", "Check-in") == []
    await days_pass(sandbox, 1)
    (first,) = dms(sandbox, "kofi", "Check-in")
    assert first.content.startswith(f"**Check-in, day 2 with {ada}**")
    assert "Pull requests opened: 0" in first.content
    assert first.button_labels == ["Talked", "No answer", "Need help"]

    answered = await sandbox.driver.click(first, label="Talked", member=member(sandbox, "kofi"))
    assert answered.message is not None
    assert answered.message.content.endswith("Great, thanks for checking in!")
    assert answered.message.button_labels == []  # answered once; the buttons are gone
    await days_pass(sandbox, 1)
    assert len(dms(sandbox, "kofi", "Check-in")) == 1  # day 2's is asked once

    # Ada opens a pull request nobody reviews: after a day Kofi is nudged, once.
    sandbox.github.state.open_pull(REPO, "ada-codes", "docs: eviction flags")
    await sandbox.github.emitter.flush()
    await days_pass(sandbox, 1)
    (nudge,) = dms(sandbox, "kofi", "for a first review")
    assert nudge.content.startswith(f"{ada}'s pull request [{REPO}#")
    assert "has waited 24 hours" in nudge.content
    await days_pass(sandbox, 1)
    assert len(dms(sandbox, "kofi", "for a first review")) == 1

    await days_pass(sandbox, 2)  # day 7: Kofi's check-in, and Ada's own question
    (second,) = dms(sandbox, "kofi", "Check-in, day 7")
    assert "Pull requests opened: 1" in second.content
    assert "has waited 4 days for a first review" in second.content
    (question,) = dms(sandbox, "ada", "How is it going")
    assert question.content.startswith(f"How is it going with {kofi}?")
    assert question.button_labels == ["Good", "Stuck"]

    stuck = await sandbox.driver.click(question, label="Stuck", member=member(sandbox, "ada"))
    assert stuck.message is not None
    assert stuck.message.content.endswith(f"Thanks! {kofi} knows and will get in touch.")
    await sandbox.settle()
    (alert,) = dms(sandbox, "kofi", "says they're stuck")
    assert alert.content.startswith(f"{ada} says they're stuck.")

    await sandbox.driver.click(second, label="Need help", member=member(sandbox, "kofi"))
    await sandbox.settle()
    help_asked = [
        m
        for m in sandbox.discord.messages_in(channel(sandbox, "mentors"))
        if "asked for help" in m.content
    ]
    assert len(help_asked) == 1
    assert sandbox.community is not None
    organisers = sandbox.community.roles["Organiser"].id
    assert help_asked[0].content.startswith(f"<@&{organisers}> {kofi} asked for help with")


async def test_a_forged_answer_is_refused_kindly(sandbox: Sandbox) -> None:
    await paired(sandbox)
    await days_pass(sandbox, 7)
    (check_in,) = dms(sandbox, "kofi", "Check-in, day 7")
    (question,) = dms(sandbox, "ada", "How is it going")
    # Ada's client sends the custom id of Kofi's button (a client can send any).
    kofi_button = check_in.find_component(label="Talked")["custom_id"]
    question.find_component(label="Good")["custom_id"] = kofi_button

    refused = await sandbox.driver.click(question, label="Good", member=member(sandbox, "ada"))
    assert refused.ephemeral
    assert refused.content == "This check-in is for someone else."
    assert question.button_labels == ["Good", "Stuck"]  # nothing was recorded or changed


async def test_two_check_ins_nobody_answers_hand_the_mentee_over(sandbox: Sandbox) -> None:
    await paired(sandbox)
    await mentor_joins(sandbox, "lena")
    await days_pass(sandbox, 2)
    await days_pass(sandbox, 5)
    assert len(dms(sandbox, "kofi", "Check-in")) == 2  # days 2 and 7, neither answered
    await days_pass(sandbox, 7)  # day 14: instead of a third, the handover
    assert len(dms(sandbox, "kofi", "Check-in")) == 2

    (told,) = dms(sandbox, "ada", "haven't managed to connect")
    (thanked,) = dms(sandbox, "kofi", "After two check-ins without an answer")
    assert thanked.content.startswith(
        f"After two check-ins without an answer, {mention(sandbox, 'ada')}"
    )
    lena = mention(sandbox, "lena")
    assert f"{lena} takes over from here" in told.content
    new_thread = next(
        t for t in threads(sandbox) if member(sandbox, "lena").id in t.thread_member_ids
    )
    assert member(sandbox, "ada").id in new_thread.thread_member_ids
    async with sandbox.running_bot.runtime.sessions() as session:
        ended = await session.scalar(
            select(Pairing).where(Pairing.mentor_id == member(sandbox, "kofi").id)
        )
    assert ended is not None
    assert (ended.status, ended.end_reason) == ("ended", "unanswered")
