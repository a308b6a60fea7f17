# SPDX-License-Identifier: Apache-2.0
"""Outbox: each promised message is delivered once, survives failures, and is never doubled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Promise
from bot.outbox import (
    GITHUB_KINDS,
    LEASE,
    MAX_ATTEMPTS,
    DeliverySkipped,
    DuePromise,
    Outbox,
    PermanentDeliveryError,
    promise,
)

GUILD = 1234


async def promised(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, key: str, **extra: object
) -> bool:
    async with sessions.begin() as session:
        return await promise(
            session,
            feature="test",
            guild_id=GUILD,
            key=key,
            target_id=555,
            payload={"content": f"hello {key}"},
            now=clock.now(),
            **{"target_kind": "channel"} | extra,  # type: ignore[arg-type]
        )


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Promise]:
    async with sessions() as session:
        return list(await session.scalars(select(Promise).order_by(Promise.id)))


class Recorder:
    """Stands in for Discord at this layer; e2e tests send through the simulator."""

    def __init__(self) -> None:
        self.sent: list[DuePromise] = []

    async def __call__(self, delivery: DuePromise) -> int:
        self.sent.append(delivery)
        return 9000 + len(self.sent)


async def test_same_key_is_stored_once(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    assert await promised(sessions, clock, "first-pr:1")
    assert not await promised(sessions, clock, "first-pr:1")
    assert [row.key for row in await rows(sessions)] == ["first-pr:1"]


async def test_due_messages_are_sent_once_in_order(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "later", not_before=clock.now() + timedelta(hours=1))
    await promised(sessions, clock, "now")
    outbox, send = Outbox(sessions, clock, "proc-a"), Recorder()

    assert await outbox.deliver_due(send) == 1
    assert await outbox.deliver_due(send) == 0
    assert [d.key for d in send.sent] == ["now"]
    assert await outbox.next_due() == clock.now() + timedelta(hours=1)

    clock.advance(timedelta(hours=1))
    assert await outbox.deliver_due(send) == 1
    assert [d.key for d in send.sent] == ["now", "later"]
    stored = {row.key: row for row in await rows(sessions)}
    assert stored["now"].status == "sent"
    assert stored["now"].discord_message_id == 9001
    assert stored["later"].sent_at == clock.now()
    assert await outbox.next_due() is None


async def test_transient_failure_backs_off_then_gives_up(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "flaky")
    outbox = Outbox(sessions, clock, "proc-a")

    async def fail(_delivery: DuePromise) -> int:
        raise ConnectionError("discord is down")

    assert await outbox.deliver_due(fail) == 0
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.not_before == clock.now() + timedelta(seconds=30)
    assert "discord is down" in (row.last_error or "")

    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(timedelta(hours=1))
        await outbox.deliver_due(fail)
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


async def test_permanent_failure_is_not_retried(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "gone")

    async def forbidden(_delivery: DuePromise) -> int:
        raise PermanentDeliveryError("missing access to channel 555")

    await Outbox(sessions, clock, "proc-a").deliver_due(forbidden)
    (row,) = await rows(sessions)
    assert (row.status, row.last_error) == ("failed", "missing access to channel 555")


async def test_a_skipped_message_is_kept_with_its_reason_and_not_retried(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "issue-announced:1:2:555")
    outbox = Outbox(sessions, clock, "proc-a")

    async def feature_off(_delivery: DuePromise) -> int:
        raise DeliverySkipped("feature 'announcements' is off")

    assert await outbox.deliver_due(feature_off) == 0
    (row,) = await rows(sessions)
    assert (row.status, row.last_error, row.lease_owner) == (
        "skipped",
        "feature 'announcements' is off",
        None,
    )
    assert await outbox.next_due() is None  # nothing left to wake up for
    clock.advance(timedelta(days=1))
    recorder = Recorder()
    assert await outbox.deliver_due(recorder) == 0
    assert recorder.sent == []


async def test_a_crashed_senders_lease_expires_and_another_delivers(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "orphan")
    crashed = Outbox(sessions, clock, "proc-a")
    leased = await crashed.lease_due()  # ...and the process dies before sending
    assert [d.key for d in leased] == ["orphan"]

    survivor, send = Outbox(sessions, clock, "proc-b"), Recorder()
    assert await survivor.deliver_due(send) == 0
    assert await survivor.next_due() == clock.now() + LEASE

    clock.advance(LEASE + timedelta(seconds=1))
    assert await survivor.deliver_due(send) == 1
    # The retry carries the same nonce, so Discord drops it if the first send had landed.
    assert send.sent[0].nonce == leased[0].nonce
    assert len(send.sent[0].nonce) <= 25


async def test_a_sender_that_stops_cleanly_gives_its_leases_back(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await promised(sessions, clock, "first")
    await promised(sessions, clock, "second")
    stopping = Outbox(sessions, clock, "proc-a")
    assert len(await stopping.lease_due()) == 2  # ...and it stops before sending them
    await stopping.release()

    successor, send = Outbox(sessions, clock, "proc-b"), Recorder()
    assert await successor.deliver_due(send) == 2  # at once, not after the lease
    assert [d.key for d in send.sent] == ["first", "second"]


async def test_concurrent_senders_never_deliver_the_same_message(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    for n in range(60):
        await promised(sessions, clock, f"m{n}")
    send = Recorder()
    senders = [Outbox(sessions, clock, f"proc-{i}", batch_size=7) for i in range(4)]

    async def drain(outbox: Outbox) -> None:
        delivered = 1
        while delivered:
            delivered = await outbox.deliver_due(send)

    await asyncio.gather(*(drain(outbox) for outbox in senders))
    keys = [d.key for d in send.sent]
    assert len(keys) == 60
    assert len(set(keys)) == 60
    assert {row.status for row in await rows(sessions)} == {"sent"}


async def test_each_sender_gets_only_its_kinds(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """The Discord and GitHub senders of one process may lease at the same instant."""
    await promised(sessions, clock, "to-discord")
    await promised(sessions, clock, "to-github", target_kind="github_comment")
    discord_side = Outbox(sessions, clock, "proc-a")
    github_side = Outbox(sessions, clock, "proc-a", kinds=GITHUB_KINDS)

    assert [d.key for d in await discord_side.lease_due()] == ["to-discord"]
    assert [d.key for d in await github_side.lease_due()] == ["to-github"]
