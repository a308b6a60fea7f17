# SPDX-License-Identifier: Apache-2.0
"""The newcomer path: `/start` (start.py), `/link` (link.py), claims (claims.py) and
`/issues` (browse.py).

One extension: its cogs and persistent items are registered together, and only when the
``[onboarding]`` section is configured (it holds the GitHub link's settings).
"""

from __future__ import annotations

from bot.app import HeliosBot
from cogs.onboarding.browse import Issues, PageButton
from cogs.onboarding.claims import ClaimButton, ClaimReminderButton, Claims
from cogs.onboarding.link import DeviceFlows, GitHubLink, GitHubView
from cogs.onboarding.start import CodeOfConductView, FinishView, InterestsView, Onboarding


async def setup(bot: HeliosBot) -> None:
    settings = bot.config.settings.onboarding
    if settings is None:
        return
    flows = DeviceFlows(bot)  # one device flow per member, from /start or /link
    cog = Onboarding(bot, settings, flows)
    link = GitHubLink(bot, settings, flows, on_linked=cog.forget)
    for view in (
        CodeOfConductView(cog),
        InterestsView(cog),
        GitHubView(cog),
        FinishView(cog),
        GitHubView(link),
    ):
        bot.add_view(view)
    bot.add_dynamic_items(ClaimButton, ClaimReminderButton, PageButton)
    await bot.add_cog(cog)
    await bot.add_cog(link)
    await bot.add_cog(Claims(bot, settings))
    await bot.add_cog(Issues(bot, settings))
