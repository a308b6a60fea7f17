# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the GitHub simulator tests (imported explicitly, not a conftest)."""

from __future__ import annotations

from bot.sandbox.github import GitHubState, WebhookEmitter

SECRET = "test-webhook-secret"
TOKEN = "ghp_sandbox_bot_token"


def populate(state: GitHubState, emitter: WebhookEmitter) -> None:
    """Drive the state through every change that produces a webhook kind we support."""
    emitter.ping(state)
    state.add_org("acme", members=["maintainer"])
    state.create_repo("acme/widgets", description="Widgets")
    state.create_repo("acme/gadgets")
    state.create_repo("alice/dotfiles")  # a personal repository: no "organization" key
    installation = state.install_app("acme", ["acme/widgets"], actor="maintainer")
    state.add_installation_repos(installation.id, ["acme/gadgets"], actor="maintainer")
    state.create_label("acme/widgets", "needs triage", color="fbca04", actor="maintainer")
    state.add_collaborator("acme/widgets", "carol", actor="maintainer")

    issue = state.open_issue(
        "acme/widgets", "alice", "Crash on start", "Steps...", labels=["bug"], assignees=["alice"]
    )
    state.edit_issue("acme/widgets", issue.number, actor="alice", title="Crash on startup")
    state.unassign("acme/widgets", issue.number, ["alice"], actor="maintainer")
    state.remove_label("acme/widgets", issue.number, "bug", actor="maintainer")
    state.comment("acme/widgets", issue.number, "carol", "Can reproduce.")
    state.close_issue("acme/widgets", issue.number, actor="maintainer")
    state.reopen_issue("acme/widgets", issue.number, actor="alice")
    state.transfer_issue("acme/widgets", issue.number, "acme/gadgets", actor="maintainer")
    state.open_issue("alice/dotfiles", "alice", "Personal note")

    pull = state.open_pull(
        "acme/widgets", "dave", "Fix crash", "Fixes it", draft=True, labels=["good first issue"]
    )
    state.set_draft("acme/widgets", pull.number, False, actor="dave")
    state.set_draft("acme/widgets", pull.number, True, actor="dave")
    state.set_draft("acme/widgets", pull.number, False, actor="dave")
    state.request_review("acme/widgets", pull.number, "maintainer", actor="dave")
    state.push_commits("acme/widgets", pull.number, actor="dave")
    state.submit_review("acme/widgets", pull.number, "maintainer", "CHANGES_REQUESTED", "Nit")
    state.review_comment("acme/widgets", pull.number, "maintainer", "Rename this", line=3)
    state.submit_review("acme/widgets", pull.number, "maintainer", "APPROVED", "LGTM")
    state.merge("acme/widgets", pull.number, actor="maintainer")
    abandoned = state.open_pull("acme/widgets", "erin", "Try something", labels=["docs"])
    state.assign("acme/widgets", abandoned.number, ["erin"], actor="maintainer")
    state.unassign("acme/widgets", abandoned.number, ["erin"], actor="maintainer")
    state.remove_label("acme/widgets", abandoned.number, "docs", actor="maintainer")
    state.edit_issue("acme/widgets", abandoned.number, actor="erin", title="Try something else")
    state.comment("acme/widgets", abandoned.number, "maintainer", "Is this still needed?")
    state.close_issue("acme/widgets", abandoned.number, actor="erin")
    state.reopen_issue("acme/widgets", abandoned.number, actor="erin")

    state.set_private("acme/widgets", True, actor="maintainer")
    state.set_private("acme/widgets", False, actor="maintainer")
    state.rename_repo("acme/gadgets", "gizmos", actor="maintainer")
    state.transfer_repo("alice/dotfiles", "acme", actor="alice")
