# SPDX-License-Identifier: Apache-2.0
"""Sync slash commands with Discord only when their definitions changed."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CommandSync


def payload_hash(commands: list[dict[str, Any]]) -> str:
    canonical = json.dumps(sorted(commands, key=lambda c: str(c.get("name"))), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def needs_sync(session: AsyncSession, guild_id: int, digest: str) -> bool:
    last = await session.get(CommandSync, guild_id)
    return last is None or last.payload_hash != digest


async def record_sync(session: AsyncSession, guild_id: int, digest: str, now: datetime) -> None:
    await session.merge(CommandSync(guild_id=guild_id, payload_hash=digest, synced_at=now))
