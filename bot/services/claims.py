# SPDX-License-Identifier: Apache-2.0
"""Claims: a newcomer says "I'll take this issue", and everyone else can see it is taken.

The database decides who holds an issue (a unique index allows one active claim per issue,
and the member's row is locked while their claims are counted), so two clicks at once cannot
both get it. Everything that makes an issue worth recommending is checked again when it is
claimed, since a button may be days old. The GitHub side (assigning, or a comment where
newcomers cannot be assigned) happens after the claim is committed; if GitHub refuses, the
claim is withdrawn again. A member whose GitHub link is unverified claims in Discord only:
the bot never writes to GitHub on the word of an account it could not verify.

A claim ends when its issue closes, when its holder gives it back, or when it goes too long
without a pull request: a scheduled follow-up reminds the holder first, then releases it.
A claim given back while GitHub refuses to unassign waits as "unassigning", and the
follow-up asks GitHub again at each run until it lets go, even after the member's data is
deleted (the claim then names nobody, and keeps the GitHub login it was made as).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import GitHubSettings, OnboardingSettings
from bot.db.models import FORGOTTEN, Claim, GitHubIssue, GitHubRepository, Member, Newcomer
from bot.errors import NO_GITHUB, DomainError
from bot.feature import Context
from bot.github.api import GitHub, GitHubUnavailable
from bot.log import get_logger
from bot.outbox import promise
from bot.services.history import find_issue
from bot.services.recommend import issues_with_open_pull_requests, not_claimable
from bot.text import escape, link

log = get_logger(__name__)

# Claims belong to the newcomer path: its section configures them, its feature promises.
FEATURE_NAME = "onboarding"
ENDED = "That claim has ended already. `/issues` shows what is open now."


class ClaimRefused(DomainError):
    """The issue cannot be claimed by this member; other issues are worth offering."""


# How a claim shows on GitHub: the member is assigned, a comment says they are on it (where
# newcomers cannot be assigned), or nothing (their GitHub link is unverified).
ClaimMethod = Literal["assigned", "commented", "unverified"]


@dataclass(frozen=True)
class ClaimTarget:
    """What the GitHub side needs to act on a claim."""

    claim_id: int
    repository: str
    number: int
    title: str
    url: str
    github_login: str
    user_id: int = 0
    method: str = "assigned"

    @property
    def link(self) -> str:
        """The issue as a Discord link, its parts from GitHub escaped."""
        return link(f"{self.repository}#{self.number}", self.url)

    @property
    def shown_title(self) -> str:
        """The title as written, whatever markdown or mentions it holds."""
        return escape(self.title)


@dataclass(frozen=True)
class ClaimPolicy:
    """How long a claim may go without a pull request; None: never."""

    remind_after: timedelta | None
    release_after: timedelta | None

    @classmethod
    def days(cls, remind: int, release: int) -> ClaimPolicy:
        return cls(
            timedelta(days=remind) if remind else None,
            timedelta(days=release) if release else None,
        )


async def take(context: Context, *, user_id: int, repository_id: int, number: int) -> ClaimTarget:
    """Claim an issue for a member: the claim is committed, then GitHub is told (assigned,
    or a comment where newcomers cannot be assigned); if GitHub refuses, it is withdrawn."""
    settings = _settings(context)
    github = _github(context)
    async with context.sessions.begin() as session:
        target = await claim(
            session,
            guild_id=context.guild_id,
            user_id=user_id,
            repository_id=repository_id,
            number=number,
            max_active=settings.max_active_claims,
            beginner_labels=settings.beginner_labels,
            by_comment=settings.claim_by_comment,
            github=context.settings.github,
            now=context.clock.now(),
        )
    try:
        if target.method == "commented":
            await github.comment_once(
                target.repository,
                target.number,
                f"@{target.github_login} is working on this (claimed in the community's "
                "Discord). Thank you!",
                marker=f"claim-{target.claim_id}",  # made behind an error, it still counts
            )
        elif target.method == "assigned":
            await github.assign(target.repository, target.number, target.github_login)
    except GitHubUnavailable as exc:
        log.warning("claim of %s#%d failed on GitHub: %s", target.repository, number, exc)
        async with context.sessions.begin() as session:
            await withdraw(session, target.claim_id, context.clock.now())
        raise DomainError(
            "GitHub didn't accept the claim just now, so the issue is still free. "
            "Please try again in a little while."
        ) from exc
    return target


async def give_back(context: Context, target: ClaimTarget) -> bool:
    """The holder gives the issue back. An assignment is undone on GitHub first; if GitHub
    does not answer, the claim waits as "unassigning" (no longer the member's, still
    theirs on GitHub) and the follow-up job asks again. False in that case."""
    if target.method == "assigned" and context.github is not None:
        try:
            await context.github.unassign(target.repository, target.number, target.github_login)
        except GitHubUnavailable as exc:
            log.warning("unassigning %s#%d failed: %s", target.repository, target.number, exc)
            async with context.sessions.begin() as session:
                await _end(session, target.claim_id, "unassigning", context.clock.now())
            return False
    async with context.sessions.begin() as session:
        if target.user_id == FORGOTTEN:
            # Kept only until GitHub let go: nothing of the member's is left to keep.
            await session.execute(
                delete(Claim).where(Claim.id == target.claim_id, Claim.status == "unassigning")
            )
        else:
            await withdraw(session, target.claim_id, context.clock.now())
    return True


async def forget(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Delete the member's claims (their data is being deleted), but for those GitHub has
    not yet let go of: they stay, as nobody's, for the follow-up job to unassign."""
    await session.execute(
        update(Claim)
        .where(Claim.guild_id == guild_id, Claim.user_id == user_id, Claim.status == "unassigning")
        .values(user_id=FORGOTTEN)
    )
    await session.execute(delete(Claim).where(Claim.guild_id == guild_id, Claim.user_id == user_id))


async def keep(context: Context, *, user_id: int, claim_id: int) -> ClaimTarget:
    """ "I'm still on it", on a claim reminder: the periods start again from now."""
    async with context.sessions.begin() as session:
        return await renew(session, context.guild_id, user_id, claim_id, context.clock.now())


async def held_claim(context: Context, *, user_id: int, claim_id: int) -> ClaimTarget:
    """The member's active claim ``claim_id``, for "Give it back" on its reminder."""
    async with context.sessions() as session:
        held = await active_claims(session, context.guild_id, user_id)
    target = next((c for c in held if c.claim_id == claim_id), None)
    if target is None:
        raise DomainError(ENDED)
    return target


def _settings(context: Context) -> OnboardingSettings:
    settings = context.settings.onboarding
    assert settings is not None  # claims exist only with the newcomer path
    return settings


def _github(context: Context) -> GitHub:
    if context.github is None:
        raise DomainError(NO_GITHUB)
    return context.github


async def claim(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    repository_id: int,
    number: int,
    max_active: int,
    beginner_labels: Sequence[str],
    github: GitHubSettings,
    by_comment: Sequence[str] = (),
    now: datetime,
) -> ClaimTarget:
    # Locked until the claim is committed: two clicks at once are counted one after the other
    # (PostgreSQL; SQLite has one writer at a time anyway). Claims are the newcomer path's:
    # a member who only linked with /link has no row, and /start gives them one.
    newcomer = await session.get(Newcomer, (guild_id, user_id), with_for_update=True)
    member = await session.get(Member, (guild_id, user_id))
    if member is None or member.github_user_id is None or member.github_login is None:
        raise DomainError("Link your GitHub account first: run /start, it takes a minute.")
    if newcomer is None:
        raise DomainError("Claims come with the newcomer path: run /start, it takes a minute.")
    found = await find_issue(session, repository_id, number)
    repository = await session.get(GitHubRepository, repository_id)
    if found is None or repository is None:
        raise DomainError("I can't find that issue any more. It may have moved or been deleted.")
    issue, full_name = found
    label = escape(f"{full_name}#{number}")
    linked = await session.run_sync(issues_with_open_pull_requests)
    refused = not_claimable(
        issue, repository, github, beginner_labels, linked, member.github_user_id
    )
    if refused is not None:
        raise ClaimRefused(f"{label} {refused}")
    await end_finished(session, guild_id, now, user_id=user_id)
    active = await session.scalars(
        select(Claim).where(
            Claim.guild_id == guild_id, Claim.user_id == user_id, Claim.status == "active"
        )
    )
    held = list(active)
    if any((c.repository_id, c.number) == (repository_id, number) for c in held):
        raise DomainError(f"You already have {label}. Good luck with it!")
    if len(held) >= max_active:
        raise DomainError(
            "You already have an active claim. Finish it, or `/unclaim` it, before taking "
            "another: it keeps issues free for everyone."
        )
    method: ClaimMethod = "assigned"
    if not member.github_verified:
        method = "unverified"
    elif full_name.lower() in {name.lower() for name in by_comment}:
        method = "commented"
    row = Claim(
        guild_id=guild_id,
        user_id=user_id,
        repository_id=repository_id,
        number=number,
        method=method,
        github_login=member.github_login,
        status="active",
        claimed_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise ClaimRefused(f"Someone else has just claimed {label}. Here are others:") from None
    await _take_back(session, row)
    return ClaimTarget(
        row.id,
        full_name,
        number,
        issue.title,
        issue.html_url,
        member.github_login,
        user_id,
        method,
    )


async def _take_back(session: AsyncSession, row: Claim) -> None:
    """The account is wanted on the issue again: a give-back of it that GitHub has not yet let
    go of ends here, or the follow-up would unassign the new claim."""
    earlier = (
        Claim.guild_id == row.guild_id,
        Claim.repository_id == row.repository_id,
        Claim.number == row.number,
        Claim.status == "unassigning",
        func.lower(Claim.github_login) == (row.github_login or "").lower(),
    )
    await session.execute(delete(Claim).where(*earlier, Claim.user_id == FORGOTTEN))
    await session.execute(update(Claim).where(*earlier).values(status="withdrawn"))


async def withdraw(session: AsyncSession, claim_id: int, now: datetime) -> None:
    await _end(session, claim_id, "withdrawn", now)


async def _end(session: AsyncSession, claim_id: int, status: str, now: datetime) -> None:
    """End a claim the member held or was giving back; it ended when they first let go."""
    await session.execute(
        update(Claim)
        .where(Claim.id == claim_id, Claim.status.in_(("active", "unassigning")))
        .values(status=status, ended_at=func.coalesce(Claim.ended_at, now))
    )


async def active_claims(session: AsyncSession, guild_id: int, user_id: int) -> list[ClaimTarget]:
    return [target for target, _ in await _active(session, guild_id, Claim.user_id == user_id)]


async def _active(
    session: AsyncSession, guild_id: int, *where: ColumnElement[bool], status: str = "active"
) -> list[tuple[ClaimTarget, Claim]]:
    rows = await session.execute(
        select(Claim, GitHubIssue.title, GitHubIssue.html_url, GitHubRepository.full_name)
        .join(
            GitHubIssue,
            (GitHubIssue.repository_id == Claim.repository_id)
            & (GitHubIssue.number == Claim.number),
        )
        .join(GitHubRepository, GitHubRepository.id == Claim.repository_id)
        .where(Claim.guild_id == guild_id, Claim.status == status, *where)
        .order_by(Claim.claimed_at)
    )
    return [
        (
            ClaimTarget(
                row.id,
                full_name,
                row.number,
                title,
                url,
                row.github_login or "",
                row.user_id,
                row.method,
            ),
            row,
        )
        for row, title, url, full_name in rows.all()
    ]


async def end_finished(
    session: AsyncSession, guild_id: int, now: datetime, *, user_id: int | None = None
) -> None:
    """End active claims whose issue has closed or gone, or whose holder has had a pull
    request merged in its repository since claiming: the claim did its job."""
    closed = select(GitHubIssue.number).where(
        GitHubIssue.repository_id == Claim.repository_id,
        GitHubIssue.number == Claim.number,
        (GitHubIssue.state != "open") | GitHubIssue.removed.is_not(None),
    )
    merged = select(GitHubIssue.number).where(
        GitHubIssue.repository_id == Claim.repository_id,
        GitHubIssue.merged.is_(True),
        GitHubIssue.created_at >= Claim.claimed_at,
        GitHubIssue.author_id == _holder(Claim).correlate(Claim).scalar_subquery(),
    )
    statement = update(Claim).where(
        Claim.guild_id == guild_id, Claim.status == "active", closed.exists() | merged.exists()
    )
    if user_id is not None:
        statement = statement.where(Claim.user_id == user_id)
    await session.execute(statement.values(status="done", ended_at=now))


async def renew(
    session: AsyncSession, guild_id: int, user_id: int, claim_id: int, now: datetime
) -> ClaimTarget:
    """ "I'm still on it": the reminder and release periods start again from now."""
    held = await _active(session, guild_id, Claim.user_id == user_id, Claim.id == claim_id)
    if not held:
        raise DomainError(ENDED)
    target, row = held[0]
    row.renewed_at, row.reminded_at = now, None
    return target


async def follow_up(
    session: AsyncSession, guild_id: int, policy: ClaimPolicy, now: datetime
) -> list[ClaimTarget]:
    """Remind the holders of quiet claims, and return the claims now due for release.

    Quiet: no pull request yet, meaning none by the holder in the issue's repository since
    the claim, and none by anyone that says it closes the issue. Reminders are promised in
    this transaction; releases need GitHub first (:func:`release`).
    """
    await end_finished(session, guild_id, now)
    if policy.remind_after is None and policy.release_after is None:
        return []
    with_pull = await session.run_sync(issues_with_open_pull_requests)
    due = []
    for target, row in await _active(session, guild_id):
        if (row.repository_id, row.number) in with_pull or await _has_own_pull(session, row):
            continue
        quiet = now - (row.renewed_at or row.claimed_at)
        if policy.release_after is not None and quiet >= policy.release_after:
            due.append(target)
        elif row.reminded_at is None and policy.remind_after and quiet >= policy.remind_after:
            row.reminded_at = now
            await _remind(session, guild_id, target, row, policy, now)
    return due


def _holder(claim: Any) -> Select[int | None]:
    """The GitHub account id of a claim's holder (``claim``: a row or the Claim table)."""
    return select(Member.github_user_id).where(
        Member.guild_id == claim.guild_id, Member.user_id == claim.user_id
    )


async def _has_own_pull(session: AsyncSession, claim: Claim) -> bool:
    found = await session.scalar(
        select(GitHubIssue.number)
        .where(
            GitHubIssue.repository_id == claim.repository_id,
            GitHubIssue.is_pull_request.is_(True),
            GitHubIssue.author_id == _holder(claim).scalar_subquery(),
            GitHubIssue.created_at >= claim.claimed_at,
            GitHubIssue.state == "open",
        )
        .limit(1)
    )
    return found is not None


async def _remind(
    session: AsyncSession,
    guild_id: int,
    target: ClaimTarget,
    row: Claim,
    policy: ClaimPolicy,
    now: datetime,
) -> None:
    since = row.renewed_at or row.claimed_at
    release = ""
    if policy.release_after is not None:
        release = (
            f" If I don't hear from you, I'll free it for others on "
            f"{(since + policy.release_after):%A %d %B}; you can always claim it again."
        )
    await promise(
        session,
        feature=FEATURE_NAME,
        guild_id=guild_id,
        key=f"claim-reminder:{row.id}:{since.isoformat()}",
        target_kind="dm",
        target_id=target.user_id,
        payload={
            "content": (
                f"Hi! {_how_long(target, row, (now - since).days)} How is it going? Being "
                "stuck is normal: ask in the help channel and someone will gladly help."
                f"{release}"
            ),
            "buttons": [
                {
                    "label": "I'm still on it",
                    "custom_id": f"claim:keep:{row.id}",
                    "style": "success",
                },
                {
                    "label": "Give it back",
                    "custom_id": f"claim:drop:{row.id}",
                    "style": "secondary",
                },
            ],
        },
        now=now,
    )


def _how_long(target: ClaimTarget, row: Claim, days: int) -> str:
    if row.renewed_at is None:
        return f"You claimed {target.link} {target.shown_title} {days} days ago."
    return (
        f"It's been {days} days since you said you're still on {target.link} {target.shown_title}."
    )


async def release(
    session: AsyncSession, guild_id: int, target: ClaimTarget, policy: ClaimPolicy, now: datetime
) -> bool:
    """Release a quiet claim (after GitHub was told) and tell its holder; False if it ended."""
    released = await session.execute(
        update(Claim)
        .where(Claim.id == target.claim_id, Claim.status == "active")
        .values(status="released", ended_at=now)
    )
    if not getattr(released, "rowcount", 0):
        return False
    days = policy.release_after.days if policy.release_after else 0
    await promise(
        session,
        feature=FEATURE_NAME,
        guild_id=guild_id,
        key=f"claim-released:{target.claim_id}",
        target_kind="dm",
        target_id=target.user_id,
        payload={
            "content": (
                f"I've freed {target.link} {target.shown_title} for others: {days} days went by "
                "without a pull request. No worries at all! If you are still working on it, "
                "claim it again with `/issues`, or pick something new there."
            )
        },
        now=now,
    )
    return True


async def follow_up_claims(context: Context) -> None:
    """The scheduled job: remind, then release (unassigning on GitHub first).

    A release whose unassignment fails stays active and is tried again at the next run;
    unassigning twice is harmless on GitHub, so a crash in between loses nothing.
    """
    settings = _settings(context)
    policy = ClaimPolicy.days(settings.claim_reminder_days, settings.claim_release_days)
    async with context.sessions.begin() as session:
        due = await follow_up(session, context.guild_id, policy, context.clock.now())
        giving_back = await _active(session, context.guild_id, status="unassigning")
    for target, _ in giving_back:
        await give_back(context, target)
    for target in due:
        if context.github is not None and target.method == "assigned":
            try:
                await context.github.unassign(target.repository, target.number, target.github_login)
            except GitHubUnavailable as exc:
                log.warning("releasing %s#%d: %s", target.repository, target.number, exc)
                continue
        async with context.sessions.begin() as session:
            await release(session, context.guild_id, target, policy, context.clock.now())
