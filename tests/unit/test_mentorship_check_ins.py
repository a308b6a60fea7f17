# SPDX-License-Identifier: Apache-2.0
"""A pairing's life after the match: the mentor's check-ins with the mentee's GitHub context,
their answers (and the handover two unanswered ones set off), the mentee's own check, review
nudges, and the settings that drive them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.config import ConfigError, Settings, load_config
from bot.db.models import CheckIn, Member, Pairing, Promise
from bot.errors import DomainError
from bot.github.normalise import Changes, ReviewRecord, UserRecord
from bot.services import claims, mentorship
from bot.services.mentorship import check_ins
from bot.services.mentorship.feature import FEATURE
from tests.unit.services_helpers import GUILD, REPO, REPO_ID, SDK, SDK_ID, World, account, settings
from tests.unit.test_mentorship import (
    ADA,
    BRUNO,
    DAY,
    KOFI,
    LENA,
    MENTORS_CHANNEL,
    MENTORSHIP,
    ask,
    mentor,
    newcomer,
    pairings,
    promises,
)

CONFIG = settings(mentorship=MENTORSHIP)
ORGANISERS_CHANNEL, ORGANISER_ROLE = 8, 9
HOUR = timedelta(hours=1)
# Ada's GitHub account, as test_mentorship.newcomer links it for login "ada-codes".
ADA_GITHUB = 100 + ADA
BEGINNER = ("good first issue",)


def configured(**mentorship_keys: Any) -> Settings:
    return settings(mentorship=MENTORSHIP | mentorship_keys)


async def paired(world: World, config: Settings = CONFIG) -> Pairing:
    """Kofi mentoring Ada (linked and verified as "ada-codes"), matched now; the main
    repository is known, so its pull requests may be shown."""
    await world.repository()
    await mentor(world, KOFI, config=config)
    await newcomer(world, ADA, login="ada-codes")
    pairing = (await ask(world, ADA, config)).pairing
    assert (pairing.status, pairing.mentor_id) == ("active", KOFI)
    return pairing


def ada(world: World) -> UserRecord:
    return account(ADA_GITHUB, "ada-codes", world.clock.now())


async def at(world: World, pairing: Pairing, when: timedelta, config: Settings = CONFIG) -> None:
    """Set the clock to ``when`` after the match and run what the job runs for each pairing."""
    assert pairing.matched_at is not None
    world.clock.set(pairing.matched_at + when)
    async with world.sessions.begin() as session:
        await check_ins.tend_pairings(session, config, GUILD, world.clock.now())


async def reply(
    world: World,
    pairing_id: int,
    stage: str,
    answer: str,
    user_id: int = KOFI,
    *,
    config: Settings = CONFIG,
    guild_id: int = GUILD,
) -> str:
    async with world.sessions.begin() as session:
        return await check_ins.answer(
            session,
            config,
            guild_id=guild_id,
            pairing_id=pairing_id,
            stage=stage,
            answer=answer,
            user_id=user_id,
            now=world.clock.now(),
        )


async def asked(world: World, pairing_id: int) -> dict[str, str | None]:
    """The stages asked of a pairing, each with its answer."""
    return {
        row.stage: row.answer for row in await world.rows(CheckIn) if row.pairing_id == pairing_id
    }


async def check_in_promises(world: World, pairing_id: int) -> list[Promise]:
    return await promises(world, f"mentorship:check-in:{pairing_id}:")


def buttons(pairing_id: int, stage: str, answers: tuple[str, ...]) -> list[str]:
    return [f"mentorship:answer:{pairing_id}:{stage}:{answer}" for answer in answers]


# --- the periodic job ----------------------------------------------------------------------


async def test_the_job_asks_what_is_due_then_wraps_up_then_closes(world: World) -> None:
    # A week-long pairing's last day is a check-in day: both are asked, and the place its
    # wrap-up frees goes to Bruno, waiting, in the same run; it closes three days later.
    config = configured(pairing_days=7, check_in_days=[2, 7], mentee_check_day=0)
    pairing = await paired(world, config)
    await mentor(world, KOFI, capacity=1, config=config)
    await newcomer(world, BRUNO)
    assert (await ask(world, BRUNO, config)).place == 1
    (job,) = FEATURE.jobs
    assert pairing.matched_at is not None

    world.clock.set(pairing.matched_at + 2 * DAY)
    await job.run(world.context(config))
    assert await asked(world, pairing.id) == {"mentor-2": None}
    world.clock.set(pairing.matched_at + 7 * DAY)
    await job.run(world.context(config))
    assert await asked(world, pairing.id) == {"mentor-2": None, "mentor-7": None}
    assert len(await promises(world, f"mentorship:wrap-up:{pairing.id}:")) == 2
    assert [p.status for p in await pairings(world)] == ["active", "active"]
    world.clock.set(pairing.matched_at + 10 * DAY)
    await job.run(world.context(config))
    assert [(p.mentee_id, p.status) for p in await pairings(world)] == [
        (ADA, "ended"),
        (BRUNO, "active"),
    ]
    assert [p.key for p in await promises(world, f"mentorship:check-in:{pairing.id}:")] == [
        f"mentorship:check-in:{pairing.id}:mentor-2",
        f"mentorship:check-in:{pairing.id}:mentor-7",
    ]


# --- the mentor's check-ins ----------------------------------------------------------------


async def test_the_mentor_is_asked_on_day_two_once_with_what_the_mentee_did(world: World) -> None:
    pairing = await paired(world)
    world.clock.advance(HOUR)
    title = "**Fix** the <@&1> frame graph @everyone"
    await world.seed(
        world.issue(1, title=title, labels=BEGINNER),
        world.issue(7, pull=True, author=ada(world)),  # open, not a draft, nobody reviewed it
    )
    world.clock.advance(DAY)
    target = await claims.take(world.context(CONFIG), user_id=ADA, repository_id=REPO_ID, number=1)
    claimed_at = world.clock.now()

    await at(world, pairing, 2 * DAY - timedelta(seconds=1))
    assert await asked(world, pairing.id) == {}
    await at(world, pairing, 2 * DAY)
    (question,) = await check_in_promises(world, pairing.id)
    assert (question.key, question.target_kind, question.target_id, question.feature) == (
        f"mentorship:check-in:{pairing.id}:mentor-2",
        "dm",
        KOFI,
        "mentorship",
    )
    assert [b["custom_id"] for b in question.payload["buttons"]] == buttons(
        pairing.id, "mentor-2", ("talked", "no_answer", "need_help")
    )
    assert [b["label"] for b in question.payload["buttons"]] == ["Talked", "No answer", "Need help"]
    content = question.payload["content"]
    assert content.startswith(f"**Check-in, day 2 with <@{ADA}>**\n")
    assert f"Working on: {target.link} {target.shown_title}\n" in content
    for raw in ("**Fix**", "<@&1>", " @everyone"):
        assert raw not in content
    assert "Pull requests opened: 1\n" in content
    pull = f"[{REPO}#7](https://github.com/repo-{REPO_ID}/pull/7)"
    assert f"⏳ {pull} has waited 47 hours for a first review\n" in content
    assert f"Last activity: <t:{int(claimed_at.timestamp())}:R>" in content

    # Asked once, however often the job runs.
    await at(world, pairing, 2 * DAY)
    await at(world, pairing, 3 * DAY)
    assert len(await check_in_promises(world, pairing.id)) == 1
    assert await asked(world, pairing.id) == {"mentor-2": None}


async def test_a_mentee_with_nothing_to_show_yet_says_so(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    (question,) = await check_in_promises(world, pairing.id)
    content = question.payload["content"]
    assert (
        "Working on: no issue claimed\nPull requests opened: 0\nLast activity: none yet" in content
    )
    assert "⏳" not in content


async def test_each_configured_day_is_asked_in_turn(world: World) -> None:
    config = configured(check_in_days=[9, 3, 3], mentee_check_day=0)
    pairing = await paired(world, config)
    for day in (2, 3, 4, 8, 9, 10, 30):
        await at(world, pairing, day * DAY, config)
    assert [p.key.rsplit(":", 1)[1] for p in await check_in_promises(world, pairing.id)] == [
        "mentor-3",
        "mentor-9",
    ]


async def test_after_downtime_only_the_latest_due_check_in_is_asked(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 15 * DAY)
    assert sorted(p.key for p in await check_in_promises(world, pairing.id)) == [
        f"mentorship:check-in:{pairing.id}:mentee-7",
        f"mentorship:check-in:{pairing.id}:mentor-14",
    ]
    (question,) = [p for p in await check_in_promises(world, pairing.id) if p.target_id == KOFI]
    assert question.payload["content"].startswith(f"**Check-in, day 14 with <@{ADA}>**")


# --- answers -------------------------------------------------------------------------------


async def test_talked_is_recorded_and_thanked(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY + HOUR)
    assert await reply(world, pairing.id, "mentor-2", "talked") == "Great, thanks for checking in!"
    (row,) = await world.rows(CheckIn)
    assert (row.stage, row.answer, row.answered_at) == ("mentor-2", "talked", world.clock.now())
    assert await promises(world, "mentorship:need-help:") == []


async def test_need_help_alerts_the_organisers_with_their_role(world: World) -> None:
    config = settings(
        mentorship=MENTORSHIP | {"organisers_channel_id": ORGANISERS_CHANNEL},
        admin={"organiser_role_id": ORGANISER_ROLE},
    )
    pairing = await paired(world, config)
    await at(world, pairing, 2 * DAY, config)
    told = await reply(world, pairing.id, "mentor-2", "need_help", config=config)
    assert "organisers have been told" in told
    (alert,) = await promises(world, "mentorship:need-help:")
    assert (alert.key, alert.target_kind, alert.target_id) == (
        f"mentorship:need-help:{pairing.id}:mentor-2",
        "channel",
        ORGANISERS_CHANNEL,
    )
    assert alert.payload["content"].startswith(
        f"<@&{ORGANISER_ROLE}> <@{KOFI}> asked for help with their mentee <@{ADA}>"
    )
    assert alert.payload["mention_roles"] == [ORGANISER_ROLE]
    assert await asked(world, pairing.id) == {"mentor-2": "need_help"}


async def test_need_help_without_organisers_goes_to_the_mentors_channel(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    await reply(world, pairing.id, "mentor-2", "need_help")
    (alert,) = await promises(world, "mentorship:need-help:")
    assert (alert.target_kind, alert.target_id) == ("channel", MENTORS_CHANNEL)
    assert alert.payload["content"].startswith(f"<@{KOFI}> asked for help")
    assert "<@&" not in alert.payload["content"]
    assert alert.payload["mention_roles"] == []


async def test_the_mentee_is_asked_on_their_day_and_stuck_tells_the_mentor(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 7 * DAY - timedelta(seconds=1))
    assert "mentee-7" not in await asked(world, pairing.id)
    await at(world, pairing, 7 * DAY)
    (question,) = [p for p in await check_in_promises(world, pairing.id) if p.target_id == ADA]
    assert (question.key, question.target_kind) == (
        f"mentorship:check-in:{pairing.id}:mentee-7",
        "dm",
    )
    assert f"How is it going with <@{KOFI}>?" in question.payload["content"]
    assert [b["custom_id"] for b in question.payload["buttons"]] == buttons(
        pairing.id, "mentee-7", ("good", "stuck")
    )
    await at(world, pairing, 8 * DAY)
    assert len(await promises(world, f"mentorship:check-in:{pairing.id}:mentee-")) == 1

    told = await reply(world, pairing.id, "mentee-7", "stuck", ADA)
    assert told == f"Thanks! <@{KOFI}> knows and will get in touch."
    (alert,) = await promises(world, "mentorship:stuck:")
    assert (alert.key, alert.target_kind, alert.target_id) == (
        f"mentorship:stuck:{pairing.id}:mentee-7",
        "dm",
        KOFI,
    )
    assert f"<@{ADA}> says they're stuck" in alert.payload["content"]
    assert alert.payload["mentions"] == [ADA]
    assert (await asked(world, pairing.id))["mentee-7"] == "stuck"


async def test_good_from_the_mentee_alerts_nobody(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 7 * DAY)
    assert await reply(world, pairing.id, "mentee-7", "good", ADA) == (
        "Great, thanks for checking in!"
    )
    assert await promises(world, "mentorship:stuck:") == []


@pytest.mark.parametrize("day", [0, 3])
async def test_the_mentee_check_day_is_configurable_and_zero_is_never(
    world: World, day: int
) -> None:
    config = configured(mentee_check_day=day)
    pairing = await paired(world, config)
    for when in range(1, 31):
        await at(world, pairing, when * DAY, config)
    expected = [f"mentorship:check-in:{pairing.id}:mentee-{day}"] if day else []
    assert [p.key for p in await promises(world, f"mentorship:check-in:{pairing.id}:mentee-")] == (
        expected
    )


async def test_one_no_answer_is_only_noted(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    told = await reply(world, pairing.id, "mentor-2", "no_answer")
    assert told.startswith("Noted.")
    # Talked in between: the next no answer is one in a row again.
    await at(world, pairing, 7 * DAY)
    await reply(world, pairing.id, "mentor-7", "talked")
    await at(world, pairing, 14 * DAY)
    assert (await reply(world, pairing.id, "mentor-14", "no_answer")).startswith("Noted.")
    assert [p.status for p in await pairings(world)] == ["active"]
    assert await promises(world, "mentorship:handover:") == []


async def test_no_answer_twice_in_a_row_hands_the_mentee_over(world: World) -> None:
    pairing = await paired(world)
    await mentor(world, LENA)
    await at(world, pairing, 2 * DAY)
    await reply(world, pairing.id, "mentor-2", "no_answer")
    await at(world, pairing, 7 * DAY)
    told = await reply(world, pairing.id, "mentor-7", "no_answer")
    assert told == (
        "Thanks for trying. After two check-ins without an answer, "
        f"<@{ADA}> is being matched with someone else."
    )
    ended, again = await pairings(world)
    assert (ended.id, ended.status, ended.end_reason, ended.ended_at) == (
        pairing.id,
        "ended",
        "unanswered",
        world.clock.now(),
    )
    assert (again.mentee_id, again.status, again.mentor_id, again.excluded_mentor_ids) == (
        ADA,
        "active",
        LENA,
        [KOFI],
    )
    told = {p.target_id: p for p in await promises(world, "mentorship:handover:")}
    assert {who: p.key for who, p in told.items()} == {
        ADA: f"mentorship:handover:{pairing.id}",
        KOFI: f"mentorship:handover:{pairing.id}:mentor",
    }
    assert told[ADA].payload["content"].startswith(f"It seems you and <@{KOFI}> haven't")
    assert (
        told[KOFI].payload["content"].startswith(f"After two check-ins without an answer, <@{ADA}>")
    )


async def test_an_old_no_answer_waits_for_the_open_check_in(world: World) -> None:
    # Day 2 answered "No answer" late, while day 7 is still open: day 7 is not ignored (yet),
    # so nothing is handed over; a "Talked" to it keeps the pairing.
    pairing = await paired(world)
    await mentor(world, LENA)
    await at(world, pairing, 2 * DAY)
    await at(world, pairing, 7 * DAY)
    assert (await reply(world, pairing.id, "mentor-2", "no_answer")).startswith("Noted.")
    assert [p.status for p in await pairings(world)] == ["active"]
    await reply(world, pairing.id, "mentor-7", "talked")
    await at(world, pairing, 14 * DAY)
    assert [p.status for p in await pairings(world)] == ["active"]
    assert "mentor-14" in await asked(world, pairing.id)


async def test_two_ignored_check_ins_hand_over_at_the_third(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    await at(world, pairing, 7 * DAY)
    await at(world, pairing, 14 * DAY - timedelta(seconds=1))
    assert [p.status for p in await pairings(world)] == ["active"]
    await at(world, pairing, 14 * DAY)
    # Handed over instead of asked; nobody else mentors, so Ada waits at the front.
    assert await asked(world, pairing.id) == {"mentor-2": None, "mentor-7": None, "mentee-7": None}
    assert await promises(world, f"mentorship:check-in:{pairing.id}:mentor-14") == []
    ended, again = await pairings(world)
    assert (ended.status, ended.end_reason) == ("ended", "unanswered")
    assert (again.status, again.excluded_mentor_ids) == ("queued", [KOFI])
    assert len(await promises(world, f"mentorship:help:{again.id}")) == 1

    # Lena takes over; her check-ins count from her own match.
    await mentor(world, LENA)
    (taken,) = await pairings(world, "active")
    assert (taken.id, taken.mentor_id) == (again.id, LENA)
    await at(world, taken, 2 * DAY)
    (question,) = await promises(world, f"mentorship:check-in:{taken.id}:mentor-")
    assert (question.key, question.target_id) == (f"mentorship:check-in:{taken.id}:mentor-2", LENA)


async def test_one_ignored_check_in_after_an_answer_is_not_enough(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    await reply(world, pairing.id, "mentor-2", "talked")
    await at(world, pairing, 7 * DAY)
    await at(world, pairing, 14 * DAY)
    assert [p.status for p in await pairings(world)] == ["active"]
    assert await asked(world, pairing.id) == {
        "mentor-2": "talked",
        "mentor-7": None,
        "mentee-7": None,
        "mentor-14": None,
    }


async def test_an_ignored_check_in_then_a_no_answer_hands_over(world: World) -> None:
    pairing = await paired(world)
    await at(world, pairing, 2 * DAY)
    await at(world, pairing, 7 * DAY)
    assert (await reply(world, pairing.id, "mentor-7", "no_answer")).startswith("Thanks for trying")
    assert [p.end_reason for p in await pairings(world, "ended")] == ["unanswered"]


# --- answers nobody was asked for ----------------------------------------------------------

OTHER_GUILD = GUILD + 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown pairing", "doesn't exist"),
        ("unknown stage", "doesn't exist"),
        ("another guild", "doesn't exist"),
        ("answer of the other side", "for someone else"),
        ("made-up answer", "for someone else"),
        ("the mentee on the mentor's", "for someone else"),
        ("a stranger", "for someone else"),
        ("the mentor on the mentee's", "for someone else"),
        ("ended pairing", "has ended"),
    ],
)
async def test_answers_nobody_was_asked_for_are_refused(
    world: World, case: str, message: str
) -> None:
    pairing = await paired(world)
    await at(world, pairing, 7 * DAY)  # the mentor's day-7 check-in and the mentee's are open
    if case == "ended pairing":
        async with world.sessions.begin() as session:
            await mentorship.leave(session, CONFIG, GUILD, KOFI, world.clock.now())
    before = await world.rows(Promise)
    forged = {
        "unknown pairing": (pairing.id + 100, "mentor-7", "talked", KOFI, GUILD),
        "unknown stage": (pairing.id, "mentor-3", "talked", KOFI, GUILD),
        "another guild": (pairing.id, "mentor-7", "talked", KOFI, OTHER_GUILD),
        "answer of the other side": (pairing.id, "mentor-7", "stuck", KOFI, GUILD),
        "made-up answer": (pairing.id, "mentor-7", "**yes** @everyone", KOFI, GUILD),
        "the mentee on the mentor's": (pairing.id, "mentor-7", "need_help", ADA, GUILD),
        "a stranger": (pairing.id, "mentor-7", "talked", BRUNO, GUILD),
        "the mentor on the mentee's": (pairing.id, "mentee-7", "stuck", KOFI, GUILD),
        "ended pairing": (pairing.id, "mentor-7", "need_help", KOFI, GUILD),
    }[case]
    pairing_id, stage, answer, user_id, guild_id = forged
    with pytest.raises(DomainError, match=message):
        await reply(world, pairing_id, stage, answer, user_id, guild_id=guild_id)
    assert await asked(world, pairing.id) == {"mentor-7": None, "mentee-7": None}
    assert [p.key for p in await world.rows(Promise)] == [p.key for p in before]


# --- review nudges -------------------------------------------------------------------------


async def review(world: World, review_id: int, number: int, reviewer: UserRecord | None) -> None:
    record = ReviewRecord(
        review_id, REPO_ID, number, reviewer, "COMMENTED", world.clock.now(), "NONE"
    )
    await world.write(Changes(reviews=[record]))


async def nudges(world: World) -> list[tuple[str, int]]:
    return [(p.key, p.target_id) for p in await promises(world, "mentorship:review-nudge:")]


async def test_a_pull_request_waiting_for_review_nudges_the_mentor_once(world: World) -> None:
    pairing = await paired(world)
    await world.seed(world.issue(7, pull=True, author=ada(world)))
    await at(world, pairing, 24 * HOUR - timedelta(seconds=1))
    assert await nudges(world) == []
    await at(world, pairing, 24 * HOUR)
    key = f"mentorship:review-nudge:{pairing.id}:{REPO_ID}:7"
    assert await nudges(world) == [(key, KOFI)]
    (nudge,) = await promises(world, key)
    assert nudge.target_kind == "dm"
    assert nudge.payload["content"].startswith(
        f"<@{ADA}>'s pull request [{REPO}#7](https://github.com/repo-{REPO_ID}/pull/7) has "
        "waited 24 hours for a first review."
    )
    await at(world, pairing, 25 * HOUR)
    await at(world, pairing, 5 * DAY)
    assert await nudges(world) == [(key, KOFI)]


async def test_only_open_ready_unreviewed_shown_pull_requests_nudge(world: World) -> None:
    pairing = await paired(world)
    maintainer = world.maintainer
    await world.repository(SDK_ID, SDK, private=True)  # followed, but private and not listed
    await world.repository(503, "someone/else")  # public, not followed
    await world.seed(
        world.issue(1, pull=True, author=ada(world)),
        replace(world.issue(2, pull=True, author=ada(world)), draft=True),
        world.issue(3, pull=True, author=ada(world), state="closed"),
        world.issue(4, pull=True, author=ada(world), state="closed", merged=True),
        world.issue(5, pull=True, author=ada(world)),  # reviewed by a maintainer
        world.issue(6, pull=True, author=ada(world)),  # reviewed by Ada herself only
        world.issue(7, pull=True, author=maintainer),  # someone else's
        world.issue(8, repository_id=SDK_ID, pull=True, author=ada(world)),
        world.issue(9, repository_id=503, pull=True, author=ada(world)),
        world.issue(10, author=ada(world)),  # an issue, not a pull request
        world.issue(11, pull=True, author=ada(world)),  # reviewed by an account since deleted
    )
    await review(world, 1001, 5, maintainer)
    await review(world, 1002, 6, ada(world))
    await review(world, 1003, 11, None)
    await at(world, pairing, 30 * HOUR)
    assert [key for key, _ in await nudges(world)] == [
        f"mentorship:review-nudge:{pairing.id}:{REPO_ID}:{number}" for number in (1, 6)
    ]


async def test_no_nudge_when_turned_off(world: World) -> None:
    config = configured(review_nudge_hours=0)
    pairing = await paired(world, config)
    await world.seed(world.issue(7, pull=True, author=ada(world)))
    await at(world, pairing, 10 * DAY, config)
    assert await nudges(world) == []


async def test_no_nudge_for_an_unverified_github_link(world: World) -> None:
    pairing = await paired(world)
    async with world.sessions.begin() as session:
        await session.execute(
            update(Member).where(Member.user_id == ADA).values(github_verified=False)
        )
    await world.seed(world.issue(7, pull=True, author=ada(world)))
    await at(world, pairing, 3 * DAY)
    assert await nudges(world) == []
    # The check-in lists nothing waiting either: whose pull requests these are is unproven.
    (question,) = await promises(world, f"mentorship:check-in:{pairing.id}:mentor-2")
    assert "⏳" not in question.payload["content"]


# --- settings ------------------------------------------------------------------------------


def test_check_in_days_are_sorted_and_deduplicated() -> None:
    section = configured(check_in_days=[21, 2, 7, 2, 14]).mentorship
    assert section is not None
    assert section.check_in_days == [2, 7, 14, 21]
    defaults = CONFIG.mentorship
    assert defaults is not None
    assert (defaults.check_in_days, defaults.mentee_check_day, defaults.review_nudge_hours) == (
        [2, 7, 14, 21, 28],
        7,
        24,
    )


def test_out_of_range_check_in_settings_are_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[discord]\nguild_id = 42\n[mentorship]\nmentor_role_id = 5\nmentors_channel_id = 6\n"
        "check_in_days = [7, 0, 121]\nmentee_check_day = 121\nreview_nudge_hours = -1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path, {})
    assert refused.value.problems == [
        f"{path}: mentorship.check_in_days.1: input should be greater than or equal to 1 (got 0)",
        f"{path}: mentorship.check_in_days.2: input should be less than or equal to 120 (got 121)",
        f"{path}: mentorship.mentee_check_day: input should be less than or equal to 120 (got 121)",
        f"{path}: mentorship.review_nudge_hours: input should be greater than or equal to 0 "
        "(got -1)",
    ]
