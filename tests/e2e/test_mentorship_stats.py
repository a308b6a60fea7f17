# SPDX-License-Identifier: Apache-2.0
"""`/mentor stats` end to end: an organiser sees the program's outcomes, overall and per
mentor, privately; anyone else is refused."""

from __future__ import annotations

from bot.sandbox.community import Sandbox
from tests.e2e.test_claims import days_pass
from tests.e2e.test_mentorship import mention, mentor_joins, newcomer_finishes, run
from tests.e2e.test_onboarding import member

REPO = "helios-engine/helios"


async def test_organisers_see_the_outcomes_and_nobody_else_does(sandbox: Sandbox) -> None:
    await mentor_joins(sandbox, "kofi")
    await newcomer_finishes(sandbox, "ada", "ada-codes")
    await days_pass(sandbox, 1)
    sandbox.github.state.open_pull(REPO, "ada-codes", "docs: eviction flags")
    await sandbox.github.emitter.flush()
    await sandbox.settle()

    refused = await run(sandbox, "kofi", "mentor stats")
    assert refused.ephemeral
    assert refused.content == "This command is for organisers."
    assert refused.embeds == []

    shown = await run(sandbox, "ines", "mentor stats")
    assert shown.ephemeral
    (embed,) = shown.embeds
    assert embed["title"] == "Mentor program outcomes"
    # Ada's pull request came a day after `/start`: one time, too few for a median; her 30
    # days are not over. Kofi has had her for a day of his two places' day: 50 %.
    kofi = mention(sandbox, "kofi")
    line = (
        f"- {kofi} · 1 mentee (1 measured) · first PR in 30 days — (0 of 0) · median — (of 1) "
        "· feedback — (0) · check-ins — (0 of 0) · load 1/2 now, 50% over 90 days"
    )
    assert embed["description"] == "\n".join(
        [
            "**Mentees**: 1, 1 measured (a verified GitHub account, no pull request before "
            "`/start`)",
            "First pull request within 30 days: — (0 of 0) · median time to it: — (of 1)",
            "Feedback from mentees: — (0) · from mentors: — (0)",
            "Check-ins answered: — (0 of 0)",
            "Load: 1 of 2 places taken now · 50% over the last 90 days",
            "Without an active mentor (last 90 days): longest 0 h · mentees over 72 h: — (0 of 1)",
            "",
            "**Mentored or not**, newcomers who finished `/start` in Jan 2026 (measured ones)",
            "Mentored: 1 · time to first merge: — (of 0) · second pull request within 90 days: "
            "— (0 of 0)",
            "Not mentored: 0 · time to first merge: — (of 0) · second pull request within 90 "
            "days: — (0 of 0)",
            "",
            "**Mentors** (— from fewer than 5: too few to tell)",
            line,
        ]
    )

    await mentor_joins(sandbox, "lena")
    one = await run(sandbox, "ines", "mentor stats", mentor=member(sandbox, "kofi"))
    assert one.embeds[0]["description"].endswith(f"too few to tell)\n{line}")
    nobody = await run(sandbox, "ines", "mentor stats", mentor=member(sandbox, "bruno"))
    assert nobody.ephemeral
    assert nobody.content == f"{mention(sandbox, 'bruno')} has never been a mentor here."
