# SPDX-License-Identifier: Apache-2.0
"""The schema comes only from migrations, and they go both ways on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.base import Base
from bot.db.engine import create_engine
from bot.db.migrate import current_revision, head_revision, migrate


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_to_head_and_downgrade_to_base(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate(engine) == (None, head_revision())
        assert await current_revision(engine) == head_revision()
        assert {"outbox", "alembic_version"} <= await table_names(engine)

        assert await migrate(engine) == (head_revision(), head_revision())  # idempotent

        assert await migrate(engine, "base") == (head_revision(), None)
        assert await table_names(engine) <= {"alembic_version"}

        await migrate(engine, "head")
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    def differences(sync_connection: object) -> list[object]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_webhook_bodies_are_compressed_with_lz4_on_postgresql(database_url: str) -> None:
    engine = create_engine(database_url)

    async def compression() -> str:
        async with engine.connect() as connection:
            method = await connection.scalar(
                text(
                    "SELECT attcompression::text FROM pg_attribute "
                    "WHERE attrelid = 'webhook_deliveries'::regclass AND attname = 'body'"
                )
            )
            return str(method)

    try:
        await migrate(engine, "0008")
        assert await compression() == "l"  # lz4
        await migrate(engine, "0007")
        assert await compression() == ""  # the server's default_toast_compression
    finally:
        await engine.dispose()
