#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install .ci/pre-commit.sh as this clone's git pre-commit hook (`make dev-setup` runs this).
# Idempotent: our hook is rewritten in place; a hook someone else installed is left alone.
# Usage: .ci/install-hooks.sh [VENV]   (the virtualenv whose ruff and python the hook uses)
set -euo pipefail
cd "$(dirname "$0")/.."
# A relative VENV is found from the checkout the commit is made in, so that git worktrees,
# which share this hook, each use their own; an absolute one is used as it is.
venv=${1:-.venv}
case "$venv" in
	/*) ;;
	*) venv="\$(git rev-parse --show-toplevel)/$venv" ;;
esac
if ! hooks=$(git rev-parse --git-path hooks 2>/dev/null); then
    echo "not a git clone: no pre-commit hook installed" >&2
    exit 0
fi
hook="$hooks/pre-commit"
marker="installed by .ci/install-hooks.sh"
if [ -e "$hook" ] && ! grep -qF "$marker" "$hook"; then
    echo "$hook exists and is not ours: left alone (it may call .ci/pre-commit.sh)" >&2
    exit 0
fi
mkdir -p "$hooks"
cat >"$hook.new" <<HOOK
#!/bin/sh
# Helios style checks, $marker; remove this file to stop them.
VENV="\${VENV:-$venv}"
export VENV
exec bash "\$(git rev-parse --show-toplevel)/.ci/pre-commit.sh"
HOOK
chmod +x "$hook.new"
mv -f "$hook.new" "$hook"
echo "pre-commit hook installed: $hook"
