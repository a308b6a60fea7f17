# SPDX-License-Identifier: Apache-2.0
"""The invite link: the permissions the enabled features declare, checked against discord.py's
own flags and link builder, and the application id, from the config or the token."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.config import Config, ConfigError, load_config
from bot.feature import Permission
from bot.invite import application_id, invite_url, required_permissions
from bot.sandbox.discord import DiscordSimulator

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
GUILD = "[discord]\nguild_id = 42\n"
NO_ROLES = GUILD + "[announcements]\ngood_first_issues_channel_id = 7\n[celebrations]\n"
POSTING = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
THREADS = discord.Permissions(
    create_private_threads=True, send_messages_in_threads=True, manage_threads=True
)
MENTORSHIP = "[mentorship]\nmentor_role_id = 5\nmentors_channel_id = 6\n"
# A token shaped like Discord's: "MTAwMDAwMDAwMDAwMDAwMDQy" is base64 for 100000000000000042.
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDQy.GabcDe.notARealSignature_butTheRightShape123"


def config(tmp_path: Path, text: str, token: str | None = TOKEN) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {"DISCORD_TOKEN": token} if token else {})


@pytest.mark.parametrize("flag", list(Permission))
def test_each_permission_has_discord_s_bit(flag: Permission) -> None:
    assert flag.name is not None
    assert flag.value == discord.Permissions(**{flag.name.lower(): True}).value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Onboarding and celebrations give roles; announcements and celebrations post;
        # mentorship opens private threads.
        (EXAMPLE.read_text(), POSTING | THREADS | discord.Permissions(manage_roles=True)),
        (NO_ROLES, POSTING),
        # Celebrations without a channel or a role send private messages only.
        (GUILD + "[celebrations]\n", discord.Permissions.none()),
        (GUILD + "[announcements]\n", discord.Permissions.none()),  # no channel to post in
        (GUILD + "[admin]\norganiser_role_id = 5\n", discord.Permissions.none()),
        # Mentorship without a thread channel introduces by message, and asks mentors for
        # help in their channel.
        (GUILD + MENTORSHIP, POSTING),
        (GUILD + MENTORSHIP + "thread_channel_id = 7\n", POSTING | THREADS),
        (GUILD, discord.Permissions.none()),
    ],
    ids=[
        "example",
        "no roles",
        "celebrations by message",
        "no channels",
        "admin",
        "mentoring by message",
        "mentoring in threads",
        "nothing",
    ],
)
def test_permissions_are_those_of_the_enabled_features(
    tmp_path: Path, text: str, expected: discord.Permissions
) -> None:
    assert required_permissions(config(tmp_path, text).settings) == expected.value


def test_the_example_s_link_is_the_one_discord_py_builds(tmp_path: Path) -> None:
    url = invite_url(config(tmp_path, EXAMPLE.read_text()))
    assert url == discord.utils.oauth_url(
        100000000000000042,
        permissions=POSTING | THREADS | discord.Permissions(manage_roles=True),
        guild=discord.Object(100000000000000001),
        disable_guild_select=True,
    )
    assert url == (
        "https://discord.com/oauth2/authorize?client_id=100000000000000042"
        "&scope=bot+applications.commands&permissions=361045707776"
        "&guild_id=100000000000000001&disable_guild_select=true"
    )


def test_the_configured_application_id_wins_over_the_token(tmp_path: Path) -> None:
    loaded = config(tmp_path, GUILD.replace("\n", "\napplication_id = 77\n", 1))
    assert application_id(loaded) == 77


def test_the_token_s_first_part_is_the_bot_s_id(tmp_path: Path) -> None:
    simulator = DiscordSimulator()  # its tokens are shaped like Discord's
    loaded = config(tmp_path, GUILD, simulator.token)
    assert application_id(loaded) == simulator.application_id


@pytest.mark.parametrize("token", ["not-a-token", "bm90IGFuIGlk.xx.yy", "!!!.xx.yy"])
def test_a_token_without_an_id_is_refused_without_showing_it(tmp_path: Path, token: str) -> None:
    with pytest.raises(ConfigError) as raised:
        application_id(config(tmp_path, GUILD, token))
    assert raised.value.problems == [
        "environment: DISCORD_TOKEN: not a bot token, whose first part is the bot's id in "
        f"base64; copy it again, or set discord.application_id in {tmp_path / 'config.toml'}"
    ]


def test_without_id_or_token_the_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        application_id(config(tmp_path, GUILD, token=None))
    assert raised.value.problems == [
        f"{tmp_path / 'config.toml'}: discord.application_id: required by `helios-bot "
        "invite-url` when DISCORD_TOKEN is not set (Developer Portal > General Information > "
        "Application ID)"
    ]
