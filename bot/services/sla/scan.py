# SPDX-License-Identifier: Apache-2.0
"""What the maintainers owe now, and how well they kept to their targets: the open items'
current waits, and the share of waits met within target, measured by the clocks on the
history of the items concerned.

The open items' waits are kept, one row per item (bot/services/sla/store.py), so that
``open_waits`` reads one row per open item and runs the clocks only on the histories that
changed since; ``met_share`` runs them on the histories of the items updated in its period
(bot/services/sla/records.py). Every query searches an index (tests/unit/test_sla_scan.py
holds SQLite's plans to it). Both are plain reads of a synchronous Session
(bot/db/reader.py), so a scan of thousands of items runs off the event loop:
``await context.read(lambda session: open_waits(session, settings, now))``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_
from sqlalchemy.orm import Session

from bot.config import Settings, SlaSettings
from bot.db.models import GitHubIssue
from bot.services.history import shown_repositories
from bot.services.sla.clocks import (
    WALL_CLOCK,
    Calendar,
    Kind,
    Rules,
    Wait,
    due_at,
    waited,
    waits,
)
from bot.services.sla.records import read_records
from bot.services.sla.store import waiting

# The typical first review: the median over this window, from this many pull requests up.
TYPICAL_WINDOW = timedelta(days=30)
TYPICAL_MIN_SAMPLES = 5


@dataclass(frozen=True)
class OpenWait:
    """An open item's current wait. The item is ``number`` in ``repository_id``; it is
    measured in ``counted_in``, where it was opened (another repository if it was
    transferred since)."""

    repository_id: int
    number: int
    title: str
    html_url: str
    counted_in: int
    wait: Wait
    waited: timedelta
    # None for a wait on the author, which has no target.
    target: timedelta | None
    # Who opened it, and whether GitHub called it their first contribution to the repository
    # (such items are shown first); who is asked to review it or assigned to it, by user id.
    author_login: str | None = None
    first_time: bool = False
    requested_reviewer_ids: tuple[int, ...] = ()
    assignee_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Share:
    """Of a repository's waits of one kind decided in a period, how many met the target."""

    repository_id: int
    kind: Kind
    met: int
    total: int


def section(settings: Settings) -> SlaSettings:
    found = settings.sla
    assert found is not None  # the feature runs only with its section
    return found


def open_waits(session: Session, settings: Settings, now: datetime) -> list[OpenWait]:
    """Every open item of a shown repository that waits on someone, longest waiting first
    (then by repository and number). Reads each open item's kept wait (bot/services/sla/
    store.py) and computes those whose history changed since it was kept."""
    sla, shown = section(settings), shown_repositories(session, settings.github)
    calendar = Calendar.of(sla)
    targets: dict[tuple[int, Kind], timedelta] = {}
    found = []
    for item in waiting(session, settings, shown):
        if item.counted_in not in shown:
            continue
        wait = item.wait
        goal = None
        if wait.waiting_on == "maintainers":
            goal = targets.get((item.counted_in, wait.kind))
            if goal is None:
                goal = targets[item.counted_in, wait.kind] = target(
                    sla, shown[item.counted_in], wait.kind
                )
        found.append(
            OpenWait(
                item.repository_id,
                item.number,
                item.title,
                item.html_url,
                item.counted_in,
                wait,
                waited(wait, calendar, now),
                goal,
                item.author_login,
                item.first_time,
                item.requested_reviewer_ids,
                item.assignee_ids,
            )
        )
    return sorted(found, key=lambda w: (-w.waited, w.repository_id, w.number))


def met_share(
    session: Session,
    settings: Settings,
    since: datetime,
    now: datetime,
    calendar: Calendar | None = None,
) -> list[Share]:
    """Per shown repository and kind, the measured waits decided between ``since`` and
    ``now``, and how many of them met their target. A wait is decided when it is answered
    within its target (met), or when it passes its target unanswered (missed, whenever or
    whether it is answered later); one that ended unanswered before its target (closed by a
    bot) or was withdrawn is never decided. ``calendar``: the configured one unless given
    (the wall clock, for a figure in plain hours).
    """
    (found,) = measure(session, settings, [(since, now)], calendar=calendar, reviews=False)
    assert found.shares is not None  # the feature runs only with its section
    return found.shares


def typical_first_review(
    session: Session, settings: Settings, repository_id: int, now: datetime
) -> timedelta | None:
    """The median of :func:`first_reviews` of this repository over the last TYPICAL_WINDOW;
    None from fewer than TYPICAL_MIN_SAMPLES, or for a repository not shown. What the
    first-pull-request message tells a newcomer to expect."""
    samples = first_reviews(session, settings, now - TYPICAL_WINDOW, now, repository_id)
    if len(samples) < TYPICAL_MIN_SAMPLES:
        return None
    return timedelta(seconds=statistics.median(s.total_seconds() for s in samples))


def first_reviews(
    session: Session,
    settings: Settings,
    since: datetime,
    now: datetime,
    repository_id: int | None = None,
) -> list[timedelta]:
    """How long, on the wall clock, each pull request whose first review came between
    ``since`` and ``now`` waited for it (its first wait on the maintainers, answered; time in
    draft does not count), in the shown repositories or in ``repository_id`` alone (none if
    it is not shown); in no particular order."""
    (found,) = measure(session, settings, [(since, now)], shares=False, repository=repository_id)
    return found.first_reviews


@dataclass(frozen=True)
class Measured:
    """The service levels of one period: :func:`met_share`'s shares (None when not asked
    for, or without [sla]) and :func:`first_reviews`' waits."""

    shares: list[Share] | None
    first_reviews: list[timedelta]


def measure(
    session: Session,
    settings: Settings,
    periods: Sequence[tuple[datetime, datetime]],
    *,
    shares: bool = True,
    reviews: bool = True,
    calendar: Calendar | None = None,
    repository: int | None = None,
) -> list[Measured]:
    """:func:`met_share` and :func:`first_reviews` over each (since, now) of ``periods``, from
    one read of the histories, so that the newsletter's month and the month before cost
    about one; ``repository``: that one alone (the reviews only)."""
    shown = shown_repositories(session, settings.github)
    sla = settings.sla if shares else None
    rules, earliest = Rules.of(settings), min(since for since, _ in periods)
    if sla is not None:
        # A wait decided since then belongs to an item still open or updated since: answering
        # it updated it, and so did closing it once it had passed its target.
        recent = [GitHubIssue.state == "open", GitHubIssue.updated_at >= earliest]
    else:
        # Answering the first wait updated the pull request: those updated since are enough.
        recent = [and_(GitHubIssue.updated_at >= earliest, GitHubIssue.is_pull_request.is_(True))]
    if repository is not None:
        shown = {repository: shown[repository]} if repository in shown else {}
        recent = [and_(condition, GitHubIssue.repository_id == repository) for condition in recent]
    clock = calendar or (Calendar.of(sla) if sla is not None else WALL_CLOCK)
    met = [Counter[tuple[int, Kind]]() for _ in periods]
    total = [Counter[tuple[int, Kind]]() for _ in periods]
    took: list[list[timedelta]] = [[] for _ in periods]
    for record in read_records(session, recent, shown) if shown else []:
        if record.counted_in not in shown:
            continue
        found = waits(record.history(), rules)
        first = found[0].answered_at if reviews and record.item.is_pull_request and found else None
        if first is not None:
            span = waited(found[0], WALL_CLOCK, first)
            for n, (since, now) in enumerate(periods):
                if since <= first <= now:
                    took[n].append(span)
        if sla is None:
            continue
        for wait in found:
            if not wait.measured:
                continue
            decided = _decided(wait, target(sla, shown[record.counted_in], wait.kind), clock)
            if decided is None:
                continue
            at, in_time = decided
            for n, (since, now) in enumerate(periods):
                if since <= at <= now:
                    total[n][record.counted_in, wait.kind] += 1
                    met[n][record.counted_in, wait.kind] += in_time
    return [
        Measured(
            None
            if sla is None
            else [
                Share(rid, kind, met[n][rid, kind], count)
                for (rid, kind), count in sorted(total[n].items())
            ],
            took[n],
        )
        for n in range(len(periods))
    ]


def _decided(wait: Wait, goal: timedelta, calendar: Calendar) -> tuple[datetime, bool] | None:
    """When a measured wait was decided, and whether in time (met_share); None if never."""
    due = due_at(wait, goal, calendar)
    answered = wait.answered_at
    in_time = answered is not None and (due is None or answered <= due)
    decided = answered if in_time else due
    return None if decided is None else (decided, in_time)


def target(sla: SlaSettings, full_name: str, kind: Kind) -> timedelta:
    """How long the maintainers have to answer a wait of this kind in this repository."""
    triage, review = sla.targets(full_name)
    return triage if kind == "triage" else review
