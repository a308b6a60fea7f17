# SPDX-License-Identifier: Apache-2.0
"""The newcomer path behind /start: its steps, and claims ending by webhook (the GitHub link's
rules: tests/integration/test_members.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db.models import Claim, Member, Newcomer, Promise
from bot.errors import DomainError
from bot.services import claims, members, onboarding
from bot.services.onboarding import FEATURE, Progress, Step, end_claims
from tests.unit.services_helpers import AREAS, GUILD, REPO_ID, World, account

NEWCOMER_ROLE = 100000000000000005

ADA = 1


async def step(world: World, user_id: int = ADA) -> Progress:
    return await world.read(lambda session: onboarding.current(session, GUILD, user_id))


async def started(world: World, guild_id: int = GUILD) -> set[int]:
    return await world.read(lambda session: onboarding.started(session, guild_id))


def test_the_feature_ends_claims_on_closes_and_follows_them_up_every_quarter_hour() -> None:
    (webhook,) = FEATURE.webhooks
    for event in ("issues", "pull_request"):
        for action in ("closed", "deleted", "transferred"):
            assert webhook.concerns(event, action)
        assert not webhook.concerns(event, "opened")
    (job,) = FEATURE.jobs
    assert (job.name, job.interval, job.run) == (
        "claim-follow-up",
        timedelta(minutes=15),
        claims.follow_up_claims,
    )
    assert FEATURE.promises == {"dm", "role"}


async def test_a_member_who_never_started_is_at_the_code_of_conduct(world: World) -> None:
    assert onboarding.fresh() == Progress(
        step=Step.CODE_OF_CONDUCT,
        areas=(),
        experience=None,
        github_login=None,
        github_verified=False,
        finished_at=None,
    )
    assert await step(world) == onboarding.fresh()
    assert await started(world) == set()


async def test_the_path_goes_from_the_code_of_conduct_to_done(world: World) -> None:
    now = world.clock.now
    async with world.sessions.begin() as session:
        accepted = await onboarding.accept_code_of_conduct(session, GUILD, ADA, now())
        assert accepted.step is Step.INTERESTS
        chose = await onboarding.choose_areas(session, GUILD, ADA, ["docs"], AREAS, now())
        assert (chose.step, chose.areas) == (Step.INTERESTS, ("docs",))
        experienced = await onboarding.choose_experience(session, GUILD, ADA, "some", now())
        assert (experienced.step, experienced.experience) == (Step.GITHUB, "some")
        await members.link_github(
            session, GUILD, ADA, github_user_id=11, login="ada-codes", verified=True, now=now()
        )
    linked = await step(world)
    assert (linked.step, linked.github_login, linked.github_verified) == (
        Step.ISSUES,
        "ada-codes",
        True,
    )
    world.clock.advance(timedelta(minutes=5))
    async with world.sessions.begin() as session:
        assert await onboarding.finish(session, GUILD, ADA, now()) is True

    done = await step(world)
    assert (done.step, done.finished_at) == (Step.DONE, now())
    assert await started(world) == {ADA}
    assert await started(world, GUILD + 1) == set()
    (row,) = await world.rows(Newcomer)
    assert (row.started_at, row.coc_accepted_at, row.finished_at) == (
        now() - timedelta(minutes=5),
        now() - timedelta(minutes=5),
        now(),
    )
    (member,) = await world.rows(Member)
    assert member.linked_at == now() - timedelta(minutes=5)


async def test_accepting_the_code_of_conduct_again_keeps_the_first_time(world: World) -> None:
    first = world.clock.now()
    async with world.sessions.begin() as session:
        await onboarding.accept_code_of_conduct(session, GUILD, ADA, first)
    world.clock.advance(timedelta(days=1))
    async with world.sessions.begin() as session:
        await onboarding.accept_code_of_conduct(session, GUILD, ADA, world.clock.now())

    (row,) = await world.rows(Newcomer)
    assert (row.started_at, row.coc_accepted_at) == (first, first)


async def test_areas_are_kept_in_the_configured_order_and_unknown_ones_refused(
    world: World,
) -> None:
    now = world.clock.now()
    async with world.sessions.begin() as session:
        chose = await onboarding.choose_areas(session, GUILD, ADA, ["sdk", "docs"], AREAS, now)
    assert chose.areas == ("docs", "sdk")

    with pytest.raises(DomainError) as refused:
        async with world.sessions.begin() as session:
            await onboarding.choose_areas(
                session, GUILD, ADA, ["docs", "cooking", "art"], AREAS, now
            )
    assert refused.value.user_message == "Those areas aren't offered here: art, cooking."
    assert (await step(world)).areas == ("docs", "sdk")


@pytest.mark.parametrize(
    ("areas", "experience", "expected"),
    [
        (["docs"], None, Step.INTERESTS),
        ([], "new", Step.INTERESTS),
        (["core"], "experienced", Step.GITHUB),
    ],
)
async def test_interests_need_an_area_and_an_experience_level(
    world: World, areas: list[str], experience: str | None, expected: Step
) -> None:
    now = world.clock.now()
    async with world.sessions.begin() as session:
        await onboarding.accept_code_of_conduct(session, GUILD, ADA, now)
        progress = await onboarding.choose_areas(session, GUILD, ADA, areas, AREAS, now)
        if experience is not None:
            progress = await onboarding.choose_experience(session, GUILD, ADA, experience, now)
    assert progress.step is expected
    assert (await step(world)).step is expected


async def test_an_unknown_experience_level_is_refused_before_anything_is_written(
    world: World,
) -> None:
    with pytest.raises(DomainError) as refused:
        async with world.sessions.begin() as session:
            await onboarding.choose_experience(session, GUILD, ADA, "guru", world.clock.now())
    assert refused.value.user_message == "Please pick one of the experience levels offered."
    assert await started(world) == set()


async def test_the_step_is_the_first_one_missing_whatever_order_they_were_taken_in(
    world: World,
) -> None:
    now = world.clock.now()
    async with world.sessions.begin() as session:
        await members.link_github(
            session, GUILD, ADA, github_user_id=11, login="ada-codes", verified=False, now=now
        )
        progress = await onboarding.choose_experience(session, GUILD, ADA, "new", now)
    assert (progress.step, progress.github_login, progress.github_verified) == (
        Step.CODE_OF_CONDUCT,
        "ada-codes",
        False,
    )


async def test_finishing_records_the_discovery_time_once_and_only_at_the_issues_step(
    world: World,
) -> None:
    await world.newcomer(ADA, areas=("docs",))  # interests chosen, not linked yet
    async with world.sessions.begin() as session:
        assert await onboarding.finish(session, GUILD, ADA, world.clock.now()) is False
    assert (await step(world)).step is Step.GITHUB

    await world.newcomer(ADA, account(11, "ada-codes", world.clock.now()), areas=("docs",))
    finished_at = world.clock.now()
    async with world.sessions.begin() as session:
        assert await onboarding.finish(session, GUILD, ADA, finished_at, NEWCOMER_ROLE) is True
    world.clock.advance(timedelta(days=1))
    async with world.sessions.begin() as session:
        assert (
            await onboarding.finish(session, GUILD, ADA, world.clock.now(), NEWCOMER_ROLE) is False
        )

    assert (await step(world)).finished_at == finished_at
    # The Newcomer role is promised once, with the finish, through the outbox.
    (given,) = await world.rows(Promise)
    assert (given.key, given.target_kind, given.target_id, given.payload["role_id"]) == (
        f"newcomer-role:{GUILD}:{ADA}",
        "role",
        ADA,
        NEWCOMER_ROLE,
    )


@pytest.mark.parametrize("how", ["an issue closes", "the holder's pull request is merged"])
async def test_a_closing_webhook_ends_the_claims_it_finishes(world: World, how: str) -> None:
    ada = account(11, "ada-codes", world.clock.now())
    await world.repository()
    await world.newcomer(ADA, ada)
    await world.seed(world.issue(1, labels=("good first issue",)))
    context = world.context()
    await claims.take(context, user_id=ADA, repository_id=REPO_ID, number=1)
    world.clock.advance(timedelta(days=1))

    if how == "an issue closes":
        await world.deliver(context, end_claims, "issues", "closed", world.issue(1, state="closed"))
    else:
        merged = world.issue(9, pull=True, author=ada, state="closed", merged=True)
        await world.deliver(context, end_claims, "pull_request", "closed", merged)

    (row,) = await world.rows(Claim)
    assert (row.status, row.ended_at) == ("done", world.clock.now())
