# SPDX-License-Identifier: Apache-2.0
"""A member's GitHub link and time zone (bot/services/members.py), on SQLite and PostgreSQL:
one account per member of a community, switching accounts, the time zone every feature reads,
and what leaving the server does to them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import Member, Newcomer, Pairing
from bot.errors import DomainError
from bot.services import claims, members, mentorship, retention
from bot.services.members import AccountTaken, Link
from bot.services.mentorship import MentorProfile
from tests.unit.services_helpers import AREAS, GUILD, REPO, REPO_ID, World, account, settings

ADA, BRUNO, KOFI = 1, 2, 11
ADA_ID, WORK_ID = 11, 13  # Ada's GitHub accounts


@pytest.fixture
def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> World:
    return World(sessions, clock)


async def link(
    world: World,
    user_id: int,
    github_user_id: int = ADA_ID,
    login: str = "ada-codes",
    *,
    verified: bool = True,
    guild_id: int = GUILD,
) -> Link:
    async with world.sessions.begin() as session:
        return await members.link_github(
            session,
            guild_id,
            user_id,
            github_user_id=github_user_id,
            login=login,
            verified=verified,
            now=world.clock.now(),
        )


async def links(world: World) -> list[tuple[int, int | None, str | None, bool]]:
    return [
        (row.user_id, row.github_user_id, row.github_login, row.github_verified)
        for row in await world.rows(Member)
        if row.guild_id == GUILD
    ]


async def test_a_github_account_is_linked_to_one_member_of_a_community(world: World) -> None:
    await link(world, ADA)

    with pytest.raises(AccountTaken) as taken:
        await link(world, BRUNO, login="ada-renamed")
    assert taken.value.user_message == (
        "The GitHub account **ada-renamed** is already linked to another member here. "
        "If it is yours, please ask an organiser in the help channel to sort it out."
    )
    assert await links(world) == [(ADA, ADA_ID, "ada-codes", True)]

    # The same account in another community is fine; so is the holder linking it again,
    # renamed, even by typing it: the account was verified, and stays so.
    assert (await link(world, BRUNO, guild_id=GUILD + 1)).github_login == "ada-codes"
    again = await link(world, ADA, login="ada-renamed", verified=False)
    assert again == Link(ADA_ID, "ada-renamed", github_verified=True)


async def test_a_verified_link_takes_the_account_from_a_member_who_only_typed_it(
    world: World,
) -> None:
    """An impostor who typed the owner's login must not lock the owner out."""
    await link(world, BRUNO, verified=False)
    with pytest.raises(AccountTaken):
        await link(world, ADA, verified=False)  # typed against typed: first come, first served

    await link(world, ADA, verified=True)
    assert await links(world) == [(ADA, ADA_ID, "ada-codes", True), (BRUNO, None, None, False)]
    with pytest.raises(AccountTaken):
        await link(world, BRUNO, verified=False)  # and cannot type it back


async def test_linking_another_account_frees_the_first_one(world: World) -> None:
    await link(world, ADA)
    world.clock.advance(timedelta(hours=1))
    moved = await link(world, ADA, WORK_ID, "ada-work")
    taken_over = await link(world, BRUNO)

    assert (moved.github_login, taken_over.github_login) == ("ada-work", "ada-codes")
    ada_row, _ = await world.rows(Member)
    assert (ada_row.github_user_id, ada_row.linked_at) == (WORK_ID, world.clock.now())


async def test_a_typed_login_never_replaces_a_verified_link(world: World) -> None:
    await link(world, ADA)

    with pytest.raises(DomainError) as refused:
        await link(world, ADA, WORK_ID, "ada-work", verified=False)
    assert refused.value.user_message == (
        "You're linked to GitHub as **ada-codes**, verified by GitHub, and a typed login "
        "can't replace that: to switch accounts, use **Link another account** in `/link`."
    )
    assert await links(world) == [(ADA, ADA_ID, "ada-codes", True)]

    # A typed link is replaced as easily as it was made.
    await link(world, BRUNO, 12, "bruno-dev", verified=False)
    await link(world, BRUNO, 14, "bruno-typo", verified=False)
    assert (await links(world))[1] == (BRUNO, 14, "bruno-typo", False)


async def test_no_other_account_while_a_claim_stands_on_github_under_this_one(
    world: World,
) -> None:
    await world.repository()
    await world.newcomer(ADA, account(ADA_ID, "ada-codes", world.clock.now()))
    await world.seed(world.issue(1, labels=("good first issue",)))
    context = world.context()
    held = await claims.take(context, user_id=ADA, repository_id=REPO_ID, number=1)

    with pytest.raises(DomainError) as refused:
        await link(world, ADA, WORK_ID, "ada-work")
    assert refused.value.user_message == (
        "You have a claimed issue as **ada-codes**. Finish it or give it back with `/unclaim` "
        "first, then link your other account."
    )
    await link(world, ADA)  # the same account again changes nothing on GitHub

    assert await claims.give_back(context, held)
    assert world.github.calls[-1] == ("unassign", REPO, 1, "ada-codes")
    assert (await link(world, ADA, WORK_ID, "ada-work")).github_login == "ada-work"


async def lock_waits(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Connections to this database waiting for a lock another transaction holds."""
    async with sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_two_members_linking_one_account_at_once_get_a_clear_answer(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Neither sees the other's link when it checks (READ COMMITTED); the unique constraint
    decides, and the second is told the account is taken, not given an error."""
    async with sessions.begin() as first:
        await members.link_github(
            first,
            GUILD,
            ADA,
            github_user_id=ADA_ID,
            login="ada-codes",
            verified=True,
            now=world.clock.now(),
        )
        second = asyncio.create_task(link(world, BRUNO))
        while not await lock_waits(sessions):  # Bruno's link waits for Ada's to commit
            assert not second.done(), second
            await asyncio.sleep(0.01)
    with pytest.raises(AccountTaken):
        await second
    assert await links(world) == [(ADA, ADA_ID, "ada-codes", True)]


async def test_a_time_zone_is_kept_as_minutes_and_an_impossible_one_refused(
    world: World,
) -> None:
    async with world.sessions.begin() as session:
        given = await members.set_utc_offset(session, GUILD, ADA, 330)
    assert given == Link(utc_offset=330)
    with pytest.raises(DomainError) as refused:
        async with world.sessions.begin() as session:
            await members.set_utc_offset(session, GUILD, ADA, 15 * 60)
    assert refused.value.user_message == (
        "There is no such time zone: offsets run from UTC-12 to UTC+14."
    )
    assert [(row.user_id, row.utc_offset) for row in await world.rows(Member)] == [(ADA, 330)]
    assert await world.rows(Newcomer) == []  # a time zone makes nobody a newcomer


async def test_a_mentor_s_time_zone_is_the_one_time_zone_of_the_member(world: World) -> None:
    config = settings(mentorship={"mentor_role_id": 5, "mentors_channel_id": 6})

    async def join(offset: int | None) -> None:
        async with world.sessions.begin() as session:
            await mentorship.join(
                session,
                config,
                GUILD,
                KOFI,
                MentorProfile(("docs",), 2, offset, ()),
                offered=AREAS,
                approved=True,
                now=world.clock.now(),
            )

    async with world.sessions.begin() as session:
        await members.set_utc_offset(session, GUILD, KOFI, 330)  # with /link
    await join(None)  # a profile without a time zone keeps the one given
    assert (await world.read(lambda s: members.current(s, GUILD, KOFI))).utc_offset == 330

    await world.newcomer(ADA, areas=("docs",))
    async with world.sessions.begin() as session:
        await members.set_utc_offset(session, GUILD, ADA, 330)
        await session.execute(text("UPDATE newcomers SET finished_at = CURRENT_TIMESTAMP"))
        request = await mentorship.request(session, config, GUILD, ADA, world.clock.now())
    assert request.pairing.reason == "docs, UTC+5:30, 0 of 2 mentees"

    await join(-300)
    assert (await world.read(lambda s: members.current(s, GUILD, KOFI))).utc_offset == -300


async def test_leaving_forgets_a_link_with_the_newcomer_row_or_at_once_without_one(
    world: World,
) -> None:
    """The departure is recorded on the newcomer row, which the purge reads: a member who
    never ran /start would otherwise keep their link here for ever."""
    await world.newcomer(ADA, account(ADA_ID, "ada-codes", world.clock.now()))
    await link(world, KOFI, 21, "kofi-gh")  # a mentor, with /link only
    context = world.context()

    for user_id in (ADA, KOFI):
        await retention.member_left(context, user_id)
    assert await links(world) == [(ADA, ADA_ID, "ada-codes", True)]

    world.clock.advance(timedelta(days=30))
    assert (await retention.purge(context)).members == 1
    assert await world.rows(Member) == []
    assert await world.rows(Newcomer) == []
    assert await world.rows(Pairing) == []
