# SPDX-License-Identifier: Apache-2.0
"""Command sync: remember what was registered with Discord, per guild.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:39:47.267250
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "command_sync",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_command_sync")),
    )


def downgrade() -> None:
    op.drop_table("command_sync")
