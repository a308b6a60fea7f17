# SPDX-License-Identifier: Apache-2.0
"""The monthly newsletter (bot/services/recognition/newsletter.py) over the synthetic history
of benchmarks/sla_scan.py: 20 repositories, 5,000 open items among 25,000, 200,000 events.

That history is taken as it is built, plus what the newsletter reads and it lacks: half the
closed pull requests merged (at a random moment between their opening and the history's
end) and a good-first-issue label on every tenth open issue, with an area's label on most.
``compose`` of May 2026 (the month before the history's end, with April beside it) runs as
the bot runs it, through the Reader (bot/db/reader.py), on SQLite and on the PostgreSQL at
``--postgres-url`` (skipped if unreachable). Printed: the median (and best) of ``--runs``
runs, the CPU time of the thread that ran it, and the longest the event loop went without
running a 1 ms ticker; then, for scale, its service-level part (`scan.measure`: the share met
within target and the first reviews) for May alone and for May and April from one read.

Prints figures; asserts nothing.

    python -m benchmarks.newsletter [--open 5000] [--events 200000] [--runs 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.sla_scan import (
    NOW,
    REPOSITORIES,
    Figures,
    Rows,
    arguments,
    history,
    on_each_database,
    timed_read,
)
from bot.config import Settings
from bot.db.models import GitHubIssue
from bot.db.reader import Reader
from bot.services.recognition.newsletter import INSTANT, compose
from bot.services.sla import scan

MAY = date(2026, 5, 1)
AREAS = {"docs": ["docs"], "core": ["core"], "ci": ["ci", "infra"]}


def settings() -> Settings:
    return Settings.model_validate(
        {
            "discord": {"guild_id": 1},
            "github": {"repositories": REPOSITORIES, "maintainers": ["user1", "user2"]},
            "onboarding": {
                "code_of_conduct_url": "https://example.org/coc",
                "contributing_url": "https://example.org/contributing",
                "help_channel_id": 3,
                "newcomer_role_id": 4,
                "github_oauth_client_id": "Iv1.bench",
                "areas": [{"name": name, "labels": labels} for name, labels in AREAS.items()],
            },
            "sla": {"triage_channel_id": 2, "automatic_labels": ["needs triage"]},
            "recognition": {"spotlight_channel_id": 5},
        }
    )


def with_merges_and_labels(rows: Rows, seed: int) -> Rows:
    """The history, half its closed pull requests merged, a tenth of its open issues good
    first issues (most in an area)."""
    rng = random.Random(seed)
    labels = [*(labels[0] for labels in AREAS.values()), None]
    issues = []
    for row in rows[GitHubIssue]:
        row = {**row, "merged": False, "merged_at": None}  # one shape for executemany
        if row["is_pull_request"] and row["state"] == "closed" and rng.random() < 0.5:
            merged_at = row["created_at"] + (NOW - row["created_at"]) * rng.random()
            row.update(merged=True, merged_at=merged_at, updated_at=merged_at)
        elif not row["is_pull_request"] and row["state"] == "open" and rng.random() < 0.1:
            area = rng.choice(labels)
            row["labels"] = ["good first issue", *([area] if area else [])]
        issues.append(row)
    return {**rows, GitHubIssue: issues}


async def measure(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    reader: Reader,
    args: argparse.Namespace,
    rows: Any,
) -> None:
    configured = settings()
    may = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC) - INSTANT)
    april = (datetime(2026, 4, 1, tzinfo=UTC), may[0] - INSTANT)

    read = functools.partial(timed_read, reader)

    reads: list[tuple[str, Any]] = [
        ("compose, May 2026", lambda s: compose(s, configured, 1, MAY, NOW)),
        ("service levels, May", lambda s: scan.measure(s, configured, [may])),
        ("service levels, May and April", lambda s: scan.measure(s, configured, [may, april])),
    ]
    for label, work in reads:
        figures = Figures()
        for _ in range(args.runs):
            found = await read(figures, work)
        size = f"; {len(found)} characters" if isinstance(found, str) else ""
        print(figures.line(f"{name}: {label}", size), flush=True)


async def main(args: argparse.Namespace) -> None:
    await on_each_database(measure, args, with_merges_and_labels(history(args), args.seed))


if __name__ == "__main__":
    asyncio.run(main(arguments(__doc__.split("\n\n")[0]).parse_args()))
