#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints a working interpreter for Python $1 (e.g. 3.12), or nothing.
# A pyenv shim exists for every installed version but only runs the ones
# `pyenv global` selects, so try pyenv's own install folders too.
set -u
version=$1
candidates=()
if command -v pyenv >/dev/null 2>&1; then
	for dir in "$(pyenv root)"/versions/"$version".*/bin; do
		candidates+=("$dir/python$version")
	done
fi
candidates+=("$(command -v "python$version" || true)")
for interpreter in "${candidates[@]}"; do
	if [ -n "$interpreter" ] && "$interpreter" -c 'import sys' >/dev/null 2>&1; then
		echo "$interpreter"
		exit 0
	fi
done
