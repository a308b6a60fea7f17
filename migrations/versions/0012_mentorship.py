# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program: mentors, pairings (and the queue), a newcomer's time zone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('queued', 'active')"


def upgrade() -> None:
    op.create_table(
        "mentors",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("utc_offset", sa.Integer(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("load", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id"),
    )
    op.create_table(
        "pairings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("mentee_id", sa.BigInteger(), nullable=False),
        sa.Column("mentor_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("excluded_mentor_ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_pairings_mentor", "pairings", ["guild_id", "mentor_id", "status"])
    op.create_index(
        "uq_pairings_open_mentee",
        "pairings",
        ["guild_id", "mentee_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    with op.batch_alter_table("newcomers") as batch:
        batch.add_column(sa.Column("utc_offset", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("newcomers") as batch:
        batch.drop_column("utc_offset")
    op.drop_index("uq_pairings_open_mentee", table_name="pairings")
    op.drop_index("ix_pairings_mentor", table_name="pairings")
    op.drop_table("pairings")
    op.drop_table("mentors")
