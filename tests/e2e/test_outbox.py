# SPDX-License-Identifier: Apache-2.0
"""The outbox delivered by the running bot through the Discord simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import select

from bot.db.models import Promise
from bot.outbox import DuePromise, TargetKind
from bot.outbox import promise as make_promise
from bot.sandbox.community import Sandbox

if TYPE_CHECKING:
    from cogs.outbox import OutboxDelivery


async def promise(sandbox: Sandbox, key: str, kind: TargetKind, target: int, text: str) -> None:
    bot = sandbox.running_bot
    async with bot.runtime.sessions.begin() as session:
        await make_promise(
            session,
            feature="test",
            guild_id=bot.guild_id,
            key=key,
            target_kind=kind,
            target_id=target,
            payload={"content": text, "embeds": [{"title": "Well done"}]},
            now=sandbox.clock.now(),
        )


async def wait_for(sandbox: Sandbox, key: str, condition: Callable[[Promise], bool]) -> Promise:
    """The outbox row once the bot has recorded an outcome that meets ``condition``."""
    for _ in range(250):
        async with sandbox.running_bot.runtime.sessions() as session:
            row = await session.scalar(select(Promise).where(Promise.key == key))
        if row is not None and condition(row):
            return row
        await asyncio.sleep(0.02)  # the outcome is a database row: there is no event to await
    raise AssertionError(f"outbox row {key} never met the condition: {row}")


async def test_promised_messages_reach_a_channel_and_a_dm(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    ada = sandbox.community.members["ada"]
    await promise(sandbox, "welcome:general", "channel", general.id, "Welcome, everyone!")
    await promise(sandbox, "welcome:ada", "dm", ada.id, "Hi Ada!")

    in_channel = await sandbox.driver.wait_for_message(lambda m: m.content == "Welcome, everyone!")
    assert in_channel.channel_id == general.id
    assert in_channel.embeds[0]["title"] == "Well done"
    dm = await sandbox.driver.wait_for_message(lambda m: m.content == "Hi Ada!")
    assert sandbox.discord.dm_messages(ada) == [dm]

    row = await wait_for(sandbox, "welcome:general", lambda r: r.status == "sent")
    assert row.discord_message_id == in_channel.id


async def test_a_resend_after_a_crash_is_dropped_by_the_nonce(sandbox: Sandbox) -> None:
    """A sender that crashed after Discord accepted the message sends it again on restart."""
    assert sandbox.community is not None
    general = sandbox.community.channels["general"]
    due = DuePromise(
        1,
        sandbox.running_bot.guild_id,
        "crash",
        "test",
        "channel",
        general.id,
        {"content": "once only"},
    )
    # discord.py loads extensions as fresh modules, so look the cog up by name, not class.
    cog = cast("OutboxDelivery", sandbox.running_bot.get_cog("OutboxDelivery"))
    first = await cog.send(due)
    again = await cog.send(due)
    assert again == first
    assert [m.content for m in sandbox.discord.messages_in(general)] == ["once only"]


async def test_missing_permission_is_permanent_and_named(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    dev, guild = sandbox.community.channels["dev"], sandbox.community.guild
    sandbox.discord.set_permissions(dev, guild.bot_role, deny=1 << 11)  # Send Messages
    await sandbox.restart_bot()  # discord.py reads the overwrites as it connects
    posts = f"/channels/{dev.id}/messages"
    before = len(sandbox.discord.requests_to("POST", posts))  # the start-up's announcements
    await promise(sandbox, "forbidden", "channel", dev.id, "not allowed")
    row = await wait_for(sandbox, "forbidden", lambda r: r.status == "failed")
    assert row.last_error == (
        f"channel {dev.id}: Missing Permissions "
        "(the bot lacks Send Messages in #dev: allow it for the bot's role in the channel's "
        "permissions)"
    )
    assert [r.status for r in sandbox.discord.requests_to("POST", posts)[before:]] == [403]
    assert "not allowed" not in [m.content for m in sandbox.discord.messages_in(dev)]


async def test_discord_outage_is_retried_after_backoff(sandbox: Sandbox) -> None:
    assert sandbox.community is not None
    help_channel = sandbox.community.channels["help"]
    # 503 reaches the outbox at once; discord.py itself retries 500/502/504 for ~25 s first.
    sandbox.discord.fail_next("POST", f"/channels/{help_channel.id}/messages", 503)
    await promise(sandbox, "outage", "channel", help_channel.id, "eventually")
    row = await wait_for(sandbox, "outage", lambda r: r.attempts == 1)
    assert row.status == "pending"
    assert row.not_before == sandbox.clock.now() + timedelta(seconds=30)

    sandbox.clock.advance(timedelta(seconds=31))
    message = await sandbox.driver.wait_for_message(lambda m: m.content == "eventually")
    assert message.channel_id == help_channel.id


async def test_a_turned_off_features_promises_are_skipped_and_reported_once(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    community = sandbox.community
    assert community is not None
    await sandbox.stop_bot()
    dev, performance = community.channels["dev"], community.channels["performance"]
    del sandbox.discord.state.channels[dev.id]  # announcements.good_first_issues_channel_id
    community.guild.channel_ids.remove(dev.id)
    shown_before = len(sandbox.discord.messages_in(performance))
    posts_to_dev = f"/channels/{dev.id}/messages"
    tried_before = len(sandbox.discord.requests_to("POST", posts_to_dev))

    with caplog.at_level(logging.INFO):
        await sandbox.start_bot()
        assert sandbox.running_bot.disabled_features == {"announcements"}
        for title in ("Speed up the cache", "Profile the loader"):
            sandbox.github.state.open_issue(
                "helios-engine/helios", "marta", title, labels=["good first issue", "performance"]
            )
        await sandbox.github.emitter.flush()
        await sandbox.settle()
        # Features that are on still deliver.
        ada = community.members["ada"]
        await promise(sandbox, "welcome:ada", "dm", ada.id, "Hi Ada!")
        await sandbox.driver.wait_for_message(lambda m: m.content == "Hi Ada!")

    async with sandbox.running_bot.runtime.sessions() as session:
        announced = list(
            await session.scalars(select(Promise).where(Promise.key.startswith("issue-announced:")))
        )
    skipped = [row for row in announced if row.status != "sent"]  # the seed's were sent
    why = f"config announcements.good_first_issues_channel_id: channel {dev.id} is not in the guild"
    # Two issues, each for #dev (missing) and #performance (present): none sent, none retried.
    assert sorted((row.target_id, row.status, row.attempts) for row in skipped) == sorted(
        [(dev.id, "skipped", 1), (performance.id, "skipped", 1)] * 2
    )
    assert {row.last_error for row in skipped} == {f"feature 'announcements' is off: {why}"}
    assert len(sandbox.discord.messages_in(performance)) == shown_before
    assert len(sandbox.discord.requests_to("POST", posts_to_dev)) == tried_before

    said = [
        r.getMessage()
        for r in caplog.records
        if r.name in ("cogs.outbox", "bot.outbox") and r.levelno >= logging.INFO
    ]
    assert said == [
        "messages of feature 'announcements' are not sent while it is off; they stay in the "
        f"outbox with status 'skipped' ({why})"
    ]
