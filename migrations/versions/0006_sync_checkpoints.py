# SPDX-License-Identifier: Apache-2.0
"""GitHub sync: checkpoints and leases of the REST backfill.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 03:14:47.584618
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "github_sync_checkpoints",
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("listing", sa.String(length=16), nullable=False),
        sa.Column("synced_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pass_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_url", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repository", "listing", name=op.f("pk_github_sync_checkpoints")),
    )
    op.create_table(
        "github_sync_leases",
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repository", name=op.f("pk_github_sync_leases")),
    )


def downgrade() -> None:
    op.drop_table("github_sync_leases")
    op.drop_table("github_sync_checkpoints")
