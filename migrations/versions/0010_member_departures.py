# SPDX-License-Identifier: Apache-2.0
"""When a member left the server, so their data is deleted after the retention period.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("newcomers") as batch:
        batch.add_column(sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("newcomers") as batch:
        batch.drop_column("departed_at")
