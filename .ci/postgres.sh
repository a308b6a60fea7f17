#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start the machine's PostgreSQL 15 and make sure the test role exists. Idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL is not installed: the PostgreSQL half of the suite will be skipped" >&2
    exit 0
fi
pg_ctlcluster 15 main start 2>/dev/null || true
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'helios'\"" | grep -q 1 ||
    as_postgres "psql -qc \"CREATE ROLE helios LOGIN CREATEDB PASSWORD 'helios'\""
# Each test drops its database WITH (FORCE), which may end an autovacuum worker too.
as_postgres "psql -qc 'GRANT pg_signal_backend TO helios'"
