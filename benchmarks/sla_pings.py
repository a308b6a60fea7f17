# SPDX-License-Identifier: Apache-2.0
"""The `sla` job (bot/services/sla/pings.py) over the synthetic history of
benchmarks/sla_scan.py: 5,000 open items among 25,000, 200,000 events.

Runs the job as the scheduler does (`feature.run_pings`: the kept waits refreshed, read off
the event loop, the pings promised) on SQLite and on the PostgreSQL at ``--postgres-url``
(skipped if unreachable): the first run, which also builds the kept waits and promises a
message for every item past its notice, then ``--runs`` runs that find everything promised
already (the job's steady state every 5 minutes). Prints wall and CPU time (of this process,
all threads), and how many messages were promised.

Prints figures; asserts nothing.

    python -m benchmarks.sla_pings [--open 5000] [--events 200000] [--runs 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.sla_scan import NOW, REPOSITORIES, arguments, history, on_each_database
from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import Promise
from bot.db.reader import Reader
from bot.feature import Context
from bot.services.sla.feature import run_pings


def settings() -> Settings:
    return Settings.model_validate(
        {
            "discord": {"guild_id": 1},
            "github": {"repositories": REPOSITORIES},
            "sla": {
                "triage_channel_id": 2,
                "automatic_labels": ["needs triage"],
                "maintainer_role_id": 3,
                "triagers": [10, 11, 12],
                "quiet_hours": {"start": "22:00", "end": "08:00"},
            },
        }
    )


async def measure(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    reader: Reader,
    args: argparse.Namespace,
    rows: Any,
) -> None:
    context = Context(settings(), ManualClock(NOW), sessions, None, read=reader)

    async def run() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        await run_pings(context)
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

    async def promised() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Promise)) or 0)

    first_wall, first_cpu = await run()
    count = await promised()
    print(
        f"{name}: first run {first_wall:7.1f} ms (CPU {first_cpu:7.1f} ms), "
        f"{count} messages promised",
        flush=True,
    )
    runs = [await run() for _ in range(args.runs)]
    print(
        f"{name}: later runs median {statistics.median(w for w, _ in runs):7.1f} ms, "
        f"best {min(w for w, _ in runs):7.1f} ms, "
        f"CPU {statistics.median(c for _, c in runs):7.1f} ms; "
        f"{await promised() - count} more messages promised",
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    await on_each_database(measure, args, history(args))


if __name__ == "__main__":
    asyncio.run(main(arguments(__doc__.split("\n\n")[0]).parse_args()))
