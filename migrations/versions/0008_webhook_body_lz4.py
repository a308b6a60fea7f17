# SPDX-License-Identifier: Apache-2.0
"""PostgreSQL: compress webhook bodies with lz4 rather than pglz.

A 20 KB pull request delivery is TOASTed as it is inserted; pglz compressing it in the server
backend was what bounded the inbox (650 deliveries/s; 850-1,050 with lz4 on the same machine).
lz4 needs a server built with it (PostgreSQL 14+, as the common packages are); without it the
column keeps the default. SQLite stores the bytes as they are: nothing to do.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_compression(method: str) -> None:
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
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
