# SPDX-License-Identifier: Apache-2.0
"""Claims: the GitHub account each was claimed as, so that a claim GitHub has not yet let go
of can still be unassigned after its member's data is deleted (bot/services/claims.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-20 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

claims = sa.table("claims", sa.column("guild_id"), sa.column("user_id"), sa.column("github_login"))
members = sa.table(
    "members", sa.column("guild_id"), sa.column("user_id"), sa.column("github_login")
)


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("github_login", sa.String(length=100), nullable=True))
    # A member cannot link another account while a claim is active or being given back, so
    # their link is the account those claims were made as.
    op.execute(
        claims.update().values(
            github_login=sa.select(members.c.github_login)
            .where(members.c.guild_id == claims.c.guild_id, members.c.user_id == claims.c.user_id)
            .scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("github_login")
