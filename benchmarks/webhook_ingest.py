# SPDX-License-Identifier: Apache-2.0
"""Webhook ingestion: sustained deliveries/s and latency of POST /github/webhook.

Three targets, each in its own process, loaded one after the other by the same load generator
(one process, aiohttp, N concurrent senders, each waiting for its answer before the next):

- bare: an aiohttp endpoint that only verifies the HMAC and parses the JSON (the floor);
- the real ``helios-bot web`` on a fresh SQLite file;
- the real ``helios-bot web`` on a scratch PostgreSQL database (skipped if unreachable).

The bare endpoint and SQLite are measured in pairs, ``--rounds`` times, each pair back to back:
on a shared machine the bare figure alone moves by a third from one minute to the next, so
each SQLite figure is compared with the bare one measured just before it, and the summary
gives the median of the rounds and how many met the goal.

Every delivery is a ~20 KB pull_request "opened" payload rendered by the GitHub simulator,
signed with the real scheme, with its own X-GitHub-Delivery id. After each bot run the server
is killed with SIGKILL (no clean shutdown) and the database is read back: every delivery that
got a 2xx must be there. Prints figures; asserts nothing.

    python benchmarks/webhook_ingest.py [--rounds 3] [--seconds 4] [--warmup 1] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.db.engine import create_engine
from bot.db.models import WebhookDelivery
from bot.github.signature import sign, verify
from bot.sandbox.github.state import GitHubState

ROOT = Path(__file__).parents[1]
SECRET = "benchmark-webhook-secret"  # noqa: S105 (a throwaway, loopback only)
POSTGRES_URL = "postgresql://helios:helios@127.0.0.1:5432/postgres"
GOAL_RATIO = 0.5
GOAL_P99_MS = 25.0


def pull_request_opened() -> bytes:
    """A pull_request "opened" delivery as GitHub sends it (compact JSON), about 20 KB."""
    state = GitHubState()
    payloads: list[dict[str, object]] = []
    state.subscribe(lambda event, payload: payloads.append(payload))
    state.add_org("helios-engine", members=["ada"])
    state.create_repo("helios-engine/helios", description="A small, fast game engine")
    description = (
        "Fixes the shadow acne on low-angle lights by biasing the depth comparison with the "
        "slope of the surface.\n\n- adds `shadow.slope_bias` to the renderer config\n"
        "- updates the cascade split test\n\nCloses #4211.\n"
    ) * 4
    state.open_pull("helios-engine/helios", "ada", "Renderer: fix shadow acne", description)
    return json.dumps(payloads[0], separators=(",", ":")).encode()


# --- targets -------------------------------------------------------------------------------


async def bare_webhook(request: web.Request) -> web.Response:
    """The least any receiver does: verify the signature on the raw body, parse the JSON."""
    body = await request.read()
    if not verify(body, request.headers.get("X-Hub-Signature-256"), [SECRET]):
        return web.json_response({"error": "bad signature"}, status=401)
    json.loads(body)
    return web.json_response({"status": "accepted"})


async def serve_bare() -> None:
    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/github/webhook", bare_webhook)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"bare endpoint serving on http://{host}:{port}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


def start_server(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start a server process and return it with the URL from its "serving on" log line."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    while True:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError(f"{command} exited before serving")
        if found := re.search(r"serving on (http://[0-9.:]+)", line):
            # Keep reading the pipe so that a full pipe can never stall the server's logging.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, found.group(1)


def start_bot(directory: Path, database_url: str) -> tuple[subprocess.Popen[str], str]:
    config = directory / "config.toml"
    config.write_text(
        '[discord]\nguild_id = 1\n[web]\nhost = "127.0.0.1"\nport = 0\n'
        '[github]\nrepositories = ["helios-engine/helios"]\n'  # the one the load comes from
    )
    env = {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    command = [sys.executable, "-m", "bot", "web", "--config", str(config), "--port", "0"]
    return start_server(command, env)


# --- load ----------------------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # completed inside the window
    statuses: Counter[str] = field(default_factory=Counter)  # inside the window
    acknowledged: list[str] = field(default_factory=list)  # every 2xx, warm-up included
    server_cpu: float = 0.0  # CPU seconds inside the window, all threads of the process
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    server: subprocess.Popen[str], url: str, body: bytes, args: argparse.Namespace
) -> Result:
    concurrency, warmup, seconds = args.concurrency, args.warmup, args.seconds
    result = Result(seconds)
    signature = sign(body, SECRET)  # the body is the same for every delivery, the id is not
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        begin = time.perf_counter() + warmup
        end = begin + seconds

        async def sender() -> None:
            while (started := time.perf_counter()) < end:
                delivery = str(uuid.uuid4())
                headers = {
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": delivery,
                    "X-Hub-Signature-256": signature,
                }
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = str(response.status)
                except aiohttp.ClientError as exc:
                    status = type(exc).__name__
                finished = time.perf_counter()
                if status.startswith("2"):
                    result.acknowledged.append(delivery)
                if begin <= finished < end:
                    result.latencies.append(finished - started)
                    result.statuses[status] += 1

        async def window() -> None:
            await asyncio.sleep(warmup)
            server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
            await asyncio.sleep(seconds)
            result.server_cpu = cpu_seconds(server.pid) - server_cpu
            result.client_cpu = time.process_time() - client_cpu

        await asyncio.gather(window(), *(sender() for _ in range(concurrency)))
    return result


async def stored_ids(database_url: str) -> tuple[int, set[str], int]:
    """Rows in the inbox, their delivery ids, and how many of them were normalised."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.scalar(select(func.count()).select_from(WebhookDelivery))
            ids = set((await connection.scalars(select(WebhookDelivery.delivery_id))).all())
            processed = await connection.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "processed")
            )
    finally:
        await engine.dispose()
    return rows or 0, ids, processed or 0


async def bench_postgres(
    admin_url: str, directory: Path, body: bytes, args: argparse.Namespace, bare: Result
) -> None:
    """The bot on a scratch database of the PostgreSQL at ``admin_url``, dropped afterwards."""
    name = f"helios_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"  PostgreSQL  unreachable at {make_url(admin_url)!r} ({exc}): skipped")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            await bench_bot("PostgreSQL", url, directory, body, args, bare)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# --- report --------------------------------------------------------------------------------


def report(name: str, result: Result, bare: Result | None) -> None:
    errors = {s: n for s, n in result.statuses.items() if not s.startswith("2")}
    line = (
        f"  {name:<11} {result.rate:8.0f} deliveries/s   p50 {result.percentile_ms(0.50):6.2f} ms"
        f"   p99 {result.percentile_ms(0.99):6.2f} ms"
    )
    if bare is not None:
        line += f"   {result.rate / bare.rate:5.0%} of bare"
    line += (
        f"   CPU: server {result.server_cpu / result.seconds:4.0%},"
        f" load generator {result.client_cpu / result.seconds:4.0%}"
    )
    if errors:
        line += f"   non-2xx: {errors}"
    print(line, flush=True)


def report_durability(result: Result, rows: int, ids: set[str], processed: int) -> None:
    acknowledged = set(result.acknowledged)
    missing = len(acknowledged - ids)
    print(
        f"  {'':<11} after SIGKILL: {rows} rows in the database, {len(acknowledged)} deliveries "
        f"got a 2xx, {missing} of them missing; {processed} normalised (the rest waits for a "
        "pause in the stream)",
        flush=True,
    )


async def bench_bot(
    name: str,
    database_url: str,
    directory: Path,
    body: bytes,
    args: argparse.Namespace,
    bare: Result,
) -> Result:
    process, url = start_bot(directory, database_url)
    try:
        result = await load(process, f"{url}/github/webhook", body, args)
    finally:
        process.kill()  # SIGKILL: what was acknowledged must already be on disk
        process.wait()
    report(name, result, bare)
    rows, ids, processed = await stored_ids(database_url)
    report_durability(result, rows, ids, processed)
    return result


async def bench_bare(body: bytes, args: argparse.Namespace) -> Result:
    process, url = start_server([sys.executable, __file__, "--serve-bare"], {})
    try:
        bare = await load(process, f"{url}/github/webhook", body, args)
    finally:
        process.terminate()
        process.wait()
    report("bare", bare, None)
    return bare


def summarise(pairs: list[tuple[Result, Result]]) -> None:
    ratios = sorted(sqlite.rate / bare.rate for bare, sqlite in pairs)
    p99s = sorted(sqlite.percentile_ms(0.99) for _, sqlite in pairs)
    met = sum(
        sqlite.rate / bare.rate >= GOAL_RATIO and sqlite.percentile_ms(0.99) <= GOAL_P99_MS
        for bare, sqlite in pairs
    )
    print(
        f"SQLite over {len(pairs)} rounds: median {median(ratios):.0%} of bare "
        f"(range {ratios[0]:.0%}-{ratios[-1]:.0%}), median p99 {median(p99s):.1f} ms "
        f"(range {p99s[0]:.1f}-{p99s[-1]:.1f} ms); goal met in {met} of {len(pairs)} rounds",
        flush=True,
    )


async def run(args: argparse.Namespace) -> None:
    body = pull_request_opened()
    cores = len(os.sched_getaffinity(0))
    print(
        f"POST /github/webhook: {len(body) / 1024:.1f} KB pull_request.opened deliveries, "
        f"{args.concurrency} concurrent senders (aiohttp, one process),\n"
        f"each target a separate server process on loopback; server and load generator share "
        f"{cores} cores (load average {os.getloadavg()[0]:.2f} at the start: other processes "
        f"count too).\n{args.warmup:g} s warm-up, then {args.seconds:g} s measured per target. "
        f"Goal on SQLite: >= {GOAL_RATIO:.0%} of bare, p99 <= {GOAL_P99_MS:g} ms.",
        flush=True,
    )
    pairs: list[tuple[Result, Result]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}", flush=True)
            directory = Path(tmp) / str(round_)
            directory.mkdir()
            bare = await bench_bare(body, args)
            sqlite_url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
            pairs.append((bare, await bench_bot("SQLite", sqlite_url, directory, body, args, bare)))
        summarise(pairs)
        await bench_postgres(args.postgres_url, Path(tmp), body, args, pairs[-1][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="bare and SQLite pairs")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured time per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time first")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent senders")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("HELIOS_TEST_POSTGRES_URL", POSTGRES_URL),
        help="admin URL used to create and drop a scratch database",
    )
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve_bare() if args.serve_bare else run(args))


if __name__ == "__main__":
    main()
