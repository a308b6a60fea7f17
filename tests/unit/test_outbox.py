# SPDX-License-Identifier: Apache-2.0
"""Which feature each promise belongs to, so that a turned-off feature's are not sent."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings
from bot.outbox import PROMISE_FEATURES, promise_feature

ROOT = Path(__file__).parents[2]


def promised_key_prefixes() -> set[str]:
    """The first part of every outbox key written in the services and cogs."""
    prefixes = set()
    for path in [*(ROOT / "bot" / "services").glob("*.py"), *(ROOT / "cogs").rglob("*.py")]:
        prefixes |= set(re.findall(r'\bkey=f?"([\w-]+):', path.read_text(encoding="utf-8")))
    return prefixes


def test_every_promise_a_service_makes_has_a_feature() -> None:
    prefixes = promised_key_prefixes()
    assert {"issue-announced", "first-merge", "claim-released"} <= prefixes  # the scan works
    assert sorted(prefixes - PROMISE_FEATURES.keys()) == []


def test_promise_features_are_config_sections() -> None:
    assert set(PROMISE_FEATURES.values()) <= Settings.model_fields.keys()


def test_a_key_maps_by_its_first_part() -> None:
    assert promise_feature("issue-announced:1:2:3") == "announcements"
    assert promise_feature("first-merge-comment:1:2") == "onboarding"
    assert promise_feature("first-merge:1:2") == "onboarding"
    assert promise_feature("welcome:ada") is None
    assert promise_feature("issue-announced") == "announcements"
