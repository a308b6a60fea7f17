# SPDX-License-Identifier: Apache-2.0
"""How long the bot keeps what it stores, and what happens when a member leaves.

- Messages the bot delivered, skipped or gave up on are deleted after
  ``retention.outbox_days``; pending ones are kept until they are delivered.
- A member who leaves the server gives back their claims at once (unassigned on GitHub, so
  the issues are free for others), stops mentoring (their mentees are handed over) and
  gives up their own mentor or place in line; nothing more is sent to them; their data
  (the newcomer row, their GitHub link and time zone, their claims, mentoring, kudos and
  consent, what was promised to them) is deleted after ``retention.departed_member_days``,
  unless they come back first. The departure is recorded on the newcomer row: a member who
  never ran `/start` (a mentor or maintainer who used `/link`) has none, and their data is
  deleted as they leave, once their mentees are handed over (without `[mentorship]`, their
  link, time zone and recognition; their mentoring stays as it is); they hold no claims,
  which are the newcomer path's.
- `/privacy forget-me`: the same, at once, for a member who stays: claims given back,
  mentoring ended, nothing more sent, their data deleted (:func:`forget_me`).
- Webhook deliveries are purged by ingestion itself (bot/github/ingest.py), with the same
  section's ``webhook_days`` and ``failed_webhook_days``.

Public GitHub facts (the normalised history) are kept: they are GitHub's, not the member's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    FORGOTTEN,
    Champion,
    CheckIn,
    Consent,
    ConsentAsk,
    Feedback,
    Kudos,
    Member,
    Mentor,
    Newcomer,
    Pairing,
    Promise,
    SlaSnooze,
    SpotlightFeature,
    SpotlightWeek,
)
from bot.feature import Context, Feature, Periodic
from bot.log import get_logger
from bot.services import claims, mentorship

log = get_logger(__name__)

NAME = "retention"
DONE = ("sent", "skipped", "failed")


@dataclass(frozen=True)
class Purged:
    promises: int
    members: int


async def purge(context: Context) -> Purged:
    """Delete what is past its retention; the scheduled job, and `helios-bot purge`."""
    settings, now = context.settings.retention, context.clock.now()
    departed_before = now - timedelta(days=settings.departed_member_days)
    async with context.sessions.begin() as session:
        old = await session.execute(
            delete(Promise)
            .where(
                Promise.status.in_(DONE),
                Promise.created_at < now - timedelta(days=settings.outbox_days),
            )
            .execution_options(synchronize_session=False)
        )
        departed = list(
            await session.scalars(
                select(Newcomer.user_id).where(
                    Newcomer.guild_id == context.guild_id,
                    Newcomer.departed_at.is_not(None),
                    Newcomer.departed_at <= departed_before,
                )
            )
        )
        for user_id in departed:
            await forget(session, context.guild_id, user_id, now)
    purged = Purged(int(getattr(old, "rowcount", 0)), len(departed))
    if purged.promises or purged.members:
        log.info(
            "retention: deleted %d old outbox messages and the data of %d departed members",
            purged.promises,
            purged.members,
        )
    return purged


async def _purge_job(context: Context) -> None:
    await purge(context)


FEATURE = Feature(
    NAME,
    jobs=(Periodic("retention", timedelta(hours=1), _purge_job),),
    enabled=lambda _settings: True,  # [retention] has defaults: the bot always cleans up
)


async def member_left(context: Context, user_id: int) -> None:
    """Free the member's claims and stop what was promised to them; forget them later."""
    now, mentoring = context.clock.now(), context.settings.mentorship is not None
    async with context.sessions.begin() as session:
        await session.execute(
            update(Newcomer)
            .where(
                Newcomer.guild_id == context.guild_id,
                Newcomer.user_id == user_id,
                Newcomer.departed_at.is_(None),
            )
            .values(departed_at=now)
        )
        # Nothing records when a member who never ran /start left (a mentor or maintainer
        # who used /link), so the purge would never come for them: they are forgotten now,
        # once their mentees are handed over. Without the mentor program nothing hands them
        # over, and their mentoring is left as it is.
        never_started = await session.get(Newcomer, (context.guild_id, user_id)) is None
        held = await _let_go(session, context, user_id, "the member left the server")
        if never_started and not mentoring:
            await session.execute(
                delete(Member).where(Member.guild_id == context.guild_id, Member.user_id == user_id)
            )
            await _forget_recognition(session, context.guild_id, user_id)
    for target in held:
        await claims.give_back(context, target)
    if (never_started and mentoring) or context.settings.retention.departed_member_days == 0:
        async with context.sessions.begin() as session:
            await forget(session, context.guild_id, user_id, now)


async def forget_me(context: Context, user_id: int) -> None:
    """`/privacy forget-me`: what happens to a member who leaves, at once and without their
    leaving. Their claims are given back first (while the claim rows still say where), then
    their data is forgotten; what was promised to them is never sent."""
    async with context.sessions.begin() as session:
        held = await _let_go(session, context, user_id, "the member asked to be forgotten")
    for target in held:
        await claims.give_back(context, target)
    async with context.sessions.begin() as session:
        await forget(session, context.guild_id, user_id, context.clock.now())


async def _let_go(
    session: AsyncSession, context: Context, user_id: int, why: str
) -> list[claims.ClaimTarget]:
    """Skip what was promised to the member, end their mentoring (mentees handed over);
    returns their active claims, to give back outside the transaction (GitHub is called)."""
    await session.execute(
        update(Promise)
        .where(_promised_to(context.guild_id, user_id), Promise.status == "pending")
        .values(status="skipped", last_error=why)
        .execution_options(synchronize_session=False)
    )
    if context.settings.mentorship is not None:
        await mentorship.member_left(
            session, context.settings, context.guild_id, user_id, context.clock.now()
        )
    return await claims.active_claims(session, context.guild_id, user_id)


async def member_returned(context: Context, user_id: int) -> None:
    """A member who left came back before their data was deleted: keep it."""
    async with context.sessions.begin() as session:
        await session.execute(
            update(Newcomer)
            .where(Newcomer.guild_id == context.guild_id, Newcomer.user_id == user_id)
            .values(departed_at=None)
        )


async def forget(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> None:
    """Delete the member's Discord-side data: their newcomer row, GitHub link and time zone,
    claims, mentoring, promises, their name on service-level snoozes, and their recognition:
    kudos given and received, consent, and the spotlights and champions that named them."""
    await session.execute(
        delete(Newcomer).where(Newcomer.guild_id == guild_id, Newcomer.user_id == user_id)
    )
    await session.execute(
        delete(Member).where(Member.guild_id == guild_id, Member.user_id == user_id)
    )
    await claims.forget(session, guild_id, user_id)
    await _forget_mentoring(session, guild_id, user_id, now)
    # Their snoozes stay (they hold the pings about an item), without who gave them.
    await session.execute(
        update(SlaSnooze)
        .where(SlaSnooze.guild_id == guild_id, SlaSnooze.user_id == user_id)
        .values(user_id=None)
    )
    await _forget_recognition(session, guild_id, user_id)
    await session.execute(
        delete(Promise)
        .where(_promised_to(guild_id, user_id))
        .execution_options(synchronize_session=False)
    )


async def _forget_mentoring(
    session: AsyncSession, guild_id: int, user_id: int, now: datetime
) -> None:
    """Their mentor profile, their pairings as a mentee with those pairings' check-ins and
    feedback, and their own feedback on others' pairings. Their mentees' pairings stay (the
    mentees' history) without them: no mentor, and no longer naming them among the mentors
    a mentee is not to be given again. What is still under way ends first (it has, unless
    the mentor program was off): an active pairing without a mentor would stall the job."""
    await mentorship.forgotten(session, guild_id, user_id, now)
    await session.execute(
        delete(Mentor).where(Mentor.guild_id == guild_id, Mentor.user_id == user_id)
    )
    guild_pairings = select(Pairing.id).where(Pairing.guild_id == guild_id)
    theirs = guild_pairings.where(Pairing.mentee_id == user_id)
    await session.execute(
        delete(Feedback).where(
            Feedback.pairing_id.in_(guild_pairings),
            or_(Feedback.pairing_id.in_(theirs), Feedback.user_id == user_id),
        )
    )
    await session.execute(delete(CheckIn).where(CheckIn.pairing_id.in_(theirs)))
    await session.execute(
        delete(Pairing).where(Pairing.guild_id == guild_id, Pairing.mentee_id == user_id)
    )
    await session.execute(
        update(Pairing)
        .where(Pairing.guild_id == guild_id, Pairing.mentor_id == user_id)
        .values(mentor_id=None)
    )
    # The JSON lists are read as text to find the few that may hold the id. FORGOTTEN keeps
    # the place: the list still shows that the mentee declined or was handed over once.
    excluding = await session.scalars(
        select(Pairing).where(
            Pairing.guild_id == guild_id,
            cast(Pairing.excluded_mentor_ids, String).contains(str(user_id)),
        )
    )
    for pairing in excluding:
        if user_id in pairing.excluded_mentor_ids:
            pairing.excluded_mentor_ids = [
                FORGOTTEN if excluded == user_id else excluded
                for excluded in pairing.excluded_mentor_ids
            ]
    await session.flush()


async def _forget_recognition(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Kudos they gave or received (the words are theirs or about them), their consent and
    questions, and the spotlights' and champions' record of featuring them. The direct
    messages that told others of their kudos go too (unsent ones are never sent): they hold
    the giver's words."""
    given = list(
        await session.scalars(
            select(Kudos.id).where(Kudos.guild_id == guild_id, Kudos.giver_id == user_id)
        )
    )
    if given:
        await session.execute(
            delete(Promise)
            .where(Promise.key.in_([f"recognition:kudos:{guild_id}:{id_}" for id_ in given]))
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        delete(Kudos).where(
            Kudos.guild_id == guild_id, or_(Kudos.giver_id == user_id, Kudos.receiver_id == user_id)
        )
    )
    for table in (Consent, ConsentAsk, SpotlightFeature, Champion):
        await session.execute(
            delete(table).where(table.guild_id == guild_id, table.user_id == user_id)
        )
    # The weeks an organiser skipped or posted early stay decided, without who did it.
    await session.execute(
        update(SpotlightWeek)
        .where(SpotlightWeek.guild_id == guild_id, SpotlightWeek.by_user_id == user_id)
        .values(by_user_id=None)
    )


def _promised_to(guild_id: int, user_id: int) -> ColumnElement[bool]:
    """Promises addressed to the member: direct messages and roles."""
    return and_(
        Promise.guild_id == guild_id,
        Promise.target_id == user_id,
        Promise.target_kind.in_(("dm", "role")),
    )
