# SPDX-License-Identifier: Apache-2.0
"""Tables. Every table that holds Discord-side data carries ``guild_id``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base

# The Discord id left where a row must still stand for a member whose data was deleted
# (bot/services/retention.py): no Discord id is 0.
FORGOTTEN = 0

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = Annotated[
    int, mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
]


class Promise(Base):
    """Something the bot has promised to say or do (bot/outbox.py), durable until delivered.

    ``key`` is the idempotency key: the same promise made twice (a redelivered webhook, two
    processes scheduling the same ping) is stored once and so delivered once.
    """

    __tablename__ = "outbox"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # The feature that promised it (its config section): the sender skips what a feature
    # that is turned off promised.
    feature: Mapped[str] = mapped_column(String(32))
    # See bot.outbox.TargetKind: what target_id means depends on it.
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    discord_message_id: Mapped[int | None]

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)


class CommandSync(Base):
    """What was last synced to Discord per guild, so the tree is synced only when it changed.

    Discord rate-limits command registration; syncing on every start is the classic mistake.
    """

    __tablename__ = "command_sync"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    payload_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]


class WebhookDelivery(Base):
    """A GitHub webhook delivery, committed before GitHub gets its 2xx.

    The raw body is kept only until the delivery is normalised (or the retention runs out):
    issue and comment texts are not ours to keep.
    """

    __tablename__ = "webhook_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    # pending: waiting for normalisation; processed; ignored: an event the bot does not use,
    # or (the reason in last_error) from a repository the config does not follow; failed: a
    # handler kept failing (the error is in last_error, the body kept for replay).
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How body is stored: "zstd" (Zstandard, by the SQLite inbox) or None (as received); read
    # it with bot.github.inbox.raw_body.
    body_encoding: Mapped[str | None] = mapped_column(String(8))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set by bot.github.ingest: who is processing it until when, and when to retry a failure.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_webhook_deliveries_pending", "status", "received_at"),)


# --- The normalised GitHub history (bot/github/normalise.py writes it; docs/ingestion.md) ---
# Keys are GitHub's own ids, so a webhook and a backfill of the same fact land on the same row.
# These tables hold no Discord data and so no guild_id.


class GitHubRepository(Base):
    __tablename__ = "github_repositories"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Followed across renames and transfers: the repository object with the newest updated_at.
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    archived: Mapped[bool] = mapped_column(default=False)
    # GitHub's `private`: such a repository's issues stay out of Discord unless the config
    # lists it in github.private_repositories (GitHubSettings.shows).
    private: Mapped[bool] = mapped_column(default=False, server_default=false())
    installation_id: Mapped[int | None]
    updated_at: Mapped[datetime | None]
    deleted: Mapped[bool] = mapped_column(default=False)


class GitHubUser(Base):
    """A contributor (or bot) by GitHub user id; the login follows renames."""

    __tablename__ = "github_users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    login: Mapped[str] = mapped_column(String(100), index=True)
    type: Mapped[str] = mapped_column(String(32))
    is_bot: Mapped[bool]
    # Payload time of the object the login was read from; an older one never overwrites it.
    seen_at: Mapped[datetime]


class GitHubIssue(Base):
    """An issue or pull request, as of its newest ``updated_at`` seen. No bodies are kept."""

    __tablename__ = "github_issues"

    repository_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    is_pull_request: Mapped[bool]
    title: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(String(32))
    draft: Mapped[bool] = mapped_column(default=False)
    merged: Mapped[bool] = mapped_column(default=False)
    merged_at: Mapped[datetime | None]
    merged_by_id: Mapped[int | None]
    labels: Mapped[list[str]] = mapped_column(JSON)
    assignee_ids: Mapped[list[int]] = mapped_column(JSON)
    requested_reviewer_ids: Mapped[list[int]] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(index=True)
    author_association: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    html_url: Mapped[str] = mapped_column(String(500))
    # A pull request's closing references ("Fixes #12", "Closes owner/repo#3"), read from its
    # body: "#12" in its own repository, "owner/repo#3" (lower case) elsewhere.
    closes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # "deleted" or "transferred": once set it stays, so a late delivery cannot revive the issue.
    removed: Mapped[str | None] = mapped_column(String(16))
    # "This item's history changed": bumped by every write of the normaliser that touches its
    # facts (its snapshot, a review, comment or event, its removal), from webhooks and the
    # backfill alike, however late or out of order. What is computed from the history and kept
    # (sla_waits) notes the revision it read, and is stale once it differs.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        # The service-level scan reads the open items, and the share met within target those
        # updated lately too (bot/services/sla/scan.py).
        Index("ix_github_issues_state", "state"),
        Index("ix_github_issues_updated_at", "updated_at"),
    )


class GitHubReview(Base):
    __tablename__ = "github_reviews"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    repository_id: Mapped[int]
    number: Mapped[int]
    reviewer_id: Mapped[int | None] = mapped_column(index=True)
    # APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED (which stays once set).
    state: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime]
    author_association: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_github_reviews_issue", "repository_id", "number"),)


class GitHubComment(Base):
    """That someone commented, and when; never what they wrote."""

    __tablename__ = "github_comments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    repository_id: Mapped[int]
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # "issue" or "review"
    author_id: Mapped[int | None] = mapped_column(index=True)
    author_association: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_github_comments_issue", "repository_id", "number"),)


class GitHubIssueEvent(Base):
    """A transition of an issue or pull request: labeled, assigned, closed, merged, ...

    ``subject`` is the label name, the assignee's or requested reviewer's user id, or "" for
    transitions without one. The natural key makes a webhook and a backfill store it once.
    """

    __tablename__ = "github_issue_events"

    id: Mapped[BigIntPK]
    repository_id: Mapped[int]
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None]

    __table_args__ = (
        UniqueConstraint("repository_id", "number", "kind", "subject", "occurred_at"),
    )


class SlaWait(Base):
    """An open item's current service-level wait (bot/services/sla/store.py), kept so that a
    scan reads one row per open item instead of its history. Every open item of a shown
    repository has one, waiting or not, once refreshed.

    It is what the clocks made of the history at ``revision`` of the item (and ``origins``:
    [repository id, number, revision] of each issue it was transferred from, -1 for one not
    stored) under the rules with fingerprint ``rules``; if any of them differs now, the row
    is stale and the scan computes the item afresh.
    """

    __tablename__ = "sla_waits"

    repository_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int]
    rules: Mapped[str] = mapped_column(String(32))
    origins: Mapped[list[list[int]]] = mapped_column(JSON)
    # Where it is measured (where it was opened), who opened it there and whether GitHub
    # called it their first contribution.
    counted_in: Mapped[int]
    opener_id: Mapped[int | None]
    first_time: Mapped[bool]
    # The running wait; None when it waits on no one.
    kind: Mapped[str | None] = mapped_column(String(8))
    waiting_on: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    # [paused at, resumed at or None] in ISO 8601 (time in draft, which does not count).
    paused: Mapped[list[list[str | None]]] = mapped_column(JSON)


class GitHubLabel(Base):
    __tablename__ = "github_labels"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    repository_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    deleted: Mapped[bool] = mapped_column(default=False)


class GitHubCollaborator(Base):
    """A repository collaborator added through a ``member`` event, with their permission."""

    __tablename__ = "github_collaborators"

    repository_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    permission: Mapped[str | None] = mapped_column(String(32))


class Newcomer(Base):
    """A member's way through `/start`: where they are and what they chose (who they are on
    GitHub is their :class:`Member` row).

    A row exists from the member's first step; running `/start` again continues there.
    ``finished_at`` is the discovery time that time-to-first-PR is measured from.
    """

    __tablename__ = "newcomers"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    started_at: Mapped[datetime]
    coc_accepted_at: Mapped[datetime | None]
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    experience: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[datetime | None]
    celebrate: Mapped[bool] = mapped_column(default=True)
    # When the member left the server; their data is deleted after the retention period.
    departed_at: Mapped[datetime | None]


class Member(Base):
    """Who a member is on GitHub and where in the world, whichever features they use: written
    by `/start`, `/link`, `/buddy` and `/mentor join` (bot/services/members.py), so mentors
    and maintainers who never ran `/start` have one too, without a newcomer row."""

    __tablename__ = "members"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    github_user_id: Mapped[int | None]
    github_login: Mapped[str | None] = mapped_column(String(100))
    # False when the member typed a login the bot could not verify (config allows it).
    github_verified: Mapped[bool] = mapped_column(default=False)
    linked_at: Mapped[datetime | None]
    # Minutes east of UTC, if the member said (a mentor nearby is easier to talk to).
    utc_offset: Mapped[int | None] = mapped_column(Integer)

    # One Discord member per GitHub account in a community.
    __table_args__ = (
        UniqueConstraint("guild_id", "github_user_id", name="uq_members_github_account"),
    )


class Claim(Base):
    """A newcomer's claim on an issue: the bot assigned them (or commented) on GitHub."""

    __tablename__ = "claims"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    # FORGOTTEN: the member's data was deleted while GitHub still had them assigned.
    user_id: Mapped[int]
    repository_id: Mapped[int]
    number: Mapped[int]
    # "assigned" on GitHub, or "commented" where newcomers cannot be assigned.
    method: Mapped[str] = mapped_column(String(16))
    # The GitHub account it was claimed as: the one to unassign, even once the member's
    # data is deleted.
    github_login: Mapped[str | None] = mapped_column(String(100))
    # active, released (by the bot after the grace period), withdrawn (/unclaim), done (a PR),
    # unassigning (given back, waiting for GitHub to unassign).
    status: Mapped[str] = mapped_column(String(16), default="active")
    claimed_at: Mapped[datetime]
    # "I'm still on it" after a reminder: the grace periods count from here instead.
    renewed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_claims_member", "guild_id", "user_id", "status"),
        # At most one active claim per issue, enforced by the database under concurrency.
        Index(
            "uq_claims_active_issue",
            "guild_id",
            "repository_id",
            "number",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )


class Mentor(Base):
    """A member who mentors newcomers (bot/services/mentorship/)."""

    __tablename__ = "mentors"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # pending (waiting for an organiser's approval), active, paused or left.
    status: Mapped[str] = mapped_column(String(16))
    areas: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON)
    # Active pairings, kept with every match and ending: a match takes a place with one
    # conditional UPDATE, so two matches at once never fill a mentor past capacity.
    load: Mapped[int] = mapped_column(Integer, default=0)
    # A pause with an end resumes by itself then.
    paused_until: Mapped[datetime | None]
    joined_at: Mapped[datetime]
    # When the mentor was last given a mentee: the work is spread by it.
    last_matched_at: Mapped[datetime | None]


class Pairing(Base):
    """A newcomer's request for a mentor, and the mentor they were given.

    ``queued``: nobody was available, served oldest first; ``active``: paired until
    ``ends_at``; ``ended``: over, ``end_reason`` says why (a handover ends one pairing and
    queues the next). At most one queued or active pairing per newcomer.
    """

    __tablename__ = "pairings"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    mentee_id: Mapped[int]
    mentor_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime]
    matched_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # Why this mentor, as told to both ("docs, UTC+1, 0 of 2 mentees"), and the score.
    reason: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    # Mentors this newcomer declined (once) or who handed them over: never matched again
    # (FORGOTTEN for one whose data was deleted).
    excluded_mentor_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # When both were asked to wrap up (at ``ends_at``); cleared when they extend.
    wrapped_up_at: Mapped[datetime | None]
    # Who clicked Extend at this wrap-up: both extending adds another ``pairing_days``.
    mentor_extends: Mapped[bool] = mapped_column(default=False, server_default=false())
    mentee_extends: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (
        Index("ix_pairings_mentor", "guild_id", "mentor_id", "status"),
        Index(
            "uq_pairings_open_mentee",
            "guild_id",
            "mentee_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'active')"),
            postgresql_where=text("status IN ('queued', 'active')"),
        ),
    )


class CheckIn(Base):
    """A question the bot asked at a stage of a pairing ("mentor-7": the mentor's day-7
    check-in; "mentee-7": the mentee's), and the answer, once given. Written with the promise
    that asks it, so the periodic job asks each stage once."""

    __tablename__ = "mentorship_check_ins"

    pairing_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None]


class Feedback(Base):
    """What the mentor or the mentee thought of a pairing at its wrap-up: a score from 1 to 5
    and, if they wrote one, a few words. One per person and pairing; giving it again
    replaces it."""

    __tablename__ = "mentorship_feedback"

    pairing_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # "mentor" or "mentee".
    side: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime]


# --- The REST backfill's own bookkeeping (bot/github/sync.py) -------------------------------


class GitHubSyncCheckpoint(Base):
    """How far the backfill of one listing of one repository got, so a killed run resumes.

    ``synced_until``: everything updated (created, for events) before it has been written.
    Newest-first listings (pulls, events) can only move it once a pass ends, so a pass in
    progress keeps its own mark and the address of its next page.
    """

    __tablename__ = "github_sync_checkpoints"

    # The repository as configured, lower case ("owner/name").
    repository: Mapped[str] = mapped_column(String(200), primary_key=True)
    listing: Mapped[str] = mapped_column(String(16), primary_key=True)
    synced_until: Mapped[datetime | None]
    pass_until: Mapped[datetime | None]
    next_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class GitHubSyncLease(Base):
    """Who is syncing a repository until when: one process at a time, on any database."""

    __tablename__ = "github_sync_leases"

    repository: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class ScheduledJob(Base):
    """When a periodic job (bot/scheduler.py) is next due, shared by every process."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(64))


class SlaSnooze(Base):
    """A maintainer's `/sla snooze`: no service-level pings about the item until ``until``
    (bot/services/sla/snoozes.py). ``reason`` is stored as written and escaped when shown;
    ``user_id`` None: the maintainer's data was deleted after they left."""

    __tablename__ = "sla_snoozes"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    repository_id: Mapped[int]
    number: Mapped[int]
    user_id: Mapped[int | None]
    created_at: Mapped[datetime]
    until: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(200))


class Kudos(Base):
    """`/kudos member reason`: thanks from one member to another (bot/services/recognition/
    kudos.py), counted in the weekly spotlight and quoted there. ``reason`` is stored as
    written and escaped when shown."""

    __tablename__ = "recognition_kudos"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    giver_id: Mapped[int]
    receiver_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    given_at: Mapped[datetime]

    __table_args__ = (
        # The giver's rate limit, and what a member received in a week.
        Index("ix_recognition_kudos_giver", "guild_id", "giver_id", "given_at"),
        Index("ix_recognition_kudos_receiver", "guild_id", "receiver_id", "given_at"),
    )


class Consent(Base):
    """A member's standing answer to being featured by name: "yes" or "no" (the consent
    question's Yes and Never, or `/spotlight opt-in` and `opt-out`). No row: never said."""

    __tablename__ = "recognition_consent"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    choice: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime]


class ConsentAsk(Base):
    """The consent question asked of a member ahead of one week's spotlight, and their
    answer: "yes", "not_now" (this week only) or "never"; None while unanswered."""

    __tablename__ = "recognition_asks"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The spotlight's date (its post day, UTC).
    week: Mapped[date] = mapped_column(primary_key=True)
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime | None]


class SpotlightWeek(Base):
    """What became of one week's spotlight: "posted", "skipped" (`/spotlight skip`) or
    "empty" (nobody could be featured). Its insert is the once-only decision: two processes
    or a restart find the row and do nothing."""

    __tablename__ = "recognition_weeks"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    week: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    # Who skipped it, or posted it early with `/spotlight post-now`; None: the schedule.
    by_user_id: Mapped[int | None]
    at: Mapped[datetime]


class SpotlightFeature(Base):
    """Someone a posted spotlight featured (``named_only``: named as a first-time
    contributor beyond the embeds), by Discord member, GitHub account or both: the cooldown
    reads it, and later the newsletter."""

    __tablename__ = "recognition_features"

    id: Mapped[BigIntPK]
    guild_id: Mapped[int]
    week: Mapped[date]
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None]
    github_user_id: Mapped[int | None]
    named_only: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_recognition_features_week", "guild_id", "week"),)


class ChampionsMonth(Base):
    """What became of one month's Community Champions: "posted" or "empty" (nobody could
    be named). Its insert is the once-only decision, like a spotlight week's."""

    __tablename__ = "recognition_months"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The month's first day: the month the champions are of.
    month: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]


class Champion(Base):
    """A member who was a Community Champion of a month (for the role's move next month, and
    the newsletter), with their score and place."""

    __tablename__ = "recognition_champions"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    github_user_id: Mapped[int | None]
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
