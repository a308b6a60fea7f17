# SPDX-License-Identifier: Apache-2.0
"""The service-level feature's declaration (bot/feature.py) and its periodic job: the pings
(bot/services/sla/pings.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services import sla
from bot.services.sla import pings, store
from bot.services.sla.scan import open_waits

# Items reach their notice, breach and rounds by time alone; a stage falls due at most this
# long before it is promised.
JOB_INTERVAL = timedelta(minutes=5)


def discord_permissions(settings: Settings) -> Permission:
    """Posting in the triage channel."""
    return POST_IN_CHANNELS


async def run_pings(context: Context) -> None:
    """Bring the kept waits up to date, read them off the event loop, and ping."""
    now, settings = context.clock.now(), context.settings
    async with context.sessions.begin() as session:
        await session.run_sync(store.refresh, settings)
    found = await context.read(lambda session: open_waits(session, settings, now))
    async with context.sessions.begin() as session:
        await pings.tend(session, settings, context.guild_id, found, now)


FEATURE = Feature(
    sla.NAME,
    jobs=(Periodic(sla.NAME, JOB_INTERVAL, run_pings),),
    promises=frozenset({"channel"}),
    discord_permissions=discord_permissions,
)
