# SPDX-License-Identifier: Apache-2.0
"""Monthly Community Champions (docs/recognition.md, "Community Champions").

On ``recognition.champions_day`` at ``champions_time`` (UTC), up to ``recognition.champions``
members are named champions of the calendar month just ended, by a score that counts what
the spotlight counts (spotlight.py: merged pull requests, reviews, docs and tests, kudos,
read by the same functions) and mentoring: mentees who opened their first pull request while
paired with them, and mentor check-ins they answered. :func:`candidates` reads the month off
the event loop; :func:`announce` decides the month once (its ``recognition_months`` row), in
the same transaction as the post's promise and the champion role's moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.config import RecognitionSettings, Settings
from bot.db.engine import insert_for
from bot.db.models import Champion, ChampionsMonth, CheckIn, GitHubIssue, Member, Pairing
from bot.outbox import promise
from bot.services.history import shown_repositories
from bot.services.recognition import NAME, consent, section
from bot.services.recognition.spotlight import (
    GRACE,
    Candidate,
    consent_excludes,
    github_work,
    kudos_received,
    name_from_links,
    person_embed,
    read_consent,
)

# Each kind of work counts up to this many times a month (the spotlight's 5 a week, times 4).
MONTH_CAP = 20
# Of the candidates, this many times `champions` are asked for consent ahead, from the top.
ASKED_PER_PLACE = 2


@dataclass(frozen=True)
class Champions:
    """One month's candidates in order, the champions, and whom to ask."""

    month: date
    ranked: tuple[Candidate, ...]
    champions: tuple[Candidate, ...]
    to_ask: tuple[int, ...]


def order(found: Candidate) -> tuple[object, ...]:
    """The score, then merged pull requests, reviews, mentees, check-ins, docs and tests,
    kudos; then who was active first in the month, the GitHub login, the member id."""
    return (
        -found.points(MONTH_CAP),
        -len(found.merged),
        -len(found.reviewed),
        -len(found.mentees),
        -found.check_ins,
        -len(found.docs_tests),
        -len(found.kudos),
        found.first_active or datetime.max.replace(tzinfo=UTC),
        (found.login or "").lower(),
        found.user_id or 0,
    )


# --- when ----------------------------------------------------------------------------------


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def post_time(settings: RecognitionSettings, month: date) -> datetime:
    """When the champions of ``month`` (its first day) are announced: in the next month."""
    day = next_month(month).replace(day=settings.champions_day)
    return datetime.combine(day, settings.champions_at, UTC)


def latest_month(settings: RecognitionSettings, now: datetime) -> date:
    """The month whose announcement is the most recent at or before ``now``."""
    month = previous_month(now.date().replace(day=1))
    return month if post_time(settings, month) <= now else previous_month(month)


async def decided(session: AsyncSession, guild_id: int, month: date) -> str | None:
    return await session.scalar(
        select(ChampionsMonth.status).where(
            ChampionsMonth.guild_id == guild_id, ChampionsMonth.month == month
        )
    )


# --- who -----------------------------------------------------------------------------------


def candidates(
    session: Session, settings: Settings, guild_id: int, month: date, until: datetime
) -> Champions:
    """The month's candidates in order and why any is not a champion, up to ``until``."""
    configured = section(settings)
    since = datetime.combine(month, datetime.min.time(), UTC)
    ends = datetime.combine(next_month(month), datetime.min.time(), UTC)
    until = min(until, ends)
    people = github_work(session, settings, since, ends, until)
    kudos_received(session, guild_id, since, ends, until, people)
    _mentoring(session, settings, guild_id, since, until, people)
    ranked = sorted(people.values(), key=order)
    asked_for = post_time(configured, month).date()
    read_consent(session, guild_id, asked_for, ranked)
    for found in ranked:
        if found.user_id is None:
            found.excluded = "no linked Discord account (a champion is a member)"
        elif found.maintainer and configured.exclude_maintainers:
            found.excluded = "maintainer"
        else:
            found.excluded = consent_excludes(found, configured)
    champions = tuple(c for c in ranked if c.excluded is None)[: configured.champions]
    waiting = [
        c.user_id
        for c in ranked
        if c.user_id is not None
        and c.consent == "unasked"
        and c.excluded in (None, "not asked yet")
    ]
    to_ask = tuple(waiting[: ASKED_PER_PLACE * configured.champions])
    return Champions(month, tuple(ranked), champions, to_ask)


def _mentoring(
    session: Session,
    settings: Settings,
    guild_id: int,
    since: datetime,
    until: datetime,
    people: dict[tuple[str, int], Candidate],
) -> None:
    """Add each mentor's mentoring of the month: mentor check-ins answered in it, and mentees
    whose first pull request ever (in a shown repository, by their verified account, as in
    mentorship/stats.py) was opened in it while paired with them."""
    by_member = {c.user_id: c for c in people.values() if c.user_id is not None}

    def mentor(user_id: int) -> Candidate:
        if user_id not in by_member:
            by_member[user_id] = people[("member", user_id)] = Candidate(user_id=user_id)
        return by_member[user_id]

    answered = session.execute(
        select(Pairing.mentor_id, func.count(), func.min(CheckIn.answered_at))
        .join(Pairing, Pairing.id == CheckIn.pairing_id)
        .where(
            Pairing.guild_id == guild_id,
            Pairing.mentor_id.is_not(None),
            CheckIn.stage.like("mentor-%"),
            CheckIn.answered_at >= since,
            CheckIn.answered_at < until,
        )
        .group_by(Pairing.mentor_id)
    ).all()
    for mentor_id, count, first in answered:
        assert mentor_id is not None  # selected so
        assert first is not None
        found = mentor(mentor_id)
        found.check_ins = count
        found.active(first)

    shown = list(shown_repositories(session, settings.github))
    mentees = select(Member.github_user_id).where(
        Member.guild_id == guild_id,
        Member.github_verified.is_(True),
        Member.user_id.in_(select(Pairing.mentee_id).where(Pairing.guild_id == guild_id)),
    )
    # Each mentee's first pull request ever, by the author index.
    first_pr = (
        select(GitHubIssue.author_id, func.min(GitHubIssue.created_at).label("opened"))
        .where(
            GitHubIssue.author_id.in_(mentees),
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.removed.is_(None),
            GitHubIssue.repository_id.in_(shown),
        )
        .group_by(GitHubIssue.author_id)
        .subquery()
    )
    reached = session.execute(
        select(Pairing.mentor_id, Pairing.mentee_id, first_pr.c.opened)
        .join(
            Member,
            and_(
                Member.guild_id == Pairing.guild_id,
                Member.user_id == Pairing.mentee_id,
                Member.github_verified.is_(True),
            ),
        )
        .join(first_pr, first_pr.c.author_id == Member.github_user_id)
        .where(
            Pairing.guild_id == guild_id,
            Pairing.mentor_id.is_not(None),
            Pairing.matched_at.is_not(None),
            first_pr.c.opened >= since,
            first_pr.c.opened < until,
            first_pr.c.opened >= Pairing.matched_at,
            or_(Pairing.ended_at.is_(None), first_pr.c.opened <= Pairing.ended_at),
        )
        .order_by(first_pr.c.opened, Pairing.id)
    ).all()
    for mentor_id, mentee_id, opened in reached:
        found = mentor(mentor_id)
        if mentee_id not in found.mentees:
            found.mentees.append(mentee_id)
        found.active(opened)

    # A mentor with no other work shows their verified GitHub login.
    name_from_links(session, guild_id, by_member.values())


# --- the announcement and the role -----------------------------------------------------------


def key(guild_id: int, month: date) -> str:
    return f"recognition:champions:{guild_id}:{month:%Y-%m}"


def question(configured: RecognitionSettings, month: date) -> str:
    day = post_time(configured, month)
    return (
        f"🏆 You may be named one of the community's Community Champions of {month:%B %Y}, "
        f"announced on {day:%A} {day.day} {day:%B}: your name, avatar, GitHub link, what you "
        "did (mentoring included) and kudos you received."
    )


async def ask(
    session: AsyncSession, settings: Settings, guild_id: int, found: Champions, now: datetime
) -> int:
    configured = section(settings)
    asked_for = post_time(configured, found.month).date()
    text = question(configured, found.month)
    asked = 0
    for user_id in found.to_ask:
        asked += await consent.ask(session, guild_id, user_id, asked_for, now, text)
    return asked


def payload(configured: RecognitionSettings, found: Champions) -> dict[str, object]:
    role = (
        f" They hold the <@&{configured.champion_role_id}> role this month."
        if configured.champion_role_id is not None
        else ""
    )
    return {
        "content": f"🏆 **Community Champions** of {found.month:%B %Y}: thank you for "
        f"everything you did for the community this month!{role}",
        "embeds": [person_embed(champion, "🏆") for champion in found.champions],
        # Named, not pinged; the role is shown, not pinged either.
        "mentions": [],
    }


async def announce(
    session: AsyncSession, settings: Settings, guild_id: int, found: Champions, now: datetime
) -> bool:
    """Decide the month: announce its champions, record them and move the champion role
    (given to them, taken from the previous champions who are not champions again); those
    still to be asked are asked now, for next time. False if the month was decided already."""
    configured = section(settings)
    status = "posted" if found.champions else "empty"
    inserted = await session.execute(
        insert_for(session)(ChampionsMonth)
        .values(guild_id=guild_id, month=found.month, status=status, at=now)
        .on_conflict_do_nothing(index_elements=["guild_id", "month"])
    )
    if not getattr(inserted, "rowcount", 0):
        return False
    await ask(session, settings, guild_id, found, now)
    if found.champions:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=key(guild_id, found.month),
            target_kind="channel",
            target_id=configured.champions_channel_id or configured.spotlight_channel_id,
            payload=payload(configured, found),
            now=now,
        )
    for position, champion in enumerate(found.champions, 1):
        assert champion.user_id is not None  # champions are members
        session.add(
            Champion(
                guild_id=guild_id,
                month=found.month,
                user_id=champion.user_id,
                github_user_id=champion.github_id,
                position=position,
                score=champion.points(MONTH_CAP),
            )
        )
    await session.flush()
    if configured.champion_role_id is not None:
        await _move_role(session, guild_id, configured.champion_role_id, found, now)
    return True


async def _move_role(
    session: AsyncSession, guild_id: int, role_id: int, found: Champions, now: datetime
) -> None:
    """The role goes to this month's champions and from the last champions before them who
    are not champions again; each change has its own key, so it is made once."""
    current = {c.user_id for c in found.champions}
    last = await session.scalar(
        select(func.max(Champion.month)).where(
            Champion.guild_id == guild_id, Champion.month < found.month
        )
    )
    before = (
        set(
            await session.scalars(
                select(Champion.user_id).where(
                    Champion.guild_id == guild_id, Champion.month == last
                )
            )
        )
        if last is not None
        else set()
    )
    month = f"{found.month:%Y-%m}"
    changes = [(user_id, False) for user_id in sorted(before - current)] + [
        (c.user_id, True) for c in found.champions if c.user_id is not None
    ]
    for user_id, give in changes:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"recognition:champion-role:{guild_id}:{month}:{user_id}:"
            + ("give" if give else "take"),
            target_kind="role",
            target_id=user_id,
            payload={
                "role_id": role_id,
                "remove": not give,
                "reason": f"Community Champion of {found.month:%B %Y}"
                if give
                else f"Community Champions of {found.month:%B %Y} announced",
            },
            now=now,
        )


def grace_passed(configured: RecognitionSettings, month: date, now: datetime) -> bool:
    """An announcement missed (the bot was down) is still made within GRACE of its time."""
    return now - post_time(configured, month) > GRACE


def asking_from(configured: RecognitionSettings, month: date) -> datetime:
    return post_time(configured, month) - timedelta(hours=configured.ask_hours_before)
