# SPDX-License-Identifier: Apache-2.0
"""Claims: a newcomer says "I'll take this issue", and everyone else can see it is taken.

The database decides who holds an issue (a unique index allows one active claim per issue),
so two people clicking Claim at once cannot both get it. The GitHub side (assigning, or a
comment where newcomers cannot be assigned) happens after the claim is committed; if GitHub
refuses, the claim is withdrawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Claim, GitHubIssue, GitHubRepository, Newcomer
from bot.errors import DomainError
from bot.services.recommend import Recommendation


class ClaimRefused(DomainError):
    """The issue cannot be claimed by this member; ``alternatives`` are worth a look."""

    def __init__(self, message: str, alternatives: Sequence[Recommendation] = ()) -> None:
        super().__init__(message)
        self.alternatives = tuple(alternatives)


@dataclass(frozen=True)
class ClaimTarget:
    """What the GitHub side needs to act on a claim."""

    claim_id: int
    repository: str
    number: int
    title: str
    url: str
    github_login: str


async def claim(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    repository_id: int,
    number: int,
    max_active: int,
    now: datetime,
    alternatives: Sequence[Recommendation] = (),
) -> ClaimTarget:
    newcomer = await session.get(Newcomer, (guild_id, user_id))
    if newcomer is None or newcomer.github_user_id is None or newcomer.github_login is None:
        raise DomainError("Link your GitHub account first: run /start, it takes a minute.")
    found = (
        await session.execute(
            select(GitHubIssue, GitHubRepository.full_name)
            .join(GitHubRepository, GitHubRepository.id == GitHubIssue.repository_id)
            .where(GitHubIssue.repository_id == repository_id, GitHubIssue.number == number)
        )
    ).first()
    if found is None:
        raise DomainError("I can't find that issue any more. It may have moved or been deleted.")
    issue, full_name = found
    label = f"{full_name}#{number}"
    if issue.state != "open" or issue.removed is not None:
        raise ClaimRefused(f"{label} is already closed.", alternatives)
    if issue.assignee_ids and newcomer.github_user_id not in issue.assignee_ids:
        raise ClaimRefused(f"{label} is already assigned to someone on GitHub.", alternatives)
    active = await session.scalars(
        select(Claim).where(
            Claim.guild_id == guild_id, Claim.user_id == user_id, Claim.status == "active"
        )
    )
    held = list(active)
    if any((c.repository_id, c.number) == (repository_id, number) for c in held):
        raise DomainError(f"You already have {label}. Good luck with it!")
    if len(held) >= max_active:
        raise DomainError(
            "You already have an active claim. Finish it, or `/unclaim` it, before taking "
            "another: it keeps issues free for everyone."
        )
    row = Claim(
        guild_id=guild_id,
        user_id=user_id,
        repository_id=repository_id,
        number=number,
        method="assigned",
        status="active",
        claimed_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise ClaimRefused(
            f"Someone else has just claimed {label}. Here are others:", alternatives
        ) from None
    return ClaimTarget(
        row.id, full_name, number, issue.title, issue.html_url, newcomer.github_login
    )


async def record_method(session: AsyncSession, claim_id: int, method: str) -> None:
    await session.execute(update(Claim).where(Claim.id == claim_id).values(method=method))


async def withdraw(session: AsyncSession, claim_id: int, now: datetime) -> None:
    await session.execute(
        update(Claim)
        .where(Claim.id == claim_id, Claim.status == "active")
        .values(status="withdrawn", ended_at=now)
    )


async def active_claims(session: AsyncSession, guild_id: int, user_id: int) -> list[ClaimTarget]:
    rows = await session.execute(
        select(Claim, GitHubIssue.title, GitHubIssue.html_url, GitHubRepository.full_name)
        .join(
            GitHubIssue,
            (GitHubIssue.repository_id == Claim.repository_id)
            & (GitHubIssue.number == Claim.number),
        )
        .join(GitHubRepository, GitHubRepository.id == Claim.repository_id)
        .join(Newcomer, (Newcomer.guild_id == Claim.guild_id) & (Newcomer.user_id == Claim.user_id))
        .add_columns(Newcomer.github_login)
        .where(Claim.guild_id == guild_id, Claim.user_id == user_id, Claim.status == "active")
        .order_by(Claim.claimed_at)
    )
    return [
        ClaimTarget(row.id, full_name, row.number, title, url, login or "")
        for row, title, url, full_name, login in rows.all()
    ]
