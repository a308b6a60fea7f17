# SPDX-License-Identifier: Apache-2.0
"""Scenarios for `helios-bot sandbox --script`: people and GitHub act, time passes, and the
transcript records everything the bot did in return.

The TOML format is documented in docs/sandbox.md. A scenario fails when one of its steps
cannot be carried out, when one of its expectations is not met, when the bot logs an error
at any time from its start to its shutdown, or when a call between the bot and a simulator
breaks Discord's or GitHub's API description (bot/sandbox/openapi.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import tomllib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.clock import ManualClock
from bot.config import Config
from bot.sandbox.community import DemoCommunity, Sandbox
from bot.sandbox.discord import Channel, DiscordError, InteractionResult, Member, Message
from bot.sandbox.discord.readable import readable, summary
from bot.sandbox.discord.state import PRIVATE_THREAD
from bot.sandbox.github import GitHubRequest, GitHubState, NotFoundError
from bot.sandbox.openapi import preload as preload_api_descriptions
from bot.sandbox.openapi import report as api_report

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
ACTIONS = ("say", "join", "run", "click", "select", "submit", "github", "authorize", "advance")
POLLS_TO_WAIT = 20
DEFERRED_UPDATE_MESSAGE = 6
EDIT_GRACE = 0.5
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScenarioError(Exception):
    """The scenario file is malformed; the message names the step and the key."""


class StepFailed(Exception):
    """A step could not be carried out (no such button, the bot did not answer...)."""


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
        # `say` is an action too: beside another one it would be silently dropped.
        actions = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(actions) > 1:
            raise ValueError(f"one action per step, found {', '.join(actions)}")
        if not actions:
            raise ValueError(f"no action: a step needs one of {', '.join(ACTIONS)}")
        return actions[0]


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
    step: int  # 0: start-up (and, with --config, how the configured ids were seeded)
    # step, config, message, edit, deleted, thread, form, role, github, expectation, failed,
    # error
    kind: str
    text: str  # a message as the bot sent it, on one line (mentions as ids)
    where: str | None = None
    # A message as a person reads it (bot/sandbox/discord/readable.py): a line like
    # ``text`` with mentions as names, then its embeds whole, a line each.
    rendered: str | None = None

    def render(self) -> str:
        where = f"{self.where}: " if self.where else ""
        time = datetime.fromisoformat(self.time).strftime("%a %d %b %H:%M")
        head = f"{time} [{self.step:>2}] "
        first, *embeds = self.rendered.split("\n") if self.rendered else [self.text]
        lines = [f"{head}{self.kind:<11} {where}{first}"]
        lines += [f"{' ' * len(head)}│ {line}".rstrip() for line in embeds]
        return "\n".join(lines)


@dataclass
class Transcript:
    entries: list[Entry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Per route, the calls checked against Discord's and GitHub's API descriptions.
    api_report: str = ""

    def text(self) -> str:
        return "\n".join(entry.render() for entry in self.entries) + "\n"

    def jsonl(self) -> str:
        return "".join(json.dumps(asdict(entry)) + "\n" for entry in self.entries)


class BotErrors(logging.Handler):
    """Every ERROR logged while attached: the whole run, from before the bot starts until
    after it stops, so errors at start-up, in the seed's webhooks or at shutdown count too."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        taken, self.records = self.records, []
        return taken

    @contextlib.contextmanager
    def attached(self) -> Iterator[BotErrors]:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)


class Runner:
    """Plays a scenario against a started sandbox and records what the bot did."""

    def __init__(self, sandbox: Sandbox, clock: ManualClock, errors: BotErrors) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.errors = errors
        self.transcript = Transcript()
        self._seen: dict[int, str] = {}  # message id -> its text when last looked at
        self._deleted: set[int] = set()
        self._thread_members: dict[int, set[int]] = {}
        self._archived: set[int] = set()  # threads seen archived
        self._requests_seen = 0
        self._github_seen = 0
        self._unhandled_seen = 0
        self._violations_seen: dict[str, int] = {}
        self._last_result: dict[str, InteractionResult] = {}
        self.step = 0  # the step being played; 0 before the first

    async def play(self, scenario: Scenario) -> Transcript:
        for line in self._community().legend:
            self._log(0, "config", line)
        self.observe(0)
        await self.check_errors(0, "start-up")
        for number, step in enumerate(scenario.step, start=1):
            self.step = number
            carried_out = await self._play_step(number, step, len(scenario.step) - number)
            await self.check_errors(number, f"step {number}")
            if not carried_out:
                break  # later steps build on this one: playing them would only add noise
        return self.transcript

    async def check_errors(self, number: int, phase: str) -> None:
        """Record as failures the errors logged, the Discord routes the simulator lacks that
        the bot called, and the calls that broke an API description, since the last check."""
        for record in self.errors.take():
            text = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            self._log(number, "error", text.replace("\n", " / "))
            first_line = text.splitlines()[0]
            self.transcript.failures.append(f"{phase}: the bot logged an error: {first_line}")
        unhandled = self.sandbox.discord.unhandled
        for method, path in unhandled[self._unhandled_seen :]:
            text = f"the bot called a Discord route the simulator lacks: {method} {path}"
            self._log(number, "error", text)
            self.transcript.failures.append(f"{phase}: {text}")
        self._unhandled_seen = len(unhandled)
        for check in (self.sandbox.discord.api, self.sandbox.github.api):
            await asyncio.to_thread(check.drain)  # the checks run in a thread of their own
            violations = check.violations
            for violation in violations[self._violations_seen.get(check.api, 0) :]:
                text = f"a call broke {check.api.capitalize()}'s API description: {violation}"
                self._log(number, "error", text)
                self.transcript.failures.append(f"{phase}: {text}")
            self._violations_seen[check.api] = len(violations)

    async def _play_step(self, number: int, step: Step, remaining: int) -> bool:
        """Play one step; False if it could not be carried out (the failure is recorded)."""
        action = step.action()
        self._log(number, "step", _describe(step, action))
        before = len(self.transcript.entries)
        seen_by_actor = ""
        failure = None
        try:
            seen_by_actor = await self._act(number, step, action)
        except TimeoutError as exc:
            failure = f"no answer from the bot: {exc}"
        except (StepFailed, LookupError, ValueError, PermissionError, DiscordError) as exc:
            failure = str(exc)
        except RuntimeError as exc:  # e.g. the bot is no longer connected
            failure = f"the sandbox could not go on: {exc}"
        await self.sandbox.settle()
        self.observe(number)
        if failure is not None:
            self.transcript.failures.append(f"step {number} ({_describe(step, action)}): {failure}")
            if remaining:
                failure += f" (the scenario stops here: {remaining} step(s) not played)"
            self._log(number, "failed", failure)
            return False
        if step.expect is not None:
            # As sent and as read: the text of an embed's fields, or "@kofi", matches too.
            produced = seen_by_actor + "\n".join(
                f"{e.text}\n{e.rendered or ''}"
                for e in self.transcript.entries[before:]
                if e.kind != "step"
            )
            if step.expect not in produced:
                self._log(number, "expectation", f"expected to see {step.expect!r}: not seen")
                self.transcript.failures.append(f"step {number}: {step.expect!r} not seen")
        return True

    async def _act(self, number: int, step: Step, action: str) -> str:
        """Carry out the step's action; returns what the acting member was shown."""
        driver = self.sandbox.driver
        if action == "join" and step.join is not None:
            await driver.member_join(self._community().guild, step.join)
        elif action == "run" and step.run is not None:
            result = await driver.run_command(
                self._member(step.actor), self._channel(step.channel), step.run, step.options
            )
            return await self._remember(number, step, result)
        elif action == "click" and step.click is not None:
            message = self._message_with(step.actor, step.click)
            result = await driver.click(message, label=step.click, member=self._member(step.actor))
            return await self._remember(number, step, result)
        elif action == "select" and step.select is not None:
            message = self._message_with(step.actor, step.select)
            result = await driver.select(
                message, step.select, step.values, member=self._member(step.actor)
            )
            return await self._remember(number, step, result)
        elif action == "submit" and step.submit is not None:
            opened = self._last_result.get(step.actor or "")
            if opened is None or opened.modal is None:
                raise StepFailed(f"no form is open for {step.actor}")
            result = await driver.submit_modal(opened, step.submit)
            return await self._remember(number, step, result)
        elif action == "github" and step.github is not None:
            try:
                getattr(self.sandbox.github.state, step.github)(**step.args)
            except (LookupError, ValueError) as exc:  # the simulator's 404 and 422
                raise StepFailed(f"GitHub refused {step.github}: {exc}") from exc
            await self.sandbox.github.emitter.flush()
        elif action == "authorize" and step.authorize is not None:
            await self._authorize(step.authorize)
        elif action == "advance" and step.advance is not None:
            self.clock.advance(parse_duration(step.advance))
        return ""

    async def _authorize(self, login: str) -> None:
        """On GitHub, enter the code the bot showed and approve; GitHub's polling then runs."""
        state, device = self.sandbox.github.state, self.sandbox.github.device
        waiting = [g for g in device.grants.values() if not g.redeemed and not g.denied]
        if not waiting:
            raise StepFailed("no GitHub code is waiting to be entered")
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
        raise StepFailed("the bot never collected the approval")

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
        if result.message is None:
            return ""
        shown = readable(self.sandbox.discord.state, result.message, self.clock.now())
        return summary(result.message) + "\n" + "\n".join(shown)

    # --- observation -------------------------------------------------------------------

    def observe(self, number: int) -> None:
        """Add to the transcript what the bot did since the last look."""
        self._observe_messages(number)
        self._observe_threads(number)
        state = self.sandbox.discord.state
        requests = self.sandbox.discord.requests
        for request in requests[self._requests_seen :]:
            role_change = re.match(r"^/guilds/\d+/members/(\d+)/roles/(\d+)$", request.path)
            if role_change and request.status < 300:
                member = state.users[int(role_change.group(1))].username
                role = self._role_name(int(role_change.group(2)))
                verb = "given" if request.method == "PUT" else "removed from"
                self._log(number, "role", f"{role} {verb} {member}")
        self._requests_seen = len(requests)
        github_requests = self.sandbox.github.requests
        for github_request in github_requests[self._github_seen :]:
            # The device flow's POSTs are sign-in on github.com pages, not changes to GitHub.
            if github_request.method != "GET" and github_request.api:
                self._log(number, "github", self._github_write(github_request))
        self._github_seen = len(github_requests)

    def _observe_messages(self, number: int) -> None:
        state = self.sandbox.discord.state
        bot_id = self.sandbox.discord.bot_user.id
        for message in sorted(state.messages.values(), key=lambda m: m.id):
            mine = message.author.id == bot_id
            if message.deleted:
                # Only the bot deletes through the API; people's own deletions are not played.
                if message.id not in self._deleted:
                    self._deleted.add(message.id)
                    text = self._seen.get(message.id) or summary(message)
                    shown = self._readable(message)
                    if not mine:
                        text = f"{message.author.username}'s message: {text}"
                        shown = f"{message.author.username}'s message: {shown}"
                    self._log(number, "deleted", text, self._where(message), shown)
                continue
            if not mine:
                continue
            # Compared by what the bot sent, not by how it reads now ("3 hours ago" changes
            # as time passes): updates from buttons carry no edit time.
            text = summary(message)
            if message.id not in self._seen:
                self._log(number, "message", text, self._where(message), self._readable(message))
            elif self._seen[message.id] != text:
                self._log(number, "edit", text, self._where(message), self._readable(message))
            self._seen[message.id] = text

    def _readable(self, message: Message) -> str:
        return "\n".join(readable(self.sandbox.discord.state, message, self.clock.now()))

    def _observe_threads(self, number: int) -> None:
        state = self.sandbox.discord.state
        bot_id = self.sandbox.discord.bot_user.id
        for thread in sorted(state.channels.values(), key=lambda c: c.id):
            if not thread.is_thread:
                continue
            where = self._channel_name(thread.parent_id)
            known = self._thread_members.get(thread.id)
            if known is None:
                known = self._thread_members[thread.id] = {bot_id}
                if thread.owner_id == bot_id:
                    kind = "private" if thread.type == PRIVATE_THREAD else "public"
                    self._log(number, "thread", f"{kind} thread '{thread.name}' created", where)
            for user_id in thread.thread_member_ids:
                if user_id not in known:
                    name = state.users[user_id].username
                    self._log(number, "thread", f"{name} added to '{thread.name}'", where)
            self._thread_members[thread.id] = known | set(thread.thread_member_ids)
            if thread.archived and thread.id not in self._archived:
                self._log(number, "thread", f"'{thread.name}' archived", where)
            if thread.archived:
                self._archived.add(thread.id)
            else:
                self._archived.discard(thread.id)

    def _github_write(self, request: GitHubRequest) -> str:
        """``POST /repos/{owner}/{repo}/issues/{number}/assignees on issue acme/app#3``."""
        text = f"{request.method} {request.route}"
        params = request.params
        if "owner" in params and "repo" in params:
            full_name = f"{params['owner']}/{params['repo']}"
            if "number" in params:
                kind = "issue"
                with contextlib.suppress(NotFoundError):
                    issue = self.sandbox.github.state.issue(full_name, int(params["number"]))
                    kind = "pull request" if issue.pull else "issue"
                text += f" on {kind} {full_name}#{params['number']}"
            else:
                text += f" on {full_name}"
        if request.status >= 400:
            text += f" (refused: {request.status})"
        return text

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
        if channel.is_thread:
            return f"{self._channel_name(channel.parent_id)} thread '{channel.name}'"
        return f"#{channel.name}"

    def _channel_name(self, channel_id: int | None) -> str:
        channel = self.sandbox.discord.state.channels.get(channel_id or 0)
        return f"#{channel.name}" if channel is not None else "?"

    def _role_name(self, role_id: int) -> str:
        for role in self._community().guild.roles.values():
            if role.id == role_id:
                return role.name
        return str(role_id)

    def _log(
        self,
        number: int,
        kind: str,
        text: str,
        where: str | None = None,
        rendered: str | None = None,
    ) -> None:
        self.transcript.entries.append(
            Entry(self.clock.now().isoformat(), number, kind, text, where, rendered)
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
        raise StepFailed(f"nobody called {username!r} is on the server")

    def _channel(self, name: str) -> Channel:
        channels = self._community().channels
        if name not in channels:
            raise StepFailed(f"no channel #{name}; there are {sorted(channels)}")
        return channels[name]

    def _message_with(self, username: str | None, component: str) -> Message:
        """The newest message shown to ``username`` with a button or menu named ``component``."""
        member = self._member(username)
        offered: list[str] = []
        for message in reversed(self.sandbox.discord.visible_messages(member)):
            names = [
                str(item.get("label") or item.get("placeholder"))
                for item in message.iter_components()
                if item.get("label") or item.get("placeholder")
            ]
            offered = offered or names
            for item in message.iter_components():
                if component in (item.get("label"), item.get("custom_id"), item.get("placeholder")):
                    return message
        shown = f"; the newest offers {', '.join(map(repr, offered))}" if offered else ""
        raise StepFailed(f"{username} sees no button or menu {component!r}{shown}")


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


WhileRunning = Callable[[Sandbox, Transcript], Awaitable[None]]


async def run_scenario(
    path_or_scenario: Path | Scenario,
    directory: Path,
    *,
    organiser_config: Config | None = None,
    while_running: WhileRunning | None = None,
) -> Transcript:
    """Start a sandbox, play the scenario, stop; errors the bot logs at any point fail it.

    ``while_running`` is awaited after the scenario, before the sandbox stops (the CLI keeps
    serving there until Ctrl-C).
    """
    scenario = (
        load_scenario(path_or_scenario) if isinstance(path_or_scenario, Path) else path_or_scenario
    )
    clock = ManualClock(scenario.start) if scenario.start else ManualClock()
    await asyncio.to_thread(preload_api_descriptions)  # before the bot and simulators run
    with BotErrors().attached() as errors:
        sandbox = Sandbox(directory, clock, organiser_config=organiser_config)
        runner = Runner(sandbox, clock, errors)
        try:
            if await _start(sandbox, runner):
                await runner.play(scenario)
                if while_running is not None:
                    await while_running(sandbox, runner.transcript)
        finally:
            await sandbox.stop()
        await runner.check_errors(runner.step, "shutdown")
    checks = (sandbox.discord.api, sandbox.github.api)
    runner.transcript.api_report = await asyncio.to_thread(api_report, *checks)
    return runner.transcript


async def _start(sandbox: Sandbox, runner: Runner) -> bool:
    """Start the sandbox; a failure is the run's failure, reported rather than raised."""
    try:
        await sandbox.start()
    except Exception as exc:  # any start-up failure ends the run with exit status 1
        runner.transcript.failures.append(
            f"start-up: the bot did not start: {type(exc).__name__}: {exc}"
        )
        await runner.check_errors(0, "start-up")
        return False
    return True
