#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Audit installed dependencies for known vulnerabilities. A found vulnerability fails; where
# the vulnerability index cannot be reached (as on offline build machines), say so plainly.
set -uo pipefail
bin=${1:-.venv/bin}
out=$("$bin/pip-audit" --progress-spinner off --skip-editable 2>&1)
rc=$?
unaudited=$(grep -c "could not be audited" <<<"$out")
if [ "$rc" -ne 0 ]; then
    echo "$out"
    exit "$rc"
fi
if [ "$unaudited" -gt 0 ]; then
    echo "pip-audit: $unaudited package(s) not audited: the vulnerability index is unreachable here"
else
    echo "pip-audit: no known vulnerabilities"
fi
