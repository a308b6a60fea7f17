# SPDX-License-Identifier: Apache-2.0
"""The running bot loads every extension under cogs/, and its slash commands have one owner."""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import discord
import pytest
from discord import app_commands

import cogs
from bot.app import extension_names
from bot.clock import ManualClock
from bot.sandbox.community import Sandbox


async def test_every_extension_is_loaded(sandbox: Sandbox) -> None:
    missing = sorted(set(extension_names()) - set(sandbox.running_bot.extensions))
    assert not missing, f"extensions not loaded by the running bot: {missing}"


async def test_no_two_slash_commands_share_a_qualified_name(sandbox: Sandbox) -> None:
    bot = sandbox.running_bot
    tree = bot.tree
    guild = discord.Object(bot.guild_id)
    # Syncing copies the global commands into the guild's scope, replacing any guild command of
    # the same name without a word; the cogs still hold what they defined, so both are walked.
    # A command held by the tree and by its cog, or by both scopes, is counted once.
    commands: dict[int, app_commands.Command[Any, ..., Any] | app_commands.Group] = {}
    for scope in (None, guild):
        commands.update((id(c), c) for c in tree.walk_commands(guild=scope))
    for cog in bot.cogs.values():
        commands.update((id(c), c) for c in cog.walk_app_commands())
        if cog.app_command is not None:
            commands[id(cog.app_command)] = cog.app_command
    names = Counter(command.qualified_name for command in commands.values())
    shared = sorted(name for name, count in names.items() if count > 1)
    assert not shared, f"slash commands defined more than once: {shared}"


async def test_cog_modules_are_imported_off_the_event_loop(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in sys.modules if name.startswith("cogs.")]:
        monkeypatch.delitem(sys.modules, name)  # as in a new process
    on_loop: list[str] = []  # the files of the module bodies the loop's thread executes

    def note_module_bodies(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code.co_name == "<module>":
            on_loop.append(frame.f_code.co_filename)

    sandbox = Sandbox(tmp_path, clock)
    sys.setprofile(note_module_bodies)  # this thread's only
    try:
        await sandbox.start()
    finally:
        sys.setprofile(None)
        await sandbox.stop()

    package = Path(cogs.__file__).parent
    executed = {
        Path(f).relative_to(package.parent).as_posix()
        for f in on_loop
        if f.startswith(str(package))
    }
    # discord.py executes each extension's own module again, whatever was imported before;
    # everything else (a package's other modules) was imported in a thread.
    own = {
        Path(module.__file__ or "").relative_to(package.parent).as_posix()
        for module in map(importlib.import_module, extension_names())
    }
    assert "cogs/onboarding/__init__.py" in own
    assert executed == own
