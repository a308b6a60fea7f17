# SPDX-License-Identifier: Apache-2.0
"""Cold start to ready, and idle memory, of `helios-bot web` on a fresh SQLite database.

Starts the real CLI as a new process (imports, config, migration of an empty database,
HTTP server), polls /readyz until it answers 200, then reads the process's resident memory
after it has idled. Prints the figures; asserts nothing.

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


def one_start(directory: Path, idle: float) -> tuple[float, float]:
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
        assert process.stderr is not None
        url = None
        while url is None:
            line = process.stderr.readline()
            if not line:
                raise RuntimeError("helios-bot web exited before serving")
            if found := re.search(r"serving on (http://[0-9.:]+)", line):
                url = found.group(1)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds idle before RSS")
    args = parser.parse_args()
    ready_times, rss = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            seconds, mib = one_start(Path(directory), args.idle)
        ready_times.append(seconds)
        rss.append(mib)
    print(f"helios-bot web, fresh SQLite, {args.runs} cold starts")
    print(
        f"  start to /readyz 200: median {statistics.median(ready_times):.2f} s, "
        f"max {max(ready_times):.2f} s (goal <= {GOAL_SECONDS:.0f} s)"
    )
    print(f"  idle RSS: median {statistics.median(rss):.1f} MiB, max {max(rss):.1f} MiB")


if __name__ == "__main__":
    main()
