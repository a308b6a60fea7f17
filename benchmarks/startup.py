# SPDX-License-Identifier: Apache-2.0
"""Cold start to ready, and idle memory, of the bot's long-running modes.

- `web`: a new `helios-bot web` process (imports, config, migration of an empty SQLite
  database, HTTP server) until /readyz answers 200, then its resident memory after idling.
- `run`: a new `helios-bot sandbox` process until its bot logs that it is connected to
  Discord: the `run` start-up path plus starting both simulators, so an upper bound. Then its
  resident memory once it has played the built-in month and idled: the bot, both simulators
  and a month of demo data in one process, so an upper bound too.

Prints the figures; asserts nothing.

    python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]
GOAL_SECONDS = 3.0


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def wait_for_line(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert process.stderr is not None
    while line := process.stderr.readline():
        if found := re.search(pattern, line):
            return found
    raise RuntimeError(f"the process exited before logging {pattern!r}")


def start_web(directory: Path, idle: float) -> tuple[float, float]:
    config = directory / "config.toml"
    config.write_text('[discord]\nguild_id = 1\n[web]\nhost = "127.0.0.1"\nport = 0\n')
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = wait_for_line(process, r"serving on (http://[0-9.:]+)").group(1)
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.01)
        ready = time.perf_counter() - started
        time.sleep(idle)
        return ready, rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def start_run(idle: float) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--log-level", "INFO"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_line(process, r"connected to Discord as")
        ready = time.perf_counter() - started
        wait_for_line(process, r"Ctrl-C to stop")  # the built-in month has been played
        time.sleep(idle)
        return ready, rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds idle before RSS")
    args = parser.parse_args()
    web_ready, rss, run_ready, run_rss = [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            seconds, mib = start_web(Path(directory), args.idle)
            web_ready.append(seconds)
            rss.append(mib)
        seconds, mib = start_run(args.idle)
        run_ready.append(seconds)
        run_rss.append(mib)
    print(f"{args.runs} cold starts each, fresh SQLite database (goal <= {GOAL_SECONDS:.0f} s)")
    print(
        f"  web: start to /readyz 200: median {statistics.median(web_ready):.2f} s, "
        f"max {max(web_ready):.2f} s; idle RSS median {statistics.median(rss):.1f} MiB"
    )
    print(
        f"  run (via sandbox, simulators included): start to Discord ready: "
        f"median {statistics.median(run_ready):.2f} s, max {max(run_ready):.2f} s; "
        f"idle RSS after the demo month median {statistics.median(run_rss):.1f} MiB"
    )


if __name__ == "__main__":
    main()
