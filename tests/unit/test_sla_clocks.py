# SPDX-License-Identifier: Apache-2.0
"""The service-level definitions of docs/sla.md, each on a hand-written history, and the
business-days arithmetic (bot/services/sla/clocks.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.sla.clocks import (
    AT_OPENING,
    WALL_CLOCK,
    Calendar,
    Comment,
    Event,
    History,
    Item,
    Person,
    Review,
    Rules,
    Wait,
    deadline,
    due_at,
    elapsed,
    waited,
    waits,
)

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
AUTHOR = Person(10, "newbie")
MARTA = Person(20, "marta")  # a member of the organisation
LENA = Person(21, "lena")  # a configured maintainer without GitHub rights on the repository
CAROL = Person(30, "carol")  # a contributor
HELPER = Person(40, "helper[bot]", is_bot=True)
GHOST = Person(None)  # a deleted account
RULES = Rules(maintainers=frozenset({"lena"}), automatic_labels=frozenset({"needs triage"}))


def at(hours: float) -> datetime:
    return MONDAY + hours * HOUR


def issue(author: Person = AUTHOR, association: str = "NONE") -> Item:
    return Item(False, author, association, MONDAY)


def pull(author: Person = AUTHOR, association: str = "NONE", *, draft: bool = False) -> Item:
    return Item(True, author, association, MONDAY, draft)


def event(kind: str, hours: float, actor: Person, subject: str = "") -> Event:
    return Event(kind, at(hours), actor, subject)


def comment(hours: float, author: Person, association: str = "MEMBER") -> Comment:
    return Comment(at(hours), author, association)


def review(hours: float, reviewer: Person, state: str, association: str = "MEMBER") -> Review:
    return Review(at(hours), reviewer, association, state)


Fact = Event | Comment | Review
# (kind, waiting on, started, ended, outcome), times in hours after the opening.
Summary = tuple[str, str, float, float | None, str | None]


def summary(wait: Wait) -> Summary:
    def hours(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - MONDAY) / HOUR

    started = hours(wait.started_at)
    assert started is not None
    return (wait.kind, wait.waiting_on, started, hours(wait.ended_at), wait.outcome)


def history(item: Item, *facts: Fact) -> History:
    return History(
        item,
        [f for f in facts if isinstance(f, Event)],
        [f for f in facts if isinstance(f, Comment)],
        [f for f in facts if isinstance(f, Review)],
    )


def waits_of(item: Item, *facts: Fact) -> list[Summary]:
    return [summary(wait) for wait in waits(history(item, *facts), RULES)]


# --- triage ---------------------------------------------------------------------------------


def test_an_issue_waits_for_triage_until_a_maintainer_labels_it() -> None:
    assert waits_of(issue()) == [("triage", "maintainers", 0, None, None)]
    assert waits_of(issue(), event("labeled", 3, MARTA, "bug")) == [
        ("triage", "maintainers", 0, 3, "answered")
    ]


@pytest.mark.parametrize(
    "answer",
    [
        event("assigned", 2, MARTA, "20"),  # a maintainer takes it
        event("assigned", 2, CAROL, "30"),  # whoever can assign has triage rights
        event("unlabeled", 2, MARTA, "needs triage"),  # the automatic label taken off
        event("labeled", 2, GHOST, "bug"),  # by an account deleted since
        comment(2, MARTA, "MEMBER"),
        comment(2, MARTA, "OWNER"),
        comment(2, CAROL, "COLLABORATOR"),
        comment(2, LENA, "CONTRIBUTOR"),  # configured: a maintainer whatever GitHub says
        comment(2, Person(21, "LENA"), "NONE"),  # logins in any case
        event("closed", 2, MARTA),
    ],
    ids=lambda fact: type(fact).__name__,
)
def test_a_maintainer_action_triages(answer: Fact) -> None:
    assert waits_of(issue(), answer) == [("triage", "maintainers", 0, 2, "answered")]


@pytest.mark.parametrize(
    "non_answer",
    [
        event("labeled", 2, MARTA, "Needs Triage"),  # an automatic label, in any case
        event("labeled", 2, HELPER, "bug"),  # bots are no maintainers
        event("assigned", 2, HELPER, "20"),
        event("labeled", 2, AUTHOR, "bug"),  # the author's own doing
        event("assigned", 2, AUTHOR, "10"),
        comment(2, AUTHOR, "MEMBER"),
        comment(2, CAROL, "CONTRIBUTOR"),  # someone helping, not a maintainer
        comment(2, CAROL, "NONE"),
        comment(2, HELPER, "MEMBER"),  # a bot, whatever its association
        event("unassigned", 2, MARTA, "20"),
        event("review_request_removed", 2, MARTA, "20"),
        event("transferred", 2, MARTA, "501#4"),  # moving it is not answering it
    ],
    ids=lambda fact: type(fact).__name__,
)
def test_what_does_not_triage(non_answer: Fact) -> None:
    assert waits_of(issue(), non_answer) == [("triage", "maintainers", 0, None, None)]


def test_labels_an_issue_is_opened_with_are_no_triage() -> None:
    """An issue template's labels arrive as "labeled" events just after the opening."""
    opening = AT_OPENING / HOUR
    template = event("labeled", opening, MARTA, "bug")
    assert waits_of(issue(), template) == [("triage", "maintainers", 0, None, None)]
    later = event("labeled", 2 * opening, MARTA, "docs")
    assert waits_of(issue(), template, later) == [
        ("triage", "maintainers", 0, 2 * opening, "answered")
    ]


@pytest.mark.parametrize(
    ("author", "association"),
    [
        (MARTA, "MEMBER"),
        (MARTA, "OWNER"),
        (CAROL, "COLLABORATOR"),
        (LENA, "CONTRIBUTOR"),  # configured
        (HELPER, "NONE"),  # bots are not measured
    ],
)
def test_issues_maintainers_or_bots_open_are_not_measured(author: Person, association: str) -> None:
    assert waits_of(issue(author, association)) == []


def test_an_issue_its_author_closes_first_leaves_the_measure() -> None:
    (wait,) = waits(history(issue(), event("closed", 5, AUTHOR)), RULES)
    assert (wait.outcome, wait.ended_at, wait.measured) == ("withdrawn", at(5), False)
    # The author's comment before closing changes nothing.
    assert waits_of(issue(), comment(1, AUTHOR, "NONE"), event("closed", 5, AUTHOR)) == [
        ("triage", "maintainers", 0, 5, "withdrawn")
    ]


def test_an_issue_a_bot_closes_is_closed_unanswered_and_still_measured() -> None:
    (wait,) = waits(history(issue(), event("closed", 30 * 24, HELPER)), RULES)
    assert (wait.outcome, wait.answered_at, wait.measured) == ("closed", None, True)


def test_a_reopened_issue_keeps_its_first_answer() -> None:
    facts = (
        event("labeled", 2, MARTA, "bug"),
        event("closed", 5, MARTA),
        event("reopened", 9, AUTHOR),
        comment(11, MARTA),
    )
    assert waits_of(issue(), *facts) == [("triage", "maintainers", 0, 2, "answered")]


def test_a_reopened_issue_that_was_never_answered_waits_again() -> None:
    facts = (
        event("closed", 2, AUTHOR),
        event("reopened", 9, AUTHOR),
        event("assigned", 12, MARTA, "20"),
    )
    assert waits_of(issue(), *facts) == [
        ("triage", "maintainers", 0, 2, "withdrawn"),
        ("triage", "maintainers", 9, 12, "answered"),
    ]


def test_an_answer_while_closed_is_kept_when_the_issue_is_reopened() -> None:
    facts = (
        event("closed", 2, AUTHOR),
        comment(3, MARTA),  # "Why close it? Looks like a real bug."
        event("reopened", 4, AUTHOR),
    )
    assert waits_of(issue(), *facts) == [("triage", "maintainers", 0, 2, "withdrawn")]


# --- review ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"])
def test_a_review_in_any_state_answers_a_pull_request(state: str) -> None:
    assert waits_of(pull(), review(5, MARTA, state))[0] == (
        "review",
        "maintainers",
        0,
        5,
        "answered",
    )


@pytest.mark.parametrize(
    "answer",
    [
        comment(5, MARTA, "MEMBER"),  # an issue comment or a review comment
        comment(5, LENA, "NONE"),
        review(5, LENA, "COMMENTED", "CONTRIBUTOR"),
        event("merged", 5, MARTA),  # merged by someone else: a review
    ],
    ids=lambda fact: type(fact).__name__,
)
def test_a_maintainer_comment_or_a_merge_answers_a_pull_request(answer: Fact) -> None:
    assert waits_of(pull(), answer) == [("review", "maintainers", 0, 5, "answered")]


@pytest.mark.parametrize(
    "non_answer",
    [
        review(5, CAROL, "APPROVED", "CONTRIBUTOR"),  # a contributor's review
        comment(5, CAROL, "NONE"),
        review(5, HELPER, "COMMENTED", "MEMBER"),  # a bot's
        comment(5, AUTHOR, "MEMBER"),  # the author's own
        event("labeled", 5, MARTA, "bug"),  # triage is not a review
        event("assigned", 5, MARTA, "20"),
        event("review_requested", 5, MARTA, "20"),
        event("pushed", 5, AUTHOR),
    ],
    ids=lambda fact: type(fact).__name__,
)
def test_what_does_not_answer_a_pull_request(non_answer: Fact) -> None:
    assert waits_of(pull(), non_answer) == [("review", "maintainers", 0, None, None)]


def test_changes_requested_wait_on_the_author_until_they_push() -> None:
    facts = (
        review(5, MARTA, "CHANGES_REQUESTED"),
        event("pushed", 8, MARTA),  # a maintainer's push is not the author's answer
        comment(9, MARTA),  # nor does a comment hand it back
        event("pushed", 20, AUTHOR),
        review(26, MARTA, "APPROVED"),
    )
    assert waits_of(pull(), *facts) == [
        ("review", "maintainers", 0, 5, "answered"),
        ("review", "author", 5, 20, "answered"),
        ("review", "maintainers", 20, 26, "answered"),
    ]


def test_a_re_request_of_review_by_the_author_starts_a_new_clock() -> None:
    facts = (
        review(5, MARTA, "CHANGES_REQUESTED"),
        event("review_requested", 7, MARTA, "21"),  # a maintainer asking a colleague
        event("review_requested", 9, AUTHOR, "20"),
    )
    assert waits_of(pull(), *facts) == [
        ("review", "maintainers", 0, 5, "answered"),
        ("review", "author", 5, 9, "answered"),
        ("review", "maintainers", 9, None, None),
    ]


def test_after_an_approval_or_a_comment_nobody_is_waited_on() -> None:
    """Only requested changes hand the pull request to its author; pushes after an approval
    start nothing."""
    facts = (review(5, MARTA, "APPROVED"), event("pushed", 7, AUTHOR))
    assert waits_of(pull(), *facts) == [("review", "maintainers", 0, 5, "answered")]
    facts = (review(5, MARTA, "DISMISSED"), event("pushed", 7, AUTHOR))
    assert waits_of(pull(), *facts) == [("review", "maintainers", 0, 5, "answered")]


def test_a_second_request_for_changes_keeps_waiting_on_the_author() -> None:
    facts = (
        review(5, MARTA, "CHANGES_REQUESTED"),
        review(6, LENA, "CHANGES_REQUESTED", "NONE"),
        review(7, Person(22, "omar"), "APPROVED"),
    )
    assert waits_of(pull(), *facts) == [
        ("review", "maintainers", 0, 5, "answered"),
        ("review", "author", 5, None, None),
    ]


def test_a_draft_waits_for_nothing_until_it_is_ready() -> None:
    facts = (
        comment(2, MARTA),
        event("ready_for_review", 10, AUTHOR),
        review(13, MARTA, "APPROVED"),
    )
    assert waits_of(pull(draft=True), *facts) == [("review", "maintainers", 10, 13, "answered")]
    # Its first draft change says how it was opened, whatever it is now.
    assert waits_of(pull(draft=False), event("ready_for_review", 10, AUTHOR)) == [
        ("review", "maintainers", 10, None, None)
    ]


def test_time_in_draft_does_not_count() -> None:
    facts = (
        event("converted_to_draft", 2, AUTHOR),
        event("ready_for_review", 10, AUTHOR),
        review(12, MARTA, "COMMENTED"),
    )
    (wait,) = waits(history(pull(), *facts), RULES)
    assert wait.paused == ((at(2), at(10)),)
    assert waited(wait, WALL_CLOCK, at(100)) == 4 * HOUR
    # Still in draft: the clock stands.
    (drafted,) = waits(history(pull(), *facts[:1]), RULES)
    assert drafted.paused == ((at(2), None),)
    assert waited(drafted, WALL_CLOCK, at(100)) == 2 * HOUR
    assert due_at(drafted, 48 * HOUR, WALL_CLOCK) is None


def test_a_review_of_a_draft_answers_its_paused_wait() -> None:
    facts = (event("converted_to_draft", 2, AUTHOR), review(6, MARTA, "CHANGES_REQUESTED"))
    (answered, on_author) = waits(history(pull(), *facts), RULES)
    assert (answered.ended_at, answered.paused) == (at(6), ((at(2), at(6)),))
    assert summary(on_author) == ("review", "author", 6, None, None)
    # Its author's answer while still a draft starts nothing until it is ready again.
    more = (event("pushed", 9, AUTHOR), event("ready_for_review", 11, AUTHOR))
    assert waits_of(pull(), *facts, *more)[1:] == [
        ("review", "author", 6, 9, "answered"),
        ("review", "maintainers", 11, None, None),
    ]


def test_marking_ready_while_waiting_on_the_author_asks_for_review() -> None:
    facts = (
        review(5, MARTA, "CHANGES_REQUESTED"),
        event("converted_to_draft", 6, AUTHOR),
        event("ready_for_review", 9, AUTHOR),
    )
    assert waits_of(pull(), *facts)[1:] == [
        ("review", "author", 5, 9, "answered"),
        ("review", "maintainers", 9, None, None),
    ]


@pytest.mark.parametrize(
    "closing",
    [
        (event("closed", 3, AUTHOR),),
        (event("merged", 3, AUTHOR), event("closed", 3, AUTHOR)),
    ],
    ids=["closed", "merged"],
)
def test_a_pull_request_its_author_closes_or_merges_first_leaves_the_measure(
    closing: tuple[Event, ...],
) -> None:
    (wait,) = waits(history(pull(association="MEMBER"), *closing), RULES)
    assert (wait.outcome, wait.measured) == ("withdrawn", False)


def test_a_merge_by_a_bot_is_no_review() -> None:
    facts = (event("merged", 3, HELPER), event("closed", 3, HELPER))
    assert waits_of(pull(), *facts) == [("review", "maintainers", 0, 3, "closed")]


def test_a_maintainers_own_pull_request_is_measured() -> None:
    facts = (comment(1, MARTA, "MEMBER"), review(4, Person(22, "omar"), "APPROVED"))
    assert waits_of(pull(MARTA, "MEMBER"), *facts) == [("review", "maintainers", 0, 4, "answered")]


def test_a_bots_pull_request_is_not_measured() -> None:
    assert waits_of(pull(HELPER, "NONE")) == []


def test_a_reopened_pull_request_waits_again_on_whom_it_waited() -> None:
    on_author = (
        review(5, MARTA, "CHANGES_REQUESTED"),
        event("closed", 6, AUTHOR),
        event("reopened", 30, AUTHOR),
    )
    assert waits_of(pull(), *on_author)[1:] == [
        ("review", "author", 5, 6, "closed"),
        ("review", "author", 30, None, None),
    ]
    withdrawn = (event("closed", 6, AUTHOR), event("reopened", 30, AUTHOR))
    assert waits_of(pull(), *withdrawn) == [
        ("review", "maintainers", 0, 6, "withdrawn"),
        ("review", "maintainers", 30, None, None),
    ]
    # Closed by a maintainer, it was answered: reopening keeps that answer.
    answered = (event("closed", 6, MARTA), event("reopened", 30, AUTHOR))
    assert waits_of(pull(), *answered) == [("review", "maintainers", 0, 6, "answered")]


def test_what_happens_while_a_pull_request_is_closed_decides_on_whom_it_waits_reopened() -> None:
    asked = (
        event("closed", 2, AUTHOR),
        review(3, MARTA, "CHANGES_REQUESTED"),
        event("reopened", 4, AUTHOR),
    )
    assert waits_of(pull(), *asked) == [
        ("review", "maintainers", 0, 2, "withdrawn"),
        ("review", "author", 4, None, None),
    ]
    answered = (
        review(1, MARTA, "CHANGES_REQUESTED"),
        event("closed", 2, AUTHOR),
        event("pushed", 3, AUTHOR),
        event("reopened", 4, AUTHOR),
    )
    assert waits_of(pull(), *answered) == [
        ("review", "maintainers", 0, 1, "answered"),
        ("review", "author", 1, 2, "closed"),
        ("review", "maintainers", 4, None, None),
    ]


def test_facts_at_the_same_second_are_read_in_a_fixed_order() -> None:
    """A merge before its closing; readiness before a review of the same second."""
    merged = (event("closed", 3, MARTA), event("merged", 3, MARTA))
    assert waits_of(pull(), *merged) == [("review", "maintainers", 0, 3, "answered")]
    ready = (review(10, MARTA, "APPROVED"), event("ready_for_review", 10, AUTHOR))
    assert waits_of(pull(draft=True), *ready) == [("review", "maintainers", 10, 10, "answered")]


def test_the_examples_of_the_docs() -> None:
    """docs/sla.md: a triage missed by two hours, and two review cycles with a wait on the
    author between them and an hour in draft."""
    template = event("labeled", 0, AUTHOR, "needs triage")
    by_a_bot = event("labeled", 5 / 60, HELPER, "area: docs")
    (triage,) = waits(
        history(issue(), template, by_a_bot, event("labeled", 26, MARTA, "bug")), RULES
    )
    assert waited(triage, WALL_CLOCK, at(99)) == 26 * HOUR
    assert due_at(triage, 24 * HOUR, WALL_CLOCK) == at(24)

    opened = Item(True, AUTHOR, "NONE", at(1))  # Monday 10:00
    facts = (
        review(24, MARTA, "CHANGES_REQUESTED"),  # Tuesday 09:00
        event("pushed", 77, AUTHOR),  # Thursday 14:00
        event("converted_to_draft", 78, AUTHOR),
        event("ready_for_review", 96, AUTHOR),  # Friday 09:00
        review(99, LENA, "APPROVED", "NONE"),
    )
    first, on_author, second = waits(history(opened, *facts), RULES)
    assert [waited(w, WALL_CLOCK, at(200)) / HOUR for w in (first, on_author, second)] == [
        23,
        53,
        4,
    ]
    assert [w.waiting_on for w in (first, on_author, second)] == [
        "maintainers",
        "author",
        "maintainers",
    ]


# Any history: the waits follow each other without overlapping, and only the last runs.
KINDS = [
    "labeled", "unlabeled", "assigned", "closed", "reopened", "merged", "pushed",
    "review_requested", "ready_for_review", "converted_to_draft", "unassigned", "transferred",
]  # fmt: skip
people = st.sampled_from([AUTHOR, MARTA, LENA, CAROL, HELPER, GHOST])
hours = st.integers(min_value=0, max_value=500)
facts = st.one_of(
    st.builds(
        event, st.sampled_from(KINDS), hours, people, st.sampled_from(["bug", "needs triage"])
    ),
    st.builds(comment, hours, people, st.sampled_from(["MEMBER", "NONE", "CONTRIBUTOR"])),
    st.builds(
        review,
        hours,
        people,
        st.sampled_from(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]),
        st.sampled_from(["MEMBER", "NONE"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.booleans(), st.lists(facts, max_size=25))
def test_waits_of_any_history_follow_each_other(
    is_pull: bool, draft: bool, happened: list[Fact]
) -> None:
    item = Item(is_pull, AUTHOR, "NONE", MONDAY, draft)
    found = waits(history(item, *happened), RULES)
    for wait in found:
        assert wait.kind == ("review" if is_pull else "triage")
        assert (wait.ended_at is None) == (wait.outcome is None)
        spans = wait.spans()
        assert all(end is None or start <= end for start, end in spans)
        assert waited(wait, WALL_CLOCK, at(600)) >= timedelta(0)
    for earlier, later in pairwise(found):
        assert earlier.ended_at is not None
        assert earlier.ended_at <= later.started_at
    assert all(wait.waiting_on == "maintainers" for wait in found if not is_pull)


# --- counting time --------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone).astimezone(UTC)


def business(zone: str = "UTC", holidays: tuple[date, ...] = ()) -> Calendar:
    return Calendar(True, ZoneInfo(zone), holidays)


def test_wall_clock_counts_every_hour() -> None:
    assert elapsed(at(0), at(71), WALL_CLOCK) == 71 * HOUR
    assert elapsed(at(5), at(2), WALL_CLOCK) == timedelta(0)
    assert deadline(at(1), 24 * HOUR, WALL_CLOCK) == at(25)


def test_business_days_skip_the_weekend_and_holidays() -> None:
    friday_noon = datetime(2026, 3, 6, 12, tzinfo=UTC)
    monday_noon = datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert elapsed(friday_noon, monday_noon, business()) == 24 * HOUR
    assert deadline(friday_noon, 24 * HOUR, business()) == monday_noon
    saturday, sunday = datetime(2026, 3, 7, 1, tzinfo=UTC), datetime(2026, 3, 8, 23, tzinfo=UTC)
    assert elapsed(saturday, sunday, business()) == timedelta(0)
    # Monday is a holiday: the 24 hours run out on Tuesday.
    holiday = business(holidays=(date(2026, 3, 9),))
    assert elapsed(friday_noon, monday_noon, holiday) == 12 * HOUR
    assert deadline(friday_noon, 24 * HOUR, holiday) == monday_noon + 24 * HOUR
    # A start on the weekend counts from Monday's midnight.
    assert deadline(saturday, 2 * HOUR, business()) == datetime(2026, 3, 9, 2, tzinfo=UTC)


def test_business_days_are_the_community_s_days() -> None:
    """In Berlin, days begin at 23:00 UTC in winter: Friday 23:30 UTC is Saturday there,
    and Sunday 23:45 UTC is Monday."""
    late_friday = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    late_sunday = datetime(2026, 3, 8, 23, 45, tzinfo=UTC)
    minute = timedelta(minutes=1)
    assert elapsed(late_friday, late_sunday, business("Europe/Berlin")) == 45 * minute
    assert elapsed(late_friday, late_sunday, business()) == 30 * minute  # Friday's, in UTC


def test_a_clock_change_on_a_weekend_changes_no_business_hour() -> None:
    """Berlin moves to summer time on Sunday 29 March 2026: 71 hours pass from Friday noon
    to Monday noon, of which 24 count."""
    friday, monday = local(BERLIN, 2026, 3, 27, 12), local(BERLIN, 2026, 3, 30, 12)
    assert monday - friday == 71 * HOUR
    assert elapsed(friday, monday, business("Europe/Berlin")) == 24 * HOUR
    assert deadline(friday, 24 * HOUR, business("Europe/Berlin")) == monday


def test_a_business_day_the_clocks_change_on_lasts_as_long_as_it_does() -> None:
    """Israel moves to summer time on Friday 27 March 2026: that Friday has 23 hours."""
    jerusalem = ZoneInfo("Asia/Jerusalem")
    thursday, saturday = local(jerusalem, 2026, 3, 26, 0), local(jerusalem, 2026, 3, 28, 0)
    assert elapsed(thursday, saturday, business("Asia/Jerusalem")) == 47 * HOUR
    assert deadline(thursday, 47 * HOUR, business("Asia/Jerusalem")) == saturday


def test_the_wait_counts_only_while_its_clock_runs() -> None:
    wait = Wait("review", "maintainers", at(0), paused=((at(2), at(50)),))
    assert waited(wait, WALL_CLOCK, at(52)) == 4 * HOUR
    assert due_at(wait, 4 * HOUR, WALL_CLOCK) == at(52)
    ended = Wait("review", "maintainers", at(0), at(3), "answered")
    assert waited(ended, WALL_CLOCK, at(99)) == 3 * HOUR
    assert due_at(ended, 3 * HOUR, WALL_CLOCK) == at(3)  # answered just in time
    assert due_at(ended, 4 * HOUR, WALL_CLOCK) is None  # answered before the target
    # Business days: started on Friday 21:00, 8 counting hours are due on Monday 05:00.
    friday = Wait("triage", "maintainers", datetime(2026, 3, 6, 21, tzinfo=UTC))
    assert due_at(friday, 8 * HOUR, business()) == datetime(2026, 3, 9, 5, tzinfo=UTC)


ZONES = ["UTC", "Europe/Berlin", "Asia/Jerusalem", "America/Santiago", "Australia/Lord_Howe"]
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
calendars = st.builds(
    Calendar,
    st.booleans(),
    st.sampled_from(ZONES).map(ZoneInfo),
    st.lists(st.dates(date(2025, 1, 1), date(2028, 1, 1)), max_size=20).map(
        lambda days: tuple(sorted(set(days)))
    ),
)
budgets = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=40))


@settings(max_examples=300, deadline=None)
@given(calendars, moments, moments, moments)
def test_elapsed_adds_up_and_never_exceeds_the_wall_clock(
    calendar: Calendar, first: datetime, second: datetime, third: datetime
) -> None:
    a, b, c = sorted([first, second, third])
    assert elapsed(a, c, calendar) == elapsed(a, b, calendar) + elapsed(b, c, calendar)
    assert timedelta(0) <= elapsed(a, c, calendar) <= c - a
    if not calendar.business_days:
        assert elapsed(a, c, calendar) == c - a


@settings(max_examples=300, deadline=None)
@given(calendars, moments, budgets)
def test_the_deadline_is_the_first_moment_the_budget_is_spent(
    calendar: Calendar, start: datetime, budget: timedelta
) -> None:
    due = deadline(start, budget, calendar)
    assert elapsed(start, due, calendar) == budget
    assert elapsed(start, due - timedelta(microseconds=1), calendar) < budget
    # It falls on a day that counts.
    assert not calendar.business_days or calendar.is_business_day(
        (due - timedelta(microseconds=1)).astimezone(calendar.zone).date()
    )
