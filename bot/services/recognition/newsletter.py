# SPDX-License-Identifier: Apache-2.0
"""The monthly newsletter (docs/recognition.md, "The newsletter").

`/newsletter month:YYYY-MM` and `helios-bot newsletter --month YYYY-MM` give a calendar
month (UTC) in Markdown, in the spirit of This Week in Rust: headline figures beside the
month before's, a welcome to the new contributors, the month's spotlights and Community
Champions, a call for participation (open good-first-issues by area) and thanks to the
mentors. :func:`compose` is one plain read of a synchronous session (run it off the event
loop); the same database state always gives the same text.

Every figure reuses its feature's definition: the spotlight's contributors and first-time
contributors (spotlight.py), the service levels' first review and share met within target
(bot/services/sla/scan.py), the good-first-issues `/issues` offers (bot/services/recommend.py).
People are named only with their consent to being featured, as it stands now (a standing
Yes or Never; ``silence`` for those who never chose; ``feature_unlinked`` for GitHub accounts
no member linked); the others are counted.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.config import RecognitionSettings, Settings
from bot.db.models import (
    Champion,
    ChampionsMonth,
    GitHubIssue,
    GitHubUser,
    Pairing,
    SpotlightFeature,
    SpotlightWeek,
)
from bot.errors import DomainError
from bot.services.history import shown_repositories
from bot.services.recognition import champions, section
from bot.services.recognition.spotlight import (
    Candidate,
    Work,
    consent_excludes,
    github_work,
    link_members,
    name_from_links,
    read_consent,
)
from bot.services.recommend import Recommendation, recommend
from bot.services.sla.scan import Measured, measure
from bot.text import escape, link

# Good-first-issues shown per area; the rest are counted.
SHOWN_ISSUES = 5
# A month's figures run to the instant before its end: [1st 00:00, next 1st 00:00).
INSTANT = timedelta(microseconds=1)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(text: str) -> date:
    """ "2026-01" as the month's first day; a DomainError that says how to write it."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise DomainError(
            f"“{text.strip()[:20]}” isn't a month: write it as YYYY-MM, like 2026-01."
        )
    return date(int(found[1]), int(found[2]), 1)


def file_name(month: date) -> str:
    return f"helios-newsletter-{month:%Y-%m}.md"


@dataclass(frozen=True)
class Figures:
    """One month's headline figures (docs/recognition.md defines each)."""

    merged: int
    new_contributors: int
    first_reviews: list[timedelta]
    # (met, decided) waits; None when [sla] is off.
    met: tuple[int, int] | None


@dataclass(frozen=True)
class Names:
    """How people are named: by GitHub login (linked to their profile), else as the member,
    and only those whose consent allows it; the others are counted."""

    configured: RecognitionSettings
    web: str
    # Members' display names in Discord, for those without a GitHub login to name them by.
    members: Mapping[int, str]

    def split(self, found: Iterable[Candidate]) -> tuple[list[Candidate], int]:
        """Those who may be named, and how many may not."""
        may, left = [], 0
        for candidate in found:
            if consent_excludes(candidate, self.configured) is None:
                may.append(candidate)
            else:
                left += 1
        return may, left

    def who(self, candidate: Candidate) -> str:
        if candidate.login:
            return link(candidate.login, f"{self.web}/{candidate.login}")
        shown = self.members.get(candidate.user_id or 0)
        return escape(shown) if shown is not None else f"<@{candidate.user_id}>"

    def listed(self, found: Iterable[Candidate]) -> str:
        """ "a, b and 2 more" """
        may, left = self.split(found)
        if not may:
            return f"{_count(left, 'person', 'people')}, not named here"
        shown = [self.who(c) for c in may] + ([f"{left} more"] if left else [])
        return ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]


def compose(
    session: Session,
    settings: Settings,
    guild_id: int,
    month: date,
    now: datetime,
    members: Mapping[int, str] = MappingProxyType({}),
) -> str:
    """The newsletter of ``month`` (its first day) in Markdown; a month not yet over is
    covered up to ``now`` and says so. A month that has not begun is a DomainError. A member
    without a GitHub login is named by ``members`` (their display names in Discord), else as
    a Discord mention."""
    configured = section(settings)
    since = _start(month)
    if since > now:
        raise DomainError(f"{month:%B %Y} hasn't begun yet: pick this month or an earlier one.")
    ends = _start(champions.next_month(month))
    until = min(now, ends)
    before = champions.previous_month(month)
    people = github_work(session, settings, since, ends, until)
    earlier = github_work(session, settings, _start(before), since, since)
    # Both months' service levels from one read of the histories.
    levels = measure(
        session, settings, [(since, until - INSTANT), (_start(before), since - INSTANT)]
    )
    this = _figures(people.values(), levels[0])
    last = _figures(earlier.values(), levels[1])
    newcomers = sorted(
        (c for c in people.values() if c.first_merge is not None),
        key=lambda c: ((c.login or "").lower(), c.github_id or 0),
    )
    weeks = _spotlights(session, guild_id, since, ends)
    champs = _champions(session, guild_id, month)
    mentors = _mentors(session, guild_id, since, ends, until)
    _as_they_stand(
        session, guild_id, [*newcomers, *(c for _, w in weeks for c in w), *champs, *mentors]
    )
    names = Names(configured, _web(session), members)
    repositories = len(shown_repositories(session, settings.github))

    so_far = until < ends
    heading = f"{month:%B %Y}" + (
        f", so far (to {until.day} {until:%B %H:%M} UTC)" if so_far else ""
    )
    lines = [
        f"# Community newsletter: {heading}",
        "",
        f"Hello, and welcome to the newsletter of {month:%B %Y}: what happened across our "
        f"{_count(repositories, 'repository', 'repositories')}, who joined us, who made a "
        "difference, and where you can lend a hand next. Thank you to everyone who took part!",
        "",
        "## Headline figures",
        "",
        f"| | {month:%B %Y}{' (so far)' if so_far else ''} | {before:%B %Y} |",
        "| --- | --- | --- |",
        f"| Pull requests merged | {this.merged} | {last.merged} |",
        f"| New contributors | {this.new_contributors} | {last.new_contributors} |",
        f"| Median time to first review | {_median(this.first_reviews)} | "
        f"{_median(last.first_reviews)} |",
        f"| Within the service-level targets | {_share(this.met)} | {_share(last.met)} |",
        "",
        "## Welcome",
        "",
    ]
    if newcomers:
        lines.append(
            f"{_count(len(newcomers), 'person', 'people')} had a first pull request merged "
            f"in {month:%B}. Welcome aboard!"
        )

        def welcome(newcomer: Candidate) -> str:
            assert newcomer.first_merge is not None  # a newcomer's
            return f"{names.who(newcomer)}: {newcomer.first_merge.shown()}"

        lines += _bullets(names, newcomers, welcome)
    else:
        lines.append(f"No first pull requests were merged in {month:%B}.")
    lines += ["", "## Spotlights of the month", ""]
    for week, featured in weeks:
        lines.append(f"- **{week:%A} {week.day} {week:%B}**: {names.listed(featured)}")
    if not weeks:
        lines.append(f"No weekly spotlight was posted in {month:%B}.")
    if configured.champions:
        lines += ["", "## Community Champions", ""]
        lines.append(_champions_line(session, configured, guild_id, month, now, champs, names))
    lines += ["", "## Call for participation", "", *_call(session, settings, guild_id)]
    lines += ["", "## Thanks to our mentors", ""]
    if mentors:
        mentees = len({m for c in mentors for m in c.mentees})
        lines.append(
            f"{_count(len(mentors), 'mentor', 'mentors')} guided "
            f"{_count(mentees, 'newcomer', 'newcomers')} in {month:%B}: thank you!"
        )
        lines += _bullets(
            names,
            sorted(mentors, key=_mentor_order),
            lambda c: f"{names.who(c)} ({_count(len(c.mentees), 'mentee', 'mentees')})",
        )
    else:
        lines.append(f"No mentoring pairings ran in {month:%B}.")
    lines += [
        "",
        "---",
        "",
        "_Made by the contributor bot from the public GitHub history and the community's "
        "recognition. People are named only if they agreed to be featured._",
    ]
    return "\n".join(lines) + "\n"


# --- when ------------------------------------------------------------------------------------


def _start(month: date) -> datetime:
    return datetime.combine(month, datetime.min.time(), UTC)


# --- the figures -------------------------------------------------------------------------------


def _figures(people: Iterable[Candidate], levels: Measured) -> Figures:
    """A month's figures, from the spotlight's ``people`` of it and its service levels."""
    work, shares = list(people), levels.shares
    return Figures(
        merged=sum(len(c.merged) for c in work),
        new_contributors=sum(c.first_merge is not None for c in work),
        first_reviews=levels.first_reviews,
        met=None if shares is None else (sum(s.met for s in shares), sum(s.total for s in shares)),
    )


def _median(samples: list[timedelta]) -> str:
    if not samples:
        return "n/a"
    median = timedelta(seconds=statistics.median(s.total_seconds() for s in samples))
    return f"{_duration(median)} ({_count(len(samples), 'pull request', 'pull requests')})"


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{minutes / (24 * 60):.1f} days"


def _share(met: tuple[int, int] | None) -> str:
    if met is None or not met[1]:
        return "n/a"
    return f"{round(100 * met[0] / met[1])} % ({met[0]} of {met[1]})"


def _bullets(names: Names, found: list[Candidate], line: Callable[[Candidate], str]) -> list[str]:
    """A list of those who may be named, after a blank line, and how many more there are;
    nothing when nobody may be named (the sentence before counts them all)."""
    may, left = names.split(found)
    if not may:
        return []
    return ["", *(f"- {line(c)}" for c in may)] + ([f"- …and {left} more."] if left else [])


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --- who -------------------------------------------------------------------------------------


def _as_they_stand(session: Session, guild_id: int, found: list[Candidate]) -> None:
    """Each person's GitHub login, member and consent as they stand now: someone who opted
    out since they were featured is not named."""
    ids = {c.github_id for c in found if c.github_id is not None and c.login is None}
    logins = dict(
        session.execute(select(GitHubUser.id, GitHubUser.login).where(GitHubUser.id.in_(ids))).all()
    )
    for candidate in found:
        if candidate.login is None and candidate.github_id in logins:
            candidate.login = logins[candidate.github_id]
    link_members(session, guild_id, found)
    name_from_links(session, guild_id, found)
    read_consent(session, guild_id, None, found)


def _spotlights(
    session: Session, guild_id: int, since: datetime, ends: datetime
) -> list[tuple[date, list[Candidate]]]:
    """The spotlights posted for weeks of the month, each with whom it featured or named, in
    the post's order."""
    rows = session.execute(
        select(SpotlightWeek.week, SpotlightFeature.user_id, SpotlightFeature.github_user_id)
        .join(
            SpotlightFeature,
            (SpotlightFeature.guild_id == SpotlightWeek.guild_id)
            & (SpotlightFeature.week == SpotlightWeek.week),
        )
        .where(
            SpotlightWeek.guild_id == guild_id,
            SpotlightWeek.status == "posted",
            SpotlightWeek.week >= since.date(),
            SpotlightWeek.week < ends.date(),
        )
        .order_by(SpotlightWeek.week, SpotlightFeature.position, SpotlightFeature.id)
    ).all()
    weeks: dict[date, list[Candidate]] = defaultdict(list)
    for week, user_id, github_id in rows:
        weeks[week].append(Candidate(user_id=user_id, github_id=github_id))
    return sorted(weeks.items())


def _champions(session: Session, guild_id: int, month: date) -> list[Candidate]:
    return [
        Candidate(user_id=user_id, github_id=github_id)
        for user_id, github_id in session.execute(
            select(Champion.user_id, Champion.github_user_id)
            .where(Champion.guild_id == guild_id, Champion.month == month)
            .order_by(Champion.position, Champion.user_id)
        ).all()
    ]


def _champions_line(
    session: Session,
    configured: RecognitionSettings,
    guild_id: int,
    month: date,
    now: datetime,
    found: list[Candidate],
    names: Names,
) -> str:
    if found:
        return f"🏆 The Community Champions of {month:%B}: {names.listed(found)}. Thank you!"
    day = champions.post_time(configured, month)
    decided = session.scalar(
        select(ChampionsMonth.status).where(
            ChampionsMonth.guild_id == guild_id, ChampionsMonth.month == month
        )
    )
    if decided is None and day > now:
        return (
            f"The Community Champions of {month:%B} are announced on {day:%A} {day.day} {day:%B}."
        )
    return f"No Community Champions were named for {month:%B}."


def _mentors(
    session: Session, guild_id: int, since: datetime, ends: datetime, until: datetime
) -> list[Candidate]:
    """Members with a pairing active in the month (matched before its end, or before
    ``until``, and not ended before its start), each with their mentees of it."""
    mentees: dict[int, set[int]] = defaultdict(set)
    for mentor_id, mentee_id in session.execute(
        select(Pairing.mentor_id, Pairing.mentee_id).where(
            Pairing.guild_id == guild_id,
            Pairing.mentor_id.is_not(None),
            Pairing.matched_at < ends,
            Pairing.matched_at <= until,
            or_(Pairing.ended_at.is_(None), Pairing.ended_at >= since),
        )
    ).all():
        assert mentor_id is not None  # selected so
        mentees[mentor_id].add(mentee_id)
    return [
        Candidate(user_id=mentor_id, mentees=sorted(theirs))
        for mentor_id, theirs in sorted(mentees.items())
    ]


def _mentor_order(found: Candidate) -> tuple[object, ...]:
    """Most mentees first, then by GitHub login (members without one last), then member id."""
    return (-len(found.mentees), found.login is None, (found.login or "").lower(), found.user_id)


# --- where to help ---------------------------------------------------------------------------


def _call(session: Session, settings: Settings, guild_id: int) -> list[str]:
    """Open, unclaimed good-first-issues (those `/issues` offers), by area, a few each:
    priority first, then the newest."""
    onboarding = settings.onboarding
    areas = onboarding.areas if onboarding is not None else []
    found = recommend(
        session,
        github=settings.github,
        guild_id=guild_id,
        areas=[area.name for area in areas],
        area_labels={area.name: area.labels for area in areas},
        beginner_labels=onboarding.beginner_labels if onboarding else ["good first issue"],
        priority_labels=onboarding.priority_labels if onboarding else [],
        limit=None,
    )
    if not found:
        return ["No good first issues are open right now. Maintainers: label a few!"]
    found.sort(key=_issue_order)
    buddy = " New here? `/buddy` finds you a mentor." if settings.mentorship else ""
    lines = [
        "Looking for a way in? These issues are marked for newcomers, open and unclaimed: "
        f"claim one in Discord with `/issues`.{buddy}",
    ]
    groups = [
        (f"### {area.name}" + (f": {area.description}" if area.description else ""), area.name)
        for area in areas
    ]
    for title, name in groups:
        theirs = [r for r in found if name in r.areas]
        if theirs:
            lines += ["", title, "", *_issues(theirs, f"`/issues area:{name}`")]
    others = [r for r in found if not r.areas]
    if others:
        lines += [""] + (["### Elsewhere", ""] if groups else []) + _issues(others, "`/issues`")
    return lines


def _issue_order(found: Recommendation) -> tuple[object, ...]:
    return (
        not found.priority,
        -found.opened_at.timestamp(),
        found.repository.lower(),
        found.number,
    )


def _issues(found: list[Recommendation], more: str) -> list[str]:
    lines = [
        "- " + Work(r.repository, r.number, r.title, r.url).shown() for r in found[:SHOWN_ISSUES]
    ]
    if len(found) > SHOWN_ISSUES:
        lines.append(f"- …and {len(found) - SHOWN_ISSUES} more: {more} in Discord.")
    return lines


def _web(session: Session) -> str:
    """GitHub's web address, from a stored issue's (GitHub Enterprise and the sandbox differ)."""
    url = session.scalar(
        select(GitHubIssue.html_url)
        .order_by(GitHubIssue.repository_id, GitHubIssue.number)
        .limit(1)
    )
    found = re.match(r"https?://[^/\s]+", url or "")
    return found[0] if found else "https://github.com"
