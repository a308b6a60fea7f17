# SPDX-License-Identifier: Apache-2.0
"""Repositories record whether they are private, so their issues stay out of Discord.

Rows stored before this revision count as public until the next delivery from their
repository or the next `helios-bot sync` says otherwise (both carry GitHub's `private`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("github_repositories") as batch:
        batch.add_column(
            sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("github_repositories") as batch:
        batch.drop_column("private")
