# SPDX-License-Identifier: Apache-2.0
"""The mentor buddy program: time zones, the score, mentors joining and leaving, requests,
the queue, the periodic job, handovers and the introductions promised through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.config import Settings
from bot.db.models import FORGOTTEN, Member, Mentor, Newcomer, Pairing, Promise
from bot.errors import DomainError
from bot.services import members, mentorship, retention
from bot.services.mentorship import (
    WEIGHTS,
    Candidate,
    MentorProfile,
    Request,
    hours_apart,
    parse_languages,
    score,
    wrap_up,
)
from bot.services.mentorship.feature import FEATURE, run_schedule
from bot.text import escape
from tests.unit.services_helpers import AREAS, GUILD, World, account, settings

MENTORS_CHANNEL, THREAD_CHANNEL = 6, 7
MENTORSHIP = {"mentor_role_id": 5, "mentors_channel_id": MENTORS_CHANNEL}
CONFIG = settings(mentorship=MENTORSHIP)
THREADS = settings(mentorship=MENTORSHIP | {"thread_channel_id": THREAD_CHANNEL})
# Discord user ids: newcomers, then mentors.
ADA, BRUNO, CHIDI, DANA = 1, 2, 3, 4
KOFI, LENA, MIRA, NOOR = 11, 12, 13, 14
DAY = timedelta(days=1)
UTC_PLUS_1 = 60


async def newcomer(
    world: World,
    user_id: int,
    areas: tuple[str, ...] = ("docs",),
    *,
    offset: int | None = UTC_PLUS_1,
    login: str | None = None,
    finished: bool = True,
) -> None:
    """A member through `/start` (finished unless told otherwise), in time zone ``offset``."""
    github = account(100 + user_id, login, world.clock.now()) if login else None
    await world.newcomer(user_id, github, areas=areas)
    async with world.sessions.begin() as session:
        if offset is not None:
            await members.set_utc_offset(session, GUILD, user_id, offset)
        await session.execute(
            update(Newcomer)
            .where(Newcomer.guild_id == GUILD, Newcomer.user_id == user_id)
            .values(finished_at=world.clock.now() if finished else None)
        )


async def mentor(
    world: World,
    user_id: int,
    areas: tuple[str, ...] = ("docs",),
    *,
    capacity: int = 2,
    offset: int | None = UTC_PLUS_1,
    approved: bool = True,
    config: Settings = CONFIG,
) -> Mentor:
    profile = MentorProfile(areas, capacity, offset, ())
    async with world.sessions.begin() as session:
        return await mentorship.join(
            session,
            config,
            GUILD,
            user_id,
            profile,
            offered=AREAS,
            approved=approved,
            now=world.clock.now(),
        )


async def ask(world: World, user_id: int, config: Settings = CONFIG) -> Request:
    async with world.sessions.begin() as session:
        return await mentorship.request(session, config, GUILD, user_id, world.clock.now())


async def tend(world: World) -> None:
    """What the feature's job does about matching and ending: pauses, the queue, wrap-ups."""
    async with world.sessions.begin() as session:
        await mentorship.tend(session, CONFIG, GUILD, world.clock.now())
        await wrap_up.tend_wrap_ups(session, CONFIG, GUILD, world.clock.now())


async def mentors(world: World) -> dict[int, Mentor]:
    return {row.user_id: row for row in await world.rows(Mentor)}


async def pairings(world: World, status: str | None = None) -> list[Pairing]:
    return [row for row in await world.rows(Pairing) if status in (None, row.status)]


async def time_zones(world: World) -> dict[int, int | None]:
    return {row.user_id: row.utc_offset for row in await world.rows(Member)}


async def promises(world: World, prefix: str) -> list[Promise]:
    return [row for row in await world.rows(Promise) if row.key.startswith(prefix)]


def candidate(
    user_id: int = KOFI,
    areas: tuple[str, ...] = ("docs",),
    *,
    capacity: int = 2,
    load: int = 0,
    offset: int | None = 0,
    last_matched_at: datetime | None = None,
) -> Candidate:
    return Candidate(user_id, areas, capacity, load, offset, last_matched_at)


def test_the_feature_tends_the_program_every_ten_minutes() -> None:
    (job,) = FEATURE.jobs
    assert (job.name, job.interval) == ("mentorship", timedelta(minutes=10))
    assert FEATURE.promises == {"dm", "channel", "thread", "archive"}


# --- time-zone distance and languages ------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "hours"),
    [
        (12 * 60, -11 * 60, 1),  # the short way round the date line
        (-11 * 60, 12 * 60, 1),
        (14 * 60, -12 * 60, 2),
        (0, 0, 0),
        (60, -300, 6),
        (-6 * 60, 6 * 60, 12),  # the farthest two people can be
        (330, 0, 5.5),
    ],
)
def test_hours_apart_go_the_short_way_round_the_clock(a: int, b: int, hours: float) -> None:
    assert hours_apart(a, b) == hours


def test_languages_are_split_deduplicated_and_limited() -> None:
    assert parse_languages(None) == ()
    assert parse_languages(" , ;") == ()
    assert parse_languages("English, français; Deutsch / English") == (
        "English",
        "français",
        "Deutsch",
    )
    assert parse_languages(",".join(f"language {n}" for n in range(8))) == tuple(
        f"language {n}" for n in range(5)
    )
    (long,) = parse_languages("x" * 100)
    assert long == "x" * 24


# --- the score -----------------------------------------------------------------------------


def test_the_score_weighs_areas_load_spread_and_time_zone() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    kofi = candidate(
        areas=("docs", "core"),
        load=1,
        capacity=4,
        offset=0,
        last_matched_at=now - timedelta(days=15),
    )
    scored = score(kofi, ["docs", "sdk"], 3 * 60, now)
    expected = (
        WEIGHTS["areas"] * 0.5  # one of the newcomer's two areas
        + WEIGHTS["load"] * 0.5  # two of four places free once this newcomer takes one
        + WEIGHTS["spread"] * 0.5  # last mentee half of RESTED ago
        + WEIGHTS["time_zone"] * 0.75  # three hours apart of at most twelve
    )
    assert scored.score == pytest.approx(expected, abs=1e-4)
    assert scored.shared_areas == ("docs",)
    assert scored.reason == "docs, UTC, 1 of 4 mentees"
    assert sum(WEIGHTS.values()) == pytest.approx(1)


def test_an_unknown_time_zone_or_no_interests_count_as_neutral() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    six_hours_away = score(candidate(offset=0), ["docs"], 6 * 60, now).score
    assert score(candidate(offset=None), ["docs"], 6 * 60, now).score == six_hours_away
    assert score(candidate(offset=0), ["docs"], None, now).score == six_hours_away
    same_zone = score(candidate(offset=0), ["docs"], 0, now)
    no_interests = score(candidate(offset=0), [], 0, now)
    assert no_interests.score == pytest.approx(same_zone.score - WEIGHTS["areas"] * 0.5)
    assert no_interests.reason == "no shared area, UTC, 0 of 2 mentees"


def test_each_part_of_the_score_ranks_mentors_the_way_the_rules_say() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def rank(*candidates: Candidate) -> list[int]:
        scored = [score(c, ["docs"], 0, now) for c in candidates]
        return [s.candidate.user_id for s in sorted(scored, key=lambda s: -s.score)]

    assert rank(candidate(KOFI, ("core",)), candidate(LENA, ("docs",))) == [LENA, KOFI]
    assert rank(candidate(KOFI, load=1), candidate(LENA, load=0)) == [LENA, KOFI]
    # The place being taken counts: a mentor of one place who is free does not beat a mentor
    # of three with two free.
    assert rank(candidate(KOFI, load=0, capacity=1), candidate(LENA, load=1, capacity=3)) == [
        LENA,
        KOFI,
    ]
    # The same load counts less for a mentor with more room.
    assert rank(candidate(KOFI, load=1, capacity=2), candidate(LENA, load=1, capacity=3)) == [
        LENA,
        KOFI,
    ]
    assert rank(
        candidate(KOFI, last_matched_at=now - DAY), candidate(LENA, last_matched_at=now - 20 * DAY)
    ) == [LENA, KOFI]
    assert rank(candidate(KOFI, offset=8 * 60), candidate(LENA, offset=-60)) == [LENA, KOFI]


# --- mentors joining -----------------------------------------------------------------------


async def test_a_mentor_picks_offered_areas_at_least_one(world: World) -> None:
    with pytest.raises(DomainError, match=r"aren't offered here: cooking, r\\_&\\_d"):
        await mentor(world, KOFI, ("docs", "cooking", "r_&_d"))
    with pytest.raises(DomainError, match="at least one area"):
        await mentor(world, KOFI, ())
    assert await world.rows(Mentor) == []


async def test_a_mentor_without_the_role_waits_for_an_organiser(world: World) -> None:
    await newcomer(world, ADA)
    assert (await ask(world, ADA)).place == 1
    pending = await mentor(world, KOFI, approved=False)
    assert pending.status == "pending"
    assert [p.status for p in await pairings(world)] == ["queued"]
    # A pending mentor can't pause, and joining again without the role changes nothing.
    async with world.sessions.begin() as session:
        with pytest.raises(DomainError, match="waiting for an organiser"):
            await mentorship.pause(session, CONFIG, GUILD, KOFI, None, world.clock.now())
    assert (await mentor(world, KOFI, approved=False)).status == "pending"

    async with world.sessions.begin() as session:
        approved = await mentorship.approve(session, CONFIG, GUILD, KOFI, world.clock.now())
    assert approved.status == "active"
    (pairing,) = await pairings(world)
    assert (pairing.status, pairing.mentor_id) == ("active", KOFI)
    async with world.sessions.begin() as session:
        with pytest.raises(DomainError, match="has not asked to become a mentor"):
            await mentorship.approve(session, CONFIG, GUILD, KOFI, world.clock.now())
        with pytest.raises(DomainError, match="has not asked"):
            await mentorship.approve(session, CONFIG, GUILD, LENA, world.clock.now())


async def test_a_pending_mentor_with_the_role_now_is_active(world: World) -> None:
    await mentor(world, KOFI, approved=False)
    assert (await mentor(world, KOFI, approved=True)).status == "active"


async def test_changing_the_profile_keeps_the_load_and_serves_the_queue(world: World) -> None:
    await mentor(world, KOFI, ("docs",), capacity=1)
    for member in (ADA, BRUNO):
        await newcomer(world, member)
        await ask(world, member)
    assert (await mentors(world))[KOFI].load == 1
    assert [p.status for p in await pairings(world)] == ["active", "queued"]

    changed = await mentor(world, KOFI, ("sdk", "docs"), capacity=3, offset=-300)
    # Areas in the order they are offered; the mentee already taken still counts.
    assert (changed.areas, changed.capacity) == (["docs", "sdk"], 3)
    assert (await time_zones(world))[KOFI] == -300
    assert (await mentors(world))[KOFI].load == 2
    assert [(p.mentee_id, p.status) for p in await pairings(world)] == [
        (ADA, "active"),
        (BRUNO, "active"),
    ]


async def test_a_mentor_who_left_starts_afresh_on_joining_again(world: World) -> None:
    await mentor(world, KOFI)
    async with world.sessions.begin() as session:
        await mentorship.pause(
            session, CONFIG, GUILD, KOFI, world.clock.now() + 9 * DAY, world.clock.now()
        )
        assert await mentorship.leave(session, CONFIG, GUILD, KOFI, world.clock.now()) == 0
    assert (await mentors(world))[KOFI].status == "left"
    async with world.sessions.begin() as session:
        with pytest.raises(DomainError, match="aren't a mentor here"):
            await mentorship.leave(session, CONFIG, GUILD, KOFI, world.clock.now())
        with pytest.raises(DomainError, match="aren't a mentor here"):
            await mentorship.resume(session, CONFIG, GUILD, KOFI, world.clock.now())
    again = await mentor(world, KOFI)
    assert (again.status, again.paused_until) == ("active", None)
    await mentorship_leave(world, KOFI)
    assert (await mentor(world, KOFI, approved=False)).status == "pending"


async def mentorship_leave(world: World, user_id: int) -> int:
    async with world.sessions.begin() as session:
        return await mentorship.leave(session, CONFIG, GUILD, user_id, world.clock.now())


async def test_a_pause_must_end_in_the_future(world: World) -> None:
    await mentor(world, KOFI)
    async with world.sessions.begin() as session:
        with pytest.raises(DomainError, match="already passed"):
            await mentorship.pause(
                session, CONFIG, GUILD, KOFI, world.clock.now(), world.clock.now()
            )
    assert (await mentors(world))[KOFI].status == "active"


# --- requests ------------------------------------------------------------------------------


async def test_only_a_newcomer_who_finished_start_may_ask(world: World) -> None:
    await mentor(world, KOFI)
    with pytest.raises(DomainError, match="Finish `/start` first"):
        await ask(world, ADA)  # never started
    await newcomer(world, ADA, finished=False)
    with pytest.raises(DomainError, match="Finish `/start` first"):
        await ask(world, ADA)
    assert await world.rows(Pairing) == []
    assert (await mentors(world))[KOFI].load == 0


async def test_a_match_says_why_and_takes_one_place(world: World) -> None:
    await mentor(world, KOFI, ("docs", "core"), capacity=2, offset=UTC_PLUS_1)
    await newcomer(world, ADA, ("docs", "sdk"), offset=UTC_PLUS_1)
    now = world.clock.now()
    asked = await ask(world, ADA)
    assert (asked.place, asked.new) == (None, True)
    pairing = asked.pairing
    assert (pairing.status, pairing.mentor_id, pairing.mentee_id) == ("active", KOFI, ADA)
    assert pairing.reason == "docs, UTC+1, 0 of 2 mentees"
    assert (pairing.requested_at, pairing.matched_at, pairing.ends_at) == (now, now, now + 30 * DAY)
    assert (
        pairing.score
        == score(
            candidate(KOFI, ("docs", "core"), offset=UTC_PLUS_1), ["docs", "sdk"], UTC_PLUS_1, now
        ).score
    )
    kofi = (await mentors(world))[KOFI]
    assert (kofi.load, kofi.last_matched_at) == (1, now)
    assert await promises(world, "mentorship:help:") == []


async def test_the_pairing_lasts_the_configured_days(world: World) -> None:
    config = settings(mentorship=MENTORSHIP | {"pairing_days": 45})
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    pairing = (await ask(world, ADA, config)).pairing
    assert pairing.ends_at == world.clock.now() + 45 * DAY


async def test_asking_twice_answers_the_open_request(world: World) -> None:
    await mentor(world, KOFI, capacity=1)
    for member in (ADA, BRUNO):
        await newcomer(world, member)
    first = await ask(world, ADA)
    world.clock.advance(DAY)
    again = await ask(world, ADA)
    assert (again.pairing.id, again.pairing.status, again.new) == (
        first.pairing.id,
        "active",
        False,
    )
    queued = await ask(world, BRUNO)
    queued_again = await ask(world, BRUNO)
    assert (queued_again.pairing.id, queued_again.place, queued_again.new) == (
        queued.pairing.id,
        1,
        False,
    )
    assert (await mentors(world))[KOFI].load == 1
    assert len(await pairings(world)) == 2
    assert len(await promises(world, "mentorship:help:")) == 1


async def test_the_best_scored_mentor_is_chosen(world: World) -> None:
    await mentor(world, KOFI, ("core",), offset=UTC_PLUS_1)
    await mentor(world, LENA, ("docs",), offset=-8 * 60)
    await mentor(world, MIRA, ("docs",), offset=2 * 60)
    await newcomer(world, ADA, ("docs",), offset=UTC_PLUS_1)
    assert (await ask(world, ADA)).pairing.mentor_id == MIRA
    # Mira has a mentee now and was just given one: Lena, farther away, comes next.
    await newcomer(world, BRUNO, ("docs",), offset=UTC_PLUS_1)
    assert (await ask(world, BRUNO)).pairing.mentor_id == LENA


async def test_a_newcomer_who_mentors_is_never_their_own_mentor(world: World) -> None:
    await newcomer(world, KOFI, ("docs",))
    await mentor(world, KOFI, ("docs",))
    asked = await ask(world, KOFI)
    assert (asked.pairing.status, asked.place) == ("queued", 1)
    await mentor(world, LENA, ("core",), offset=-8 * 60)
    (pairing,) = await pairings(world)
    assert (pairing.status, pairing.mentor_id) == ("active", LENA)


async def test_paused_pending_departed_and_full_mentors_are_skipped(world: World) -> None:
    now = world.clock.now()
    await mentor(world, KOFI)
    async with world.sessions.begin() as session:
        await mentorship.pause(session, CONFIG, GUILD, KOFI, None, now)
    await mentor(world, LENA, approved=False)
    await mentor(world, MIRA)
    await mentorship_leave(world, MIRA)
    await mentor(world, NOOR, capacity=1)
    await newcomer(world, DANA)
    assert (await ask(world, DANA)).pairing.mentor_id == NOOR
    await newcomer(world, ADA)
    asked = await ask(world, ADA)
    assert (asked.pairing.status, asked.place) == ("queued", 1)
    assert {m.user_id: m.load for m in (await mentors(world)).values()} == {
        KOFI: 0,
        LENA: 0,
        MIRA: 0,
        NOOR: 1,
    }

    async with world.sessions.begin() as session:
        await mentorship.resume(session, CONFIG, GUILD, KOFI, now)
    assert (await ask(world, ADA)).pairing.mentor_id == KOFI


async def test_the_queue_tells_honest_places_and_asks_the_mentors_once(world: World) -> None:
    for member in (ADA, BRUNO, CHIDI):
        await newcomer(world, member)
        world.clock.advance(timedelta(minutes=1))
    places = [(await ask(world, member)).place for member in (ADA, BRUNO, CHIDI)]
    assert places == [1, 2, 3]
    for member in (ADA, BRUNO, CHIDI):
        assert (await ask(world, member)).new is False
    asked = await promises(world, "mentorship:help:")
    assert sorted(p.key for p in asked) == sorted(
        f"mentorship:help:{p.id}" for p in await pairings(world)
    )
    assert {(p.target_kind, p.target_id, p.feature) for p in asked} == {
        ("channel", MENTORS_CHANNEL, "mentorship")
    }
    assert "(3 waiting in all)" in max(asked, key=lambda p: p.id).payload["content"]

    # The first in line is served; everyone behind moves up one.
    await mentor(world, KOFI, capacity=1)
    assert [(await ask(world, member)).place for member in (BRUNO, CHIDI)] == [1, 2]
    assert [(p.mentee_id, p.status) for p in await pairings(world)] == [
        (ADA, "active"),
        (BRUNO, "queued"),
        (CHIDI, "queued"),
    ]


async def test_the_queue_is_served_oldest_first_whatever_the_score(world: World) -> None:
    # Chidi asked last but would suit Kofi best: Ada, the oldest request, is served first.
    await newcomer(world, ADA, ("core",), offset=-8 * 60)
    await ask(world, ADA)
    world.clock.advance(DAY)
    await newcomer(world, BRUNO, ("sdk",), offset=5 * 60)
    await ask(world, BRUNO)
    world.clock.advance(DAY)
    await newcomer(world, CHIDI, ("docs",), offset=UTC_PLUS_1)
    await ask(world, CHIDI)

    await mentor(world, KOFI, ("docs",), capacity=1, offset=UTC_PLUS_1)
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [(ADA, KOFI)]
    # A new mentor takes the next one.
    await mentor(world, LENA, ("docs",), capacity=1)
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [
        (ADA, KOFI),
        (BRUNO, LENA),
    ]
    # More room with Kofi: Chidi.
    await mentor(world, KOFI, ("docs",), capacity=2)
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [
        (ADA, KOFI),
        (BRUNO, LENA),
        (CHIDI, KOFI),
    ]


async def test_a_resumed_mentor_takes_the_first_in_line(world: World) -> None:
    await mentor(world, KOFI)
    async with world.sessions.begin() as session:
        await mentorship.pause(session, CONFIG, GUILD, KOFI, None, world.clock.now())
    await newcomer(world, ADA)
    await ask(world, ADA)
    async with world.sessions.begin() as session:
        await mentorship.resume(session, CONFIG, GUILD, KOFI, world.clock.now())
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [(ADA, KOFI)]


# --- time passing --------------------------------------------------------------------------


async def test_tending_ends_pauses_and_pairings_on_time_then_serves_the_queue(
    world: World,
) -> None:
    start = world.clock.now()
    await mentor(world, KOFI, capacity=1)
    await mentor(world, LENA, capacity=1)
    await mentor(world, MIRA, capacity=1)
    async with world.sessions.begin() as session:
        await mentorship.pause(session, CONFIG, GUILD, LENA, start + 3 * DAY, start)
        await mentorship.pause(session, CONFIG, GUILD, MIRA, None, start)  # until resumed
    for member in (ADA, BRUNO, CHIDI):
        await newcomer(world, member)
        await ask(world, member)
        world.clock.advance(timedelta(minutes=1))
    assert [(p.mentee_id, p.status) for p in await pairings(world)] == [
        (ADA, "active"),
        (BRUNO, "queued"),
        (CHIDI, "queued"),
    ]

    world.clock.set(start + 3 * DAY - timedelta(seconds=1))
    await tend(world)
    assert [p.status for p in await pairings(world)] == ["active", "queued", "queued"]
    world.clock.set(start + 3 * DAY)
    await tend(world)
    state = await mentors(world)
    assert {m: (state[m].status, state[m].load) for m in state} == {
        KOFI: ("active", 1),
        LENA: ("active", 1),
        MIRA: ("paused", 0),
    }
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [
        (ADA, KOFI),
        (BRUNO, LENA),
    ]

    ada = (await pairings(world, "active"))[0]
    assert ada.ends_at is not None
    world.clock.set(ada.ends_at - timedelta(seconds=1))
    await tend(world)
    assert len(await pairings(world, "active")) == 2
    world.clock.set(ada.ends_at)
    await tend(world)  # the wrap-up is asked and Kofi's place goes to Chidi, waiting
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [
        (ADA, KOFI),
        (BRUNO, LENA),
        (CHIDI, KOFI),
    ]
    closes = ada.ends_at + 3 * DAY
    world.clock.set(closes)
    await tend(world)
    (ended,) = await pairings(world, "ended")
    assert (ended.mentee_id, ended.end_reason, ended.ended_at) == (ADA, "completed", closes)
    assert [(p.mentee_id, p.mentor_id) for p in await pairings(world, "active")] == [
        (BRUNO, LENA),
        (CHIDI, KOFI),
    ]
    assert (await mentors(world))[KOFI].load == 1


async def test_tending_with_nothing_due_changes_nothing(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    before = (await ask(world, ADA)).pairing
    await tend(world)
    (after,) = await pairings(world)
    assert (after.status, after.mentor_id, after.ends_at) == ("active", KOFI, before.ends_at)
    assert (await mentors(world))[KOFI].load == 1


async def test_a_departed_newcomer_in_the_queue_is_passed_over(world: World) -> None:
    for member in (ADA, BRUNO):
        await newcomer(world, member)
        await ask(world, member)
        world.clock.advance(timedelta(minutes=1))
    async with world.sessions.begin() as session:
        await session.execute(
            update(Newcomer).where(Newcomer.user_id == ADA).values(departed_at=world.clock.now())
        )
    await mentor(world, KOFI, capacity=1)
    assert [(p.mentee_id, p.status) for p in await pairings(world)] == [
        (ADA, "queued"),
        (BRUNO, "active"),
    ]


# --- handover ------------------------------------------------------------------------------


async def test_a_mentor_who_leaves_hands_the_mentee_over_to_the_queue(world: World) -> None:
    await mentor(world, KOFI, capacity=1)
    await mentor(world, LENA, capacity=1)
    for member in (ADA, BRUNO):
        await newcomer(world, member)
        await ask(world, member)
    first = next(p for p in await pairings(world) if p.mentor_id == KOFI)
    world.clock.advance(5 * DAY)

    assert await mentorship_leave(world, KOFI) == 1
    ended = next(p for p in await pairings(world) if p.id == first.id)
    assert (ended.status, ended.end_reason, ended.ended_at) == (
        "ended",
        "mentor_left",
        world.clock.now(),
    )
    (again,) = await pairings(world, "queued")
    assert (again.mentee_id, again.requested_at, again.ends_at, again.excluded_mentor_ids) == (
        first.mentee_id,
        first.requested_at,
        first.ends_at,
        [KOFI],
    )
    assert (await mentors(world))[KOFI].load == 0
    (told,) = await promises(world, "mentorship:handover:")
    assert (told.key, told.target_kind, told.target_id) == (
        f"mentorship:handover:{first.id}",
        "dm",
        first.mentee_id,
    )
    assert f"<@{KOFI}> has had to step back" in told.payload["content"]
    assert "keep your place at the front of the line" in told.payload["content"]
    # Waiting again, the mentee is one more newcomer the mentors' channel is asked about.
    (help_asked,) = await promises(world, f"mentorship:help:{again.id}")
    assert help_asked.target_id == MENTORS_CHANNEL

    # Kofi comes back, but is never given the same mentee again; someone new is.
    await mentor(world, KOFI, capacity=1)
    assert [p.id for p in await pairings(world, "queued")] == [again.id]
    await mentor(world, MIRA, capacity=1)
    (taken_over,) = [p for p in await pairings(world, "active") if p.mentee_id == first.mentee_id]
    assert (taken_over.id, taken_over.mentor_id) == (again.id, MIRA)


async def test_a_handover_matches_at_once_keeping_the_days_left(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    first = (await ask(world, ADA)).pairing
    world.clock.advance(10 * DAY)
    await mentor(world, LENA, ("core",))

    await mentorship_leave(world, KOFI)
    (again,) = await pairings(world, "active")
    assert (again.mentor_id, again.ends_at, again.excluded_mentor_ids) == (
        LENA,
        first.ends_at,
        [KOFI],
    )
    (told,) = await promises(world, "mentorship:handover:")
    assert f"<@{LENA}> takes over from here" in told.payload["content"]
    assert {m.user_id: m.load for m in (await mentors(world)).values()} == {KOFI: 0, LENA: 1}
    # Both are introduced again, under the new pairing's keys.
    assert {p.key for p in await promises(world, f"mentorship:intro:{again.id}:")} == {
        f"mentorship:intro:{again.id}:{ADA}",
        f"mentorship:intro:{again.id}:{LENA}",
    }


async def test_a_late_handover_still_gives_a_week(world: World) -> None:
    await mentor(world, KOFI)
    await mentor(world, LENA, capacity=1)
    await newcomer(world, ADA)
    await newcomer(world, BRUNO, offset=-8 * 60)
    first = (await ask(world, ADA)).pairing
    assert first.mentor_id == KOFI
    await ask(world, BRUNO)  # Lena, whose only place this takes
    world.clock.advance(28 * DAY)
    await mentor(world, MIRA)
    await mentorship_leave(world, KOFI)
    (again,) = [p for p in await pairings(world, "active") if p.mentee_id == ADA]
    assert (again.mentor_id, again.ends_at) == (MIRA, world.clock.now() + 7 * DAY)


# --- introductions -------------------------------------------------------------------------


async def test_the_introduction_opens_a_private_thread_when_configured(world: World) -> None:
    await mentor(world, KOFI, config=THREADS)
    await newcomer(world, ADA, ("docs",), login="ada-codes")
    pairing = (await ask(world, ADA, THREADS)).pairing
    (thread,) = await promises(world, "mentorship:thread:")
    assert (thread.key, thread.target_kind, thread.target_id, thread.feature) == (
        f"mentorship:thread:{pairing.id}",
        "thread",
        THREAD_CHANNEL,
        "mentorship",
    )
    assert thread.payload["name"] == f"Mentoring: ada-codes (#{pairing.id})"
    assert thread.payload["members"] == [ADA, KOFI]
    assert thread.payload["mentions"] == [ADA, KOFI]
    content = thread.payload["content"]
    assert content.startswith(f"👋 <@{ADA}>, meet <@{KOFI}>: your mentor until <t:")
    assert "Why you two: docs, UTC+1, 0 of 2 mentees." in content
    assert "GitHub: [ada-codes](https://github.com/ada-codes)" in content
    assert "Time zone: UTC+1" in content
    assert "Working on: no issue claimed yet" in content


async def test_without_a_thread_channel_both_get_a_direct_message(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    pairing = (await ask(world, ADA)).pairing
    intros = await promises(world, "mentorship:intro:")
    assert sorted((p.key, p.target_kind, p.target_id) for p in intros) == [
        (f"mentorship:intro:{pairing.id}:{ADA}", "dm", ADA),
        (f"mentorship:intro:{pairing.id}:{KOFI}", "dm", KOFI),
    ]
    assert intros[0].payload == intros[1].payload
    assert intros[0].payload["mentions"] == [ADA, KOFI]
    assert "GitHub: not linked" in intros[0].payload["content"]


async def test_text_the_newcomer_typed_is_escaped_in_the_introduction(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    # Linking checks a login's form; whatever a row holds is shown literally all the same.
    login = "**evil** [verify](https://evil.example) <@&1> @everyone"
    async with world.sessions.begin() as session:
        await session.execute(
            update(Member).where(Member.user_id == ADA).values(github_login=login)
        )
    await ask(world, ADA)
    content = (await promises(world, "mentorship:intro:"))[0].payload["content"]
    assert f"GitHub: {escape(login)} (unverified)" in content
    for raw in ("**evil**", "[verify](", "<@&1>", " @everyone"):
        assert raw not in content


async def test_a_mentor_who_leaves_the_server_hands_their_mentees_over(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    first = (await ask(world, ADA)).pairing
    await mentor(world, LENA, ("core",))
    await retention.member_left(world.context(CONFIG), KOFI)
    # Kofi never ran /start, so nothing would record when he left: forgotten at once.
    assert KOFI not in await mentors(world)
    (ended,) = await pairings(world, "ended")
    (again,) = await pairings(world, "active")
    assert (ended.id, ended.end_reason, ended.mentor_id) == (first.id, "mentor_left", None)
    assert (again.mentee_id, again.mentor_id) == (ADA, LENA)


async def test_a_newcomer_who_leaves_the_server_frees_their_place(world: World) -> None:
    await mentor(world, KOFI, capacity=1)
    for member in (ADA, BRUNO, CHIDI):
        await newcomer(world, member)
        await ask(world, member)
        world.clock.advance(timedelta(minutes=1))
    # Bruno, waiting, leaves: Chidi moves up. Ada, paired, leaves: Chidi gets Kofi.
    await retention.member_left(world.context(CONFIG), BRUNO)
    assert (await ask(world, CHIDI)).place == 1
    await retention.member_left(world.context(CONFIG), ADA)
    assert {p.mentee_id: (p.status, p.end_reason) for p in await pairings(world)} == {
        ADA: ("ended", "mentee_left"),
        BRUNO: ("ended", "mentee_left"),
        CHIDI: ("active", None),
    }
    assert (await mentors(world))[KOFI].load == 1


async def test_leaving_the_server_without_mentorship_touches_no_pairing(world: World) -> None:
    await mentor(world, KOFI)
    await newcomer(world, ADA)
    await ask(world, ADA)
    await retention.member_left(world.context(settings()), KOFI)
    assert (await mentors(world))[KOFI].status == "active"
    assert [p.status for p in await pairings(world)] == ["active"]


# --- retention -----------------------------------------------------------------------------


async def test_a_mentor_forgotten_while_the_program_is_off_hands_over_once_it_is_on(
    world: World,
) -> None:
    """Kofi mentors Ada and Lena (one place) mentors Bruno; with the program off, Kofi and
    Bruno are forgotten. Once it is on again, the job runs (it asserted on Ada's pairing
    without a mentor), and Ada, first in line, gets Lena's place, freed by Bruno."""
    await mentor(world, KOFI)
    await mentor(world, LENA, capacity=1)
    await newcomer(world, ADA)
    await newcomer(world, BRUNO)
    with_kofi = (await ask(world, ADA)).pairing
    await ask(world, BRUNO)
    off = world.context(settings())
    await retention.forget_me(off, KOFI)
    await retention.forget_me(off, BRUNO)

    world.clock.advance(31 * DAY)  # check-ins and the wrap-up are all due
    await run_schedule(world.context(CONFIG))

    assert list(await mentors(world)) == [LENA]
    ended, again = await pairings(world)
    assert (ended.id, ended.status, ended.end_reason, ended.mentor_id) == (
        with_kofi.id,
        "ended",
        "mentor_left",
        None,
    )
    assert (again.mentee_id, again.status, again.mentor_id) == (ADA, "active", LENA)
    assert again.requested_at == with_kofi.requested_at
    assert again.ends_at == world.clock.now() + 7 * DAY
    assert again.excluded_mentor_ids == [FORGOTTEN]
    assert (await mentors(world))[LENA].load == 1


async def test_organisers_hear_of_a_pending_mentor_who_hears_of_the_approval(
    world: World,
) -> None:
    await mentor(world, KOFI, ("docs", "core"), capacity=3, approved=False)
    (offer,) = await promises(world, "mentorship:asks:")
    assert (offer.target_kind, offer.target_id) == ("channel", MENTORS_CHANNEL)
    assert offer.payload["content"] == (
        f"<@{KOFI}> offers to mentor (docs, core, up to 3 at a time). Organisers: "
        "`/mentor approve` lets them start."
    )
    await mentor(world, KOFI, ("docs",), approved=False)  # a profile change asks nothing more
    assert len(await promises(world, "mentorship:asks:")) == 1
    assert await promises(world, "mentorship:approved:") == []
    async with world.sessions.begin() as session:
        await mentorship.approve(session, CONFIG, GUILD, KOFI, world.clock.now())
    (approved,) = await promises(world, "mentorship:approved:")
    assert (approved.target_kind, approved.target_id) == ("dm", KOFI)
    assert approved.payload["content"].startswith("You're approved as a mentor")
    await mentor(world, LENA)  # with the role: nobody needs to be asked
    assert len(await promises(world, "mentorship:asks:")) == 1
