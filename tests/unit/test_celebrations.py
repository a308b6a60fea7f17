# SPDX-License-Identifier: Apache-2.0
"""Celebrations: a newcomer's first pull request and first merge, cheered once each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.db.models import Newcomer, Promise
from bot.feature import Context
from bot.github.normalise import Changes, IssueRecord, RepositoryRecord, UserRecord
from bot.services import celebrations, members
from bot.services.celebrations import FEATURE, celebrate_pull_request, on_pull_request
from tests.unit.services_helpers import (
    GUILD,
    REPO,
    REPO_ID,
    SDK_ID,
    World,
    account,
    settings,
)

ADA = 1
CHANNEL, ROLE = 700, 800
CHEERS = {"channel_id": CHANNEL, "contributor_role_id": ROLE, "github_welcome_comment": True}


@pytest.fixture
async def ada(world: World) -> UserRecord:
    github = account(11, "ada-codes", world.clock.now())
    await world.repository()
    await world.newcomer(ADA, github)
    return github


def context(world: World, **cheers: object) -> Context:
    return world.context(settings(celebrations=CHEERS | cheers))


async def promised(world: World) -> list[tuple[str, str, str, int]]:
    return [
        (row.key, row.feature, row.target_kind, row.target_id) for row in await world.rows(Promise)
    ]


async def pull_event(world: World, pull: IssueRecord, action: str, **cheers: object) -> None:
    await world.deliver(context(world, **cheers), on_pull_request, "pull_request", action, pull)


def link(pull: IssueRecord) -> str:
    return f"[{REPO}#{pull.number}]({pull.html_url})"


def test_the_feature_listens_to_pull_requests_opening_reopening_and_closing() -> None:
    (webhook,) = FEATURE.webhooks
    assert [webhook.concerns("pull_request", a) for a in ("opened", "reopened", "closed")] == [
        True,
        True,
        True,
    ]
    assert not webhook.concerns("pull_request", "edited")
    assert not webhook.concerns("issues", "opened")
    assert FEATURE.is_enabled(settings(celebrations={}))
    assert not FEATURE.is_enabled(settings())


async def test_a_newcomers_first_pull_request_is_celebrated_by_direct_message(
    world: World, ada: UserRecord
) -> None:
    pull = world.issue(10, pull=True, author=ada)

    await pull_event(world, pull, "opened")

    (dm,) = await world.rows(Promise)
    assert (dm.key, dm.feature, dm.target_kind, dm.target_id, dm.guild_id) == (
        f"first-pr:{GUILD}:{ADA}",
        "celebrations",
        "dm",
        ADA,
        GUILD,
    )
    assert dm.payload == {
        "content": f"You opened your first pull request, {link(pull)}. That's a big step! "
        "A maintainer will review it; questions are always welcome."
    }


async def test_a_redelivered_or_reopened_first_pull_request_is_celebrated_once(
    world: World, ada: UserRecord
) -> None:
    pull = world.issue(10, pull=True, author=ada)
    await pull_event(world, pull, "opened")
    await pull_event(world, pull, "opened")
    await pull_event(world, pull, "reopened")

    assert await promised(world) == [(f"first-pr:{GUILD}:{ADA}", "celebrations", "dm", ADA)]


async def test_a_later_pull_request_is_no_first_even_in_another_repository(
    world: World, ada: UserRecord
) -> None:
    await world.repository(SDK_ID, "helios-engine/helios-sdk-python")
    await world.seed(world.issue(3, repository_id=SDK_ID, pull=True, author=ada, state="closed"))
    world.clock.advance(timedelta(days=1))

    await pull_event(world, world.issue(10, pull=True, author=ada), "opened")

    assert await world.rows(Promise) == []


@pytest.mark.parametrize("who", ["a stranger", "nobody (a deleted account)", "an issue"])
async def test_only_pull_requests_by_newcomers_are_celebrated(
    world: World, ada: UserRecord, who: str
) -> None:
    if who == "a stranger":
        item = world.issue(10, pull=True, author=account(99, "someone", world.clock.now()))
    elif who == "nobody (a deleted account)":
        item = replace(world.issue(10, pull=True), author=None)
    else:
        item = world.issue(10, author=ada)  # an issue, not a pull request

    await pull_event(world, item, "opened")

    assert await world.rows(Promise) == []


async def test_a_pull_request_never_seen_is_ignored(world: World, ada: UserRecord) -> None:
    configured = context(world).settings.celebrations
    assert configured is not None
    async with world.sessions.begin() as session:
        await celebrate_pull_request(
            session,
            configured,
            github=context(world).settings.github,
            guild_id=GUILD,
            repository_id=REPO_ID,
            number=404,
            now=world.clock.now(),
        )
    assert await world.rows(Promise) == []


async def test_a_first_merge_is_cheered_in_the_channel_with_the_role_and_a_github_comment(
    world: World, ada: UserRecord
) -> None:
    pull = world.issue(10, pull=True, author=ada)
    await pull_event(world, pull, "opened")
    world.clock.advance(timedelta(days=2))
    merged = world.issue(
        10, pull=True, author=ada, state="closed", merged=True, created_at=pull.created_at
    )

    await pull_event(world, merged, "closed")

    rows = {row.key: row for row in await world.rows(Promise)}
    assert await promised(world) == [
        (f"first-pr:{GUILD}:{ADA}", "celebrations", "dm", ADA),
        (f"first-merge:{GUILD}:{ADA}", "celebrations", "channel", CHANNEL),
        (f"contributor-role:{GUILD}:{ADA}", "celebrations", "role", ADA),
        (f"first-merge-comment:{GUILD}:{ADA}", "celebrations", "github_comment", REPO_ID),
    ]
    assert rows[f"first-merge:{GUILD}:{ADA}"].payload == {
        "content": f"🎉 <@{ADA}>'s first contribution was just merged: {link(pull)}!",
        "mentions": [ADA],  # the one member it may ping
    }
    assert rows[f"contributor-role:{GUILD}:{ADA}"].payload == {
        "role_id": ROLE,
        "reason": "first merged PR",
    }
    assert rows[f"first-merge-comment:{GUILD}:{ADA}"].payload == {
        "repository": REPO,
        "number": 10,
        "body": "Congratulations on your first merged pull request here, @ada-codes! 🎉 "
        "Thank you for contributing.",
    }


async def test_a_pull_request_closed_without_a_merge_is_no_first_merge(
    world: World, ada: UserRecord
) -> None:
    await pull_event(world, world.issue(10, pull=True, author=ada, state="closed"), "closed")

    assert [key for key, *_ in await promised(world)] == [f"first-pr:{GUILD}:{ADA}"]


async def test_the_first_merge_is_celebrated_once_whichever_merges_next(
    world: World, ada: UserRecord
) -> None:
    first = world.issue(10, pull=True, author=ada)
    await pull_event(world, first, "opened")
    world.clock.advance(timedelta(hours=1))
    second = world.issue(11, pull=True, author=ada)
    await pull_event(world, second, "opened")
    world.clock.advance(timedelta(hours=1))

    # The later pull request is merged first, then the earlier one, then a third.
    await pull_event(
        world,
        world.issue(
            11, pull=True, author=ada, merged=True, state="closed", created_at=second.created_at
        ),
        "closed",
    )
    after_first_merge = await promised(world)
    world.clock.advance(timedelta(hours=1))
    for number, opened in ((10, first.created_at), (12, None)):
        merged = world.issue(
            number, pull=True, author=ada, merged=True, state="closed", created_at=opened
        )
        await pull_event(world, merged, "closed")
        await pull_event(world, merged, "closed")  # redelivered

    assert await promised(world) == after_first_merge
    assert len(after_first_merge) == 4
    (cheer,) = [row for row in await world.rows(Promise) if row.target_kind == "channel"]
    assert f"{REPO}#11" in cheer.payload["content"]


async def test_celebrations_off_means_no_message_shout_out_or_comment_but_still_the_role(
    world: World, ada: UserRecord
) -> None:
    async with world.sessions.begin() as session:
        await celebrations.set_celebrations(session, GUILD, ADA, False, world.clock.now())

    await pull_event(world, world.issue(10, pull=True, author=ada), "opened")
    await pull_event(
        world, world.issue(10, pull=True, author=ada, merged=True, state="closed"), "closed"
    )

    assert await promised(world) == [
        (f"contributor-role:{GUILD}:{ADA}", "celebrations", "role", ADA)
    ]


async def test_without_a_channel_role_or_welcome_comment_only_the_message_is_promised(
    world: World, ada: UserRecord
) -> None:
    merged = world.issue(10, pull=True, author=ada, merged=True, state="closed")

    await pull_event(
        world,
        merged,
        "closed",
        channel_id=None,
        contributor_role_id=None,
        github_welcome_comment=False,
    )

    assert [key for key, *_ in await promised(world)] == [f"first-pr:{GUILD}:{ADA}"]


async def test_set_celebrations_writes_the_members_row_and_can_turn_them_on_again(
    world: World,
) -> None:
    async with world.sessions.begin() as session:
        await celebrations.set_celebrations(session, GUILD, 42, False, world.clock.now())
    (row,) = await world.rows(Newcomer)
    assert (row.user_id, row.celebrate, row.started_at) == (42, False, world.clock.now())

    world.clock.advance(timedelta(days=1))
    async with world.sessions.begin() as session:
        await celebrations.set_celebrations(session, GUILD, 42, True, world.clock.now())
    (row,) = await world.rows(Newcomer)
    assert (row.celebrate, row.started_at) == (True, world.clock.now() - timedelta(days=1))


@pytest.mark.parametrize("opted_out", [False, True])
async def test_a_member_who_linked_with_link_alone_is_cheered_like_a_newcomer(
    world: World, opted_out: bool
) -> None:
    """Whoever linked the account, with `/start` or `/link`: no newcomer row is needed (it
    holds only the opt-out)."""
    await world.repository()
    owner = account(11, "ada-codes", world.clock.now())
    async with world.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            ADA,
            github_user_id=owner.id,
            login=owner.login,
            verified=True,
            now=world.clock.now(),
        )
        if opted_out:
            await celebrations.set_celebrations(session, GUILD, ADA, False, world.clock.now())

    await pull_event(world, world.issue(10, pull=True, author=owner, merged=True), "closed")

    cheers = [f"first-merge-comment:{GUILD}:{ADA}", f"first-merge:{GUILD}:{ADA}"]
    cheers.append(f"first-pr:{GUILD}:{ADA}")
    assert sorted(key for key, *_ in await promised(world)) == [
        f"contributor-role:{GUILD}:{ADA}",
        *([] if opted_out else cheers),
    ]


async def test_a_member_who_only_typed_the_login_is_neither_cheered_nor_given_the_role(
    world: World,
) -> None:
    """Anyone can type anyone's login: the impostor must not get the owner's cheers."""
    await world.repository()
    await world.newcomer(ADA)
    async with world.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            ADA,
            github_user_id=11,
            login="ada-codes",
            verified=False,
            now=world.clock.now(),
        )
    owner = account(11, "ada-codes", world.clock.now())

    await pull_event(world, world.issue(10, pull=True, author=owner, merged=True), "closed")

    assert await world.rows(Promise) == []


async def test_a_first_merge_in_a_private_repository_is_not_shouted_out_unless_shown(
    world: World, ada: UserRecord
) -> None:
    """The config keeps a private repository out of Discord; its newcomers still get the
    private message and the role."""
    await world.write(
        Changes(repositories=[RepositoryRecord(REPO_ID, REPO, False, world.clock.now(), True)])
    )
    await pull_event(world, world.issue(10, pull=True, author=ada, merged=True), "closed")

    kinds = sorted(kind for _, _, kind, _ in await promised(world))
    assert kinds == ["dm", "github_comment", "role"]
