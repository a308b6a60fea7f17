# SPDX-License-Identifier: Apache-2.0
"""Members: a member's GitHub link and time zone in one place, for newcomers and everyone else.

They were on ``newcomers`` (the link, and the time zone from `/start` or `/buddy`) and on
``mentors`` (the time zone from `/mentor join`); `/link` lets members who never ran `/start`
link too, without a newcomer row that would count them as newcomers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK = ("github_user_id", "github_login", "github_verified", "linked_at", "utc_offset")
KEY = ("guild_id", "user_id")

members = sa.table("members", *(sa.column(name) for name in (*KEY, *LINK)))
newcomers = sa.table("newcomers", *(sa.column(name) for name in (*KEY, *LINK)))
mentors = sa.table("mentors", *(sa.column(name) for name in (*KEY, "utc_offset")))


def _same_member(table: sa.TableClause, other: sa.TableClause) -> sa.ColumnElement[bool]:
    return sa.and_(*(table.c[name] == other.c[name] for name in KEY))


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("github_user_id", sa.BigInteger(), nullable=True),
        sa.Column("github_login", sa.String(length=100), nullable=True),
        sa.Column("github_verified", sa.Boolean(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("utc_offset", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_members")),
        sa.UniqueConstraint("guild_id", "github_user_id", name="uq_members_github_account"),
    )
    op.execute(
        members.insert().from_select(
            [*KEY, *LINK],
            sa.select(*(newcomers.c[name] for name in (*KEY, *LINK))).where(
                newcomers.c.github_user_id.is_not(None) | newcomers.c.utc_offset.is_not(None)
            ),
        )
    )
    # A mentor's own time zone wins over the one they gave as a newcomer: a mentor's newcomer
    # row comes from their own first steps, before they mentored, so the mentor profile is the
    # later word; and it is the one their mentees were matched and told about.
    mentor_offset = sa.select(mentors.c.utc_offset).where(
        _same_member(mentors, members), mentors.c.utc_offset.is_not(None)
    )
    op.execute(
        members.update()
        .where(mentor_offset.exists())
        .values(utc_offset=mentor_offset.scalar_subquery())
    )
    op.execute(
        members.insert().from_select(
            [*KEY, "github_verified", "utc_offset"],
            sa.select(mentors.c.guild_id, mentors.c.user_id, sa.false(), mentors.c.utc_offset)
            .where(mentors.c.utc_offset.is_not(None))
            .where(~sa.exists().where(_same_member(members, mentors))),
        )
    )
    with op.batch_alter_table("newcomers") as batch:
        batch.drop_constraint("uq_newcomers_github_account", type_="unique")
        for name in LINK:
            batch.drop_column(name)
    with op.batch_alter_table("mentors") as batch:
        batch.drop_column("utc_offset")


def downgrade() -> None:
    """The link and time zone go back to the newcomer and mentor rows there are; a member with
    neither (a mentor or maintainer who only used `/link`) loses theirs."""
    with op.batch_alter_table("mentors") as batch:
        batch.add_column(sa.Column("utc_offset", sa.Integer(), nullable=True))
    with op.batch_alter_table("newcomers") as batch:
        batch.add_column(sa.Column("github_user_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("github_login", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("github_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("utc_offset", sa.Integer(), nullable=True))
        batch.create_unique_constraint(
            "uq_newcomers_github_account", ["guild_id", "github_user_id"]
        )
    op.execute(
        newcomers.update()
        .where(sa.exists().where(_same_member(members, newcomers)))
        .values(
            {
                name: sa.select(members.c[name])
                .where(_same_member(members, newcomers))
                .scalar_subquery()
                for name in LINK
            }
        )
    )
    op.execute(
        mentors.update()
        .where(sa.exists().where(_same_member(members, mentors)))
        .values(
            utc_offset=sa.select(members.c.utc_offset)
            .where(_same_member(members, mentors))
            .scalar_subquery()
        )
    )
    # As 0005 made it: the model gives the value, the database no default.
    with op.batch_alter_table("newcomers") as batch:
        batch.alter_column("github_verified", server_default=None)
    op.drop_table("members")
