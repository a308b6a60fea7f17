# SPDX-License-Identifier: Apache-2.0
"""Recognition on SQLite and PostgreSQL: the weekly spotlight's order and tie-breaks,
first-time contributors named, the cooldown, consent (answers, opt-out, silence, members
without a link), maintainers and bots left out, kudos and their limits, and one post per
week however many runs or processes. The history comes from the GitHub simulator's
webhooks through the real normaliser."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import (
    Consent,
    ConsentAsk,
    GitHubIssue,
    Kudos,
    Member,
    Promise,
    SpotlightFeature,
    SpotlightWeek,
)
from bot.db.reader import Reader
from bot.errors import DomainError
from bot.feature import Context
from bot.services import members, retention
from bot.services.recognition import consent, kudos, spotlight
from bot.services.recognition.feature import run_spotlight
from tests.unit.sla_helpers import DAY, HOUR, REPO, SDK, VAULT, Hub

# Monday 2 March 2026, 09:00 UTC; the spotlight is on Mondays at 15:00 UTC.
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
WEEK, NEXT = date(2026, 3, 9), date(2026, 3, 16)
GUILD, CHANNEL = 1, 9
ADA, BRUNO, CARL, ERIN, LENA, MARTA = 101, 102, 103, 104, 105, 106


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


class RecognitionHub(Hub):
    def merged(self, login: str, title: str, repo: str = REPO, labels: tuple[str, ...] = ()) -> int:
        pull = self.state.open_pull(repo, login, title, labels=labels)
        self.later(HOUR)
        self.state.merge(repo, pull.number, actor="marta")
        self.later(HOUR)
        return pull.number

    def reviewed(self, login: str, author: str = "zoe") -> None:
        pull = self.state.open_pull(REPO, author, f"Change by {author}")
        self.later(HOUR)
        self.state.submit_review(REPO, pull.number, login, "APPROVED")
        self.later(HOUR)


@pytest.fixture
def hub(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, read: Reader
) -> RecognitionHub:
    return RecognitionHub(sessions, clock, read, settings())


def settings(**recognition: Any) -> Settings:
    return Settings.model_validate(
        {
            "discord": {"guild_id": GUILD},
            "github": {"repositories": [REPO, SDK, VAULT], "maintainers": ["lena"]},
            "recognition": {"spotlight_channel_id": CHANNEL, **recognition},
        }
    )


async def link(hub: RecognitionHub, user_id: int, login: str, *, verified: bool = True) -> None:
    async with hub.sessions.begin() as session:
        await members.link_github(
            session,
            GUILD,
            user_id,
            github_user_id=hub.state.user(login).id,
            login=login,
            verified=verified,
            now=hub.clock.now(),
        )


async def opt_in(hub: RecognitionHub, *user_ids: int) -> None:
    async with hub.sessions.begin() as session:
        for user_id in user_ids:
            await consent.opt(session, GUILD, user_id, True, hub.clock.now())


async def at_the_post(hub: RecognitionHub, week: date = WEEK) -> None:
    """A minute past the week's post time, the history settled."""
    hub.clock.set(datetime(week.year, week.month, week.day, 15, 1, tzinfo=UTC))
    await hub.settle()


async def week_of(
    hub: RecognitionHub, week: date = WEEK, config: Settings | None = None
) -> spotlight.Spotlight:
    await hub.settle()
    configured, now = config or settings(), hub.clock.now()
    return await hub.read(lambda s: spotlight.candidates(s, configured, GUILD, week, now))


def footer(found: spotlight.Spotlight) -> str:
    """`/spotlight preview`'s footer."""
    return spotlight.preview_embed(found, None)["footer"]["text"]  # type: ignore[index,no-any-return]


def names(found: tuple[spotlight.Candidate, ...]) -> list[str | None]:
    return [c.login for c in found]


async def posts(hub: RecognitionHub) -> list[Promise]:
    async with hub.sessions() as session:
        return list(
            await session.scalars(
                select(Promise)
                .where(Promise.key.like("recognition:spotlight:%"))
                .order_by(Promise.id)
            )
        )


async def dms(hub: RecognitionHub, user_id: int) -> list[Promise]:
    async with hub.sessions() as session:
        return list(
            await session.scalars(
                select(Promise)
                .where(Promise.target_kind == "dm", Promise.target_id == user_id)
                .order_by(Promise.id)
            )
        )


async def give(
    hub: RecognitionHub, giver: int, receiver: int, reason: str = "Thanks for the help!"
) -> kudos.Given:
    async with hub.sessions.begin() as session:
        return await kudos.give(
            session,
            settings(),
            GUILD,
            giver_id=giver,
            receiver_id=receiver,
            receiver_is_bot=False,
            reason=reason,
            now=hub.clock.now(),
        )


# --- the order ------------------------------------------------------------------------------


async def test_first_time_contributors_come_first_then_the_score_then_who_was_first(
    hub: RecognitionHub,
) -> None:
    hub.merged("bruno", "Old fix")  # bruno's first merge, the week before
    hub.later(DAY)  # Tuesday 3 March: the week of 9 March begins
    hub.reviewed("erin")
    hub.reviewed("erin", author="yan")  # 2 reviews: 4
    hub.merged("bruno", "Faster cache")
    hub.merged("bruno", "Fix crash")  # 2 merged: 6
    hub.reviewed("carl")
    hub.reviewed("carl", author="yan")  # 4, like erin, but active later
    hub.merged("ada", "docs: eviction flags", labels=("docs",))  # first ever: first
    hub.merged("zoe", "Change", repo=VAULT)  # a private repository's work is not shown
    for user_id, login in ((ADA, "ada"), (BRUNO, "bruno"), (CARL, "carl"), (ERIN, "erin")):
        await link(hub, user_id, login)
    await opt_in(hub, ADA, BRUNO, CARL, ERIN)

    found = await week_of(hub)

    # Opening a pull request is not yet work to feature: yan and zoe are not candidates.
    assert names(found.ranked) == ["ada", "bruno", "erin", "carl"]
    ada, bruno, erin, carl = found.ranked
    assert ada.first_merge is not None
    assert ada.first_merge.title == "docs: eviction flags"
    assert (ada.score, bruno.score, erin.score, carl.score) == (5, 6, 4, 4)
    assert [len(c.merged) for c in (ada, bruno)] == [1, 2]
    assert names(found.featured) == ["ada", "bruno", "erin"]
    assert found.named == ()
    assert len(ada.docs_tests) == 1


async def test_every_first_time_contributor_is_named_beyond_the_places(
    hub: RecognitionHub,
) -> None:
    hub.later(DAY)
    for n in range(4):
        hub.reviewed("bruno", author=f"someone{n}")  # 8: the best score
    hub.merged("ada", "First")
    hub.merged("carl", "Also first")
    for user_id, login in ((ADA, "ada"), (BRUNO, "bruno"), (CARL, "carl")):
        await link(hub, user_id, login)
    await opt_in(hub, ADA, BRUNO, CARL)
    one = settings(featured=1)

    found = await week_of(hub, config=one)

    assert names(found.featured) == ["ada"]
    assert names(found.named) == ["carl"]  # named, not featured; bruno is neither
    await at_the_post(hub)
    await run_spotlight(hub.context(one))
    (post,) = await posts(hub)
    assert post.target_id == CHANNEL
    assert f"first-time contributors: <@{CARL}>!" in post.payload["content"]
    (embed,) = post.payload["embeds"]
    assert embed["title"] == "🌟 ada"
    assert embed["description"].startswith(f"<@{ADA}> · GitHub [ada](")
    assert embed["thumbnail"]["url"] == (
        f"https://avatars.githubusercontent.com/u/{hub.state.user('ada').id}?v=4"
    )
    assert embed["fields"][0]["name"] == "🌱 First contribution"
    assert embed["fields"][0]["value"].endswith(" First")


async def test_titles_and_kudos_are_shown_literally(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "**@everyone** [login](https://evil.example)")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    await give(hub, BRUNO, ADA, "<@&1> helped me [here](https://evil.example)")

    (ada,) = (await week_of(hub)).featured
    embed = spotlight.person_embed(ada)

    first, quotes = embed["fields"]  # type: ignore[misc]
    assert "\\*\\*@\u200beveryone\\*\\* \\[login\\](https://evil.example)" in first["value"]
    assert quotes["value"] == (
        f"“<\u200b@&1> helped me \\[here\\](https://evil.example)” — <@{BRUNO}>"
    )


# --- who is left out ------------------------------------------------------------------------


async def test_someone_featured_waits_out_the_cooldown(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    await at_the_post(hub)
    await run_spotlight(hub.context())
    assert len(await posts(hub)) == 1

    hub.later(DAY)
    hub.merged("ada", "Second")
    later = await week_of(hub, NEXT)
    (ada,) = later.ranked
    assert (ada.excluded, later.featured) == ("featured in the last 8 weeks", ())
    again = await week_of(hub, NEXT, settings(cooldown_weeks=0))
    assert names(again.featured) == ["ada"]


async def test_consent_decides_and_silence_means_not_featured_by_default(
    hub: RecognitionHub,
) -> None:
    hub.later(DAY)
    for login in ("ada", "bruno", "carl", "dave", "erin"):
        hub.merged(login, f"Change by {login}")
    for user_id, login in ((ADA, "ada"), (BRUNO, "bruno"), (CARL, "carl"), (ERIN, "erin")):
        await link(hub, user_id, login)
    await opt_in(hub, ERIN)
    async with hub.sessions.begin() as session:
        await consent.opt(session, GUILD, ADA, False, hub.clock.now())  # /spotlight opt-out
        for user_id in (BRUNO, CARL):
            await consent.ask(session, GUILD, user_id, WEEK, hub.clock.now())
        said = await consent.answer(
            session,
            GUILD,
            week=WEEK,
            asked_id=BRUNO,
            user_id=BRUNO,
            given="not_now",
            now=hub.clock.now(),
        )
    assert said == "Understood: not this time. You'll be asked again the next time."

    found = await week_of(hub)
    why = {c.login: (c.consent, c.excluded) for c in found.ranked}
    assert why == {
        "ada": ("no", "opted out"),
        "bruno": ("not_now", "not this time, they said"),
        "carl": ("asked", "no answer yet"),
        "dave": ("unlinked", "no linked Discord account to ask"),
        "erin": ("yes", None),
    }
    assert names(found.featured) == ["erin"]
    assert found.to_ask == ()  # everyone linked was asked or has chosen

    generous = await week_of(hub, config=settings(silence="featured", feature_unlinked=True))
    assert names(generous.featured) == ["carl", "dave", "erin"]
    (dave,) = [c for c in generous.featured if c.login == "dave"]
    assert dave.who == "**dave**"  # by GitHub login: there is no member to name


async def test_an_unverified_link_is_no_link(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, BRUNO, "ada", verified=False)  # anyone can type anyone's login
    (ada,) = (await week_of(hub)).ranked
    assert (ada.user_id, ada.consent) == (None, "unlinked")


async def test_maintainers_may_be_left_out_and_bots_always_are(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.reviewed("lena")  # a configured maintainer
    hub.reviewed("marta", author="yan")  # a member of the organisation
    hub.merged("dependabot[bot]", "Bump aiohttp")
    hub.merged("ada", "First")
    for user_id, login in ((ADA, "ada"), (LENA, "lena"), (MARTA, "marta")):
        await link(hub, user_id, login)
    await opt_in(hub, ADA, LENA, MARTA)

    found = await week_of(hub)
    assert "dependabot[bot]" not in names(found.ranked)
    assert names(found.featured) == ["ada", "lena", "marta"]
    strict = await week_of(hub, config=settings(exclude_maintainers=True))
    assert names(strict.featured) == ["ada"]
    assert {c.login: c.excluded for c in strict.ranked if c.maintainer} == {
        "lena": "maintainer",
        "marta": "maintainer",
    }


# --- consent --------------------------------------------------------------------------------


async def test_consent_is_asked_ahead_once_and_answered_by_its_buttons(
    hub: RecognitionHub,
) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    hub.merged("bruno", "Also first")
    await hub.settle()
    await link(hub, ADA, "ada")
    await link(hub, BRUNO, "bruno")
    hub.later(DAY)
    await run_spotlight(hub.context())  # Wednesday: too early to ask
    assert await dms(hub, ADA) == []
    assert footer(await week_of(hub)).endswith(
        "Asked for consent for this post: 0; still to ask: 2."
    )

    hub.clock.set(datetime(2026, 3, 8, 15, 5, tzinfo=UTC))  # a day before the post
    await hub.settle()
    await run_spotlight(hub.context())
    await run_spotlight(hub.context())
    (question,) = await dms(hub, ADA)
    assert question.payload["content"].startswith(
        "🌟 Your work this week may be featured in the community's weekly spotlight on "
        "Monday 9 March"
    )
    assert [b["label"] for b in question.payload["buttons"]] == ["Yes", "Not this time", "Never"]
    assert question.payload["buttons"][0]["custom_id"] == f"recognition:consent:20260309:{ADA}:yes"
    assert len(await dms(hub, BRUNO)) == 1
    assert footer(await week_of(hub)).endswith(
        "Asked for consent for this post: 2; still to ask: 0."
    )

    async def click(asked: int, user: int, given: str, week: date = WEEK) -> str:
        async with hub.sessions.begin() as session:
            return await consent.answer(
                session,
                GUILD,
                week=week,
                asked_id=asked,
                user_id=user,
                given=given,
                now=hub.clock.now(),
            )

    with pytest.raises(DomainError, match="This question is for someone else"):
        await click(ADA, BRUNO, "yes")
    with pytest.raises(DomainError, match="I didn't ask you that"):
        await click(ADA, ADA, "yes", NEXT)
    with pytest.raises(DomainError, match="isn't one of the answers"):
        await click(ADA, ADA, "maybe")
    assert await click(ADA, ADA, "yes") == (
        "Thank you! You may be featured by name when the community thanks its contributors. "
        "`/spotlight opt-out` changes your mind at any time."
    )
    assert (await click(BRUNO, BRUNO, "never")).startswith("Understood: you won't be featured.")

    hub.clock.set(datetime(2026, 3, 9, 15, 1, tzinfo=UTC))
    await run_spotlight(hub.context())
    (post,) = await posts(hub)
    assert [e["title"] for e in post.payload["embeds"]] == ["🌟 ada"]
    assert "bruno" not in str(post.payload)
    async with hub.sessions() as session:
        choices = dict((await session.execute(select(Consent.user_id, Consent.choice))).all())
    assert choices == {ADA: "yes", BRUNO: "no"}


async def test_someone_who_ignored_the_question_is_not_asked_again(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, ADA, "ada")
    await at_the_post(hub)
    await run_spotlight(hub.context())  # asked at the post, too late for this one
    assert await posts(hub) == []
    assert len(await dms(hub, ADA)) == 1
    hub.later(DAY)
    hub.merged("ada", "Second")
    found = await week_of(hub, NEXT)
    assert (found.ranked[0].consent, found.to_ask) == ("asked", ())


# --- kudos ----------------------------------------------------------------------------------


async def test_kudos_are_told_counted_and_limited(hub: RecognitionHub) -> None:
    hub.later(DAY)
    given = await give(hub, BRUNO, ADA, "  Helped me   set up the dev environment ")
    assert (given.reason, given.left) == ("Helped me set up the dev environment", 4)
    (told,) = await dms(hub, ADA)
    assert told.payload["content"].startswith(
        f"🙌 <@{BRUNO}> gave you kudos: “Helped me set up the dev environment”"
    )

    with pytest.raises(DomainError, match="can't give them to yourself"):
        await give(hub, ADA, ADA)
    with pytest.raises(DomainError, match="bots can't receive them"):
        async with hub.sessions.begin() as session:
            await kudos.give(
                session,
                settings(),
                GUILD,
                giver_id=ADA,
                receiver_id=999,
                receiver_is_bot=True,
                reason="Thanks",
                now=hub.clock.now(),
            )
    with pytest.raises(DomainError, match="in 3 to 200 characters \\(yours has 2\\)"):
        await give(hub, BRUNO, ADA, " ok ")

    first_at = hub.clock.now()
    for _ in range(4):
        hub.later(HOUR)
        await give(hub, BRUNO, CARL)
    with pytest.raises(DomainError) as refused:
        await give(hub, BRUNO, ERIN)
    again = int((first_at + DAY).timestamp())
    assert refused.value.user_message.startswith(
        f"You've given 5 kudos in the last 24 hours, the most there can be: you can give more "
        f"<t:{again}:R> (at <t:{again}:t>)."
    )
    hub.clock.set(first_at + DAY + timedelta(seconds=1))
    await give(hub, BRUNO, ERIN)  # the first has left the 24 hours

    await opt_in(hub, ADA, CARL)
    found = await week_of(hub)
    assert [(c.user_id, len(c.kudos), c.score) for c in found.ranked] == [
        (CARL, 4, 4),
        (ADA, 1, 1),
        (ERIN, 1, 1),
    ]
    assert found.ranked[2].excluded == "not asked yet"


async def test_a_departed_members_recognition_is_forgotten(hub: RecognitionHub) -> None:
    await give(hub, BRUNO, ADA)
    await give(hub, ADA, CARL)
    await opt_in(hub, ADA, CARL)
    async with hub.sessions.begin() as session:
        await retention.forget(session, GUILD, ADA, hub.clock.now())
    async with hub.sessions() as session:
        left = (await session.execute(select(Kudos.giver_id, Kudos.receiver_id))).all()
        consented = list(await session.scalars(select(Consent.user_id)))
    assert (left, consented) == ([], [CARL])


async def test_a_member_who_never_ran_start_is_forgotten_as_they_leave(
    hub: RecognitionHub,
) -> None:
    await give(hub, BRUNO, CARL)
    await opt_in(hub, CARL, ERIN)
    await retention.member_left(hub.context(), CARL)  # no newcomer row: nothing to wait for
    async with hub.sessions() as session:
        left = (await session.execute(select(Kudos.giver_id))).all()
        consented = list(await session.scalars(select(Consent.user_id)))
    assert (left, consented) == ([], [ERIN])


async def test_forget_me_deletes_the_members_data_and_keeps_github_history_unlinked(
    hub: RecognitionHub,
) -> None:
    hub.later(DAY)
    number = hub.merged("ada", "First")
    hub.merged("bruno", "Also first")
    await hub.settle()
    await link(hub, ADA, "ada")
    await link(hub, BRUNO, "bruno")
    await opt_in(hub, ADA, BRUNO)
    await give(hub, BRUNO, ADA)
    await give(hub, ADA, BRUNO)
    await give(hub, CARL, BRUNO)

    await retention.forget_me(hub.context(), ADA)

    async with hub.sessions() as session:
        linked = list(await session.scalars(select(Member.user_id)))
        thanked = (await session.execute(select(Kudos.giver_id, Kudos.receiver_id))).all()
        consented = list(await session.scalars(select(Consent.user_id)))
        pull = await session.scalar(
            select(GitHubIssue).where(GitHubIssue.author_id == hub.state.user("ada").id)
        )
    assert (linked, thanked, consented) == ([BRUNO], [(CARL, BRUNO)], [BRUNO])
    assert await dms(hub, ADA) == []  # the kudos DM, still pending, is never sent
    # Bruno is no longer told of Ada's kudos (her words), still of Carl's.
    (told,) = await dms(hub, BRUNO)
    assert told.payload["content"].startswith(f"🙌 <@{CARL}> gave you kudos")
    # The merge is still in the history, by the GitHub account, tied to no member.
    assert pull is not None
    assert (pull.number, pull.merged_at is not None) == (number, True)
    found = {c.login: c for c in (await week_of(hub)).ranked}
    assert (found["ada"].user_id, found["ada"].consent) == (None, "unlinked")
    assert (found["bruno"].user_id, found["bruno"].consent) == (BRUNO, "yes")


# --- once a week ----------------------------------------------------------------------------


async def test_one_post_per_week_across_runs_processes_and_restarts(
    hub: RecognitionHub, engine: AsyncEngine
) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    hub.clock.set(datetime(2026, 3, 9, 14, 59, tzinfo=UTC))
    await hub.settle()
    await run_spotlight(hub.context())
    assert await posts(hub) == []  # not yet

    hub.later(timedelta(minutes=1))
    # Two processes at once, then runs after a restart (a new reader on the same database).
    await asyncio.gather(run_spotlight(hub.context()), run_spotlight(hub.context()))
    restarted = Reader(engine, hub.sessions)
    try:
        again = Context(settings(), hub.clock, hub.sessions, None, read=restarted)
        await run_spotlight(again)
        hub.later(DAY)
        await run_spotlight(again)
    finally:
        await restarted.close()

    (post,) = await posts(hub)
    assert post.key == f"recognition:spotlight:{GUILD}:2026-03-09"
    async with hub.sessions() as session:
        weeks = (await session.execute(select(SpotlightWeek.week, SpotlightWeek.status))).all()
        featured = list(await session.scalars(select(SpotlightFeature.user_id)))
    assert (weeks, featured) == ([(WEEK, "posted")], [ADA])


async def test_a_post_missed_for_longer_than_the_grace_is_not_made(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    hub.clock.set(datetime(2026, 3, 11, 15, 1, tzinfo=UTC))  # two days and a minute late
    await hub.settle()
    await run_spotlight(hub.context())
    assert await posts(hub) == []


async def test_skip_and_post_now(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")
    await link(hub, ADA, "ada")
    await opt_in(hub, ADA)
    configured = settings()
    await run_spotlight(hub.context())  # 2 March's, nobody to feature, is decided empty
    async with hub.sessions.begin() as session:
        week = await spotlight.skip(session, configured, GUILD, MARTA, hub.clock.now())
    assert week == WEEK
    with pytest.raises(DomainError, match="The spotlight of Monday 9 March was already skipped"):
        async with hub.sessions.begin() as session:
            await spotlight.skip(session, configured, GUILD, MARTA, hub.clock.now())
    hub.clock.set(datetime(2026, 3, 9, 15, 1, tzinfo=UTC))
    await run_spotlight(hub.context())
    assert await posts(hub) == []

    # The next week, posted early by an organiser with the week so far; the schedule then
    # leaves it alone.
    hub.later(DAY)
    hub.merged("ada", "Second")
    found = await week_of(hub, NEXT, settings(cooldown_weeks=0))
    async with hub.sessions.begin() as session:
        assert await spotlight.current_week(session, configured, GUILD, hub.clock.now()) == NEXT
        await spotlight.post_now(session, configured, GUILD, found, MARTA, hub.clock.now())
    hub.clock.set(datetime(2026, 3, 16, 15, 1, tzinfo=UTC))
    await run_spotlight(hub.context())
    (post,) = await posts(hub)
    assert post.key.endswith(":2026-03-16")
    async with hub.sessions() as session:
        decided = (await session.execute(select(SpotlightWeek).order_by(SpotlightWeek.week))).all()
    assert [(row.week, row.status, row.by_user_id) for (row,) in decided] == [
        (date(2026, 3, 2), "empty", None),
        (WEEK, "skipped", MARTA),
        (NEXT, "posted", MARTA),
    ]


async def test_post_now_with_nobody_to_feature_keeps_the_week_open(hub: RecognitionHub) -> None:
    hub.later(DAY)
    hub.merged("ada", "First")  # not linked: cannot be asked
    found = await week_of(hub)
    with pytest.raises(DomainError, match="Nobody can be featured right now"):
        async with hub.sessions.begin() as session:
            await spotlight.post_now(session, settings(), GUILD, found, MARTA, hub.clock.now())
    async with hub.sessions() as session:
        assert await spotlight.decided(session, GUILD, WEEK) is None
        assert list(await session.scalars(select(ConsentAsk))) == []
