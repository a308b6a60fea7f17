# SPDX-License-Identifier: Apache-2.0
"""Alembic, driven from code: ``helios-bot migrate`` and migrate-on-start call this module."""

from __future__ import annotations

import asyncio
import functools
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.log import get_logger

log = get_logger(__name__)

# Any constant works; it only has to be the same in every process of a deployment.
_MIGRATION_LOCK_ID = 0x48454C494F53


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the scripts. Alembic executes every script to find it: call
    this from a thread (the scripts do not change while the process runs, so once)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def migrate(engine: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
    """Move the schema to ``target`` (up or down); returns (revision before, revision after)."""
    head = await asyncio.to_thread(head_revision)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes may start at once; one migrates, the others wait, then see head.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        return await connection.run_sync(_migrate, target, head)


def _migrate(
    connection: Connection, target: str, head: str | None
) -> tuple[str | None, str | None]:
    # This runs on the event loop (run_sync), where Alembic would read every script again.
    # A database already at head, as on every restart, needs none of them.
    before = MigrationContext.configure(connection).get_current_revision()
    if before == head and target in ("head", head):
        return before, before
    config = alembic_config()
    config.attributes["connection"] = connection
    script = ScriptDirectory.from_config(config)
    resolved = script.get_revision(target) if target not in ("head", "base") else None
    downward = resolved is not None and _is_ancestor(script, resolved.revision, before)
    if target == "base" or downward:
        log.info("downgrading database from %s to %s", before, target)
        command.downgrade(config, target)
    else:
        log.info("upgrading database from %s to %s", before, target)
        command.upgrade(config, target)
    after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def _is_ancestor(script: ScriptDirectory, revision: str, current: str | None) -> bool:
    if current is None or revision == current:
        return False
    return any(rev.revision == revision for rev in script.walk_revisions("base", current))
