# SPDX-License-Identifier: Apache-2.0
"""The service-level pings (docs/sla.md#pings): what the `sla` job says about the items that
wait on the maintainers, in the triage channel.

For each wait on the maintainers, in order:

- **notice** at 75 % of its target: no pings;
- **breach** at its target: whoever it waits on is mentioned (the requested reviewers, else
  the assignees, if they linked their GitHub account; else this week's triager);
- **repeat-N** every 24 hours after the breach, while it stays unanswered;
- **escalation**: the first of those rounds at or after twice the target also mentions the
  maintainers' role (so people are never pinged twice within 24 hours).

Everything is computed from the database on each run, and each message is an outbox promise
whose key names the item, the wait (its start: a pull request has a wait per review cycle)
and the stage, so a second run, a second process or a restart mid-run promises nothing twice.
Only the latest stage due is said: a bot that was down for days does not post a backlog.
Pings stop by themselves: an answered, closed or snoozed item has no wait the job looks at.

Quiet hours: a person whose local time is in ``sla.quiet_hours`` is named, not pinged, and
pinged by a short message once their morning comes (if the stage is still the latest then).
When everyone a round would ping is quiet, this week's triager is pinged instead if awake.
The maintainers' role at escalation is never held: it is many people, in many time zones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, SlaSettings
from bot.db.models import GitHubUser, Member, Promise
from bot.outbox import promise
from bot.services.history import shown_repositories
from bot.services.sla import NAME, snoozes
from bot.services.sla.clocks import Calendar, Wait, due_at
from bot.services.sla.scan import OpenWait, section
from bot.text import escape, link, timestamp

NOTICE_SHARE = 0.75
# Whoever an item waits on hears of it at most this often.
REPEAT = timedelta(hours=24)
# The rota starts on a Monday (ISO weeks), counted from this one.
FIRST_MONDAY = date(1970, 1, 5)
# Keys per query of the outbox's unique index: well within any database's parameter limit.
CHUNK = 500


# --- when ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a wait reaches its notice, its breach, and the round that escalates it."""

    notice: datetime
    breach: datetime
    # Rounds (the breach, then every REPEAT) before this one; it is the first at or after
    # twice the target.
    escalation_round: int

    @classmethod
    def of(cls, wait: Wait, target: timedelta, calendar: Calendar) -> Schedule | None:
        """None while the wait is paused (a draft): its time does not count then."""
        if wait.paused and wait.paused[-1][1] is None:
            return None
        notice = due_at(wait, target * NOTICE_SHARE, calendar)
        breach = due_at(wait, target, calendar)
        twice = due_at(wait, 2 * target, calendar)
        # A running wait reaches any target.
        assert notice is not None
        assert breach is not None
        assert twice is not None
        return cls(notice, breach, -((breach - twice) // REPEAT))

    def round_at(self, round_: int) -> datetime:
        return self.breach + round_ * REPEAT

    def stage(self, now: datetime, escalated_at: datetime | None) -> str | None:
        """The latest stage due at ``now`` (None: nothing yet). ``escalated_at``: when the
        escalation was promised, if it was: a bot that was down through the escalating round
        escalates at the next round it sees, which then is that round's message."""
        round_ = self.round_of(now)
        if (
            round_ is not None
            and round_ >= self.escalation_round
            and (escalated_at is None or escalated_at >= self.round_at(round_))
        ):
            return "escalation"
        return self.plain_stage(now)

    def plain_stage(self, now: datetime) -> str | None:
        """The latest stage due at ``now`` but for the escalation."""
        if now < self.notice:
            return None
        round_ = self.round_of(now)
        if round_ is None:
            return "notice"
        return "breach" if round_ == 0 else f"repeat-{round_}"

    def round_of(self, now: datetime) -> int | None:
        """The round of pings due at ``now`` (0: the breach); None before the breach."""
        return None if now < self.breach else (now - self.breach) // REPEAT


def key(open_wait: OpenWait, stage: str) -> str:
    """The outbox key of a stage of a wait: the item, the wait's start, the stage."""
    started = int(open_wait.wait.started_at.timestamp())
    return f"{NAME}:{open_wait.repository_id}:{open_wait.number}:{started}:{stage}"


# --- who -----------------------------------------------------------------------------------


def triager(sla: SlaSettings, now: datetime) -> int | None:
    """This week's triager: ``sla.triagers`` in turn, a week each from Monday in the
    community's time zone; None without a rota."""
    if not sla.triagers:
        return None
    today = now.astimezone(ZoneInfo(sla.time_zone)).date()
    return sla.triagers[(today - FIRST_MONDAY).days // 7 % len(sla.triagers)]


@dataclass(frozen=True)
class Hours:
    """Whether a member is in their quiet hours at a moment, by their own UTC offset, else
    the community's time zone."""

    sla: SlaSettings
    offsets: dict[int, int | None]  # Discord user id -> minutes east of UTC, if given

    def _zone(self, user_id: int) -> timezone | ZoneInfo:
        offset = self.offsets.get(user_id)
        if offset is None:
            return ZoneInfo(self.sla.time_zone)
        return timezone(timedelta(minutes=offset))

    def quiet(self, user_id: int, at: datetime) -> bool:
        hours = self.sla.quiet_hours
        return hours is not None and hours.holds(at.astimezone(self._zone(user_id)).time())


@dataclass(frozen=True)
class Addressing:
    """Whom a round mentions: ``pinged`` now (``triager`` among them if the rota stands
    in); ``held``: in their quiet hours, named now and pinged in their morning; ``resting``:
    in their quiet hours, named, while the triager stands in; ``unlinked``: GitHub logins of
    people without a linked account here, named."""

    pinged: tuple[int, ...] = ()
    held: tuple[int, ...] = ()
    resting: tuple[int, ...] = ()
    unlinked: tuple[str, ...] = ()
    triager: int | None = None

    def who(self) -> str:
        names = [f"<@{user}>" for user in self.pinged if user != self.triager]
        if self.triager in self.pinged:
            names.append(f"<@{self.triager}> (this week's triager)")
        names += [f"<@{user}> (quiet hours: pinged in their morning)" for user in self.held]
        names += [f"<@{user}> (quiet hours)" for user in self.resting]
        names += [f"**{escape(login)}** (not linked here)" for login in self.unlinked]
        return ", ".join(names)


def address(
    members: Sequence[int],
    unlinked: Sequence[str],
    on_duty: int | None,
    quiet: Callable[[int, datetime], bool],
    at: datetime,
) -> Addressing:
    """Whom a round at ``at`` mentions: the linked ``members`` it waits on, those awake now;
    the triager ``on_duty`` when none of them is linked, or all of them are quiet."""
    awake = tuple(user for user in members if not quiet(user, at))
    asleep = tuple(user for user in members if quiet(user, at))
    names = tuple(unlinked)
    if awake:
        return Addressing(awake, asleep, unlinked=names)
    if on_duty is None or on_duty in members:
        return Addressing(held=asleep, unlinked=names)
    if quiet(on_duty, at):
        # Nobody awake to stand in: everyone is pinged in their own morning.
        return Addressing(held=asleep or (on_duty,), unlinked=names, triager=on_duty)
    return Addressing((on_duty,), resting=asleep, unlinked=names, triager=on_duty)


# --- the job -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    """A wait past its notice, and where its item is ("owner/repo")."""

    open_wait: OpenWait
    schedule: Schedule
    repository: str


async def tend(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    found: list[OpenWait],
    now: datetime,
) -> None:
    """Promise what is due about every item waiting on the maintainers (the `sla` job), given
    the open waits (``scan.open_waits``, read off the event loop)."""
    sla, calendar = section(settings), Calendar.of(section(settings))
    snoozed = {(s.repository_id, s.number) for s in await session.run_sync(snoozes.active, now)}
    shown = await session.run_sync(shown_repositories, settings.github)
    due: list[_Due] = []
    # First-time contributors' items first, then the longest waiting (open_waits' order).
    for open_wait in sorted(found, key=lambda w: not w.first_time):
        if open_wait.wait.waiting_on != "maintainers" or open_wait.target is None:
            continue
        if (open_wait.repository_id, open_wait.number) in snoozed:
            continue
        schedule = Schedule.of(open_wait.wait, open_wait.target, calendar)
        if schedule is not None and now >= schedule.notice:
            due.append(_Due(open_wait, schedule, shown[open_wait.repository_id]))
    if not due:
        return
    promised = await _promised(session, [key(d.open_wait, s) for d in due for s in _keys(d, now)])
    people = await _people(session, sla, guild_id, due, now)
    for item in due:
        open_wait = item.open_wait
        stage = item.schedule.stage(now, promised.get(key(open_wait, "escalation")))
        assert stage is not None  # the notice is due
        await _say(session, settings, guild_id, item, stage, promised, people, now)


def _keys(item: _Due, now: datetime) -> list[str]:
    """The stages whose promises the run needs to know of: the one due, were it not an
    escalation, and the escalation."""
    return [item.schedule.plain_stage(now) or "notice", "escalation"]


async def _promised(session: AsyncSession, keys: Iterable[str]) -> dict[str, datetime]:
    """When each of these keys was promised, for those that were."""
    wanted, found = sorted(set(keys)), dict[str, datetime]()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = await session.execute(
            select(Promise.key, Promise.created_at).where(Promise.key.in_(chunk))
        )
        found |= {row_key: created_at for row_key, created_at in rows.all()}
    return found


@dataclass(frozen=True)
class _People:
    """GitHub logins, linked members (GitHub user id -> Discord user id), time zones."""

    logins: dict[int, str]
    linked: dict[int, int]
    hours: Hours
    on_duty: int | None


async def _people(
    session: AsyncSession, sla: SlaSettings, guild_id: int, due: Sequence[_Due], now: datetime
) -> _People:
    on_duty = triager(sla, now)
    ids = sorted({i for item in due for i in _asked(item.open_wait)})
    logins: dict[int, str] = {}
    if ids:
        rows = await session.execute(
            select(GitHubUser.id, GitHubUser.login).where(GitHubUser.id.in_(ids))
        )
        logins = {user_id: login for user_id, login in rows.all()}
    # Only a link GitHub verified is pinged: anyone can type anyone's login.
    linked_to = Member.github_user_id.in_(ids) & Member.github_verified.is_(True)
    wanted = [linked_to] if on_duty is None else [linked_to, Member.user_id == on_duty]
    found = await session.execute(
        select(Member.user_id, Member.github_user_id, Member.github_verified, Member.utc_offset)
        .where(Member.guild_id == guild_id)
        .where(or_(*wanted))
    )
    linked, offsets = dict[int, int](), dict[int, int | None]()
    for user_id, github_user_id, verified, offset in found.all():
        offsets[user_id] = offset
        if verified and github_user_id in ids:
            linked[github_user_id] = user_id
    return _People(logins, linked, Hours(sla, offsets), on_duty)


def _asked(open_wait: OpenWait) -> tuple[int, ...]:
    """Whom an item waits on by GitHub user id: its requested reviewers, else assignees."""
    return open_wait.requested_reviewer_ids or open_wait.assignee_ids


async def _say(
    session: AsyncSession,
    settings: Settings,
    guild_id: int,
    item: _Due,
    stage: str,
    promised: dict[str, datetime],
    people: _People,
    now: datetime,
) -> None:
    sla, open_wait = section(settings), item.open_wait
    main = key(open_wait, stage)
    payload: dict[str, Any]
    if stage == "notice":
        if main not in promised:
            payload = {"content": _notice(item), "mentions": []}
            await _promise(session, sla, guild_id, main, payload, now)
        return
    asked = _asked(open_wait)
    members = tuple(dict.fromkeys(people.linked[i] for i in asked if i in people.linked))
    unlinked = [people.logins.get(i, f"user {i}") for i in asked if i not in people.linked]
    # Who was quiet is judged when the round was promised, so its held pings follow it.
    at = promised.get(main, now)
    addressing = address(members, unlinked, people.on_duty, people.hours.quiet, at)
    if main not in promised:
        roles = [sla.maintainer_role_id] if stage == "escalation" and sla.maintainer_role_id else []
        payload = {
            "content": _round(item, stage, addressing, roles),
            "mentions": list(addressing.pinged),
            "mention_roles": roles,
        }
        await _promise(session, sla, guild_id, main, payload, now)
    for user in addressing.held:
        if not people.hours.quiet(user, now):
            payload = {"content": _morning(item, user), "mentions": [user]}
            await _promise(session, sla, guild_id, f"{main}:held-{user}", payload, now)


async def _promise(
    session: AsyncSession,
    sla: SlaSettings,
    guild_id: int,
    key_: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    await promise(
        session,
        feature=NAME,
        guild_id=guild_id,
        key=key_,
        target_kind="channel",
        target_id=sla.triage_channel_id,
        payload=payload,
        now=now,
    )


# --- what it says --------------------------------------------------------------------------


def _item(item: _Due) -> str:
    """ "🌱 first-time contributor · Pull request owner/repo#12 “Title”" """
    open_wait = item.open_wait
    what = "Issue" if open_wait.wait.kind == "triage" else "Pull request"
    where = link(f"{item.repository}#{open_wait.number}", open_wait.html_url)
    sprout = "🌱 first-time contributor · " if open_wait.first_time else ""
    return f"{sprout}{what} {where} “{escape(open_wait.title)}”"


def _hours(duration: timedelta) -> str:
    hours = int(duration.total_seconds() // 3600)
    return f"{hours} h" if hours < 72 else f"{hours // 24} days"


def _target(item: _Due) -> str:
    target = item.open_wait.target
    assert target is not None  # only waits with a target are pinged about
    return f"{_hours(target)} {item.open_wait.wait.kind} target"


def _notice(item: _Due) -> str:
    return (
        f"⏳ {_item(item)} has waited {_hours(item.open_wait.waited)} of its {_target(item)} "
        f"(due {timestamp(item.schedule.breach, 'R')})."
    )


def _round(item: _Due, stage: str, addressing: Addressing, roles: list[int]) -> str:
    who = addressing.who()
    ask = f" {who}, could you take a look?" if who else " Nobody is asked or assigned yet."
    waited = _hours(item.open_wait.waited)
    if stage == "breach":
        return f"⚠️ {_item(item)} is past its {_target(item)}.{ask}"
    if stage == "escalation":
        role = "".join(f"<@&{role}> " for role in roles)
        return f"🚨 {role}{_item(item)} has waited {waited}, twice its {_target(item)}.{ask}"
    return f"🔁 Still waiting: {_item(item)}, {waited} against its {_target(item)}.{ask}"


def _morning(item: _Due, user: int) -> str:
    return (
        f"☀️ Good morning <@{user}>: {_item(item)} is waiting on you "
        f"({_hours(item.open_wait.waited)}, past its {_target(item)})."
    )
