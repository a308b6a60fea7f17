# SPDX-License-Identifier: Apache-2.0
"""The weekly spotlight (docs/recognition.md, "The weekly spotlight").

Each week, at ``recognition.spotlight_day`` and ``spotlight_time`` (UTC), up to
``recognition.featured`` people who contributed in the seven days before are featured in
the spotlight channel, an embed each; every other first-time contributor of the week who
may be named is named in the post. :func:`candidates` reads the week (a plain read of a
synchronous session, run off the event loop) and orders it by the documented rules;
:func:`post` decides the week once (its ``recognition_weeks`` row, inserted once) and
promises the post under one outbox key per week.

Who is a contributor: a GitHub account (not a bot) with work in a shown repository
(bot/services/history.py), joined to a member through a verified link
(bot/services/members.py), or a member who received kudos. A GitHub contributor without
a verified link cannot be asked, and is featured by GitHub login only with
``recognition.feature_unlinked``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.config import RecognitionSettings, Settings
from bot.db.engine import insert_for
from bot.db.models import (
    Consent,
    ConsentAsk,
    GitHubCollaborator,
    GitHubIssue,
    GitHubReview,
    GitHubUser,
    Kudos,
    Member,
    SpotlightFeature,
    SpotlightWeek,
)
from bot.errors import DomainError
from bot.github.normalise import MAINTAINER_ASSOCIATIONS
from bot.outbox import promise
from bot.services.history import shown_repositories
from bot.services.recognition import NAME, consent, section
from bot.text import escape, link

WEEK = timedelta(days=7)
# A post missed (the bot was down) is still made this long after its time; later, the week
# passes without one, as a spotlight about an old week helps nobody.
GRACE = timedelta(days=2)
# Each kind of work counts up to this many times a week, so breadth beats volume in one kind.
CAP = 5
# Points per kind; mentoring counts only for the monthly champions (champions.py), whose
# candidates alone carry it.
WEIGHTS = {"merged": 3, "reviews": 2, "docs_tests": 2, "kudos": 1, "mentees": 3, "check_ins": 1}
# Of the candidates who are not first-time contributors, this many times `featured` are
# asked for consent ahead, so that someone who declines leaves a consenting one next.
ASKED_PER_PLACE = 2
# What an embed shows: pull requests, reviews and kudos quotes at most, and a title's length.
SHOWN_WORK, SHOWN_QUOTES, SHOWN_TITLE = 5, 3, 80
FIELD_VALUE_LIMIT = 1024
AVATAR = "https://avatars.githubusercontent.com/u/{id}?v=4"
COLOUR = 0xF1C40F


@dataclass(frozen=True)
class Work:
    """A pull request merged or reviewed."""

    repository: str
    number: int
    title: str
    url: str

    def shown(self) -> str:
        title = self.title
        if len(title) > SHOWN_TITLE:
            title = title[: SHOWN_TITLE - 1] + "…"
        return f"{link(f'{self.repository}#{self.number}', self.url)} {escape(title)}"


@dataclass(frozen=True)
class Quote:
    giver_id: int
    reason: str


@dataclass
class Candidate:
    """Someone with work in the week: a member, a GitHub account, or a member linked to one."""

    user_id: int | None = None
    github_id: int | None = None
    login: str | None = None
    first_merge: Work | None = None
    merged: list[Work] = field(default_factory=list)
    reviewed: list[Work] = field(default_factory=list)
    docs_tests: list[Work] = field(default_factory=list)
    kudos: list[Quote] = field(default_factory=list)
    # Mentoring (the champions only): mentees who opened their first pull request while
    # paired with them, and mentor check-ins they answered.
    mentees: list[int] = field(default_factory=list)
    check_ins: int = 0
    first_active: datetime | None = None
    maintainer: bool = False
    # "yes", "no" (standing), "not_now" (this week), "asked" (unanswered), "unasked", or
    # "unlinked" (no verified member to ask).
    consent: str = "unasked"
    # Asked the question of this post's date (whatever they answered, if they did).
    asked: bool = False
    # Why they are not featured this week; None: they may be.
    excluded: str | None = None

    @property
    def score(self) -> int:
        return self.points(CAP)

    def points(self, cap: int) -> int:
        """WEIGHTS per kind of work, each kind counted up to ``cap`` times."""
        counts = {
            "merged": len(self.merged),
            "reviews": len(self.reviewed),
            "docs_tests": len(self.docs_tests),
            "kudos": len(self.kudos),
            "mentees": len(self.mentees),
            "check_ins": self.check_ins,
        }
        return sum(WEIGHTS[kind] * min(count, cap) for kind, count in counts.items())

    def order(self) -> tuple[object, ...]:
        """First-time contributors first, then the score, then merged pull requests, reviews,
        docs and tests, kudos; then who was active first in the week, then the name."""
        return (
            self.first_merge is None,
            -self.score,
            -len(self.merged),
            -len(self.reviewed),
            -len(self.docs_tests),
            -len(self.kudos),
            self.first_active or datetime.max.replace(tzinfo=UTC),
            (self.login or "").lower(),
            self.user_id or 0,
        )

    def active(self, at: datetime) -> None:
        if self.first_active is None or at < self.first_active:
            self.first_active = at

    @property
    def who(self) -> str:
        """How the post names them: the member, else the GitHub login."""
        if self.user_id is not None:
            return f"<@{self.user_id}>"
        return f"**{escape(self.login or '?')}**"


@dataclass(frozen=True)
class Spotlight:
    """One week's candidates in order, whom the post features and names, and whom to ask."""

    week: date
    since: datetime
    until: datetime
    ranked: tuple[Candidate, ...]
    featured: tuple[Candidate, ...]
    named: tuple[Candidate, ...]
    to_ask: tuple[int, ...]

    @property
    def asked(self) -> tuple[int, ...]:
        """The candidates asked for this week's post already (``to_ask``: still to ask)."""
        return tuple(c.user_id for c in self.ranked if c.asked and c.user_id is not None)


# --- when ----------------------------------------------------------------------------------


def post_time(settings: RecognitionSettings, week: date) -> datetime:
    return datetime.combine(week, settings.spotlight_at, UTC)


def latest_post(settings: RecognitionSettings, now: datetime) -> datetime:
    """The most recent scheduled post time at or before ``now``."""
    back = (now.weekday() - settings.weekday) % 7
    found = post_time(settings, now.date() - timedelta(days=back))
    return found if found <= now else found - WEEK


async def decided(session: AsyncSession, guild_id: int, week: date) -> str | None:
    """What became of the week's spotlight ("posted", "skipped", "empty"), None if undecided."""
    return await session.scalar(
        select(SpotlightWeek.status).where(
            SpotlightWeek.guild_id == guild_id, SpotlightWeek.week == week
        )
    )


async def current_week(
    session: AsyncSession, settings: Settings, guild_id: int, now: datetime
) -> date:
    """The week the organisers' commands are about: the one just due, if it is not decided
    yet and still in its grace, else the next one."""
    configured = section(settings)
    last = latest_post(configured, now)
    if now - last <= GRACE and await decided(session, guild_id, last.date()) is None:
        return last.date()
    return (last + WEEK).date()


# --- who -----------------------------------------------------------------------------------


def candidates(
    session: Session, settings: Settings, guild_id: int, week: date, until: datetime
) -> Spotlight:
    """The week's candidates in order, with why any is not featured: the seven days before
    the week's post time (what happens at the post time itself is the next week's), up to
    ``until`` included (now, for a preview or an early post)."""
    configured = section(settings)
    ends = post_time(configured, week)
    since, until = ends - WEEK, min(until, ends)
    people = github_work(session, settings, since, ends, until)
    kudos_received(session, guild_id, since, ends, until, people)
    ranked = sorted(people.values(), key=Candidate.order)
    _judge(session, settings, guild_id, week, ranked)
    may = [c for c in ranked if c.excluded is None]
    featured = tuple(may[: configured.featured])
    named = tuple(c for c in may[configured.featured :] if c.first_merge is not None)
    to_ask = _to_ask(configured, ranked)
    return Spotlight(week, since, until, tuple(ranked), featured, named, to_ask)


def github_work(
    session: Session, settings: Settings, since: datetime, ends: datetime, until: datetime
) -> dict[tuple[str, int], Candidate]:
    """Merged pull requests and reviews from ``since`` to before ``ends`` (a week, or the
    champions' month), up to ``until`` included, by GitHub account (bots left out)."""
    configured = section(settings)
    shown = shown_repositories(session, settings.github)
    people: dict[tuple[str, int], Candidate] = {}
    special = {label.lower() for label in (*configured.docs_labels, *configured.tests_labels)}
    associations: dict[int, set[str]] = defaultdict(set)

    def person(github_id: int) -> Candidate:
        return people.setdefault(("github", github_id), Candidate(github_id=github_id))

    # An item's updated_at is at least its merge's and its reviews' time: the index bounds
    # the read to the items of the period.
    merged = session.execute(
        select(GitHubIssue).where(
            GitHubIssue.updated_at >= since,
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.merged.is_(True),
            GitHubIssue.merged_at >= since,
            GitHubIssue.merged_at < ends,
            GitHubIssue.merged_at <= until,
            GitHubIssue.author_id.is_not(None),
            GitHubIssue.removed.is_(None),
            GitHubIssue.repository_id.in_(shown),
        )
    ).scalars()
    merges = sorted(merged, key=lambda p: (p.merged_at, p.repository_id, p.number))
    # A first-time contributor's first merge ever (in any repository the bot has seen) is in
    # the week.
    firsts = dict(
        session.execute(
            select(GitHubIssue.author_id, func.min(GitHubIssue.merged_at))
            .where(
                GitHubIssue.merged.is_(True),
                GitHubIssue.author_id.in_({pull.author_id for pull in merges}),
            )
            .group_by(GitHubIssue.author_id)
        ).all()
    )
    for pull in merges:
        assert pull.author_id is not None
        assert pull.merged_at is not None
        work = Work(shown[pull.repository_id], pull.number, pull.title, pull.html_url)
        found = person(pull.author_id)
        found.merged.append(work)
        found.active(pull.merged_at)
        if found.first_merge is None and firsts.get(pull.author_id) == pull.merged_at:
            found.first_merge = work
        if special & {label.lower() for label in pull.labels}:
            found.docs_tests.append(work)
        associations[pull.author_id].add(pull.author_association)

    reviews = session.execute(
        select(
            GitHubReview.reviewer_id,
            GitHubReview.submitted_at,
            GitHubReview.author_association,
            GitHubIssue,
        )
        .join(
            GitHubIssue,
            (GitHubIssue.repository_id == GitHubReview.repository_id)
            & (GitHubIssue.number == GitHubReview.number),
        )
        .where(
            GitHubIssue.updated_at >= since,
            GitHubIssue.repository_id.in_(shown),
            GitHubIssue.removed.is_(None),
            GitHubReview.reviewer_id.is_not(None),
            GitHubReview.submitted_at >= since,
            GitHubReview.submitted_at < ends,
            GitHubReview.submitted_at <= until,
        )
        .order_by(GitHubReview.submitted_at, GitHubReview.id)
    ).all()
    for reviewer_id, submitted_at, association, pull in reviews:
        if reviewer_id is None or reviewer_id == pull.author_id:
            continue
        found = person(reviewer_id)
        work = Work(shown[pull.repository_id], pull.number, pull.title, pull.html_url)
        if work not in found.reviewed:
            found.reviewed.append(work)
        found.active(submitted_at)
        associations[reviewer_id].add(association)

    ids = [key[1] for key in people]
    accounts = {
        user.id: user for user in session.scalars(select(GitHubUser).where(GitHubUser.id.in_(ids)))
    }
    collaborators = set(
        session.scalars(
            select(GitHubCollaborator.user_id).where(GitHubCollaborator.user_id.in_(ids))
        )
    )
    maintainers = {login.lower() for login in settings.github.maintainers}
    for key, found in list(people.items()):
        account = accounts.get(key[1])
        if account is None or account.is_bot or account.login.lower().endswith("[bot]"):
            del people[key]
            continue
        found.login = account.login
        found.maintainer = (
            account.login.lower() in maintainers
            or account.id in collaborators
            or bool(associations[account.id] & MAINTAINER_ASSOCIATIONS)
        )
    return people


def kudos_received(
    session: Session,
    guild_id: int,
    since: datetime,
    ends: datetime,
    until: datetime,
    people: dict[tuple[str, int], Candidate],
) -> None:
    """Join the GitHub accounts to members through verified links, and add the kudos the
    members received in the period (a member with kudos alone is a candidate too)."""
    by_member = link_members(session, guild_id, list(people.values()))
    received = session.execute(
        select(Kudos)
        .where(
            Kudos.guild_id == guild_id,
            Kudos.given_at >= since,
            Kudos.given_at < ends,
            Kudos.given_at <= until,
        )
        .order_by(Kudos.given_at, Kudos.id)
    ).scalars()
    for kudos in received:
        if kudos.receiver_id not in by_member:
            by_member[kudos.receiver_id] = Candidate(user_id=kudos.receiver_id)
            people[("member", kudos.receiver_id)] = by_member[kudos.receiver_id]
        found = by_member[kudos.receiver_id]
        found.kudos.append(Quote(kudos.giver_id, kudos.reason))
        found.active(kudos.given_at)
    # A member who received kudos and has a verified link shows their GitHub login.
    name_from_links(session, guild_id, by_member.values())


def link_members(session: Session, guild_id: int, found: list[Candidate]) -> dict[int, Candidate]:
    """Join the candidates known only by their GitHub account to the members who linked it,
    verified; returns the candidates who are members, by member id (the last of any one
    member's)."""
    unlinked: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in found:
        if candidate.user_id is None and candidate.github_id is not None:
            unlinked[candidate.github_id].append(candidate)
    for user_id, github_id in session.execute(
        select(Member.user_id, Member.github_user_id).where(
            Member.guild_id == guild_id,
            Member.github_verified.is_(True),
            Member.github_user_id.in_(unlinked),
        )
    ).all():
        assert github_id is not None  # matched one of the accounts
        for candidate in unlinked[github_id]:
            candidate.user_id = user_id
    return {c.user_id: c for c in found if c.user_id is not None}


def name_from_links(session: Session, guild_id: int, found: Iterable[Candidate]) -> None:
    """Give the GitHub account and login of their verified link to the member candidates
    shown by no login yet (kudos received, mentoring; an account GitHub's history never
    named), so that they show under it."""
    unnamed: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in found:
        if candidate.user_id is not None and candidate.login is None:
            unnamed[candidate.user_id].append(candidate)
    for user_id, github_id, login in session.execute(
        select(Member.user_id, Member.github_user_id, Member.github_login).where(
            Member.guild_id == guild_id,
            Member.user_id.in_(unnamed),
            Member.github_verified.is_(True),
        )
    ).all():
        for candidate in unnamed[user_id]:
            if candidate.github_id in (None, github_id):
                candidate.github_id, candidate.login = github_id, login


def _judge(
    session: Session, settings: Settings, guild_id: int, week: date, ranked: list[Candidate]
) -> None:
    """Each candidate's consent, and why they are not featured (None: they may be)."""
    configured = section(settings)
    read_consent(session, guild_id, week, ranked)
    recent_members, recent_accounts = _featured_lately(session, guild_id, week, configured)
    for found in ranked:
        if found.maintainer and configured.exclude_maintainers:
            found.excluded = "maintainer"
        elif (found.user_id in recent_members) or (found.github_id in recent_accounts):
            found.excluded = f"featured in the last {configured.cooldown_weeks} weeks"
        else:
            found.excluded = consent_excludes(found, configured)


def read_consent(
    session: Session, guild_id: int, asked_for: date | None, ranked: list[Candidate]
) -> None:
    """Each candidate's consent to the post of ``asked_for`` (a spotlight's or the champions'
    date): a standing choice, else that post's question and its answer. None: a standing
    choice alone (the newsletter, which asks no question of its own)."""
    members = [c.user_id for c in ranked if c.user_id is not None]
    choices = dict(
        session.execute(
            select(Consent.user_id, Consent.choice).where(
                Consent.guild_id == guild_id, Consent.user_id.in_(members)
            )
        ).all()
    )
    asks: dict[int, list[ConsentAsk]] = defaultdict(list)
    for ask in session.scalars(
        select(ConsentAsk).where(ConsentAsk.guild_id == guild_id, ConsentAsk.user_id.in_(members))
    ):
        asks[ask.user_id].append(ask)
    for found in ranked:
        theirs = asks.get(found.user_id or 0, [])
        found.consent = _consent(found, choices, theirs, asked_for)
        found.asked = any(ask.week == asked_for for ask in theirs)


def consent_excludes(found: Candidate, configured: RecognitionSettings) -> str | None:
    """Why consent keeps them out of a post (None: it does not)."""
    if found.consent == "no":
        return "opted out"
    if found.consent == "not_now":
        return "not this time, they said"
    if found.consent == "unlinked" and not configured.feature_unlinked:
        return "no linked Discord account to ask"
    if found.consent in ("asked", "unasked") and configured.silence == "not_featured":
        return "no answer yet" if found.consent == "asked" else "not asked yet"
    return None


def _consent(
    found: Candidate, choices: dict[int, str], asks: list[ConsentAsk], week: date | None
) -> str:
    if found.user_id is None:
        return "unlinked"
    if found.user_id in choices:
        return choices[found.user_id]
    this_week = next((ask for ask in asks if week is not None and ask.week == week), None)
    if this_week is not None:
        return this_week.answer or "asked"
    # A question left unanswered is not asked again: silence decides from then on.
    return "asked" if any(ask.answer is None for ask in asks) else "unasked"


def _featured_lately(
    session: Session, guild_id: int, week: date, configured: RecognitionSettings
) -> tuple[set[int | None], set[int | None]]:
    if not configured.cooldown_weeks:
        return set(), set()
    rows = session.execute(
        select(SpotlightFeature.user_id, SpotlightFeature.github_user_id).where(
            SpotlightFeature.guild_id == guild_id,
            SpotlightFeature.week >= week - timedelta(weeks=configured.cooldown_weeks),
            SpotlightFeature.week < week,
        )
    ).all()
    return ({r[0] for r in rows} - {None}), ({r[1] for r in rows} - {None})


def _to_ask(configured: RecognitionSettings, ranked: list[Candidate]) -> tuple[int, ...]:
    """Members to ask: those not yet asked whom only consent keeps out (or, when silence
    means featured, who would be featured without being asked), first-time contributors all,
    others up to ASKED_PER_PLACE per place."""
    asked, others = [], 0
    for found in ranked:
        waits_for_consent = found.excluded in (None, "not asked yet")
        if found.user_id is None or found.consent != "unasked" or not waits_for_consent:
            continue
        if found.first_merge is None:
            if others >= ASKED_PER_PLACE * configured.featured:
                continue
            others += 1
        asked.append(found.user_id)
    return tuple(asked)


# --- what ----------------------------------------------------------------------------------


def _web(works: Iterable[Work]) -> str:
    """GitHub's web address, from a pull request's (GitHub Enterprise and the sandbox differ)."""
    for work in works:
        parts = urlsplit(work.url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return "https://github.com"


def _lines(lines: list[str], total: int) -> str:
    """Lines of a field, the first few of ``total``, within Discord's limit for a field."""
    shown = list(lines)
    while len("\n".join(shown)) > FIELD_VALUE_LIMIT - 20:
        shown.pop()
    if total > len(shown):
        shown.append(f"… and {total - len(shown)} more")
    return "\n".join(shown)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def person_embed(found: Candidate, badge: str = "🌟") -> dict[str, object]:
    """One featured person: name, avatar, GitHub link, what they did, kudos quotes."""
    web = _web([*found.merged, *found.reviewed])
    profile = f"{web}/{found.login}" if found.login else None
    title = f"{badge} {found.login}" if found.login else f"{badge} Thanks from the community"
    embed: dict[str, object] = {
        "title": title,
        "description": found.who
        + (f" · GitHub {link(found.login, profile)}" if found.login and profile else ""),
        "colour": COLOUR,
    }
    if profile is not None:
        embed["url"] = profile
    if found.github_id is not None:
        embed["thumbnail"] = {"url": AVATAR.format(id=found.github_id)}
    fields: list[dict[str, object]] = []
    if found.first_merge is not None:
        fields.append({"name": "🌱 First contribution", "value": found.first_merge.shown()})
    others = [w for w in found.merged if w != found.first_merge]
    if others:
        fields.append(
            {
                "name": f"Merged ({len(others)})",
                "value": _lines([w.shown() for w in others[:SHOWN_WORK]], len(others)),
            }
        )
    if found.reviewed:
        fields.append(
            {
                "name": f"Reviewed ({len(found.reviewed)})",
                "value": _lines(
                    [w.shown() for w in found.reviewed[:SHOWN_WORK]], len(found.reviewed)
                ),
            }
        )
    if found.docs_tests:
        fields.append(
            {"name": "📚 Docs and tests", "value": f"{len(found.docs_tests)} of the merged"}
        )
    if found.mentees or found.check_ins:
        fields.append(
            {
                "name": "🧭 Mentoring",
                "value": f"{_count(len(found.mentees), 'mentee')} reached a first pull "
                f"request · {_count(found.check_ins, 'check-in')} answered",
            }
        )
    if found.kudos:
        quotes = [f"“{escape(q.reason)}” — <@{q.giver_id}>" for q in found.kudos[:SHOWN_QUOTES]]
        fields.append(
            {
                "name": f"🙌 Kudos ({len(found.kudos)})",
                "value": _lines(quotes, len(found.kudos)),
            }
        )
    # One field under another: the lists are long for side by side.
    embed["fields"] = [{**made, "inline": False} for made in fields]
    return embed


def payload(spotlight: Spotlight) -> dict[str, object]:
    week = spotlight.week
    lines = [
        f"🌟 **Weekly spotlight**, {week:%A} {week.day} {week:%B %Y}: thank you to everyone "
        "who contributed this week! A few of them:"
    ]
    if spotlight.named:
        welcome = ", ".join(found.who for found in spotlight.named)
        lines.append(f"🌱 Welcome too to our first-time contributors: {welcome}!")
    return {
        "content": "\n".join(lines),
        "embeds": [person_embed(found) for found in spotlight.featured],
        # Named, not pinged: a spotlight is read, not a summons.
        "mentions": [],
    }


def preview_embed(spotlight: Spotlight, status: str | None) -> dict[str, object]:
    """`/spotlight preview`: every candidate with their score and why any is left out."""
    lines = []
    featured = {id(c) for c in spotlight.featured}
    named = {id(c) for c in spotlight.named}
    for rank, found in enumerate(spotlight.ranked, 1):
        mark = "🌟" if id(found) in featured else "🌱" if id(found) in named else "·"
        why = f" — not featured: {found.excluded}" if found.excluded else ""
        name = found.who + (f" ({escape(found.login)})" if found.user_id and found.login else "")
        lines.append(
            f"{mark} {rank}. {name}: score {found.score}"
            f"{' · first merge' if found.first_merge else ''} · {len(found.merged)} merged · "
            f"{len(found.reviewed)} reviewed · {len(found.docs_tests)} docs/tests · "
            f"{len(found.kudos)} kudos · consent: {found.consent}{why}"
        )
    description = "\n".join(lines) or "Nobody has contributed yet this week."
    if len(description) > 4000:
        description = description[:3990].rsplit("\n", 1)[0] + "\n…"
    state = f" ({status})" if status else ""
    return {
        "title": f"Spotlight of {_day(spotlight.week)}{state}",
        "description": description,
        "footer": {
            "text": "🌟 featured · 🌱 named as a first-time contributor. Order: first-time "
            "contributors, then the score (3 a merged pull request, 2 a review, 2 docs or "
            f"tests work, 1 a kudos; {CAP} of each at most). Asked for consent for this "
            f"post: {len(spotlight.asked)}; still to ask: {len(spotlight.to_ask)}."
        },
    }


# --- deciding the week ---------------------------------------------------------------------


async def _decide(
    session: AsyncSession, guild_id: int, week: date, status: str, by: int | None, now: datetime
) -> bool:
    """The week's one decision; False if it was decided already (another process, a restart,
    or an organiser)."""
    inserted = await session.execute(
        insert_for(session)(SpotlightWeek)
        .values(guild_id=guild_id, week=week, status=status, by_user_id=by, at=now)
        .on_conflict_do_nothing(index_elements=["guild_id", "week"])
    )
    return bool(getattr(inserted, "rowcount", 0))


def key(guild_id: int, week: date) -> str:
    return f"recognition:spotlight:{guild_id}:{week.isoformat()}"


async def ask(session: AsyncSession, guild_id: int, spotlight: Spotlight, now: datetime) -> int:
    """Ask the week's candidates who need asking; returns how many were asked now."""
    asked = 0
    for user_id in spotlight.to_ask:
        asked += await consent.ask(session, guild_id, user_id, spotlight.week, now)
    return asked


async def post(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    spotlight: Spotlight,
    now: datetime,
    *,
    by: int | None = None,
) -> bool:
    """Decide the week: post it (or, with nobody to feature, record it empty); those still to
    be asked are asked now, for the next time. False if the week was decided already."""
    status = "posted" if spotlight.featured else "empty"
    if not await _decide(session, guild_id, spotlight.week, status, by, now):
        return False
    await ask(session, guild_id, spotlight, now)
    if not spotlight.featured:
        return True
    await promise(
        session,
        feature=NAME,
        guild_id=guild_id,
        key=key(guild_id, spotlight.week),
        target_kind="channel",
        target_id=section(settings).spotlight_channel_id,
        payload=payload(spotlight),
        now=now,
    )
    shown = [(c, False) for c in spotlight.featured] + [(c, True) for c in spotlight.named]
    for position, (found, named_only) in enumerate(shown, 1):
        session.add(
            SpotlightFeature(
                guild_id=guild_id,
                week=spotlight.week,
                position=position,
                user_id=found.user_id,
                github_user_id=found.github_id,
                named_only=named_only,
            )
        )
    await session.flush()
    return True


async def skip(
    session: AsyncSession, settings: Settings, guild_id: int, user_id: int, now: datetime
) -> date:
    """`/spotlight skip`: the current week's post is not made; recorded with who said so."""
    week = await current_week(session, settings, guild_id, now)
    if not await _decide(session, guild_id, week, "skipped", user_id, now):
        raise DomainError(_already(week, await decided(session, guild_id, week)))
    return week


def _day(week: date) -> str:
    """ "Monday 2 March" """
    return f"{week:%A} {week.day} {week:%B}"


def _already(week: date, status: str | None) -> str:
    said = {"posted": "already posted", "skipped": "already skipped", "empty": "already passed"}
    return f"The spotlight of {_day(week)} was {said.get(status or '', 'decided')}."


async def post_now(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    spotlight: Spotlight,
    user_id: int,
    now: datetime,
) -> None:
    """`/spotlight post-now`: the current week's post, made now with the week so far."""
    if not spotlight.featured:
        raise DomainError(
            "Nobody can be featured right now (`/spotlight preview` says why for each "
            "candidate), so nothing was posted and the week stays open."
        )
    if not await post(session, settings, guild_id, spotlight, now, by=user_id):
        status = await decided(session, guild_id, spotlight.week)
        raise DomainError(_already(spotlight.week, status))
