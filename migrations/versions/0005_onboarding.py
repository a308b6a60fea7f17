# SPDX-License-Identifier: Apache-2.0
"""Onboarding: newcomers' progress through /start, and their claims on issues.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 03:13:54.140873
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index("ix_claims_member", ["guild_id", "user_id", "status"], unique=False)
        batch_op.create_index(
            "uq_claims_active_issue",
            ["guild_id", "repository_id", "number"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "newcomers",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coc_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("experience", sa.String(length=32), nullable=True),
        sa.Column("github_user_id", sa.BigInteger(), nullable=True),
        sa.Column("github_login", sa.String(length=100), nullable=True),
        sa.Column("github_verified", sa.Boolean(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("celebrate", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_newcomers")),
        sa.UniqueConstraint("guild_id", "github_user_id", name="uq_newcomers_github_account"),
    )


def downgrade() -> None:
    op.drop_table("newcomers")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_claims_active_issue",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_claims_member")

    op.drop_table("claims")
