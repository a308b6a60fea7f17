# SPDX-License-Identifier: Apache-2.0
"""Point the real discord.py client at the simulator, and only for as long as asked.

discord.py reads its REST base URL and gateway URL from class attributes, so pointing it
elsewhere is process-wide; the context manager restores the real endpoints on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import discord.gateway
import discord.http
import yarl

from bot.log import get_logger

log = get_logger(__name__)


@contextmanager
def point_discord_py_at(url: str) -> Iterator[None]:
    """Send discord.py's REST calls to ``{url}/api/v10`` and its gateway to ``ws://.../gateway``.

    ``url`` is the simulator's HTTP root (:attr:`DiscordSimulator.url`), which must be on
    loopback so that a sandbox can never reach the real Discord by mistake.
    """
    root = yarl.URL(url)
    if root.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the Discord simulator must be on loopback, not {url}")
    route = discord.http.Route
    websocket = discord.gateway.DiscordWebSocket
    saved = (route.BASE, websocket.DEFAULT_GATEWAY)
    route.BASE = str(root / "api" / "v10")
    websocket.DEFAULT_GATEWAY = root.with_scheme("ws") / "gateway"
    log.info("discord.py points at the simulator", extra={"url": url})
    try:
        yield
    finally:
        route.BASE, websocket.DEFAULT_GATEWAY = saved
