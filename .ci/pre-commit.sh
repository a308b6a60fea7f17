#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Style checks before each commit, the same ones CI runs (`make lint` without mypy, which is
# slower): ruff, ruff format and the SPDX headers, over the whole repository. `make dev-setup`
# installs it as the git pre-commit hook (.ci/install-hooks.sh); `git commit --no-verify`
# skips it. Fix what it finds with `make lint-fix`.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
bin="${VENV:-.venv}/bin"
if [ ! -x "$bin/ruff" ]; then
    echo "pre-commit: $bin/ruff not found: run \`make dev-setup\` (or set VENV)" >&2
    exit 1
fi
sources=(bot cogs migrations tests benchmarks)
status=0
"$bin/ruff" check --quiet "${sources[@]}" || status=1
"$bin/ruff" format --check --quiet "${sources[@]}" || status=1
"$bin/python" .ci/check_spdx.py || status=1
if [ "$status" != 0 ]; then
    echo "pre-commit: style checks failed; \`make lint-fix\` fixes most of it" >&2
fi
exit "$status"
