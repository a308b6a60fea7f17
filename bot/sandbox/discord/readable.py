# SPDX-License-Identifier: Apache-2.0
"""Messages in the simulated Discord as a person reads them, for the sandbox's transcript.

Where Discord renders them (a message's content, an embed's description and field values),
mentions become names, ``<@id>`` ``@ada``, ``<@&id>`` ``@Mentor``, ``<#id>`` ``#help``, and
timestamps ``<t:...>`` readable UTC. Elsewhere (titles, field names, footers) Discord shows
the tag as written, and so does this, so a mention put there by mistake shows in review too.
Markdown is kept as the bot sent it (``**bold**``, the escape in ``\\#1``): what is reviewed
is what goes out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from bot.sandbox.discord.state import JSON, Guild, Message, SimState

# Discord shows up to three inline fields side by side.
INLINE_PER_ROW = 3
_TAG = re.compile(r"<(@!?|@&|#)(\d+)>|<t:(-?\d+)(?::([tTdDfFR]))?>")
_STYLES = {
    "t": "%H:%M UTC",
    "T": "%H:%M:%S UTC",
    "d": "%d %b %Y",
    "D": "%d %b %Y",
    "f": "%a %d %b %Y %H:%M UTC",
    "F": "%A %d %B %Y %H:%M UTC",
}
_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600))


def summary(message: Message) -> str:
    """``message`` on one line as the bot sent it: content, each embed's title and
    description, buttons, files. Mentions stay ids; edits are told apart by this."""
    parts = [message.content] if message.content else []
    for embed in message.embeds:
        parts.append(f"[{embed.get('title', 'embed')}]")
        if embed.get("description"):
            parts.append(str(embed["description"]))
    return _one_line(parts + _controls(message))


def readable(state: SimState, message: Message, now: datetime) -> list[str]:
    """``message`` as it reads at ``now``: a line with its content, embed titles, buttons and
    files, then its embeds whole (description, fields, footer), a line each."""
    guild = state.guilds.get(message.guild_id or 0)

    def tags(text: str) -> str:
        return _TAG.sub(lambda found: _tag(state, guild, found, now), text)

    parts = [tags(message.content)] if message.content else []
    parts += [f"[{embed.get('title', 'embed')}]" for embed in message.embeds]
    lines = [_one_line(parts + _controls(message))]
    for embed in message.embeds:
        if len(message.embeds) > 1:  # which embed the lines below belong to
            lines.append(f"[{embed.get('title', 'embed')}]")
        lines += _embed(embed, tags)
    return lines


def _one_line(parts: list[str]) -> str:
    return " ".join(parts).replace("\n", " / ") or "(empty)"


def _controls(message: Message) -> list[str]:
    parts = []
    labels = [c["label"] for c in message.iter_components() if c.get("label")]
    if labels:
        parts.append("buttons: " + ", ".join(labels))
    if message.attachments:
        parts.append("files: " + ", ".join(a.filename for a in message.attachments))
    return parts


def _embed(embed: JSON, tags: Callable[[str], str]) -> list[str]:
    lines = tags(str(embed["description"])).split("\n") if embed.get("description") else []
    row: list[str] = []  # inline fields waiting to share a line
    for field in embed.get("fields", []):
        text = f"{field.get('name', '')}: {tags(str(field.get('value', '')))}"
        if field.get("inline") and "\n" not in text and len(row) < INLINE_PER_ROW:
            row.append(text)
            continue
        if row:
            lines.append(" · ".join(row))
            row = []
        if field.get("inline") and "\n" not in text:
            row = [text]  # the row was full: this one starts the next
            continue
        first, *rest = text.split("\n")
        lines += [first, *(f"  {line}" for line in rest)]  # a value's own lines, indented
    if row:
        lines.append(" · ".join(row))
    footer = [str(embed["footer"]["text"])] if embed.get("footer", {}).get("text") else []
    if embed.get("timestamp"):
        footer.append(
            datetime.fromisoformat(embed["timestamp"]).astimezone(UTC).strftime(_STYLES["f"])
        )
    if footer:
        lines.append("— " + " · ".join(footer))
    return lines


def _tag(state: SimState, guild: Guild | None, found: re.Match[str], now: datetime) -> str:
    kind, snowflake, seconds, style = found.groups()
    if seconds is not None:
        return _when(datetime.fromtimestamp(int(seconds), UTC), style or "f", now)
    target = int(snowflake)
    if kind == "#":
        channel = state.channels.get(target)
        return f"#{channel.name}" if channel is not None and channel.name else "#unknown-channel"
    if kind == "@&":
        guilds = [guild] if guild is not None else list(state.guilds.values())
        names = [g.roles[target].name for g in guilds if target in g.roles]
        return f"@{names[0]}" if names else "@unknown-role"
    user = state.users.get(target)
    if user is None:
        return "@unknown-user"
    member = guild.members.get(target) if guild is not None else None
    return f"@{(member.nick if member else None) or user.global_name or user.username}"


def _when(moment: datetime, style: str, now: datetime) -> str:
    """A Discord timestamp in UTC; ``R`` (relative) as it reads at ``now``."""
    if style != "R":
        return moment.strftime(_STYLES[style])
    seconds = int((moment - now).total_seconds())
    amount, unit = abs(seconds) // 60, "minute"
    for name, length in _UNITS:
        if abs(seconds) >= length:
            amount, unit = abs(seconds) // length, name
            break
    if amount == 0:
        return "just now"
    span = f"{amount} {unit}{'s' if amount != 1 else ''}"
    return f"in {span}" if seconds > 0 else f"{span} ago"
