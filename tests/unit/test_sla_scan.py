# SPDX-License-Identifier: Apache-2.0
"""The service-level scan reads the history and the kept waits through indexes: SQLite's plan
for every query it (and the refresh of the kept waits) makes searches an index, and scans
none of the history's tables (the scan's results are
tested on both databases in tests/integration/test_sla_scan.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.services.sla.scan import met_share, open_waits
from bot.services.sla.store import keep, recompute
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, Hub, configured

HISTORY = ("github_issues", "github_issue_events", "github_comments", "github_reviews")


async def test_every_query_of_the_scan_searches_an_index(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    hub = Hub(sessions, clock)
    for n in range(30):
        issue = hub.state.open_issue(REPO if n % 2 else SDK, f"user{n}", f"Issue {n}")
        pull = hub.state.open_pull(REPO, f"user{n}", f"Fix {n}")
        hub.later(HOUR)
        if n % 3 == 0:
            hub.state.comment(REPO if n % 2 else SDK, issue.number, "marta", "Thanks")
            hub.state.submit_review(REPO, pull.number, "marta", "CHANGES_REQUESTED")
            hub.state.close_issue(REPO, pull.number, actor=f"user{n}")
    await hub.settle()
    now = clock.now()

    statements: list[tuple[str, Any]] = []
    database = create_engine(f"sqlite:///{engine.url.database}")

    @event.listens_for(database, "before_cursor_execute")
    def record(_c: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with Session(database) as session:
        computed = open_waits(session, configured(), now)  # nothing kept: from the histories
        assert computed
        assert met_share(session, configured(), now - 30 * DAY, now)
    with Session(database) as session, session.begin():
        assert keep(session, recompute(session, configured())) == 50  # 60 opened, 10 closed
    with Session(database) as session:
        assert open_waits(session, configured(), now) == computed  # from the kept rows
    event.remove(database, "before_cursor_execute", record)
    plans = []
    with database.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append([str(row[-1]) for row in rows])
    database.dispose()

    history_queries = [plan for plan in plans if any(table in " ".join(plan) for table in HISTORY)]
    assert history_queries
    for plan in history_queries:
        scans = [step for step in plan if step.startswith("SCAN") and "github_" in step]
        assert scans == [], plan
    # The kept rows are searched by key, but for the refresh's one look at them all (to
    # delete those of items no longer open).
    kept = [plan for plan in plans if "sla_waits" in " ".join(plan)]
    scans = [step for plan in kept for step in plan if step.startswith("SCAN")]
    assert [step.split(" USING")[0] for step in scans] == ["SCAN sla_waits"], kept
    flat = " ".join(" ".join(plan) for plan in history_queries)
    for index in ("ix_github_issues_state", "ix_github_issues_updated_at"):
        assert index in flat
