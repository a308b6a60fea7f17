# SPDX-License-Identifier: Apache-2.0
"""First-contribution celebrations: a newcomer's first pull request, and their first merge.

Short, once each (idempotency keys in the outbox), and only for members who have not turned
celebrations off (`/celebrations off`). Runs inside webhook ingestion, after normalisation,
from the normalised history: a redelivered or late webhook finds the same facts and promises
nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GitHubIssue, Newcomer
from bot.outbox import enqueue
from bot.services.history import find_issue


@dataclass(frozen=True)
class CelebrationSettings:
    guild_id: int
    channel_id: int | None
    contributor_role_id: int | None
    github_welcome_comment: bool = False


async def celebrate_pull_request(
    session: AsyncSession,
    settings: CelebrationSettings,
    *,
    repository_id: int,
    number: int,
    now: datetime,
) -> None:
    found = await find_issue(session, repository_id, number)
    if found is None:
        return
    pull, repository = found
    if not pull.is_pull_request or pull.author_id is None:
        return
    newcomer = await session.scalar(
        select(Newcomer).where(
            Newcomer.guild_id == settings.guild_id, Newcomer.github_user_id == pull.author_id
        )
    )
    if newcomer is None:
        return
    link = f"[{repository}#{number}]({pull.html_url})"
    if newcomer.celebrate and await _is_first(session, pull, merged=False):
        await enqueue(
            session,
            guild_id=settings.guild_id,
            key=f"first-pr:{settings.guild_id}:{newcomer.user_id}",
            target_kind="dm",
            target_id=newcomer.user_id,
            payload={
                "content": f"You opened your first pull request, {link}. That's a big step! "
                "A maintainer will review it; questions are always welcome."
            },
            now=now,
        )
    if pull.merged and await _is_first(session, pull, merged=True):
        await _first_merge(session, settings, newcomer, link, now)
        if settings.github_welcome_comment and newcomer.celebrate:
            await enqueue(
                session,
                guild_id=settings.guild_id,
                key=f"first-merge-comment:{settings.guild_id}:{newcomer.user_id}",
                target_kind="github_comment",
                target_id=repository_id,
                payload={
                    "repository": repository,
                    "number": number,
                    "body": f"Congratulations on your first merged pull request here, "
                    f"@{newcomer.github_login}! 🎉 Thank you for contributing.",
                },
                now=now,
            )


async def _is_first(session: AsyncSession, pull: GitHubIssue, *, merged: bool) -> bool:
    """No earlier pull request (merged one, if ``merged``) by the same author."""
    earlier = select(func.count()).where(
        GitHubIssue.is_pull_request.is_(True),
        GitHubIssue.author_id == pull.author_id,
        GitHubIssue.created_at < pull.created_at,
    )
    if merged:
        earlier = earlier.where(GitHubIssue.merged.is_(True))
    return not await session.scalar(earlier)


async def _first_merge(
    session: AsyncSession,
    settings: CelebrationSettings,
    newcomer: Newcomer,
    link: str,
    now: datetime,
) -> None:
    member = f"<@{newcomer.user_id}>"
    if newcomer.celebrate and settings.channel_id is not None:
        await enqueue(
            session,
            guild_id=settings.guild_id,
            key=f"first-merge:{settings.guild_id}:{newcomer.user_id}",
            target_kind="channel",
            target_id=settings.channel_id,
            payload={"content": f"🎉 {member}'s first contribution was just merged: {link}!"},
            now=now,
        )
    # The role is standing in the community, not a celebration: opting out keeps it.
    if settings.contributor_role_id is not None:
        await enqueue(
            session,
            guild_id=settings.guild_id,
            key=f"contributor-role:{settings.guild_id}:{newcomer.user_id}",
            target_kind="role",
            target_id=newcomer.user_id,
            payload={"role_id": settings.contributor_role_id, "reason": "first merged PR"},
            now=now,
        )
