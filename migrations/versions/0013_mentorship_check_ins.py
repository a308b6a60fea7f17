# SPDX-License-Identifier: Apache-2.0
"""Mentorship check-ins: what was asked at each stage of a pairing, and the answer.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mentorship_check_ins",
        sa.Column("pairing_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pairing_id", "stage"),
    )


def downgrade() -> None:
    op.drop_table("mentorship_check_ins")
