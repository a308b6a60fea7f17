# SPDX-License-Identifier: Apache-2.0
"""Domain services: a module (or a package) per feature; no discord or aiohttp imports.

``FEATURES`` is the one list of features (bot/feature.py): adding a feature means writing
its own modules and adding its declaration here. Their webhook handlers run in this order.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.services import (
    admin,
    announcements,
    celebrations,
    onboarding,
    retention,
)
from bot.services.mentorship.feature import FEATURE as MENTORSHIP
from bot.services.recognition.feature import FEATURE as RECOGNITION
from bot.services.sla.feature import FEATURE as SLA

FEATURES: tuple[Feature, ...] = (
    admin.FEATURE,
    celebrations.FEATURE,
    onboarding.FEATURE,
    announcements.FEATURE,
    MENTORSHIP,
    SLA,
    RECOGNITION,
    retention.FEATURE,
)
