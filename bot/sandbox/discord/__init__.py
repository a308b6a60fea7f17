# SPDX-License-Identifier: Apache-2.0
"""A Discord API v10 simulator on loopback that the real discord.py client connects to.

``DiscordSimulator`` serves REST and the gateway and holds the world; ``DiscordDriver`` acts
as the people in it; ``point_discord_py_at`` redirects discord.py to the simulator.
"""

from bot.sandbox.discord.driver import DiscordDriver, InteractionResult
from bot.sandbox.discord.patch import point_discord_py_at
from bot.sandbox.discord.server import DiscordSimulator, Fault, RecordedRequest
from bot.sandbox.discord.state import (
    VIEW_CHANNEL,
    Attachment,
    Channel,
    DiscordError,
    Guild,
    Member,
    Message,
    Modal,
    Role,
    User,
)

__all__ = [
    "VIEW_CHANNEL",
    "Attachment",
    "Channel",
    "DiscordDriver",
    "DiscordError",
    "DiscordSimulator",
    "Fault",
    "Guild",
    "InteractionResult",
    "Member",
    "Message",
    "Modal",
    "RecordedRequest",
    "Role",
    "User",
    "point_discord_py_at",
]
