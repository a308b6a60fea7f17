# SPDX-License-Identifier: Apache-2.0
"""The newcomer path behind `/start`: a small state machine stored per member.

Code of conduct, then interests and experience, then a GitHub link, then the recommended
issues; finishing records the discovery time. Every function takes a session and plain
values and returns the member's :class:`Progress`, so `/start` can always resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db.models import Newcomer
from bot.errors import DomainError
from bot.feature import Context, Feature, Periodic, Permission, Webhook
from bot.github.ingest import GitHubEvent
from bot.services import claims
from bot.text import escape

NAME = "onboarding"
# Claims are measured in days; a quarter of an hour is prompt enough and costs nothing.
CLAIM_FOLLOW_UP_INTERVAL = timedelta(minutes=15)

EXPERIENCE_LEVELS = {
    "new": "New to open source",
    "some": "I have contributed a few times",
    "experienced": "Experienced contributor",
}


async def end_claims(context: Context, session: AsyncSession, event: GitHubEvent) -> None:
    """A closed or removed issue, or a merged pull request, may end a claim at once."""
    await claims.end_finished(session, context.guild_id, context.clock.now())


FEATURE = Feature(
    NAME,
    webhooks=(
        Webhook(
            dict.fromkeys(
                ("issues", "pull_request"), frozenset({"closed", "deleted", "transferred"})
            ),
            end_claims,
        ),
    ),
    jobs=(Periodic("claim-follow-up", CLAIM_FOLLOW_UP_INTERVAL, claims.follow_up_claims),),
    promises=frozenset({"dm"}),
    # Finishing /start gives the Newcomer role.
    discord_permissions=lambda _: Permission.MANAGE_ROLES,
)


class Step(Enum):
    CODE_OF_CONDUCT = "code_of_conduct"
    INTERESTS = "interests"
    GITHUB = "github"
    ISSUES = "issues"
    DONE = "done"


@dataclass(frozen=True)
class Progress:
    step: Step
    areas: tuple[str, ...]
    experience: str | None
    github_login: str | None
    github_verified: bool
    finished_at: datetime | None


class AccountTaken(DomainError):
    pass


def _progress(row: Newcomer) -> Progress:
    if row.coc_accepted_at is None:
        step = Step.CODE_OF_CONDUCT
    elif not row.areas or row.experience is None:
        step = Step.INTERESTS
    elif row.github_login is None:
        step = Step.GITHUB
    elif row.finished_at is None:
        step = Step.ISSUES
    else:
        step = Step.DONE
    return Progress(
        step=step,
        areas=tuple(row.areas),
        experience=row.experience,
        github_login=row.github_login,
        github_verified=row.github_verified,
        finished_at=row.finished_at,
    )


async def member_row(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> Newcomer:
    """The member's row, written at their first step (of the path, or a preference)."""
    row = await session.get(Newcomer, (guild_id, user_id))
    if row is None:
        row = Newcomer(guild_id=guild_id, user_id=user_id, started_at=now, areas=[])
        session.add(row)
        await session.flush()
    return row


def fresh() -> Progress:
    """Where a member who has never taken a step is: at the code of conduct."""
    return _progress(Newcomer(areas=[], github_verified=False))


def current(session: Session, guild_id: int, user_id: int) -> Progress:
    """Where this member is on the path (a read: the row is written at their first step)."""
    row = session.get(Newcomer, (guild_id, user_id))
    return _progress(row) if row is not None else fresh()


def started(session: Session, guild_id: int) -> set[int]:
    """The members who have taken at least one step (who have a row)."""
    return set(session.scalars(select(Newcomer.user_id).where(Newcomer.guild_id == guild_id)))


async def accept_code_of_conduct(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> Progress:
    row = await member_row(session, guild_id, user_id, now)
    if row.coc_accepted_at is None:
        row.coc_accepted_at = now
    return _progress(row)


async def choose_areas(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    areas: list[str],
    offered: list[str],
    now: datetime,
) -> Progress:
    unknown = sorted(set(areas) - set(offered))
    if unknown:
        raise DomainError(f"Those areas aren't offered here: {', '.join(unknown)}.")
    row = await member_row(session, guild_id, user_id, now)
    row.areas = [area for area in offered if area in areas]  # the configured order
    return _progress(row)


async def choose_experience(
    session: AsyncSession, guild_id: int, user_id: int, level: str, now: datetime
) -> Progress:
    if level not in EXPERIENCE_LEVELS:
        raise DomainError("Please pick one of the experience levels offered.")
    row = await member_row(session, guild_id, user_id, now)
    row.experience = level
    return _progress(row)


async def link_github(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    *,
    github_user_id: int,
    login: str,
    verified: bool,
    now: datetime,
) -> Progress:
    """Link the member to a GitHub account, unless another member already holds it.

    A verified link takes the account from a member who only typed its login: anyone can
    type anyone's login, and the account's owner must not be locked out by it.
    """
    holder = await session.scalar(
        select(Newcomer).where(
            Newcomer.guild_id == guild_id,
            Newcomer.github_user_id == github_user_id,
            Newcomer.user_id != user_id,
        )
    )
    if holder is not None and verified and not holder.github_verified:
        holder.github_user_id = holder.github_login = holder.linked_at = None
        await session.flush()  # before the new link takes the unique account
    elif holder is not None:
        raise AccountTaken(
            f"The GitHub account **{escape(login)}** is already linked to another member here. "
            "If it is yours, please ask an organiser in the help channel to sort it out."
        )
    row = await member_row(session, guild_id, user_id, now)
    row.github_user_id = github_user_id
    row.github_login = login
    row.github_verified = verified
    row.linked_at = now
    return _progress(row)


# The offsets a time zone can have (UTC-12 to UTC+14), in minutes east of UTC.
UTC_OFFSETS = range(-12 * 60, 14 * 60 + 1)


def show_offset(minutes: int | None) -> str:
    if minutes is None:
        return "time zone not given"
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


async def set_utc_offset(
    session: AsyncSession, guild_id: int, user_id: int, minutes: int, now: datetime
) -> Progress:
    """The member's time zone as an offset from UTC: a mentor nearby is easier to talk to."""
    if minutes not in UTC_OFFSETS:
        raise DomainError("Please pick one of the time zones offered.")
    row = await member_row(session, guild_id, user_id, now)
    row.utc_offset = minutes
    return _progress(row)


async def finish(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> bool:
    """Record the discovery time; True the first time, False if already finished."""
    row = await member_row(session, guild_id, user_id, now)
    if _progress(row).step is not Step.ISSUES:
        return False
    row.finished_at = now
    return True
