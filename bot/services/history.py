# SPDX-License-Identifier: Apache-2.0
"""Look-ups in the normalised GitHub history shared by several features."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.config import GitHubSettings
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


def shown_repositories(session: Session, github: GitHubSettings) -> dict[int, str]:
    """The repositories whose issues may appear in Discord (announced, recommended, claimed),
    by id: neither archived nor deleted, and followed, public or opted in
    (GitHubSettings.shows). From the config at the time of asking, so a repository unfollowed
    or turned private since its issues were stored is left out from then on.

    A plain read: ``await session.run_sync(shown_repositories, github)`` in a transaction.
    """
    rows = session.execute(
        select(GitHubRepository.id, GitHubRepository.full_name, GitHubRepository.private).where(
            GitHubRepository.archived.is_(False), GitHubRepository.deleted.is_(False)
        )
    )
    return {
        repository_id: name
        for repository_id, name, private in rows.all()
        if github.shows(name, private)
    }
