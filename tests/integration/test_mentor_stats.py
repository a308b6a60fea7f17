# SPDX-License-Identifier: Apache-2.0
"""The mentor program's outcomes (bot/services/mentorship/stats.py), on SQLite and PostgreSQL:
each figure against a small season worked out by hand, made with the real services (joins,
requests, handovers, a mentor leaving) and the GitHub history as ingestion writes it; the
feedback and check-in answers the wrap-up and the buttons would record are written directly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.models import CheckIn, Feedback, Member, Pairing
from bot.errors import DomainError
from bot.services import mentorship
from bot.services.mentorship import stats
from bot.services.mentorship.stats import (
    Cohort,
    FirstSteps,
    Load,
    Median,
    MentorOutcome,
    Outcomes,
    Scores,
    Share,
    Waiting,
)
from tests.unit.services_helpers import GUILD, REPO_ID, World, account, settings
from tests.unit.test_mentorship import (
    ADA,
    BRUNO,
    CHIDI,
    DANA,
    KOFI,
    LENA,
    MENTORSHIP,
    MIRA,
    NOOR,
    ask,
    mentor,
    newcomer,
    pairings,
)

CONFIG = settings(mentorship=MENTORSHIP)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
OTHER_ID, OTHER = 503, "someone/elsewhere"  # a repository the community does not follow
# The season's mentees (A1 to A10) and newcomers without a mentor (U1 to U8).
A = {n: 20 + n for n in range(1, 11)}
U = {n: 40 + n for n in range(1, 9)}
EVE = 5


@pytest.fixture
def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> World:
    return World(sessions, clock)


def github_id(user_id: int) -> int:
    """The GitHub account test_mentorship.newcomer links for a login."""
    return 100 + user_id


async def read(world: World, mentor_id: int | None = None) -> Outcomes:
    now = world.clock.now()
    return await world.read(
        lambda session: stats.outcomes(session, CONFIG.github, GUILD, now, mentor_id=mentor_id)
    )


async def asks(world: World, user_id: int, mentor_id: int | None) -> Pairing:
    pairing = (await ask(world, user_id)).pairing
    assert pairing.mentor_id == mentor_id  # the season depends on who gets whom
    return pairing


async def pull(
    world: World,
    user_id: int,
    number: int,
    opened: datetime,
    merged: datetime | None = None,
    repository_id: int = REPO_ID,
) -> None:
    """A pull request by the newcomer's linked account, opened (and merged) then."""
    record = world.issue(
        number,
        repository_id=repository_id,
        author=account(github_id(user_id), f"user-{user_id}", opened),
        pull=True,
        state="closed" if merged else "open",
        merged=merged is not None,
        created_at=opened,
    )
    await world.seed(replace(record, merged_at=merged, closed_at=merged))


async def season(world: World) -> datetime:
    """120 days of the program from T0; returns T0. At T0 U7 asks while no mentor is there and
    leaves; Kofi (3 places) takes A1 to A3, Lena (10) A4 to A9, and A2 is handed over from
    Kofi to Lena; U1 to U6 finish `/start` without asking. U8 finishes on day 30, A10 on day
    110 and asks (Lena's); Mira joins on day 115, Noor asks to mentor (pending)."""
    t0 = world.clock.now()
    await world.repository()
    await world.repository(OTHER_ID, OTHER)
    await newcomer(world, U[7], login="u7")
    await asks(world, U[7], None)
    async with world.sessions.begin() as session:
        await mentorship.member_left(session, CONFIG, GUILD, U[7], t0)
    await mentor(world, KOFI, capacity=3)
    for n in range(1, 10):
        login = None if n == 6 else f"a{n}"  # A6 never linked GitHub
        await newcomer(world, A[n], login=login)
        if n == 4:
            await mentor(world, LENA, capacity=10)
        await asks(world, A[n], KOFI if n <= 3 else LENA)
    async with world.sessions.begin() as session:
        # A8 typed a login nobody verified.
        await session.execute(
            update(Member).where(Member.user_id == A[8]).values(github_verified=False)
        )
        with_kofi = await session.scalar(select(Pairing).where(Pairing.mentee_id == A[2]))
        assert with_kofi is not None
        await mentorship.hand_over(session, CONFIG, with_kofi, "unanswered", t0)
    for n in range(1, 7):
        await newcomer(world, U[n], login=None if n == 5 else f"u{n}")  # U5 never linked
    world.clock.set(t0 + 30 * DAY)
    await newcomer(world, U[8], login="u8")
    world.clock.set(t0 + 110 * DAY)
    await newcomer(world, A[10], login="a10")
    await asks(world, A[10], LENA)
    world.clock.set(t0 + 115 * DAY)
    await mentor(world, MIRA, capacity=2)
    await mentor(world, NOOR, approved=False)
    world.clock.set(t0 + 120 * DAY)

    number = iter(range(1, 100))
    for user_id, opened, merged in [
        (A[1], 2, 5),
        (A[1], 10, None),  # A1's second, within 90 days
        (A[2], 20, 25),
        (A[3], 31, 40),  # a day too late for "within 30 days"
        (A[5], 1, 6),
        (A[5], 100, None),  # A5's second, 100 days on
        (A[7], -10, None),  # before `/start`: a contributor already
        (A[7], 3, None),
        (A[8], 1, 2),  # unverified: not A8's for all we know
        (A[9], 4, 9),
        (A[9], 60, None),
        (A[10], 115, None),
        (U[1], 3, 4),
        (U[1], 50, None),
        (U[2], 10, 30),
        (U[3], 60, 70),
        (U[6], 1, 2),
        (U[6], 95, None),
        (U[7], 8, 12),
        (U[8], 31, 32),  # February: no mentee finished then
    ]:
        await pull(
            world,
            user_id,
            next(number),
            t0 + opened * DAY,
            t0 + merged * DAY if merged is not None else None,
        )
    # A4's only pull request is in a repository the community does not follow.
    await pull(world, A[4], 1, t0 + DAY, repository_id=OTHER_ID)
    return t0


def mentor_line(found: Outcomes, user_id: int) -> MentorOutcome:
    (line,) = [line for line in found.mentors if line.user_id == user_id]
    return line


def days(count: float) -> timedelta:
    return timedelta(days=count)


async def test_with_no_data_every_figure_is_empty(world: World) -> None:
    nothing = Share(0, 0)
    assert await read(world) == Outcomes(
        first_steps=FirstSteps(0, 0, nothing, Median(0, None)),
        feedback_from_mentees=Scores(0, None),
        feedback_from_mentors=Scores(0, None),
        check_ins=nothing,
        load=Load(0, 0, None),
        waiting=Waiting(0, None, nothing),
        months=(),
        mentored=Cohort(0, Median(0, None), nothing),
        unmentored=Cohort(0, Median(0, None), nothing),
        mentors=(),
    )


async def test_first_pull_requests_of_the_mentees_overall_and_per_mentor(world: World) -> None:
    await season(world)
    found = await read(world)

    # Ten mentees; measured: A1 to A5, A9, A10 (A6 unlinked, A7 a contributor already, A8
    # unverified). A10's 30 days are not over. Within 30 days: A1 (2 days), A2 (20), A5 (1),
    # A9 (4); not A3 (31) nor A4 (only elsewhere). Times: 1, 2, 4, 5, 20, 31 days.
    assert found.first_steps == FirstSteps(10, 7, Share(4, 6), Median(6, days(4.5)))
    assert found.first_steps.first_pr_in_30_days.ratio == pytest.approx(4 / 6)

    # A2 counts for both Kofi and Lena; every figure of too few people is None.
    kofi, lena = mentor_line(found, KOFI), mentor_line(found, LENA)
    assert kofi.first_steps == FirstSteps(3, 3, Share(2, 3), Median(3, None))
    assert lena.first_steps == FirstSteps(8, 5, Share(3, 4), Median(4, None))
    assert kofi.first_steps.first_pr_in_30_days.ratio is None
    # Listed: those approved (Mira, with nobody yet), most mentees first; not Noor (pending).
    assert [(line.user_id, line.status) for line in found.mentors] == [
        (LENA, "active"),
        (KOFI, "active"),
        (MIRA, "active"),
    ]


async def test_mentored_against_unmentored_newcomers_of_the_same_months(world: World) -> None:
    await season(world)
    found = await read(world)

    # Months with a measured mentee: January (A1 to A5, A9) and April (A10); U8 (February)
    # is left out, and U7, who asked but was never matched, is among the unmentored.
    assert found.months == (date(2026, 1, 1), date(2026, 4, 1))
    # Mentored: A1 to A5, A9, A10. First merges after 5, 25, 40, 6 and 9 days; a second pull
    # request within 90 days for A1 and A9 (A5's came on day 100), of the six whose 90 days
    # are over (not A10).
    assert found.mentored == Cohort(7, Median(5, days(9)), Share(2, 6))
    # Unmentored: U1 to U4, U6, U7 (U5 unlinked). Merges after 4, 30, 70, 2 and 12 days;
    # a second within 90 days for U1 alone (U6's came on day 95).
    assert found.unmentored == Cohort(6, Median(5, days(12)), Share(1, 6))
    assert found.mentored.second_pr_in_90_days.ratio == pytest.approx(2 / 6)


async def test_feedback_from_mentees_per_mentor_and_from_both_sides_overall(
    world: World,
) -> None:
    await season(world)
    by_mentee = {row.mentee_id: row.id for row in await pairings(world) if row.mentor_id}
    scores = [
        # (mentee, who gave it, side, score): the pairing is the mentee's latest.
        (A[1], A[1], "mentee", 2),
        (A[3], A[3], "mentee", 3),
        (A[1], KOFI, "mentor", 4),
        *[(A[n], A[n], "mentee", s) for n, s in [(4, 5), (5, 4), (6, 3), (7, 5), (8, 4)]],
        *[(A[n], LENA, "mentor", s) for n, s in [(4, 5), (5, 5), (6, 3), (7, 4)]],
    ]
    async with world.sessions.begin() as session:
        for mentee, user_id, side, score in scores:
            session.add(
                Feedback(
                    pairing_id=by_mentee[mentee],
                    user_id=user_id,
                    side=side,
                    score=score,
                    given_at=world.clock.now(),
                )
            )
    found = await read(world)

    assert mentor_line(found, KOFI).feedback == Scores(2, None)  # too few to show
    assert mentor_line(found, LENA).feedback == Scores(5, 21 / 5)
    assert found.feedback_from_mentees == Scores(7, 26 / 7)
    assert found.feedback_from_mentors == Scores(5, 21 / 5)
    assert mentor_line(found, MIRA).feedback == Scores(0, None)


async def test_check_ins_answered_of_those_asked_per_mentor(world: World) -> None:
    await season(world)
    by_mentee = {row.mentee_id: row.id for row in await pairings(world) if row.mentor_id}
    asked = [
        (A[1], "mentor-2", "talked"),
        (A[1], "mentor-7", "no_answer"),  # an answer all the same
        (A[1], "mentor-14", None),
        (A[1], "mentee-7", None),  # the mentee's question: not a check-in of the mentor
        (A[4], "mentor-2", "talked"),
        (A[4], "mentor-7", "need_help"),
        (A[5], "mentor-2", None),
        (A[6], "mentor-2", "talked"),
        (A[6], "mentor-7", "talked"),
    ]
    async with world.sessions.begin() as session:
        for mentee, stage, answer in asked:
            now = world.clock.now()
            session.add(
                CheckIn(
                    pairing_id=by_mentee[mentee],
                    stage=stage,
                    asked_at=now,
                    answer=answer,
                    answered_at=now if answer else None,
                )
            )
    found = await read(world)

    assert mentor_line(found, KOFI).check_ins == Share(2, 3)
    assert mentor_line(found, LENA).check_ins == Share(4, 5)
    assert mentor_line(found, LENA).check_ins.ratio == pytest.approx(0.8)
    assert found.check_ins == Share(6, 8)


async def test_load_now_and_over_the_last_90_days(world: World) -> None:
    await season(world)
    found = await read(world)

    # The window is days 30 to 120. Kofi: A1 and A3 all along (A2 left him on day 0), 180
    # mentee-days of 3 places x 90 days. Lena: seven mentees all along and A10 for 10 days,
    # 640 of 10 x 90. Mira: nobody in her 5 days.
    assert load(mentor_line(found, KOFI).load) == pytest.approx((2, 3, 180 / 270))
    assert load(mentor_line(found, LENA).load) == pytest.approx((8, 10, 640 / 900))
    assert mentor_line(found, MIRA).load == Load(0, 2, 0.0)
    assert load(found.load) == pytest.approx((10, 15, 820 / 1180))


def load(found: Load | None) -> tuple[int, int, float | None]:
    assert found is not None
    return found.mentees, found.capacity, found.recent


async def test_a_mentor_who_left_keeps_their_line_without_a_load(world: World) -> None:
    await season(world)
    async with world.sessions.begin() as session:
        await mentorship.leave(session, CONFIG, GUILD, KOFI, world.clock.now())
    found = await read(world)

    kofi = mentor_line(found, KOFI)
    assert (kofi.status, kofi.load, kofi.first_steps.mentees) == ("left", None, 3)
    assert found.load.capacity == 12  # Lena's and Mira's places


async def test_one_mentor_named_and_someone_who_never_mentored(world: World) -> None:
    await season(world)
    everyone = await read(world)
    kofi = await read(world, mentor_id=KOFI)
    assert kofi.mentors == (mentor_line(everyone, KOFI),)
    assert replace(kofi, mentors=everyone.mentors) == everyone
    noor = await read(world, mentor_id=NOOR)  # pending, yet named: her line, empty
    assert [(line.status, line.first_steps.mentees) for line in noor.mentors] == [("pending", 0)]

    with pytest.raises(DomainError, match=f"<@{A[1]}> has never been a mentor here"):
        await read(world, mentor_id=A[1])


async def test_hours_without_an_active_mentor_handovers_and_queues_included(
    world: World,
) -> None:
    t0 = world.clock.now()

    async def at(hours: float) -> datetime:
        world.clock.set(t0 + hours * HOUR)
        return world.clock.now()

    for user_id in (ADA, BRUNO, CHIDI, DANA, EVE):
        await newcomer(world, user_id)
    await mentor(world, KOFI, capacity=2)
    await asks(world, ADA, KOFI)  # matched at once: 0 h
    await at(0.5)
    await asks(world, DANA, KOFI)
    await at(1)
    await asks(world, BRUNO, None)  # still waiting at the end: 129 h
    await at(2)
    await asks(world, CHIDI, None)
    now = await at(3)
    async with world.sessions.begin() as session:  # Chidi leaves the queue after 1 h
        await mentorship.member_left(session, CONFIG, GUILD, CHIDI, now)
    now = await at(10)
    async with world.sessions.begin() as session:  # Ada and Dana are handed over, queued
        await mentorship.leave(session, CONFIG, GUILD, KOFI, now)
    await at(110)
    await mentor(world, LENA, capacity=1)  # takes Ada, first in line: 100 h without
    await at(112)
    await mentor(world, MIRA, capacity=1)  # takes Dana: 102 h without
    await at(120)
    await asks(world, CHIDI, None)  # back, and asking afresh: 10 h so far
    await at(125)
    await asks(world, EVE, None)  # 5 h so far
    now = await at(130)
    assert sorted((p.mentee_id, p.mentor_id) for p in await pairings(world, "active")) == [
        (ADA, LENA),
        (DANA, MIRA),
    ]

    found = await world.read(lambda session: stats.waiting(session, GUILD, since=t0, now=now))
    assert found == Waiting(5, 129 * HOUR, Share(3, 5))  # Ada, Dana and Bruno over 72 h
    assert found.over_limit.ratio == pytest.approx(0.6)
    assert (await read(world)).waiting == found  # the last 90 days hold them all

    # From hour 111: Ada's waits ended before it, and Chidi's first.
    later = t0 + 111 * HOUR
    assert await world.read(
        lambda session: stats.waiting(session, GUILD, since=later, now=now)
    ) == Waiting(4, 129 * HOUR, Share(2, 4))


async def test_the_figures_take_the_same_few_queries_however_many_newcomers(
    world: World, engine: AsyncEngine
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await read(world)
        empty = len(statements)
        await season(world)
        statements.clear()
        await read(world)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == empty


async def test_a_declined_mentor_does_not_count_the_mentee(world: World) -> None:
    await world.repository()
    await mentor(world, KOFI)
    await mentor(world, LENA)
    await newcomer(world, ADA, login="user-1")
    first = await asks(world, ADA, KOFI)
    async with world.sessions.begin() as session:
        await mentorship.decline(
            session,
            CONFIG,
            guild_id=GUILD,
            pairing_id=first.id,
            user_id=ADA,
            now=world.clock.now(),
        )
    found = await read(world)
    assert found.first_steps.mentees == 1  # Ada was mentored, by Lena
    assert mentor_line(found, KOFI).first_steps.mentees == 0
    assert mentor_line(found, LENA).first_steps.mentees == 1
