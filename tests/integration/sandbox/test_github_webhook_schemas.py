# SPDX-License-Identifier: Apache-2.0
"""Every webhook the simulator emits validates against GitHub's published JSON Schemas.

The schemas come from the npm package @octokit/webhooks-schemas, pinned in
tests/schemas/package.json; install them with ``npm ci --prefix tests/schemas``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from bot.clock import ManualClock
from bot.sandbox.github import GitHubState, WebhookEmitter
from tests.integration.sandbox.conftest_github import SECRET, populate

SCHEMA_FILE = (
    Path(__file__).parents[2]
    / "schemas"
    / "node_modules"
    / "@octokit"
    / "webhooks-schemas"
    / "schema.json"
)

# Exactly the (event, action) pairs the emitter produces: the test fails if one goes missing
# from populate() and if populate() produces one that is not listed (and so never checked
# here by name), so the list cannot fall behind the emitter.
EXPECTED = {
    ("ping", None),
    ("installation", "created"),
    ("installation_repositories", "added"),
    ("label", "created"),
    ("member", "added"),
    *(
        ("issues", action)
        for action in (
            "opened",
            "edited",
            "closed",
            "reopened",
            "labeled",
            "unlabeled",
            "assigned",
            "unassigned",
            "transferred",
        )
    ),
    ("issue_comment", "created"),
    # GitHub sends comments on pull requests as issue_comment too, with issue.pull_request set.
    ("issue_comment on a pull request", "created"),
    *(
        ("pull_request", action)
        for action in (
            "opened",
            "ready_for_review",
            "converted_to_draft",
            "review_requested",
            "synchronize",
            "closed",
            "reopened",
            "edited",
            "labeled",
            "unlabeled",
            "assigned",
            "unassigned",
        )
    ),
    ("pull_request_review", "submitted"),
    ("pull_request_review_comment", "created"),
    ("repository", "privatized"),
    ("repository", "publicized"),
    ("repository", "renamed"),
    ("repository", "transferred"),
}

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SCHEMA_FILE.is_file():
        pytest.fail(
            f"GitHub webhook schemas not found at {SCHEMA_FILE}. "
            "Install them with: npm ci --prefix tests/schemas"
        )
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


def _validator(schema: dict[str, Any], definition: str) -> Draft7Validator:
    assert definition in schema["definitions"], f"no schema for {definition}"
    return Draft7Validator(
        {"definitions": schema["definitions"], "$ref": f"#/definitions/{definition}"}
    )


def _timestamps(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every string under a key ending in ``_at``, to check GitHub's timestamp format."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _timestamps(v, k)]
    if isinstance(value, list):
        return [pair for item in value for pair in _timestamps(item, key)]
    return [(key, value)] if key.endswith("_at") and isinstance(value, str) else []


def _kind(event: str, payload: dict[str, Any]) -> str:
    if event == "issue_comment" and "pull_request" in payload["issue"]:
        return "issue_comment on a pull request"
    return event


def test_every_emitted_payload_matches_githubs_schema(schema: dict[str, Any]) -> None:
    state = GitHubState(ManualClock())
    emitter = WebhookEmitter(SECRET)
    emitter.attach(state)
    populate(state, emitter)

    seen = set()
    for delivery in emitter.pending:
        action = delivery.action
        seen.add((_kind(delivery.event, delivery.payload), action))
        definition = "ping$event" if delivery.event == "ping" else f"{delivery.event}${action}"
        errors = sorted(
            _validator(schema, definition).iter_errors(delivery.payload), key=lambda e: e.path
        )
        assert not errors, f"{definition}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
        )
        for key, value in _timestamps(delivery.payload):
            assert TIMESTAMP.match(value), f"{definition} {key}={value!r} is not ISO 8601 with Z"
    assert seen >= EXPECTED, f"not emitted: {sorted(EXPECTED - seen, key=str)}"
    assert seen <= EXPECTED, f"emitted but not in EXPECTED: {sorted(seen - EXPECTED, key=str)}"


def test_schema_check_rejects_a_broken_payload(schema: dict[str, Any]) -> None:
    """Guard against a validator that accepts anything (e.g. a wrong $ref)."""
    state = GitHubState(ManualClock())
    emitter = WebhookEmitter(SECRET)
    emitter.attach(state)
    state.create_repo("acme/widgets")
    state.open_issue("acme/widgets", "alice", "Broken")
    payload = emitter.pending[0].payload
    del payload["issue"]["user"]["login"]
    assert not _validator(schema, "issues$opened").is_valid(payload)
