# SPDX-License-Identifier: Apache-2.0
"""Text from GitHub shown in Discord as it was written: no markdown, no mentions.

Issue titles, labels, logins and repository names are written by anyone who can open an
issue. Put into a message as they are, `[Verify your account](https://evil.example)` becomes
a link that hides where it goes, and `@everyone` or `<@123>` a mention. Services build
messages without discord.py, so the escaping lives here, for services and cogs alike.

A plain web address is the exception: Discord makes it a link that shows where it goes, and
keeps its characters as they are, a backslash included (which browsers read as "/"), so an
escaped `https://example.com/a\\_b` would lead elsewhere. Its markdown characters that are
legal in an address (``_``, ``*``, ``~``) are left alone: inside a link they are no markdown.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

# Between "<" or "@" and what follows, it breaks the tag and shows nothing.
ZERO_WIDTH_SPACE = "\u200b"

# Markdown that works anywhere in a line: emphasis, strikethrough, code, spoilers, masked
# links (the brackets); and the backslash, so that one in the text escapes nothing.
_INLINE = re.compile(r"[\\*_~`|\[\]]")
# Markdown that works at the start of a line only, after any indent: headings and subtext
# (#, -#), quotes, lists ("-", "+", "1."). A line starts after any line break Python knows
# (str.splitlines).
_BREAKS = r"\n\r\v\f\x1c-\x1e\x85\u2028\u2029"
_LINE_START = re.compile(rf"(?:^|(?<=[{_BREAKS}]))([^\S{_BREAKS}]*)(?:([#>+-])|(\d+)\.(?=\s))")
# Mentions and the other tags (<@id>, <@&id>, <#id>, </command:id>, <t:time>, <:emoji:id>),
# and @everyone and @here.
_MENTION = re.compile(r"<|@(?=everyone|here)")
# A plain web address as Discord links it: http(s):// after the start, a space or "(", up to
# a space or "<", not ending on punctuation. It stops here too at the markdown that is not
# legal in an address (\ ` | [ ]): that is escaped, and a masked link stays text.
_WEB_ADDRESS = re.compile(r"(?<![^\s(])https?://[^\s<>\\`|\[\]]+[^\s<>\\`|\[\].,:;\"')]")
# What may not appear in a link target: it would end the link early or be shown instead.
_NOT_IN_LINK = re.compile(r"[\s()<>\[\]\"'`\\]")


def escape(text: str, *, links: bool = True) -> str:
    """``text`` shown literally in a Discord message or embed, its plain web addresses
    still working links; ``links=False`` where Discord makes none (an embed's title, a
    masked link's text), so that they are escaped like the rest."""
    pieces, start = [], 0
    for address in _WEB_ADDRESS.finditer(text) if links else ():
        pieces += [_INLINE.sub(r"\\\g<0>", text[start : address.start()]), address[0]]
        start = address.end()
    pieces.append(_INLINE.sub(r"\\\g<0>", text[start:]))
    text = _LINE_START.sub(_escape_line_start, "".join(pieces))
    return _no_mentions(text)


def code(text: str) -> str:
    """``text`` as inline code (a label, say), still shown literally."""
    if "`" in text:  # a backtick would end the code early: plain escaped text instead
        return escape(text)
    return f"`{_no_mentions(text)}`"


def web_url(url: str) -> str | None:
    """``url`` if it is a plain http(s) address that is safe as a link target, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or _NOT_IN_LINK.search(url):
        return None
    return url


def link(text: str, url: str) -> str:
    """A link the bot makes to GitHub: ``text`` escaped; the text alone if ``url`` is not a
    plain web address."""
    target = web_url(url)
    return escape(text) if target is None else f"[{escape(text, links=False)}]({target})"


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker, number = match.groups()
    return f"{indent}\\{marker}" if marker else f"{indent}{number}\\."


def _no_mentions(text: str) -> str:
    return _MENTION.sub(lambda found: found[0] + ZERO_WIDTH_SPACE, text)


def timestamp(moment: datetime, style: str) -> str:
    """A Discord timestamp: ``moment`` shown in each reader's own time zone and language
    ("D": a date, "R": relative, like "3 days ago")."""
    return f"<t:{int(moment.timestamp())}:{style}>"
