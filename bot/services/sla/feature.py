# SPDX-License-Identifier: Apache-2.0
"""The service-level feature's declaration (bot/feature.py) and its periodic job: the pings
(bot/services/sla/pings.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services import sla
from bot.services.sla import pings

# Items reach their notice, breach and rounds by time alone; a stage falls due at most this
# long before it is promised.
JOB_INTERVAL = timedelta(minutes=5)


def discord_permissions(settings: Settings) -> Permission:
    """Posting in the triage channel."""
    return POST_IN_CHANNELS


async def run_pings(context: Context) -> None:
    now = context.clock.now()
    async with context.sessions.begin() as session:
        await pings.tend(session, context.settings, context.guild_id, now)


FEATURE = Feature(
    sla.NAME,
    jobs=(Periodic(sla.NAME, JOB_INTERVAL, run_pings),),
    promises=frozenset({"channel"}),
    discord_permissions=discord_permissions,
)
