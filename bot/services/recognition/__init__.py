# SPDX-License-Identifier: Apache-2.0
"""Recognition: kudos between members, consent to being featured, the weekly spotlight and
the monthly Community Champions.

The feature's modules: ``kudos`` (`/kudos`), ``consent`` (the question, its answers,
`/spotlight opt-out` and `opt-in`), ``spotlight`` (the week's candidates, their order and
the post), ``champions`` (the month's, with mentoring, and the champion role) and
``feature`` (the declaration and its job). docs/recognition.md explains the rules; the
newsletter builds on the same tables.
"""

from __future__ import annotations

from bot.config import RecognitionSettings, Settings
from bot.errors import DomainError

NAME = "recognition"


def section(settings: Settings) -> RecognitionSettings:
    if settings.recognition is None:
        raise DomainError("Recognition is turned off here.")
    return settings.recognition
