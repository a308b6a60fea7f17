# SPDX-License-Identifier: Apache-2.0
"""GitHub's OAuth device flow (RFC 8628), used to link a Discord member to a GitHub account.

The bot asks for a code, shows the member the user code, then polls for a token. In the
simulation nobody visits github.com/login/device: a test calls :meth:`DeviceFlow.approve`
or :meth:`DeviceFlow.deny` instead. Time comes from the state's clock, so expiry and the
polling interval (``slow_down``) behave as documented.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
_DOCS = (
    "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"
)


@dataclass
class DeviceGrant:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: datetime
    interval: int
    last_poll: datetime | None = None
    approved_login: str | None = None
    denied: bool = False
    redeemed: bool = False


class DeviceFlow:
    """Device codes waiting for the user, and the tokens they turn into."""

    def __init__(
        self,
        clock: Clock,
        issue_token: Callable[[str], str],
        *,
        expires_in: int = 900,
        interval: int = 5,
    ) -> None:
        self._clock = clock
        self._issue_token = issue_token  # login -> new access token
        self.expires_in = expires_in
        self.interval = interval
        self.client_ids: set[str] = set()  # empty: any client id is accepted
        self.grants: dict[str, DeviceGrant] = {}  # by device code

    def start(self, client_id: str, scope: str, verification_uri: str) -> dict[str, Any]:
        """POST /login/device/code."""
        if self.client_ids and client_id not in self.client_ids:
            return _error("incorrect_client_credentials", "The client_id is not valid.")
        user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        grant = DeviceGrant(
            device_code=secrets.token_hex(20),
            user_code=user_code,
            client_id=client_id,
            scope=scope,
            expires_at=self._clock.now() + timedelta(seconds=self.expires_in),
            interval=self.interval,
        )
        self.grants[grant.device_code] = grant
        return {
            "device_code": grant.device_code,
            "user_code": grant.user_code,
            "verification_uri": verification_uri,
            "expires_in": self.expires_in,
            "interval": grant.interval,
        }

    def _by_user_code(self, user_code: str) -> DeviceGrant:
        for grant in self.grants.values():
            if grant.user_code == user_code:
                return grant
        raise KeyError(f"no device grant with user code {user_code}")

    def approve(self, user_code: str, login: str) -> None:
        """Act as GitHub user ``login`` entering ``user_code`` and authorising the app."""
        self._by_user_code(user_code).approved_login = login

    def deny(self, user_code: str) -> None:
        """Act as the user pressing Cancel on the authorisation page."""
        self._by_user_code(user_code).denied = True

    def poll(self, client_id: str, device_code: str, grant_type: str) -> dict[str, Any]:
        """POST /login/oauth/access_token; GitHub answers 200 with an ``error`` field."""
        if grant_type != GRANT_TYPE:
            return _error("unsupported_grant_type", "The grant type is not supported.")
        grant = self.grants.get(device_code)
        if grant is None:
            return _error("incorrect_device_code", "The device_code provided is not valid.")
        if grant.client_id != client_id:
            return _error("incorrect_client_credentials", "The client_id is not valid.")
        now = self._clock.now()
        if now >= grant.expires_at or grant.redeemed:
            return _error("expired_token", "This 'device_code' has expired.")
        if grant.denied:
            return _error("access_denied", "The authorization request was denied.")
        too_soon = grant.last_poll is not None and (
            now - grant.last_poll < timedelta(seconds=grant.interval)
        )
        grant.last_poll = now
        if too_soon:
            grant.interval += 5  # as documented: each slow_down adds five seconds
            answer = _error("slow_down", "Too many requests have been made in the same timeframe.")
            return {**answer, "interval": grant.interval}
        if grant.approved_login is None:
            return _error("authorization_pending", "The authorization request is still pending.")
        grant.redeemed = True
        return {
            "access_token": self._issue_token(grant.approved_login),
            "token_type": "bearer",
            "scope": grant.scope,
        }


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description, "error_uri": _DOCS}
