# SPDX-License-Identifier: Apache-2.0
"""Consent to being featured by name (docs/recognition.md, "Consent").

The first time someone would appear in a spotlight they are asked privately, ahead of the
post, with three buttons: Yes (from now on), Not this time (this week only; asked again the
next time they would appear) and Never. Yes and Never are standing choices
(``recognition_consent``), as are `/spotlight opt-in` and `opt-out`, which anyone may use at
any time; each takes effect for the next post. A question left unanswered is not asked
again; what it means is ``recognition.silence`` (by default: not featured).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import insert_for
from bot.db.models import Consent, ConsentAsk, SpotlightWeek
from bot.errors import DomainError
from bot.outbox import promise
from bot.services.recognition import NAME

Answer = Literal["yes", "not_now", "never"]
ANSWERS: dict[str, str] = {"yes": "Yes", "not_now": "Not this time", "never": "Never"}
STYLES = {"yes": "success", "not_now": "secondary", "never": "danger"}


def week_id(week: date) -> str:
    """A week in a custom id: its post date as eight digits."""
    return week.strftime("%Y%m%d")


def parse_week(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise DomainError("This question isn't one I asked.") from None


def spotlight_question(week: date) -> str:
    return (
        "🌟 Your work this week may be featured in the community's weekly "
        f"spotlight on {week:%A} {week.day} {week:%B}: your name, avatar, GitHub link, "
        "what you did and kudos you received."
    )


async def ask(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    week: date,
    now: datetime,
    question: str | None = None,
) -> bool:
    """Ask the member ahead of the post of ``week`` (a spotlight's date, or the champions'),
    ``question`` saying what it is (by default the spotlight); False if they were asked for
    that date already: one question a day covers a spotlight and champions on one date."""
    inserted = await session.execute(
        insert_for(session)(ConsentAsk)
        .values(guild_id=guild_id, user_id=user_id, week=week, asked_at=now)
        .on_conflict_do_nothing(index_elements=["guild_id", "user_id", "week"])
    )
    if not getattr(inserted, "rowcount", 0):
        return False
    await promise(
        session,
        feature=NAME,
        guild_id=guild_id,
        key=f"recognition:consent:{guild_id}:{week.isoformat()}:{user_id}",
        target_kind="dm",
        target_id=user_id,
        payload={
            "content": (question or spotlight_question(week)) + " Is that all right with you?\n"
            "-# **Yes** and **Never** stand until you change them with `/spotlight opt-in` "
            "or `/spotlight opt-out`; **Not this time** is for this post only. Without an "
            "answer you're not featured.",
            "buttons": [
                {
                    "label": label,
                    "custom_id": f"recognition:consent:{week_id(week)}:{user_id}:{answer}",
                    "style": STYLES[answer],
                }
                for answer, label in ANSWERS.items()
            ],
        },
        now=now,
    )
    return True


async def answer(
    session: AsyncSession,
    guild_id: int,
    *,
    week: date,
    asked_id: int,
    user_id: int,
    given: str,
    now: datetime,
) -> str:
    """Record a click on the question; returns what to say under it. The custom id's parts
    are checked: a forged one is refused kindly and records nothing."""
    if user_id != asked_id:
        raise DomainError("This question is for someone else.")
    if given not in ANSWERS:
        raise DomainError("That isn't one of the answers I offered.")
    row = await session.get(ConsentAsk, (guild_id, user_id, week))
    if row is None:
        raise DomainError("I didn't ask you that; nothing has changed.")
    row.answer, row.answered_at = given, now
    if given != "not_now":
        await _choose(session, guild_id, user_id, "yes" if given == "yes" else "no", now)
    done = await session.get(SpotlightWeek, (guild_id, week))
    later = (
        " This week's spotlight is already decided, so it counts from the next one."
        if done is not None and given != "not_now"
        else ""
    )
    if given == "yes":
        return (
            # One standing answer for the spotlight, the champions and the newsletter.
            "Thank you! You may be featured by name when the community thanks its contributors."
            + later
            + (" `/spotlight opt-out` changes your mind at any time.")
        )
    if given == "not_now":
        return "Understood: not this time. You'll be asked again the next time."
    return "Understood: you won't be featured. `/spotlight opt-in` changes it." + later


async def _choose(
    session: AsyncSession, guild_id: int, user_id: int, choice: str, now: datetime
) -> None:
    row = await session.get(Consent, (guild_id, user_id))
    if row is None:
        session.add(Consent(guild_id=guild_id, user_id=user_id, choice=choice, changed_at=now))
    else:
        row.choice, row.changed_at = choice, now
    await session.flush()


async def opt(
    session: AsyncSession, guild_id: int, user_id: int, featured: bool, now: datetime
) -> None:
    """`/spotlight opt-in` (``featured``) or `opt-out`: from the next post on."""
    await _choose(session, guild_id, user_id, "yes" if featured else "no", now)
