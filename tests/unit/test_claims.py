# SPDX-License-Identifier: Apache-2.0
"""Claims: taking an issue, giving it back, and a claim's reminders, release and end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.migrate import current_revision, head_revision
from bot.db.models import Claim, Promise
from bot.errors import NO_GITHUB, DomainError
from bot.feature import Context
from bot.github.normalise import Changes, UserRecord
from bot.services import claims, members
from bot.services.claims import ENDED, ClaimPolicy, ClaimRefused, ClaimTarget
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

ADA, BRUNO = 1, 2  # Discord user ids
DAY = timedelta(days=1)
BEGINNER = ("good first issue",)


@pytest.fixture
async def ada(world: World) -> UserRecord:
    """Ada, linked to GitHub as "ada-codes", and two open good first issues to claim."""
    github = account(11, "ada-codes", world.clock.now())
    await world.repository()
    await world.newcomer(ADA, github)
    await world.seed(
        world.issue(1, title="Explain the frame graph", labels=BEGINNER),
        world.issue(2, title="Document eviction flags", labels=BEGINNER),
    )
    return github


@pytest.fixture
async def bruno(world: World, ada: UserRecord) -> UserRecord:
    github = account(12, "bruno-dev", world.clock.now())
    await world.newcomer(BRUNO, github)
    return github


def with_onboarding(**overrides: object) -> dict[str, object]:
    return ONBOARDING | overrides


async def take(world: World, user_id: int, number: int, context: Context | None = None) -> int:
    """Claim an issue of REPO; returns the claim's id."""
    claimed = await claims.take(
        context or world.context(), user_id=user_id, repository_id=REPO_ID, number=number
    )
    return claimed.claim_id


async def claim_row(world: World, claim_id: int) -> Claim:
    (row,) = [row for row in await world.rows(Claim) if row.id == claim_id]
    return row


async def dms(world: World) -> list[Promise]:
    return [row for row in await world.rows(Promise) if row.target_kind == "dm"]


async def days_pass(
    world: World, days: int, context: Context | None = None, *, every: int = 1
) -> None:
    """Let days go by, running the scheduled follow-up after each (or after every few)."""
    for _ in range(0, days, every):
        world.clock.advance(every * DAY)
        await claims.follow_up_claims(context or world.context())


async def test_the_unit_database_is_migrated_to_head(engine: AsyncEngine) -> None:
    """The claim rules lean on the migrated schema: one active claim per issue."""
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as connection:
        indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("claims"))
    (active,) = [index for index in indexes if index["name"] == "uq_claims_active_issue"]
    assert (active["unique"], active["column_names"]) == (
        True,
        ["guild_id", "repository_id", "number"],
    )


# --- taking an issue ----------------------------------------------------------------------


async def test_a_linked_newcomer_claims_an_open_issue_and_is_assigned_on_github(
    world: World, ada: UserRecord
) -> None:
    target = await claims.take(world.context(), user_id=ADA, repository_id=REPO_ID, number=1)

    assert target.method == "assigned"
    assert (target.repository, target.number, target.title, target.github_login) == (
        REPO,
        1,
        "Explain the frame graph",
        "ada-codes",
    )
    assert target.link == f"[{REPO}#1]({target.url})"
    assert world.github.calls == [("assign", REPO, 1, "ada-codes")]
    (row,) = await world.rows(Claim)
    assert (row.id, row.guild_id, row.user_id, row.repository_id, row.number) == (
        target.claim_id,
        GUILD,
        ADA,
        REPO_ID,
        1,
    )
    assert (row.method, row.status, row.claimed_at, row.ended_at) == (
        "assigned",
        "active",
        world.clock.now(),
        None,
    )


async def test_a_member_without_a_linked_github_account_is_sent_to_start(
    world: World, ada: UserRecord
) -> None:
    await world.newcomer(BRUNO)  # through the first steps, but not linked
    for user_id in (BRUNO, 99):  # 99 never ran /start
        with pytest.raises(DomainError) as refused:
            await take(world, user_id, 1)
        assert type(refused.value) is DomainError  # not a ClaimRefused: no alternatives
        assert refused.value.user_message == (
            "Link your GitHub account first: run /start, it takes a minute."
        )
    assert await world.rows(Claim) == []
    assert world.github.calls == []


async def test_a_member_linked_without_start_is_sent_to_start_for_claims(
    world: World, ada: UserRecord
) -> None:
    """Claims are the newcomer path's: /link alone makes nobody a newcomer."""
    async with world.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            BRUNO,
            github_user_id=12,
            login="bruno-dev",
            verified=True,
            now=world.clock.now(),
        )
    with pytest.raises(DomainError) as refused:
        await take(world, BRUNO, 1)
    assert refused.value.user_message == (
        "Claims come with the newcomer path: run /start, it takes a minute."
    )
    assert await world.rows(Claim) == []

    await world.newcomer(BRUNO)  # /start's first steps; the link is the one they made
    assert await take(world, BRUNO, 1)
    assert world.github.calls == [("assign", REPO, 1, "bruno-dev")]


async def test_an_issue_never_seen_cannot_be_claimed(world: World, ada: UserRecord) -> None:
    with pytest.raises(DomainError, match="I can't find that issue any more"):
        await take(world, ADA, 404)
    assert await world.rows(Claim) == []


@pytest.mark.parametrize("how", ["closed", "deleted", "transferred"])
async def test_a_closed_or_removed_issue_is_refused(
    world: World, ada: UserRecord, how: str
) -> None:
    if how == "closed":
        await world.seed(world.issue(1, labels=BEGINNER, state="closed"))
    else:
        await world.write(Changes(removed_issues=[(REPO_ID, 1, how)]))

    with pytest.raises(ClaimRefused) as refused:
        await take(world, ADA, 1)
    assert refused.value.user_message == f"{REPO}#1 is already closed."
    assert await world.rows(Claim) == []
    assert world.github.calls == []


@pytest.mark.parametrize(
    ("github", "private"),
    [
        ({"repositories": [SDK]}, False),  # no longer followed
        ({"repositories": [REPO]}, True),  # private, and not listed
    ],
)
async def test_an_issue_of_a_repository_not_shown_is_refused_and_github_left_alone(
    world: World, ada: UserRecord, github: dict[str, list[str]], private: bool
) -> None:
    world.clock.advance(timedelta(minutes=1))
    await world.repository(private=private)

    with pytest.raises(ClaimRefused) as refused:
        await take(world, ADA, 1, world.context(settings(github=github)))
    assert refused.value.user_message == f"{REPO}#1 isn't offered here any more."
    assert await world.rows(Claim) == []
    assert world.github.calls == []


async def test_a_private_repository_listed_in_the_config_is_claimable(
    world: World, ada: UserRecord
) -> None:
    world.clock.advance(timedelta(minutes=1))
    await world.repository(private=True)
    github = {"repositories": [REPO], "private_repositories": [REPO]}

    await take(world, ADA, 1, world.context(settings(github=github)))
    assert world.github.calls == [("assign", REPO, 1, "ada-codes")]


async def test_an_issue_assigned_on_github_to_someone_else_is_refused(
    world: World, ada: UserRecord
) -> None:
    await world.seed(world.issue(1, labels=BEGINNER, assignees=(world.maintainer,)))

    with pytest.raises(ClaimRefused) as refused:
        await take(world, ADA, 1)
    assert refused.value.user_message == f"{REPO}#1 is already assigned to someone on GitHub."
    assert await world.rows(Claim) == []


async def test_an_issue_already_assigned_to_the_claimer_on_github_can_be_claimed(
    world: World, ada: UserRecord
) -> None:
    await world.seed(world.issue(1, labels=BEGINNER, assignees=(ada,)))

    await take(world, ADA, 1)
    assert [row.status for row in await world.rows(Claim)] == ["active"]


async def test_claiming_an_issue_twice_says_the_member_has_it_already(
    world: World, ada: UserRecord
) -> None:
    await take(world, ADA, 1)

    with pytest.raises(DomainError) as again:
        await take(world, ADA, 1)
    assert type(again.value) is DomainError
    assert again.value.user_message == f"You already have {REPO}#1. Good luck with it!"
    assert len(await world.rows(Claim)) == 1
    assert world.github.calls == [("assign", REPO, 1, "ada-codes")]


async def test_the_claim_limit_refuses_another_issue(world: World, ada: UserRecord) -> None:
    await take(world, ADA, 1)

    with pytest.raises(DomainError) as refused:
        await take(world, ADA, 2)
    assert type(refused.value) is DomainError
    assert refused.value.user_message.startswith("You already have an active claim. Finish it,")
    assert [(row.number, row.status) for row in await world.rows(Claim)] == [(1, "active")]


async def test_a_higher_claim_limit_allows_several_issues(world: World, ada: UserRecord) -> None:
    context = world.context(settings(onboarding=with_onboarding(max_active_claims=2)))
    await take(world, ADA, 1, context)
    await take(world, ADA, 2, context)

    assert [(row.number, row.status) for row in await world.rows(Claim)] == [
        (1, "active"),
        (2, "active"),
    ]


async def test_an_issue_someone_else_holds_is_refused(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    await take(world, ADA, 1)

    with pytest.raises(ClaimRefused) as refused:
        await take(world, BRUNO, 1)
    assert refused.value.user_message == f"Someone else has just claimed {REPO}#1. Here are others:"
    assert [(row.user_id, row.status) for row in await world.rows(Claim)] == [(ADA, "active")]
    assert world.github.calls == [("assign", REPO, 1, "ada-codes")]


async def test_a_finished_claim_no_longer_counts_toward_the_limit(
    world: World, ada: UserRecord
) -> None:
    await take(world, ADA, 1)
    world.clock.advance(DAY)
    await world.seed(world.issue(1, labels=BEGINNER, state="closed"))

    await take(world, ADA, 2)
    first, second = await world.rows(Claim)
    assert (first.status, first.ended_at) == ("done", world.clock.now())
    assert second.status == "active"


async def test_github_refusing_the_assignment_withdraws_the_claim(
    world: World, ada: UserRecord
) -> None:
    world.github.failing.add("assign")

    with pytest.raises(DomainError) as refused:
        await take(world, ADA, 1)
    assert refused.value.user_message.startswith(
        "GitHub didn't accept the claim just now, so the issue is still free."
    )
    (row,) = await world.rows(Claim)
    assert (row.status, row.ended_at) == ("withdrawn", world.clock.now())

    # The issue is free again: once GitHub answers, the same claim succeeds.
    world.github.failing.clear()
    await take(world, ADA, 1)
    assert [row.status for row in await world.rows(Claim)] == ["withdrawn", "active"]


async def test_claim_by_comment_repositories_get_a_comment_instead_of_an_assignment(
    world: World, ada: UserRecord
) -> None:
    # GitHub's names ignore case, and so does the list.
    context = world.context(settings(onboarding=with_onboarding(claim_by_comment=[REPO.upper()])))

    claimed = await claims.take(context, user_id=ADA, repository_id=REPO_ID, number=1)

    assert claimed.method == "commented"
    assert world.github.calls == [
        (
            "comment_once",
            REPO,
            1,
            "@ada-codes is working on this (claimed in the community's Discord). Thank you!",
            f"claim-{claimed.claim_id}",
        )
    ]
    (row,) = await world.rows(Claim)
    assert (row.method, row.status) == ("commented", "active")


async def test_a_refused_claim_comment_withdraws_the_claim(world: World, ada: UserRecord) -> None:
    context = world.context(settings(onboarding=with_onboarding(claim_by_comment=[REPO])))
    world.github.failing.add("comment_once")

    with pytest.raises(DomainError, match="GitHub didn't accept the claim"):
        await take(world, ADA, 1, context)
    assert [row.status for row in await world.rows(Claim)] == ["withdrawn"]


async def test_without_github_credentials_nothing_is_claimed(world: World, ada: UserRecord) -> None:
    with pytest.raises(DomainError) as refused:
        await take(world, ADA, 1, world.context(connected=False))
    assert refused.value.user_message == NO_GITHUB
    assert await world.rows(Claim) == []


# --- giving back, "still on it", what a member holds ---------------------------------------


async def held(world: World, user_id: int = ADA) -> list[ClaimTarget]:
    async with world.sessions() as session:
        return await claims.active_claims(session, GUILD, user_id)


async def test_giving_back_withdraws_the_claim_and_unassigns_on_github(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    await take(world, ADA, 1)
    (target,) = await held(world)
    world.clock.advance(DAY)

    await claims.give_back(world.context(), target)

    (row,) = await world.rows(Claim)
    assert (row.status, row.ended_at) == ("withdrawn", world.clock.now())
    assert world.github.calls[-1] == ("unassign", REPO, 1, "ada-codes")
    await take(world, BRUNO, 1)  # free for others
    assert world.github.calls[-1] == ("assign", REPO, 1, "bruno-dev")


async def test_giving_back_in_a_claim_by_comment_repository_unassigns_nobody(
    world: World, ada: UserRecord
) -> None:
    context = world.context(settings(onboarding=with_onboarding(claim_by_comment=[REPO])))
    await take(world, ADA, 1, context)
    (target,) = await held(world)

    await claims.give_back(context, target)

    assert [row.status for row in await world.rows(Claim)] == ["withdrawn"]
    assert [call[0] for call in world.github.calls] == ["comment_once"]


async def give_back_refused(world: World, ada: UserRecord) -> None:
    """Ada claims issue 1, and gives it back while GitHub refuses to unassign her."""
    await take(world, ADA, 1)
    (target,) = await held(world)
    # GitHub's webhook for the assignment (newer than the issue as first seen).
    world.clock.advance(timedelta(minutes=1))
    await world.seed(
        world.issue(1, title="Explain the frame graph", labels=BEGINNER, assignees=(ada,))
    )
    world.github.failing.add("unassign")
    assert await claims.give_back(world.context(), target) is False


async def test_giving_back_while_github_refuses_waits_as_unassigning_until_it_answers(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    await give_back_refused(world, ada)
    (row,) = await world.rows(Claim)
    assert (row.status, row.ended_at) == ("unassigning", world.clock.now())
    assert await held(world) == []  # no longer Ada's: it does not count toward her limit
    with pytest.raises(ClaimRefused, match="already assigned to someone on GitHub"):
        await take(world, BRUNO, 1)  # still Ada's on GitHub, so not yet anyone else's

    gave_back_at = world.clock.now()
    await days_pass(world, 1)  # the follow-up asks GitHub again, and again fails
    assert [row.status for row in await world.rows(Claim)] == ["unassigning"]
    world.github.failing.clear()
    await days_pass(world, 1)
    (row,) = await world.rows(Claim)
    assert (row.status, row.ended_at) == ("withdrawn", gave_back_at)
    unassigned = [call for call in world.github.calls if call[0] == "unassign"]
    assert unassigned == [("unassign", REPO, 1, "ada-codes")] * 3


async def test_claiming_again_while_github_refused_the_give_back_keeps_the_new_claim(
    world: World, ada: UserRecord
) -> None:
    await give_back_refused(world, ada)

    await take(world, ADA, 1)  # she changes her mind: still hers on GitHub, hers again here
    assert sorted(row.status for row in await world.rows(Claim)) == ["active", "withdrawn"]
    world.github.failing.clear()
    await days_pass(world, 1)  # the follow-up has no give-back left to finish
    assert [row.status for row in await world.rows(Claim)].count("active") == 1
    assert [call for call in world.github.calls if call[0] == "unassign"] == [
        ("unassign", REPO, 1, "ada-codes")
    ]


async def test_giving_back_without_github_credentials_withdraws_at_once(
    world: World, ada: UserRecord
) -> None:
    await take(world, ADA, 1)
    (target,) = await held(world)

    assert await claims.give_back(world.context(connected=False), target) is True
    assert [row.status for row in await world.rows(Claim)] == ["withdrawn"]
    assert [call[0] for call in world.github.calls] == ["assign"]


async def test_active_claims_are_the_members_own_oldest_first(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    context = world.context(settings(onboarding=with_onboarding(max_active_claims=3)))
    await world.seed(world.issue(3, labels=BEGINNER))
    await take(world, ADA, 2, context)
    world.clock.advance(DAY)
    await take(world, ADA, 1, context)
    await take(world, BRUNO, 3, context)
    (dropped,) = await held(world, BRUNO)
    await claims.give_back(context, dropped)

    targets = await held(world)
    assert [(t.repository, t.number, t.user_id, t.method) for t in targets] == [
        (REPO, 2, ADA, "assigned"),
        (REPO, 1, ADA, "assigned"),
    ]
    assert await held(world, BRUNO) == []


async def test_held_claim_is_the_members_active_claim_or_it_has_ended(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)

    target = await claims.held_claim(world.context(), user_id=ADA, claim_id=claim_id)
    assert (target.claim_id, target.number, target.github_login) == (claim_id, 1, "ada-codes")
    with pytest.raises(DomainError) as not_bruno:
        await claims.held_claim(world.context(), user_id=BRUNO, claim_id=claim_id)
    assert not_bruno.value.user_message == ENDED

    await claims.give_back(world.context(), target)
    with pytest.raises(DomainError, match="That claim has ended already"):
        await claims.held_claim(world.context(), user_id=ADA, claim_id=claim_id)


async def test_still_on_it_restarts_the_periods_of_an_active_claim_only(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    await days_pass(world, 7)
    assert (await claim_row(world, claim_id)).reminded_at == world.clock.now()
    world.clock.advance(timedelta(hours=2))

    target = await claims.keep(world.context(), user_id=ADA, claim_id=claim_id)

    assert (target.claim_id, target.number) == (claim_id, 1)
    row = await claim_row(world, claim_id)
    assert (row.renewed_at, row.reminded_at, row.status) == (world.clock.now(), None, "active")
    with pytest.raises(DomainError) as not_bruno:
        await claims.keep(world.context(), user_id=BRUNO, claim_id=claim_id)
    assert not_bruno.value.user_message == ENDED
    await claims.give_back(world.context(), target)
    with pytest.raises(DomainError, match="That claim has ended already"):
        await claims.keep(world.context(), user_id=ADA, claim_id=claim_id)


# --- when a claim ends by itself ----------------------------------------------------------


async def end_finished(world: World) -> None:
    async with world.sessions.begin() as session:
        await claims.end_finished(session, GUILD, world.clock.now())


async def statuses(world: World) -> list[tuple[int, int, str]]:
    return [(row.user_id, row.number, row.status) for row in await world.rows(Claim)]


@pytest.mark.parametrize("how", ["closed", "deleted", "transferred"])
async def test_a_claim_ends_when_its_issue_closes_or_goes(
    world: World, ada: UserRecord, how: str
) -> None:
    claim_id = await take(world, ADA, 1)
    world.clock.advance(DAY)
    if how == "closed":
        await world.seed(world.issue(1, labels=BEGINNER, state="closed"))
    else:
        await world.write(Changes(removed_issues=[(REPO_ID, 1, how)]))

    await end_finished(world)

    row = await claim_row(world, claim_id)
    assert (row.status, row.ended_at) == ("done", world.clock.now())


async def test_a_claim_ends_when_its_holder_has_a_pull_request_merged_in_the_repository(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    await take(world, ADA, 1)
    await take(world, BRUNO, 2)
    world.clock.advance(DAY)
    await world.seed(world.issue(10, pull=True, author=bruno, state="closed", merged=True))

    await end_finished(world)

    assert await statuses(world) == [(ADA, 1, "active"), (BRUNO, 2, "done")]


async def test_another_members_merged_pull_request_leaves_a_claim_alone(
    world: World, ada: UserRecord, bruno: UserRecord
) -> None:
    await take(world, ADA, 1)
    await take(world, BRUNO, 2)
    world.clock.advance(DAY)
    await world.seed(world.issue(10, pull=True, author=ada, state="closed", merged=True))

    await end_finished(world)

    assert await statuses(world) == [(ADA, 1, "done"), (BRUNO, 2, "active")]


async def test_only_a_merge_of_a_pull_request_opened_since_the_claim_in_its_repository_counts(
    world: World, ada: UserRecord
) -> None:
    await world.repository(SDK_ID, SDK)
    opened_before = world.clock.now()
    world.clock.advance(DAY)
    await take(world, ADA, 1)
    world.clock.advance(DAY)
    await world.seed(
        world.issue(
            10, pull=True, author=ada, state="closed", merged=True, created_at=opened_before
        ),
        world.issue(11, pull=True, author=ada, state="closed"),  # closed without a merge
        world.issue(12, pull=True, author=ada),  # still open
        world.issue(1, repository_id=SDK_ID, pull=True, author=ada, state="closed", merged=True),
    )

    await end_finished(world)

    assert await statuses(world) == [(ADA, 1, "active")]


# --- reminders and releases ---------------------------------------------------------------


def test_claim_policy_in_days_where_zero_means_never() -> None:
    assert ClaimPolicy.days(7, 14) == ClaimPolicy(timedelta(days=7), timedelta(days=14))
    assert ClaimPolicy.days(0, 14) == ClaimPolicy(None, timedelta(days=14))
    assert ClaimPolicy.days(0, 0) == ClaimPolicy(None, None)


async def test_a_quiet_claim_is_reminded_once_after_the_reminder_period(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    claimed_at = world.clock.now()  # Monday 5 January 2026
    (target,) = await held(world)

    await days_pass(world, 6)
    assert await dms(world) == []
    await days_pass(world, 1)

    (reminder,) = await dms(world)
    assert (reminder.key, reminder.feature, reminder.target_kind, reminder.target_id) == (
        f"claim-reminder:{claim_id}:{claimed_at.isoformat()}",
        "onboarding",
        "dm",
        ADA,
    )
    assert reminder.guild_id == GUILD
    assert reminder.payload["content"] == (
        f"Hi! You claimed {target.link} Explain the frame graph 7 days ago. How is it "
        "going? Being stuck is normal: ask in the help channel and someone will gladly help. "
        "If I don't hear from you, I'll free it for others on Monday 19 January; you can "
        "always claim it again."
    )
    assert reminder.payload["buttons"] == [
        {"label": "I'm still on it", "custom_id": f"claim:keep:{claim_id}", "style": "success"},
        {"label": "Give it back", "custom_id": f"claim:drop:{claim_id}", "style": "secondary"},
    ]
    reminded_at = world.clock.now()
    assert (await claim_row(world, claim_id)).reminded_at == reminded_at

    await days_pass(world, 6)  # one reminder, not one a day
    assert [row.key for row in await dms(world)] == [reminder.key]
    assert (await claim_row(world, claim_id)).reminded_at == reminded_at
    assert world.github.calls == [("assign", REPO, 1, "ada-codes")]


async def test_a_quiet_claim_is_released_and_unassigned_after_the_release_period(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    (target,) = await held(world)

    await days_pass(world, 14)

    row = await claim_row(world, claim_id)
    assert (row.status, row.ended_at) == ("released", world.clock.now())
    assert world.github.calls[-1] == ("unassign", REPO, 1, "ada-codes")
    reminder, freed = await dms(world)
    assert reminder.key.startswith(f"claim-reminder:{claim_id}:")
    assert (freed.key, freed.feature, freed.target_kind, freed.target_id) == (
        f"claim-released:{claim_id}",
        "onboarding",
        "dm",
        ADA,
    )
    assert freed.payload == {
        "content": f"I've freed {target.link} Explain the frame graph for others: 14 days went "
        "by without a pull request. No worries at all! If you are still working on it, claim "
        "it again with `/issues`, or pick something new there."
    }
    await days_pass(world, 14)  # released once
    assert len(await dms(world)) == 2
    assert [call[0] for call in world.github.calls] == ["assign", "unassign"]


async def test_still_on_it_restarts_the_reminder_and_release_periods(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    claimed_at = world.clock.now()
    await days_pass(world, 7)
    await claims.keep(world.context(), user_id=ADA, claim_id=claim_id)
    renewed_at = world.clock.now()

    await days_pass(world, 7)  # 14 days after the claim, 7 after "still on it"

    assert (await claim_row(world, claim_id)).status == "active"
    first, second = await dms(world)
    assert first.key == f"claim-reminder:{claim_id}:{claimed_at.isoformat()}"
    assert second.key == f"claim-reminder:{claim_id}:{renewed_at.isoformat()}"
    assert second.payload["content"].startswith(
        f"Hi! It's been 7 days since you said you're still on [{REPO}#1]"
    )
    assert "free it for others on Monday 26 January" in second.payload["content"]
    await days_pass(world, 7)
    assert (await claim_row(world, claim_id)).status == "released"


async def test_a_release_waits_while_github_cannot_unassign(world: World, ada: UserRecord) -> None:
    claim_id = await take(world, ADA, 1)
    world.github.failing.add("unassign")

    await days_pass(world, 15)

    assert (await claim_row(world, claim_id)).status == "active"
    assert [row.key.split(":")[0] for row in await dms(world)] == ["claim-reminder"]
    world.github.failing.clear()
    await days_pass(world, 1)
    assert (await claim_row(world, claim_id)).status == "released"


async def test_a_commented_claim_is_released_without_unassigning(
    world: World, ada: UserRecord
) -> None:
    context = world.context(settings(onboarding=with_onboarding(claim_by_comment=[REPO])))
    claim_id = await take(world, ADA, 1, context)

    await days_pass(world, 14, context)

    assert (await claim_row(world, claim_id)).status == "released"
    assert [call[0] for call in world.github.calls] == ["comment_once"]


async def test_without_github_credentials_a_quiet_claim_is_still_released(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)

    await days_pass(world, 14, world.context(connected=False))

    assert (await claim_row(world, claim_id)).status == "released"
    assert [call[0] for call in world.github.calls] == ["assign"]


@pytest.mark.parametrize(
    "pull",
    ["the holder's own", "one closing it", "one closing it from elsewhere"],
)
async def test_a_claim_with_an_open_pull_request_is_neither_reminded_nor_released(
    world: World, ada: UserRecord, pull: str
) -> None:
    claim_id = await take(world, ADA, 1)
    world.clock.advance(DAY)
    await world.repository(SDK_ID, SDK)
    if pull == "the holder's own":
        await world.seed(world.issue(10, pull=True, author=ada))
    elif pull == "one closing it":
        await world.seed(world.issue(10, pull=True, closes=("#1",)))
    else:
        await world.seed(world.issue(5, repository_id=SDK_ID, pull=True, closes=(f"{REPO}#1",)))

    await days_pass(world, 20, every=2)

    assert (await claim_row(world, claim_id)).status == "active"
    assert await dms(world) == []


async def test_a_pull_request_that_closes_without_a_merge_no_longer_protects_a_claim(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    await world.seed(world.issue(10, pull=True, author=ada, closes=("#1",)))
    await days_pass(world, 20, every=2)
    assert (await claim_row(world, claim_id)).status == "active"

    await world.seed(world.issue(10, pull=True, author=ada, closes=("#1",), state="closed"))
    await days_pass(world, 1)

    assert (await claim_row(world, claim_id)).status == "released"


async def test_a_reminder_without_a_release_period_promises_no_release(
    world: World, ada: UserRecord
) -> None:
    context = world.context(
        settings(onboarding=with_onboarding(claim_reminder_days=4, claim_release_days=0))
    )
    claim_id = await take(world, ADA, 1, context)

    await days_pass(world, 20, context, every=2)

    (reminder,) = await dms(world)
    assert reminder.payload["content"].endswith(
        "ask in the help channel and someone will gladly help."
    )
    assert "4 days ago" in reminder.payload["content"]
    assert (await claim_row(world, claim_id)).status == "active"


async def test_with_reminders_and_releases_off_the_follow_up_only_ends_finished_claims(
    world: World, ada: UserRecord
) -> None:
    context = world.context(
        settings(onboarding=with_onboarding(claim_reminder_days=0, claim_release_days=0))
    )
    claim_id = await take(world, ADA, 1, context)
    await days_pass(world, 30, context, every=3)
    assert (await claim_row(world, claim_id)).status == "active"

    await world.seed(world.issue(1, labels=BEGINNER, state="closed"))
    await days_pass(world, 1, context)

    assert (await claim_row(world, claim_id)).status == "done"
    assert await dms(world) == []


async def test_release_of_a_claim_that_has_ended_meanwhile_says_nothing(
    world: World, ada: UserRecord
) -> None:
    await take(world, ADA, 1)
    (target,) = await held(world)
    await claims.give_back(world.context(), target)

    async with world.sessions.begin() as session:
        released = await claims.release(
            session, GUILD, target, ClaimPolicy.days(7, 14), world.clock.now()
        )

    assert released is False
    assert await dms(world) == []
    assert [row.status for row in await world.rows(Claim)] == ["withdrawn"]


async def test_follow_up_returns_the_claims_due_for_release_without_releasing_them(
    world: World, ada: UserRecord
) -> None:
    claim_id = await take(world, ADA, 1)
    world.clock.advance(14 * DAY)

    async with world.sessions.begin() as session:
        due = await claims.follow_up(session, GUILD, ClaimPolicy.days(7, 14), world.clock.now())

    assert [(t.claim_id, t.repository, t.number, t.method) for t in due] == [
        (claim_id, REPO, 1, "assigned")
    ]
    assert (await claim_row(world, claim_id)).status == "active"
    assert await dms(world) == []  # a release is due, so no reminder now


# --- a button may be days old: everything a recommendation checks is checked again ----------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("label removed", "is no longer marked as a good first issue."),
        ("a pull request", "is a pull request, not an issue."),
        ("archived", "is in an archived or deleted repository."),
        ("linked pull request", "already has a pull request that will close it."),
    ],
)
async def test_a_claim_rechecks_what_made_the_issue_worth_recommending(
    world: World, ada: UserRecord, change: str, reason: str
) -> None:
    world.clock.advance(DAY)
    if change == "label removed":
        await world.seed(world.issue(1, labels=("docs",)))
    elif change == "a pull request":
        await world.seed(world.issue(1, labels=BEGINNER, pull=True))
    elif change == "archived":
        await world.repository(archived=True)
    else:
        await world.seed(world.issue(7, pull=True, closes=("#1",)))

    with pytest.raises(ClaimRefused) as refused:
        await take(world, ADA, 1)
    assert refused.value.user_message == f"{REPO}#1 {reason}"
    assert await world.rows(Claim) == []
    assert world.github.calls == []


async def test_an_unverified_member_claims_in_discord_only(world: World, ada: UserRecord) -> None:
    """Anyone can type anyone's login: the bot writes nothing to GitHub on its word."""
    await world.newcomer(BRUNO)
    async with world.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            BRUNO,
            github_user_id=12,
            login="bruno-dev",
            verified=False,
            now=world.clock.now(),
        )
    target = await claims.take(world.context(), user_id=BRUNO, repository_id=REPO_ID, number=1)
    assert target.method == "unverified"
    (row,) = await world.rows(Claim)
    assert (row.method, row.status) == ("unverified", "active")

    assert await claims.give_back(world.context(), target) is True
    assert [row.status for row in await world.rows(Claim)] == ["withdrawn"]
    assert world.github.calls == []
