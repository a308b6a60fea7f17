# SPDX-License-Identifier: Apache-2.0
"""The bot as a separate process, for tests of what only a real process shows (signals, kills)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).parents[2]


async def start_web(config: Path, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    """``helios-bot web`` on any free port; its stderr is piped (it logs "serving on URL")."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "web",
        "--config",
        str(config),
        "--port",
        "0",
        env={**os.environ, **env},
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
