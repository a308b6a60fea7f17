# SPDX-License-Identifier: Apache-2.0
"""Unit tests run on SQLite alone (no PostgreSQL, no node): a migrated database per test."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from tests.unit.services_helpers import World


@pytest.fixture
def database() -> str:
    """Overrides the shared fixture (SQLite and PostgreSQL) with SQLite alone."""
    return "sqlite"


@pytest.fixture
def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> World:
    return World(sessions, clock)
