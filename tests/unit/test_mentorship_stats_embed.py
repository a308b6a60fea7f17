# SPDX-License-Identifier: Apache-2.0
"""`/mentor stats` as shown: every figure in one embed, the mentors' lines cut short of
Discord's limit with a word on how many more there are."""

from __future__ import annotations

from datetime import date, timedelta

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
from cogs.mentorship import outcomes_embed

FIRST_MENTOR = 10**18
# Discord refuses an embed whose description is longer.
DESCRIPTION_LIMIT = 4096


def outcomes(mentors: int, months: int = 2) -> Outcomes:
    steps = FirstSteps(40, 30, Share(12, 20), Median(25, timedelta(days=9, hours=12)))
    return Outcomes(
        first_steps=steps,
        feedback_from_mentees=Scores(12, 4.3),
        feedback_from_mentors=Scores(3, None),
        check_ins=Share(45, 60),
        load=Load(20, 30, 0.5),
        waiting=Waiting(40, timedelta(hours=30), Share(0, 40)),
        months=tuple(date(2026 + n // 12, n % 12 + 1, 1) for n in range(0, 2 * months, 2)),
        mentored=Cohort(30, Median(18, timedelta(days=12)), Share(6, 9)),
        unmentored=Cohort(4, Median(2, None), Share(1, 3)),
        mentors=tuple(
            MentorOutcome(
                user_id=FIRST_MENTOR + n,
                status="paused" if n == 0 else "active",
                first_steps=steps,
                feedback=Scores(6, 4.5),
                check_ins=Share(9, 10),
                load=Load(2, 3, 0.4),
            )
            for n in range(mentors)
        ),
    )


def test_the_overall_figures_read_plainly() -> None:
    lines = outcomes_embed(outcomes(1)).description.splitlines()  # type: ignore[union-attr]
    assert lines[:12] == [
        "**Mentees**: 40, 30 measured (a verified GitHub account, no pull request before `/start`)",
        "First pull request within 30 days: 60% (12 of 20) · median time to it: 9.5 days (of 25)",
        "Feedback from mentees: 4.3/5 (12) · from mentors: — (3)",
        "Check-ins answered: 75% (45 of 60)",
        "Load: 20 of 30 places taken now · 50% over the last 90 days",
        "Without an active mentor (last 90 days): longest 30 h · mentees over 72 h: 0% (0 of 40)",
        "",
        "**Mentored or not**, newcomers who finished `/start` in Jan 2026, Mar 2026 (measured "
        "ones)",
        "Mentored: 30 · time to first merge: 12 days (of 18) · second pull request within 90 "
        "days: 67% (6 of 9)",
        "Not mentored: 4 · time to first merge: — (of 2) · second pull request within 90 days: "
        "— (1 of 3)",
        "",
        "**Mentors** (— from fewer than 5: too few to tell)",
    ]
    assert lines[12] == (
        f"- <@{FIRST_MENTOR}> (paused) · 40 mentees (30 measured) · first PR in 30 days 60% "
        "(12 of 20) · median 9.5 days (of 25) · feedback 4.5/5 (6) · check-ins 90% (9 of 10) "
        "· load 2/3 now, 40% over 90 days"
    )


def test_a_long_program_names_its_first_and_last_months() -> None:
    description = outcomes_embed(outcomes(1, months=8)).description
    assert description is not None
    assert (
        "newcomers who finished `/start` in the 8 months with a mentee from Jan 2026 to Mar "
        "2027 (measured ones)"
    ) in description


def test_many_mentors_are_cut_short_of_the_limit_and_counted() -> None:
    description = outcomes_embed(outcomes(60)).description
    assert description is not None
    assert len(description) <= DESCRIPTION_LIMIT
    lines = description.splitlines()
    shown = [line for line in lines if line.startswith("- <@")]
    left = 60 - len(shown)
    assert 10 < len(shown) < 60
    assert lines[-1] == f"… and {left} more: `/mentor stats mentor:` shows one."
