# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
async def _watch_event_loop(no_blocking: None) -> None:
    """Every test here runs under the blocking watchdog."""
