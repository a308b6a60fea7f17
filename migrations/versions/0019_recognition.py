# SPDX-License-Identifier: Apache-2.0
"""Recognition: kudos, members' consent to being featured, the consent questions, and the
weekly spotlights with whom they featured.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "recognition_kudos",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("giver_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_recognition_kudos_giver", "recognition_kudos", ["guild_id", "giver_id", "given_at"]
    )
    op.create_index(
        "ix_recognition_kudos_receiver",
        "recognition_kudos",
        ["guild_id", "receiver_id", "given_at"],
    )
    op.create_table(
        "recognition_consent",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("choice", sa.String(8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "recognition_asks",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "recognition_weeks",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "recognition_features",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("github_user_id", sa.BigInteger(), nullable=True),
        sa.Column("named_only", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_recognition_features_week", "recognition_features", ["guild_id", "week"])


def downgrade() -> None:
    op.drop_index("ix_recognition_features_week", table_name="recognition_features")
    op.drop_table("recognition_features")
    op.drop_table("recognition_weeks")
    op.drop_table("recognition_asks")
    op.drop_table("recognition_consent")
    op.drop_index("ix_recognition_kudos_receiver", table_name="recognition_kudos")
    op.drop_index("ix_recognition_kudos_giver", table_name="recognition_kudos")
    op.drop_table("recognition_kudos")
