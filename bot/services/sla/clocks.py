# SPDX-License-Identifier: Apache-2.0
"""The service-level clocks (docs/sla.md): from one item's history, when it waited, on whom,
and how much of that time counts.

Pure functions of plain records: every definition is tested on hand-written histories, and
the scan (bot/services/sla/scan.py) only reads rows into these records.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import Settings, SlaSettings
from bot.github.normalise import is_maintainer

Kind = Literal["triage", "review"]
Party = Literal["maintainers", "author"]
# answered: the party waited on acted; withdrawn: the author closed (or merged) the item
# before the maintainers answered, which takes the wait out of the measure; closed: it was
# closed by someone whose closing answers nothing (a bot), or while waiting on the author.
Outcome = Literal["answered", "withdrawn", "closed"]

# GitHub writes the labels an issue is opened with (templates, forms) as "labeled" events a
# moment after the opening; they are not a maintainer's answer.
AT_OPENING = timedelta(seconds=10)
NOTHING = timedelta(0)


# --- the history of one item ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Who did something. ``id`` None: a deleted account (GitHub's "ghost")."""

    id: int | None
    login: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Item:
    """An issue or pull request: who opened it and when, and (pull requests) whether it is a
    draft now."""

    is_pull_request: bool
    author: Person
    author_association: str
    created_at: datetime
    draft: bool = False


@dataclass(frozen=True)
class Event:
    """A transition (bot.db.models.GitHubIssueEvent): labeled, closed, pushed..."""

    kind: str
    occurred_at: datetime
    actor: Person
    subject: str = ""


@dataclass(frozen=True)
class Comment:
    created_at: datetime
    author: Person
    author_association: str


@dataclass(frozen=True)
class Review:
    submitted_at: datetime
    reviewer: Person
    author_association: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED


@dataclass(frozen=True)
class History:
    item: Item
    events: Sequence[Event] = ()
    comments: Sequence[Comment] = ()
    reviews: Sequence[Review] = ()


@dataclass(frozen=True)
class Rules:
    """What the configuration says counts: logins of maintainers (beyond GitHub's OWNER,
    MEMBER and COLLABORATOR) and labels that bots or templates add, both in lower case."""

    maintainers: frozenset[str] = frozenset()
    automatic_labels: frozenset[str] = frozenset()

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        sla = settings.sla
        labels = sla.automatic_labels if sla is not None else []
        return cls(
            frozenset(login.lower() for login in settings.github.maintainers),
            frozenset(label.lower() for label in labels),
        )


# --- waits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    """A stretch of time an item waited on one party. ``ended_at`` None: still waiting.
    ``paused``: stretches in draft, which do not count (the last may still be open)."""

    kind: Kind
    waiting_on: Party
    started_at: datetime
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    paused: tuple[tuple[datetime, datetime | None], ...] = ()

    @property
    def answered_at(self) -> datetime | None:
        return self.ended_at if self.outcome == "answered" else None

    @property
    def measured(self) -> bool:
        """Whether it counts towards the maintainers' service level."""
        return self.waiting_on == "maintainers" and self.outcome != "withdrawn"

    def spans(self) -> list[tuple[datetime, datetime | None]]:
        """When its clock ran: between its pauses, to its end (None: running still)."""
        found: list[tuple[datetime, datetime | None]] = []
        start = self.started_at
        for paused_at, resumed_at in self.paused:
            found.append((start, paused_at))
            if resumed_at is None:
                return found
            start = resumed_at
        return [*found, (start, self.ended_at)]


def waits(history: History, rules: Rules) -> list[Wait]:
    """Every wait of an item, oldest first: triage for issues opened by someone who is not a
    maintainer, review for pull requests; none for items a bot opened."""
    item = history.item
    if item.author.is_bot:
        return []
    if item.is_pull_request:
        return _review_waits(history, rules)
    if is_maintainer(item.author.login, item.author_association, rules.maintainers):
        return []
    return _triage_waits(history, rules)


@dataclass(frozen=True)
class _Step:
    """An event, comment or review, in the one order the clocks read them in."""

    at: datetime
    kind: str  # an event's kind, "comment" or "review"
    by: Person
    association: str = ""
    subject: str = ""
    state: str = ""


# Within one second: what starts a wait before what answers it, a merge before its closing.
_ORDER = {
    "ready_for_review": 0,
    "reopened": 0,
    "pushed": 1,
    "review_requested": 1,
    "comment": 2,
    "review": 2,
    "labeled": 2,
    "unlabeled": 2,
    "assigned": 2,
    "merged": 3,
    "closed": 4,
    "converted_to_draft": 5,
}

# The kinds of event the clocks read.
READS = frozenset(_ORDER)


def _steps(history: History) -> list[_Step]:
    steps = [
        _Step(e.occurred_at, e.kind, e.actor, subject=e.subject)
        for e in history.events
        if e.kind in _ORDER
    ]
    steps += [
        _Step(c.created_at, "comment", c.author, c.author_association) for c in history.comments
    ]
    steps += [
        _Step(r.submitted_at, "review", r.reviewer, r.author_association, state=r.state)
        for r in history.reviews
    ]
    return sorted(steps, key=lambda step: (step.at, _ORDER[step.kind]))


class _Clock:
    """The waits of one item as its steps are read: the finished ones and the running one."""

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.done: list[Wait] = []
        self.current: Wait | None = None

    def waiting_on(self, party: Party) -> bool:
        return self.current is not None and self.current.waiting_on == party

    def start(self, party: Party, at: datetime) -> None:
        self.current = Wait(self.kind, party, at)

    def finish(self, at: datetime, outcome: Outcome) -> Party | None:
        """End the running wait (a pause ends with it); returns on whom it waited."""
        if self.current is None:
            return None
        self.resume(at)
        self.done.append(replace(self.current, ended_at=at, outcome=outcome))
        party, self.current = self.current.waiting_on, None
        return party

    def pause(self, at: datetime) -> None:
        if self.current is not None and not self._paused():
            paused = (*self.current.paused, (at, None))
            self.current = replace(self.current, paused=paused)

    def resume(self, at: datetime) -> None:
        if self.current is not None and self._paused():
            *earlier, (paused_at, _) = self.current.paused
            self.current = replace(self.current, paused=(*earlier, (paused_at, at)))

    def _paused(self) -> bool:
        assert self.current is not None
        return bool(self.current.paused) and self.current.paused[-1][1] is None

    def all(self) -> list[Wait]:
        return [*self.done, *([self.current] if self.current is not None else [])]


def _other_than(person: Person, author: Person) -> bool:
    return author.id is None or person.id != author.id


def _acts(person: Person, author: Person) -> bool:
    """A label, assignment, close or merge by this person counts as a maintainer's: GitHub
    lets only people with triage or write access do them, so anyone but the author (and a
    bot) will do."""
    return not person.is_bot and _other_than(person, author)


def _says(step: _Step, author: Person, rules: Rules) -> bool:
    """A comment or review counts when a maintainer other than the author wrote it."""
    return _acts(step.by, author) and is_maintainer(
        step.by.login, step.association, rules.maintainers
    )


def _closing(step: _Step, author: Person) -> Outcome:
    """How a close ends a wait on the maintainers."""
    if not _other_than(step.by, author):
        return "withdrawn"
    return "answered" if _acts(step.by, author) else "closed"


def _triage_waits(history: History, rules: Rules) -> list[Wait]:
    item = history.item
    clock = _Clock("triage")
    clock.start("maintainers", item.created_at)
    # Until its first answer (which a reopened issue keeps, even one given while it was
    # closed); a wait that ended unanswered starts again when it is reopened.
    unanswered = True
    for step in _steps(history):
        if step.kind == "closed":
            if clock.current is not None:
                outcome = _closing(step, item.author)
                clock.finish(step.at, outcome)
                unanswered = outcome != "answered"
        elif step.kind == "reopened":
            if unanswered and clock.current is None:
                clock.start("maintainers", step.at)
        elif unanswered and _triages(step, item, rules):
            clock.finish(step.at, "answered")
            unanswered = False
    return clock.all()


def _triages(step: _Step, item: Item, rules: Rules) -> bool:
    if step.kind == "labeled":
        return (
            _acts(step.by, item.author)
            and step.subject.lower() not in rules.automatic_labels
            and step.at > item.created_at + AT_OPENING
        )
    if step.kind in ("unlabeled", "assigned"):
        return _acts(step.by, item.author)
    return step.kind == "comment" and _says(step, item.author, rules)


def _review_waits(history: History, rules: Rules) -> list[Wait]:
    item, author = history.item, history.item.author
    steps = _steps(history)
    # Opened as a draft if its first draft change made it ready.
    changes = [s.kind for s in steps if s.kind in ("ready_for_review", "converted_to_draft")]
    draft = changes[0] == "ready_for_review" if changes else item.draft
    is_open = True
    # Whose turn it is by the rules, open or closed; a wait runs on them while the pull
    # request is open (on the maintainers, paused while it is a draft).
    turn: Party | None = None if draft else "maintainers"
    clock = _Clock("review")
    if turn is not None:
        clock.start(turn, item.created_at)

    def hand(to: Party | None, at: datetime) -> None:
        """The turn passes: the running wait is answered, and the next one starts."""
        nonlocal turn
        clock.finish(at, "answered")
        turn = to
        if to is not None and is_open and not (to == "maintainers" and draft):
            clock.start(to, at)

    for step in steps:
        kind, by = step.kind, step.by
        if kind == "converted_to_draft":
            draft = True
            if clock.waiting_on("maintainers"):
                clock.pause(step.at)
        elif kind == "ready_for_review":
            draft = False
            if clock.waiting_on("maintainers"):
                clock.resume(step.at)
            else:
                hand("maintainers", step.at)  # it asks for review, whoever's turn it was
        elif kind in ("pushed", "review_requested"):
            # The author's answer to requested changes: a new review clock.
            if turn == "author" and not _other_than(by, author):
                hand("maintainers", step.at)
        elif kind in ("review", "comment") and _says(step, author, rules):
            changes_requested = step.state == "CHANGES_REQUESTED"
            if turn == "maintainers" or (changes_requested and turn is None):
                hand("author" if changes_requested else None, step.at)
        elif kind == "merged":
            if turn == "maintainers" and _acts(by, author):
                hand(None, step.at)  # merged by someone else: a review
        elif kind == "closed":
            is_open = False
            outcome = _closing(step, author) if turn == "maintainers" else "closed"
            clock.finish(step.at, outcome)
            if outcome == "answered":
                turn = None
        elif kind == "reopened":
            is_open = True
            if turn is not None and not (turn == "maintainers" and draft):
                clock.start(turn, step.at)
    return clock.all()


# --- how long it counts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Which time counts: every hour, or with ``business_days`` only the days from Monday to
    Friday less the holidays, as days run in ``zone`` (a day of 23 or 25 hours, when the
    clocks change, counts as long as it is)."""

    business_days: bool = False
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: tuple[date, ...] = ()  # sorted

    @classmethod
    def of(cls, sla: SlaSettings) -> Calendar:
        return cls(sla.business_days, ZoneInfo(sla.time_zone), tuple(sorted(set(sla.holidays))))

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        found = bisect.bisect_left(self.holidays, day)
        return found == len(self.holidays) or self.holidays[found] != day

    def runs(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The runs of consecutive business days from the day ``start`` falls on, each from
        the local midnight it begins at to the one after it, in UTC; endless."""
        day = start.astimezone(self.zone).date()
        while True:
            while not self.is_business_day(day):
                day += timedelta(days=1)
            # A run ends on the Saturday or at the next holiday, whichever comes first.
            end = day + timedelta(days=5 - day.weekday())
            upcoming = bisect.bisect_left(self.holidays, day)
            if upcoming < len(self.holidays):
                end = min(end, self.holidays[upcoming])
            yield _midnight(day, self.zone), _midnight(end, self.zone)
            day = end


WALL_CLOCK = Calendar()


@functools.lru_cache(maxsize=4096)
def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """When ``day`` begins in ``zone``, in UTC. A midnight the clocks skip is the moment they
    skip it at (zoneinfo reads it with the offset before the change)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def elapsed(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """The time from ``start`` to ``end`` that counts."""
    if end <= start:
        return NOTHING
    if not calendar.business_days:
        return end - start
    total = NOTHING
    for run_start, run_end in calendar.runs(start):
        if run_start >= end:
            return total
        total += min(end, run_end) - max(start, run_start)
    raise AssertionError("calendar runs never end")


def deadline(start: datetime, budget: timedelta, calendar: Calendar) -> datetime:
    """The moment ``budget`` of counting time has passed since ``start``."""
    if not calendar.business_days:
        return start + budget
    for run_start, run_end in calendar.runs(start):
        begin = max(start, run_start)
        if begin + budget <= run_end:
            return begin + budget
        budget -= run_end - begin
    raise AssertionError("calendar runs never end")


def waited(wait: Wait, calendar: Calendar, now: datetime) -> timedelta:
    """How long the wait counts, to its end or to ``now``."""
    return sum((elapsed(start, end or now, calendar) for start, end in wait.spans()), NOTHING)


def due_at(wait: Wait, target: timedelta, calendar: Calendar) -> datetime | None:
    """When the wait reaches ``target`` of counting time; None if it ends first, or stays
    paused (in draft) before it does."""
    left = target
    for start, end in wait.spans():
        reached = deadline(start, left, calendar)
        if end is None or reached <= end:
            return reached
        left -= elapsed(start, end, calendar)
    return None
