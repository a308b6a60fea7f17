# SPDX-License-Identifier: Apache-2.0
"""Who a member is on GitHub and where in the world: one row per member (``members``),
whichever features they use.

`/start` and `/link` write the GitHub link (bot/services/linking.py verifies it); `/start`,
`/link`, `/buddy` and `/mentor join` the time zone. Claims, celebrations, mentorship and
the review pings read them. Not a feature of its own: every feature that needs a member's
link or time zone reads it here, and none needs another feature for it.

A GitHub account is linked to at most one member of a community (the database's unique
constraint has the last word when two members link the same account at once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db.models import Claim, Member
from bot.errors import DomainError
from bot.text import escape

# The offsets a time zone can have (UTC-12 to UTC+14), in minutes east of UTC.
UTC_OFFSETS = range(-12 * 60, 14 * 60 + 1)
# "UTC+1", "GMT-5", "+05:30", "-3"; a typographic minus sign (U+2212) counts as one too.
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)


@dataclass(frozen=True)
class Link:
    """A member's GitHub account and time zone, as far as they gave them."""

    github_user_id: int | None = None
    github_login: str | None = None
    github_verified: bool = False
    utc_offset: int | None = None

    @classmethod
    def of(cls, row: Member | None) -> Link:
        if row is None:
            return cls()
        return cls(row.github_user_id, row.github_login, row.github_verified, row.utc_offset)


class AccountTaken(DomainError):
    """Another member of the community holds this GitHub account."""


def current(session: Session, guild_id: int, user_id: int) -> Link:
    """The member's link and time zone (a read; in a write transaction, through
    ``session.run_sync``)."""
    return Link.of(session.get(Member, (guild_id, user_id)))


async def _row(session: AsyncSession, guild_id: int, user_id: int) -> Member:
    """The member's row, written when they first give their link or time zone."""
    row = await session.get(Member, (guild_id, user_id))
    if row is None:
        row = Member(guild_id=guild_id, user_id=user_id, github_verified=False)
        session.add(row)
        await session.flush()
    return row


async def link_github(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    *,
    github_user_id: int,
    login: str,
    verified: bool,
    now: datetime,
) -> Link:
    """Link the member to a GitHub account, unless another member already holds it.

    A verified link takes the account from a member who only typed its login: anyone can
    type anyone's login, and the account's owner must not be locked out by it. Linking the
    same account again follows a rename and never loses a verification.
    """
    row = await _row(session, guild_id, user_id)
    if row.github_user_id not in (None, github_user_id):
        await _check_switch(session, row, verified)
    holder = await session.scalar(
        select(Member).where(
            Member.guild_id == guild_id,
            Member.github_user_id == github_user_id,
            Member.user_id != user_id,
        )
    )
    if holder is not None and verified and not holder.github_verified:
        holder.github_user_id = holder.github_login = holder.linked_at = None
        await session.flush()  # before the new link takes the unique account
    elif holder is not None:
        raise _taken(login)
    row.github_verified = verified or (row.github_verified and row.github_user_id == github_user_id)
    row.github_user_id, row.github_login, row.linked_at = github_user_id, login, now
    try:
        await session.flush()
    except IntegrityError:
        # Another member linked it in a transaction that committed after our check.
        raise _taken(login) from None
    return Link.of(row)


def _taken(login: str) -> AccountTaken:
    return AccountTaken(
        f"The GitHub account **{escape(login)}** is already linked to another member here. "
        "If it is yours, please ask an organiser in the help channel to sort it out."
    )


async def _check_switch(session: AsyncSession, row: Member, verified: bool) -> None:
    """May the member swap the account they linked for another one?"""
    current_login = escape(row.github_login or "")
    if row.github_verified and not verified:
        raise DomainError(
            f"You're linked to GitHub as **{current_login}**, verified by GitHub, and a typed "
            "login can't replace that: to switch accounts, use **Link another account** in "
            "`/link`."
        )
    claimed = await session.scalar(
        select(Claim.id)
        .where(
            Claim.guild_id == row.guild_id,
            Claim.user_id == row.user_id,
            Claim.status.in_(("active", "unassigning")),
        )
        .limit(1)
    )
    if claimed is not None:
        # The claim stands on GitHub under the old account, and only it can be given back.
        raise DomainError(
            f"You have a claimed issue as **{current_login}**. Finish it or give it back with "
            "`/unclaim` first, then link your other account."
        )


def show_offset(minutes: int | None) -> str:
    if minutes is None:
        return "time zone not given"
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def parse_utc_offset(text: str) -> int:
    """Minutes east of UTC from "UTC+1", "+05:30", "-3" or "UTC"; DomainError otherwise."""
    cleaned = text.strip()
    if cleaned.upper() in ("UTC", "GMT", "Z", "0", "+0", "-0"):
        return 0
    found = _OFFSET.match(cleaned)
    if found is not None:
        sign = 1 if found[1] == "+" else -1
        hours, minutes = int(found[2]), int(found[3] or 0)
        offset = sign * (hours * 60 + minutes)
        if minutes < 60 and offset in UTC_OFFSETS:
            return offset
    raise DomainError(
        f"“{escape(cleaned[:40])}” isn't a time zone I understand: write it as an offset "
        "from UTC, like `UTC+1`, `UTC-5` or `UTC+5:30`."
    )


async def set_utc_offset(session: AsyncSession, guild_id: int, user_id: int, minutes: int) -> Link:
    """The member's time zone as an offset from UTC: a mentor nearby is easier to talk to,
    and pings can wait for their morning."""
    if minutes not in UTC_OFFSETS:
        raise DomainError("There is no such time zone: offsets run from UTC-12 to UTC+14.")
    row = await _row(session, guild_id, user_id)
    row.utc_offset = minutes
    return Link.of(row)
