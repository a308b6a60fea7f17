# SPDX-License-Identifier: Apache-2.0
"""Command line: parse arguments, load the config, run. Nothing happens at import time."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bot import __version__
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config, render_settings, resolve_config_path
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import current_revision, head_revision, migrate
from bot.db.reader import Reader
from bot.errors import DomainError
from bot.feature import Context
from bot.github.api import GitHubUnavailable
from bot.github.client import GitHubClient
from bot.github.ingest import IngestWorker
from bot.github.sync import repositories, sync_repositories
from bot.invite import invite_url
from bot.log import get_logger, setup_logging
from bot.runtime import Runtime, shutdown_signals, unless_stopped
from bot.services import retention
from bot.services.recognition import newsletter

log = get_logger(__name__)

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helios-bot", description="Contributor onboarding bot for Discord and GitHub."
    )
    parser.add_argument("--version", action="version", version=f"helios-bot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="TOML config file (default: $HELIOS_BOT_CONFIG, else ./config.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", parents=[common], help="the whole bot: Discord, HTTP server, scheduled jobs"
    )
    run.add_argument("--no-migrate", action="store_true", help="do not migrate on start")

    web = commands.add_parser(
        "web", parents=[common], help="the HTTP server only (webhooks, health, metrics)"
    )
    web.add_argument("--host", help="listen address (overrides web.host)")
    web.add_argument("--port", type=int, help="listen port (overrides web.port)")
    web.add_argument("--no-migrate", action="store_true", help="do not migrate on start")

    migrate_cmd = commands.add_parser(
        "migrate", parents=[common], help="upgrade the database schema to the latest revision"
    )
    migrate_cmd.add_argument(
        "--to", default="head", metavar="REV", help="revision to move to, up or down"
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot: the real bot against simulated Discord and GitHub",
        description="Runs the real bot against the Discord and GitHub simulators with a "
        "seeded demo community. Without --script: plays the built-in first month, then keeps "
        "the HTTP server up until Ctrl-C.",
    )
    sandbox.add_argument("--script", metavar="FILE", help="scenario to play (docs/sandbox.md)")
    sandbox.add_argument(
        "--config",
        metavar="FILE",
        help="dry-run this bot config (its features, channel and role ids) instead of the "
        "demo's; secrets are the sandbox's own",
    )
    sandbox.add_argument("--format", choices=["text", "jsonl"], default="text")
    sandbox.add_argument(
        "--check-api",
        action="store_true",
        help="print, per route, the calls checked against Discord's and GitHub's published API "
        "descriptions (needs `make dev-setup`)",
    )
    sandbox.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )

    sync = commands.add_parser(
        "sync",
        parents=[common],
        help="backfill GitHub history over the REST API, resuming from the last checkpoint",
    )
    sync.add_argument("--repo", metavar="OWNER/NAME", help="only this configured repository")
    sync.add_argument(
        "--since", metavar="DATE", help="re-read what changed since DATE (2026-01-31 or ISO 8601)"
    )

    commands.add_parser(
        "purge",
        parents=[common],
        help="delete now what is past its retention ([retention]; the bot does it hourly)",
    )

    newsletter_cmd = commands.add_parser(
        "newsletter",
        parents=[common],
        help="print a month's newsletter in Markdown (this month's: so far)",
    )
    newsletter_cmd.add_argument("--month", required=True, metavar="YYYY-MM")
    newsletter_cmd.add_argument(
        "--guild", type=int, metavar="ID", help="the Discord server (default: discord.guild_id)"
    )

    commands.add_parser(
        "check-config",
        parents=[common],
        help="validate the config and print the resolved settings, secrets redacted",
    )
    commands.add_parser(
        "invite-url",
        parents=[common],
        help="print the link that invites the bot to discord.guild_id with the permissions "
        "its enabled features need",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        # The only production path into bot.sandbox, imported only when asked for.
        from bot.sandbox.cli import run_sandbox

        setup_logging(args.log_level, "text", ())
        return asyncio.run(
            run_sandbox(args.script, args.format, args.config, check_api=args.check_api)
        )
    path = resolve_config_path(args.config, os.environ)
    try:
        config = load_config(path)
        if args.command == "run" and config.secrets.discord_token is None:
            raise ConfigError(["environment: DISCORD_TOKEN: required by `helios-bot run`"])
    except ConfigError as exc:
        return _report(exc)
    logging_settings = config.settings.logging
    setup_logging(logging_settings.level, logging_settings.format, config.secrets.values())

    if args.command == "check-config":
        sys.stdout.write(render_settings(config))
        return 0
    if args.command == "invite-url":
        try:
            print(invite_url(config))
        except ConfigError as exc:
            return _report(exc)
        return 0
    if args.command == "migrate":
        return asyncio.run(_migrate(config, args.to))
    if args.command == "web":
        return asyncio.run(_serve_web(config, args.host, args.port, not args.no_migrate))
    if args.command == "purge":
        return asyncio.run(_purge(config))
    if args.command == "newsletter":
        return asyncio.run(_newsletter(config, args.month, args.guild))
    if args.command == "sync":
        try:
            since = _sync_arguments(config, args.repo, args.since)
        except ConfigError as exc:
            return _report(exc)
        return asyncio.run(_sync(config, args.repo, since))
    if args.command == "run":
        from bot.app import run_bot  # discord.py is only imported by the mode that uses it

        try:
            return asyncio.run(run_bot(config, SystemClock(), apply_migrations=not args.no_migrate))
        except ConfigError as exc:  # Discord refused the token or the intents
            return _report(exc)
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects the rest


def _report(error: ConfigError) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    return EXIT_CONFIG


async def _migrate(config: Config, target: str) -> int:
    engine = create_engine(config.secrets.database_url.get_secret_value(), config.settings.database)
    try:
        before, after = await migrate(engine, target)
    finally:
        await engine.dispose()
    print(f"database schema: {before or 'empty'} -> {after or 'empty'}")
    return 0


def _sync_arguments(config: Config, repo: str | None, since: str | None) -> datetime | None:
    """Check ``--repo`` and ``--since``; returns the time ``--since`` means."""
    problems = []
    if repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        problems.append(f"--repo {repo}: expected OWNER/NAME")
    elif repo is not None and not config.settings.github.follows(repo):
        problems.append(
            f"--repo {repo}: not followed by {config.path} "
            "(github.repositories, or github.organization with include/exclude)"
        )
    moment = None
    if since is not None:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            problems.append(f"--since {since}: expected a date like 2026-01-31 or ISO 8601")
    if problems:
        raise ConfigError(problems)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


async def _sync(config: Config, repo: str | None, since: datetime | None) -> int:
    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        client = await GitHubClient.connect(config)
    except GitHubUnavailable as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 1
    if client is None:
        print(
            "environment: GITHUB_TOKEN (or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY): "
            "required by `helios-bot sync`",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    engine = create_engine(config.secrets.database_url.get_secret_value(), config.settings.database)
    try:
        await migrate(engine)
        settings = config.settings.github
        names = [repo] if repo else await repositories(client, settings)
        _, busy = await sync_repositories(
            client,
            create_session_factory(engine),
            SystemClock(),
            settings,
            names,
            since=since,
            progress=progress,
        )
    except GitHubUnavailable as exc:
        print(f"sync stopped: {exc}; the next run resumes from the last page", file=sys.stderr)
        return 1
    finally:
        client.close()
        await engine.dispose()
    for name in busy:
        print(f"{name}: skipped, another process is syncing it", file=sys.stderr)
    return 1 if busy else 0


async def _purge(config: Config) -> int:
    engine = create_engine(config.secrets.database_url.get_secret_value(), config.settings.database)
    try:
        await migrate(engine)
        sessions, clock = create_session_factory(engine), SystemClock()
        kept, kept_failed = config.settings.retention.webhooks
        worker = IngestWorker(
            sessions,
            clock,
            follows=config.settings.github.follows,
            retention=kept,
            failed_retention=kept_failed,
        )
        deliveries = await worker.purge()
        reader = Reader(engine, sessions, config.settings.database)
        try:
            context = Context(config.settings, clock, sessions, github=None, read=reader)
            purged = await retention.purge(context)
        finally:
            await reader.close()
    finally:
        await engine.dispose()
    print(
        f"deleted {deliveries} webhook deliveries, {purged.promises} outbox messages and "
        f"the data of {purged.members} departed members"
    )
    return 0


async def _newsletter(config: Config, month: str, guild_id: int | None) -> int:
    """Print the month's newsletter, read as the bot reads it (bot/db/reader.py)."""
    settings = config.settings
    if settings.recognition is None:
        return _report(
            ConfigError([f"{config.path}: recognition: the newsletter needs this section"])
        )
    try:
        chosen = newsletter.parse_month(month)
    except DomainError as exc:
        return _report(ConfigError([f"--month {month}: {exc.user_message}"]))
    guild = guild_id if guild_id is not None else settings.discord.guild_id
    engine = create_engine(config.secrets.database_url.get_secret_value(), settings.database)
    reader = Reader(engine, create_session_factory(engine), settings.database)
    try:
        if await current_revision(engine) != await asyncio.to_thread(head_revision):
            print("the database schema is not the bot's: run `helios-bot migrate`", file=sys.stderr)
            return 1
        now = SystemClock().now()
        text = await reader(lambda s: newsletter.compose(s, settings, guild, chosen, now))
    except DomainError as exc:
        return _report(ConfigError([f"--month {month}: {exc.user_message}"]))
    finally:
        await reader.close()
        await engine.dispose()
    sys.stdout.write(text)
    return 0


async def _serve_web(config: Config, host: str | None, port: int | None, apply: bool) -> int:
    runtime = Runtime(config, SystemClock(), "web")
    # Signals are handled from the start: one during migrations cancels start-up cleanly.
    with shutdown_signals() as stop:
        try:
            if await unless_stopped(
                runtime.start(apply_migrations=apply, host=host, port=port), stop
            ):
                await stop.wait()
        finally:
            await runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
