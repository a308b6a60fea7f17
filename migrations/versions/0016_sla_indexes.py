# SPDX-License-Identifier: Apache-2.0
"""Indexes for the service-level scan: issues by state, and by update time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_github_issues_state", "github_issues", ["state"])
    op.create_index("ix_github_issues_updated_at", "github_issues", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_github_issues_updated_at", table_name="github_issues")
    op.drop_index("ix_github_issues_state", table_name="github_issues")
