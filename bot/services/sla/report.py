# SPDX-License-Identifier: Apache-2.0
"""What `/sla status` and the daily digest say (docs/sla.md, "Status and digest"): per
repository, the items past their target and those near it (first-time contributors' first,
then the longest waiting; a snoozed one says until when and why), how many wait on their
authors, and the share of waits met within target over the last 30 days, on the wall clock
and, in business-days mode, in business hours too.

:func:`status` is a plain read of a synchronous session (``runtime.read``); :func:`embed`
renders a report as one Discord embed (its JSON, for the outbox or the cog), within
Discord's limits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import DomainError
from bot.services.history import shown_repositories
from bot.services.sla import snoozes
from bot.services.sla.clocks import WALL_CLOCK, Calendar, Kind
from bot.services.sla.scan import OpenWait, Share, met_share, open_waits, section
from bot.services.sla.snoozes import Snoozed
from bot.text import escape, link

# An item is near its target once it has waited this share of it.
APPROACHING = 0.75
# The window of the share met within target.
WINDOW = timedelta(days=30)
KINDS: tuple[Kind, ...] = ("triage", "review")
FIRST_TIMER = "🌱"
SNOOZED = "💤 snoozed"
# Characters of a snooze's reason shown.
SHOWN_REASON = 60

# Discord's limits for an embed (its documentation's "Embed Limits").
TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_LIMIT = 25
# Kept for the footer that says how many repositories did not fit.
FOOTER_ROOM = 100
TOTAL_LIMIT = 6000
# Characters of an item's title shown before it is cut short.
SHOWN_TITLE = 60


@dataclass(frozen=True)
class Met:
    """Of one kind's waits decided in the window, how many met the target: counted on the
    wall clock, and in business hours (None unless business-days mode is on)."""

    kind: Kind
    wall: Share | None
    business: Share | None


@dataclass(frozen=True)
class RepositoryStatus:
    repository_id: int
    name: str
    breaching: tuple[OpenWait, ...]
    approaching: tuple[OpenWait, ...]
    waiting_on_author: int
    met: tuple[Met, ...]  # the kinds with waits decided in the window


@dataclass(frozen=True)
class Report:
    repositories: tuple[RepositoryStatus, ...]
    business_days: bool
    # Every shown repository by id: an item transferred since it was opened is shown under
    # the repository it is counted in, named with the one it is in now.
    names: dict[int, str]
    # The items whose pings a maintainer holds now (`/sla snooze`), by (repository, number).
    snoozed: dict[tuple[int, int], Snoozed] = field(default_factory=dict)

    @property
    def breaching(self) -> int:
        return sum(len(r.breaching) for r in self.repositories)

    @property
    def approaching(self) -> int:
        return sum(len(r.approaching) for r in self.repositories)


def repository_names(session: Session, settings: Settings) -> list[str]:
    """The repositories `/sla status` can show, by name."""
    return sorted(shown_repositories(session, settings.github).values(), key=str.lower)


def status(
    session: Session, settings: Settings, now: datetime, repository: str | None = None
) -> Report:
    """The report of every shown repository with something to say, busiest first; or of
    ``repository`` alone (its name, in any case), whatever it has to say."""
    sla, shown = section(settings), shown_repositories(session, settings.github)
    chosen: int | None = None
    if repository is not None:
        wanted = repository.strip().lower()
        chosen = next((id_ for id_, name in shown.items() if name.lower() == wanted), None)
        if chosen is None:
            raise DomainError(
                f"I don't measure a repository called “{escape(repository.strip()[:100])}”. "
                "Pick one of those the autocomplete offers (owner/name), or leave it out "
                "to see them all."
            )
    waits: dict[int, list[OpenWait]] = defaultdict(list)
    for open_wait in open_waits(session, settings, now):
        waits[open_wait.counted_in].append(open_wait)
    since = now - WINDOW
    wall = _by_key(met_share(session, settings, since, now, WALL_CLOCK))
    business = (
        _by_key(met_share(session, settings, since, now, Calendar.of(sla)))
        if sla.business_days
        else {}
    )
    reports = []
    for repository_id, name in shown.items():
        if chosen is not None and repository_id != chosen:
            continue
        its = waits[repository_id]
        measured = [w for w in its if w.target is not None]
        met = tuple(
            Met(kind, wall.get((repository_id, kind)), business.get((repository_id, kind)))
            for kind in KINDS
            if (repository_id, kind) in wall or (repository_id, kind) in business
        )
        found = RepositoryStatus(
            repository_id,
            name,
            _in_order(w for w in measured if _share_of_target(w) >= 1),
            _in_order(w for w in measured if APPROACHING <= _share_of_target(w) < 1),
            sum(1 for w in its if w.wait.waiting_on == "author"),
            met,
        )
        if chosen is not None or found.breaching or found.approaching or its or met:
            reports.append(found)
    reports.sort(key=lambda r: (-len(r.breaching), -len(r.approaching), r.name.lower()))
    held = {(s.repository_id, s.number): s for s in snoozes.active(session, now)}
    return Report(tuple(reports), sla.business_days, shown, held)


def _by_key(shares: list[Share]) -> dict[tuple[int, Kind], Share]:
    return {(share.repository_id, share.kind): share for share in shares}


def _share_of_target(wait: OpenWait) -> float:
    assert wait.target is not None  # only waits on the maintainers are passed
    return wait.waited / wait.target


def _in_order(waits: Iterable[OpenWait]) -> tuple[OpenWait, ...]:
    """First-time contributors' items first, then the longest waiting."""
    return tuple(sorted(waits, key=lambda w: (not w.first_time, -w.waited, w.wait.started_at)))


# --- the embed ------------------------------------------------------------------------------


def duration(length: timedelta) -> str:
    """Hours up to three days (targets are in hours), then days: "50 h", "4.5 days"."""
    hours = length / timedelta(hours=1)
    return f"{hours:.0f} h" if hours < 72 else f"{round(hours / 24, 1):g} days"


def embed(report: Report, title: str, *, focused: bool = False) -> dict[str, object]:
    """The report as an embed's JSON: a summary, then a field per repository, busiest first,
    each given an even share of the room. What does not fit Discord's limits is cut with
    "… and N more". ``focused``: the report of one repository asked for by name (the footer
    says nothing of the others)."""
    title = title[:TITLE_LIMIT]
    description = _summary(report)
    room = TOTAL_LIMIT - len(title) - len(description) - FOOTER_ROOM
    fields: list[dict[str, object]] = []
    left = len(report.repositories)
    shown = min(left, FIELDS_LIMIT)
    for repository in report.repositories[:shown]:
        # An even share of what is left, so that every repository shows with its counts
        # and shares before any lists all its items; a quiet one leaves room to the next.
        made = _field(report, repository, room // (shown - len(fields)))
        if made is None:
            break
        fields.append(made)
        room -= len(str(made["name"])) + len(str(made["value"]))
        left -= 1
    found: dict[str, object] = {"title": title, "description": description, "fields": fields}
    if left and not focused:
        found["footer"] = {
            "text": f"… and {left} more {_plural(left, 'repository', 'repositories')}: "
            "/sla status repo: shows one."
        }
    return found


def _summary(report: Report) -> str:
    breaching, approaching = report.breaching, report.approaching
    if not breaching and not approaching:
        lines = ["All within target: nothing is past or near its target."]
    else:
        lines = [
            f"**{breaching}** past target, **{approaching}** near it "
            f"({APPROACHING:.0%} of it or more)."
        ]
    if any(w.first_time for r in report.repositories for w in (*r.breaching, *r.approaching)):
        lines.append(f"{FIRST_TIMER} a first-time contributor's, shown first.")
    if report.business_days:
        lines.append("Times waited count business days only (weekends and holidays do not).")
    if not report.repositories:
        lines.append("No waits decided in the last 30 days, and nothing waiting.")
    return "\n".join(lines)


def _field(report: Report, repository: RepositoryStatus, room: int) -> dict[str, object] | None:
    """A repository's field within ``room`` characters (and a field's own limit): its items
    as many as fit, then "… and N more", then the waits on authors and the shares, which
    always show. None if not even those fit."""
    name = (
        f"{repository.name}: {len(repository.breaching)} past target, "
        f"{len(repository.approaching)} near it"
    )[:FIELD_NAME_LIMIT]
    tail = []
    if repository.waiting_on_author:
        tail.append(f"Waiting on the author: {repository.waiting_on_author}")
    tail += _shares(repository, report.business_days)
    limit = min(FIELD_VALUE_LIMIT, room - len(name))
    items = [("**Past target**", w) for w in repository.breaching]
    items += [("**Near target**", w) for w in repository.approaching]
    lines: list[str] = []
    heading = None
    for shown, (group, wait) in enumerate(items):
        line = _item_line(report, wait)
        added = ([group] if group != heading else []) + [line]
        more = f"… and {len(items) - shown - 1} more" if shown + 1 < len(items) else ""
        if _length([*lines, *added, more, *tail]) > limit:
            lines.append(f"… and {len(items) - shown} more")
            break
        lines += added
        heading = group
    value = "\n".join([*lines, *tail])
    if len(value) > limit:
        return None
    return {"name": name, "value": value, "inline": False}


def _length(lines: list[str]) -> int:
    shown = [line for line in lines if line]
    return len("\n".join(shown))


def _item_line(report: Report, wait: OpenWait) -> str:
    assert wait.target is not None  # only waits on the maintainers are listed
    where = (
        "" if wait.repository_id == wait.counted_in else report.names.get(wait.repository_id, "")
    )
    title = _shortened(wait.title, SHOWN_TITLE)
    mark = f"{FIRST_TIMER} " if wait.first_time else ""
    line = (
        f"{mark}{link(f'{where}#{wait.number}', wait.html_url)} {escape(title)} · "
        f"{wait.wait.kind}, {duration(wait.waited)} of {duration(wait.target)}"
    )
    held = report.snoozed.get((wait.repository_id, wait.number))
    if held is None:
        return line
    reason = _shortened(held.reason, SHOWN_REASON)
    return f"{line} · {SNOOZED} until {held.until:%a %d %b %H:%M} UTC: {escape(reason)}"


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shares(repository: RepositoryStatus, business_days: bool) -> list[str]:
    if not repository.met:
        return ["Met within target (30 days): no waits decided yet"]
    wall = " · ".join(f"{m.kind} {_share(m.wall)}" for m in repository.met)
    lines = [f"Met within target (30 days): {wall}"]
    if business_days:
        business = " · ".join(f"{m.kind} {_share(m.business)}" for m in repository.met)
        lines.append(f"In business hours: {business}")
    return lines


def _share(share: Share | None) -> str:
    """ "80% (8 of 10)"; "— (0 of 0)" when no wait of the kind was decided."""
    if share is None or not share.total:
        return "— (0 of 0)"
    return f"{share.met / share.total:.0%} ({share.met} of {share.total})"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
