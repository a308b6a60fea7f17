# SPDX-License-Identifier: Apache-2.0
"""A pairing's end and its turns: the wrap-up where the two talk, feedback, Extend by both,
closing with the thread archived; the first merged pull request; declining a mentor once,
organisers reassigning, and a pause that outlasts a pairing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.db.models import Feedback, Member, Pairing, Promise
from bot.errors import DomainError
from bot.services import mentorship
from bot.services.mentorship import check_ins, wrap_up
from tests.unit.services_helpers import GUILD, REPO, REPO_ID, World
from tests.unit.test_mentorship import (
    ADA,
    BRUNO,
    CONFIG,
    DAY,
    KOFI,
    LENA,
    MIRA,
    THREADS,
    ask,
    mentor,
    mentors,
    newcomer,
    pairings,
    promises,
)
from tests.unit.test_mentorship_check_ins import ada, paired

THREAD = 900  # the id Discord gave the pairing's thread


async def thread_made(world: World, pairing: Pairing, status: str = "sent") -> None:
    """The outbox delivered (or failed to make) the pairing's thread."""
    async with world.sessions.begin() as session:
        await session.execute(
            update(Promise)
            .where(Promise.key == f"mentorship:thread:{pairing.id}")
            .values(status=status, discord_message_id=THREAD if status == "sent" else None)
        )


async def job(world: World, config: object = CONFIG) -> None:
    """What the feature's job runs about the end of pairings."""
    async with world.sessions.begin() as session:
        await wrap_up.tend_wrap_ups(session, config, GUILD, world.clock.now())  # type: ignore[arg-type]


async def current(world: World, pairing_id: int) -> Pairing:
    (row,) = [p for p in await pairings(world) if p.id == pairing_id]
    return row


async def in_thread(world: World) -> Pairing:
    """Kofi and Ada, paired in a thread the outbox has made."""
    await mentor(world, KOFI, config=THREADS)
    await newcomer(world, ADA, login="ada-codes")
    pairing = (await ask(world, ADA, THREADS)).pairing
    await thread_made(world, pairing)
    return pairing


async def extend(world: World, pairing: Pairing, user_id: int, round_: int | None = None) -> str:
    async with world.sessions.begin() as session:
        return await wrap_up.extend(
            session,
            THREADS,
            guild_id=GUILD,
            pairing_id=pairing.id,
            wrap_up=round_ if round_ is not None else wrap_up.round_of(pairing),
            user_id=user_id,
            now=world.clock.now(),
        )


async def feedback(
    world: World, pairing: Pairing, user_id: int, score: str, text: str | None = None
) -> Feedback:
    async with world.sessions.begin() as session:
        return await wrap_up.give_feedback(
            session,
            guild_id=GUILD,
            pairing_id=pairing.id,
            user_id=user_id,
            score=score,
            text=text,
            now=world.clock.now(),
        )


async def at_the_end(world: World, pairing: Pairing, config: object = THREADS) -> None:
    assert pairing.ends_at is not None
    world.clock.set(pairing.ends_at)
    await job(world, config)


# --- the wrap-up ---------------------------------------------------------------------------


async def test_the_wrap_up_is_asked_in_the_thread_on_the_last_day(world: World) -> None:
    pairing = await in_thread(world)
    assert pairing.ends_at is not None
    world.clock.set(pairing.ends_at - timedelta(seconds=1))
    await job(world, THREADS)
    assert await promises(world, "mentorship:wrap-up:") == []
    await at_the_end(world, pairing)
    (asked,) = await promises(world, "mentorship:wrap-up:")
    end = wrap_up.round_of(pairing)
    assert (asked.key, asked.target_kind, asked.target_id) == (
        f"mentorship:wrap-up:{pairing.id}:{end}",
        "channel",
        THREAD,
    )
    assert asked.payload["content"].startswith(
        f"🎓 <@{ADA}> and <@{KOFI}>: your 30 days together are up."
    )
    assert [b["custom_id"] for b in asked.payload["buttons"]] == [
        f"mentorship:feedback:{pairing.id}",
        f"mentorship:extend:{pairing.id}:{end}",
    ]
    assert (await current(world, pairing.id)).wrapped_up_at == world.clock.now()
    world.clock.advance(DAY)
    await job(world, THREADS)
    assert len(await promises(world, "mentorship:wrap-up:")) == 1  # asked once


async def test_the_wrap_up_waits_for_the_thread_and_goes_by_dm_if_it_failed(
    world: World,
) -> None:
    await mentor(world, KOFI, config=THREADS)
    await newcomer(world, ADA)
    pairing = (await ask(world, ADA, THREADS)).pairing
    await at_the_end(world, pairing)  # the thread is still being made: nothing yet
    assert await promises(world, "mentorship:wrap-up:") == []
    assert (await current(world, pairing.id)).wrapped_up_at is None
    await thread_made(world, pairing, status="failed")
    await job(world, THREADS)
    asked = await promises(world, "mentorship:wrap-up:")
    assert sorted((p.target_kind, p.target_id) for p in asked) == [("dm", ADA), ("dm", KOFI)]


async def test_without_a_thread_channel_the_wrap_up_goes_to_both_by_dm(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    pairing = (await ask(world, ADA)).pairing
    await at_the_end(world, pairing, CONFIG)
    end = wrap_up.round_of(pairing)
    assert sorted(p.key for p in await promises(world, "mentorship:wrap-up:")) == [
        f"mentorship:wrap-up:{pairing.id}:{end}:{ADA}",
        f"mentorship:wrap-up:{pairing.id}:{end}:{KOFI}",
    ]


async def test_the_wrap_up_frees_the_place_and_closing_archives_the_thread(
    world: World,
) -> None:
    pairing = await in_thread(world)
    await newcomer(world, BRUNO)
    async with world.sessions.begin() as session:  # Kofi is full: Bruno waits
        await mentorship.join(
            session,
            THREADS,
            GUILD,
            KOFI,
            mentorship.MentorProfile(("docs",), 1, 60, ()),
            offered=["docs"],
            approved=True,
            now=world.clock.now(),
        )
    assert (await ask(world, BRUNO, THREADS)).place == 1
    await at_the_end(world, pairing)  # Kofi's place goes to Bruno at once
    assert [(p.mentee_id, p.status, p.mentor_id) for p in await pairings(world)] == [
        (ADA, "active", KOFI),
        (BRUNO, "active", KOFI),
    ]
    assert (await mentors(world))[KOFI].load == 1
    assert pairing.ends_at is not None
    world.clock.set(pairing.ends_at + 3 * DAY - timedelta(seconds=1))
    await job(world, THREADS)
    assert (await current(world, pairing.id)).status == "active"
    world.clock.set(pairing.ends_at + 3 * DAY)
    await job(world, THREADS)
    closed = await current(world, pairing.id)
    assert (closed.status, closed.end_reason, closed.ended_at) == (
        "ended",
        "completed",
        world.clock.now(),
    )
    (goodbye,) = await promises(world, "mentorship:closed:")
    assert (goodbye.target_kind, goodbye.target_id) == ("channel", THREAD)
    assert goodbye.payload["content"].startswith("This pairing has closed.")
    (archive,) = await promises(world, "mentorship:archive:")
    assert (archive.key, archive.target_kind, archive.target_id) == (
        f"mentorship:archive:{pairing.id}",
        "archive",
        THREAD,
    )
    assert [(p.mentee_id, p.status, p.mentor_id) for p in await pairings(world)] == [
        (ADA, "ended", KOFI),
        (BRUNO, "active", KOFI),
    ]
    assert (await mentors(world))[KOFI].load == 1


# --- feedback ------------------------------------------------------------------------------


async def test_both_give_feedback_once_each_the_latest_counting(world: World) -> None:
    pairing = await in_thread(world)
    await at_the_end(world, pairing)
    await feedback(world, pairing, ADA, "4", "  Kofi was **great**  ")
    await feedback(world, pairing, KOFI, "5")
    world.clock.advance(timedelta(hours=1))
    await feedback(world, pairing, ADA, "5", "Even better on reflection")
    rows = {row.user_id: row for row in await world.rows(Feedback)}
    assert {who: (r.side, r.score, r.text) for who, r in rows.items()} == {
        ADA: ("mentee", 5, "Even better on reflection"),
        KOFI: ("mentor", 5, None),
    }
    assert rows[ADA].given_at == world.clock.now()


async def test_feedback_is_checked_against_the_pairing(world: World) -> None:
    pairing = await in_thread(world)
    with pytest.raises(DomainError, match="isn't wrapping up"):
        await feedback(world, pairing, ADA, "5")  # not yet
    await at_the_end(world, pairing)
    with pytest.raises(DomainError, match="someone else's"):
        await feedback(world, pairing, LENA, "5")
    async with world.sessions() as session:
        with pytest.raises(DomainError, match="someone else's"):
            await wrap_up.can_give_feedback(
                session, guild_id=GUILD, pairing_id=pairing.id, user_id=LENA
            )
        await wrap_up.can_give_feedback(session, guild_id=GUILD, pairing_id=pairing.id, user_id=ADA)
    for score in ("0", "6", "", "five", "-1"):
        with pytest.raises(DomainError, match="from 1"):
            await feedback(world, pairing, ADA, score)
    long = await feedback(world, pairing, ADA, "3", "x" * 5000)
    assert long.text == "x" * wrap_up.MAX_FEEDBACK
    async with world.sessions.begin() as session:
        with pytest.raises(DomainError, match="isn't wrapping up"):
            await wrap_up.give_feedback(
                session,
                guild_id=GUILD + 1,
                pairing_id=pairing.id,
                user_id=ADA,
                score="5",
                text=None,
                now=world.clock.now(),
            )


# --- extending -----------------------------------------------------------------------------


async def test_both_clicking_extend_adds_the_pairing_days_and_wraps_up_again(
    world: World,
) -> None:
    pairing = await in_thread(world)
    await at_the_end(world, pairing)
    first_round = wrap_up.round_of(pairing)
    assert (await extend(world, pairing, ADA)).startswith(
        f"Noted! If <@{KOFI}> clicks Extend too, you go on for 30 more days."
    )
    assert (await extend(world, pairing, ADA)).startswith("Noted!")  # a second click: the same
    assert (await current(world, pairing.id)).wrapped_up_at is not None
    answer = await extend(world, pairing, KOFI)
    assert answer.startswith("Extended: you go on until <t:")
    extended = await current(world, pairing.id)
    assert pairing.ends_at is not None
    assert extended.ends_at == pairing.ends_at + 30 * DAY
    assert (extended.wrapped_up_at, extended.mentor_extends, extended.mentee_extends) == (
        None,
        False,
        False,
    )
    (told,) = await promises(world, "mentorship:extended:")
    assert (told.target_id, told.payload["content"][:30]) == (
        THREAD,
        "🌱 You both chose to go on: thi",
    )
    # The old wrap-up's button no longer counts, and the pairing wraps up again at its new end.
    with pytest.raises(DomainError, match="isn't wrapping up"):
        await extend(world, extended, ADA, first_round)
    await at_the_end(world, extended)
    assert sorted(p.key for p in await promises(world, "mentorship:wrap-up:")) == [
        f"mentorship:wrap-up:{pairing.id}:{first_round}",
        f"mentorship:wrap-up:{pairing.id}:{wrap_up.round_of(extended)}",
    ]
    with pytest.raises(DomainError, match="already been extended or closed"):
        await extend(world, extended, ADA, first_round)


async def test_extending_takes_the_place_again_even_past_capacity(world: World) -> None:
    pairing = await in_thread(world)
    await mentor(world, KOFI, capacity=1, config=THREADS)
    await newcomer(world, BRUNO)
    await ask(world, BRUNO, THREADS)  # waits
    await at_the_end(world, pairing)  # and takes Kofi's freed place
    assert (await mentors(world))[KOFI].load == 1
    await extend(world, pairing, ADA)
    await extend(world, pairing, KOFI)
    assert (await mentors(world))[KOFI].load == 2  # Kofi chose to go on with Ada
    assert pairing.ends_at is not None
    world.clock.set(pairing.ends_at + 3 * DAY)
    await job(world, THREADS)
    assert (await current(world, pairing.id)).status == "active"  # extended: not closed


async def test_a_mentor_who_leaves_during_the_wrap_up_closes_the_pairing(world: World) -> None:
    pairing = await in_thread(world)
    await mentor(world, LENA, config=THREADS)
    await at_the_end(world, pairing)
    async with world.sessions.begin() as session:
        assert await mentorship.leave(session, THREADS, GUILD, KOFI, world.clock.now()) == 0
    closed = await current(world, pairing.id)
    assert (closed.status, closed.end_reason) == ("ended", "completed")
    assert [p.mentee_id for p in await pairings(world, "active")] == []  # nobody new for Ada
    assert (await mentors(world))[KOFI].load == 0


async def test_one_click_alone_lets_the_pairing_close(world: World) -> None:
    pairing = await in_thread(world)
    await at_the_end(world, pairing)
    await extend(world, pairing, KOFI)
    with pytest.raises(DomainError, match="someone else's"):
        await extend(world, pairing, LENA)
    world.clock.advance(3 * DAY)
    await job(world, THREADS)
    assert (await current(world, pairing.id)).status == "ended"
    with pytest.raises(DomainError, match="already been extended or closed"):
        await extend(world, pairing, ADA)


# --- the first merged pull request ---------------------------------------------------------


async def celebrations(world: World) -> list[Promise]:
    return await promises(world, "mentorship:first-merge:")


async def tend_pairings(world: World) -> None:
    async with world.sessions.begin() as session:
        await check_ins.tend_pairings(session, CONFIG, GUILD, world.clock.now())


async def test_the_first_merged_pull_request_is_celebrated_once(world: World) -> None:
    pairing = await paired(world)
    await world.seed(world.issue(7, pull=True, author=ada(world), title="docs: fix `a` @here"))
    await tend_pairings(world)
    assert await celebrations(world) == []
    world.clock.advance(DAY)
    await world.seed(
        world.issue(7, pull=True, author=ada(world), title="docs: fix `a` @here", merged=True)
    )
    await tend_pairings(world)
    await world.seed(world.issue(8, pull=True, author=ada(world), merged=True))
    world.clock.advance(DAY)
    await tend_pairings(world)
    sent = await celebrations(world)
    assert sorted((p.key, p.target_id) for p in sent) == [
        (f"mentorship:first-merge:{GUILD}:{ADA}:{ADA}", ADA),
        (
            f"mentorship:first-merge:{GUILD}:{ADA}:{ADA}:{KOFI}".replace(
                f":{ADA}:{KOFI}", f":{KOFI}"
            ),
            KOFI,
        ),
    ]
    assert sent[0].payload["content"] == (
        f"🎉 <@{ADA}>'s first pull request is merged: "
        f"[{REPO}#7](https://github.com/repo-{REPO_ID}/pull/7) docs: fix \\`a\\` @\u200bhere. "
        f"<@{KOFI}>, thank you for helping them get here!"
    )
    assert pairing.matched_at is not None


async def test_a_merge_from_before_the_pairing_or_an_unverified_link_is_not(world: World) -> None:
    await world.repository()
    await newcomer(world, ADA, login="ada-codes")
    await world.seed(world.issue(7, pull=True, author=ada(world), merged=True))
    world.clock.advance(DAY)
    await mentor(world, KOFI)
    await ask(world, ADA)
    await world.seed(world.issue(8, pull=True, author=ada(world), merged=True))
    await tend_pairings(world)
    assert await celebrations(world) == []  # her first merge came before the pairing

    await newcomer(world, BRUNO, login="bruno")
    async with world.sessions.begin() as session:
        await session.execute(
            update(Member).where(Member.user_id == BRUNO).values(github_verified=False)
        )
    await ask(world, BRUNO)
    bruno = world.issue(9, pull=True, author=ada(world), merged=True)
    await world.seed(bruno)
    await tend_pairings(world)
    assert await celebrations(world) == []


# --- declining, reassigning, pausing -------------------------------------------------------


async def handover_notices(world: World) -> dict[int, str]:
    """Who was told about a handover, and what."""
    return {
        p.target_id: p.payload["content"] for p in await promises(world, "mentorship:handover:")
    }


async def decline(world: World, pairing: Pairing, user_id: int = ADA) -> Pairing:
    async with world.sessions.begin() as session:
        return await mentorship.decline(
            session,
            CONFIG,
            guild_id=GUILD,
            pairing_id=pairing.id,
            user_id=user_id,
            now=world.clock.now(),
        )


async def test_a_mentee_may_decline_a_mentor_once(world: World) -> None:
    await mentor(world, KOFI)
    await mentor(world, LENA)
    await mentor(world, MIRA)
    await newcomer(world, ADA)
    first = (await ask(world, ADA)).pairing
    (offer,) = await promises(world, "mentorship:decline-offer:")
    assert (offer.target_id, offer.payload["buttons"][0]["custom_id"]) == (
        ADA,
        f"mentorship:decline:{first.id}",
    )
    with pytest.raises(DomainError, match="someone else's"):
        await decline(world, first, first.mentor_id or 0)
    second = await decline(world, first)
    assert second.status == "active"
    assert second.mentor_id not in (None, first.mentor_id)
    assert second.excluded_mentor_ids == [first.mentor_id]
    ended = await current(world, first.id)
    assert (ended.status, ended.end_reason) == ("ended", "declined")
    told = {
        p.target_id: p.payload["content"] for p in await promises(world, "mentorship:handover:")
    }
    assert told[ADA].startswith("No problem, and no hard feelings")
    assert told[first.mentor_id or 0].startswith(f"<@{ADA}> asked to try another mentor.")
    # No second offer, and no second decline.
    assert len(await promises(world, "mentorship:decline-offer:")) == 1
    with pytest.raises(DomainError, match="already asked for someone else once"):
        await decline(world, second)
    with pytest.raises(DomainError, match="already ended"):
        await decline(world, first)


async def reassign(world: World, mentee: int, to: int | None) -> Pairing:
    async with world.sessions.begin() as session:
        return await mentorship.reassign(session, CONFIG, GUILD, mentee, to, world.clock.now())


async def test_organisers_reassign_to_a_chosen_mentor_or_the_best_one(world: World) -> None:
    await mentor(world, KOFI)
    await mentor(world, LENA)
    await newcomer(world, ADA)
    first = (await ask(world, ADA)).pairing
    assert first.mentor_id == KOFI
    with pytest.raises(DomainError, match="already their mentor"):
        await reassign(world, ADA, KOFI)
    moved = await reassign(world, ADA, None)  # the best one with room
    assert (moved.mentor_id, moved.status, moved.ends_at) == (LENA, "active", first.ends_at)
    told = await handover_notices(world)
    assert told[ADA].startswith(
        f"The organisers have asked a new mentor to take over from <@{KOFI}>."
    )
    assert told[KOFI].startswith(f"The organisers have matched <@{ADA}> with another mentor.")
    # An organiser may name a mentor the newcomer had before; not a full one.
    await mentor(world, MIRA, capacity=1)
    await newcomer(world, BRUNO)
    await ask(world, BRUNO)
    assert (await mentors(world))[MIRA].load == 1
    with pytest.raises(DomainError, match="can't take a mentee now"):
        await reassign(world, ADA, MIRA)
    assert (await current(world, moved.id)).status == "active"  # nothing changed
    back = await reassign(world, ADA, KOFI)
    assert (back.mentor_id, back.excluded_mentor_ids) == (KOFI, [KOFI, LENA])
    with pytest.raises(DomainError, match="no mentor and isn't waiting"):
        await reassign(world, 99, None)


async def test_a_waiting_mentee_is_paired_by_name(world: World) -> None:
    await mentor(world, KOFI, capacity=1)
    await newcomer(world, BRUNO)
    await ask(world, BRUNO)  # Kofi, whose place is taken
    await mentor(world, LENA)
    await newcomer(world, ADA)
    first = (await ask(world, ADA)).pairing
    assert first.mentor_id == LENA
    waiting = await decline(world, first)  # nobody else has room: Ada waits
    assert waiting.status == "queued"
    with pytest.raises(DomainError, match="waiting in line; name a mentor"):
        await reassign(world, ADA, None)
    with pytest.raises(DomainError, match="can't take a mentee now"):
        await reassign(world, ADA, KOFI)
    paired_now = await reassign(world, ADA, LENA)
    assert (paired_now.id, paired_now.status, paired_now.mentor_id) == (waiting.id, "active", LENA)


async def pause(world: World, user_id: int, until: timedelta | None) -> int:
    now = world.clock.now()
    async with world.sessions.begin() as session:
        return await mentorship.pause(
            session, CONFIG, GUILD, user_id, now + until if until else None, now
        )


async def test_a_pause_that_outlasts_a_pairing_hands_the_mentee_over(world: World) -> None:
    await mentor(world, KOFI)
    await mentor(world, LENA)
    await newcomer(world, ADA)
    pairing = (await ask(world, ADA)).pairing
    assert pairing.mentor_id == KOFI
    assert await pause(world, KOFI, 30 * DAY) == 0  # ends with the pairing: Ada stays
    assert (await current(world, pairing.id)).status == "active"
    async with world.sessions.begin() as session:
        await mentorship.resume(session, CONFIG, GUILD, KOFI, world.clock.now())
    assert await pause(world, KOFI, 30 * DAY + timedelta(seconds=1)) == 1
    (again,) = await pairings(world, "active")
    assert (again.mentee_id, again.mentor_id) == (ADA, LENA)
    told = {
        p.target_id: p.payload["content"] for p in await promises(world, "mentorship:handover:")
    }
    assert told[ADA].startswith(f"Your mentor <@{KOFI}> is taking a break from mentoring.")
    assert KOFI not in told  # his own command told him
    assert await pause(world, LENA, None) == 1  # a pause without an end outlasts every pairing
