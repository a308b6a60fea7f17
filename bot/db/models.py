# SPDX-License-Identifier: Apache-2.0
"""Tables. Every table that holds Discord-side data carries ``guild_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = Annotated[
    int, mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
]


class OutboxMessage(Base):
    """A message the bot has promised to post in Discord, durable until it is delivered.

    ``key`` is the idempotency key: the same promise made twice (a redelivered webhook, two
    processes scheduling the same ping) is stored once and so sent once.
    """

    __tablename__ = "outbox"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # "channel": target_id is a channel or thread id; "dm": target_id is a user id.
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    discord_message_id: Mapped[int | None]

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)


class CommandSync(Base):
    """What was last synced to Discord per guild, so the tree is synced only when it changed.

    Discord rate-limits command registration; syncing on every start is the classic mistake.
    """

    __tablename__ = "command_sync"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    payload_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]


class WebhookDelivery(Base):
    """A GitHub webhook delivery, committed before GitHub gets its 2xx.

    The raw body is kept only until the delivery is normalised (or the retention runs out):
    issue and comment texts are not ours to keep.
    """

    __tablename__ = "webhook_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    # pending: waiting for normalisation; processed; ignored: an event the bot does not use;
    # failed: a handler kept failing (the error is in last_error, the body kept for replay).
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_webhook_deliveries_pending", "status", "received_at"),)
