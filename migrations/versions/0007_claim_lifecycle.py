# SPDX-License-Identifier: Apache-2.0
"""Claim reminders and releases: pull requests' closing references, renewals, shared jobs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("github_issues") as batch:
        batch.add_column(sa.Column("closes", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_jobs")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("renewed_at")
    with op.batch_alter_table("github_issues") as batch:
        batch.drop_column("closes")
