# SPDX-License-Identifier: Apache-2.0
"""The webhook inbox on its own: what it stores, and (SQLite) where it ends up on disk."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.db.models import WebhookDelivery
from bot.github.inbox import (
    CHECKPOINT_BYTES,
    ZSTD_LEVEL,
    DeliveryRefused,
    Inbox,
    Incoming,
    raw_body,
)


async def test_rows_read_back_as_recorded_in_arrival_order(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    inbox = Inbox(sessions, clock)
    inbox.start()
    try:
        assert await inbox.record(Incoming("a", "issues", "opened", b'{"action": "opened"}'))
        # Same clock reading: the next arrival is still strictly later.
        assert await inbox.record(Incoming("b", "star", "created", None))
        assert not await inbox.record(Incoming("a", "issues", "opened", b"{}"))
    finally:
        await inbox.close()

    async with sessions() as session:
        rows = list(
            await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.received_at))
        )
    assert [
        (
            r.delivery_id,
            r.status,
            r.body and raw_body(r.body, r.body_encoding),
            r.received_at,
            r.processed_at,
            r.attempts,
        )
        for r in rows
    ] == [
        ("a", "pending", b'{"action": "opened"}', clock.now(), None, 0),
        (
            "b",
            "ignored",
            None,
            clock.now() + timedelta(microseconds=1),
            clock.now() + timedelta(microseconds=1),
            0,
        ),
    ]


async def test_a_row_the_database_refuses_fails_alone_and_its_values_are_not_logged(
    sessions: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"note": "body-marker-0451", "action": "opened"}'
    good = [Incoming(f"good-{n}", "issues", "opened", body) for n in range(20)]
    # The endpoint never sends a delivery without an event; the database refuses one (NOT
    # NULL), which stands for any value it cannot store.
    bad = Incoming("bad", None, "opened", body)  # type: ignore[arg-type]
    inbox = Inbox(sessions, clock)
    inbox.start()
    try:
        with caplog.at_level(logging.DEBUG):
            # Queued together, so that they share a commit.
            results = await asyncio.gather(
                *(inbox.record(incoming) for incoming in [*good[:10], bad, *good[10:]]),
                return_exceptions=True,
            )
    finally:
        await inbox.close()
    assert results[:10] + results[11:] == [True] * 20
    assert isinstance(results[10], DeliveryRefused)
    async with sessions() as session:
        ids = set(await session.scalars(select(WebhookDelivery.delivery_id)))
    assert ids == {incoming.delivery_id for incoming in good}
    assert "the database refused delivery bad" in caplog.text
    assert "body-marker-0451" not in caplog.text


async def test_sqlite_stores_bodies_compressed(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    body = b'{"action": "opened", "pull_request": {"title": "Fix shadows"}}' * 100
    inbox = Inbox(sessions, clock)
    inbox.start()
    try:
        assert await inbox.record(Incoming("a", "pull_request", "opened", body))
    finally:
        await inbox.close()
    async with sessions() as session:
        row = await session.get_one(WebhookDelivery, "a")
    assert row.body is not None
    assert raw_body(row.body, row.body_encoding) == body
    if sessions.kw["bind"].dialect.name == "sqlite":
        assert (row.body_encoding, len(row.body) < len(body) / 10) == ("zstd", True)
    else:  # PostgreSQL compresses in its own storage
        assert (row.body_encoding, row.body) == (None, body)


async def test_sqlite_deliveries_reach_the_database_file_not_only_the_wal(
    clock: ManualClock, tmp_path: Path
) -> None:
    database = tmp_path / "helios.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await migrate(engine)
    # Random text, which cannot be compressed much: the checkpoint counts bytes as stored.
    body = b'{"pad": "' + base64.b64encode(os.urandom(48 * 1024)) + b'"}'
    count = CHECKPOINT_BYTES // len(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)) + 1
    inbox = Inbox(create_session_factory(engine), clock)
    inbox.start()
    copy = tmp_path / "without-wal.db"
    try:
        for n in range(count):  # one by one: many commits, as under a steady stream
            assert await inbox.record(Incoming(f"d-{n}", "issues", "opened", body))
        await inbox.close()  # waits for the checkpoint the last commits started
        # The database file alone, without its write-ahead log: what a checkpoint copied.
        # (Copied while the pool's connection is open: closing the last connection to the
        # database would checkpoint it too.)
        shutil.copyfile(database, copy)
    finally:
        await inbox.close()
        await engine.dispose()
    with closing(sqlite3.connect(copy)) as connection:
        (copied,) = connection.execute("SELECT count(*) FROM webhook_deliveries").fetchone()
    assert copied == count
