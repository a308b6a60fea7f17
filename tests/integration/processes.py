# SPDX-License-Identifier: Apache-2.0
"""The bot as a separate process, for tests of what only a real process shows (signals, kills,
exit statuses)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).parents[2]

# `helios-bot run` exactly, with discord.py pointed at the Discord simulator as the sandbox
# does; only the wrapper differs, since a process's discord.py can be redirected only from
# inside it.
_RUN = """\
import sys
from bot.__main__ import main
from bot.sandbox.discord import point_discord_py_at
with point_discord_py_at(sys.argv[1]):
    sys.exit(main(["run", "--config", sys.argv[2]]))
"""


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


async def start_run(
    discord_url: str, config: Path, env: Mapping[str, str]
) -> asyncio.subprocess.Process:
    """``helios-bot run`` against the Discord simulator at ``discord_url``, with ``env`` and
    none of this machine's Discord, GitHub or config variables; its stderr is piped."""
    machine = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GITHUB_", "DISCORD_", "HELIOS_BOT_"))
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _RUN,
        discord_url,
        str(config),
        cwd=ROOT,
        env={**machine, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
