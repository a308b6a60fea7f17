# SPDX-License-Identifier: Apache-2.0
"""`/kudos member reason`: a member thanks another, who is told by direct message; the
weekly spotlight counts and quotes the kudos a member received that week.

No kudos to oneself or to bots; a giver gives at most ``recognition.kudos_per_day`` in any
24 hours (told when they can give again), however many they send at once; the reason is 3
to 200 characters, stored as written and escaped wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import Kudos
from bot.errors import DomainError
from bot.outbox import promise
from bot.services.recognition import NAME, section
from bot.text import escape, timestamp

MIN_REASON, MAX_REASON = 3, 200
WINDOW = timedelta(hours=24)
# The class of the per-giver advisory locks (PostgreSQL's two-key locks, a key space of
# their own); any constant works, the same in every process of a deployment.
_GIVER_LOCK_CLASS = 0x4B55444F


@dataclass(frozen=True)
class Given:
    id: int
    receiver_id: int
    reason: str
    # Kudos the giver has left in the current 24 hours.
    left: int


async def give(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    *,
    giver_id: int,
    receiver_id: int,
    receiver_is_bot: bool,
    reason: str,
    now: datetime,
) -> Given:
    """Record the kudos and promise the receiver's direct message; DomainError if refused."""
    limit = section(settings).kudos_per_day
    if receiver_id == giver_id:
        raise DomainError(
            "Kudos are for thanking someone else: you can't give them to yourself. "
            "Who helped you lately?"
        )
    if receiver_is_bot:
        raise DomainError("Kudos are for people: bots can't receive them.")
    text = " ".join(reason.split())
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise DomainError(
            f"Please say what you're thanking them for in {MIN_REASON} to {MAX_REASON} "
            f"characters (yours has {len(text)})."
        )
    await _lock_giver(session, guild_id, giver_id)
    recent = list(
        await session.scalars(
            select(Kudos.given_at)
            .where(
                Kudos.guild_id == guild_id,
                Kudos.giver_id == giver_id,
                Kudos.given_at > now - WINDOW,
            )
            .order_by(Kudos.given_at)
        )
    )
    if len(recent) >= limit:
        # The oldest of the last `limit` falls out of the window first.
        again = recent[len(recent) - limit] + WINDOW
        raise DomainError(
            f"You've given {limit} kudos in the last 24 hours, the most there can be: you can "
            f"give more {timestamp(again, 'R')} (at {timestamp(again, 't')}). Thank you for "
            "being so appreciative!"
        )
    row = Kudos(
        guild_id=guild_id, giver_id=giver_id, receiver_id=receiver_id, reason=text, given_at=now
    )
    session.add(row)
    await session.flush()
    await promise(
        session,
        feature=NAME,
        guild_id=guild_id,
        key=f"recognition:kudos:{guild_id}:{row.id}",
        target_kind="dm",
        target_id=receiver_id,
        payload={
            "content": f"🙌 <@{giver_id}> gave you kudos: “{escape(text)}”\n"
            "Kudos count towards the weekly spotlight (you'll be asked before you're featured)."
        },
        now=now,
    )
    return Given(row.id, receiver_id, text, limit - len(recent) - 1)


async def _lock_giver(session: AsyncSession, guild_id: int, giver_id: int) -> None:
    """Until this transaction ends, the giver's other kudos wait here, so each counts the
    ones before it (PostgreSQL; SQLite has one writer at a time anyway). Not a row lock as
    for claims: a giver may have no row of their own to lock (no newcomer row, no link), and
    a conditional insert would still let two see the same count under READ COMMITTED."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:class, hashtext(:giver))"),
            {"class": _GIVER_LOCK_CLASS, "giver": f"{guild_id}:{giver_id}"},
        )
