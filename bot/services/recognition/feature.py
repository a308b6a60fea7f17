# SPDX-License-Identifier: Apache-2.0
"""The recognition feature's declaration (bot/feature.py) and its job: consent asked ahead
of the week's spotlight, then the post at its time (bot/services/recognition/spotlight.py);
likewise each month's Community Champions (champions.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Periodic, Permission
from bot.services.recognition import NAME, champions, section, spotlight

# The spotlight is posted within this long of its time; a run that finds the week decided
# and the questions not yet due reads one row.
JOB_INTERVAL = timedelta(minutes=10)


def discord_permissions(settings: Settings) -> Permission:
    """Posting the spotlight and the champions; moving the champion role, if there is one."""
    configured = section(settings)
    if configured.champions and configured.champion_role_id is not None:
        return POST_IN_CHANNELS | Permission.MANAGE_ROLES
    return POST_IN_CHANNELS


async def run_spotlight(context: Context) -> None:
    """Post the week's spotlight once its time has come (within the grace), and ask for
    consent once the next one is ``ask_hours_before`` away; the week's history is read off
    the event loop."""
    settings, guild_id, now = context.settings, context.guild_id, context.clock.now()
    configured = section(settings)
    last = spotlight.latest_post(configured, now)
    coming = last + spotlight.WEEK
    async with context.sessions() as session:
        due = now - last <= spotlight.GRACE and (
            await spotlight.decided(session, guild_id, last.date()) is None
        )
        asking = now >= coming - timedelta(hours=configured.ask_hours_before) and (
            await spotlight.decided(session, guild_id, coming.date()) is None
        )
    if due:
        found = await context.read(
            lambda session: spotlight.candidates(session, settings, guild_id, last.date(), now)
        )
        async with context.sessions.begin() as session:
            await spotlight.post(session, settings, guild_id, found, now)
    if asking:
        ahead = await context.read(
            lambda session: spotlight.candidates(session, settings, guild_id, coming.date(), now)
        )
        if ahead.to_ask:
            async with context.sessions.begin() as session:
                await spotlight.ask(session, guild_id, ahead, now)
    if configured.champions:
        await run_champions(context)


async def run_champions(context: Context) -> None:
    """Announce the month's champions once their time has come (within the grace), and ask
    for consent once the next announcement is ``ask_hours_before`` away."""
    settings, guild_id, now = context.settings, context.guild_id, context.clock.now()
    configured = section(settings)
    last = champions.latest_month(configured, now)
    coming = champions.next_month(last)
    async with context.sessions() as session:
        due = not champions.grace_passed(configured, last, now) and (
            await champions.decided(session, guild_id, last) is None
        )
        asking = now >= champions.asking_from(configured, coming) and (
            await champions.decided(session, guild_id, coming) is None
        )
    if due:
        found = await context.read(
            lambda session: champions.candidates(session, settings, guild_id, last, now)
        )
        async with context.sessions.begin() as session:
            await champions.announce(session, settings, guild_id, found, now)
    if asking:
        ahead = await context.read(
            lambda session: champions.candidates(session, settings, guild_id, coming, now)
        )
        if ahead.to_ask:
            async with context.sessions.begin() as session:
                await champions.ask(session, settings, guild_id, ahead, now)


FEATURE = Feature(
    NAME,
    jobs=(Periodic(NAME, JOB_INTERVAL, run_spotlight),),
    promises=frozenset({"dm", "channel", "role"}),
    discord_permissions=discord_permissions,
)
