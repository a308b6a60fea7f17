# SPDX-License-Identifier: Apache-2.0
"""The Discord simulator, exercised through the real discord.py client.

A small ``commands.Bot`` with app commands, a View, a select, a modal and autocomplete connects
to the simulator over loopback; the driver plays the guild members.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import json
import threading
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest
import zstandard
from discord import app_commands
from discord.ext import commands

from bot.clock import ManualClock
from bot.sandbox.discord import (
    VIEW_CHANNEL,
    Channel,
    DiscordDriver,
    DiscordSimulator,
    Guild,
    Member,
    Role,
    point_discord_py_at,
)

LANGUAGES = ["python", "rust", "go", "typescript"]
# What the test bot's invite link asks for: what a real setup gives it, no Administrator.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    create_public_threads=True,
    create_private_threads=True,
    send_messages_in_threads=True,
    manage_threads=True,
    manage_roles=True,
).value


class StartView(discord.ui.View):
    @discord.ui.button(label="Accept", style=discord.ButtonStyle.success, custom_id="start:accept")
    async def accept(
        self, interaction: discord.Interaction, button: discord.ui.Button[StartView]
    ) -> None:
        await interaction.response.edit_message(content="Accepted!", view=None)

    @discord.ui.button(label="Later", custom_id="start:later")
    async def later(
        self, interaction: discord.Interaction, button: discord.ui.Button[StartView]
    ) -> None:
        await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE on a component
        await interaction.edit_original_response(content="Snoozed", view=None)

    @discord.ui.select(
        custom_id="start:track",
        placeholder="Pick a track",
        options=[
            discord.SelectOption(label="Backend", value="backend"),
            discord.SelectOption(label="Frontend", value="frontend"),
        ],
    )
    async def track(
        self, interaction: discord.Interaction, select: discord.ui.Select[StartView]
    ) -> None:
        await interaction.response.send_message(f"Track: {select.values[0]}", ephemeral=True)


class ProfileModal(discord.ui.Modal, title="Your profile"):
    github: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
        label="GitHub login", custom_id="github"
    )
    bio: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
        label="About you", custom_id="bio", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Saved {self.github.value} ({self.bio.value or 'no bio'})", ephemeral=True
        )


class HeliosTestBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        # A short guild_ready_timeout: the simulator sends every GUILD_CREATE right after READY.
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.joined: asyncio.Queue[discord.Member] = asyncio.Queue()
        self.left: asyncio.Queue[discord.Member] = asyncio.Queue()

    async def setup_hook(self) -> None:
        tree = self.tree

        @self.command()
        async def ping(ctx: commands.Context[HeliosTestBot]) -> None:
            await ctx.send(f"pong {ctx.author.name}")

        @tree.command(description="Start onboarding")
        async def start(interaction: discord.Interaction, topic: str, level: int) -> None:
            await interaction.response.send_message(
                f"Welcome {interaction.user.name}: {topic} (level {level})",
                ephemeral=True,
                view=StartView(),
            )

        @tree.command(description="Build a report")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="Report ready")
            await interaction.followup.send("Details: 3 issues", ephemeral=True)

        @tree.command(description="Post and tidy up")
        async def tidy(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("temporary")
            kept = await interaction.followup.send("kept", wait=True)
            await kept.edit(content="kept (edited)")
            await interaction.delete_original_response()

        @tree.command(description="Edit your profile")
        async def profile(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(ProfileModal())

        @tree.command(description="Pick a language")
        async def language(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"Language: {name}")

        @language.autocomplete("name")
        async def language_choices(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=x, value=x) for x in LANGUAGES if x.startswith(current)
            ]

        mentor = app_commands.Group(name="mentor", description="Mentoring")

        @mentor.command(description="Assign a mentor")
        async def assign(
            interaction: discord.Interaction, user: discord.Member, channel: discord.TextChannel
        ) -> None:
            assert interaction.guild is not None
            role = discord.utils.get(interaction.guild.roles, name="mentor")
            await interaction.response.send_message(
                f"{user.name} mentors in #{channel.name}; has role: {role in user.roles}"
            )

        tree.add_command(mentor)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No pause before re-identifying (discord.py waits 5 s by default)."""

    async def on_member_join(self, member: discord.Member) -> None:
        await self.joined.put(member)

    async def on_member_remove(self, member: discord.Member) -> None:
        await self.left.put(member)


@dataclass
class World:
    sim: DiscordSimulator
    driver: DiscordDriver
    bot: HeliosTestBot
    clock: ManualClock
    guild: Guild
    general: Channel
    onboarding: Channel
    mentoring: Channel  # hidden from @everyone, open to the mentor role
    contributor: Role
    mentor: Role
    alice: Member
    bob: Member


@pytest.fixture
async def world(clock: ManualClock) -> AsyncIterator[World]:
    async with DiscordSimulator(clock) as sim:
        guild = sim.add_guild("Helios", bot_permissions=BOT_PERMISSIONS)
        general = sim.add_channel(guild, "general")
        onboarding = sim.add_channel(guild, "onboarding", topic="Say hi")
        contributor = sim.add_role(guild, "contributor")
        mentor = sim.add_role(guild, "mentor")
        sim.move_role(guild, guild.bot_role, 3)  # above the roles it gives
        mentoring = sim.add_channel(guild, "mentoring")
        sim.set_permissions(mentoring, guild.everyone_role, deny=VIEW_CHANNEL)
        sim.set_permissions(mentoring, mentor, allow=VIEW_CHANNEL)
        sim.set_permissions(mentoring, guild.bot_role, allow=VIEW_CHANNEL)
        alice = sim.add_member(guild, "alice")
        bob = sim.add_member(guild, "bob", roles=[mentor])
        with point_discord_py_at(sim.url):
            bot = HeliosTestBot()
            runner: asyncio.Task[None] | None = None
            try:
                await bot.login(sim.token)
                runner = asyncio.create_task(bot.connect())
                await asyncio.wait_for(bot.wait_until_ready(), 5)
                await bot.tree.sync()
                yield World(
                    sim=sim,
                    driver=DiscordDriver(sim),
                    bot=bot,
                    clock=clock,
                    guild=guild,
                    general=general,
                    onboarding=onboarding,
                    mentoring=mentoring,
                    contributor=contributor,
                    mentor=mentor,
                    alice=alice,
                    bob=bob,
                )
            finally:
                await bot.close()
                if runner is not None:
                    await asyncio.wait_for(runner, 5)  # connect() returns once closed


def text_channel(world: World, channel: Channel) -> discord.TextChannel:
    found = world.bot.get_channel(channel.id)
    assert isinstance(found, discord.TextChannel)
    return found


def guild_of(world: World) -> discord.Guild:
    guild = world.bot.get_guild(world.guild.id)
    assert guild is not None
    return guild


async def test_connect_ready_and_guild_create_fill_the_cache(world: World) -> None:
    guild = guild_of(world)
    assert not guild.unavailable
    assert guild.chunked
    assert text_channel(world, world.onboarding).topic == "Say hi"
    bob = guild.get_member(world.bob.id)
    assert bob is not None
    assert guild.get_role(world.mentor.id) in bob.roles
    assert world.bot.user is not None
    assert world.bot.user.id == world.sim.application_id
    stats = world.sim.gateway_stats
    assert stats.identifies == 1
    assert stats.heartbeats >= 1
    assert stats.compressed == 1  # discord.py asked for a stream compression, decoded every frame


async def test_command_sync_registers_commands_with_ids(world: World) -> None:
    synced = world.sim.commands()
    assert set(synced) == {"start", "report", "tidy", "profile", "language", "mentor"}
    assert synced["start"]["options"][0]["name"] == "topic"
    fetched = await world.bot.tree.fetch_commands()
    assert {c.name for c in fetched} == set(synced)
    assert all(c.id for c in fetched)


async def test_slash_command_with_options_answers_ephemerally(world: World) -> None:
    result = await world.driver.run_command(
        world.alice, world.general, "start", {"topic": "docs", "level": 2}
    )
    assert result.ephemeral
    assert result.content == "Welcome alice: docs (level 2)"
    assert result.message is not None
    assert result.message.button_labels == ["Accept", "Later"]
    assert result.message.timestamp == world.clock.now()
    # Only alice sees the ephemeral reply.
    assert result.message in world.sim.visible_messages(world.alice, world.general)
    assert result.message not in world.sim.visible_messages(world.bob, world.general)


async def test_deferred_reply_then_edit_and_follow_up(world: World) -> None:
    result = await world.driver.run_command(world.alice, world.general, "report")
    assert result.response_type == 5
    assert result.content == "Report ready"
    followups = await result.wait_for_followups(1)
    assert [m.content for m in followups] == ["Details: 3 issues"]
    assert followups[0].ephemeral
    assert followups[0].visible_to == world.alice.id


async def test_button_click_updates_the_message(world: World) -> None:
    reply = await world.driver.run_command(
        world.alice, world.general, "start", {"topic": "ci", "level": 1}
    )
    assert reply.message is not None
    clicked = await world.driver.click(reply.message, label="Accept")
    assert clicked.response_type == 7
    assert clicked.message is reply.message
    assert reply.message.content == "Accepted!"
    assert reply.message.components == []


async def test_deferred_update_then_edit_of_the_component_message(world: World) -> None:
    reply = await world.driver.run_command(
        world.alice, world.general, "start", {"topic": "ci", "level": 1}
    )
    assert reply.message is not None
    clicked = await world.driver.click(reply.message, custom_id="start:later")
    assert clicked.response_type == 6
    edited = await clicked.wait_for_edits(1)
    assert edited is reply.message
    assert edited.content == "Snoozed"
    assert edited.components == []


async def test_follow_up_edit_and_original_delete(world: World) -> None:
    result = await world.driver.run_command(world.alice, world.general, "tidy")
    assert result.content == "temporary"
    [kept] = await result.wait_for_followups(1)
    await world.sim.wait_until(lambda: result.message is not None and result.message.deleted)
    assert kept.content == "kept (edited)"
    assert [m.content for m in world.sim.messages_in(world.general)] == ["kept (edited)"]


async def test_select_menu_answers_with_the_choice(world: World) -> None:
    reply = await world.driver.run_command(
        world.bob, world.general, "start", {"topic": "ci", "level": 1}
    )
    assert reply.message is not None
    picked = await world.driver.select(reply.message, "Pick a track", ["frontend"])
    assert picked.content == "Track: frontend"
    assert picked.ephemeral
    with pytest.raises(ValueError, match="not among"):
        await world.driver.select(reply.message, "start:track", ["mobile"])


async def test_modal_opens_and_submits(world: World) -> None:
    opened = await world.driver.run_command(world.alice, world.general, "profile")
    assert opened.modal is not None
    assert opened.modal.title == "Your profile"
    assert opened.modal.field_ids == ["github", "bio"]
    with pytest.raises(ValueError, match="required"):
        await world.driver.submit_modal(opened, {"bio": "hi"})
    saved = await world.driver.submit_modal(opened, {"github": "alice-gh"})
    assert saved.content == "Saved alice-gh (no bio)"
    assert saved.ephemeral


async def test_autocomplete_offers_matching_choices(world: World) -> None:
    choices = await world.driver.autocomplete(
        world.alice, world.general, "language", {"name": "py"}, focused="name"
    )
    assert choices == [{"name": "python", "value": "python"}]


async def test_subcommand_with_user_and_channel_options(world: World) -> None:
    result = await world.driver.run_command(
        world.alice,
        world.general,
        "mentor assign",
        {"user": world.bob, "channel": world.onboarding},
    )
    assert result.content == "bob mentors in #onboarding; has role: True"
    assert not result.ephemeral
    assert result.message in world.sim.visible_messages(world.bob)


async def test_message_with_embed_and_attachment(world: World) -> None:
    channel = text_channel(world, world.general)
    embed = discord.Embed(title="Good first issues", description="3 open")
    sent = await channel.send(
        "Weekly digest",
        embed=embed,
        file=discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="issues.csv"),
    )
    stored = world.sim.messages_in(world.general)[-1]
    assert stored.id == sent.id
    assert stored.content == "Weekly digest"
    assert stored.embeds[0]["title"] == "Good first issues"
    assert [a.filename for a in stored.attachments] == ["issues.csv"]
    assert await sent.attachments[0].read() == b"a,b\n1,2\n"
    edited = await sent.edit(content="Weekly digest (updated)")
    assert edited.content == stored.content == "Weekly digest (updated)"


async def test_prefix_command_from_a_member_message(world: World) -> None:
    await world.driver.post_message(world.bob, world.general, "!ping")
    reply = await world.driver.wait_for_message(lambda m: m.author.id == world.sim.bot_user.id)
    assert reply.content == "pong bob"
    assert reply.channel_id == world.general.id


async def test_fetch_routes_agree_with_the_simulated_state(world: World) -> None:
    guild = await world.bot.fetch_guild(world.guild.id)
    assert guild.name == "Helios"
    assert {c.name for c in await guild.fetch_channels()} == {"general", "onboarding", "mentoring"}
    assert {"mentor", "contributor", "@everyone"} <= {r.name for r in await guild.fetch_roles()}
    bob = await guild.fetch_member(world.bob.id)
    assert [r.name for r in bob.roles] == ["@everyone", "mentor"]
    channel = await world.bot.fetch_channel(world.onboarding.id)
    assert isinstance(channel, discord.TextChannel)
    assert channel.topic == "Say hi"
    with pytest.raises(discord.NotFound) as raised:
        await guild.fetch_member(424242)
    assert raised.value.code == 10007  # Unknown Member


async def test_direct_message_reaches_only_the_member(world: World) -> None:
    user = await world.bot.fetch_user(world.alice.id)
    await user.send("Welcome to Helios!")
    assert [m.content for m in world.sim.dm_messages(world.alice)] == ["Welcome to Helios!"]
    assert world.sim.dm_messages(world.bob) == []
    world.sim.close_dms(world.bob)
    bob = await world.bot.fetch_user(world.bob.id)
    with pytest.raises(discord.Forbidden) as raised:
        await bob.send("hello?")
    assert raised.value.code == 50007


async def test_private_thread_and_thread_members(world: World) -> None:
    channel = text_channel(world, world.onboarding)
    thread = await channel.create_thread(
        name="alice-onboarding", type=discord.ChannelType.private_thread
    )
    assert thread.type is discord.ChannelType.private_thread
    await thread.add_user(discord.Object(world.alice.id))
    await thread.send("Your mentor will be here soon")
    stored = world.sim.state.channels[thread.id]
    assert world.alice.id in stored.thread_member_ids
    assert [m.content for m in world.sim.visible_messages(world.alice, stored)] == [
        "Your mentor will be here soon"
    ]
    assert world.sim.visible_messages(world.bob, stored) == []  # bob was not added
    await world.sim.sync_with_bot()
    assert guild_of(world).get_thread(thread.id) is not None
    starter = await channel.send("Design discussion")
    public = await starter.create_thread(name="design")
    assert public.id == starter.id  # a thread started from a message takes its id
    assert world.sim.state.channels[public.id].type == 11


async def test_channel_overwrites_decide_who_sees_a_channel(world: World) -> None:
    channel = text_channel(world, world.mentoring)
    guild = guild_of(world)
    alice, bob = guild.get_member(world.alice.id), guild.get_member(world.bob.id)
    assert alice is not None
    assert bob is not None
    # discord.py computes the same permissions from the overwrites the simulator sends.
    assert not channel.permissions_for(alice).view_channel
    assert channel.permissions_for(bob).view_channel
    assert not channel.permissions_for(guild.default_role).view_channel
    await channel.send("For mentors")
    thread = await channel.create_thread(name="pair", type=discord.ChannelType.private_thread)
    await thread.add_user(discord.Object(world.alice.id))
    await thread.add_user(discord.Object(world.bob.id))
    await thread.send("Hello both")
    stored = world.sim.state.channels[thread.id]
    # A private thread shows only to members who can also see its channel.
    assert [m.content for m in world.sim.visible_messages(world.bob)] == [
        "For mentors",
        "Hello both",
    ]
    assert world.sim.visible_messages(world.alice, stored) == []
    assert world.sim.visible_messages(world.alice, world.mentoring) == []


async def test_archiving_a_thread_and_what_a_message_does_then(world: World) -> None:
    channel = text_channel(world, world.onboarding)
    thread = await channel.create_thread(name="pair", type=discord.ChannelType.private_thread)
    archived = await thread.edit(archived=True)
    assert archived.archived
    await world.sim.sync_with_bot()
    # THREAD_UPDATE reached discord.py, which keeps no archived thread in its cache.
    assert guild_of(world).get_thread(thread.id) is None
    await thread.send("Still here?")  # a message reopens a thread that is not locked
    await world.sim.sync_with_bot()
    reopened = guild_of(world).get_thread(thread.id)
    assert reopened is not None
    assert not reopened.archived
    renamed = await thread.edit(name="pair (ended)", archived=True, locked=True)
    assert renamed.name == "pair (ended)"
    assert renamed.locked
    with pytest.raises(discord.HTTPException) as raised:
        await thread.send("Too late")
    assert raised.value.code == 50083
    general = await text_channel(world, world.general).edit(topic="Welcome")
    assert general is not None
    assert general.topic == "Welcome"


async def test_role_add_and_remove_updates_discord_py_cache(world: World) -> None:
    guild = guild_of(world)
    member = guild.get_member(world.alice.id)
    role = guild.get_role(world.contributor.id)
    assert member is not None
    assert role is not None
    await member.add_roles(role)
    assert world.contributor.id in world.alice.role_ids
    await world.sim.sync_with_bot()
    assert role in member.roles  # the GUILD_MEMBER_UPDATE reached discord.py's cache
    await member.remove_roles(role)
    assert world.contributor.id not in world.alice.role_ids


async def test_member_join_dispatches_guild_member_add(world: World) -> None:
    carol = await world.driver.member_join(world.guild, "carol")
    joined = await asyncio.wait_for(world.bot.joined.get(), 5)
    assert joined.id == carol.id
    assert joined.name == "carol"
    assert guild_of(world).get_member(carol.id) is not None


async def test_member_leave_and_live_channel_and_role_creation(world: World) -> None:
    await world.driver.member_leave(world.bob)
    left = await asyncio.wait_for(world.bot.left.get(), 5)
    assert left.id == world.bob.id
    assert guild_of(world).get_member(world.bob.id) is None
    channel = await world.sim.create_channel(world.guild, "mentors")
    role = await world.sim.create_role(world.guild, "maintainer")
    await world.sim.sync_with_bot()
    assert guild_of(world).get_role(role.id) is not None
    assert text_channel(world, channel).name == "mentors"


async def test_slash_command_in_a_direct_message(world: World) -> None:
    dm = world.sim.dm_channel(world.alice)
    result = await world.driver.run_command(world.alice, dm, "language", {"name": "go"})
    assert result.content == "Language: go"
    assert result.message in world.sim.dm_messages(world.alice)
    assert result.message not in world.sim.visible_messages(world.bob)


async def test_gateway_drop_resumes_and_replays_missed_events(world: World) -> None:
    await world.sim.drop_gateway()
    # Dispatched while the bot is reconnecting: delivered by the RESUME replay.
    result = await world.driver.run_command(
        world.alice, world.general, "start", {"topic": "x", "level": 3}
    )
    assert result.content == "Welcome alice: x (level 3)"
    assert world.sim.gateway_stats.resumes == 1
    assert world.sim.gateway_stats.identifies == 1
    assert world.sim.gateway_stats.paths[-1] == "/gateway-resume"  # READY's resume_gateway_url


async def test_reconnect_opcode_makes_the_bot_resume(world: World) -> None:
    await world.sim.send_reconnect()
    await world.sim.wait_until(lambda: world.sim.gateway_stats.resumes == 1, what="RESUME")
    result = await world.driver.run_command(world.bob, world.general, "report")
    assert result.content == "Report ready"
    await result.wait_for_followups(1)


async def test_invalid_session_makes_the_bot_identify_again(world: World) -> None:
    await world.sim.send_invalid_session(resumable=False)
    await world.sim.wait_until(lambda: world.sim.gateway_stats.identifies == 2, what="IDENTIFY")
    result = await world.driver.autocomplete(
        world.alice, world.general, "language", {"name": "r"}, focused="name"
    )
    assert result == [{"name": "rust", "value": "rust"}]


async def test_rate_limit_is_retried(world: World) -> None:
    world.sim.fail_next("POST", "/channels/*/messages", 429, retry_after=0.05)
    sent = await text_channel(world, world.general).send("after the limit")
    assert sent.content == "after the limit"
    attempts = world.sim.requests_to("POST", f"/channels/{world.general.id}/messages")
    assert [r.status for r in attempts] == [429, 200]


async def test_rate_limited_interaction_callback_is_retried(world: World) -> None:
    world.sim.fail_next("POST", "/interactions/*/callback", 429, retry_after=0.05, is_global=True)
    result = await world.driver.run_command(world.alice, world.general, "language", {"name": "go"})
    assert result.content == "Language: go"
    assert [r.status for r in world.sim.requests_to("POST", "/interactions/*")] == [429, 200]


async def test_sending_needs_the_channel_s_permissions_threads_their_own(world: World) -> None:
    """Overwrites count; in a thread Send Messages in Threads does, not Send Messages; a
    channel the bot cannot see answers 50001, a missing permission 50013."""
    general = text_channel(world, world.general)
    thread = await general.create_thread(name="pair", type=discord.ChannelType.private_thread)
    bot_role = world.guild.bot_role
    world.sim.set_permissions(world.general, bot_role, deny=1 << 11)  # Send Messages
    with pytest.raises(discord.Forbidden) as refused:
        await general.send("Hello")
    assert (refused.value.code, refused.value.text) == (50013, "Missing Permissions")
    await thread.send("Threads do not inherit Send Messages")
    bot_role.permissions &= ~(1 << 38)  # Send Messages in Threads
    with pytest.raises(discord.Forbidden) as refused:
        await thread.send("Hello")
    assert refused.value.code == 50013
    with pytest.raises(discord.Forbidden):
        await thread.add_user(discord.Object(world.alice.id))
    bot_role.permissions &= ~(1 << 34)  # Manage Threads
    with pytest.raises(discord.Forbidden):
        await thread.edit(archived=True)
    stored = world.sim.state.channels[thread.id]
    assert [m.content for m in world.sim.messages_in(stored)] == [
        "Threads do not inherit Send Messages"
    ]
    assert world.sim.messages_in(world.general) == []
    assert not stored.archived
    assert stored.thread_member_ids == [world.sim.bot_user.id]
    world.sim.set_permissions(world.general, bot_role, deny=VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as refused:
        await general.send("Hello")
    assert (refused.value.code, refused.value.text) == (50001, "Missing Access")


async def test_roles_need_manage_roles_and_must_be_below_the_bot_s_highest(
    world: World,
) -> None:
    guild = guild_of(world)
    member = guild.get_member(world.alice.id)
    contributor, mentor = guild.get_role(world.contributor.id), guild.get_role(world.mentor.id)
    assert member is not None
    assert contributor is not None
    assert mentor is not None
    world.sim.move_role(world.guild, world.guild.bot_role, world.mentor.position)
    assert world.mentor.position > world.guild.bot_role.position > world.contributor.position
    await member.add_roles(contributor)  # below the bot's role
    with pytest.raises(discord.Forbidden) as refused:
        await member.add_roles(mentor)
    assert (refused.value.code, refused.value.text) == (50013, "Missing Permissions")
    world.guild.bot_role.permissions &= ~(1 << 28)  # Manage Roles
    with pytest.raises(discord.Forbidden):
        await member.remove_roles(contributor)
    assert world.alice.role_ids == [world.contributor.id]


async def test_server_errors_surface_as_discord_server_error(world: World) -> None:
    world.sim.fail_next("*", "/channels/*", 503)
    with pytest.raises(discord.DiscordServerError):
        await world.bot.fetch_channel(world.general.id)
    fetched = await world.bot.fetch_channel(world.general.id)  # the fault was for one call only
    assert fetched.id == world.general.id


async def test_unknown_routes_answer_404_and_are_recorded(world: World) -> None:
    route = discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=world.guild.id)
    with pytest.raises(discord.NotFound):
        await world.bot.http.request(route)
    assert world.sim.unhandled == [("GET", f"/guilds/{world.guild.id}/bans")]
    with pytest.raises(discord.NotFound) as raised:
        await text_channel(world, world.general).fetch_message(12345)
    assert raised.value.code == 10008  # Unknown Message


async def test_wrong_token_fails_login() -> None:
    async with DiscordSimulator() as sim:
        with point_discord_py_at(sim.url):
            bot = HeliosTestBot()
            try:
                with pytest.raises(discord.LoginFailure):
                    await bot.login("not-the-token")
            finally:
                await bot.close()


async def test_identify_asking_for_an_intent_switched_off_is_closed_with_4014(
    clock: ManualClock,
) -> None:
    guilds_and_members = (1 << 0) | (1 << 1)
    async with (
        DiscordSimulator(clock) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{sim.gateway_url}?v=10&encoding=json") as ws,
    ):
        sim.set_privileged_intent("members", False)
        assert (await ws.receive_json())["op"] == 10  # HELLO
        identify = {"token": sim.token, "intents": guilds_and_members, "properties": {}}
        await ws.send_json({"op": 2, "d": identify})
        closed = await ws.receive()
    assert (closed.type, closed.data, closed.extra) == (
        aiohttp.WSMsgType.CLOSE,
        4014,
        "Disallowed intent(s).",
    )
    assert not sim.gateway.connected


def test_tokens_carry_the_bot_id_as_discord_s_do(clock: ManualClock) -> None:
    sim = DiscordSimulator(clock)
    first = sim.token
    assert base64.b64decode(first.split(".")[0] + "==").decode() == str(sim.bot_user.id)
    second = sim.reset_token()
    assert second != first
    assert (sim.token, second.split(".")[0]) == (second, first.split(".")[0])


def test_point_discord_py_at_restores_the_real_endpoints() -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with point_discord_py_at("http://127.0.0.1:9"):
        assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with pytest.raises(ValueError, match="loopback"), point_discord_py_at("https://discord.com"):
        pass


@pytest.mark.parametrize("compression", ["zlib-stream", "zstd-stream"])
async def test_gateway_frames_decode_with_either_stream_compression(
    clock: ManualClock, compression: str
) -> None:
    """discord.py asks for zstd-stream when zstandard is importable, else for zlib-stream."""
    decompress = (
        zstandard.ZstdDecompressor().decompressobj().decompress
        if compression == "zstd-stream"
        else zlib.decompressobj().decompress
    )
    async with (
        DiscordSimulator(clock) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{sim.gateway_url}?v=10&encoding=json&compress={compression}") as ws,
    ):
        hello = json.loads(decompress(await ws.receive_bytes()))
        await ws.send_json({"op": 1, "d": None})  # a heartbeat, answered with an ACK
        ack = json.loads(decompress(await ws.receive_bytes()))
    assert (hello["op"], ack["op"]) == (10, 11)
    assert sim.gateway_stats.compressed == 1


async def test_heartbeats_are_acknowledged_after_discord_py_records_them(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py's keep-alive thread records when it sent a heartbeat once the loop has sent
    it; an acknowledgement handled before that makes discord.py measure a whole interval of
    latency and warn "Can't keep up, shard ID 0 websocket is 41.3s behind"."""
    real_result = concurrent.futures.Future.result

    def slow_to_wake(future: concurrent.futures.Future[Any], timeout: float | None = None) -> Any:
        value = real_result(future, timeout)
        if threading.current_thread().name.startswith("keep-alive-handler"):
            time.sleep(0.01)  # a busy machine: the thread gets the GIL back late
        return value

    monkeypatch.setattr(concurrent.futures.Future, "result", slow_to_wake)
    stale: list[bool] = []  # per acknowledgement: did it come before the send was recorded?
    real_ack = discord.gateway.KeepAliveHandler.ack

    def ack(handler: discord.gateway.KeepAliveHandler) -> None:
        stale.append(handler._last_send < getattr(handler, "previous_ack", float("-inf")))
        real_ack(handler)
        handler.previous_ack = handler._last_ack  # type: ignore[attr-defined]

    monkeypatch.setattr(discord.gateway.KeepAliveHandler, "ack", ack)
    async with DiscordSimulator(clock) as sim:
        sim.add_guild("Helios")
        sim.gateway.heartbeat_interval_ms = 200
        with point_discord_py_at(sim.url):
            client = discord.Client(intents=discord.Intents.default())
            runner: asyncio.Task[None] | None = None
            try:
                await client.login(sim.token)
                runner = asyncio.create_task(client.connect())
                # The first heartbeat answers HELLO; then four from the keep-alive thread.
                await sim.wait_until(lambda: sim.gateway_stats.heartbeats >= 5, within=10)
                await sim.wait_until(lambda: len(stale) >= 5, within=5)
            finally:
                await client.close()
                if runner is not None:
                    await asyncio.wait_for(runner, 5)
    assert len(stale) >= 5
    assert not any(stale[1:])
