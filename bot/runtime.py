# SPDX-License-Identifier: Apache-2.0
"""Resources shared by every long-running mode (`run` and `web`).

``start`` opens them in dependency order and ``close`` releases them in reverse, so a signal at
any point shuts down cleanly: stop accepting HTTP requests and finish those in flight, then
close the outbound HTTP session and the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Awaitable, Iterator, Sequence
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
from bot.feature import Context, Feature
from bot.github.client import GitHubClient
from bot.github.device_flow import DeviceFlow
from bot.github.inbox import Inbox
from bot.github.ingest import NORMALISER, Handler, IngestWorker
from bot.github.redeliver import Redelivery
from bot.github.sync import SyncScheduler
from bot.leases import holder_name
from bot.log import get_logger
from bot.outbox import GITHUB_KINDS, DuePromise, Outbox, deliver_forever, on_promise
from bot.scheduler import Job, Scheduler
from bot.services import FEATURES
from bot.web.app import ReadinessCheck, create_web_apps
from bot.web.webhook import MAX_BODY, WebhookLimits, add_webhook_route

log = get_logger(__name__)

Mode = Literal["run", "web"]
# SIGTERM to exit within the 10 s that orchestrators allow before SIGKILL: the stages of a
# shutdown share one deadline, each taking at most its cap of what is left, and the caps add up
# to less than the deadline (tests/unit/test_shutdown.py).
SHUTDOWN_DEADLINE = 9.0
GATEWAY_CLOSE = 2.0  # `run` only: closing the Discord connection (bot/app.py)
# In-flight requests get this long to finish, then as long again to unwind once cancelled.
HTTP_SHUTDOWN_TIMEOUT = 1.5
HTTP_STOP = 2 * HTTP_SHUTDOWN_TIMEOUT
INBOX_FLUSH = 1.0  # committing webhook deliveries already received (and answered by then)
INGEST_STOP = 1.5  # the ingestion batch in progress
# Kept back for the last stages: background tasks, the HTTP session and the database.
CLOSE_RESERVE = 1.0
STAGE_CAPS = (GATEWAY_CLOSE, HTTP_STOP, INBOX_FLUSH, INGEST_STOP, CLOSE_RESERVE)


class Deadline:
    """One time budget shared by the stages of a shutdown."""

    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds

    def left(self, cap: float | None = None, *, keep: float = 0.0) -> float:
        """Seconds for the next stage: at most ``cap``, leaving ``keep`` for later ones."""
        left = max(0.0, self._ends - time.monotonic() - keep)
        return left if cap is None else min(cap, left)


async def bounded(what: str, work: Awaitable[object], seconds: float) -> bool:
    """Await ``work`` for at most ``seconds``, then cancel it; False (and a warning) if cut."""
    try:
        await asyncio.wait_for(work, max(seconds, 0.0))
    except TimeoutError:
        log.warning("shutdown: %s did not finish in %.1f s; going on without it", what, seconds)
        return False
    return True


class Runtime:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        mode: Mode,
        *,
        features: Sequence[Feature] = FEATURES,
    ) -> None:
        self.config = config
        self.clock = clock
        self.mode = mode
        # The features this configuration turns on (bot/services/__init__.py).
        self.features = [f for f in features if f.is_enabled(config.settings)]
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
        self.verifier: DeviceFlow | None = None
        # The main HTTP server, then the admin one (web.admin_port) if there is one.
        self._runners: list[web.AppRunner] = []
        self._inbox: Inbox | None = None
        self._ingest: IngestWorker | None = None
        self._scheduler: Scheduler | None = None
        # One per outbox sender in this process, set when this process commits a promise.
        self._outbox_wakeups: list[asyncio.Event] = []
        self._github_outbox: asyncio.Task[None] | None = None
        # Names this process in leases it takes (outbox rows, scheduled jobs).
        self.owner = holder_name()
        # The schema revision this code expects, read from the scripts in start().
        self.head_revision: str | None = None
        self.url: str | None = None
        self.admin_url: str | None = None  # with web.admin_port: where /readyz and /metrics are

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
    def context(self) -> Context:
        """What features' handlers, jobs and services are given."""
        return Context(
            self.config.settings,
            self.clock,
            self.sessions,
            self.github,
            self.verifier,
            read=self.read,
        )

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
        self.head_revision = await asyncio.to_thread(head_revision)
        if apply_migrations:
            before, after = await migrate(self._engine)
            if before != after:
                log.info("database migrated from %s to %s", before, after)
        self._http = aiohttp.ClientSession()
        self.github = await GitHubClient.connect(self.config)
        onboarding = self.config.settings.onboarding
        if onboarding is not None and onboarding.github_oauth_client_id:
            self.verifier = DeviceFlow(
                self._http,
                self.clock,
                client_id=onboarding.github_oauth_client_id,
                web_url=onboarding.github_web_url,
                api_url=self.config.settings.github.api_url,
            )
        self._register_metrics()
        # Ingestion runs even without a webhook secret: other processes may commit deliveries.
        self._turns = WriteTurns.for_engine(self._engine)
        context = self.context
        retention, failed_retention = self.config.settings.retention.webhooks
        self._ingest = IngestWorker(
            self.sessions,
            self.clock,
            follows=self.config.settings.github.follows,
            handlers=feature_handlers(self.features, context),
            owner=self.owner,
            retention=retention,
            failed_retention=failed_retention,
            turns=self._turns,
        )
        await self._start_web(host, port)
        self._ingest.start()
        self._scheduler = Scheduler(self.sessions, self.clock, self._jobs(context), self.owner)
        self._scheduler.start()
        promised = {kind for feature in self.features for kind in feature.promises}
        if self.github is not None and promised & set(GITHUB_KINDS):
            self._start_github_outbox(self.github)
        log.info(
            "helios-bot %s (%s mode) serving on %s%s, started in %.2f s",
            __version__,
            self.mode,
            self.url,
            f" (/readyz and /metrics on {self.admin_url})" if self.admin_url else "",
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
        outbox = Outbox(self.sessions, self.clock, holder_name("github"), kinds=GITHUB_KINDS)

        async def send(due: DuePromise) -> None:
            payload = due.payload
            await github.comment_once(
                payload["repository"], payload["number"], payload["body"], marker=due.nonce
            )

        self._github_outbox = asyncio.create_task(
            deliver_forever(outbox, send, self.clock, self.outbox_wakeup()), name="github-outbox"
        )

    def _jobs(self, context: Context) -> list[Job]:
        """The periodic jobs; every process offers them, one process runs each when due."""
        jobs = []
        github = self.config.settings.github
        if self.github is not None and github.sync_interval_minutes:
            repair = SyncScheduler(self.github, self.sessions, self.clock, github)
            interval = timedelta(minutes=github.sync_interval_minutes)
            # Webhooks are the fast path; the first repair comes one interval after start.
            jobs.append(Job("github-sync", interval, repair.repair, first_run_after=interval))
        if self.github is not None and self.github.is_app and github.redeliver_interval_minutes:
            lookback = timedelta(hours=github.redeliver_lookback_hours)
            redelivery = Redelivery(self.github, self.sessions, self.clock, lookback)
            interval = timedelta(minutes=github.redeliver_interval_minutes)
            jobs.append(Job("github-redeliver", interval, redelivery.run, first_run_after=interval))
        for feature in self.features:
            for periodic in feature.jobs:
                run = functools.partial(periodic.run, context)
                jobs.append(Job(periodic.name, periodic.interval, run, periodic.first_run_after))
        return jobs

    async def _start_web(self, host: str | None, port: int | None) -> None:
        settings = self.config.settings.web
        app, admin = create_web_apps(
            self.readiness,
            self.registry,
            separate_admin=settings.admin_port is not None,
            client_max_size=MAX_BODY,
        )
        secrets = [s.get_secret_value() for s in self.config.secrets.github_webhook_secrets]
        if secrets:
            wake = self._ingest.wake if self._ingest is not None else None
            self._inbox = Inbox(self.sessions, self.clock, on_commit=wake, turns=self._turns)
            self._inbox.start()
            limits = WebhookLimits(
                body_timeout=settings.body_timeout_seconds,
                buffer_bytes=settings.webhook_buffer_mb * 1024**2,
            )
            add_webhook_route(app, self._inbox, secrets, limits)
            github = self.config.settings.github
            if not github.repositories and github.organization is None:
                log.warning(
                    "github.repositories and github.organization are both unset: "
                    "every webhook delivery will be ignored"
                )
        else:
            log.warning("GITHUB_WEBHOOK_SECRET is not set: /github/webhook is disabled")
        self.url = await self._serve(
            app, host or settings.host, settings.port if port is None else port
        )
        if admin is not None:
            assert settings.admin_port is not None
            self.admin_url = await self._serve(
                admin, settings.admin_host or settings.host, settings.admin_port
            )

    async def _serve(self, app: web.Application, host: str, port: int) -> str:
        """Serve ``app`` on host:port; its URL (the port bound, when ``port`` is 0)."""
        settings = self.config.settings.web
        runner = web.AppRunner(
            app,
            shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT,
            access_log=None,
            handle_signals=False,
            # Also the longest a client may take to send its headers.
            keepalive_timeout=settings.keepalive_seconds,
            # The rest of a body that was answered early (refused, or too slow) is read and
            # dropped for as long as a body may take, so the client gets the answer; then the
            # connection is closed.
            lingering_time=settings.body_timeout_seconds,
        )
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0]
        return f"http://{bound[0]}:{bound[1]}"

    def _register_metrics(self) -> None:
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        info = Gauge(
            "helios_build_info", "Version and mode", ["version", "mode"], registry=self.registry
        )
        info.labels(__version__, self.mode).set(1)

    async def close(self, deadline: Deadline | None = None) -> None:
        """Release everything in reverse order of opening, within ``deadline`` (by default
        the whole shutdown budget); a stage that overruns its share is cut short."""
        deadline = deadline or Deadline(SHUTDOWN_DEADLINE)
        keep = CLOSE_RESERVE
        clean = True
        if self._runners:  # stop accepting at once, then wait for requests in flight
            clean &= await bounded(
                "the HTTP server",
                asyncio.gather(*(runner.cleanup() for runner in self._runners)),
                deadline.left(HTTP_STOP, keep=keep),
            )
            self._runners = []
        if self._inbox is not None:  # after the server: requests in flight await the inbox
            clean &= await self._inbox.close(within=deadline.left(INBOX_FLUSH, keep=keep))
            self._inbox = None
        if self._ingest is not None:  # after the inbox, before the database closes
            clean &= await self._ingest.close(within=deadline.left(INGEST_STOP, keep=keep))
            self._ingest = None
        if self._github_outbox is not None:
            self._github_outbox.cancel()
            clean &= await bounded(
                "the GitHub outbox",
                asyncio.gather(self._github_outbox, return_exceptions=True),
                deadline.left(),
            )
            self._github_outbox = None
        if self._scheduler is not None:  # before the GitHub client and the database close
            clean &= await bounded("the scheduler", self._scheduler.close(), deadline.left())
            self._scheduler = None
        if self.github is not None:
            self.github.close()
            self.github = None
        if self._http is not None:
            clean &= await bounded("the HTTP client", self._http.close(), deadline.left())
            self._http = None
        if self._read is not None:  # before the database: reads under way finish first
            clean &= await bounded("the database reader", self._read.close(), deadline.left())
            self._read = None
        if self._engine is not None:
            clean &= await bounded("the database", self._engine.dispose(), deadline.left())
            self._engine = None
        if clean:
            log.info("stopped cleanly")
        else:
            log.warning("stopped; some work was cut short by the shutdown deadline")

    async def _database_ready(self) -> str | None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None

    async def _migrations_ready(self) -> str | None:
        current = await current_revision(self.engine)
        if current == self.head_revision:
            return None
        return f"database at {current}, code expects {self.head_revision}"


def feature_handlers(features: Sequence[Feature], context: Context) -> tuple[Handler, ...]:
    """What every committed webhook delivery goes through: normalisation, then features."""
    handlers = [NORMALISER]
    for feature in features:
        for webhook in feature.webhooks:
            handlers.append(
                Handler(feature.name, webhook.concerns, functools.partial(webhook.handle, context))
            )
    return tuple(handlers)


@contextlib.contextmanager
def shutdown_signals() -> Iterator[asyncio.Event]:
    """An event that SIGTERM or SIGINT (Ctrl-C) sets, from now on.

    Installed before any start-up work, so that a signal during migrations stops the process
    cleanly instead of killing it half-way (the default action) or being noticed only once
    start-up is over.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def received() -> None:
        if not stop.is_set():
            log.info("shutting down")
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, received)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run ``work`` unless ``stop`` is set first, which cancels it; True if it finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()  # start-up failed: raise its error
    return True


async def wait_for_shutdown_signal() -> None:
    """Return on SIGTERM or SIGINT (Ctrl-C)."""
    with shutdown_signals() as stop:
        await stop.wait()
