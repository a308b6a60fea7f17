# SPDX-License-Identifier: Apache-2.0
"""Scenarios for `helios-bot sandbox --script`: people and GitHub act, time passes, and the
transcript records everything the bot did in return.

The TOML format is documented in docs/sandbox.md. A scenario fails when one of its
expectations is not met or when the bot logs an error.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import re
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.clock import ManualClock
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Channel, InteractionResult, Member, Message
from bot.sandbox.github import GitHubState, NotFoundError
from bot.sandbox.github import ValidationError as GitHubValidationError

# What a scenario may make happen on GitHub: the simulator's state changes of these names.
GITHUB_ACTIONS = frozenset(
    {
        "open_issue",
        "close_issue",
        "reopen_issue",
        "add_labels",
        "remove_label",
        "assign",
        "unassign",
        "comment",
        "open_pull",
        "set_draft",
        "push_commits",
        "request_review",
        "submit_review",
        "review_comment",
        "merge",
    }
)
POLLS_TO_WAIT = 20
DEFERRED_UPDATE_MESSAGE = 6
EDIT_GRACE = 0.5
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScenarioError(Exception):
    """The scenario file is malformed; the message names the step and the key."""


def parse_duration(text: str) -> timedelta:
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"expected a duration like 90s, 15m, 2h or 3d, got {text!r}")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


class Step(BaseModel):
    """One thing that happens. Exactly one action key per step."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    say: str | None = None
    join: str | None = None
    run: str | None = None
    click: str | None = None
    select: str | None = None
    submit: dict[str, str] | None = None
    github: str | None = None
    authorize: str | None = None
    advance: str | None = None
    actor: str | None = Field(default=None, alias="as")
    channel: str = Field(default="general", alias="in")
    options: dict[str, Any] = {}
    values: list[str] = []
    args: dict[str, Any] = {}
    expect: str | None = None

    def action(self) -> str:
        actions = [
            name
            for name in (
                "join",
                "run",
                "click",
                "select",
                "submit",
                "github",
                "authorize",
                "advance",
            )
            if getattr(self, name) is not None
        ]
        if len(actions) > 1:
            raise ValueError(f"one action per step, found {', '.join(actions)}")
        return actions[0] if actions else "say"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "scenario"
    start: datetime | None = None
    step: Annotated[list[Step], Field(min_length=1)]


def load_scenario(path: Path) -> Scenario:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(raw)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            lines.append(f"{path}: {where}: {error['msg']}")
        raise ScenarioError("\n".join(lines)) from exc
    problems = []
    for number, step in enumerate(scenario.step, start=1):
        try:
            action = step.action()
            if action == "advance" and step.advance is not None:
                parse_duration(step.advance)
            if action == "github":
                _check_github_step(step)
            if action in ("run", "click", "select", "submit", "authorize") and not step.actor:
                raise ValueError(f"'{action}' needs 'as': the member who does it")
        except ValueError as exc:
            problems.append(f"{path}: step {number}: {exc}")
    if problems:
        raise ScenarioError("\n".join(problems))
    return scenario


def _check_github_step(step: Step) -> None:
    if step.github not in GITHUB_ACTIONS:
        raise ValueError(f"unknown GitHub action {step.github!r}; one of {sorted(GITHUB_ACTIONS)}")
    method = getattr(GitHubState, step.github)
    try:
        inspect.signature(method).bind(None, **step.args)
    except TypeError as exc:
        raise ValueError(
            f"github {step.github}: {exc}; it takes {inspect.signature(method)}"
        ) from exc


@dataclass
class Entry:
    """One line of the transcript."""

    time: str  # ISO 8601, on the scenario's clock
    step: int
    kind: str  # step, message, edit, role, github, expectation, error
    text: str
    where: str | None = None

    def render(self) -> str:
        where = f"{self.where}: " if self.where else ""
        time = datetime.fromisoformat(self.time).strftime("%a %d %b %H:%M")
        return f"{time} [{self.step:>2}] {self.kind:<11} {where}{self.text}"


@dataclass
class Transcript:
    entries: list[Entry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(entry.render() for entry in self.entries) + "\n"

    def jsonl(self) -> str:
        return "".join(json.dumps(asdict(entry)) + "\n" for entry in self.entries)


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Runner:
    """Plays a scenario against a started sandbox and records what the bot did."""

    def __init__(self, sandbox: Sandbox, clock: ManualClock) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.transcript = Transcript()
        self._seen: dict[int, str] = {}
        self._requests_seen = 0
        self._github_writes: Counter[str] = Counter()
        self._last_result: dict[str, InteractionResult] = {}

    async def play(self, scenario: Scenario) -> Transcript:
        errors = _ErrorLog()
        logging.getLogger().addHandler(errors)
        try:
            self._observe(0)
            for number, step in enumerate(scenario.step, start=1):
                await self._play_step(number, step)
                for record in errors.records:
                    self._log(number, "error", f"{record.name}: {record.getMessage()}")
                    self.transcript.failures.append(f"step {number}: the bot logged an error")
                errors.records.clear()
        finally:
            logging.getLogger().removeHandler(errors)
        return self.transcript

    async def _play_step(self, number: int, step: Step) -> None:
        action = step.action()
        self._log(number, "step", _describe(step, action))
        before = len(self.transcript.entries)
        seen_by_actor = ""
        if action == "join" and step.join is not None:
            await self.sandbox.driver.member_join(self._community().guild, step.join)
        elif action == "run" and step.run is not None:
            result = await self.sandbox.driver.run_command(
                self._member(step.actor), self._channel(step.channel), step.run, step.options
            )
            seen_by_actor = await self._remember(number, step, result)
        elif action == "click" and step.click is not None:
            message = self._message_with(step.actor, step.click)
            result = await self.sandbox.driver.click(
                message, label=step.click, member=self._member(step.actor)
            )
            seen_by_actor = await self._remember(number, step, result)
        elif action == "select" and step.select is not None:
            message = self._message_with(step.actor, step.select)
            result = await self.sandbox.driver.select(
                message, step.select, step.values, member=self._member(step.actor)
            )
            seen_by_actor = await self._remember(number, step, result)
        elif action == "submit" and step.submit is not None:
            opened = self._last_result.get(step.actor or "")
            if opened is None or opened.modal is None:
                raise ScenarioError(f"step {number}: no form is open for {step.actor}")
            result = await self.sandbox.driver.submit_modal(opened, step.submit)
            seen_by_actor = await self._remember(number, step, result)
        elif action == "github" and step.github is not None:
            try:
                getattr(self.sandbox.github.state, step.github)(**step.args)
            except (NotFoundError, GitHubValidationError) as exc:
                raise ScenarioError(f"step {number}: GitHub refused {step.github}: {exc}") from exc
            await self.sandbox.github.emitter.flush()
        elif action == "authorize" and step.authorize is not None:
            await self._authorize(number, step.authorize)
        elif action == "advance" and step.advance is not None:
            self.clock.advance(parse_duration(step.advance))
        await self.sandbox.settle()
        self._observe(number)
        if step.expect is not None:
            produced = seen_by_actor + "\n".join(
                e.text for e in self.transcript.entries[before:] if e.kind != "step"
            )
            if step.expect not in produced:
                self._log(number, "expectation", f"expected to see {step.expect!r}: not seen")
                self.transcript.failures.append(f"step {number}: {step.expect!r} not seen")

    async def _authorize(self, number: int, login: str) -> None:
        """On GitHub, enter the code the bot showed and approve; GitHub's polling then runs."""
        state, device = self.sandbox.github.state, self.sandbox.github.device
        waiting = [g for g in device.grants.values() if not g.redeemed and not g.denied]
        if not waiting:
            raise ScenarioError(f"step {number}: no GitHub code is waiting to be entered")
        state.user(login)  # GitHub accounts come into being when first named
        grant = waiting[-1]
        discord = self.sandbox.discord
        edits_before = len(discord.requests_to("PATCH", "/webhooks/*"))
        device.approve(grant.user_code, login)
        for _ in range(POLLS_TO_WAIT):
            if grant.redeemed:
                # The bot now updates the member's message: wait for that, not for time.
                await discord.wait_until(
                    lambda: len(discord.requests_to("PATCH", "/webhooks/*")) > edits_before,
                    what="the bot to update the member's message",
                )
                return
            self.clock.advance(timedelta(seconds=grant.interval))
            await self.sandbox.settle()
        raise ScenarioError(f"step {number}: the bot never collected the approval")

    async def _remember(self, number: int, step: Step, result: InteractionResult) -> str:
        """Keep what the bot answered ``step.actor``; returns it as text for ``expect``."""
        self._last_result[step.actor or ""] = result
        if result.response_type == DEFERRED_UPDATE_MESSAGE:
            # The bot acknowledged first; a change may follow (or not: a menu choice is kept
            # as it is). Give it a moment rather than guess.
            with contextlib.suppress(TimeoutError):
                await result.wait_for_edits(within=EDIT_GRACE)
        if result.modal is not None:
            self._log(number, "form", f"{result.modal.title} (opened)", f"for {step.actor}")
            return result.modal.title
        return result.content + " " + " ".join(str(e.get("title", "")) for e in result.embeds)

    # --- observation -------------------------------------------------------------------

    def _observe(self, number: int) -> None:
        """Add to the transcript what the bot did since the last look."""
        state = self.sandbox.discord.state
        bot_id = self.sandbox.discord.bot_user.id
        for message in sorted(state.messages.values(), key=lambda m: m.id):
            if message.author.id != bot_id or message.deleted:
                continue
            # Compared by what a person sees: updates from buttons carry no edit time.
            text = _message_text(message)
            if message.id not in self._seen:
                self._log(number, "message", text, self._where(message))
            elif self._seen[message.id] != text:
                self._log(number, "edit", text, self._where(message))
            self._seen[message.id] = text
        requests = self.sandbox.discord.requests
        for request in requests[self._requests_seen :]:
            role_change = re.match(r"^/guilds/\d+/members/(\d+)/roles/(\d+)$", request.path)
            if role_change and request.status < 300:
                member = state.users[int(role_change.group(1))].username
                role = self._role_name(int(role_change.group(2)))
                verb = "given" if request.method == "PUT" else "removed from"
                self._log(number, "role", f"{role} {verb} {member}")
        self._requests_seen = len(requests)
        writes = Counter(
            {
                route: count
                for route, count in self.sandbox.github.counter.by_route.items()
                if not route.startswith("GET ")
            }
        )
        for route, count in (writes - self._github_writes).items():
            self._log(number, "github", f"{route} x{count}")
        self._github_writes = writes

    def _where(self, message: Message) -> str:
        state = self.sandbox.discord.state
        channel = state.channels.get(message.channel_id)
        if message.visible_to is not None:
            return f"(only {state.users[message.visible_to].username} sees)"
        if channel is None:
            return "?"
        if channel.recipient_ids:
            names = [state.users[i].username for i in channel.recipient_ids if i in state.users]
            return "DM " + ", ".join(
                n for n in names if n != self.sandbox.discord.bot_user.username
            )
        return f"#{channel.name}"

    def _role_name(self, role_id: int) -> str:
        for role in self._community().guild.roles.values():
            if role.id == role_id:
                return role.name
        return str(role_id)

    def _log(self, number: int, kind: str, text: str, where: str | None = None) -> None:
        self.transcript.entries.append(
            Entry(self.clock.now().isoformat(), number, kind, text, where)
        )

    # --- look-ups ------------------------------------------------------------------------

    def _community(self) -> DemoCommunity:
        if self.sandbox.community is None:
            raise RuntimeError("the sandbox is not started")
        return self.sandbox.community

    def _member(self, username: str | None) -> Member:
        guild = self._community().guild
        for member in guild.members.values():
            if member.user.username == username:
                return member
        raise ScenarioError(f"nobody called {username!r} is on the server")

    def _channel(self, name: str) -> Channel:
        channels = self._community().channels
        if name not in channels:
            raise ScenarioError(f"no channel #{name}; there are {sorted(channels)}")
        return channels[name]

    def _message_with(self, username: str | None, component: str) -> Message:
        """The newest message shown to ``username`` with a button or menu named ``component``."""
        member = self._member(username)
        for message in reversed(self.sandbox.discord.visible_messages(member)):
            for item in message.iter_components():
                if component in (item.get("label"), item.get("custom_id"), item.get("placeholder")):
                    return message
        raise ScenarioError(f"{username} sees no button or menu {component!r}")


def _describe(step: Step, action: str) -> str:
    who = step.actor or ""
    return {
        "say": step.say or "",
        "join": f"{step.join} joins the server",
        "run": f"{who} runs /{step.run} in #{step.channel}",
        "click": f"{who} clicks {step.click!r}",
        "select": f"{who} picks {step.values} in {step.select!r}",
        "submit": f"{who} submits the form",
        "github": f"GitHub: {step.github} {step.args}",
        "authorize": f"{who} enters the code on GitHub and approves as {step.authorize}",
        "advance": f"time passes: {step.advance}",
    }[action]


def _message_text(message: Message) -> str:
    parts = [message.content] if message.content else []
    for embed in message.embeds:
        parts.append(f"[{embed.get('title', 'embed')}]")
        if embed.get("description"):
            parts.append(str(embed["description"]))
    labels = [c["label"] for c in message.iter_components() if c.get("label")]
    if labels:
        parts.append("buttons: " + ", ".join(labels))
    return " ".join(parts).replace("\n", " / ") or "(empty)"


async def run_scenario(
    path_or_scenario: Path | Scenario,
    directory: Path,
) -> Transcript:
    scenario = (
        load_scenario(path_or_scenario) if isinstance(path_or_scenario, Path) else path_or_scenario
    )
    clock = ManualClock(scenario.start) if scenario.start else ManualClock()
    sandbox = Sandbox(directory, clock)
    await sandbox.start()
    try:
        return await Runner(sandbox, clock).play(scenario)
    finally:
        await sandbox.stop()
