# SPDX-License-Identifier: Apache-2.0
"""Each open item's current wait, kept in ``sla_waits`` so that a scan reads one row per open
item rather than its history (docs/sla.md, "Cost").

A row is what the clocks made of the item's history at its ``revision`` (which the normaliser
bumps whenever it writes one of the item's facts, from a webhook or the backfill, however late)
and at the revisions of the issues it was transferred from, under the rules with fingerprint
``rules``. Where any of them differs now, the row is stale: :func:`waiting` computes that item
afresh in memory (it also runs on read-only connections, so it writes nothing), and
:func:`recompute` (a read, off the event loop) and :func:`keep` (in a write transaction)
recompute and store it. Either way a scan is exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import String, and_, delete, func, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bot.config import Settings
from bot.db.models import GitHubIssue, GitHubUser, SlaWait
from bot.services.history import shown_repositories
from bot.services.sla.clocks import Person, Rules, Wait, waits
from bot.services.sla.records import Key, Record, keyed, read_records

# Part of every fingerprint: raise it when the clocks' definitions change, and every kept row
# is recomputed.
DEFINITIONS = 1

# GitHub's author associations for someone who had not contributed to the repository before.
FIRST_TIMES = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER"})

# Rows per INSERT of recomputed ones.
BATCH = 500


@dataclass(frozen=True)
class Waiting:
    """An open item that waits on someone now, counted in ``counted_in`` (where it was opened)."""

    repository_id: int
    number: int
    title: str
    html_url: str
    counted_in: int
    wait: Wait
    author_login: str | None
    first_time: bool
    requested_reviewer_ids: tuple[int, ...]
    assignee_ids: tuple[int, ...]


def fingerprint(session: Session, rules: Rules) -> str:
    """What the clocks read besides the history: the configured maintainers and automatic
    labels, and which accounts the maintainers' logins name now (a rename changes it)."""
    accounts: list[int] = []
    if rules.maintainers:
        # GitHub logins are ASCII, so SQL's lower() agrees with Python's.
        named = func.lower(GitHubUser.login).in_(sorted(rules.maintainers))
        accounts = sorted(session.scalars(select(GitHubUser.id).where(named)))
    facts = [DEFINITIONS, sorted(rules.maintainers), sorted(rules.automatic_labels), accounts]
    return hashlib.blake2b(json.dumps(facts).encode(), digest_size=16).hexdigest()


def waiting(session: Session, settings: Settings, shown: dict[int, str]) -> list[Waiting]:
    """Every open item of the ``shown`` repositories that waits on someone now: read from its
    kept row where that is fresh, computed from its history where it is stale or missing."""
    rules = Rules.of(settings)
    fresh, stale, _ = _open_items(session, shown, fingerprint(session, rules))
    found = [_kept(row) for row in fresh if row[6] is not None]  # its kind: it waits
    for record in read_records(session, list(keyed(GitHubIssue, stale)), shown):
        current = _current(record, rules)
        if current.wait is not None:
            found.append(
                Waiting(
                    record.repository_id,
                    record.number,
                    record.title,
                    record.html_url,
                    current.counted_in,
                    current.wait,
                    current.opener.login,
                    current.first_time,
                    record.requested_reviewer_ids,
                    record.assignee_ids,
                )
            )
    return found


@dataclass(frozen=True)
class Recomputed:
    """What a refresh writes: the rows of the stale and missing items, recomputed, and the
    keys of the rows of items no longer open."""

    rows: list[dict[str, Any]]
    gone: set[Key]


def recompute(session: Session, settings: Settings) -> Recomputed:
    """The rows of open items of shown repositories that are stale or missing, computed
    afresh, and the kept rows of every other item. A plain read, so that the clocks run off
    the event loop (``await context.read(...)``); :func:`keep` writes the result."""
    shown, rules = shown_repositories(session, settings.github), Rules.of(settings)
    rules_print = fingerprint(session, rules)
    _, stale, open_keys = _open_items(session, shown, rules_print)
    rows = [
        _row(record, _current(record, rules), rules_print)
        for record in read_records(session, list(keyed(GitHubIssue, stale)), shown)
    ]
    kept = session.execute(select(SlaWait.repository_id, SlaWait.number))
    gone = {(repository, number) for repository, number in kept} - open_keys
    return Recomputed(rows, gone)


def keep(session: Session, recomputed: Recomputed) -> int:
    """Store what :func:`recompute` found, in a write transaction
    (``await session.run_sync(keep, recomputed)``); returns how many rows were recomputed.
    History written in between does no harm: a row names the revisions it was computed
    from, so one computed from an older history is stale at the next scan, and a row deleted
    for an item reopened since is computed again."""
    upsert = _upsert(session.get_bind().dialect.name)
    for start in range(0, len(recomputed.rows), BATCH):
        session.execute(upsert, recomputed.rows[start : start + BATCH])
    for condition in keyed(SlaWait, recomputed.gone):
        session.execute(delete(SlaWait).where(condition))
    return len(recomputed.rows)


# --- the kept rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Current:
    """What the clocks make of an item's history: where it is counted, who opened it, and
    the wait running now if any."""

    counted_in: int
    opener: Person
    first_time: bool
    wait: Wait | None


def _current(record: Record, rules: Rules) -> _Current:
    """What the item waits on now, by the clocks on its whole history."""
    history = record.history()
    found = waits(history, rules)
    opener = history.item
    return _Current(
        record.counted_in,
        opener.author,
        opener.author_association in FIRST_TIMES,
        found[-1] if found and found[-1].ended_at is None else None,
    )


def _row(record: Record, now: _Current, rules: str) -> dict[str, Any]:
    wait = now.wait
    return {
        "repository_id": record.repository_id,
        "number": record.number,
        "revision": record.revision,
        "rules": rules,
        "origins": [list(origin) for origin in record.origins()],
        "counted_in": now.counted_in,
        "opener_id": now.opener.id,
        "first_time": now.first_time,
        "kind": None if wait is None else wait.kind,
        "waiting_on": None if wait is None else wait.waiting_on,
        "started_at": None if wait is None else wait.started_at,
        "paused": [
            [start.isoformat(), None if end is None else end.isoformat()]
            for start, end in (() if wait is None else wait.paused)
        ],
    }


_opener = aliased(GitHubUser)

# The open items, each with its kept row if any. JSON comes as text, decoded only for the
# items that wait: most open items wait on no one, and decoding is most of a row's cost.
_OPEN_ITEMS = (
    select(
        GitHubIssue.repository_id,
        GitHubIssue.number,
        GitHubIssue.revision.label("current"),
        SlaWait.revision,
        SlaWait.rules,
        type_coerce(SlaWait.origins, String).label("origins"),
        SlaWait.kind,
        SlaWait.waiting_on,
        SlaWait.started_at,
        type_coerce(SlaWait.paused, String).label("paused"),
        SlaWait.counted_in,
        SlaWait.first_time,
        _opener.login,
        GitHubIssue.title,
        GitHubIssue.html_url,
        type_coerce(GitHubIssue.requested_reviewer_ids, String).label("reviewers"),
        type_coerce(GitHubIssue.assignee_ids, String).label("assignees"),
    )
    .outerjoin(
        SlaWait,
        and_(
            SlaWait.repository_id == GitHubIssue.repository_id,
            SlaWait.number == GitHubIssue.number,
        ),
    )
    .outerjoin(_opener, _opener.id == SlaWait.opener_id)
    .where(GitHubIssue.state == "open", GitHubIssue.removed.is_(None))
)


def _open_items(
    session: Session, shown: dict[int, str], rules: str
) -> tuple[list[tuple[Any, ...]], list[Key], set[Key]]:
    """The open items of the shown repositories: the rows of those whose kept row is fresh,
    the keys of the others (stale, or not kept yet), and the keys of all."""
    fresh: list[tuple[Any, ...]] = []
    stale: list[Key] = []
    everything: set[Key] = set()
    # Rows kept from the history of issues they were transferred from: fresh if those are
    # unchanged too (transfers are rare).
    transferred: list[tuple[tuple[Any, ...], list[list[int]]]] = []
    rows = cast("list[tuple[Any, ...]]", session.connection().execute(_OPEN_ITEMS).all())
    for row in rows:
        # By position: the row's attribute lookups would cost more than the rest of the loop.
        repository_id, number, current, revision, kept_rules, origins = row[:6]
        key = repository_id, number
        if repository_id not in shown:
            continue
        everything.add(key)
        if revision != current or kept_rules != rules:
            stale.append(key)
        elif origins != "[]" and (origins := _decoded(origins)):
            transferred.append((row, origins))
        else:
            fresh.append(row)
    if transferred:
        revisions = _revisions(session, (origin[:2] for _, its in transferred for origin in its))
        for row, origins in transferred:
            if all(revisions.get((r, n), -1) == revision for r, n, revision in origins):
                fresh.append(row)
            else:
                stale.append((row[0], row[1]))
    return fresh, stale, everything


def _revisions(session: Session, keys: Iterable[Sequence[int]]) -> dict[Key, int]:
    found: dict[Key, int] = {}
    for condition in keyed(GitHubIssue, {(key[0], key[1]) for key in keys}):
        for repository, number, revision in session.execute(
            select(GitHubIssue.repository_id, GitHubIssue.number, GitHubIssue.revision).where(
                condition
            )
        ):
            found[repository, number] = revision
    return found


def _kept(row: tuple[Any, ...]) -> Waiting:
    """The wait a fresh kept row holds."""
    repository_id, number, *_, kind, waiting_on, started_at, paused, counted_in = row[:11]
    first_time, login, title, html_url, reviewers, assignees = row[11:]
    stretches = (
        ()
        if paused == "[]"  # mostly
        else tuple(
            (datetime.fromisoformat(start), None if end is None else datetime.fromisoformat(end))
            for start, end in _decoded(paused)
        )
    )
    wait = Wait(kind, waiting_on, started_at, paused=stretches)
    return Waiting(
        repository_id,
        number,
        title,
        html_url,
        counted_in,
        wait,
        login,
        first_time,
        tuple(_decoded(reviewers)),
        tuple(_decoded(assignees)),
    )


def _decoded(value: Any) -> Any:
    """A JSON column read as text: SQLite gives the text, asyncpg the value it decoded."""
    return orjson.loads(value) if isinstance(value, str) else value


_INSERT: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _upsert(dialect: str) -> Any:
    statement = _INSERT[dialect](SlaWait)
    columns = [c.name for c in SlaWait.__table__.columns if not c.primary_key]
    return statement.on_conflict_do_update(
        index_elements=["repository_id", "number"],
        set_={name: statement.excluded[name] for name in columns},
    )
