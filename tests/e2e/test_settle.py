# SPDX-License-Identifier: Apache-2.0
"""`Sandbox.settle()` waits for work that moves from one table to another while it looks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import WebhookDelivery
from bot.outbox import promise
from bot.sandbox.community import Sandbox
from tests.e2e.test_onboarding import member


async def test_a_delivery_processed_while_settle_counts_is_waited_for(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    """The ingestion worker commits a delivery's "processed" and the message it promised in
    one transaction; settle() must see one or the other, whenever that commit lands. Here it
    lands just after settle's first look at the outbox, as it did by chance on PostgreSQL
    (each statement reads what is committed at its own moment, on SQLite too)."""
    sandbox = Sandbox(tmp_path, clock, database_url=database_url)
    await sandbox.start()
    other_process = create_engine(database_url)
    try:
        bot, ada, now = sandbox.running_bot, member(sandbox, "ada"), clock.now()
        # A delivery waiting to be retried tomorrow: the bot's own worker leaves it alone.
        async with bot.runtime.sessions.begin() as session:
            session.add(
                WebhookDelivery(
                    delivery_id="held",
                    event="issues",
                    action="opened",
                    status="pending",
                    received_at=now,
                    attempts=1,
                    retry_at=now + timedelta(days=1),
                )
            )

        async def process_it(_: object) -> None:
            """What a worker in another process commits when it processes the delivery."""
            async with create_session_factory(other_process).begin() as session:
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.delivery_id == "held")
                    .values(status="processed", retry_at=None)
                )
                await promise(
                    session,
                    feature="test",
                    guild_id=bot.guild_id,
                    key="from-the-delivery",
                    target_kind="dm",
                    target_id=ada.id,
                    payload={"content": "Your pull request was opened."},
                    now=now,
                )

        processed = False

        def after_execute(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            nonlocal processed
            if not processed and "count(" in statement and "FROM outbox" in statement:
                processed = True
                connection.connection.dbapi_connection.run_async(process_it)

        engine = bot.runtime.engine.sync_engine
        event.listen(engine, "after_cursor_execute", after_execute)
        try:
            await sandbox.settle()
        finally:
            event.remove(engine, "after_cursor_execute", after_execute)
        assert processed
        told = [m.content for m in sandbox.discord.dm_messages(ada)]
        assert told == ["Your pull request was opened."]
    finally:
        await other_process.dispose()
        await sandbox.stop()
