# SPDX-License-Identifier: Apache-2.0
"""The daily digest in the triage channel (docs/sla.md, "Status and digest"): once the local
time in ``sla.time_zone`` has passed ``sla.digest_time``, the report of every repository
(bot/services/sla/report.py), once per local date.

The outbox key names the guild and the local date, so a second run, a second process or a
restart promises nothing new; after days of downtime only today's digest is posted (a
backlog of old reports would help nobody). Posted even when nothing is late ("All within
target"): the maintainers see the shares, and that the bot is watching. In business-days
mode there is none on weekends and holidays, when no clock runs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import delivered, promise
from bot.services import sla
from bot.services.sla.clocks import Calendar
from bot.services.sla.report import Report, embed
from bot.services.sla.scan import section


def due_date(settings: Settings, now: datetime) -> date | None:
    """The local date whose digest is due at ``now``: today's once digest_time has passed
    (if today has one); else None."""
    configured = section(settings)
    calendar = Calendar.of(configured)
    local = now.astimezone(calendar.zone)
    if not configured.digest or local.time() < configured.digest_at:
        return None
    if configured.business_days and not calendar.is_business_day(local.date()):
        return None
    return local.date()


def key(guild_id: int, day: date) -> str:
    return f"sla:digest:{guild_id}:{day.isoformat()}"


async def due(
    session: AsyncSession, settings: Settings, guild_id: int, now: datetime
) -> date | None:
    """The local date whose digest is due and not promised yet, if any: checked before the
    report is read, which is the costly part."""
    day = due_date(settings, now)
    if day is None or await delivered(session, key(guild_id, day)) is not None:
        return None
    return day


async def post(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    day: date,
    report: Report,
    now: datetime,
) -> bool:
    """Promise the digest of ``day``; False if it was promised already."""
    title = f"Service levels: daily digest for {day:%A} {day.day} {day:%B %Y}"
    return await promise(
        session,
        feature=sla.NAME,
        guild_id=guild_id,
        key=key(guild_id, day),
        target_kind="channel",
        target_id=section(settings).triage_channel_id,
        payload={"embeds": [embed(report, title)]},
        now=now,
    )
