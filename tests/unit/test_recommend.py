# SPDX-License-Identifier: Apache-2.0
"""Recommendations: open good first issues, best matched to a newcomer's areas first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.config import GitHubSettings
from bot.github.normalise import Changes
from bot.services import claims
from bot.services.recommend import (
    Recommendation,
    issues_with_open_pull_requests,
    recommend,
    repositories_named,
)
from tests.unit.services_helpers import (
    GUILD,
    ONBOARDING,
    REPO,
    REPO_ID,
    SDK,
    SDK_ID,
    World,
    account,
    settings,
)

BEGINNER = "good first issue"
AREA_LABELS = {area["name"]: area["labels"] for area in ONBOARDING["areas"]}
FOLLOWED = settings().github  # REPO and SDK


async def recommended(world: World, areas: tuple[str, ...] = (), **narrow: Any) -> list[int]:
    """The numbers of the recommended issues, best first (REPO's and SDK's together)."""
    found = await recommendations(world, areas, **narrow)
    return [r.number if r.repository_id == REPO_ID else 100 + r.number for r in found]


async def recommendations(
    world: World, areas: tuple[str, ...] = (), **narrow: Any
) -> list[Recommendation]:
    return await world.read(
        lambda session: recommend(
            session,
            **{"github": FOLLOWED, "limit": None} | narrow,
            guild_id=GUILD,
            areas=areas,
            area_labels=AREA_LABELS,
            beginner_labels=[BEGINNER, "starter"],
            priority_labels=["help wanted"],
        )
    )


@pytest.fixture
async def repositories(world: World) -> None:
    await world.repository()
    await world.repository(SDK_ID, SDK)


async def open_issues(world: World, *labelled: tuple[int, tuple[str, ...]]) -> None:
    """Issues of REPO, each an hour newer than the one before."""
    for number, labels in labelled:
        await world.seed(world.issue(number, labels=labels))
        world.clock.advance(timedelta(hours=1))


async def test_ranked_by_area_matches_then_priority_then_freshness(
    world: World, repositories: None
) -> None:
    await open_issues(
        world,
        (1, (BEGINNER, "docs", "core")),  # two of the member's areas, oldest
        (2, (BEGINNER, "documentation", "help wanted")),  # one area, a priority
        (3, (BEGINNER, "core")),  # one area
        (4, (BEGINNER, "docs")),  # one area, newer
        (5, ("starter", "help wanted")),  # no area, a priority
        (6, (BEGINNER, "sdk")),  # an area the member did not choose, newest
    )

    assert await recommended(world, ("docs", "core")) == [1, 2, 4, 3, 5, 6]
    best, second, *_ = await recommendations(world, ("docs", "core"))
    assert best == Recommendation(
        REPO_ID,
        REPO,
        1,
        "Issue 1",
        world.issue(1).html_url,
        ("docs", "core"),
        False,
        world.clock.now() - timedelta(hours=6),  # opened first of the six, an hour apart
    )
    assert second.areas == ("docs",)
    # Without areas, priority and freshness alone decide.
    assert await recommended(world) == [5, 2, 6, 4, 3, 1]


async def test_only_open_unassigned_issues_with_a_beginner_label_are_recommended(
    world: World, repositories: None
) -> None:
    labels = (BEGINNER, "docs")
    await world.seed(
        world.issue(1, labels=labels),
        world.issue(2, labels=labels, state="closed"),
        world.issue(3, labels=labels, assignees=(world.maintainer,)),
        world.issue(4, labels=("docs",)),
        world.issue(5, labels=labels, pull=True),
        world.issue(6, labels=labels),
        world.issue(7, labels=labels),
    )
    await world.write(
        Changes(removed_issues=[(REPO_ID, 6, "deleted"), (REPO_ID, 7, "transferred")])
    )

    assert await recommended(world, ("docs",)) == [1]


async def test_claimed_issues_are_left_out_until_the_claim_ends(
    world: World, repositories: None
) -> None:
    await open_issues(world, (1, (BEGINNER,)), (2, (BEGINNER,)))
    await world.newcomer(1, account(11, "ada-codes", world.clock.now()))
    context = world.context()
    claimed = await claims.take(context, user_id=1, repository_id=REPO_ID, number=2)
    assert await recommended(world) == [1]

    await claims.give_back(context, claimed)

    assert await recommended(world) == [2, 1]


async def test_a_claim_in_another_community_does_not_hide_an_issue(
    world: World, repositories: None
) -> None:
    await open_issues(world, (1, (BEGINNER,)))
    await world.newcomer(1, account(11, "ada-codes", world.clock.now()))
    await claims.take(world.context(), user_id=1, repository_id=REPO_ID, number=1)

    found = await world.read(
        lambda session: recommend(
            session,
            github=FOLLOWED,
            guild_id=GUILD + 1,
            areas=(),
            area_labels=AREA_LABELS,
            beginner_labels=[BEGINNER],
            priority_labels=[],
        )
    )
    assert [r.number for r in found] == [1]


async def test_issues_with_an_open_linked_pull_request_are_left_out(
    world: World, repositories: None
) -> None:
    await open_issues(world, *((n, (BEGINNER,)) for n in range(1, 6)))
    await world.seed(
        world.issue(20, pull=True, closes=("#1",)),
        world.issue(21, repository_id=SDK_ID, pull=True, closes=(f"{REPO}#2",)),
        world.issue(22, pull=True, closes=("#3",), state="closed"),  # closed: #3 is free
        world.issue(23, pull=True, closes=("someone/else#4",)),  # not a followed repository
        world.issue(24, pull=True, closes=("#5",)),
    )
    await world.write(Changes(removed_issues=[(REPO_ID, 24, "deleted")]))

    assert sorted(await recommended(world)) == [3, 4, 5]


@pytest.mark.parametrize("change", ["archived", "deleted"])
async def test_issues_of_archived_or_deleted_repositories_are_left_out(
    world: World, repositories: None, change: str
) -> None:
    await world.seed(
        world.issue(1, labels=(BEGINNER,)), world.issue(1, repository_id=SDK_ID, labels=(BEGINNER,))
    )
    world.clock.advance(timedelta(minutes=1))
    if change == "archived":
        await world.repository(SDK_ID, SDK, archived=True)
    else:
        await world.write(Changes(deleted_repository_ids=[SDK_ID]))

    assert await recommended(world) == [1]


async def test_only_repositories_shown_in_discord_are_recommended_and_named(
    world: World, repositories: None
) -> None:
    await world.seed(
        world.issue(1, labels=(BEGINNER,)), world.issue(1, repository_id=SDK_ID, labels=(BEGINNER,))
    )
    only_repo = GitHubSettings(repositories=[REPO])
    assert await recommended(world, github=only_repo) == [1]
    assert await named(world, "helios", only_repo) == [(REPO_ID, REPO)]

    world.clock.advance(timedelta(minutes=1))
    await world.repository(SDK_ID, SDK, private=True)
    assert await recommended(world) == [1]
    assert await named(world, "sdk") == []
    opted_in = GitHubSettings(repositories=[REPO, SDK], private_repositories=[SDK])
    assert sorted(await recommended(world, github=opted_in)) == [1, 101]
    assert await named(world, "sdk", opted_in) == [(SDK_ID, SDK)]


async def test_an_area_or_a_repository_narrows_and_the_limit_cuts(
    world: World, repositories: None
) -> None:
    await open_issues(world, (1, (BEGINNER, "docs")), (2, (BEGINNER, "documentation")))
    await open_issues(world, (3, (BEGINNER, "core")), (4, (BEGINNER,)))
    await world.seed(world.issue(5, repository_id=SDK_ID, labels=(BEGINNER, "sdk")))

    assert await recommended(world, only_area="docs") == [2, 1]
    assert await recommended(world, ("core",), only_area="docs") == [2, 1]
    assert await recommended(world, only_area="cooking") == []
    assert await recommended(world, repository_id=SDK_ID) == [105]
    assert await recommended(world, ("core",), limit=2) == [3, 105]
    assert len(await recommended(world)) == 5
    assert len(await recommendations(world, limit=5)) == 5


async def test_issues_with_open_pull_requests_reads_their_closing_references(
    world: World,
) -> None:
    await world.repository(REPO_ID, "Helios-Engine/Helios")  # GitHub keeps the owner's case
    await world.repository(SDK_ID, SDK)
    await world.seed(
        world.issue(10, pull=True, closes=("#1", "#2")),
        world.issue(11, repository_id=SDK_ID, pull=True, closes=("helios-engine/helios#3",)),
        world.issue(12, repository_id=SDK_ID, pull=True, closes=("#4",), state="closed"),
        world.issue(13, pull=True, closes=("other/repo#5",)),
        world.issue(14, pull=True),
    )

    linked = await world.read(issues_with_open_pull_requests)

    assert linked == {(REPO_ID, 1), (REPO_ID, 2), (REPO_ID, 3)}


async def named(
    world: World, typed: str, github: GitHubSettings = FOLLOWED
) -> list[tuple[int, str]]:
    return await world.read(lambda session: repositories_named(session, github, typed))


async def test_repositories_are_found_by_any_part_of_their_name(world: World) -> None:
    names = [SDK, REPO, "tools/under_score", "tools/underXscore", "other/gone"]
    for offset, name in enumerate(names):
        await world.repository(REPO_ID + 10 + offset, name)
    await world.write(Changes(deleted_repository_ids=[REPO_ID + 14]))
    github = GitHubSettings(repositories=names)

    assert await named(world, "sdk", github) == [(REPO_ID + 10, SDK)]
    assert [name for _, name in await named(world, "HELIOS", github)] == [REPO, SDK]  # by name
    assert [name for _, name in await named(world, "under_", github)] == [
        "tools/under_score"  # "_" is no wildcard
    ]
    assert await named(world, "gone", github) == []  # deleted
    assert len(await named(world, "", github)) == 4


async def test_at_most_25_repositories_are_offered(world: World) -> None:
    for n in range(30):
        await world.repository(1000 + n, f"acme/repo-{n:02}")

    found = await named(world, "repo", GitHubSettings(organization="acme"))

    assert [name for _, name in found] == [f"acme/repo-{n:02}" for n in range(25)]
