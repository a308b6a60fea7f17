# SPDX-License-Identifier: Apache-2.0
"""`/newsletter` end to end: an organiser gets the month as a Markdown file, privately; a
month that isn't one is explained; anyone else is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.sandbox.community import DemoCommunity, Sandbox
from tests.e2e.test_mentorship import run
from tests.e2e.test_onboarding import linked
from tests.e2e.test_recognition import first_merge, recognition


@pytest.fixture
def sections() -> Callable[[DemoCommunity], str]:
    """Recognition on; the clock starts on Monday 5 January 2026 at 09:00 UTC."""
    return recognition


async def test_organisers_get_the_newsletter_as_a_file(sandbox: Sandbox) -> None:
    await linked(sandbox, "ada", "ada-codes")
    await run(sandbox, "ada", "spotlight opt-in")
    await first_merge(sandbox, "ada-codes", "docs: **cache** flags")

    refused = await run(sandbox, "bruno", "newsletter", month="2026-01")
    assert (refused.ephemeral, refused.content) == (True, "This command is for organisers.")
    unreadable = await run(sandbox, "ines", "newsletter", month="jan")
    assert (unreadable.ephemeral, unreadable.content) == (
        True,
        "“jan” isn't a month: write it as YYYY-MM, like 2026-01.",
    )

    made = await run(sandbox, "ines", "newsletter", month="2026-01")
    assert made.message is not None
    assert made.ephemeral
    (attached,) = made.message.attachments
    assert attached.filename == "helios-newsletter-2026-01.md"
    text = attached.data.decode()
    assert text.startswith("# Community newsletter: January 2026, so far (to 5 January 09:")
    web = sandbox.github.web_url
    assert f"- [ada-codes]({web}/ada-codes): [helios-engine/helios#" in text
    assert text.count("docs: \\*\\*cache\\*\\* flags") == 1
