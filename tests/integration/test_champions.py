# SPDX-License-Identifier: Apache-2.0
"""Monthly Community Champions on SQLite and PostgreSQL: the score with mentoring and its
tie-breaks, an opt-out left out, one announcement per month however many runs, and the
champion role moving from last month's champions to this month's."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.db.models import Champion, ChampionsMonth, CheckIn, Pairing, Promise
from bot.services import retention
from bot.services.recognition import champions, consent, spotlight
from bot.services.recognition.feature import run_champions
from tests.integration import test_recognition as recognition
from tests.integration.test_recognition import (
    ADA,
    BRUNO,
    CARL,
    CHANNEL,
    ERIN,
    GUILD,
    RecognitionHub,
    give,
    link,
    opt_in,
    settings,
)
from tests.unit.sla_helpers import DAY, HOUR, REPO

# The spotlight's tests' fixtures: the clock, and the GitHub simulator with a Reader.
clock, hub = recognition.clock, recognition.hub
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
FAY, GUS, HUGO = 107, 108, 109
ROLE = 77


def with_role(**recognition: Any) -> Settings:
    return settings(champion_role_id=ROLE, **recognition)


async def pair(hub: RecognitionHub, mentor: int, mentee: int, at: datetime) -> int:
    """A pairing matched at ``at`` (as the mentorship service records it), still active."""
    async with hub.sessions.begin() as session:
        row = Pairing(
            guild_id=GUILD,
            mentee_id=mentee,
            mentor_id=mentor,
            status="active",
            requested_at=at,
            matched_at=at,
            ends_at=at + 30 * DAY,
        )
        session.add(row)
        await session.flush()
        return row.id


async def answered(hub: RecognitionHub, pairing_id: int, stage: str) -> None:
    now = hub.clock.now()
    async with hub.sessions.begin() as session:
        session.add(
            CheckIn(
                pairing_id=pairing_id, stage=stage, asked_at=now, answer="good", answered_at=now
            )
        )


async def month_of(hub: RecognitionHub) -> champions.Champions:
    await hub.settle()
    configured, now = settings(), hub.clock.now()
    return await hub.read(lambda s: champions.candidates(s, configured, GUILD, MARCH, now))


async def announce_month(hub: RecognitionHub, month: date, config: Settings) -> None:
    """A minute past the month's announcement, the history settled."""
    assert config.recognition is not None
    hub.clock.set(champions.post_time(config.recognition, month) + timedelta(minutes=1))
    await hub.settle()
    await run_champions(hub.context(config))


async def promised(hub: RecognitionHub, like: str) -> list[Promise]:
    async with hub.sessions() as session:
        return list(
            await session.scalars(
                select(Promise).where(Promise.key.like(like)).order_by(Promise.key)
            )
        )


async def test_the_score_counts_mentoring_breaks_ties_and_leaves_out_opt_outs(
    hub: RecognitionHub,
) -> None:
    hub.state.open_pull(REPO, "gus", "Early draft")  # gus's first, before any pairing
    hub.later(DAY)
    paired = await pair(hub, ERIN, FAY, hub.clock.now())
    await pair(hub, HUGO, GUS, hub.clock.now())
    hub.later(HOUR)
    hub.state.open_pull(REPO, "fay", "My first change")  # during the pairing
    hub.state.open_pull(REPO, "gus", "Not a first")
    await answered(hub, paired, "mentor-7")
    await answered(hub, paired, "mentee-7")  # the mentee's answer is not mentoring
    hub.later(HOUR)
    hub.merged("bruno", "Fix crash")  # 3
    hub.reviewed("carl")  # 2, and a kudos: 3, like bruno's, with no merge
    await give(hub, ADA, CARL)
    hub.merged("ada", "Faster cache")
    hub.merged("ada", "Smaller cache")  # 6, but ada opted out
    for user_id, login in (
        (ADA, "ada"),
        (BRUNO, "bruno"),
        (CARL, "carl"),
        (ERIN, "erin"),
        (FAY, "fay"),
        (GUS, "gus"),
    ):
        await link(hub, user_id, login)
    await opt_in(hub, BRUNO, CARL, ERIN, HUGO)
    async with hub.sessions.begin() as session:
        await consent.opt(session, GUILD, ADA, False, hub.clock.now())

    found = await month_of(hub)

    scored = {
        c.login or c.user_id: (c.points(champions.MONTH_CAP), len(c.mentees), c.check_ins)
        for c in found.ranked
    }
    # erin: fay's first pull request in the pairing (3) and a mentor check-in (1); hugo's
    # mentee had opened a pull request before: nothing, so hugo is no candidate.
    assert scored == {
        "ada": (6, 0, 0),
        "erin": (4, 1, 1),
        "bruno": (3, 0, 0),
        "carl": (3, 0, 0),
    }
    assert [c.login for c in found.ranked] == ["ada", "erin", "bruno", "carl"]
    assert found.ranked[0].excluded == "opted out"
    # bruno and carl tie on the score: a merge comes before a review and a kudos.
    assert [c.login for c in found.champions] == ["erin", "bruno", "carl"]
    fields = spotlight.person_embed(found.champions[0], "🏆")["fields"]
    assert {
        "name": "🧭 Mentoring",
        "value": "1 mentee reached a first pull request · 1 check-in answered",
        "inline": False,
    } in fields  # type: ignore[operator]


async def test_one_announcement_per_month_across_runs_and_processes(
    hub: RecognitionHub,
) -> None:
    hub.later(DAY)
    hub.merged("ada", "**@everyone** fix")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    config = settings()

    await announce_month(hub, MARCH, config)
    await asyncio.gather(
        run_champions(hub.context(config)),
        run_champions(hub.context(config)),
    )
    hub.later(DAY)
    await run_champions(hub.context(config))

    (post,) = await promised(hub, "recognition:champions:%")
    assert (post.key, post.target_id) == (f"recognition:champions:{GUILD}:2026-03", CHANNEL)
    assert post.payload["content"].startswith("🏆 **Community Champions** of March 2026")
    (embed,) = post.payload["embeds"]
    assert embed["title"] == "🏆 ada"
    assert "\\*\\*@\u200beveryone\\*\\* fix" in embed["fields"][0]["value"]
    async with hub.sessions() as session:
        months = (await session.execute(select(ChampionsMonth.month, ChampionsMonth.status))).all()
    assert months == [(MARCH, "posted")]


async def test_the_role_moves_to_the_new_champions_and_stays_with_a_repeat_one(
    hub: RecognitionHub,
) -> None:
    config = with_role(champions=2)
    hub.later(DAY)
    hub.merged("ada", "March work")
    hub.merged("bruno", "March work")
    for user_id, login in ((ADA, "ada"), (BRUNO, "bruno"), (CARL, "carl")):
        await link(hub, user_id, login)
    await opt_in(hub, ADA, BRUNO, CARL)
    await announce_month(hub, MARCH, config)
    hub.later(DAY)
    hub.merged("bruno", "April work")
    hub.merged("carl", "April work")
    await announce_month(hub, APRIL, config)

    roles = {
        (p.key.rsplit(":", 3)[1], p.target_id, p.payload["remove"])
        for p in await promised(hub, "recognition:champion-role:%")
    }
    assert roles == {
        ("2026-03", ADA, False),
        ("2026-03", BRUNO, False),
        ("2026-04", BRUNO, False),  # a repeat champion keeps it
        ("2026-04", CARL, False),
        ("2026-04", ADA, True),  # not a champion again: taken
    }
    assert all(p.payload["role_id"] == ROLE for p in await promised(hub, "%champion-role%"))

    async with hub.sessions.begin() as session:
        await retention.forget(session, GUILD, BRUNO, hub.clock.now())
    async with hub.sessions() as session:
        kept = (await session.execute(select(Champion.month, Champion.user_id))).all()
    assert sorted(kept) == [(MARCH, ADA), (APRIL, CARL)]
