# SPDX-License-Identifier: Apache-2.0
"""What services need from GitHub, as Protocols over plain values.

Services depend on these, never on PyGithub or aiohttp: ``GitHubClient`` (bot/github/client.py)
and ``DeviceFlow`` (bot/github/device_flow.py) implement them, and service tests pass a
recording fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


class GitHubUnavailable(Exception):
    """GitHub cannot be reached or refused the request; the message says why."""


@dataclass(frozen=True)
class GitHubAccount:
    id: int
    login: str
    is_bot: bool = False


class GitHub(Protocol):
    """The writes and look-ups features make; each raises GitHubUnavailable on failure."""

    async def user(self, login: str) -> GitHubAccount | None: ...

    async def assign(self, full_name: str, number: int, login: str) -> None: ...

    async def unassign(self, full_name: str, number: int, login: str) -> None: ...

    async def comment_once(
        self, full_name: str, number: int, body: str, *, marker: str
    ) -> None: ...


DeviceFlowProblem = Literal["expired", "denied", "unavailable"]


class DeviceFlowError(Exception):
    """The link did not happen; ``reason`` says why."""

    def __init__(self, reason: DeviceFlowProblem, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    expires_at: datetime
    interval: int


class AccountVerifier(Protocol):
    """GitHub's device flow: proof that a member controls a GitHub account."""

    async def start(self) -> DeviceCode: ...

    async def wait_for_account(self, code: DeviceCode) -> GitHubAccount: ...
