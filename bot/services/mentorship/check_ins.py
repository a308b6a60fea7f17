# SPDX-License-Identifier: Apache-2.0
"""A pairing's life after the match: check-ins, the mentee's own check, review nudges, alerts.

Everything here is computed from the database by the feature's periodic job, so a restart,
an outage or a second bot process neither loses nor repeats a ping: each question is a
:class:`CheckIn` row written in the same transaction as its outbox promise, whose key names
the pairing and the stage.

- Check-ins ask the mentor on the configured days ("Talked", "No answer", "Need help"), with
  what the history says about the mentee. Only the latest due one is asked, so a bot that was
  down for days does not send a backlog.
- Two check-ins in a row answered "No answer", or left unanswered until the next one is due,
  hand the mentee over to another mentor.
- On the mentee's check day they are asked "How is it going?"; "Stuck" alerts the mentor.
- A mentee's pull request that has waited longer than the configured hours for a first review
  nudges the mentor, once per pull request.
- "Need help" alerts the organisers.
- The mentee's first merged pull request, if it comes during the pairing, is celebrated
  where the two talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import CheckIn, GitHubIssue, GitHubReview, Pairing
from bot.errors import DomainError
from bot.outbox import promise
from bot.services import members
from bot.services.history import shown_repositories
from bot.services.mentorship import (
    NAME,
    hand_over,
    mentee_state,
    program_settings,
    say_to_pair,
)
from bot.text import escape, link, timestamp

# The answers a mentor gives at a check-in, and a mentee at theirs, as button labels.
MENTOR_ANSWERS = {"talked": "Talked", "no_answer": "No answer", "need_help": "Need help"}
MENTEE_ANSWERS = {"good": "Good", "stuck": "Stuck"}
UNANSWERED = (None, "no_answer")


def mentor_of(pairing: Pairing) -> int:
    assert pairing.mentor_id is not None  # an active pairing has its mentor
    return pairing.mentor_id


def mentor_stage(day: int) -> str:
    return f"mentor-{day}"


def mentee_stage(day: int) -> str:
    return f"mentee-{day}"


async def tend_pairings(
    session: AsyncSession, settings: Settings, guild_id: int, now: datetime
) -> None:
    """Ask what is due for every active pairing (the periodic job, after matching)."""
    pairings = await session.scalars(
        select(Pairing).where(Pairing.guild_id == guild_id, Pairing.status == "active")
    )
    shown = await session.run_sync(shown_repositories, settings.github)
    for pairing in pairings.all():
        if await _check_in(session, settings, pairing, shown, now):
            continue  # handed over: the new pairing starts from its own match
        await _mentee_check(session, settings, pairing, now)
        await _review_nudges(session, settings, pairing, shown, now)
        await _first_merge(session, settings, pairing, shown, now)


async def _asked(session: AsyncSession, pairing_id: int) -> list[CheckIn]:
    rows = await session.scalars(
        select(CheckIn).where(CheckIn.pairing_id == pairing_id).order_by(CheckIn.asked_at)
    )
    return list(rows.all())


async def _check_in(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    shown: dict[int, str],
    now: datetime,
) -> bool:
    """Ask the mentor the latest due check-in; True if the pairing was handed over instead."""
    assert pairing.matched_at is not None
    section = program_settings(settings)
    due = [day for day in section.check_in_days if pairing.matched_at + timedelta(days=day) <= now]
    if not due:
        return False
    mentor, stage = mentor_of(pairing), mentor_stage(max(due))
    asked = [row for row in await _asked(session, pairing.id) if row.stage.startswith("mentor-")]
    if any(row.stage == stage for row in asked):
        return False
    if len(asked) >= 2 and all(row.answer in UNANSWERED for row in asked[-2:]):
        await hand_over(session, settings, pairing, "unanswered", now)
        return True
    session.add(CheckIn(pairing_id=pairing.id, stage=stage, asked_at=now))
    context = await _context(session, pairing, shown, now)
    day = max(due)
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:check-in:{pairing.id}:{stage}",
        target_kind="dm",
        target_id=mentor,
        payload={
            "content": f"**Check-in, day {day} with <@{pairing.mentee_id}>**\n{context}\n\n"
            "How is it going? Your answer only goes to the bot; *Need help* tells the "
            "organisers.",
            "buttons": _buttons(pairing.id, stage, MENTOR_ANSWERS),
        },
        now=now,
    )
    return False


def _buttons(pairing_id: int, stage: str, answers: dict[str, str]) -> list[dict[str, str]]:
    styles = {"talked": "success", "good": "success", "need_help": "danger", "stuck": "danger"}
    return [
        {
            "label": label,
            "custom_id": f"mentorship:answer:{pairing_id}:{stage}:{answer}",
            "style": styles.get(answer, "secondary"),
        }
        for answer, label in answers.items()
    ]


async def _context(
    session: AsyncSession, pairing: Pairing, shown: dict[int, str], now: datetime
) -> str:
    """What the history says about the mentee, for their mentor."""
    state = await mentee_state(session, pairing, now)
    lines = [
        "Working on: "
        + (f"{state.claim.link} {state.claim.shown_title}" if state.claim else "no issue claimed"),
        f"Pull requests opened: {state.pull_requests}",
    ]
    for pull in await waiting_for_review(session, pairing, shown, now):
        lines.append(f"⏳ {pull.link} has waited {_hours(pull.waited)} for a first review")
    lines.append(
        "Last activity: "
        + (timestamp(state.last_activity, "R") if state.last_activity else "none yet")
    )
    return "\n".join(lines)


def _hours(waited: timedelta) -> str:
    hours = int(waited.total_seconds() // 3600)
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


@dataclass(frozen=True)
class Waiting:
    """A mentee's pull request waiting for its first review."""

    repository_id: int
    number: int
    link: str
    waited: timedelta


async def waiting_for_review(
    session: AsyncSession, pairing: Pairing, shown: dict[int, str], now: datetime
) -> list[Waiting]:
    """The mentee's open pull requests nobody else has reviewed yet, with how long each has
    waited (from when it was opened), in ``shown``: the repositories whose issues Discord may
    show (bot.services.history.shown_repositories)."""
    mentee = await session.run_sync(members.current, pairing.guild_id, pairing.mentee_id)
    if mentee.github_user_id is None or not mentee.github_verified:
        return []
    reviewed = (
        select(GitHubReview.id)
        .where(
            GitHubReview.repository_id == GitHubIssue.repository_id,
            GitHubReview.number == GitHubIssue.number,
            # A deleted account's review (no reviewer any more) was someone else's too.
            or_(
                GitHubReview.reviewer_id.is_(None),
                GitHubReview.reviewer_id != mentee.github_user_id,
            ),
        )
        .exists()
    )
    rows = await session.scalars(
        select(GitHubIssue).where(
            GitHubIssue.author_id == mentee.github_user_id,
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.state == "open",
            GitHubIssue.draft.is_(False),
            GitHubIssue.removed.is_(None),
            ~reviewed,
        )
    )
    return [
        Waiting(
            pull.repository_id,
            pull.number,
            link(f"{shown[pull.repository_id]}#{pull.number}", pull.html_url),
            now - pull.created_at,
        )
        for pull in rows.all()
        if pull.repository_id in shown
    ]


async def _mentee_check(
    session: AsyncSession, settings: Settings, pairing: Pairing, now: datetime
) -> None:
    assert pairing.matched_at is not None
    day = program_settings(settings).mentee_check_day
    if not day or pairing.matched_at + timedelta(days=day) > now:
        return
    stage = mentee_stage(day)
    if await session.get(CheckIn, (pairing.id, stage)) is not None:
        return
    session.add(CheckIn(pairing_id=pairing.id, stage=stage, asked_at=now))
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:check-in:{pairing.id}:{stage}",
        target_kind="dm",
        target_id=pairing.mentee_id,
        payload={
            "content": f"How is it going with <@{pairing.mentor_id}>? Whatever you answer is "
            "fine: *Stuck* lets them know you'd like a hand.",
            "buttons": _buttons(pairing.id, stage, MENTEE_ANSWERS),
        },
        now=now,
    )


async def _review_nudges(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    shown: dict[int, str],
    now: datetime,
) -> None:
    hours = program_settings(settings).review_nudge_hours
    if not hours:
        return
    for pull in await waiting_for_review(session, pairing, shown, now):
        if pull.waited < timedelta(hours=hours):
            continue
        await promise(
            session,
            feature=NAME,
            guild_id=pairing.guild_id,
            key=f"mentorship:review-nudge:{pairing.id}:{pull.repository_id}:{pull.number}",
            target_kind="dm",
            target_id=mentor_of(pairing),
            payload={
                "content": f"<@{pairing.mentee_id}>'s pull request {pull.link} has waited "
                f"{_hours(pull.waited)} for a first review. A word to the maintainers, or a review "
                "of your own, keeps them going."
            },
            now=now,
        )


async def _first_merge(
    session: AsyncSession,
    settings: Settings,
    pairing: Pairing,
    shown: dict[int, str],
    now: datetime,
) -> None:
    """Celebrate the mentee's first merged pull request ever, if it was merged during this
    pairing (once per mentee: a handed-over mentee's new pairing does not repeat it)."""
    assert pairing.matched_at is not None
    mentee = await session.run_sync(members.current, pairing.guild_id, pairing.mentee_id)
    if mentee.github_user_id is None or not mentee.github_verified:
        return
    first = await session.scalar(
        select(GitHubIssue)
        .where(
            GitHubIssue.author_id == mentee.github_user_id,
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.merged.is_(True),
            GitHubIssue.removed.is_(None),
            GitHubIssue.repository_id.in_(shown),
        )
        .order_by(GitHubIssue.merged_at)
        .limit(1)
    )
    if first is None or first.merged_at is None or first.merged_at < pairing.matched_at:
        return
    pull = link(f"{shown[first.repository_id]}#{first.number}", first.html_url)
    await say_to_pair(
        session,
        settings,
        pairing,
        key=f"mentorship:first-merge:{pairing.guild_id}:{pairing.mentee_id}",
        payload={
            "content": f"🎉 <@{pairing.mentee_id}>'s first pull request is merged: {pull} "
            f"{escape(first.title)}. <@{pairing.mentor_id}>, thank you for helping them get "
            "here!",
            "mentions": [pairing.mentee_id, pairing.mentor_id],
        },
        now=now,
    )


async def answer(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    pairing_id: int,
    stage: str,
    answer: str,
    user_id: int,
    now: datetime,
) -> str:
    """Record an answer to a check-in, and say what it set off to the person who gave it (a
    button's custom id carries all but the person, so everything it says is checked against
    the database)."""
    pairing = await session.get(Pairing, pairing_id)
    check_in = await session.get(CheckIn, (pairing_id, stage))
    if pairing is None or check_in is None or pairing.guild_id != guild_id:
        raise DomainError("That check-in doesn't exist (any more).")
    mentor_side = stage.startswith("mentor-")
    answers = MENTOR_ANSWERS if mentor_side else MENTEE_ANSWERS
    who = pairing.mentor_id if mentor_side else pairing.mentee_id
    if user_id != who or answer not in answers:
        raise DomainError("This check-in is for someone else.")
    if pairing.status != "active":
        raise DomainError("This pairing has ended; thank you all the same.")
    check_in.answer, check_in.answered_at = answer, now
    if answer == "need_help":
        await _alert_organisers(session, settings, pairing, stage, now)
        return "Thanks for saying so: the organisers have been told and will reach out."
    if answer == "stuck":
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"mentorship:stuck:{pairing.id}:{stage}",
            target_kind="dm",
            target_id=mentor_of(pairing),
            payload={
                "content": f"<@{pairing.mentee_id}> says they're stuck. A quick message "
                "asking where, or a short call, usually gets things moving again.",
                "mentions": [pairing.mentee_id],
            },
            now=now,
        )
        return f"Thanks! <@{pairing.mentor_id}> knows and will get in touch."
    if answer == "no_answer":
        asked = [r for r in await _asked(session, pairing.id) if r.stage.startswith("mentor-")]
        # The latest check-in still open is not ignored yet: a late "No answer" to an older
        # one waits for it (the periodic job hands over if it stays open).
        if len(asked) >= 2 and asked[-1].answer == "no_answer" and asked[-2].answer in UNANSWERED:
            await hand_over(session, settings, pairing, "unanswered", now)
            return (
                "Thanks for trying. After two check-ins without an answer, "
                f"<@{pairing.mentee_id}> is being matched with someone else."
            )
        return "Noted. A friendly nudge in your thread may help; no pressure."
    return "Great, thanks for checking in!"


async def _alert_organisers(
    session: AsyncSession, settings: Settings, pairing: Pairing, stage: str, now: datetime
) -> None:
    section = program_settings(settings)
    organisers = settings.admin.organiser_role_id if settings.admin else None
    await promise(
        session,
        feature=NAME,
        guild_id=pairing.guild_id,
        key=f"mentorship:need-help:{pairing.id}:{stage}",
        target_kind="channel",
        target_id=section.organisers_channel_id or section.mentors_channel_id,
        payload={
            "content": (f"<@&{organisers}> " if organisers else "")
            + f"<@{pairing.mentor_id}> asked for help with their mentee <@{pairing.mentee_id}> "
            f"at the day-{stage.removeprefix('mentor-')} check-in. A word with them both is "
            "the next step.",
            "mention_roles": [organisers] if organisers else [],
        },
        now=now,
    )
