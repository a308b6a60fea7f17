# SPDX-License-Identifier: Apache-2.0
"""The service-level feature's declaration (bot/feature.py) and its daily digest job."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services import sla
from bot.services.sla.digest import post_digest

# The digest is posted within this long of its configured time; a run before that time, or
# once today's is promised, reads at most one outbox row.
DIGEST_INTERVAL = timedelta(minutes=1)


def discord_permissions(settings: Settings) -> Permission:
    """Posting in the triage channel."""
    return POST_IN_CHANNELS


async def run_digest(context: Context) -> None:
    async with context.sessions.begin() as session:
        await post_digest(session, context.settings, context.guild_id, context.clock.now())


FEATURE = Feature(
    sla.NAME,
    jobs=(Periodic("sla-digest", DIGEST_INTERVAL, run_digest),),
    promises=frozenset({"channel"}),
    discord_permissions=discord_permissions,
)
