# SPDX-License-Identifier: Apache-2.0
"""Which GitHub webhook events and actions the bot uses; everything else is ignored."""

from __future__ import annotations

# None: every action of the event is used.
USED: dict[str, frozenset[str] | None] = {
    "issues": None,
    "pull_request": None,
    "pull_request_review": frozenset({"submitted", "edited", "dismissed"}),
    "issue_comment": frozenset({"created", "deleted"}),
    "pull_request_review_comment": frozenset({"created", "deleted"}),
    "label": None,
    "member": None,
    "membership": None,
    "installation": None,
    "installation_repositories": None,
    "repository": frozenset(
        {
            "renamed",
            "transferred",
            "deleted",
            "archived",
            "unarchived",
            # A repository turned private leaves Discord at once (GitHubSettings.shows).
            "privatized",
            "publicized",
        }
    ),
}


def is_used(event: str, action: str | None) -> bool:
    if event not in USED:
        return False
    actions = USED[event]
    return actions is None or action in actions
