# SPDX-License-Identifier: Apache-2.0
"""Domain services: one module per feature; no discord or aiohttp imports.

``FEATURES`` is the one list of features (bot/feature.py): adding a feature means writing
its own modules and adding its declaration here. Their webhook handlers run in this order.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.services import (
    admin,
    announcements,
    celebrations,
    mentorship,
    onboarding,
    retention,
)

FEATURES: tuple[Feature, ...] = (
    admin.FEATURE,
    celebrations.FEATURE,
    onboarding.FEATURE,
    announcements.FEATURE,
    mentorship.FEATURE,
    retention.FEATURE,
)
