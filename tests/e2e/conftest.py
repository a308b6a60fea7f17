# SPDX-License-Identifier: Apache-2.0
"""The real bot against the Discord and GitHub simulators, under the blocking watchdog."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox


@pytest.fixture(autouse=True)
async def _watch_event_loop(no_blocking: None) -> None:
    """Every test here runs under the blocking watchdog."""


@pytest.fixture(autouse=True)
def _database_at_head(tmp_path: Path, migrated_sqlite: str) -> None:
    """A sandbox in the test's directory finds its database there already at head, a copy of
    the one migrated once per session: its start-up then skips alembic's fifth of a second.
    Migrating from empty at start-up is tested by tests/integration/test_web.py."""
    shutil.copyfile(migrated_sqlite, tmp_path / "helios.db")


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str] | None:
    """The config sections the demo community adds; a feature's tests override it."""
    return None


@pytest.fixture
async def sandbox(
    tmp_path: Path, clock: ManualClock, sections: Callable[[DemoCommunity], str] | None
) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(tmp_path, clock, sections=sections)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def typed_logins(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Sandbox]:
    """A community that also lets members type their login (an unverified link)."""
    sandbox = Sandbox(tmp_path, clock, onboarding_extra="allow_unverified_link = true\n")
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
