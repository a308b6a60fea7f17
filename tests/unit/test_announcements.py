# SPDX-License-Identifier: Apache-2.0
"""Announcements: new issues in their channels, good first issues with a Claim button, once."""

from __future__ import annotations

from typing import Any

import pytest

from bot.db.models import Promise
from bot.feature import Context
from bot.github.normalise import Changes, IssueRecord
from bot.services.announcements import (
    FEATURE,
    TITLE_LIMIT,
    AnnouncementRoutes,
    announce_issue,
    on_issue,
)
from tests.unit.services_helpers import GUILD, ONBOARDING, REPO, REPO_ID, World, settings

GOOD_FIRST, PERFORMANCE, DOCS = 600, 610, 620
ROUTES = {
    "good_first_issues_channel_id": GOOD_FIRST,
    "label_channels": {"performance": PERFORMANCE, "docs": DOCS},
}
CLAIMABLE = "New good first issue! Claim it here if you'd like to take it on."


def context(world: World, **routes: Any) -> Context:
    return world.context(settings(announcements=ROUTES | routes))


async def opened(world: World, issue: IssueRecord, action: str = "opened", **routes: Any) -> None:
    await world.repository()
    await world.deliver(context(world, **routes), on_issue, "issues", action, issue)


async def announced(world: World) -> dict[int, Promise]:
    """The announcements promised, by channel."""
    rows = await world.rows(Promise)
    assert all((row.feature, row.target_kind) == ("announcements", "channel") for row in rows)
    return {row.target_id: row for row in rows}


def test_the_feature_listens_to_issues_opening_being_labelled_and_reopening() -> None:
    (webhook,) = FEATURE.webhooks
    assert all(webhook.concerns("issues", a) for a in ("opened", "labeled", "reopened"))
    assert not webhook.concerns("issues", "closed")
    assert not webhook.concerns("pull_request", "opened")


def test_routes_take_the_beginner_labels_from_onboarding_or_the_default() -> None:
    routed = AnnouncementRoutes.of(
        settings(announcements=ROUTES, onboarding=ONBOARDING | {"beginner_labels": ["starter"]})
    )
    assert routed == AnnouncementRoutes(
        guild_id=GUILD,
        good_first_issues_channel_id=GOOD_FIRST,
        beginner_labels=["starter"],
        label_channels={"performance": PERFORMANCE, "docs": DOCS},
        github=settings().github,
    )
    alone = AnnouncementRoutes.of(settings(announcements={}, onboarding=None))
    assert (alone.good_first_issues_channel_id, alone.beginner_labels, alone.label_channels) == (
        None,
        ["good first issue"],
        {},
    )


async def test_a_good_first_issue_is_announced_with_a_claim_button(world: World) -> None:
    issue = world.issue(7, title="Explain the frame graph", labels=("good first issue",))

    await opened(world, issue)

    (row,) = (await announced(world)).values()
    assert (row.key, row.guild_id, row.target_id) == (
        f"issue-announced:{REPO_ID}:7:{GOOD_FIRST}",
        GUILD,
        GOOD_FIRST,
    )
    assert row.payload == {
        "content": CLAIMABLE,
        "embeds": [
            {
                "title": f"{REPO}#7: Explain the frame graph",
                "url": issue.html_url,
                "description": "`good first issue`",
            }
        ],
        "buttons": [{"label": "Claim", "custom_id": f"claim:{REPO_ID}:7"}],
    }


async def test_labels_route_an_issue_to_their_channels_without_a_claim_button(
    world: World,
) -> None:
    await opened(world, world.issue(8, title="Culling is slow", labels=("performance", "bug")))

    (row,) = (await announced(world)).values()
    assert (row.key, row.target_id) == (f"issue-announced:{REPO_ID}:8:{PERFORMANCE}", PERFORMANCE)
    assert row.payload == {
        "content": "New issue:",
        "embeds": [
            {
                "title": f"{REPO}#8: Culling is slow",
                "url": world.issue(8).html_url,
                "description": "`bug` · `performance`",
            }
        ],
    }


async def test_an_issue_is_announced_once_per_channel_whatever_brings_it_there(
    world: World,
) -> None:
    await opened(world, world.issue(9, labels=("good first issue",)))
    await opened(world, world.issue(9, labels=("good first issue",)))  # redelivered
    await opened(world, world.issue(9, labels=("docs", "good first issue")), "labeled")
    await opened(world, world.issue(9, labels=("docs", "good first issue", "bug")), "labeled")
    await opened(world, world.issue(9, labels=("docs", "good first issue", "bug")), "reopened")

    rows = await announced(world)
    assert sorted(rows) == [GOOD_FIRST, DOCS]
    assert rows[GOOD_FIRST].payload["embeds"][0]["description"] == "`good first issue`"
    assert "buttons" not in rows[DOCS].payload
    assert rows[DOCS].payload["embeds"][0]["description"] == "`docs` · `good first issue`"


async def test_a_label_channel_that_is_the_good_first_issue_channel_gets_one_claimable_message(
    world: World,
) -> None:
    await opened(
        world,
        world.issue(9, labels=("docs", "good first issue")),
        label_channels={"docs": GOOD_FIRST},
    )

    (row,) = (await announced(world)).values()
    assert (row.target_id, row.payload["content"]) == (GOOD_FIRST, CLAIMABLE)
    assert row.payload["buttons"] == [{"label": "Claim", "custom_id": f"claim:{REPO_ID}:9"}]


async def test_an_assigned_good_first_issue_is_routed_by_its_labels_but_not_offered(
    world: World,
) -> None:
    taken = world.issue(
        9, labels=("good first issue", "performance"), assignees=(world.maintainer,)
    )

    await opened(world, taken)

    assert list(await announced(world)) == [PERFORMANCE]


@pytest.mark.parametrize("what", ["a pull request", "a closed issue", "a deleted issue"])
async def test_pull_requests_and_closed_or_removed_issues_are_not_announced(
    world: World, what: str
) -> None:
    labels = ("good first issue", "performance")
    if what == "a pull request":
        await opened(world, world.issue(9, labels=labels, pull=True))
    elif what == "a closed issue":
        await opened(world, world.issue(9, labels=labels, state="closed"), "reopened")
    else:
        await world.repository()
        await world.seed(world.issue(9, labels=labels))
        await world.write(Changes(removed_issues=[(REPO_ID, 9, "deleted")]))
        await opened(world, world.issue(9, labels=labels), "labeled")

    assert await world.rows(Promise) == []


async def test_an_issue_never_seen_is_not_announced(world: World) -> None:
    async with world.sessions.begin() as session:
        await announce_issue(
            session,
            AnnouncementRoutes.of(settings(announcements=ROUTES)),
            repository_id=REPO_ID,
            number=404,
            now=world.clock.now(),
        )
    assert await world.rows(Promise) == []


async def test_only_the_configured_beginner_labels_make_a_good_first_issue(world: World) -> None:
    starter = settings(
        announcements=ROUTES, onboarding=ONBOARDING | {"beginner_labels": ["starter"]}
    )
    await world.repository()
    for number, label in ((1, "good first issue"), (2, "starter")):
        await world.deliver(
            world.context(starter),
            on_issue,
            "issues",
            "opened",
            world.issue(number, labels=(label,)),
        )

    assert [row.key for row in await world.rows(Promise)] == [
        f"issue-announced:{REPO_ID}:2:{GOOD_FIRST}"
    ]


async def test_without_a_good_first_issue_channel_only_labels_route(world: World) -> None:
    await opened(
        world,
        world.issue(9, labels=("good first issue", "docs")),
        good_first_issues_channel_id=None,
    )

    assert list(await announced(world)) == [DOCS]


async def test_a_long_title_is_cut_to_fit_discord(world: World) -> None:
    await opened(world, world.issue(9, title="x" * 400, labels=("good first issue",)))

    (row,) = (await announced(world)).values()
    title = row.payload["embeds"][0]["title"]
    assert len(title) == TITLE_LIMIT
    assert title.startswith(f"{REPO}#9: xxx")
