# SPDX-License-Identifier: Apache-2.0
"""Reading items' histories for the clocks: the rows of chosen items, their events, comments
and reviews, and the issues they were transferred from, through indexed queries only
(tests/unit/test_sla_scan.py holds SQLite's plans to it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from bot.db.models import (
    GitHubComment,
    GitHubIssue,
    GitHubIssueEvent,
    GitHubReview,
    GitHubUser,
    SlaWait,
)
from bot.services.sla.clocks import READS, Comment, Event, History, Item, Person, Review

Key = tuple[int, int]  # (repository id, number)


@dataclass
class Record:
    """An item's row and the facts of its history; ``origin``: where a transfer brought it
    from."""

    repository_id: int
    number: int
    title: str
    html_url: str
    item: Item
    revision: int = 0
    requested_reviewer_ids: tuple[int, ...] = ()
    assignee_ids: tuple[int, ...] = ()
    events: list[Event] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    origin: Record | None = None

    def chain(self) -> Iterator[Record]:
        """This record, then the ones it was transferred from, oldest last (once each, were
        the transfers ever to say an issue came from itself)."""
        seen: set[Key] = set()
        record: Record | None = self
        while record is not None and (record.repository_id, record.number) not in seen:
            seen.add((record.repository_id, record.number))
            yield record
            record = record.origin

    @property
    def counted_in(self) -> int:
        *_, first = self.chain()
        return first.repository_id

    @property
    def key(self) -> Key:
        return self.repository_id, self.number

    def origins(self) -> tuple[tuple[int, int, int], ...]:
        """(repository id, number, revision) of every issue the chain names as its origin,
        revision -1 for one not stored: what the history read here depends on besides the
        item itself."""
        found: set[tuple[int, int, int]] = set()
        for record in self.chain():
            origin = record.origin
            for key in origins_of(record):
                known = origin is not None and origin.key == key
                found.add((*key, origin.revision if origin is not None and known else -1))
        return tuple(sorted(found))

    def history(self) -> History:
        """The whole history: a transferred issue keeps its opening and its answers."""
        records = list(self.chain())
        return History(
            records[-1].item,
            [event for record in records for event in record.events],
            [comment for record in records for comment in record.comments],
            [review for record in records for review in record.reviews],
        )


def read_records(
    session: Session, conditions: Sequence[ColumnElement[bool]], shown: dict[int, str]
) -> list[Record]:
    """The items of the shown repositories that meet any of ``conditions`` (each one an
    indexed query) and are neither deleted nor transferred away, with their histories and
    the records of their origins."""
    found: dict[Key, Record] = {}
    for condition in conditions:
        # The repositories are picked here: a condition on them as well would tempt SQLite
        # (without statistics) to read the items by repository instead of by the index.
        items = _items(session, and_(condition, GitHubIssue.removed.is_(None)))
        found |= {key: record for key, record in items.items() if key[0] in shown}
    _add_facts(session, found)
    known = dict(found)
    # Transferred issues: their origins, and theirs in turn (issues move rarely, and little).
    pending = {key for record in known.values() for key in origins_of(record)} - known.keys()
    while pending:
        origins: dict[Key, Record] = {}
        for condition in keyed(GitHubIssue, pending):
            origins |= _items(session, condition)
        _add_facts(session, origins)
        known |= origins
        pending = {key for record in origins.values() for key in origins_of(record)}
        pending -= known.keys()
    for record in known.values():
        record.origin = next((known[key] for key in origins_of(record) if key in known), None)
    return list(found.values())


def origins_of(record: Record) -> Iterator[Key]:
    for event in record.events:
        if event.kind == "transferred":
            repository, _, number = event.subject.partition("#")
            if repository.isdigit() and number.isdigit():
                yield int(repository), int(number)


# Items per query of their facts: a few hundred numbers fit any database's parameter limit.
CHUNK = 500


def keyed(
    model: type[GitHubIssue | GitHubIssueEvent | GitHubComment | GitHubReview | SlaWait],
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


def _items(session: Session, condition: ColumnElement[bool]) -> dict[Key, Record]:
    author, people = aliased(GitHubUser), People()
    found: dict[Key, Record] = {}
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
            GitHubIssue.revision,
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
        revision, author_id, login, is_bot, reviewers, assignees = row[8:]
        opener = _person(people, author_id, login, is_bot)
        item = Item(is_pull, opener, association, created_at, draft)
        found[repository_id, number] = Record(
            repository_id,
            number,
            title,
            html_url,
            item,
            revision,
            tuple(reviewers),
            tuple(assignees),
        )
    return found


People = dict[int | None, Person]


def _person(people: People, user_id: int | None, login: str | None, is_bot: bool | None) -> Person:
    """One Person per account, however often it appears."""
    found = people.get(user_id)
    if found is None:
        found = people[user_id] = Person(user_id, login, bool(is_bot))
    return found


def _add_facts(session: Session, records: dict[Key, Record]) -> None:
    """The events the clocks read, the comments and the reviews of these items."""
    who, people, connection = aliased(GitHubUser), People(), session.connection()
    kinds = sorted(READS | {"transferred"})
    for condition in keyed(GitHubIssueEvent, records):
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
    for condition in keyed(GitHubComment, records):
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
    for condition in keyed(GitHubReview, records):
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
