# SPDX-License-Identifier: Apache-2.0
"""Mentorship wrap-up: when both were asked, who wants to extend, and the feedback given.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairings") as batch:
        batch.add_column(sa.Column("wrapped_up_at", sa.DateTime(timezone=True), nullable=True))
        for side in ("mentor", "mentee"):
            batch.add_column(
                sa.Column(
                    f"{side}_extends", sa.Boolean(), nullable=False, server_default=sa.false()
                )
            )
    op.create_table(
        "mentorship_feedback",
        sa.Column("pairing_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pairing_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("mentorship_feedback")
    with op.batch_alter_table("pairings") as batch:
        for column in ("mentee_extends", "mentor_extends", "wrapped_up_at"):
            batch.drop_column(column)
