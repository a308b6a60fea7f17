# SPDX-License-Identifier: Apache-2.0
"""Look-ups in the normalised GitHub history shared by several features."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GitHubIssue, GitHubRepository


async def find_issue(
    session: AsyncSession, repository_id: int, number: int
) -> tuple[GitHubIssue, str] | None:
    """An issue or pull request and its repository's full name, or None if never seen."""
    found = (
        await session.execute(
            select(GitHubIssue, GitHubRepository.full_name)
            .join(GitHubRepository, GitHubRepository.id == GitHubIssue.repository_id)
            .where(GitHubIssue.repository_id == repository_id, GitHubIssue.number == number)
        )
    ).first()
    return None if found is None else (found[0], found[1])
