# SPDX-License-Identifier: Apache-2.0
"""The newcomer path behind `/start`: a small state machine stored per member.

Code of conduct, then interests and experience, then a GitHub link (the member's, in
bot/services/members.py: one linked with `/link` counts), then the recommended issues;
finishing records the discovery time. Every function takes a session and plain
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
from bot.outbox import promise
from bot.services import claims, members
from bot.services.members import Link

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
    promises=frozenset({"dm", "role"}),
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


def _progress(row: Newcomer, link: Link) -> Progress:
    if row.coc_accepted_at is None:
        step = Step.CODE_OF_CONDUCT
    elif not row.areas or row.experience is None:
        step = Step.INTERESTS
    elif link.github_login is None:
        step = Step.GITHUB
    elif row.finished_at is None:
        step = Step.ISSUES
    else:
        step = Step.DONE
    return Progress(
        step=step,
        areas=tuple(row.areas),
        experience=row.experience,
        github_login=link.github_login,
        github_verified=link.github_verified,
        finished_at=row.finished_at,
    )


async def _progress_of(session: AsyncSession, row: Newcomer) -> Progress:
    return _progress(row, await session.run_sync(members.current, row.guild_id, row.user_id))


async def newcomer_row(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> Newcomer:
    """The member's newcomer row, written at their first step (of the path, or a preference)."""
    row = await session.get(Newcomer, (guild_id, user_id))
    if row is None:
        row = Newcomer(guild_id=guild_id, user_id=user_id, started_at=now, areas=[])
        session.add(row)
        await session.flush()
    return row


def fresh() -> Progress:
    """Where a member who has never taken a step is: at the code of conduct."""
    return _progress(Newcomer(areas=[]), Link())


def current(session: Session, guild_id: int, user_id: int) -> Progress:
    """Where this member is on the path (a read: the row is written at their first step)."""
    row = session.get(Newcomer, (guild_id, user_id))
    if row is None:
        return fresh()
    return _progress(row, members.current(session, guild_id, user_id))


def started(session: Session, guild_id: int) -> set[int]:
    """The members who have taken at least one step (who have a row)."""
    return set(session.scalars(select(Newcomer.user_id).where(Newcomer.guild_id == guild_id)))


async def accept_code_of_conduct(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> Progress:
    row = await newcomer_row(session, guild_id, user_id, now)
    if row.coc_accepted_at is None:
        row.coc_accepted_at = now
    return await _progress_of(session, row)


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
    row = await newcomer_row(session, guild_id, user_id, now)
    row.areas = [area for area in offered if area in areas]  # the configured order
    return await _progress_of(session, row)


async def choose_experience(
    session: AsyncSession, guild_id: int, user_id: int, level: str, now: datetime
) -> Progress:
    if level not in EXPERIENCE_LEVELS:
        raise DomainError("Please pick one of the experience levels offered.")
    row = await newcomer_row(session, guild_id, user_id, now)
    row.experience = level
    return await _progress_of(session, row)


async def finish(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime, role_id: int | None = None
) -> bool:
    """Record the discovery time and, the first time, promise the member ``role_id`` (the
    Newcomer role) through the outbox: a refusal (the role above the bot's) is then explained
    in `/helios status`, not lost after the path was recorded as finished. True the first
    time, False if already finished."""
    row = await newcomer_row(session, guild_id, user_id, now)
    if (await _progress_of(session, row)).step is not Step.ISSUES:
        return False
    row.finished_at = now
    if role_id is not None:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"newcomer-role:{guild_id}:{user_id}",
            target_kind="role",
            target_id=user_id,
            payload={"role_id": role_id, "reason": "finished /start"},
            now=now,
        )
    return True
