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
    sla, shown = section(settings), shown_repositories(session, settings.github)
    rules, calendar = Rules.of(settings), calendar or Calendar.of(sla)
    # A wait decided since then belongs to an item still open or updated since: answering it
    # updated it, and so did closing it once it had passed its target.
    recent = [GitHubIssue.state == "open", GitHubIssue.updated_at >= since]
    met, total = Counter[tuple[int, Kind]](), Counter[tuple[int, Kind]]()
    for record in read_records(session, recent, shown):
        if record.counted_in not in shown:
            continue
        for wait in waits(record.history(), rules):
            if not wait.measured:
                continue
            due = due_at(wait, target(sla, shown[record.counted_in], wait.kind), calendar)
            answered = wait.answered_at
            in_time = answered is not None and (due is None or answered <= due)
            decided = answered if in_time else due
            if decided is not None and since <= decided <= now:
                total[record.counted_in, wait.kind] += 1
                met[record.counted_in, wait.kind] += in_time
    return [
        Share(repository, kind, met[repository, kind], n)
        for (repository, kind), n in sorted(total.items())
    ]


def typical_first_review(
    session: Session, settings: Settings, repository_id: int, now: datetime
) -> timedelta | None:
    """The median time, on the wall clock, a pull request of this repository waited for its
    first review, over those that got it in the last TYPICAL_WINDOW (time in draft does not
    count); None from fewer than TYPICAL_MIN_SAMPLES, or for a repository not shown. What the
    first-pull-request message tells a newcomer to expect."""
    shown = shown_repositories(session, settings.github)
    if repository_id not in shown:
        return None
    rules, since = Rules.of(settings), now - TYPICAL_WINDOW
    # Answering the wait updated the pull request: those updated since are enough.
    recent = and_(
        GitHubIssue.updated_at >= since,
        GitHubIssue.repository_id == repository_id,
        GitHubIssue.is_pull_request.is_(True),
    )
    samples = []
    for record in read_records(session, [recent], shown):
        found = waits(record.history(), rules)
        first = found[0] if found else None
        answered = first.answered_at if first is not None else None
        if first is not None and answered is not None and since <= answered <= now:
            samples.append(waited(first, WALL_CLOCK, answered).total_seconds())
    if len(samples) < TYPICAL_MIN_SAMPLES:
        return None
    return timedelta(seconds=statistics.median(samples))


def target(sla: SlaSettings, full_name: str, kind: Kind) -> timedelta:
    """How long the maintainers have to answer a wait of this kind in this repository."""
    triage, review = sla.targets(full_name)
    return triage if kind == "triage" else review
