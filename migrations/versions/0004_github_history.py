# SPDX-License-Identifier: Apache-2.0
"""GitHub history: the normalised contributor history, and leases on webhook deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 02:52:32.873547
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "github_collaborators",
        sa.Column("repository_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("permission", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("repository_id", "user_id", name=op.f("pk_github_collaborators")),
    )
    op.create_table(
        "github_comments",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_association", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_comments")),
    )
    with op.batch_alter_table("github_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_github_comments_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index("ix_github_comments_issue", ["repository_id", "number"], unique=False)

    op.create_table(
        "github_issue_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_issue_events")),
        sa.UniqueConstraint(
            "repository_id",
            "number",
            "kind",
            "subject",
            "occurred_at",
            name=op.f("uq_github_issue_events_repository_id"),
        ),
    )
    op.create_table(
        "github_issues",
        sa.Column("repository_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("is_pull_request", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.String(length=32), nullable=True),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_by_id", sa.BigInteger(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("assignee_ids", sa.JSON(), nullable=False),
        sa.Column("requested_reviewer_ids", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_association", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("html_url", sa.String(length=500), nullable=False),
        sa.Column("removed", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("repository_id", "number", name=op.f("pk_github_issues")),
    )
    with op.batch_alter_table("github_issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_github_issues_author_id"), ["author_id"], unique=False)

    op.create_table(
        "github_labels",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_labels")),
    )
    with op.batch_alter_table("github_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_github_labels_repository_id"), ["repository_id"], unique=False
        )

    op.create_table(
        "github_repositories",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_repositories")),
    )
    with op.batch_alter_table("github_repositories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_github_repositories_full_name"), ["full_name"], unique=False
        )

    op.create_table(
        "github_reviews",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_association", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_reviews")),
    )
    with op.batch_alter_table("github_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_github_reviews_issue", ["repository_id", "number"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_github_reviews_reviewer_id"), ["reviewer_id"], unique=False
        )

    op.create_table(
        "github_users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_users")),
    )
    with op.batch_alter_table("github_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_github_users_login"), ["login"], unique=False)

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")

    with op.batch_alter_table("github_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_github_users_login"))

    op.drop_table("github_users")
    with op.batch_alter_table("github_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_github_reviews_reviewer_id"))
        batch_op.drop_index("ix_github_reviews_issue")

    op.drop_table("github_reviews")
    with op.batch_alter_table("github_repositories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_github_repositories_full_name"))

    op.drop_table("github_repositories")
    with op.batch_alter_table("github_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_github_labels_repository_id"))

    op.drop_table("github_labels")
    with op.batch_alter_table("github_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_github_issues_author_id"))

    op.drop_table("github_issues")
    op.drop_table("github_issue_events")
    with op.batch_alter_table("github_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_github_comments_issue")
        batch_op.drop_index(batch_op.f("ix_github_comments_author_id"))

    op.drop_table("github_comments")
    op.drop_table("github_collaborators")
