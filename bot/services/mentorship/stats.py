# SPDX-License-Identifier: Apache-2.0
"""The mentor program's outcomes, for organisers (`/mentor stats`).

Plain reads of a synchronous session (``runtime.read``), each returning frozen dataclasses:
what became of the mentees (a first pull request, how soon), against newcomers of the same
months who had no mentor; feedback, check-ins answered and load, per mentor and overall; and
how long mentees went without an active mentor. Nine queries, however many newcomers
there are: the pull requests are aggregated per account in the database (by the author
index), feedback and check-ins per mentor, and the rest is read once, a row per newcomer or
pairing. docs/mentorship.md ("Outcomes") defines each figure.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.config import GitHubSettings
from bot.db.models import CheckIn, Feedback, GitHubIssue, Member, Mentor, Newcomer, Pairing
from bot.errors import DomainError
from bot.services.history import shown_repositories

# A share, a median or a mean of fewer than this many people is shown as "—": too few to
# mean anything, and a mean of one or two scores would tell a mentor who gave which.
MIN_SAMPLE = 5
FIRST_PR_WITHIN = timedelta(days=30)
SECOND_PR_WITHIN = timedelta(days=90)
# The window of the recent figures: load, and hours without a mentor.
RECENT = timedelta(days=90)
# No mentee should go longer than this without an active mentor.
WAIT_LIMIT = timedelta(hours=72)


@dataclass(frozen=True)
class Share:
    """``hits`` of ``of``; the ratio only from MIN_SAMPLE people up."""

    hits: int
    of: int

    @property
    def ratio(self) -> float | None:
        return self.hits / self.of if self.of >= MIN_SAMPLE else None


@dataclass(frozen=True)
class Median:
    """The median of ``count`` durations (None below MIN_SAMPLE)."""

    count: int
    median: timedelta | None


@dataclass(frozen=True)
class Scores:
    """Feedback scores (1 to 5): how many, and their mean (None below MIN_SAMPLE)."""

    count: int
    mean: float | None


@dataclass(frozen=True)
class FirstSteps:
    """What became of a group of mentees on GitHub."""

    mentees: int
    # With a verified GitHub account and no pull request before finishing `/start`: the
    # mentees whose pull requests the figures below are about.
    measured: int
    first_pr_in_30_days: Share
    time_to_first_pr: Median


@dataclass(frozen=True)
class Load:
    mentees: int
    capacity: int
    # Mentee-days over the window / (capacity x days in the window since joining).
    recent: float | None


@dataclass(frozen=True)
class MentorOutcome:
    user_id: int
    status: str
    first_steps: FirstSteps
    feedback: Scores  # from their mentees
    check_ins: Share  # answered of asked
    load: Load | None  # None for a mentor who left


@dataclass(frozen=True)
class Cohort:
    """Newcomers of the comparison months, mentored or not (measured ones only)."""

    newcomers: int
    time_to_first_merge: Median
    second_pr_in_90_days: Share


@dataclass(frozen=True)
class Waiting:
    """Time mentees spent without an active mentor, for waits that ended in the window
    (or go on)."""

    mentees: int
    longest: timedelta | None
    over_limit: Share  # mentees whose longest wait was over WAIT_LIMIT


@dataclass(frozen=True)
class Outcomes:
    first_steps: FirstSteps
    feedback_from_mentees: Scores
    feedback_from_mentors: Scores
    check_ins: Share
    load: Load  # the mentors here now (active or paused)
    waiting: Waiting
    # The months (their first day) whose newcomers are compared: those with a mentee.
    months: tuple[date, ...]
    mentored: Cohort
    unmentored: Cohort
    mentors: tuple[MentorOutcome, ...]


@dataclass(frozen=True)
class _Newcomer:
    """A newcomer who finished `/start`, with their pull requests in shown repositories."""

    user_id: int
    finished_at: datetime
    # None without one, and for a newcomer who cannot be measured: no verified GitHub
    # account, or a pull request opened before they finished `/start` (a contributor).
    first_pr: datetime | None
    second_pr: datetime | None
    first_merge: datetime | None
    measured: bool


def outcomes(
    session: Session,
    github: GitHubSettings,
    guild_id: int,
    now: datetime,
    *,
    mentor_id: int | None = None,
    window: timedelta = RECENT,
) -> Outcomes:
    """Every figure of `/mentor stats`, with a line per mentor (or only ``mentor_id``'s).
    ``window`` is that of the recent figures: load, and hours without a mentor."""
    mentors = list(session.scalars(select(Mentor).where(Mentor.guild_id == guild_id)))
    if mentor_id is not None and all(row.user_id != mentor_id for row in mentors):
        raise DomainError(f"<@{mentor_id}> has never been a mentor here.")
    since = now - window
    newcomers = _newcomers(session, github, guild_id)
    mentors_of = _mentors_of(session, guild_id, newcomers)
    feedback = _feedback(session, guild_id)
    check_ins = _check_ins(session, guild_id)
    mentee_days = _mentee_days(session, guild_id, since, now)

    mentees_of: dict[int, list[_Newcomer]] = defaultdict(list)
    for mentee, had in mentors_of.items():
        for mentor in had:
            if mentor is not None:
                mentees_of[mentor].append(newcomers[mentee])
    listed = (
        [row for row in mentors if row.user_id == mentor_id]
        if mentor_id is not None
        else [row for row in mentors if _listed(row, mentees_of[row.user_id])]
    )
    lines = [
        MentorOutcome(
            user_id=row.user_id,
            status=row.status,
            first_steps=_first_steps(mentees_of[row.user_id], now),
            feedback=_scores(*feedback.get((row.user_id, "mentee"), (0, 0))),
            check_ins=check_ins.get(row.user_id, Share(0, 0)),
            load=None if row.status == "left" else _load([row], mentee_days, since, now),
        )
        for row in listed
    ]
    lines.sort(key=lambda line: (-line.first_steps.mentees, line.user_id))

    mentees = [newcomers[m] for m in mentors_of]
    months = tuple(sorted({_month(n.finished_at) for n in mentees if n.measured}))
    compared = [n for n in newcomers.values() if n.measured and _month(n.finished_at) in months]
    here = [row for row in mentors if row.status in ("active", "paused")]
    return Outcomes(
        first_steps=_first_steps(mentees, now),
        feedback_from_mentees=_side(feedback, "mentee"),
        feedback_from_mentors=_side(feedback, "mentor"),
        check_ins=Share(
            sum(share.hits for share in check_ins.values()),
            sum(share.of for share in check_ins.values()),
        ),
        load=_load(here, mentee_days, since, now),
        waiting=waiting(session, guild_id, since=since, now=now),
        months=months,
        mentored=_cohort([n for n in compared if n.user_id in mentors_of], now),
        unmentored=_cohort([n for n in compared if n.user_id not in mentors_of], now),
        mentors=tuple(lines),
    )


def _listed(mentor: Mentor, mentees: list[_Newcomer]) -> bool:
    """A mentor has a line of their own once approved, and after leaving if they mentored."""
    return mentor.status in ("active", "paused") or (mentor.status == "left" and bool(mentees))


def _month(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


# --- who did what on GitHub ----------------------------------------------------------------


def _newcomers(session: Session, github: GitHubSettings, guild_id: int) -> dict[int, _Newcomer]:
    """Every newcomer who finished `/start`, with their first pull requests: one aggregate
    over the pull requests of the verified accounts (by the author index), in the
    repositories Discord may show."""
    finished = and_(Newcomer.guild_id == guild_id, Newcomer.finished_at.is_not(None))
    linked = and_(Member.guild_id == Newcomer.guild_id, Member.user_id == Newcomer.user_id)
    shown = list(shown_repositories(session, github))
    pulls = (
        select(
            GitHubIssue.author_id,
            GitHubIssue.created_at,
            GitHubIssue.merged_at,
            func.row_number()
            .over(
                partition_by=GitHubIssue.author_id,
                order_by=(GitHubIssue.created_at, GitHubIssue.repository_id, GitHubIssue.number),
            )
            .label("rank"),
        )
        .where(
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.removed.is_(None),
            GitHubIssue.repository_id.in_(shown),
            GitHubIssue.author_id.in_(
                select(Member.github_user_id)
                .join(Newcomer, linked)
                .where(finished, Member.github_verified)
            ),
        )
        .subquery()
    )
    firsts = {
        author: (first, second, merge)
        for author, first, second, merge in session.execute(
            select(
                pulls.c.author_id,
                func.min(case((pulls.c.rank == 1, pulls.c.created_at))),
                func.min(case((pulls.c.rank == 2, pulls.c.created_at))),
                func.min(pulls.c.merged_at),
            ).group_by(pulls.c.author_id)
        )
    }
    found = {}
    rows = session.execute(
        select(
            Newcomer.user_id,
            Newcomer.finished_at,
            Member.github_user_id,
            Member.github_verified,
        )
        .outerjoin(Member, linked)
        .where(finished)
    )
    for user_id, finished_at, account, verified in rows:
        assert finished_at is not None  # selected so
        first, second, merge = firsts.get(account, (None, None, None))
        measured = account is not None and verified and (first is None or first >= finished_at)
        if not measured:
            first = second = merge = None
        found[user_id] = _Newcomer(user_id, finished_at, first, second, merge, measured)
    return found


def _first_steps(mentees: list[_Newcomer], now: datetime) -> FirstSteps:
    measured = [n for n in mentees if n.measured]
    # Only those whose 30 days are over can have made it, or not, within them.
    ripe = [n for n in measured if n.finished_at + FIRST_PR_WITHIN <= now]
    return FirstSteps(
        mentees=len(mentees),
        measured=len(measured),
        first_pr_in_30_days=Share(
            sum(1 for n in ripe if _within(n.finished_at, n.first_pr, FIRST_PR_WITHIN)), len(ripe)
        ),
        time_to_first_pr=_median(n.first_pr - n.finished_at for n in measured if n.first_pr),
    )


def _cohort(newcomers: list[_Newcomer], now: datetime) -> Cohort:
    ripe = [n for n in newcomers if n.finished_at + SECOND_PR_WITHIN <= now]
    return Cohort(
        newcomers=len(newcomers),
        time_to_first_merge=_median(
            n.first_merge - n.finished_at for n in newcomers if n.first_merge
        ),
        second_pr_in_90_days=Share(
            sum(1 for n in ripe if _within(n.finished_at, n.second_pr, SECOND_PR_WITHIN)),
            len(ripe),
        ),
    )


def _within(start: datetime, moment: datetime | None, limit: timedelta) -> bool:
    return moment is not None and moment - start <= limit


def _median(durations: Iterable[timedelta]) -> Median:
    seconds = [d.total_seconds() for d in durations]
    if len(seconds) < MIN_SAMPLE:
        return Median(len(seconds), None)
    return Median(len(seconds), timedelta(seconds=statistics.median(seconds)))


# --- pairings ------------------------------------------------------------------------------


def _mentors_of(
    session: Session, guild_id: int, newcomers: dict[int, _Newcomer]
) -> dict[int, set[int | None]]:
    """Each mentee (a newcomer who was ever matched) and every mentor they had (None: one
    whose data was deleted). A mentor the mentee declined is not counted as theirs: the
    pairing never really began."""
    found: dict[int, set[int | None]] = defaultdict(set)
    rows = session.execute(
        select(Pairing.mentee_id, Pairing.mentor_id, Pairing.end_reason)
        .where(Pairing.guild_id == guild_id, Pairing.matched_at.is_not(None))
        .distinct()
    )
    for mentee, mentor, end_reason in rows:
        if mentee in newcomers:  # always, as only a newcomer who finished `/start` can ask
            mentors = found[mentee]
            if end_reason != "declined":
                mentors.add(mentor)
    return dict(found)


def _mentee_days(
    session: Session, guild_id: int, since: datetime, now: datetime
) -> dict[int | None, float]:
    """Days of mentoring each mentor gave within [since, now], summed over their pairings."""
    rows = session.execute(
        select(Pairing.mentor_id, Pairing.matched_at, Pairing.ended_at).where(
            Pairing.guild_id == guild_id,
            Pairing.matched_at.is_not(None),
            Pairing.matched_at < now,
            or_(Pairing.ended_at.is_(None), Pairing.ended_at > since),
        )
    )
    days: dict[int | None, float] = defaultdict(float)
    for mentor, matched_at, ended_at in rows:
        assert matched_at is not None  # selected so
        days[mentor] += _days(max(matched_at, since), min(ended_at or now, now))
    return days


def _load(
    mentors: list[Mentor], mentee_days: dict[int | None, float], since: datetime, now: datetime
) -> Load:
    offered = sum(m.capacity * _days(max(m.joined_at, since), now) for m in mentors)
    given = sum(mentee_days.get(m.user_id, 0.0) for m in mentors)
    return Load(
        mentees=sum(m.load for m in mentors),
        capacity=sum(m.capacity for m in mentors),
        recent=given / offered if offered else None,
    )


def _days(start: datetime, end: datetime) -> float:
    return max((end - start) / timedelta(days=1), 0.0)


def _feedback(session: Session, guild_id: int) -> dict[tuple[int | None, str], tuple[int, int]]:
    """(mentor, side) -> (how many scores, their total)."""
    rows = session.execute(
        select(Pairing.mentor_id, Feedback.side, func.count(), func.sum(Feedback.score))
        .join(Pairing, Pairing.id == Feedback.pairing_id)
        .where(Pairing.guild_id == guild_id)
        .group_by(Pairing.mentor_id, Feedback.side)
    )
    return {(mentor, side): (int(count), int(total)) for mentor, side, count, total in rows}


def _scores(count: int, total: int) -> Scores:
    return Scores(count, total / count if count >= MIN_SAMPLE else None)


def _side(feedback: dict[tuple[int | None, str], tuple[int, int]], side: str) -> Scores:
    given = [value for (_mentor, given_by), value in feedback.items() if given_by == side]
    return _scores(sum(count for count, _ in given), sum(total for _, total in given))


def _check_ins(session: Session, guild_id: int) -> dict[int | None, Share]:
    """The mentor's check-ins answered (any answer) of those asked, by mentor."""
    rows = session.execute(
        select(Pairing.mentor_id, func.count(CheckIn.answer), func.count())
        .join(Pairing, Pairing.id == CheckIn.pairing_id)
        .where(Pairing.guild_id == guild_id, CheckIn.stage.startswith("mentor-"))
        .group_by(Pairing.mentor_id)
    )
    return {mentor: Share(int(answered), int(asked)) for mentor, answered, asked in rows}


def waiting(session: Session, guild_id: int, *, since: datetime, now: datetime) -> Waiting:
    """How long mentees went without an active mentor, over the waits that ended within
    [since, now] or go on. A wait starts when the mentee asks (``requested_at``), or when
    their previous pairing ended if that is later (a handover keeps the first request's
    time), and ends at the match (at ``now`` while still queued; when the request ended, if
    it ended unmatched)."""
    previous_end = func.lag(Pairing.ended_at, type_=Pairing.ended_at.type).over(
        partition_by=Pairing.mentee_id, order_by=Pairing.id
    )
    asks = (
        select(
            Pairing.mentee_id,
            Pairing.requested_at,
            previous_end.label("previous_end"),
            func.coalesce(Pairing.matched_at, Pairing.ended_at).label("answered_at"),
        )
        .where(Pairing.guild_id == guild_id)
        .subquery()
    )
    rows = session.execute(
        select(asks).where(or_(asks.c.answered_at.is_(None), asks.c.answered_at >= since))
    )
    longest: dict[int, timedelta] = {}
    for mentee, requested_at, previous_end_at, answered_at in rows:
        start = max(requested_at, previous_end_at or requested_at)
        wait = max((answered_at or now) - start, timedelta(0))
        longest[mentee] = max(longest.get(mentee, wait), wait)
    return Waiting(
        mentees=len(longest),
        longest=max(longest.values(), default=None),
        over_limit=Share(sum(1 for wait in longest.values() if wait > WAIT_LIMIT), len(longest)),
    )
