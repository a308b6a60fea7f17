# SPDX-License-Identifier: Apache-2.0
"""Compressed webhook bodies: Zstandard in the SQLite inbox, lz4 TOAST on PostgreSQL.

``webhook_deliveries.body_encoding`` says how a body is stored: "zstd" (the SQLite inbox
compresses bodies before it writes them) or NULL (as received).

On PostgreSQL the server compresses bodies itself as it TOASTs them; pglz doing so for each
~20 KB pull request bounded the inbox (650 deliveries/s; 850-1,050 with lz4 on the same
machine). lz4 needs a server built with it (PostgreSQL 14+, as the common packages are);
without it the column keeps the default.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_toast_compression(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # EXECUTE, so that a server without lz4 raises at run time, where the handler catches it.
    op.execute(
        "DO $$ BEGIN "
        "EXECUTE 'ALTER TABLE webhook_deliveries ALTER COLUMN body SET COMPRESSION "
        f"{method}'; "
        "EXCEPTION WHEN feature_not_supported THEN "
        f"RAISE NOTICE 'compression {method} is not available: bodies keep the default'; "
        "END $$"
    )


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("body_encoding", sa.String(length=8), nullable=True))
    _set_toast_compression("lz4")


def downgrade() -> None:
    _set_toast_compression("default")
    # Code before 0008 reads bodies as received.
    deliveries = sa.table(
        "webhook_deliveries",
        sa.column("delivery_id", sa.String),
        sa.column("body", sa.LargeBinary),
        sa.column("body_encoding", sa.String),
    )
    connection = op.get_bind()
    compressed = connection.execute(
        sa.select(deliveries.c.delivery_id, deliveries.c.body).where(
            deliveries.c.body_encoding == "zstd"
        )
    ).all()
    for delivery_id, body in compressed:
        connection.execute(
            deliveries.update()
            .where(deliveries.c.delivery_id == delivery_id)
            .values(body=zstandard.decompress(body))
        )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("body_encoding")
