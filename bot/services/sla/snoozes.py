# SPDX-License-Identifier: Apache-2.0
"""`/sla snooze`: a maintainer holds the service-level pings about one item for a while, with
a reason the other maintainers see (in the daily digest).

A snooze is a row of ``sla_snoozes``; the pings (bot/services/sla/pings.py) leave an item
alone while one of its snoozes runs, and pick up where its waits stand when the last ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import GitHubIssue, GitHubRepository, SlaSnooze
from bot.errors import DomainError
from bot.services.history import shown_repositories
from bot.text import escape, link

MIN_SNOOZE = timedelta(hours=1)
MAX_SNOOZE = timedelta(days=30)
MAX_REASON = 200

# "owner/repo#12", or a GitHub address of the item ("https://github.com/owner/repo/pull/12",
# with anything after the number: "/files", "#issuecomment-1").
_SHORT = re.compile(r"^([\w.-]+/[\w.-]+)#(\d{1,9})$")
_URL = re.compile(r"^https?://[^/\s]+/([\w.-]+/[\w.-]+)/(?:issues|pull)/(\d{1,9})(?:[/#?]\S*)?$")
# "3d", "12h", "90m", "1d12h", "2 days"; no more than one of each unit.
_PART = re.compile(r"(\d{1,4})\s*(days?|d|hours?|h|minutes?|mins?|m)\s*", re.I)
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


@dataclass(frozen=True)
class Snoozed:
    """A running snooze of item ``number`` of ``repository``; ``user_id`` None: the
    maintainer's data was deleted after they left."""

    repository_id: int
    repository: str
    number: int
    title: str
    html_url: str
    user_id: int | None
    created_at: datetime
    until: datetime
    reason: str

    @property
    def link(self) -> str:
        return link(f"{self.repository}#{self.number}", self.html_url)

    @property
    def shown_reason(self) -> str:
        """The reason as written, shown literally (no markdown, no mentions)."""
        return escape(self.reason)


def parse_item(text: str) -> tuple[str, int]:
    """("owner/repo", number) from "owner/repo#12" or the item's GitHub address."""
    cleaned = text.strip().strip("<>")
    found = _SHORT.match(cleaned) or _URL.match(cleaned)
    if found is None:
        raise DomainError(
            f"“{escape(cleaned[:80])}” isn't an issue or pull request I can read: write it as "
            "`owner/repo#12` or paste its GitHub link."
        )
    return found[1], int(found[2])


def parse_duration(text: str) -> timedelta:
    """How long, from "3d", "12h", "90m", "1d12h" or "2 days"; at least an hour, at most 30
    days."""
    cleaned, total, seen, at = text.strip(), timedelta(0), set[str](), 0
    while at < len(cleaned):
        part = _PART.match(cleaned, at)
        unit = part[2][0].lower() if part else ""
        if part is None or unit in seen:
            raise DomainError(
                f"“{escape(cleaned[:40])}” isn't a duration I understand: write it like `3d`, "
                "`12h` or `1d12h`."
            )
        seen.add(unit)
        total += int(part[1]) * _UNITS[unit]
        at = part.end()
    if not cleaned:
        raise DomainError("Say how long to snooze, like `3d` or `12h`.")
    if not MIN_SNOOZE <= total <= MAX_SNOOZE:
        raise DomainError(
            f"A snooze lasts from an hour to {MAX_SNOOZE.days} days; "
            f"“{escape(cleaned[:40])}” is {'less' if total < MIN_SNOOZE else 'more'}."
        )
    return total


async def snooze(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    user_id: int,
    *,
    item: str,
    duration: str,
    reason: str,
    now: datetime,
) -> Snoozed:
    """Record a maintainer's snooze of an open item of a shown repository (who checks that
    they are a maintainer: the caller)."""
    full_name, number = parse_item(item)
    length = parse_duration(duration)
    reason = reason.strip()
    if not reason:
        raise DomainError("Please give a reason: the other maintainers see it in the digest.")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Please keep the reason under {MAX_REASON} characters.")
    shown = await session.run_sync(shown_repositories, settings.github)
    repository_id = next(
        (id_ for id_, name in shown.items() if name.lower() == full_name.lower()), None
    )
    if repository_id is None:
        raise DomainError(f"I don't follow **{escape(full_name)}**, so it has no service levels.")
    row = await session.get(GitHubIssue, (repository_id, number))
    name = shown[repository_id]
    if row is None or row.removed is not None:
        raise DomainError(f"I don't know of **{escape(name)}#{number}**: is the number right?")
    if row.state != "open":
        raise DomainError(f"{link(f'{name}#{number}', row.html_url)} is closed: nothing to snooze.")
    until = now + length
    session.add(
        SlaSnooze(
            guild_id=guild_id,
            repository_id=repository_id,
            number=number,
            user_id=user_id,
            created_at=now,
            until=until,
            reason=reason,
        )
    )
    await session.flush()
    return Snoozed(
        repository_id, name, number, row.title, row.html_url, user_id, now, until, reason
    )


def active(session: Session, now: datetime) -> list[Snoozed]:
    """The items snoozed now, each with its snooze that runs longest, soonest ending first (a
    plain read: ``await session.run_sync(active, now)``, or through the reader)."""
    longest = (
        select(SlaSnooze.repository_id, SlaSnooze.number, func.max(SlaSnooze.until).label("until"))
        .where(SlaSnooze.until > now)
        .group_by(SlaSnooze.repository_id, SlaSnooze.number)
        .subquery()
    )
    rows = session.execute(
        select(SlaSnooze, GitHubRepository.full_name, GitHubIssue.title, GitHubIssue.html_url)
        .join(
            longest,
            and_(
                longest.c.repository_id == SlaSnooze.repository_id,
                longest.c.number == SlaSnooze.number,
                longest.c.until == SlaSnooze.until,
            ),
        )
        .join(GitHubRepository, GitHubRepository.id == SlaSnooze.repository_id)
        .join(
            GitHubIssue,
            and_(
                GitHubIssue.repository_id == SlaSnooze.repository_id,
                GitHubIssue.number == SlaSnooze.number,
            ),
        )
        .order_by(SlaSnooze.until, SlaSnooze.id)
    )
    found: dict[tuple[int, int], Snoozed] = {}
    for row, repository, title, html_url in rows.all():
        # Two snoozes of an item ending at the same moment: the first given is shown.
        found.setdefault(
            (row.repository_id, row.number),
            Snoozed(
                row.repository_id,
                repository,
                row.number,
                title,
                html_url,
                row.user_id,
                row.created_at,
                row.until,
                row.reason,
            ),
        )
    return list(found.values())
