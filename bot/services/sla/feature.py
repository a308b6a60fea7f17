# SPDX-License-Identifier: Apache-2.0
"""The service-level feature's declaration (bot/feature.py).

So far it measures (bot/services/sla/scan.py) and says nothing: the warnings, pings and the
digest that will read the measures come with their jobs.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.services import sla

FEATURE = Feature(sla.NAME)
