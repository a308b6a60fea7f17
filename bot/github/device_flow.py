# SPDX-License-Identifier: Apache-2.0
"""GitHub's OAuth device flow: proof that a Discord member controls a GitHub account.

The bot asks GitHub for a code, the member enters it at github.com/login/device, and the bot
polls until GitHub hands over a token. The token is used once, to ask GitHub who authorised
it, and then dropped: the bot keeps only the account's id and login, never the token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.github.api import DeviceCode, DeviceFlowError, GitHubAccount
from bot.log import get_logger

log = get_logger(__name__)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = aiohttp.ClientTimeout(total=15)


class DeviceFlow:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        clock: Clock,
        *,
        client_id: str,
        web_url: str,
        api_url: str,
    ) -> None:
        self._http = http
        self._clock = clock
        self._client_id = client_id
        self._web_url = web_url.rstrip("/")
        self._api_url = api_url.rstrip("/")

    async def start(self) -> DeviceCode:
        answer = await self._post("/login/device/code", {"client_id": self._client_id})
        if "device_code" not in answer:
            raise DeviceFlowError("unavailable", f"GitHub refused a device code: {answer}")
        return DeviceCode(
            device_code=answer["device_code"],
            user_code=answer["user_code"],
            verification_uri=answer["verification_uri"],
            expires_at=self._clock.now() + timedelta(seconds=int(answer["expires_in"])),
            interval=int(answer.get("interval", 5)),
        )

    async def wait_for_account(self, code: DeviceCode) -> GitHubAccount:
        """Poll as GitHub asks until the member approves, denies, or the code expires."""
        interval = code.interval
        while True:
            await self._clock.sleep(interval)
            if self._clock.now() >= code.expires_at:
                raise DeviceFlowError("expired", "the code expired before it was entered")
            answer = await self._post(
                "/login/oauth/access_token",
                {
                    "client_id": self._client_id,
                    "device_code": code.device_code,
                    "grant_type": GRANT_TYPE,
                },
            )
            error = answer.get("error")
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval = int(answer.get("interval", interval + 5))
                continue
            if error == "expired_token":
                raise DeviceFlowError("expired", "the code expired before it was entered")
            if error == "access_denied":
                raise DeviceFlowError("denied", "the member cancelled on GitHub")
            if error or "access_token" not in answer:
                raise DeviceFlowError("unavailable", f"GitHub answered {error or answer}")
            return await self._whoami(answer["access_token"])

    async def _whoami(self, token: str) -> GitHubAccount:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        try:
            async with self._http.get(
                f"{self._api_url}/user", headers=headers, timeout=TIMEOUT
            ) as response:
                if response.status != 200:
                    raise DeviceFlowError("unavailable", f"GitHub /user answered {response.status}")
                user = await response.json()
        except aiohttp.ClientError as exc:
            raise DeviceFlowError("unavailable", f"GitHub is unreachable: {exc}") from exc
        return GitHubAccount(id=int(user["id"]), login=str(user["login"]))

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._http.post(
                self._web_url + path,
                data=form,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
            ) as response:
                if response.status != 200:
                    raise DeviceFlowError(
                        "unavailable", f"GitHub {path} answered {response.status}"
                    )
                answer: dict[str, Any] = await response.json()
                return answer
        except aiohttp.ClientError as exc:
            raise DeviceFlowError("unavailable", f"GitHub is unreachable: {exc}") from exc
