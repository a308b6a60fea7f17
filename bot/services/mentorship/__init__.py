# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program: mentors, fair matching, the queue and the pairings.

The feature's modules: this one (mentors, matching, the queue, handovers), ``check_ins`` (a
pairing's life after the match), ``wrap_up`` (its end: feedback, Extend, closing) and
``feature`` (the declaration and its periodic job).

A newcomer who finished `/start` asks for a mentor (at the end of `/start`, or `/buddy`);
the available mentors are scored (:func:`score`) and the best one takes a place with one
conditional UPDATE of their load, so concurrent matches never fill a mentor past capacity.
Nobody available: the newcomer is queued, oldest served first whenever capacity frees.
Every message goes through the outbox with a key per (pairing, stage). docs/mentorship.md
explains the rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import MentorshipSettings, Settings
from bot.db.models import Claim, GitHubIssue, Member, Mentor, Newcomer, Pairing
from bot.errors import DomainError
from bot.outbox import delivered, promise
from bot.services import members
from bot.services.claims import ClaimTarget, active_claims
from bot.services.members import show_offset
from bot.services.onboarding import EXPERIENCE_LEVELS
from bot.text import escape, link, timestamp

NAME = "mentorship"
MAX_LANGUAGES = 5
MAX_PAUSE_DAYS = 365

# How much each part of the score weighs (each part is between 0 and 1): spreading the work
# by load first, then shared areas and how long since the mentor's last mentee, then the
# time-zone distance (which decides how easily the two can talk live). Tuned with
# benchmarks/mentor_matching.py: with areas first, mentors of the most asked-for areas did
# most of the work, and mentors of one rarely asked-for area almost none.
WEIGHTS = {"areas": 0.25, "load": 0.3, "spread": 0.25, "time_zone": 0.2}
# A mentor whose last mentee came this long ago (or never) counts as fully rested.
RESTED = timedelta(days=30)


# --- time zones ----------------------------------------------------------------------------


def hours_apart(a: int, b: int) -> float:
    """Hours between two UTC offsets, the short way round the clock (at most 12)."""
    difference = abs(a - b) % (24 * 60)
    return min(difference, 24 * 60 - difference) / 60


# --- mentors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorProfile:
    areas: tuple[str, ...]
    capacity: int
    utc_offset: int | None
    languages: tuple[str, ...]


def parse_languages(text: str | None) -> tuple[str, ...]:
    """ "English, français" -> ("English", "français"): at most five, each kept short."""
    if not text:
        return ()
    found = [part.strip()[:24] for part in re.split(r"[,;/]", text) if part.strip()]
    return tuple(dict.fromkeys(found))[:MAX_LANGUAGES]


async def join(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    user_id: int,
    profile: MentorProfile,
    *,
    offered: Sequence[str],
    approved: bool,
    now: datetime,
) -> Mentor:
    """Become a mentor, or change one's profile. Without ``approved`` (the Mentor role) a new
    mentor waits for an organiser; a mentor who left and joins again starts afresh."""
    unknown = sorted(set(profile.areas) - set(offered))
    if unknown:
        raise DomainError(f"Those areas aren't offered here: {escape(', '.join(unknown))}.")
    if not profile.areas:
        raise DomainError("Pick at least one area you can help with.")
    row = await session.get(Mentor, (guild_id, user_id))
    if row is None:
        row = Mentor(guild_id=guild_id, user_id=user_id, load=0, joined_at=now, status="left")
        session.add(row)
    asking = row.status == "left" and not approved
    if row.status == "left":
        row.status = "active" if approved else "pending"
        row.paused_until = None
    elif row.status == "pending" and approved:
        row.status = "active"
    row.areas = [area for area in offered if area in profile.areas]
    row.capacity = profile.capacity
    row.languages = list(profile.languages)
    await session.flush()
    if profile.utc_offset is not None:  # not given: the one they gave before stays
        await members.set_utc_offset(session, guild_id, user_id, profile.utc_offset)
    if asking:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"mentorship:asks:{guild_id}:{user_id}:{int(now.timestamp())}",
            target_kind="channel",
            target_id=program_settings(settings).mentors_channel_id,
            payload={
                "content": f"<@{user_id}> offers to mentor ({', '.join(row.areas)}, up to "
                f"{row.capacity} at a time). Organisers: `/mentor approve` lets them start."
            },
            now=now,
        )
    if row.status == "active":
        await serve_queue(session, settings, guild_id, now)
    return row


async def approve(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> Mentor:
    row = await session.get(Mentor, (guild_id, user_id))
    if row is None or row.status != "pending":
        raise DomainError(f"<@{user_id}> has not asked to become a mentor.")
    row.status = "active"
    await session.flush()
    await promise(
        session,
        feature=NAME,
        guild_id=guild_id,
        key=f"mentorship:approved:{guild_id}:{user_id}:{int(now.timestamp())}",
        target_kind="dm",
        target_id=user_id,
        payload={
            "content": "You're approved as a mentor: newcomers can be matched with you now. "
            "Thank you! `/mentor mentees` shows yours; `/mentor pause` takes a break."
        },
        now=now,
    )
    await serve_queue(session, settings, guild_id, now)
    return row


async def _mentor(session: AsyncSession, guild_id: int, user_id: int) -> Mentor:
    row = await session.get(Mentor, (guild_id, user_id))
    if row is None or row.status == "left":
        raise DomainError("You aren't a mentor here; `/mentor join` makes you one.")
    return row


async def pause(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    user_id: int,
    until: datetime | None,
    now: datetime,
) -> int:
    """No new mentees until ``until`` (or `/mentor resume`). A pairing that ends before the
    pause does goes on; a mentee who would be left without their mentor for the rest of
    it (or for a pause without an end) is handed over. Returns how many were."""
    if until is not None and until <= now:
        raise DomainError("That date has already passed; give a day in the future.")
    row = await _mentor(session, guild_id, user_id)
    if row.status == "pending":
        raise DomainError("You're still waiting for an organiser's approval.")
    row.status, row.paused_until = "paused", until
    outlasted = [
        pairing
        for pairing in await _active_pairings(session, guild_id, user_id)
        if until is None or (pairing.ends_at is not None and until > pairing.ends_at)
    ]
    return await _step_back(session, settings, outlasted, "paused", now)


def parse_until(text: str, now: datetime) -> datetime:
    """The end of a pause: "2026-03-01" (the start of that day, UTC) or a number of days."""
    cleaned = text.strip()
    if cleaned.isdigit() and 1 <= int(cleaned) <= MAX_PAUSE_DAYS:
        return now + timedelta(days=int(cleaned))
    try:
        day = date.fromisoformat(cleaned) if len(cleaned) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise DomainError(
            f"“{escape(cleaned[:40])}” isn't a date I understand: give a day as YYYY-MM-DD "
            f"(like 2026-03-01) or a number of days from 1 to {MAX_PAUSE_DAYS} (like 14)."
        )
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def resume(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> Mentor:
    row = await _mentor(session, guild_id, user_id)
    if row.status == "paused":
        row.status, row.paused_until = "active", None
        await session.flush()
        await serve_queue(session, settings, guild_id, now)
    return row


async def leave(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> int:
    """Stop mentoring; each current mentee is handed over. Returns how many were."""
    row = await _mentor(session, guild_id, user_id)
    row.status, row.paused_until = "left", None
    # Each mentee is matched at once where someone has room; leaving frees no place for
    # anyone else, so the queue has nothing new to take.
    return await _step_back(
        session, settings, await _active_pairings(session, guild_id, user_id), "mentor_left", now
    )


async def _step_back(
    session: AsyncSession, settings: Settings, pairings: list[Pairing], why: str, now: datetime
) -> int:
    """The mentor of ``pairings`` steps back: a pairing wrapping up, its time over, just
    closes; any other mentee is handed over. Returns how many were."""
    handed_over = 0
    for pairing in pairings:
        if pairing.wrapped_up_at is not None:
            await _end(session, pairing, "completed", now)
        else:
            await hand_over(session, settings, pairing, why, now)
            handed_over += 1
    return handed_over


async def member_left(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> None:
    """A member left the server: as a mentor they leave (their mentees are handed over); as a
    newcomer their request or pairing ends, so the place and their spot in line go to others."""
    row = await session.get(Mentor, (guild_id, user_id))
    if row is not None and row.status != "left":
        await leave(session, settings, guild_id, user_id, now)
    pairing = await _open_pairing(session, guild_id, user_id)
    if pairing is not None:
        await close(session, settings, pairing, "mentee_left", now)


async def forgotten(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> None:
    """The member's data is about to be deleted (bot/services/retention.py) with their
    mentoring still under way: the program was off when they left or asked to be forgotten,
    so nothing handed it over. As a mentee, their pairing ends, freeing their mentor's place;
    as a mentor, each mentee's pairing ends as if they had run `/mentor leave` and the mentee
    waits at the front of the line (their request time and end date kept), matched and
    introduced once the program runs. Nothing is said now: the program may be off."""
    own = await _open_pairing(session, guild_id, user_id)
    if own is not None:
        await _end(session, own, "mentee_left", now)
    for pairing in await _active_pairings(session, guild_id, user_id):
        if pairing.wrapped_up_at is not None:
            await _end(session, pairing, "completed", now)
            continue
        await _end(session, pairing, "mentor_left", now)
        session.add(
            Pairing(
                guild_id=guild_id,
                mentee_id=pairing.mentee_id,
                status="queued",
                requested_at=pairing.requested_at,
                ends_at=pairing.ends_at,
                excluded_mentor_ids=[*pairing.excluded_mentor_ids, user_id],
            )
        )
    await session.flush()


# --- matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    user_id: int
    areas: tuple[str, ...]
    capacity: int
    load: int
    utc_offset: int | None
    last_matched_at: datetime | None


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    shared_areas: tuple[str, ...]

    @property
    def reason(self) -> str:
        """Why this mentor, as both are told: "docs, UTC+1, 0 of 2 mentees"."""
        mentor = self.candidate
        areas = ", ".join(self.shared_areas) or "no shared area"
        return (
            f"{areas}, {show_offset(mentor.utc_offset)}, {mentor.load} of {mentor.capacity} mentees"
        )


def score(
    candidate: Candidate, areas: Sequence[str], utc_offset: int | None, now: datetime
) -> Scored:
    """How well ``candidate`` suits a newcomer, between 0 and 1 (docs/mentorship.md)."""
    shared = tuple(area for area in candidate.areas if area in areas)
    parts = {
        "areas": len(shared) / len(areas) if areas else 0.5,
        # The share of places still free once this newcomer takes one: counting the place
        # being taken, a mentor of one place who just freed it does not beat, every time, a
        # mentor of three with two free, and each gets work in proportion to what they offer.
        "load": 1 - (candidate.load + 1) / candidate.capacity,
        "spread": 1.0
        if candidate.last_matched_at is None
        else min((now - candidate.last_matched_at) / RESTED, 1.0),
        "time_zone": 0.5
        if candidate.utc_offset is None or utc_offset is None
        else 1 - hours_apart(candidate.utc_offset, utc_offset) / 12,
    }
    total = sum(WEIGHTS[name] * value for name, value in parts.items())
    return Scored(candidate, round(total, 4), shared)


async def _candidates(
    session: AsyncSession,
    guild_id: int,
    mentee_id: int,
    excluded: Sequence[int],
    only: int | None = None,
) -> list[Candidate]:
    query = (
        select(Mentor, Member.utc_offset)
        .outerjoin(
            Member, (Member.guild_id == Mentor.guild_id) & (Member.user_id == Mentor.user_id)
        )
        .where(
            Mentor.guild_id == guild_id,
            Mentor.status == "active",
            Mentor.load < Mentor.capacity,
            Mentor.user_id != mentee_id,
            Mentor.user_id.not_in(excluded),
        )
    )
    rows = await session.execute(query if only is None else query.where(Mentor.user_id == only))
    return [
        Candidate(m.user_id, tuple(m.areas), m.capacity, m.load, offset, m.last_matched_at)
        for m, offset in rows
    ]


async def _take_place(session: AsyncSession, guild_id: int, mentor_id: int, now: datetime) -> bool:
    """Give the mentor one more mentee, if they still have room: one conditional UPDATE."""
    result = await session.execute(
        update(Mentor)
        .where(
            Mentor.guild_id == guild_id,
            Mentor.user_id == mentor_id,
            Mentor.status == "active",
            Mentor.load < Mentor.capacity,
        )
        .values(load=Mentor.load + 1, last_matched_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def _free_place(session: AsyncSession, guild_id: int, mentor_id: int) -> None:
    await session.execute(
        update(Mentor)
        .where(Mentor.guild_id == guild_id, Mentor.user_id == mentor_id, Mentor.load > 0)
        .values(load=Mentor.load - 1)
    )


async def _match(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    newcomer: Newcomer,
    now: datetime,
    only: int | None = None,
) -> Scored | None:
    """Pair a queued request with the best mentor who still has room, or None. ``only``: the
    mentor an organiser chose, even one the newcomer had before."""
    excluded = [] if only is not None else list(pairing.excluded_mentor_ids)
    mentee = await session.run_sync(members.current, pairing.guild_id, pairing.mentee_id)
    while True:
        candidates = await _candidates(session, pairing.guild_id, pairing.mentee_id, excluded, only)
        if not candidates:
            return None
        ranked = [score(c, newcomer.areas, mentee.utc_offset, now) for c in candidates]
        best = max(ranked, key=lambda s: (s.score, -s.candidate.user_id))
        mentor_id = best.candidate.user_id
        if await _take_place(session, pairing.guild_id, mentor_id, now):
            break
        excluded.append(mentor_id)  # filled meanwhile by a concurrent match
    days = program_settings(settings).pairing_days
    pairing.mentor_id, pairing.status, pairing.matched_at = mentor_id, "active", now
    # A handed-over mentee keeps the days they had left, with at least a week more.
    pairing.ends_at = max(pairing.ends_at or now + timedelta(days=days), now + timedelta(days=7))
    pairing.reason, pairing.score = best.reason, best.score
    await session.flush()
    await _introduce(session, settings, pairing, newcomer, now)
    return best


def program_settings(settings: Settings) -> MentorshipSettings:
    section = settings.mentorship
    assert section is not None  # the feature runs only with its section
    return section


@dataclass(frozen=True)
class Request:
    """Where a newcomer's request for a mentor stands."""

    pairing: Pairing
    # Their place in the queue (1: next), or None when they have a mentor.
    place: int | None
    # True when this request was just made (False: it already existed).
    new: bool


async def request(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> Request:
    """Ask for a mentor for a newcomer who finished `/start`; answers the open request if
    there is one, so asking twice (or a retried click) is harmless."""
    newcomer = await session.get(Newcomer, (guild_id, user_id))
    if newcomer is None or newcomer.finished_at is None:
        raise DomainError("Finish `/start` first: your mentor will want to know your interests.")
    open_pairing = await _open_pairing(session, guild_id, user_id)
    if open_pairing is not None:
        return Request(open_pairing, await _place(session, open_pairing), new=False)
    pairing = Pairing(
        guild_id=guild_id,
        mentee_id=user_id,
        status="queued",
        requested_at=now,
        excluded_mentor_ids=[],
    )
    try:
        async with session.begin_nested():
            session.add(pairing)
    except IntegrityError:
        # The same newcomer asked twice at once (a double click, two processes): the unique
        # index let one request in; this answers with it.
        open_pairing = await _open_pairing(session, guild_id, user_id)
        if open_pairing is None:
            raise
        return Request(open_pairing, await _place(session, open_pairing), new=False)
    if await _match(session, settings, pairing, newcomer, now) is None:
        await _ask_mentors_for_help(session, settings, pairing, now)
    return Request(pairing, await _place(session, pairing), new=True)


async def _open_pairing(session: AsyncSession, guild_id: int, mentee_id: int) -> Pairing | None:
    return await session.scalar(
        select(Pairing).where(
            Pairing.guild_id == guild_id,
            Pairing.mentee_id == mentee_id,
            Pairing.status.in_(("queued", "active")),
        )
    )


async def _place(session: AsyncSession, pairing: Pairing) -> int | None:
    if pairing.status != "queued":
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            Pairing.guild_id == pairing.guild_id,
            Pairing.status == "queued",
            or_(
                Pairing.requested_at < pairing.requested_at,
                and_(Pairing.requested_at == pairing.requested_at, Pairing.id < pairing.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def serve_queue(
    session: AsyncSession, settings: Settings, guild_id: int, now: datetime
) -> int:
    """Match waiting newcomers, oldest first, while mentors have room; how many were."""
    queued = (
        await session.scalars(
            select(Pairing)
            .where(Pairing.guild_id == guild_id, Pairing.status == "queued")
            .order_by(Pairing.requested_at, Pairing.id)
        )
    ).all()
    served = 0
    for pairing in queued:
        newcomer = await session.get(Newcomer, (guild_id, pairing.mentee_id))
        if newcomer is None or newcomer.departed_at is not None:
            continue
        if await _match(session, settings, pairing, newcomer, now) is not None:
            served += 1
        elif not await _candidates(session, guild_id, 0, []):
            break  # nobody has room for anyone
    return served


async def _active_pairings(session: AsyncSession, guild_id: int, mentor_id: int) -> list[Pairing]:
    rows = await session.scalars(
        select(Pairing).where(
            Pairing.guild_id == guild_id,
            Pairing.mentor_id == mentor_id,
            Pairing.status == "active",
        )
    )
    return list(rows.all())


# What the mentee is told first when their mentor changes, by why it changes.
HANDOVER_OPENINGS = {
    "mentor_left": "Your mentor {mentor} has had to step back from mentoring.",
    "paused": "Your mentor {mentor} is taking a break from mentoring.",
    "unanswered": "It seems you and {mentor} haven't managed to connect, so let's try someone new.",
    "reassigned": "The organisers have asked a new mentor to take over from {mentor}.",
    "declined": "No problem, and no hard feelings: let's find you someone else.",
}
# What the mentor who is no longer theirs is told (nothing when they chose it themself).
HANDOVER_NOTICES = {
    "unanswered": "After two check-ins without an answer, {mentee} is being matched with "
    "another mentor. Thank you for making time for them; when things get busy, "
    "`/mentor pause` takes a break.",
    "reassigned": "The organisers have matched {mentee} with another mentor. Thank you for "
    "your time with them!",
    "declined": "{mentee} asked to try another mentor. It happens, for all sorts of reasons "
    "that are rarely about you; thank you for your time with them!",
}


async def hand_over(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    why: str,
    now: datetime,
    to: int | None = None,
) -> Pairing:
    """End a pairing early and find the mentee someone else at once (``to``, if an
    organiser chose), or queue them ahead of later requests; they keep the days they had
    left, never get the same mentor again, and everyone involved is told. Returns the
    mentee's new pairing."""
    former = pairing.mentor_id
    assert former is not None
    await _end(session, pairing, why, now)
    again = Pairing(
        guild_id=pairing.guild_id,
        mentee_id=pairing.mentee_id,
        status="queued",
        requested_at=pairing.requested_at,
        ends_at=pairing.ends_at,
        excluded_mentor_ids=[*pairing.excluded_mentor_ids, former],
    )
    session.add(again)
    await session.flush()
    newcomer = await session.get(Newcomer, (pairing.guild_id, pairing.mentee_id))
    matched = newcomer is not None and await _match(session, settings, again, newcomer, now, to)
    if to is not None and not matched:
        raise DomainError(_cannot_take(to))  # the caller's transaction undoes the ending
    if not matched:
        await _ask_mentors_for_help(session, settings, again, now)
    content = (
        HANDOVER_OPENINGS[why].format(mentor=f"<@{former}>")
        + " "
        + (
            f"<@{again.mentor_id}> takes over from here: look out for their introduction."
            if matched
            else "You keep your place at the front of the line, and we'll introduce you to "
            "someone new as soon as a mentor is free."
        )
    )
    if why in HANDOVER_NOTICES:
        await promise(
            session,
            feature=NAME,
            guild_id=pairing.guild_id,
            key=f"mentorship:handover:{pairing.id}:mentor",
            target_kind="dm",
            target_id=former,
            payload={"content": HANDOVER_NOTICES[why].format(mentee=f"<@{pairing.mentee_id}>")},
            now=now,
        )
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:handover:{pairing.id}",
        target_kind="dm",
        target_id=pairing.mentee_id,
        payload={"content": content},
        now=now,
    )
    return again


async def _has_declined(session: AsyncSession, guild_id: int, mentee_id: int) -> bool:
    declined = await session.scalar(
        select(Pairing.id)
        .where(
            Pairing.guild_id == guild_id,
            Pairing.mentee_id == mentee_id,
            Pairing.end_reason == "declined",
        )
        .limit(1)
    )
    return declined is not None


def _cannot_take(mentor_id: int) -> str:
    return f"<@{mentor_id}> can't take a mentee now: they are full, paused or not a mentor."


async def decline(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    pairing_id: int,
    user_id: int,
    now: datetime,
) -> Pairing:
    """The mentee asks for someone else: once, while the pairing lasts."""
    pairing = await session.get(Pairing, pairing_id)
    if pairing is None or pairing.guild_id != guild_id or pairing.mentee_id != user_id:
        raise DomainError("That choice is someone else's.")
    if pairing.status != "active":
        raise DomainError("This pairing has already ended.")
    if await _has_declined(session, guild_id, user_id):
        raise DomainError(
            "You've already asked for someone else once. If this pairing isn't working, "
            "please tell an organiser: they can help."
        )
    return await hand_over(session, settings, pairing, "declined", now)


async def reassign(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    mentee_id: int,
    to: int | None,
    now: datetime,
) -> Pairing:
    """Organisers move a mentee to another mentor (``to``, or the best one with room)."""
    pairing = await _open_pairing(session, guild_id, mentee_id)
    if pairing is None:
        raise DomainError(f"<@{mentee_id}> has no mentor and isn't waiting for one.")
    if pairing.status == "queued":
        newcomer = await session.get(Newcomer, (guild_id, mentee_id))
        if to is None or newcomer is None:
            raise DomainError(f"<@{mentee_id}> is waiting in line; name a mentor to pair them.")
        if await _match(session, settings, pairing, newcomer, now, to) is None:
            raise DomainError(_cannot_take(to))
        return pairing
    if to is not None and to == pairing.mentor_id:
        raise DomainError(f"<@{to}> is already their mentor.")
    return await hand_over(session, settings, pairing, "reassigned", now, to)


async def close(
    session: AsyncSession, settings: Settings, pairing: Pairing, why: str, now: datetime
) -> None:
    """End a pairing for good; the mentor's place goes to whoever waits longest."""
    await _end(session, pairing, why, now)
    await serve_queue(session, settings, pairing.guild_id, now)


async def _end(session: AsyncSession, pairing: Pairing, why: str, now: datetime) -> None:
    pairing.status, pairing.ended_at, pairing.end_reason = "ended", now, why
    await session.flush()
    if pairing.mentor_id is not None and pairing.wrapped_up_at is None:
        await _free_place(session, pairing.guild_id, pairing.mentor_id)


async def free_place_at_wrap_up(
    session: AsyncSession, settings: Settings, pairing: Pairing, now: datetime
) -> None:
    """A pairing's time is up: its mentor's place goes to whoever waits longest at once,
    not days later when it closes (the wait counts against the 72 hours no mentee should go
    without a mentor)."""
    assert pairing.mentor_id is not None
    await _free_place(session, pairing.guild_id, pairing.mentor_id)
    await serve_queue(session, settings, pairing.guild_id, now)


async def take_place_again(session: AsyncSession, pairing: Pairing) -> None:
    """Both chose to go on: the mentor's place is theirs again, past capacity if it has
    been given away meanwhile (the mentor chose it)."""
    await session.execute(
        update(Mentor)
        .where(Mentor.guild_id == pairing.guild_id, Mentor.user_id == pairing.mentor_id)
        .values(load=Mentor.load + 1)
    )


async def tend(session: AsyncSession, settings: Settings, guild_id: int, now: datetime) -> None:
    """What time alone changes: pauses that end; then the queue. (Pairings that run out
    wrap up: ``wrap_up``.)"""
    await session.execute(
        update(Mentor)
        .where(
            Mentor.guild_id == guild_id,
            Mentor.status == "paused",
            Mentor.paused_until.is_not(None),
            Mentor.paused_until <= now,
        )
        .values(status="active", paused_until=None)
    )
    await serve_queue(session, settings, guild_id, now)


# --- messages ------------------------------------------------------------------------------


async def _introduce(
    session: AsyncSession, settings: Settings, pairing: Pairing, newcomer: Newcomer, now: datetime
) -> None:
    """The private thread that introduces both (a direct message to each without one)."""
    assert pairing.mentor_id is not None
    assert pairing.ends_at is not None
    mentee, mentor = f"<@{pairing.mentee_id}>", f"<@{pairing.mentor_id}>"
    held = await active_claims(session, pairing.guild_id, pairing.mentee_id)
    working_on = (
        f"{held[0].link} {held[0].shown_title}"
        if held
        else "no issue claimed yet (`/start` suggests some)"
    )
    web = settings.onboarding.github_web_url if settings.onboarding else "https://github.com"
    mentee_link = await session.run_sync(members.current, pairing.guild_id, pairing.mentee_id)
    github = "not linked"
    if mentee_link.github_login:
        github = link(mentee_link.github_login, f"{web.rstrip('/')}/{mentee_link.github_login}")
        github += "" if mentee_link.github_verified else " (unverified)"
    experience = EXPERIENCE_LEVELS.get(newcomer.experience or "", "experience not given")
    until = timestamp(pairing.ends_at, "D")
    content = "\n".join(
        [
            f"👋 {mentee}, meet {mentor}: your mentor until {until}.",
            f"Why you two: {pairing.reason}.",
            "",
            f"**About {mentee}**",
            f"Interests: {', '.join(newcomer.areas) or 'not given'} · {experience}",
            f"Time zone: {show_offset(mentee_link.utc_offset)}",
            f"GitHub: {github}",
            f"Working on: {working_on}",
            "",
            f"{mentor}, say hello and agree how you'll keep in touch; {mentee}, no question "
            "is too small to ask here.",
        ]
    )
    message = {"content": content, "mentions": [pairing.mentee_id, pairing.mentor_id]}
    await _offer_to_decline(session, pairing, now)
    section = program_settings(settings)
    if section.thread_channel_id is not None:
        await promise(
            session,
            feature=NAME,
            guild_id=pairing.guild_id,
            key=f"mentorship:thread:{pairing.id}",
            target_kind="thread",
            target_id=section.thread_channel_id,
            payload={
                **message,
                "name": f"Mentoring: {mentee_link.github_login or 'a newcomer'} (#{pairing.id})",
                "members": [pairing.mentee_id, pairing.mentor_id],
            },
            now=now,
        )
        return
    await _to_both(session, pairing, f"mentorship:intro:{pairing.id}", message, now)


async def _offer_to_decline(session: AsyncSession, pairing: Pairing, now: datetime) -> None:
    """Privately, so the mentor does not see it: a mentee may ask for someone else, once."""
    # A decline always leaves its mentor excluded from the next request: a first request
    # (nobody excluded) needs no look at the history.
    if pairing.excluded_mentor_ids and await _has_declined(
        session, pairing.guild_id, pairing.mentee_id
    ):
        return
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:decline-offer:{pairing.id}",
        target_kind="dm",
        target_id=pairing.mentee_id,
        payload={
            "content": f"You've been matched with <@{pairing.mentor_id}>. If you'd rather "
            "have someone else, for any reason, you can ask once: they'll be thanked, "
            "nothing more.",
            "buttons": [
                {
                    "label": "Ask for someone else",
                    "custom_id": f"mentorship:decline:{pairing.id}",
                    "style": "secondary",
                }
            ],
        },
        now=now,
    )


async def thread_of(session: AsyncSession, pairing: Pairing) -> int | None:
    """The id of the pairing's private thread, once the outbox has made it."""
    made = await delivered(session, f"mentorship:thread:{pairing.id}")
    return made[1] if made is not None and made[0] == "sent" else None


async def say_to_pair(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    *,
    key: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Promise a message where the two talk: their thread, or a direct message to each when
    there is none (no thread channel, or the thread could not be made). False, and nothing
    promised, while the thread is still being made: the periodic job asks again."""
    made = await delivered(session, f"mentorship:thread:{pairing.id}")
    if program_settings(settings).thread_channel_id is not None and made is not None:
        status, thread = made
        if status == "pending":
            return False
        if status == "sent" and thread is not None:
            await promise(
                session,
                feature=NAME,
                guild_id=pairing.guild_id,
                key=key,
                target_kind="channel",
                target_id=thread,
                payload=payload,
                now=now,
            )
            return True
    await _to_both(session, pairing, key, payload, now)
    return True


async def _to_both(
    session: AsyncSession, pairing: Pairing, key: str, payload: dict[str, Any], now: datetime
) -> None:
    """The same message to the mentee and the mentor, each by direct message (``key``, then
    the member's id)."""
    assert pairing.mentor_id is not None
    for user_id in (pairing.mentee_id, pairing.mentor_id):
        await promise(
            session,
            feature=NAME,
            guild_id=pairing.guild_id,
            key=f"{key}:{user_id}",
            target_kind="dm",
            target_id=user_id,
            payload=payload,
            now=now,
        )


async def _ask_mentors_for_help(
    session: AsyncSession, settings: Settings, pairing: Pairing, now: datetime
) -> None:
    waiting = await session.scalar(
        select(func.count()).where(Pairing.guild_id == pairing.guild_id, Pairing.status == "queued")
    )
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:help:{pairing.id}",
        target_kind="channel",
        target_id=program_settings(settings).mentors_channel_id,
        payload={
            "content": f"A newcomer is waiting for a mentor ({waiting} waiting in all) and "
            "every mentor is full or paused. `/mentor join`, `/mentor resume` or a higher "
            "capacity in `/mentor join` would help: they are matched as soon as a place frees."
        },
        now=now,
    )


# --- what mentors see ----------------------------------------------------------------------


@dataclass(frozen=True)
class MenteeState:
    user_id: int
    github_login: str | None
    claim: ClaimTarget | None
    pull_requests: int
    last_activity: datetime | None
    days_left: int


async def mentees(
    session: AsyncSession, guild_id: int, mentor_id: int, now: datetime
) -> list[MenteeState]:
    """The mentor's current mentees, each with what they are doing on GitHub."""
    return [
        await mentee_state(session, pairing, now)
        for pairing in await _active_pairings(session, guild_id, mentor_id)
    ]


async def mentee_state(session: AsyncSession, pairing: Pairing, now: datetime) -> MenteeState:
    """What the mentee of an active pairing is doing on GitHub."""
    assert pairing.ends_at is not None
    guild_id = pairing.guild_id
    mentee = await session.run_sync(members.current, guild_id, pairing.mentee_id)
    held = await active_claims(session, guild_id, pairing.mentee_id)
    github_id = mentee.github_user_id
    pulls, last_pull = 0, None
    if github_id is not None:
        pulls, last_pull = (
            await session.execute(
                select(func.count(), func.max(GitHubIssue.updated_at)).where(
                    GitHubIssue.author_id == github_id,
                    GitHubIssue.is_pull_request.is_(True),
                )
            )
        ).one()
    last_claim = await session.scalar(
        select(func.max(Claim.claimed_at)).where(
            Claim.guild_id == guild_id, Claim.user_id == pairing.mentee_id
        )
    )
    moments = [moment for moment in (last_pull, last_claim) if moment is not None]
    return MenteeState(
        user_id=pairing.mentee_id,
        github_login=mentee.github_login,
        claim=held[0] if held else None,
        pull_requests=int(pulls),
        last_activity=max(moments) if moments else None,
        days_left=max((pairing.ends_at - now).days, 0),
    )
