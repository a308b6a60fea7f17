# SPDX-License-Identifier: Apache-2.0
"""The pings' rules as pure functions: which stage is due when (wall clock and business
days), whom a round mentions in and out of quiet hours, the triage rota, and reading
`/sla snooze`'s item and duration (the job itself: tests/integration/test_sla_pings.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import QuietHours
from bot.errors import DomainError
from bot.services.sla.clocks import WALL_CLOCK, Calendar, Wait
from bot.services.sla.pings import Schedule, address, triager
from bot.services.sla.snoozes import parse_duration, parse_item
from tests.unit.sla_helpers import DAY, HOUR, configured

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def stages(target: timedelta, hours: list[float], calendar: Calendar = WALL_CLOCK) -> list[str]:
    """The stage due after each number of hours, escalations promised when due."""
    schedule = Schedule.of(Wait("triage", "maintainers", MONDAY), target, calendar)
    assert schedule is not None
    found, escalated = [], None
    for hour in hours:
        now = MONDAY + hour * HOUR
        stage = schedule.stage(now, escalated) or "-"
        if stage == "escalation" and escalated is None:
            escalated = now
        found.append(stage)
    return found


def test_stages_of_a_24_hour_target() -> None:
    assert stages(24 * HOUR, [17.9, 18, 23.9, 24, 47.9, 48, 71.9, 72, 96]) == [
        "-",
        "notice",
        "notice",
        "breach",
        "breach",
        "escalation",
        "escalation",
        "repeat-2",
        "repeat-3",
    ]


def test_the_escalation_waits_for_a_round_so_nobody_hears_twice_a_day() -> None:
    # 12 hours: twice the target at 24, but the breach was at 12: the next round, at 36.
    assert stages(12 * HOUR, [12, 24, 35.9, 36, 60]) == [
        "breach",
        "breach",
        "breach",
        "escalation",
        "repeat-2",
    ]
    # 48 hours: rounds at 48 and 72, escalation at 96.
    assert stages(48 * HOUR, [36, 48, 72, 95.9, 96]) == [
        "notice",
        "breach",
        "repeat-1",
        "repeat-1",
        "escalation",
    ]


def test_a_bot_that_was_down_says_the_latest_stage_and_escalates_late() -> None:
    schedule = Schedule.of(Wait("triage", "maintainers", MONDAY), 24 * HOUR, WALL_CLOCK)
    assert schedule is not None
    late = MONDAY + 80 * HOUR  # round 2; the escalating round 1 was missed
    assert schedule.stage(late, None) == "escalation"
    assert schedule.stage(late + HOUR, late) == "escalation"  # said: the promise is a no-op
    assert schedule.stage(late + DAY, late) == "repeat-3"


def test_business_days_count_towards_the_breach_but_rounds_are_daily() -> None:
    # Friday 09:00 in UTC: 15 hours count on Friday, the weekend none, 9 more on Monday.
    friday = datetime(2026, 3, 6, 9, tzinfo=UTC)
    calendar = Calendar(business_days=True, zone=ZoneInfo("UTC"))
    schedule = Schedule.of(Wait("triage", "maintainers", friday), 24 * HOUR, calendar)
    assert schedule is not None
    assert schedule.notice == datetime(2026, 3, 9, 3, tzinfo=UTC)
    assert schedule.breach == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert schedule.stage(datetime(2026, 3, 8, 12, tzinfo=UTC), None) is None  # Sunday
    assert schedule.stage(datetime(2026, 3, 10, 9, tzinfo=UTC), None) == "escalation"


def test_a_paused_wait_has_no_schedule() -> None:
    draft = Wait("review", "maintainers", MONDAY, paused=((MONDAY + HOUR, None),))
    assert Schedule.of(draft, 48 * HOUR, WALL_CLOCK) is None


NIGHT = QuietHours(start=time(22), end=time(8))


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    assert [NIGHT.holds(time(h)) for h in (21, 22, 3, 7, 8)] == [False, True, True, True, False]
    siesta = QuietHours(start=time(13), end=time(15))
    assert [siesta.holds(time(h)) for h in (12, 13, 14, 15)] == [False, True, True, False]


def asleep(*users: int) -> Callable[[int, datetime], bool]:
    return lambda user, _at: user in users


def test_whom_a_round_pings() -> None:
    anyone_awake = asleep()
    assert address([1, 2], ["carol"], 9, anyone_awake, MONDAY).pinged == (1, 2)
    nobody_linked = address([], ["carol"], 9, anyone_awake, MONDAY)
    assert (nobody_linked.pinged, nobody_linked.unlinked) == ((9,), ("carol",))
    assert address([], [], None, anyone_awake, MONDAY).pinged == ()

    some_asleep = address([1, 2], [], 9, asleep(2), MONDAY)
    assert (some_asleep.pinged, some_asleep.held) == ((1,), (2,))
    all_asleep = address([1, 2], [], 9, asleep(1, 2), MONDAY)
    assert (all_asleep.pinged, all_asleep.resting, all_asleep.held) == ((9,), (1, 2), ())
    everyone_asleep = address([1], [], 9, asleep(1, 9), MONDAY)
    assert (everyone_asleep.pinged, everyone_asleep.held) == ((), (1,))
    triager_asleep = address([], [], 9, asleep(9), MONDAY)
    assert (triager_asleep.pinged, triager_asleep.held) == ((), (9,))
    # The triager among the people asked and asleep: nobody else to hand it to.
    own = address([9], [], 9, asleep(9), MONDAY)
    assert (own.pinged, own.held) == ((), (9,))


def test_the_rota_turns_each_monday_in_the_community_time_zone() -> None:
    sla = configured(triagers=[11, 12, 13], time_zone="Pacific/Auckland").sla
    assert sla is not None
    weeks = [triager(sla, MONDAY + n * 7 * DAY) for n in range(4)]
    assert weeks[3] == weeks[0]
    assert sorted(weeks[:3]) == [11, 12, 13]
    # Sunday 11:00 UTC is already Monday in Auckland: the next week's triager.
    sunday = datetime(2026, 3, 8, 11, 30, tzinfo=UTC)
    assert triager(sla, sunday) == weeks[1]
    assert triager(sla, sunday - HOUR) == weeks[0]
    no_rota = configured().sla
    assert no_rota is not None
    assert triager(no_rota, MONDAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme/widgets#12", ("acme/widgets", 12)),
        (" acme/widgets#12 ", ("acme/widgets", 12)),
        ("https://github.com/acme/widgets/pull/7/files", ("acme/widgets", 7)),
        ("<https://github.com/acme/widgets/issues/3#issuecomment-1>", ("acme/widgets", 3)),
    ],
)
def test_an_item_as_written_or_linked(text: str, expected: tuple[str, int]) -> None:
    assert parse_item(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12h", 12 * HOUR), ("3d", 3 * DAY), ("1d12h", 36 * HOUR), ("2 days", 2 * DAY)],
)
def test_a_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "“soon” isn't a duration I understand: write it like `3d`"),
        ("1d1d", "“1d1d” isn't a duration I understand"),
        ("31d", "A snooze lasts from an hour to 30 days; “31d” is more."),
        ("30m", "“30m” is less."),
        ("@everyone", "“@\u200beveryone” isn't a duration"),
    ],
)
def test_a_bad_duration_is_named(text: str, message: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_duration(text)
    assert message in error.value.user_message
