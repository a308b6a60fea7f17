# SPDX-License-Identifier: Apache-2.0
"""The feature declarations (bot/services/__init__.py) fit the machinery that runs them."""

from __future__ import annotations

from typing import get_args

from bot.config import Settings
from bot.github.events import USED, is_used
from bot.outbox import TargetKind
from bot.services import FEATURES


def test_each_feature_is_named_after_its_config_section_once() -> None:
    names = [feature.name for feature in FEATURES]
    assert len(names) == len(set(names))
    assert set(names) <= Settings.model_fields.keys()


def test_every_webhook_a_feature_wants_is_accepted_by_the_endpoint() -> None:
    """The endpoint answers 202 and stores nothing for events it does not use."""
    wanted = {
        (event, action)
        for feature in FEATURES
        for webhook in feature.webhooks
        for event, actions in webhook.events.items()
        for action in actions or [None]
    }
    assert wanted  # the declarations are read
    assert sorted(pair for pair in wanted if not is_used(*pair) or pair[0] not in USED) == []


def test_job_names_are_unique_and_promised_kinds_exist() -> None:
    jobs = [job.name for feature in FEATURES for job in feature.jobs]
    assert len(jobs) == len(set(jobs))
    kinds = {kind for feature in FEATURES for kind in feature.promises}
    assert kinds
    assert kinds <= set(get_args(TargetKind))
