# SPDX-License-Identifier: Apache-2.0
"""The scenario runner in-process: failures at run time, errors outside the steps, and what
the transcript records of things no scenario step makes the bot do yet."""

from __future__ import annotations

import io
import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

import bot.sandbox.discord.rest
from bot.clock import ManualClock
from bot.sandbox.community import Sandbox
from bot.sandbox.scenario import BotErrors, Runner, Scenario, Transcript, run_scenario

STATUS = '[[step]]\nas = "ines"\nrun = "helios status"\n'


def scenario(steps: str) -> Scenario:
    return Scenario.model_validate(tomllib.loads(steps))


async def play(sandbox: Sandbox, clock: ManualClock, steps: str) -> Transcript:
    with BotErrors().attached() as errors:
        return await Runner(sandbox, clock, errors).play(scenario(steps))


def interactions_expire(sandbox: Sandbox) -> None:
    """Discord forgets the next interaction: the bot cannot answer it, nor report that."""
    sandbox.driver.timeout = 0.5  # how long the person waits; the bot will never answer
    sandbox.discord.fail_next(
        "POST", "/interactions/*", 404, times=2, code=10062, message="Unknown interaction"
    )


async def test_a_step_the_bot_does_not_answer_fails_naming_it(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    interactions_expire(sandbox)
    transcript = await play(sandbox, clock, STATUS + '[[step]]\nadvance = "1d"\n')
    assert transcript.failures[0] == (
        "step 1 (ines runs /helios status in #general): no answer from the bot: "
        "timed out after 0.5s waiting for the bot to answer /helios"
    )
    # The bot's own report of the failure is an error too.
    assert any(f.startswith("step 1: the bot logged an error: ") for f in transcript.failures)
    failed = next(e for e in transcript.entries if e.kind == "failed")
    assert failed.step == 1
    assert failed.text.endswith("(the scenario stops here: 1 step(s) not played)")
    assert not [e for e in transcript.entries if e.step == 2]


async def test_a_discord_route_the_simulator_lacks_fails_the_run(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    guild = sandbox.running_bot.guilds[0]
    route = discord.http.Route("GET", "/guilds/{guild_id}/welcome-screen", guild_id=guild.id)
    with pytest.raises(discord.NotFound):
        await sandbox.running_bot.http.request(route)
    transcript = await play(sandbox, clock, '[[step]]\nsay = "hello"\n')
    assert transcript.failures == [
        "start-up: the bot called a Discord route the simulator lacks: "
        f"GET /guilds/{guild.id}/welcome-screen"
    ]


async def test_an_answer_that_breaks_discords_api_description_fails_the_run(
    sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bot.sandbox.discord.rest.message_payload

    def numeric_id(state: Any, message: Any, **options: Any) -> dict[str, Any]:
        return {**real(state, message, **options), "id": message.id}  # not a string

    monkeypatch.setattr(bot.sandbox.discord.rest, "message_payload", numeric_id)
    transcript = await play(sandbox, clock, STATUS)
    route = "POST /interactions/{interaction_id}/{interaction_token}/callback"
    (interaction,) = sandbox.discord.state.interactions.values()
    assert transcript.failures == [
        f"step 1: a call broke Discord's API description: discord {route}: response 200: "
        f"resource/message/id: {interaction.original_message_id} is not of type 'string'"
    ]
    # Taken here; left alone, it would fail the test too (tests/api_checks.py).
    assert len(sandbox.discord.api.take_violations()) == 1


async def test_an_error_after_the_last_step_fails_the_run(tmp_path: Path) -> None:
    async def after_the_last_step(sandbox: Sandbox, transcript: Transcript) -> None:
        assert sandbox.community is not None
        ines, general = sandbox.community.members["ines"], sandbox.community.channels["general"]
        interactions_expire(sandbox)
        with pytest.raises(TimeoutError):
            await sandbox.driver.run_command(ines, general, "helios status")

    transcript = await run_scenario(
        scenario('[[step]]\nsay = "hello"\n'), tmp_path, while_running=after_the_last_step
    )
    assert transcript.failures
    assert all(f.startswith("shutdown: the bot logged an error: ") for f in transcript.failures)
    assert "bot.app: command /helios status failed for user" in transcript.failures[0]


async def test_the_transcript_records_threads_files_and_deletions(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    assert sandbox.community is not None
    ada = sandbox.community.members["ada"]
    dev = sandbox.running_bot.get_channel(sandbox.community.channels["dev"].id)
    assert isinstance(dev, discord.TextChannel)
    with BotErrors().attached() as errors:
        runner = Runner(sandbox, clock, errors)
        runner.observe(0)  # the start-up's announcements
        start = len(runner.transcript.entries)

        # The bot's real discord.py client does what no cog does yet.
        private = await dev.create_thread(
            name="Mentoring ada", type=discord.ChannelType.private_thread
        )
        await private.add_user(discord.Object(ada.id))
        plan = discord.File(io.BytesIO(b"week 1: read the code\n"), filename="plan.md")
        await private.send("Your plan", file=plan)
        notice = await dev.send("Office hours at 5")
        await notice.create_thread(name="Office hours")
        runner.observe(1)
        await notice.delete()
        runner.observe(2)

    entries = [(e.step, e.kind, e.where, e.text) for e in runner.transcript.entries[start:]]
    assert entries == [
        (1, "message", "#dev thread 'Mentoring ada'", "Your plan files: plan.md"),
        (1, "message", "#dev", "Office hours at 5"),
        (1, "thread", "#dev", "private thread 'Mentoring ada' created"),
        (1, "thread", "#dev", "ada added to 'Mentoring ada'"),
        (1, "thread", "#dev", "public thread 'Office hours' created"),
        (2, "deleted", "#dev", "Office hours at 5"),
    ]
    assert errors.records == []


async def test_the_transcript_shows_embeds_whole_and_mentions_by_name(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    assert sandbox.community is not None
    people, places = sandbox.community.members, sandbox.community.channels
    ada, kofi, lena = people["ada"], people["kofi"], people["lena"]
    lena.nick = "Lena M."  # a member's server nickname is the name Discord shows
    mentor, help_channel = sandbox.community.roles["Mentor"], places["help"]
    unknown = 1457000000000000001
    dev = sandbox.running_bot.get_channel(places["dev"].id)
    assert isinstance(dev, discord.TextChannel)
    soon = int((clock.now() + timedelta(days=2, hours=3)).timestamp())
    march = int(datetime(2026, 3, 2, 14, 30, tzinfo=UTC).timestamp())
    embed = discord.Embed(
        title=f"Spotlight on <@{ada.id}>",  # Discord shows a title's tags as written
        description=f"Three merges this week.\n\\#1 in <#{help_channel.id}>, see <#{unknown}>",
    )
    for name, value in [("Merged", "3"), ("Reviewed", "2"), ("Opened", "1"), ("Commented", "4")]:
        embed.add_field(name=name, value=value)  # inline: three share a line, as in Discord
    embed.add_field(
        name="Thanks to", value=f"<@{kofi.id}> and the <@&{mentor.id}>s\n<@{unknown}>", inline=False
    )
    embed.add_field(name="Next call", value=f"<t:{soon}:R>", inline=True)
    embed.set_footer(text=f"Picked by <@{lena.id}>")
    embed.timestamp = clock.now()
    with BotErrors().attached() as errors:
        runner = Runner(sandbox, clock, errors)
        runner.observe(0)  # the start-up's announcements
        start = len(runner.transcript.entries)
        await dev.send(
            f"<@{lena.id}> <@!{ada.id}>: <@&{mentor.id}> <@&{unknown}>, on <t:{march}:D> "
            f"at <t:{march}:t>; <t:{march}>",
            embed=embed,
        )
        runner.observe(1)

    (entry,) = runner.transcript.entries[start:]
    assert entry.render().split("\n") == [
        "Mon 05 Jan 09:00 [ 1] message     #dev: @Lena M. @ada: @Mentor @unknown-role, on "
        "02 Mar 2026 at 14:30 UTC; Mon 02 Mar 2026 14:30 UTC [Spotlight on <@"
        f"{ada.id}>]",
        "                      │ Three merges this week.",
        "                      │ \\#1 in #help, see #unknown-channel",
        "                      │ Merged: 3 · Reviewed: 2 · Opened: 1",
        "                      │ Commented: 4",
        "                      │ Thanks to: @kofi and the @Mentors",
        "                      │   @unknown-user",
        "                      │ Next call: in 2 days",
        f"                      │ — Picked by <@{lena.id}> · Mon 05 Jan 2026 09:00 UTC",
    ]
    # JSON lines keep what the bot sent, for machines, beside how it reads.
    assert entry.text.startswith(f"<@{lena.id}> <@!{ada.id}>: <@&{mentor.id}>")
    assert entry.text.endswith(
        "Three merges this week. / \\#1 in " + f"<#{help_channel.id}>, see <#{unknown}>"
    )
    line = json.loads(runner.transcript.jsonl().splitlines()[start])
    assert line["text"] == entry.text
    assert line["rendered"].split("\n")[2] == "\\#1 in #help, see #unknown-channel"
    assert errors.records == []


async def test_an_expectation_matches_an_embeds_fields(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    transcript = await play(
        sandbox,
        clock,
        STATUS.replace("\n", '\nexpect = "Features off: none"\n', 1)
        + STATUS.replace("\n", '\nexpect = "Features off: all"\n', 1),
    )
    assert transcript.failures == ["step 2: 'Features off: all' not seen"]
