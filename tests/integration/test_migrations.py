# SPDX-License-Identifier: Apache-2.0
"""The schema comes only from migrations, and they go both ways on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.base import Base
from bot.db.engine import create_engine
from bot.db.migrate import current_revision, head_revision, migrate


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_to_head_and_downgrade_to_base(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
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
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_webhook_bodies_are_compressed_with_lz4_on_postgresql(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)

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


async def test_outbox_promises_get_their_feature_from_the_key_and_lose_it_going_down(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)
    keys = {
        "issue-announced:1:2:3": "announcements",
        "first-pr:1:2": "celebrations",
        "first-merge:1:2": "celebrations",
        "first-merge-comment:1:2": "celebrations",
        "contributor-role:1:2": "celebrations",
        "claim-reminder:7:2026-01-05T09:00:00+00:00": "onboarding",
        "claim-released:7": "onboarding",
        "test:hello": "bot",
    }
    try:
        await migrate(engine, "0008")
        async with engine.begin() as connection:
            for key in keys:
                await connection.execute(
                    text(
                        "INSERT INTO outbox (guild_id, key, target_kind, target_id, payload, "
                        "status, not_before, attempts, created_at) VALUES (1, :key, 'dm', 2, "
                        "'{}', 'pending', CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP)"
                    ),
                    {"key": key},
                )
        await migrate(engine, "0009")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT key, feature FROM outbox"))
            assert dict(rows.all()) == keys
        await migrate(engine, "0008")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("outbox")}
            )
        assert "feature" not in columns
        assert "key" in columns
    finally:
        await engine.dispose()


async def test_repositories_stored_before_0011_count_as_public_until_told(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)

    async def columns() -> set[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("github_repositories")}
            )

    try:
        await migrate(engine, "0010")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO github_repositories (id, full_name, archived, deleted) "
                    "VALUES (7, 'acme/widgets', false, false)"
                )
            )
        await migrate(engine, "0011")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, private FROM github_repositories"))
            assert [tuple(row) for row in rows.all()] == [(7, False)]
        await migrate(engine, "0010")
        assert "private" not in await columns()
        assert "full_name" in await columns()
    finally:
        await engine.dispose()


async def test_links_and_time_zones_move_to_members_and_back(empty_database_url: str) -> None:
    """0015: each member's GitHub link and time zone in one row; a mentor's own time zone
    wins over the one they gave as a newcomer. Going down puts them back."""
    engine = create_engine(empty_database_url)
    # Linked ones were linked when they were written.
    newcomer = (
        "INSERT INTO newcomers (guild_id, user_id, started_at, areas, github_user_id, "
        "github_login, github_verified, linked_at, celebrate, utc_offset) VALUES (1, :user, "
        "CURRENT_TIMESTAMP, '[]', :github, :login, :verified, "
        "CASE WHEN :linked THEN CURRENT_TIMESTAMP END, true, :offset)"
    )
    mentor = (
        "INSERT INTO mentors (guild_id, user_id, status, areas, capacity, utc_offset, "
        "languages, load, joined_at) VALUES (1, :user, 'active', '[]', 2, :offset, '[]', 0, "
        "CURRENT_TIMESTAMP)"
    )
    newcomers = [
        dict(zip(("user", "github", "login", "verified", "offset"), row, strict=True))
        | {"linked": row[1] is not None}
        for row in [
            (2, 20, "ada", True, 60),  # linked, in UTC+1; as a mentor in UTC+2, which wins
            (3, 30, "bo", False, None),  # a typed login, no time zone
            (4, None, None, False, -300),  # a time zone only
            (5, None, None, False, None),  # neither: no member row
        ]
    ]
    mentors = [
        {"user": 2, "offset": 120},
        {"user": 6, "offset": 330},  # a mentor who never ran /start
        {"user": 7, "offset": None},  # a mentor who gave no time zone: no member row
    ]

    async def rows(query: str) -> list[tuple[object, ...]]:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(query))).all()]

    async def columns(table: str) -> set[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns(table)}
            )

    try:
        await migrate(engine, "0014")
        async with engine.begin() as connection:
            await connection.execute(text(newcomer), newcomers)
            await connection.execute(text(mentor), mentors)
        await migrate(engine, "0015")
        members = await rows(
            "SELECT user_id, github_user_id, github_login, github_verified, "
            "linked_at IS NOT NULL, utc_offset FROM members ORDER BY user_id"
        )
        assert [(u, g, lo, bool(v), bool(at), o) for u, g, lo, v, at, o in members] == [
            (2, 20, "ada", True, True, 120),
            (3, 30, "bo", False, True, None),
            (4, None, None, False, False, -300),
            (6, None, None, False, False, 330),
        ]
        link = {"github_user_id", "github_login", "github_verified", "linked_at", "utc_offset"}
        assert not link & await columns("newcomers")
        assert "utc_offset" not in await columns("mentors")

        await migrate(engine, "0014")
        back = await rows(
            "SELECT user_id, github_user_id, github_login, github_verified, "
            "linked_at IS NOT NULL, utc_offset FROM newcomers ORDER BY user_id"
        )
        assert [(u, g, lo, bool(v), bool(at), o) for u, g, lo, v, at, o in back] == [
            (2, 20, "ada", True, True, 120),
            (3, 30, "bo", False, True, None),
            (4, None, None, False, False, -300),
            (5, None, None, False, False, None),
        ]
        assert await rows("SELECT user_id, utc_offset FROM mentors ORDER BY user_id") == [
            (2, 120),
            (6, 330),
            (7, None),
        ]
        assert "members" not in await table_names(engine)
        # One member per GitHub account, as before.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(newcomer),
                    {**newcomers[3], "user": 8, "github": 20, "login": "ada-again"},
                )
    finally:
        await engine.dispose()


async def test_claims_made_before_0021_get_their_members_github_login(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine, "0020")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO members (guild_id, user_id, github_user_id, github_login, "
                    "github_verified) VALUES (1, 2, 20, 'ada-codes', true)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO claims (guild_id, user_id, repository_id, number, method, "
                    "status, claimed_at) VALUES (1, :user, 7, :number, 'assigned', 'active', "
                    "CURRENT_TIMESTAMP)"
                ),
                [{"user": 2, "number": 1}, {"user": 3, "number": 2}],  # 3: no member row
            )
        await migrate(engine, "0021")
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT user_id, github_login FROM claims ORDER BY user_id")
            )
            assert [tuple(row) for row in rows.all()] == [(2, "ada-codes"), (3, None)]
    finally:
        await engine.dispose()
