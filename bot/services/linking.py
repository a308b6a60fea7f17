# SPDX-License-Identifier: Apache-2.0
"""Linking a member's GitHub account: verified through GitHub's device flow, or, where the
config allows it, by a login they type, which is marked unverified.

`/start` and `/link` both link through here. A GitHub account is linked to at most one member
(bot/services/members.py); the device flow's token is never kept, only the account's id and
login.
"""

from __future__ import annotations

import re

from bot.errors import NO_GITHUB, DomainError
from bot.feature import Context
from bot.github.api import AccountVerifier, DeviceFlowError, DeviceFlowProblem, GitHubAccount
from bot.github.api import DeviceCode as DeviceCode  # what the cogs show the member
from bot.log import get_logger
from bot.services import members
from bot.services.members import Link
from bot.text import escape

log = get_logger(__name__)

# GitHub logins: letters, digits and hyphens, not starting with one, at most 39 (older
# accounts may have double or trailing hyphens). Anything else never reaches GitHub's API,
# where a typed "../orgs/x" would have named another path.
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
DEVICE_FLOW_PROBLEMS: dict[DeviceFlowProblem, str] = {
    "expired": "That code expired before GitHub heard back. No problem: try again.",
    "denied": "It looks like the request was cancelled on GitHub. You can try again.",
    "unavailable": "GitHub isn't answering right now. Please try again in a moment.",
}


async def begin_verification(context: Context) -> DeviceCode:
    """A device code for the member to enter on GitHub."""
    verifier = _verifier(context)
    try:
        return await verifier.start()
    except DeviceFlowError as exc:
        log.warning("device flow could not start: %s", exc)
        raise DomainError(DEVICE_FLOW_PROBLEMS["unavailable"]) from exc


async def finish_verification(context: Context, code: DeviceCode, *, user_id: int) -> Link:
    """Wait until the member approves ``code`` on GitHub, then link the account as verified."""
    try:
        account = await _verifier(context).wait_for_account(code)
    except DeviceFlowError as exc:
        raise DomainError(DEVICE_FLOW_PROBLEMS[exc.reason]) from exc
    return await _link(context, user_id, account, verified=True)


async def link_typed_login(context: Context, *, user_id: int, login: str) -> Link:
    """Link the account a member named, marked unverified (GitHubUnavailable passes up)."""
    if context.github is None:
        raise DomainError(NO_GITHUB)
    login = login.strip().lstrip("@")
    if not GITHUB_LOGIN.fullmatch(login):
        raise DomainError(
            "That isn't a GitHub login: they are letters, digits and hyphens (not at the "
            "start), at most 39 characters."
        )
    account = await context.github.user(login)
    if account is None:
        raise DomainError(f"There's no GitHub account called **{escape(login)}**. Typo?")
    return await _link(context, user_id, account, verified=False)


def _verifier(context: Context) -> AccountVerifier:
    if context.verifier is None:
        raise DomainError(NO_GITHUB)
    return context.verifier


async def _link(context: Context, user_id: int, account: GitHubAccount, *, verified: bool) -> Link:
    async with context.sessions.begin() as session:
        return await members.link_github(
            session,
            context.guild_id,
            user_id,
            github_user_id=account.id,
            login=account.login,
            verified=verified,
            now=context.clock.now(),
        )
