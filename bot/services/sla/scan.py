# SPDX-License-Identifier: Apache-2.0
"""What the maintainers owe now, and how well they kept to their targets: the open items'
current waits, and the share of waits met within target, measured by the clocks on the
history of the items concerned.

Every query searches an index (tests/unit/test_sla_scan.py holds SQLite's plans to it): the
items by state or by update time (migration 0016), then their events, comments and reviews by
(repository, number), never a repository's whole history. Both are plain reads of a
synchronous Session (bot/db/reader.py), so a scan of thousands of items runs off the event
loop: ``await runtime.read(lambda session: open_waits(session, settings, now))``.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from bot.config import Settings, SlaSettings
from bot.db.models import GitHubComment, GitHubIssue, GitHubIssueEvent, GitHubReview, GitHubUser
from bot.services.history import shown_repositories
from bot.services.sla.clocks import (
    READS,
    WALL_CLOCK,
    Calendar,
    Comment,
    Event,
    History,
    Item,
    Kind,
    Person,
    Review,
    Rules,
    Wait,
    due_at,
    waited,
    waits,
)

Key = tuple[int, int]  # (repository id, number)

# The typical first review: the median over this window, from this many pull requests up.
TYPICAL_WINDOW = timedelta(days=30)
TYPICAL_MIN_SAMPLES = 5

# GitHub's author associations for someone who had not contributed to the repository before.
FIRST_TIMES = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER"})


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
    """Every open item of a shown repository that waits on someone, longest waiting first."""
    sla, shown = section(settings), shown_repositories(session, settings.github)
    rules, calendar = Rules.of(settings), Calendar.of(sla)
    found = []
    for record in _records(session, [GitHubIssue.state == "open"], shown):
        if record.counted_in not in shown:
            continue
        history = record.history()
        current = waits(history, rules)
        if not current or current[-1].ended_at is not None:
            continue
        wait, opener = current[-1], history.item
        found.append(
            OpenWait(
                record.repository_id,
                record.number,
                record.title,
                record.html_url,
                record.counted_in,
                wait,
                waited(wait, calendar, now),
                None
                if wait.waiting_on == "author"
                else target(sla, shown[record.counted_in], wait.kind),
                opener.author.login,
                opener.author_association in FIRST_TIMES,
                record.requested_reviewer_ids,
                record.assignee_ids,
            )
        )
    return sorted(found, key=lambda open_wait: open_wait.waited, reverse=True)


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
    for record in _records(session, recent, shown):
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
    for record in _records(session, [recent], shown):
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


# --- reading histories ----------------------------------------------------------------------


@dataclass
class _Record:
    """An item's row and the facts of its history; ``origin``: where a transfer brought it
    from."""

    repository_id: int
    number: int
    title: str
    html_url: str
    item: Item
    requested_reviewer_ids: tuple[int, ...] = ()
    assignee_ids: tuple[int, ...] = ()
    events: list[Event] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    origin: _Record | None = None

    def chain(self) -> Iterator[_Record]:
        """This record, then the ones it was transferred from, oldest last (once each, were
        the transfers ever to say an issue came from itself)."""
        seen: set[Key] = set()
        record: _Record | None = self
        while record is not None and (record.repository_id, record.number) not in seen:
            seen.add((record.repository_id, record.number))
            yield record
            record = record.origin

    @property
    def counted_in(self) -> int:
        *_, first = self.chain()
        return first.repository_id

    def history(self) -> History:
        """The whole history: a transferred issue keeps its opening and its answers."""
        records = list(self.chain())
        return History(
            records[-1].item,
            [event for record in records for event in record.events],
            [comment for record in records for comment in record.comments],
            [review for record in records for review in record.reviews],
        )


def _records(
    session: Session, conditions: Sequence[ColumnElement[bool]], shown: dict[int, str]
) -> list[_Record]:
    """The items of the shown repositories that meet any of ``conditions`` (each one an
    indexed query) and are neither deleted nor transferred away, with their histories and
    the records of their origins."""
    found: dict[Key, _Record] = {}
    for condition in conditions:
        # The repositories are picked here: a condition on them as well would tempt SQLite
        # (without statistics) to read the items by repository instead of by the index.
        items = _items(session, and_(condition, GitHubIssue.removed.is_(None)))
        found |= {key: record for key, record in items.items() if key[0] in shown}
    _add_facts(session, found)
    known = dict(found)
    # Transferred issues: their origins, and theirs in turn (issues move rarely, and little).
    pending = {key for record in known.values() for key in _origins(record)} - known.keys()
    while pending:
        origins: dict[Key, _Record] = {}
        for condition in _keyed(GitHubIssue, pending):
            origins |= _items(session, condition)
        _add_facts(session, origins)
        known |= origins
        pending = {key for record in origins.values() for key in _origins(record)}
        pending -= known.keys()
    for record in known.values():
        record.origin = next((known[key] for key in _origins(record) if key in known), None)
    return list(found.values())


def _origins(record: _Record) -> Iterator[Key]:
    for event in record.events:
        if event.kind == "transferred":
            repository, _, number = event.subject.partition("#")
            if repository.isdigit() and number.isdigit():
                yield int(repository), int(number)


# Items per query of their facts: a few hundred numbers fit any database's parameter limit.
CHUNK = 500


def _keyed(
    model: type[GitHubIssue | GitHubIssueEvent | GitHubComment | GitHubReview],
    keys: Iterable[Key],
) -> Iterator[ColumnElement[bool]]:
    """Conditions that pick the rows of these items, a repository and a chunk of numbers
    each, so that every database searches its (repository, number) index for them rather
    than scanning a repository's whole history."""
    numbers: dict[int, list[int]] = defaultdict(list)
    for repository, number in keys:
        numbers[repository].append(number)
    for repository, its in sorted(numbers.items()):
        its.sort()
        for start in range(0, len(its), CHUNK):
            yield and_(
                model.repository_id == repository,
                model.number.in_(its[start : start + CHUNK]),
            )


def _items(session: Session, condition: ColumnElement[bool]) -> dict[Key, _Record]:
    author, people = aliased(GitHubUser), People()
    found: dict[Key, _Record] = {}
    # Plain rows from the connection, unpacked by position: the ORM's row handling would cost
    # more than the clocks themselves on thousands of items.
    for row in session.connection().execute(
        select(
            GitHubIssue.repository_id,
            GitHubIssue.number,
            GitHubIssue.title,
            GitHubIssue.html_url,
            GitHubIssue.is_pull_request,
            GitHubIssue.draft,
            GitHubIssue.author_association,
            GitHubIssue.created_at,
            GitHubIssue.author_id,
            author.login,
            author.is_bot,
            GitHubIssue.requested_reviewer_ids,
            GitHubIssue.assignee_ids,
        )
        .outerjoin(author, author.id == GitHubIssue.author_id)
        .where(condition)
    ):
        repository_id, number, title, html_url, is_pull, draft, association, created_at = row[:8]
        author_id, login, is_bot, reviewers, assignees = row[8:]
        opener = _person(people, author_id, login, is_bot)
        item = Item(is_pull, opener, association, created_at, draft)
        found[repository_id, number] = _Record(
            repository_id, number, title, html_url, item, tuple(reviewers), tuple(assignees)
        )
    return found


People = dict[int | None, Person]


def _person(people: People, user_id: int | None, login: str | None, is_bot: bool | None) -> Person:
    """One Person per account, however often it appears."""
    found = people.get(user_id)
    if found is None:
        found = people[user_id] = Person(user_id, login, bool(is_bot))
    return found


def _add_facts(session: Session, records: dict[Key, _Record]) -> None:
    """The events the clocks read, the comments and the reviews of these items."""
    who, people, connection = aliased(GitHubUser), People(), session.connection()
    kinds = sorted(READS | {"transferred"})
    for condition in _keyed(GitHubIssueEvent, records):
        for event in connection.execute(
            select(
                GitHubIssueEvent.repository_id,
                GitHubIssueEvent.number,
                GitHubIssueEvent.kind,
                GitHubIssueEvent.subject,
                GitHubIssueEvent.occurred_at,
                GitHubIssueEvent.actor_id,
                who.login,
                who.is_bot,
            )
            .outerjoin(who, who.id == GitHubIssueEvent.actor_id)
            .where(condition, GitHubIssueEvent.kind.in_(kinds))
        ):
            repository_id, number, kind, subject, occurred_at, actor_id, login, is_bot = event
            actor = _person(people, actor_id, login, is_bot)
            records[repository_id, number].events.append(Event(kind, occurred_at, actor, subject))
    for condition in _keyed(GitHubComment, records):
        for comment in connection.execute(
            select(
                GitHubComment.repository_id,
                GitHubComment.number,
                GitHubComment.created_at,
                GitHubComment.author_association,
                GitHubComment.author_id,
                who.login,
                who.is_bot,
            )
            .outerjoin(who, who.id == GitHubComment.author_id)
            .where(condition)
        ):
            repository_id, number, created_at, association, author_id, login, is_bot = comment
            writer = _person(people, author_id, login, is_bot)
            records[repository_id, number].comments.append(Comment(created_at, writer, association))
    for condition in _keyed(GitHubReview, records):
        for review in connection.execute(
            select(
                GitHubReview.repository_id,
                GitHubReview.number,
                GitHubReview.submitted_at,
                GitHubReview.author_association,
                GitHubReview.state,
                GitHubReview.reviewer_id,
                who.login,
                who.is_bot,
            )
            .outerjoin(who, who.id == GitHubReview.reviewer_id)
            .where(condition)
        ):
            repository_id, number, submitted_at, association, state, reviewer_id = review[:6]
            login, is_bot = review[6:]
            reviewer = _person(people, reviewer_id, login, is_bot)
            records[repository_id, number].reviews.append(
                Review(submitted_at, reviewer, association, state)
            )
