# SPDX-License-Identifier: Apache-2.0
"""New issues announced where people will see them: good-first-issues for newcomers, and
other labels routed to their channels (performance -> #performance).

Runs inside webhook ingestion, after normalisation, when an issue is opened or labelled. Each
issue is announced at most once per channel (the outbox key), whichever delivery, redelivery
or later label brings it there; the backfill never announces. Only issues of repositories
shown in Discord are announced (bot.services.history.shown_repositories): never a private
repository's, unless the config opts in to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import GitHubSettings, Settings
from bot.feature import POST_IN_CHANNELS, Context, Feature, Permission, Webhook
from bot.github.ingest import GitHubEvent
from bot.outbox import promise
from bot.services.history import find_issue, shown_repositories
from bot.text import code, escape, web_url

NAME = "announcements"

# Discord's limit for an embed title is 256 characters.
TITLE_LIMIT = 240


@dataclass(frozen=True)
class AnnouncementRoutes:
    guild_id: int
    good_first_issues_channel_id: int | None
    beginner_labels: Sequence[str]
    label_channels: Mapping[str, int]
    # Which repositories' issues may be announced at all.
    github: GitHubSettings

    @classmethod
    def of(cls, settings: Settings) -> AnnouncementRoutes:
        announcements, onboarding = settings.announcements, settings.onboarding
        assert announcements is not None  # the feature runs only with its section
        return cls(
            guild_id=settings.discord.guild_id,
            good_first_issues_channel_id=announcements.good_first_issues_channel_id,
            beginner_labels=onboarding.beginner_labels if onboarding else ["good first issue"],
            label_channels=announcements.label_channels,
            github=settings.github,
        )


async def on_issue(context: Context, session: AsyncSession, event: GitHubEvent) -> None:
    issue = event.issue
    await announce_issue(
        session,
        AnnouncementRoutes.of(context.settings),
        repository_id=issue.repository_id,
        number=issue.number,
        now=context.clock.now(),
    )


def discord_permissions(settings: Settings) -> Permission:
    """Posting announcements, when a channel is configured."""
    section = settings.announcements
    assert section is not None  # asked only of an enabled feature
    if section.good_first_issues_channel_id is None and not section.label_channels:
        return Permission(0)
    return POST_IN_CHANNELS


FEATURE = Feature(
    NAME,
    webhooks=(Webhook({"issues": frozenset({"opened", "labeled", "reopened"})}, on_issue),),
    promises=frozenset({"channel"}),
    discord_permissions=discord_permissions,
)


async def announce_issue(
    session: AsyncSession,
    routes: AnnouncementRoutes,
    *,
    repository_id: int,
    number: int,
    now: datetime,
) -> None:
    if repository_id not in await session.run_sync(shown_repositories, routes.github):
        return
    found = await find_issue(session, repository_id, number)
    if found is None:
        return
    issue, repository = found
    if issue.is_pull_request or issue.state != "open" or issue.removed is not None:
        return
    labels = set(issue.labels)
    channels: dict[int, bool] = {}  # channel -> with a Claim button
    for label in sorted(labels):
        if label in routes.label_channels:
            channels.setdefault(routes.label_channels[label], False)
    beginner = labels & set(routes.beginner_labels) and not issue.assignee_ids
    if beginner and routes.good_first_issues_channel_id is not None:
        channels[routes.good_first_issues_channel_id] = True
    embed = {
        # The title is one link (to the issue): Discord makes no other in it.
        "title": escape(f"{repository}#{number}: {issue.title}", links=False)[:TITLE_LIMIT],
        "description": " · ".join(code(label) for label in sorted(labels)),
    }
    if url := web_url(issue.html_url):
        embed["url"] = url
    for channel_id, claimable in channels.items():
        payload: dict[str, object] = {
            "content": "New good first issue! Claim it here if you'd like to take it on."
            if claimable
            else "New issue:",
            "embeds": [embed],
        }
        if claimable:
            payload["buttons"] = [
                {"label": "Claim", "custom_id": f"claim:{repository_id}:{number}"}
            ]
        await promise(
            session,
            feature=NAME,
            guild_id=routes.guild_id,
            key=f"issue-announced:{repository_id}:{number}:{channel_id}",
            target_kind="channel",
            target_id=channel_id,
            payload=payload,
            now=now,
        )
