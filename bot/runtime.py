# SPDX-License-Identifier: Apache-2.0
"""Resources shared by every long-running mode (`run` and `web`).

``start`` opens them in dependency order and ``close`` releases them in reverse, so a signal at
any point shuts down cleanly: stop accepting HTTP requests and finish those in flight, then
close the outbound HTTP session and the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
import uuid
from datetime import timedelta
from typing import Literal

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, PlatformCollector, ProcessCollector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import __version__
from bot.clock import Clock
from bot.config import Config
from bot.db.engine import WriteTurns, create_engine, create_session_factory
from bot.db.migrate import current_revision, head_revision, migrate
from bot.db.reader import Reader
from bot.github.client import GitHubClient
from bot.github.inbox import Inbox
from bot.github.ingest import NORMALISER, Delivery, Handler, IngestWorker
from bot.github.sync import SyncScheduler
from bot.log import get_logger
from bot.outbox import GITHUB_KINDS, Outbox, deliver_forever, on_promise
from bot.outbox import Delivery as OutboxDelivery
from bot.scheduler import Job, Scheduler
from bot.services.announcements import AnnouncementRoutes, announce_issue
from bot.services.celebrations import CelebrationSettings, celebrate_pull_request
from bot.services.claims import ClaimPolicy, end_finished, follow_up_claims
from bot.web.app import ReadinessCheck, create_web_app
from bot.web.webhook import MAX_BODY, add_webhook_route

log = get_logger(__name__)

Mode = Literal["run", "web"]
# In-flight requests get this long to finish on shutdown; the whole shutdown stays under 10 s.
HTTP_SHUTDOWN_TIMEOUT = 5.0
# Claims are measured in days; a quarter of an hour is prompt enough and costs nothing.
CLAIM_FOLLOW_UP_INTERVAL = timedelta(minutes=15)


class Runtime:
    def __init__(self, config: Config, clock: Clock, mode: Mode) -> None:
        self.config = config
        self.clock = clock
        self.mode = mode
        self.registry = CollectorRegistry()
        self.readiness: dict[str, ReadinessCheck] = {
            "database": self._database_ready,
            "migrations": self._migrations_ready,
        }
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._read: Reader | None = None
        self._http: aiohttp.ClientSession | None = None
        # None when no GitHub credentials are configured: features that write to GitHub say so.
        self.github: GitHubClient | None = None
        self._runner: web.AppRunner | None = None
        self._inbox: Inbox | None = None
        self._ingest: IngestWorker | None = None
        self._scheduler: Scheduler | None = None
        # One per outbox sender in this process, set when this process commits a promise.
        self._outbox_wakeups: list[asyncio.Event] = []
        self._github_outbox: asyncio.Task[None] | None = None
        # Names this process in leases it takes (outbox rows, scheduled jobs).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.head_revision = head_revision()
        self.url: str | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._sessions

    @property
    def read(self) -> Reader:
        """Read-only queries for the interactive paths, off the event loop (bot/db/reader.py)."""
        if self._read is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._read

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._http

    async def start(
        self, *, apply_migrations: bool, host: str | None = None, port: int | None = None
    ) -> None:
        started = time.perf_counter()
        self._engine = create_engine(
            self.config.secrets.database_url.get_secret_value(), self.config.settings.database
        )
        self._sessions = create_session_factory(self._engine)
        self._read = Reader(self._engine, self._sessions, self.config.settings.database)
        on_promise(self._sessions, self._wake_outbox_senders)
        if apply_migrations:
            before, after = await migrate(self._engine)
            if before != after:
                log.info("database migrated from %s to %s", before, after)
        self._http = aiohttp.ClientSession()
        self.github = await GitHubClient.connect(self.config)
        self._register_metrics()
        # Ingestion runs even without a webhook secret: other processes may commit deliveries.
        self._turns = WriteTurns.for_engine(self._engine)
        self._ingest = IngestWorker(
            self.sessions,
            self.clock,
            handlers=ingest_handlers(self.config, self.clock),
            turns=self._turns,
        )
        await self._start_web(host, port)
        self._ingest.start()
        self._scheduler = Scheduler(self.sessions, self.clock, self._jobs(), self.owner)
        self._scheduler.start()
        if self.github is not None:
            self._start_github_outbox(self.github)
        log.info(
            "helios-bot %s (%s mode) serving on %s, started in %.2f s",
            __version__,
            self.mode,
            self.url,
            time.perf_counter() - started,
        )

    async def jobs_settled(self) -> bool:
        """Every due scheduled job has run (see Scheduler.settled)."""
        return self._scheduler is None or await self._scheduler.settled()

    def outbox_wakeup(self) -> asyncio.Event:
        """An event set whenever this process commits an outbox promise, for one sender."""
        event = asyncio.Event()
        self._outbox_wakeups.append(event)
        return event

    def _wake_outbox_senders(self) -> None:
        for event in self._outbox_wakeups:
            event.set()

    def _start_github_outbox(self, github: GitHubClient) -> None:
        """GitHub comments promised by features, delivered by any process with credentials."""
        # Its own lease owner: the Discord sender in this process leases rows too.
        outbox = Outbox(self.sessions, self.clock, f"{self.owner}:github", kinds=GITHUB_KINDS)

        async def send(delivery: OutboxDelivery) -> None:
            payload = delivery.payload
            await github.comment_once(
                payload["repository"], payload["number"], payload["body"], marker=delivery.nonce
            )

        self._github_outbox = asyncio.create_task(
            deliver_forever(outbox, send, self.clock, self.outbox_wakeup()), name="github-outbox"
        )

    def _jobs(self) -> list[Job]:
        """The periodic jobs; every process offers them, one process runs each when due."""
        jobs = []
        github = self.config.settings.github
        if self.github is not None and github.sync_interval_minutes:
            repair = SyncScheduler(self.github, self.sessions, self.clock, github)
            interval = timedelta(minutes=github.sync_interval_minutes)
            # Webhooks are the fast path; the first repair comes one interval after start.
            jobs.append(Job("github-sync", interval, repair.repair, first_run_after=interval))
        onboarding = self.config.settings.onboarding
        if onboarding is not None:
            policy = ClaimPolicy.days(onboarding.claim_reminder_days, onboarding.claim_release_days)

            async def follow_up() -> None:
                await follow_up_claims(
                    self.sessions,
                    self.github,
                    self.clock,
                    guild_id=self.config.settings.discord.guild_id,
                    policy=policy,
                )

            jobs.append(Job("claim-follow-up", CLAIM_FOLLOW_UP_INTERVAL, follow_up))
        return jobs

    async def _start_web(self, host: str | None, port: int | None) -> None:
        settings = self.config.settings.web
        app = create_web_app(self.readiness, self.registry, client_max_size=MAX_BODY)
        secrets = [s.get_secret_value() for s in self.config.secrets.github_webhook_secrets]
        if secrets:
            wake = self._ingest.wake if self._ingest is not None else None
            self._inbox = Inbox(self.sessions, self.clock, on_commit=wake, turns=self._turns)
            self._inbox.start()
            add_webhook_route(app, self._inbox, secrets)
        else:
            log.warning("GITHUB_WEBHOOK_SECRET is not set: /github/webhook is disabled")
        self._runner = web.AppRunner(
            app, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT, access_log=None, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, host or settings.host, settings.port if port is None else port
        )
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"

    def _register_metrics(self) -> None:
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        info = Gauge(
            "helios_build_info", "Version and mode", ["version", "mode"], registry=self.registry
        )
        info.labels(__version__, self.mode).set(1)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._inbox is not None:  # after the server: requests in flight await the inbox
            await self._inbox.close()
            self._inbox = None
        if self._ingest is not None:  # after the inbox, before the database closes
            await self._ingest.close()
            self._ingest = None
        if self._github_outbox is not None:
            self._github_outbox.cancel()
            await asyncio.gather(self._github_outbox, return_exceptions=True)
            self._github_outbox = None
        if self._scheduler is not None:  # before the GitHub client and the database close
            await self._scheduler.close()
            self._scheduler = None
        if self.github is not None:
            self.github.close()
            self.github = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._read is not None:
            self._read.close()
            self._read = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        log.info("stopped cleanly")

    async def _database_ready(self) -> str | None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None

    async def _migrations_ready(self) -> str | None:
        current = await current_revision(self.engine)
        if current == self.head_revision:
            return None
        return f"database at {current}, code expects {self.head_revision}"


def ingest_handlers(config: Config, clock: Clock) -> tuple[Handler, ...]:
    """What every committed webhook delivery goes through: normalisation, then features."""
    handlers = [NORMALISER]
    onboarding = config.settings.onboarding
    if onboarding is not None:
        settings = CelebrationSettings(
            guild_id=config.settings.discord.guild_id,
            channel_id=onboarding.celebration_channel_id,
            contributor_role_id=onboarding.contributor_role_id,
            github_welcome_comment=onboarding.github_welcome_comment,
        )

        async def celebrate(session: AsyncSession, delivery: Delivery) -> None:
            await celebrate_pull_request(
                session,
                settings,
                repository_id=int(delivery.payload["repository"]["id"]),
                number=int(delivery.payload["pull_request"]["number"]),
                now=clock.now(),
            )

        handlers.append(Handler("celebrations", _concerns_celebrations, celebrate))

        async def end_claims(session: AsyncSession, delivery: Delivery) -> None:
            await end_finished(session, settings.guild_id, clock.now())

        handlers.append(Handler("claims", _ends_claims, end_claims))
    announcements = config.settings.announcements
    if announcements is not None:
        routes = AnnouncementRoutes(
            guild_id=config.settings.discord.guild_id,
            good_first_issues_channel_id=announcements.good_first_issues_channel_id,
            beginner_labels=onboarding.beginner_labels if onboarding else ["good first issue"],
            label_channels=announcements.label_channels,
        )

        async def announce(session: AsyncSession, delivery: Delivery) -> None:
            await announce_issue(
                session,
                routes,
                repository_id=int(delivery.payload["repository"]["id"]),
                number=int(delivery.payload["issue"]["number"]),
                now=clock.now(),
            )

        handlers.append(Handler("announcements", _announces, announce))
    return tuple(handlers)


def _concerns_celebrations(event: str, action: str | None) -> bool:
    return event == "pull_request" and action in ("opened", "reopened", "closed")


def _announces(event: str, action: str | None) -> bool:
    return event == "issues" and action in ("opened", "labeled", "reopened")


def _ends_claims(event: str, action: str | None) -> bool:
    """A closed or removed issue, or a merged pull request, may end a claim at once."""
    return event in ("issues", "pull_request") and action in ("closed", "deleted", "transferred")


async def wait_for_shutdown_signal() -> None:
    """Return on SIGTERM or SIGINT (Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("shutting down")
