# SPDX-License-Identifier: Apache-2.0
"""Service levels kept up to date: each item's history revision, and each open item's current
wait (``sla_waits``), so that a scan reads one row per open item.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("github_issues") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False))
    # Empty: the first refresh (or scan) computes every open item.
    op.create_table(
        "sla_waits",
        sa.Column("repository_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("rules", sa.String(length=32), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("counted_in", sa.BigInteger(), nullable=False),
        sa.Column("opener_id", sa.BigInteger(), nullable=True),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("waiting_on", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", "number", name=op.f("pk_sla_waits")),
    )


def downgrade() -> None:
    op.drop_table("sla_waits")
    with op.batch_alter_table("github_issues") as batch:
        batch.drop_column("revision")
