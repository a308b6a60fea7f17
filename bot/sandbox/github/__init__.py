# SPDX-License-Identifier: Apache-2.0
"""A GitHub simulator on loopback: REST API for PyGithub, OAuth device flow, signed webhooks.

Typical use::

    sim = GitHubSimulator(ManualClock(), webhook_url="http://127.0.0.1:8080/github/webhook")
    await sim.start()
    sim.add_token("ghp_test", "helios-bot")
    gh = github.Github(base_url=sim.api_url, auth=github.Auth.Token("ghp_test"), per_page=100)
    sim.state.create_repo("acme/widgets")
    sim.state.open_issue("acme/widgets", "alice", "Crash on start")  # queues an issues webhook
    await sim.emitter.flush()
"""

from bot.sandbox.github.device import DeviceFlow, DeviceGrant
from bot.sandbox.github.server import GitHubRequest, GitHubSimulator, RequestCounter
from bot.sandbox.github.state import (
    GitHubState,
    Installation,
    Issue,
    Label,
    NotFoundError,
    Repository,
    User,
    ValidationError,
)
from bot.sandbox.github.webhooks import Delivery, WebhookEmitter, sign

__all__ = [
    "Delivery",
    "DeviceFlow",
    "DeviceGrant",
    "GitHubRequest",
    "GitHubSimulator",
    "GitHubState",
    "Installation",
    "Issue",
    "Label",
    "NotFoundError",
    "Repository",
    "RequestCounter",
    "User",
    "ValidationError",
    "WebhookEmitter",
    "sign",
]
