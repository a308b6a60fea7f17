# SPDX-License-Identifier: Apache-2.0
"""Linking a GitHub account: the device flow (verified) or a typed login (unverified)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.db.models import Member
from bot.errors import NO_GITHUB, DomainError
from bot.feature import Context
from bot.github.api import DeviceFlowProblem, GitHubAccount, GitHubUnavailable
from bot.services import linking, onboarding
from bot.services.linking import DEVICE_FLOW_PROBLEMS
from bot.services.members import AccountTaken, Link
from bot.services.onboarding import Step
from tests.unit.services_helpers import GUILD, World, settings

ADA, BRUNO = 1, 2
ADA_ON_GITHUB = GitHubAccount(11, "ada-codes")


async def linked(world: World) -> list[tuple[int, int | None, str | None, bool]]:
    return [
        (row.user_id, row.github_user_id, row.github_login, row.github_verified)
        for row in await world.rows(Member)
    ]


async def test_a_verification_begins_with_githubs_device_code(world: World) -> None:
    code = await linking.begin_verification(world.context())

    assert (code.user_code, code.verification_uri) == (
        "ABCD-1234",
        "https://github.com/login/device",
    )
    assert code.expires_at == world.clock.now() + timedelta(minutes=15)
    assert world.verifier.calls == [("start",)]


async def test_a_device_flow_that_cannot_start_says_github_is_not_answering(
    world: World,
) -> None:
    world.verifier.start_fails = True

    with pytest.raises(DomainError) as refused:
        await linking.begin_verification(world.context())
    assert refused.value.user_message == (
        "GitHub isn't answering right now. Please try again in a moment."
    )


async def test_an_approved_code_links_the_account_as_verified(world: World) -> None:
    await world.newcomer(ADA, areas=("docs",))
    world.verifier.account = ADA_ON_GITHUB
    context = world.context()
    code = await linking.begin_verification(context)
    world.clock.advance(timedelta(seconds=30))

    link = await linking.finish_verification(context, code, user_id=ADA)

    assert link == Link(11, "ada-codes", github_verified=True)
    assert world.verifier.calls == [("start",), ("wait_for_account", "device-1")]
    assert (await world.read(lambda s: onboarding.current(s, GUILD, ADA))).step is Step.ISSUES
    (row,) = await world.rows(Member)
    assert (row.github_user_id, row.github_login, row.github_verified, row.linked_at) == (
        11,
        "ada-codes",
        True,
        world.clock.now(),
    )


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("expired", "That code expired before GitHub heard back. No problem: try again."),
        ("denied", "It looks like the request was cancelled on GitHub. You can try again."),
        ("unavailable", "GitHub isn't answering right now. Please try again in a moment."),
    ],
)
async def test_a_device_flow_that_ends_without_an_account_says_why_and_links_nothing(
    world: World, reason: DeviceFlowProblem, message: str
) -> None:
    context = world.context()
    code = await linking.begin_verification(context)
    world.verifier.problem = reason

    with pytest.raises(DomainError) as refused:
        await linking.finish_verification(context, code, user_id=ADA)
    assert refused.value.user_message == message == DEVICE_FLOW_PROBLEMS[reason]
    assert await world.rows(Member) == []


async def test_an_account_another_member_holds_is_refused_after_the_device_flow(
    world: World,
) -> None:
    world.verifier.account = ADA_ON_GITHUB
    context = world.context()
    await linking.finish_verification(
        context, await linking.begin_verification(context), user_id=ADA
    )

    with pytest.raises(AccountTaken, match=r"\*\*ada-codes\*\* is already linked"):
        await linking.finish_verification(
            context, await linking.begin_verification(context), user_id=BRUNO
        )
    assert await linked(world) == [(ADA, 11, "ada-codes", True)]


async def test_a_typed_login_is_linked_unverified(world: World) -> None:
    world.github.accounts["ada-codes"] = ADA_ON_GITHUB

    link = await linking.link_typed_login(world.context(), user_id=ADA, login=" @ada-codes ")

    assert (link.github_login, link.github_verified) == ("ada-codes", False)
    assert world.github.calls == [("user", "ada-codes")]
    assert await linked(world) == [(ADA, 11, "ada-codes", False)]


async def test_an_unknown_typed_login_is_refused_by_the_name_typed(world: World) -> None:
    with pytest.raises(DomainError) as refused:
        await linking.link_typed_login(world.context(), user_id=ADA, login="ada-c0des")
    assert refused.value.user_message == "There's no GitHub account called **ada-c0des**. Typo?"
    assert await world.rows(Member) == []


async def test_a_typed_login_another_member_holds_is_refused(world: World) -> None:
    world.github.accounts["ada-codes"] = ADA_ON_GITHUB
    await linking.link_typed_login(world.context(), user_id=ADA, login="ada-codes")

    with pytest.raises(AccountTaken):
        await linking.link_typed_login(world.context(), user_id=BRUNO, login="ada-codes")
    assert await linked(world) == [(ADA, 11, "ada-codes", False)]


async def test_github_being_unavailable_for_a_typed_login_passes_up(world: World) -> None:
    world.github.failing.add("user")

    with pytest.raises(GitHubUnavailable):
        await linking.link_typed_login(world.context(), user_id=ADA, login="ada-codes")
    assert await world.rows(Member) == []


async def test_without_github_nothing_can_be_linked(world: World) -> None:
    context = world.context(connected=False)
    code = await linking.begin_verification(world.context())
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: linking.begin_verification(context),
        lambda: linking.finish_verification(context, code, user_id=ADA),
        lambda: linking.link_typed_login(context, user_id=ADA, login="ada-codes"),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as refused:
            await attempt()
        assert refused.value.user_message == NO_GITHUB
    assert await world.rows(Member) == []


async def test_a_typed_login_needs_only_the_github_client_not_the_device_flow(
    world: World,
) -> None:
    world.github.accounts["ada-codes"] = ADA_ON_GITHUB
    section = {
        "code_of_conduct_url": "https://example.org/coc",
        "contributing_url": "https://example.org/contributing",
        "help_channel_id": 300,
        "newcomer_role_id": 400,
        "areas": [{"name": "docs"}],
        "allow_unverified_link": True,
    }
    context = Context(
        settings(onboarding=section), world.clock, world.sessions, world.github, read=world.read
    )

    await linking.link_typed_login(context, user_id=ADA, login="ada-codes")
    with pytest.raises(DomainError, match="GitHub isn't connected here yet"):
        await linking.begin_verification(context)
    assert await linked(world) == [(ADA, 11, "ada-codes", False)]
    assert context.guild_id == GUILD


@pytest.mark.parametrize("typed", ["../orgs/helios", "ada codes", "-ada", "a" * 40, "ada?x=1", ""])
async def test_a_typed_login_that_is_no_github_login_never_reaches_github(
    world: World, typed: str
) -> None:
    with pytest.raises(DomainError, match="That isn't a GitHub login"):
        await linking.link_typed_login(world.context(), user_id=ADA, login=typed)
    assert world.github.calls == []
    assert await world.rows(Member) == []
