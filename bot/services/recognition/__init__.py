# SPDX-License-Identifier: Apache-2.0
"""Recognition: kudos between members, consent to being featured, the weekly spotlight, the
monthly Community Champions and the monthly newsletter.

The feature's modules: ``kudos`` (`/kudos`), ``consent`` (the question, its answers,
`/spotlight opt-out` and `opt-in`), ``spotlight`` (the week's candidates, their order and
the post), ``champions`` (the month's, with mentoring, and the champion role),
``newsletter`` (a month in Markdown, from the same tables) and ``feature`` (the declaration
and its job). docs/recognition.md explains the rules.
"""

from __future__ import annotations

from bot.config import RecognitionSettings, Settings
from bot.errors import DomainError

NAME = "recognition"


def section(settings: Settings) -> RecognitionSettings:
    if settings.recognition is None:
        raise DomainError("Recognition is turned off here.")
    return settings.recognition
