# SPDX-License-Identifier: Apache-2.0
"""The mentorship feature's declaration (bot/feature.py) and its periodic job."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services import mentorship
from bot.services.mentorship import check_ins, wrap_up

# What time alone changes is noticed this often: pauses and pairings that end, check-ins
# and nudges that fall due. The queue is also served at once whenever a place frees
# through a command.
JOB_INTERVAL = timedelta(minutes=10)


def discord_permissions(settings: Settings) -> Permission:
    """Asking the mentors' channel for help, and private threads for the pairings (which the
    bot archives when they close)."""
    section = settings.mentorship
    assert section is not None  # asked only of an enabled feature
    needed = POST_IN_CHANNELS
    if section.thread_channel_id is not None:
        needed |= (
            Permission.CREATE_PRIVATE_THREADS
            | Permission.SEND_MESSAGES_IN_THREADS
            | Permission.MANAGE_THREADS
        )
    return needed


async def run_schedule(context: Context) -> None:
    """Pauses that end and the queue; what each pairing has due; pairings that end."""
    now = context.clock.now()
    async with context.sessions.begin() as session:
        await mentorship.tend(session, context.settings, context.guild_id, now)
        await check_ins.tend_pairings(session, context.settings, context.guild_id, now)
        await wrap_up.tend_wrap_ups(session, context.settings, context.guild_id, now)


FEATURE = Feature(
    mentorship.NAME,
    jobs=(Periodic("mentorship", JOB_INTERVAL, run_schedule),),
    promises=frozenset({"dm", "channel", "thread", "archive"}),
    discord_permissions=discord_permissions,
)
