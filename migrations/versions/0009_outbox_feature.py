# SPDX-License-Identifier: Apache-2.0
"""Each outbox promise names its feature, instead of a table of key prefixes in the code.

Existing rows are backfilled from their key's first part, as the prefix table mapped it (the
celebrations, once part of onboarding, are their own feature now). Downgrading drops the
column: the older code derives the feature from the key again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The key prefixes that existed before this revision, and their features.
FEATURE_OF_PREFIX = {
    "issue-announced": "announcements",
    "first-pr": "celebrations",
    "first-merge": "celebrations",
    "first-merge-comment": "celebrations",
    "contributor-role": "celebrations",
    "claim-reminder": "onboarding",
    "claim-released": "onboarding",
}


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("feature", sa.String(length=32), nullable=True))
    outbox = sa.table("outbox", sa.column("key", sa.String), sa.column("feature", sa.String))
    for prefix, feature in FEATURE_OF_PREFIX.items():
        op.execute(outbox.update().where(outbox.c.key.like(f"{prefix}:%")).values(feature=feature))
    # Rows of no known feature (none are promised without one) belong to the bot itself.
    op.execute(outbox.update().where(outbox.c.feature.is_(None)).values(feature="bot"))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("feature", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("feature")
