# SPDX-License-Identifier: Apache-2.0
"""A pairing's end: the wrap-up on its last day, feedback, Extend, and closing.

On ``ends_at`` both are asked, where they talk (the pairing's thread, or a direct message to
each), for feedback (a score from 1 to 5 and a few words, seen by organisers only) and
whether to go on: when both click Extend, the pairing runs another ``pairing_days``. The
mentor's place frees at the wrap-up, for whoever waits longest; extending takes it again.
Without that the pairing closes ``wrap_up_days`` later and its thread is archived (it stays
readable, and a message reopens it). Everything is computed
from the pairing's row by the feature's periodic job, and each message is promised with a
key naming the pairing and the end date it is about, so an extended pairing wraps up again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import Feedback, Pairing
from bot.errors import DomainError
from bot.outbox import promise
from bot.services.mentorship import (
    NAME,
    close,
    free_place_at_wrap_up,
    program_settings,
    say_to_pair,
    take_place_again,
    thread_of,
)
from bot.text import timestamp

MAX_FEEDBACK = 1000
SCORES = range(1, 6)


def round_of(pairing: Pairing) -> int:
    """The wrap-up a click is about, named by the end date it was asked for: a button from
    before an extension no longer counts."""
    assert pairing.ends_at is not None
    return int(pairing.ends_at.timestamp())


async def tend_wrap_ups(
    session: AsyncSession, settings: Settings, guild_id: int, now: datetime
) -> None:
    """Ask pairings that reached their end to wrap up; close those whose wrap-up is over."""
    section = program_settings(settings)
    due = await session.scalars(
        select(Pairing).where(
            Pairing.guild_id == guild_id, Pairing.status == "active", Pairing.ends_at <= now
        )
    )
    for pairing in due.all():
        if pairing.wrapped_up_at is None:
            await _wrap_up(session, settings, pairing, now)
        elif pairing.wrapped_up_at + timedelta(days=section.wrap_up_days) <= now:
            await _close(session, settings, pairing, now)


async def _wrap_up(
    session: AsyncSession, settings: Settings, pairing: Pairing, now: datetime
) -> None:
    section = program_settings(settings)
    closes = now + timedelta(days=section.wrap_up_days)
    mentee, mentor = f"<@{pairing.mentee_id}>", f"<@{pairing.mentor_id}>"
    assert pairing.ends_at is not None
    assert pairing.matched_at is not None
    # A handed-over or extended pairing lasts longer or shorter than pairing_days.
    days = round((pairing.ends_at - pairing.matched_at) / timedelta(days=1))
    sent = await say_to_pair(
        session,
        settings,
        pairing,
        key=f"mentorship:wrap-up:{pairing.id}:{round_of(pairing)}",
        payload={
            "content": "\n".join(
                [
                    f"🎓 {mentee} and {mentor}: your {days} days together are up. Thank you both!",
                    "",
                    "**Feedback**: how was it? A score and a few words, seen only by the "
                    "organisers, help the next pairings.",
                    f"**Extend**: if you both click it, you go on for {section.pairing_days} "
                    "more days.",
                    f"Otherwise the pairing closes {timestamp(closes, 'R')} and this "
                    "conversation is archived; it stays readable.",
                ]
            ),
            "buttons": [
                {
                    "label": "Give feedback",
                    "custom_id": f"mentorship:feedback:{pairing.id}",
                    "style": "primary",
                },
                {
                    "label": "Extend",
                    "custom_id": f"mentorship:extend:{pairing.id}:{round_of(pairing)}",
                    "style": "secondary",
                },
            ],
            "mentions": [pairing.mentee_id, pairing.mentor_id],
        },
        now=now,
    )
    if sent:
        await free_place_at_wrap_up(session, settings, pairing, now)
        pairing.wrapped_up_at = now
        pairing.mentor_extends = pairing.mentee_extends = False


async def _close(
    session: AsyncSession, settings: Settings, pairing: Pairing, now: datetime
) -> None:
    await close(session, settings, pairing, "completed", now)
    thread = await thread_of(session, pairing)
    await say_to_pair(
        session,
        settings,
        pairing,
        key=f"mentorship:closed:{pairing.id}",
        payload={
            "content": f"This pairing has closed. <@{pairing.mentee_id}>, keep going: "
            f"{_where_to_ask(settings)}, and <@{pairing.mentor_id}> will be glad to hear "
            "how you get on. Thank you both! 💚"
        },
        now=now,
    )
    if thread is not None:
        await promise(
            session,
            feature=NAME,
            guild_id=pairing.guild_id,
            key=f"mentorship:archive:{pairing.id}",
            target_kind="archive",
            target_id=thread,
            payload={},
            now=now,
        )


def _where_to_ask(settings: Settings) -> str:
    help_channel = settings.onboarding.help_channel_id if settings.onboarding else None
    return f"<#{help_channel}> is always there" if help_channel else "questions are welcome"


def _side(pairing: Pairing, user_id: int) -> str:
    if user_id == pairing.mentor_id:
        return "mentor"
    if user_id == pairing.mentee_id:
        return "mentee"
    raise DomainError("This pairing is someone else's.")


async def _wrapping_up(session: AsyncSession, guild_id: int, pairing_id: int) -> Pairing:
    pairing = await session.get(Pairing, pairing_id)
    if pairing is None or pairing.guild_id != guild_id or pairing.wrapped_up_at is None:
        raise DomainError("That pairing isn't wrapping up (any more).")
    return pairing


async def can_give_feedback(
    session: AsyncSession, *, guild_id: int, pairing_id: int, user_id: int
) -> None:
    """Raise DomainError unless ``user_id`` may give feedback on the pairing (checked before
    the form opens, so nobody fills it in for nothing)."""
    _side(await _wrapping_up(session, guild_id, pairing_id), user_id)


async def give_feedback(
    session: AsyncSession,
    *,
    guild_id: int,
    pairing_id: int,
    user_id: int,
    score: str,
    text: str | None,
    now: datetime,
) -> Feedback:
    """Record (or replace) what one of the two thought of their pairing."""
    pairing = await _wrapping_up(session, guild_id, pairing_id)
    side = _side(pairing, user_id)
    if not score.isdigit() or int(score) not in SCORES:
        raise DomainError("Pick a score from 1 (not helpful) to 5 (very helpful).")
    words = (text or "").strip()[:MAX_FEEDBACK] or None
    row = await session.get(Feedback, (pairing.id, user_id))
    if row is None:
        row = Feedback(pairing_id=pairing.id, user_id=user_id, side=side)
        session.add(row)
    row.score, row.text, row.given_at = int(score), words, now
    await session.flush()
    return row


async def extend(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    pairing_id: int,
    wrap_up: int,
    user_id: int,
    now: datetime,
) -> str:
    """One of the two wants to go on; when both do, the pairing runs another
    ``pairing_days``. Returns what to tell the person who clicked."""
    pairing = await _wrapping_up(session, guild_id, pairing_id)
    side = _side(pairing, user_id)
    if pairing.status != "active" or round_of(pairing) != wrap_up:
        raise DomainError("This pairing has already been extended or closed.")
    # One UPDATE that returns both wishes: two clicks at once each see the other's once its
    # row lock is released (PostgreSQL re-reads the row; SQLite runs one writer at a time).
    mine = Pairing.mentor_extends if side == "mentor" else Pairing.mentee_extends
    both = (
        await session.execute(
            update(Pairing)
            .where(Pairing.id == pairing.id)
            .values({mine: True})
            .returning(Pairing.mentor_extends, Pairing.mentee_extends)
            .execution_options(synchronize_session=False)
        )
    ).one()
    await session.refresh(pairing)
    other = pairing.mentee_id if side == "mentor" else pairing.mentor_id
    days = program_settings(settings).pairing_days
    if not all(both):
        return f"Noted! If <@{other}> clicks Extend too, you go on for {days} more days."
    assert pairing.ends_at is not None
    await take_place_again(session, pairing)
    pairing.ends_at += timedelta(days=days)
    pairing.wrapped_up_at = None
    pairing.mentor_extends = pairing.mentee_extends = False
    await session.flush()
    until = timestamp(pairing.ends_at, "D")
    await say_to_pair(
        session,
        settings,
        pairing,
        key=f"mentorship:extended:{pairing.id}:{round_of(pairing)}",
        payload={"content": f"🌱 You both chose to go on: this pairing now runs until {until}."},
        now=now,
    )
    return f"Extended: you go on until {until}."
