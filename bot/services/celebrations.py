# SPDX-License-Identifier: Apache-2.0
"""First-contribution celebrations: a member's first pull request, and their first merge.

Short, once each (idempotency keys in the outbox), and only for members who have not turned
celebrations off (`/celebrations off`). Runs inside webhook ingestion, after normalisation,
from the normalised history: a redelivered or late webhook finds the same facts and promises
nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CelebrationSettings, GitHubSettings, Settings
from bot.db.models import GitHubIssue, GitHubRepository, Member, Newcomer
from bot.feature import POST_IN_CHANNELS, Context, Feature, Permission, Webhook
from bot.github.ingest import GitHubEvent
from bot.outbox import promise
from bot.services.history import find_issue
from bot.services.onboarding import newcomer_row
from bot.services.sla.scan import typical_first_review
from bot.text import link

NAME = "celebrations"


class Author(NamedTuple):
    """The member who opened a pull request."""

    user_id: int
    github_login: str | None
    celebrate: bool


async def on_pull_request(context: Context, session: AsyncSession, event: GitHubEvent) -> None:
    settings = context.settings.celebrations
    assert settings is not None  # the feature runs only with its section
    pull = event.issue
    await celebrate_pull_request(
        session,
        settings,
        github=context.settings.github,
        service_levels=context.settings if context.settings.sla is not None else None,
        guild_id=context.guild_id,
        repository_id=pull.repository_id,
        number=pull.number,
        now=context.clock.now(),
    )


def discord_permissions(settings: Settings) -> Permission:
    """Posting first merges in their channel and giving the Contributor role, when set."""
    section = settings.celebrations
    assert section is not None  # asked only of an enabled feature
    needed = Permission(0)
    if section.channel_id is not None:
        needed |= POST_IN_CHANNELS
    if section.contributor_role_id is not None:
        needed |= Permission.MANAGE_ROLES
    return needed


FEATURE = Feature(
    NAME,
    webhooks=(
        Webhook({"pull_request": frozenset({"opened", "reopened", "closed"})}, on_pull_request),
    ),
    promises=frozenset({"dm", "channel", "role", "github_comment"}),
    discord_permissions=discord_permissions,
)


async def celebrate_pull_request(
    session: AsyncSession,
    settings: CelebrationSettings,
    *,
    github: GitHubSettings,
    guild_id: int,
    repository_id: int,
    number: int,
    now: datetime,
    service_levels: Settings | None = None,
) -> None:
    """Cheer a member's first pull request (by direct message) and first merge. With
    ``service_levels`` (the settings, when the sla feature is on) the first message says how
    soon a first review usually comes in the repository."""
    found = await find_issue(session, repository_id, number)
    stored = await session.get(GitHubRepository, repository_id)
    if found is None or stored is None:
        return
    pull, repository = found
    if not pull.is_pull_request or pull.author_id is None:
        return
    # Whoever linked the author's account, through /start or /link; a member without a
    # newcomer row has not turned celebrations off.
    linked = (
        await session.execute(
            select(Member.user_id, Member.github_login, func.coalesce(Newcomer.celebrate, true()))
            .outerjoin(
                Newcomer,
                (Newcomer.guild_id == Member.guild_id) & (Newcomer.user_id == Member.user_id),
            )
            .where(
                Member.guild_id == guild_id,
                Member.github_user_id == pull.author_id,
                # Anyone can type anyone's login: only a verified owner is cheered or given a
                # role.
                Member.github_verified.is_(True),
            )
        )
    ).one_or_none()
    if linked is None:
        return
    author = Author(*linked)
    pull_link = link(f"{repository}#{number}", pull.html_url)
    if author.celebrate and await _is_first(session, pull, merged=False):
        review = "A maintainer will review it; questions are always welcome."
        if service_levels is not None:
            typical = await session.run_sync(
                typical_first_review, service_levels, repository_id, now
            )
            if typical is not None:
                review = (
                    f"A maintainer will review it, usually {expected(typical)} here; "
                    "questions are always welcome."
                )
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"first-pr:{guild_id}:{author.user_id}",
            target_kind="dm",
            target_id=author.user_id,
            payload={
                "content": f"You opened your first pull request, {pull_link}. "
                f"That's a big step! {review}"
            },
            now=now,
        )
    if pull.merged and await _is_first(session, pull, merged=True):
        # A private repository's work is cheered in public only where the config shows it.
        public = github.shows(repository, stored.private)
        await _first_merge(session, settings, guild_id, author, pull_link, now, public=public)
        if settings.github_welcome_comment and author.celebrate:
            await promise(
                session,
                feature=NAME,
                guild_id=guild_id,
                key=f"first-merge-comment:{guild_id}:{author.user_id}",
                target_kind="github_comment",
                target_id=repository_id,
                payload={
                    "repository": repository,
                    "number": number,
                    "body": f"Congratulations on your first merged pull request here, "
                    f"@{author.github_login}! 🎉 Thank you for contributing.",
                },
                now=now,
            )


def expected(typical: timedelta) -> str:
    """A typical wait in plain words: "within the hour", "within about 5 hours", "within
    about 2 days"."""
    hours = typical / timedelta(hours=1)
    if hours < 1:
        return "within the hour"
    if round(hours) < 36:
        return f"within about {round(hours)} hour{'s' if round(hours) > 1 else ''}"
    return f"within about {max(2, round(hours / 24))} days"


async def _is_first(session: AsyncSession, pull: GitHubIssue, *, merged: bool) -> bool:
    """No earlier pull request (merged one, if ``merged``) by the same author."""
    earlier = select(func.count()).where(
        GitHubIssue.is_pull_request.is_(True),
        GitHubIssue.author_id == pull.author_id,
        GitHubIssue.created_at < pull.created_at,
    )
    if merged:
        earlier = earlier.where(GitHubIssue.merged.is_(True))
    return not await session.scalar(earlier)


async def _first_merge(
    session: AsyncSession,
    settings: CelebrationSettings,
    guild_id: int,
    author: Author,
    pull_link: str,
    now: datetime,
    *,
    public: bool,
) -> None:
    member = f"<@{author.user_id}>"
    if public and author.celebrate and settings.channel_id is not None:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"first-merge:{guild_id}:{author.user_id}",
            target_kind="channel",
            target_id=settings.channel_id,
            # The member is the one mention this message may make.
            payload={
                "content": f"🎉 {member}'s first contribution was just merged: {pull_link}!",
                "mentions": [author.user_id],
            },
            now=now,
        )
    # The role is standing in the community, not a celebration: opting out keeps it.
    if settings.contributor_role_id is not None:
        await promise(
            session,
            feature=NAME,
            guild_id=guild_id,
            key=f"contributor-role:{guild_id}:{author.user_id}",
            target_kind="role",
            target_id=author.user_id,
            payload={"role_id": settings.contributor_role_id, "reason": "first merged PR"},
            now=now,
        )


async def set_celebrations(
    session: AsyncSession, guild_id: int, user_id: int, enabled: bool, now: datetime
) -> None:
    """Whether the bot may celebrate this member's contributions (in public and by message)."""
    row = await newcomer_row(session, guild_id, user_id, now)
    row.celebrate = enabled
