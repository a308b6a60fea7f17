# SPDX-License-Identifier: Apache-2.0
"""bot.text: GitHub text shown in Discord as written, whatever it holds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import ZERO_WIDTH_SPACE, code, escape, link, web_url

ZWSP = ZERO_WIDTH_SPACE
MARKDOWN = set("\\*_~`|[]")

# Text built from the pieces that mean something to Discord, and anything else.
PIECES = st.sampled_from(
    [
        "[", "]", "(", ")", "\\", "*", "**", "_", "~~", "`", "```", "||", "#", "-#", "> ", ">>> ",
        "- ", "+ ", "1. ", "\n", "\r", "\u2028", " ", "@", "<", ">", "@everyone", "@here",
        "<@123>", "<@!123>", "<@&456>", "<#789>", "</start:1>", "<t:0>", "<:e:1>",
        "https://evil.example", "x",
    ]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=30).map("".join)


def shown(escaped: str) -> str:
    """What Discord displays: an escaped character as itself, the zero-width spaces unseen."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", escaped).replace(ZWSP, "")


def live_markup(escaped: str) -> list[str]:
    """The markdown and mentions Discord would act on in ``escaped``."""
    found = []
    position = 0
    while position < len(escaped):
        char = escaped[position]
        if char == "\\":  # escapes the next character
            position += 2
            continue
        if char in MARKDOWN:
            found.append(char)
        if char == "<" and escaped[position + 1 : position + 2] != ZWSP:
            found.append("<tag")
        if char == "@" and escaped.startswith(("everyone", "here"), position + 1):
            found.append("@everyone/@here")
        position += 1
    for line in escaped.splitlines():
        if re.match(r"\s*([#>+-]|\d+\.\s)", line):
            found.append(f"line start {line!r}")
    return found


@given(TEXT)
def test_escaped_text_has_no_markdown_or_mention_and_shows_as_written(text: str) -> None:
    escaped = escape(text)
    assert live_markup(escaped) == []
    assert shown(escaped) == text.replace(ZWSP, "")


@given(TEXT)
def test_a_link_keeps_its_target_and_shows_its_text(text: str) -> None:
    url = "https://github.com/helios-engine/helios/issues/7"
    made = link(text, url)
    inside = made.removeprefix("[").removesuffix(f"]({url})")
    assert made == f"[{inside}]({url})"
    assert live_markup(inside) == []
    assert shown(inside) == text.replace(ZWSP, "")


@given(TEXT)
def test_code_shows_as_written(text: str) -> None:
    made = code(text)
    if made.startswith("`"):
        assert "`" not in made[1:-1]
        assert "<" not in made.replace("<" + ZWSP, "")
        assert made[1:-1].replace(ZWSP, "") == text.replace(ZWSP, "")
    else:
        assert made == escape(text)


def test_a_masked_link_in_a_title_is_shown_literally() -> None:
    title = "[Verify your account](https://evil.example) @everyone"
    assert escape(title) == rf"\[Verify your account\](https://evil.example) @{ZWSP}everyone"


def test_ordinary_text_is_unchanged() -> None:
    for text in ("helios-engine/helios-sdk-python", "docs: document the cache eviction flags"):
        assert escape(text) == text
    assert code("good first issue") == "`good first issue`"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://evil.example/a)[x](https://b",
        "https://evil.example/a b",
        "ftp://example.com/x",
        "https:///no-host",
        "<https://evil.example>",
    ],
)
def test_only_plain_web_addresses_become_link_targets(url: str) -> None:
    assert web_url(url) is None
    assert link("helios#1", url) == "helios#1"


def test_web_addresses_are_kept() -> None:
    for url in ("https://github.com/o/r/issues/1", "http://127.0.0.1:8080/o/r/pull/2"):
        assert web_url(url) == url
