# SPDX-License-Identifier: Apache-2.0
"""The service-level feature's declaration (bot/feature.py) and its periodic jobs: the pings
(bot/services/sla/pings.py) and the daily digest (bot/services/sla/digest.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services import sla
from bot.services.sla import digest, pings, store
from bot.services.sla.report import status
from bot.services.sla.scan import open_waits

# Items reach their notice, breach and rounds by time alone; a stage falls due at most this
# long before it is promised.
JOB_INTERVAL = timedelta(minutes=5)
# The digest is posted within this long of its configured time; a run before that time, or
# once today's is promised, reads at most one outbox row.
DIGEST_INTERVAL = timedelta(minutes=1)


def discord_permissions(settings: Settings) -> Permission:
    """Posting in the triage channel."""
    return POST_IN_CHANNELS


async def run_pings(context: Context) -> None:
    """Bring the kept waits up to date, read them, and ping; the clocks run off the event
    loop."""
    now, settings = context.clock.now(), context.settings
    recomputed = await context.read(lambda session: store.recompute(session, settings))
    async with context.sessions.begin() as session:
        await session.run_sync(store.keep, recomputed)
    found = await context.read(lambda session: open_waits(session, settings, now))
    async with context.sessions.begin() as session:
        await pings.tend(session, settings, context.guild_id, found, now)


async def run_digest(context: Context) -> None:
    """Today's digest once its time has passed, its report read off the event loop."""
    now, settings, guild_id = context.clock.now(), context.settings, context.guild_id
    async with context.sessions() as session:
        day = await digest.due(session, settings, guild_id, now)
    if day is None:
        return
    report = await context.read(lambda session: status(session, settings, now))
    async with context.sessions.begin() as session:
        await digest.post(session, settings, guild_id, day, report, now)


FEATURE = Feature(
    sla.NAME,
    jobs=(
        Periodic(sla.NAME, JOB_INTERVAL, run_pings),
        Periodic("sla-digest", DIGEST_INTERVAL, run_digest),
    ),
    promises=frozenset({"channel"}),
    discord_permissions=discord_permissions,
)
