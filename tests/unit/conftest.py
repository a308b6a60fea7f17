# SPDX-License-Identifier: Apache-2.0
"""Unit tests run on SQLite alone (no PostgreSQL, no node): a migrated database per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.engine import create_engine
from tests.unit.services_helpers import World


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """Overrides the shared fixture (SQLite and PostgreSQL) with SQLite alone."""
    copy = tmp_path / "helios.db"
    shutil.copyfile(migrated_sqlite, copy)
    return f"sqlite+aiosqlite:///{copy}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Overrides the shared fixture: the copy is migrated to head already (which
    test_claims.py checks), so asking alembic again for every test is only time lost."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> World:
    return World(sessions, clock)
