# SPDX-License-Identifier: Apache-2.0
"""Good-first-issues matched to a newcomer's interests, from the normalised GitHub history.

Plain (synchronous) reads: the interactive paths run them off the event loop through
bot/db/reader.py, since ranking every open issue is real work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import GitHubSettings
from bot.db.models import Claim, GitHubIssue, GitHubRepository
from bot.services.history import shown_repositories


@dataclass(frozen=True)
class Recommendation:
    repository_id: int
    repository: str
    number: int
    title: str
    url: str
    areas: tuple[str, ...]
    # What it was ranked by besides the areas: a priority label, and when it was opened.
    priority: bool
    opened_at: datetime


def recommend(
    session: Session,
    *,
    github: GitHubSettings,
    guild_id: int,
    areas: Sequence[str],
    area_labels: Mapping[str, Sequence[str]],
    beginner_labels: Sequence[str],
    priority_labels: Sequence[str],
    limit: int | None = 5,
    only_area: str | None = None,
    repository_id: int | None = None,
) -> list[Recommendation]:
    """Open, unassigned, unclaimed issues with a beginner label and no open pull request
    that closes them, in the repositories shown in Discord, best match first; ``only_area``
    and ``repository_id`` narrow them.

    Ranked by how many of the member's areas the issue's labels match, then whether a
    maintainer marked it as a priority, then freshness; ties by repository name, then number.
    """
    conditions = [] if repository_id is None else [GitHubIssue.repository_id == repository_id]
    rows = session.execute(
        select(GitHubIssue, GitHubRepository)
        .join(GitHubRepository, GitHubRepository.id == GitHubIssue.repository_id)
        .where(  # what not_claimable checks, narrowed in SQL first
            GitHubIssue.state == "open",
            GitHubIssue.is_pull_request.is_(False),
            GitHubIssue.removed.is_(None),
            GitHubIssue.repository_id.in_(list(shown_repositories(session, github))),
            *conditions,
        )
    )
    active_claims = session.execute(
        select(Claim.repository_id, Claim.number).where(
            Claim.guild_id == guild_id, Claim.status == "active"
        )
    )
    claimed = {(repository_id, number) for repository_id, number in active_claims.all()}
    linked = issues_with_open_pull_requests(session)
    priority = set(priority_labels)
    required = set(area_labels.get(only_area, ())) if only_area is not None else None
    ranked = []
    for issue, repository in rows.all():
        labels = set(issue.labels)
        if not_claimable(issue, repository, github, beginner_labels, linked) is not None:
            continue
        if required is not None and not labels & required:
            continue
        if (issue.repository_id, issue.number) in claimed:
            continue
        matched = tuple(a for a in areas if labels & set(area_labels.get(a, ())))
        is_priority = bool(labels & priority)
        key = (len(matched), is_priority, issue.created_at)
        recommendation = Recommendation(
            issue.repository_id,
            repository.full_name,
            issue.number,
            issue.title,
            issue.html_url,
            matched,
            is_priority,
            issue.created_at,
        )
        ranked.append((key, recommendation))
    # Ties (issues opened at the same instant) go by repository then number, not by the
    # order the database returned them in, which differs between SQLite and PostgreSQL:
    # sorting is stable, so the second sort keeps this order among equal keys.
    ranked.sort(key=lambda pair: (pair[1].repository.casefold(), pair[1].number))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [recommendation for _, recommendation in ranked[:limit]]


def not_claimable(
    issue: GitHubIssue,
    repository: GitHubRepository,
    github: GitHubSettings,
    beginner_labels: Sequence[str],
    linked: set[tuple[int, int]],
    holder: int | None = None,
) -> str | None:
    """Why an issue cannot be recommended or claimed now, as the end of a sentence that
    starts with its name, or None. ``github``: which repositories' issues may appear in
    Discord (GitHubSettings.shows); ``linked``: issues an open pull request closes;
    ``holder``: a GitHub account that may already be assigned (the member claiming)."""
    if issue.is_pull_request:
        return "is a pull request, not an issue."
    if repository.archived or repository.deleted:
        return "is in an archived or deleted repository."
    if not github.shows(repository.full_name, repository.private):  # unfollowed, or private
        return "isn't offered here any more."
    if issue.state != "open" or issue.removed is not None:
        return "is already closed."
    if not set(issue.labels) & set(beginner_labels):
        return "is no longer marked as a good first issue."
    if issue.assignee_ids and holder not in issue.assignee_ids:
        return "is already assigned to someone on GitHub."
    if (issue.repository_id, issue.number) in linked:
        return "already has a pull request that will close it."
    return None


def repositories_named(
    session: Session, github: GitHubSettings, typed: str
) -> list[tuple[int, str]]:
    """Repositories shown in Discord whose name contains ``typed``: (id, full name), by
    name, at most 25 (Discord's limit for autocomplete choices)."""
    shown = shown_repositories(session, github)
    wanted = typed.casefold()
    named = sorted((name, rid) for rid, name in shown.items() if wanted in name.casefold())
    return [(repository_id, name) for name, repository_id in named[:25]]


def issues_with_open_pull_requests(session: Session) -> set[tuple[int, int]]:
    """(repository id, number) of every issue an open pull request says it closes."""
    names = session.execute(select(GitHubRepository.full_name, GitHubRepository.id))
    repository_ids = {name.lower(): repository_id for name, repository_id in names.all()}
    pulls = session.execute(
        select(GitHubIssue.repository_id, GitHubIssue.closes).where(
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.state == "open",
            GitHubIssue.removed.is_(None),
        )
    )
    linked = set()
    for repository_id, closes in pulls.all():
        for reference in closes:
            name, _, number = reference.rpartition("#")
            target = repository_ids.get(name) if name else repository_id
            if target is not None:
                linked.add((target, int(number)))
    return linked
