# SPDX-License-Identifier: Apache-2.0
"""The full test suite, several times in a row, while other processes keep every core busy.

CI machines are shared: a suite that passes only on an idle machine is flaky. This starts one
busy-looping process per core (niced to 0, like any other tenant's work), runs `make test`
(both databases, the coverage gate) the given number of times, and prints each run's result
and wall time. Stops at the first failure and exits 1 then.

    python benchmarks/suite_under_load.py [--runs 3] [--burners N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
BURN = "while True: pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(args.burners)]
    print(f"{args.burners} busy-looping processes on {os.cpu_count()} cores", flush=True)
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            result = subprocess.run(
                [shutil.which("make") or "make", "--no-print-directory", "test"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            elapsed = time.monotonic() - started
            summary = [line for line in result.stdout.splitlines() if " passed" in line]
            print(
                f"run {run}: {'passed' if result.returncode == 0 else 'FAILED'} "
                f"in {elapsed:.0f} s · {summary[-1] if summary else 'no summary'}",
                flush=True,
            )
            if result.returncode != 0:
                print(result.stdout[-6000:], result.stderr[-3000:], sep="\n")
                return 1
    finally:
        for burner in burners:
            burner.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
