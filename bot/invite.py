# SPDX-License-Identifier: Apache-2.0
"""The link that invites the bot to the community's server with the permissions its enabled
features need (`helios-bot invite-url`); computed offline, from the config and the token."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from bot.config import Config, ConfigError, Settings
from bot.feature import Permission
from bot.services import FEATURES

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
# `bot` adds the bot user; `applications.commands` lets it register slash commands there.
SCOPES = ("bot", "applications.commands")


def required_permissions(settings: Settings) -> Permission:
    needed = Permission(0)
    for feature in FEATURES:
        if feature.is_enabled(settings):
            needed |= feature.discord_permissions(settings)
    return needed


def application_id(config: Config) -> int:
    """``discord.application_id``, else the bot's user id that DISCORD_TOKEN begins with (in
    base64): the application's id too, except for some old applications."""
    configured = config.settings.discord.application_id
    if configured is not None:
        return configured
    token = config.secrets.discord_token
    if token is None:
        raise ConfigError(
            [
                f"{config.path}: discord.application_id: required by `helios-bot invite-url` "
                "when DISCORD_TOKEN is not set (Developer Portal > General Information > "
                "Application ID)"
            ]
        )
    head = token.get_secret_value().split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit():
        raise ConfigError(
            [
                "environment: DISCORD_TOKEN: not a bot token, whose first part is the bot's id "
                f"in base64; copy it again, or set discord.application_id in {config.path}"
            ]
        )
    return int(decoded)


def invite_url(config: Config) -> str:
    """The bot's invite link, with the community's server chosen and not changeable."""
    query = {
        "client_id": application_id(config),
        "scope": " ".join(SCOPES),
        "permissions": int(required_permissions(config.settings)),
        "guild_id": config.settings.discord.guild_id,
        "disable_guild_select": "true",
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"
