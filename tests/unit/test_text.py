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


# Where Discord makes a link of a plain web address (its client's rule), inside which
# emphasis and strikethrough are no markdown.
AUTOLINK = re.compile(r"(?<![0-9A-Za-z_])https?://[^\s<]+[^<.,:;\"')\]\s]")


def live_markup(escaped: str) -> list[str]:
    """The markdown and mentions Discord would act on in ``escaped``."""
    found = []
    linked = {i for link in AUTOLINK.finditer(escaped) for i in range(link.start(), link.end())}
    position = 0
    while position < len(escaped):
        char = escaped[position]
        if char == "\\":  # escapes the next character
            position += 2
            continue
        if char in MARKDOWN and not (char in "_*~" and position in linked):
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


@pytest.mark.parametrize(
    ("title", "escaped"),
    [
        ("Crash at https://example.com/a_b_c", "Crash at https://example.com/a_b_c"),
        ("(see https://ex.com/~me/*x*).", "(see https://ex.com/~me/*x*)."),
        ("_a_ https://ex.com/_b_ _c_", r"\_a\_ https://ex.com/_b_ \_c\_"),
        ("x_https://ex.com/_b_", r"x\_https://ex.com/\_b\_"),  # not a link: text before it
        ("[x](https://ex.com/_b_)", r"\[x\](https://ex.com/_b_)"),
        ("https://ex.com/a|b\\c", r"https://ex.com/a\|b\\c"),
        ("https://ex.com/@everyone <@1>", f"https://ex.com/@{ZWSP}everyone <{ZWSP}@1>"),
    ],
)
def test_a_web_address_in_a_title_stays_a_working_link(title: str, escaped: str) -> None:
    assert escape(title) == escaped
    assert live_markup(escaped) == []


def test_where_discord_makes_no_link_a_web_address_is_escaped_too() -> None:
    assert escape("https://ex.com/a_b", links=False) == r"https://ex.com/a\_b"
    assert link("https://ex.com/a_b", "https://github.com/o/r/issues/1") == (
        r"[https://ex.com/a\_b](https://github.com/o/r/issues/1)"
    )


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
