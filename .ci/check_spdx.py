# SPDX-License-Identifier: Apache-2.0
"""Fail when a tracked source file lacks the Apache-2.0 SPDX header in its first lines."""

from __future__ import annotations

import subprocess
import sys

HEADER = "SPDX-License-Identifier: Apache-2.0"
PATTERNS = ["*.py", "*.sh", "Makefile", "Dockerfile", "*.toml", ".ci/run"]


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PATTERNS],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    missing = []
    for name in files:
        with open(name, encoding="utf-8") as source:
            head = "".join(source.readline() for _ in range(3))
        if HEADER not in head:
            missing.append(name)
    for name in missing:
        print(f"{name}: missing '{HEADER}' in its first three lines", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
