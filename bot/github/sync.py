# SPDX-License-Identifier: Apache-2.0
"""The REST backfill: ``helios-bot sync`` and the scheduled repair of missed webhooks.

Every object goes through the same parsers and upserts as webhooks (bot/github/normalise.py),
one transaction per page, so a backfill and a webhook of the same fact write the same row.

Three listings per repository, 100 items a page:

- issues (and pull requests in issue shape): ``state=all, sort=updated, direction=asc,
  since=checkpoint``; after each page the checkpoint moves to the newest ``updated_at`` in it.
  Reviews and comments are fetched for the items of the page updated inside the metrics
  window.
- pulls: the short pull shape (draft, requested reviewers; GitHub leaves out ``merged_by``
  here), newest update first, down to the checkpoint (the API has no ``since`` here).
- events: ``/issues/events`` (label, assignment, review-request history, and who merged each
  pull request: the "merged" event's actor), newest first, down to the checkpoint.

A newest-first pass can only move its checkpoint once it ends, so a pass in progress stores its
next page's address: a killed run resumes there. Items that change meanwhile move to the front
and push others back, so a resumed pass may see some items twice (writes are idempotent) but
never skips one.

One process syncs a repository at a time: it holds a lease row, renewed with every page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import GitHubSettings
from bot.db.engine import insert_for
from bot.db.models import GitHubSyncCheckpoint, GitHubSyncLease
from bot.github.api import GitHubUnavailable
from bot.github.client import GitHubClient, Page, RateLimited
from bot.github.normalise import (
    Changes,
    MalformedPayload,
    apply,
    lock_history,
    parse_comment,
    parse_issue,
    parse_issue_event,
    parse_repository,
    parse_review,
    parse_time,
)
from bot.leases import holder_name
from bot.log import get_logger

log = get_logger(__name__)

JSON = dict[str, Any]
# Renewed with every page; a process that dies holds the repository at most this long.
LEASE = timedelta(minutes=10)
PROGRESS_EVERY = timedelta(seconds=2)
PROGRESS_PAGES = 10
# A rate limit whose reset is already past on our clock still gets this pause, so a skewed
# clock cannot turn the wait into a busy loop.
MIN_RATE_WAIT = timedelta(seconds=1)


class SyncBusy(Exception):
    """Another process holds this repository's lease."""


@dataclass
class SyncStats:
    """What one repository's sync did, for the progress line and the benchmark."""

    repository: str
    listing: str = ""
    items: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    rate_remaining: int | None = None
    rate_reset: datetime | None = None
    page: int = 0
    last_page: int | None = None
    listing_started: datetime | None = None

    @property
    def total_items(self) -> int:
        return sum(self.items.values())

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


async def repositories(client: GitHubClient, settings: GitHubSettings) -> list[str]:
    """The configured repositories, then the organisation's selected ones, each once."""
    found = {name.lower(): name for name in settings.repositories}
    if settings.organization is not None:
        url: str | None = f"/orgs/{settings.organization}/repos"
        params: dict[str, str | int] | None = {"type": "all"}
        while url is not None:
            page = await client.page(url, params)
            for repo in page.items:
                if settings.selects(str(repo["name"])):
                    found.setdefault(str(repo["full_name"]).lower(), str(repo["full_name"]))
            url, params = page.next_url, None
    return list(found.values())


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _updated(raw: JSON) -> datetime:
    return _required_time(raw, "updated_at")


def _created(raw: JSON) -> datetime:
    return _required_time(raw, "created_at")


def _required_time(raw: JSON, key: str) -> datetime:
    # Read before the item is parsed: a bad answer fails with the parsers' error, not a KeyError.
    moment = parse_time(raw.get(key))
    if moment is None:
        raise MalformedPayload("listing item", key, "is missing")
    return moment


class RepositorySync:
    """One repository's backfill, resumable from its checkpoints."""

    def __init__(
        self,
        client: GitHubClient,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: GitHubSettings,
        full_name: str,
        *,
        since: datetime | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.full_name = full_name
        self.key = full_name.lower()
        self.since = since
        self.progress = progress
        self.stats = SyncStats(full_name)
        self.holder = holder_name("sync")
        self._repository_id = 0
        self._last_line: datetime | None = None

    async def run(self) -> SyncStats:
        """Sync the three listings, or raise SyncBusy if another process is at it."""
        if not await self._take_lease():
            raise SyncBusy(f"{self.full_name}: another process is syncing it")
        try:
            raw_repo = await self.client.get(f"/repos/{self.full_name}")
            repository = parse_repository(raw_repo)
            self._repository_id = repository.id
            await self._commit(Changes(repositories=[repository]))
            await self._issues()
            await self._newest_first(
                "pulls",
                "pulls",
                {"state": "all", "sort": "updated", "direction": "desc"},
                _updated,
                lambda raws: Changes(issues=[parse_issue(r, self._repository_id) for r in raws]),
            )
            await self._newest_first("events", "issues/events", {}, _created, self._events)
        finally:
            await self._release_lease()
        self._report(final=True)
        return self.stats

    # --- listings -------------------------------------------------------------------------

    async def _issues(self) -> None:
        checkpoint = await self._checkpoint("issues")
        since = self.since or checkpoint.synced_until
        params: dict[str, str | int] = {"state": "all", "sort": "updated", "direction": "asc"}
        if since is not None:
            params["since"] = _stamp(since)
        done = checkpoint.synced_until
        url: str | None = f"/repos/{self.full_name}/issues"
        query: dict[str, str | int] | None = params
        self._start_listing("issues")
        while url is not None:
            page = await self._fetch("issues", url, query)
            changes = Changes(issues=[parse_issue(r, self._repository_id) for r in page.items])
            await self._related(page.items, changes)
            done = _newest(done, *(issue.updated_at for issue in changes.issues))
            await self._commit(changes, "issues", synced_until=done)
            url, query = page.next_url, None

    async def _related(self, raws: list[JSON], changes: Changes) -> None:
        """Reviews and comments of the page's items updated inside the metrics window."""
        window_start = self.clock.now() - timedelta(days=self.settings.metrics_window_days)
        base = f"/repos/{self.full_name}"
        for raw in raws:
            if _updated(raw) < window_start:
                continue
            number = raw["number"]
            if raw.get("comments"):
                for comment in await self._all("comments", f"{base}/issues/{number}/comments"):
                    changes.comments.append(parse_comment(comment, self._repository_id))
            if "pull_request" not in raw:
                continue
            reviews = await self._all("reviews", f"{base}/pulls/{number}/reviews")
            changes.reviews += [
                review
                for r in reviews
                if (review := parse_review(r, self._repository_id)) is not None
            ]
            if reviews:  # review comments always belong to a review
                for comment in await self._all("comments", f"{base}/pulls/{number}/comments"):
                    changes.comments.append(parse_comment(comment, self._repository_id))

    async def _all(self, listing: str, url: str) -> list[JSON]:
        found: list[JSON] = []
        next_url: str | None = url
        query: dict[str, str | int] | None = {}
        while next_url is not None:
            page = await self._fetch(listing, next_url, query)
            found += page.items
            next_url, query = page.next_url, None
        return found

    def _events(self, raws: list[JSON]) -> Changes:
        parsed = (parse_issue_event(raw, self._repository_id) for raw in raws)
        return Changes(events=[event for event in parsed if event is not None])

    async def _newest_first(
        self,
        listing: str,
        path: str,
        params: dict[str, str | int],
        moment: Callable[[JSON], datetime],
        parse: Callable[[list[JSON]], Changes],
    ) -> None:
        """Walk a newest-first listing down to the checkpoint (or ``since``)."""
        checkpoint = await self._checkpoint(listing)
        stop = self.since or checkpoint.synced_until
        url: str | None = f"/repos/{self.full_name}/{path}"
        query: dict[str, str | int] | None = params
        newest: datetime | None = None
        if self.since is None and checkpoint.next_url is not None:  # resume the pass
            url, query, newest = checkpoint.next_url, None, checkpoint.pass_until
            log.info("%s: resuming %s at %s", self.full_name, listing, url)
        self._start_listing(listing)
        while url is not None:
            page = await self._fetch(listing, url, query)
            fresh = [raw for raw in page.items if stop is None or moment(raw) >= stop]
            newest = _newest(newest, *(moment(raw) for raw in fresh))
            finished = len(fresh) < len(page.items) or page.next_url is None
            if finished:
                until = _newest(checkpoint.synced_until, newest)
                await self._commit(parse(fresh), listing, synced_until=until)
                return
            await self._commit(
                parse(fresh),
                listing,
                synced_until=checkpoint.synced_until,
                pass_until=newest,
                next_url=page.next_url,
            )
            url, query = page.next_url, None

    # --- requests -------------------------------------------------------------------------

    async def _fetch(self, listing: str, url: str, query: dict[str, str | int] | None) -> Page:
        """One page; rate limits PyGithub's retry did not absorb are waited out on the clock."""
        while True:
            self.stats.requests[listing] = self.stats.requests.get(listing, 0) + 1
            try:
                page = await self.client.page(url, query)
            except RateLimited as limited:
                now = self.clock.now()
                if limited.retry_after is not None:
                    wake = now + timedelta(seconds=limited.retry_after)
                else:
                    wake = limited.reset_at or now
                wake = max(wake, now + MIN_RATE_WAIT)
                log.warning("%s: %s; waiting until %s", self.full_name, limited, wake)
                await self._extend_lease(wake + LEASE)
                await self.clock.sleep_until(wake)
                continue
            break
        self.stats.items[listing] = self.stats.items.get(listing, 0) + len(page.items)
        self.stats.rate_remaining, self.stats.rate_reset = page.rate_remaining, page.rate_reset
        if listing == self.stats.listing:
            self.stats.page += 1
            self.stats.last_page = page.last_page or self.stats.last_page
        self._report(page_done=listing == self.stats.listing)
        return page

    # --- progress -------------------------------------------------------------------------

    def _start_listing(self, listing: str) -> None:
        self.stats.listing, self.stats.page, self.stats.last_page = listing, 0, None
        self.stats.listing_started = self.clock.now()

    def _report(self, *, final: bool = False, page_done: bool = False) -> None:
        """A progress line every PROGRESS_EVERY or PROGRESS_PAGES pages, and at the end."""
        if self.progress is None:
            return
        now, stats = self.clock.now(), self.stats
        due = self._last_line is None or now - self._last_line >= PROGRESS_EVERY
        if not (final or due or (page_done and stats.page % PROGRESS_PAGES == 0)):
            return
        self._last_line = now
        eta = "done" if final else "ETA unknown"
        if not final and stats.last_page and stats.listing_started is not None and stats.page:
            per_page = (now - stats.listing_started) / stats.page
            left = per_page * max(stats.last_page - stats.page, 0)
            eta = f"{stats.listing} ETA {int(left.total_seconds())}s"
        rate = "?" if stats.rate_remaining is None else str(stats.rate_remaining)
        rate += " remaining"
        if stats.rate_reset is not None:
            rate += f" until {stats.rate_reset:%H:%M:%S} UTC"
        self.progress(
            f"sync {self.full_name}: {stats.total_items} items, "
            f"{stats.total_requests} requests, rate {rate}, {eta}"
        )

    # --- database: checkpoints and the lease ----------------------------------------------

    async def _checkpoint(self, listing: str) -> GitHubSyncCheckpoint:
        async with self.sessions() as session:
            found = await session.get(GitHubSyncCheckpoint, (self.key, listing))
        return found or GitHubSyncCheckpoint(repository=self.key, listing=listing)

    async def _commit(
        self,
        changes: Changes,
        listing: str | None = None,
        *,
        synced_until: datetime | None = None,
        pass_until: datetime | None = None,
        next_url: str | None = None,
    ) -> None:
        """Write a page and its checkpoint in one transaction, while still holding the lease."""
        async with self.sessions.begin() as session:
            await self._renew(session, self.clock.now() + LEASE)
            await lock_history(session)
            await apply(session, changes)
            if listing is None:
                return
            values = {
                "synced_until": synced_until,
                "pass_until": pass_until,
                "next_url": next_url,
                "updated_at": self.clock.now(),
            }
            statement = insert_for(session)(GitHubSyncCheckpoint).values(
                repository=self.key, listing=listing, **values
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["repository", "listing"],
                    set_={key: getattr(statement.excluded, key) for key in values},
                )
            )

    async def _take_lease(self) -> bool:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            statement = insert_for(session)(GitHubSyncLease).values(
                repository=self.key, holder=self.holder, expires_at=now + LEASE
            )
            # One statement, so two processes cannot both see the lease free and take it.
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["repository"],
                    set_={"holder": self.holder, "expires_at": now + LEASE},
                    where=or_(
                        GitHubSyncLease.expires_at < now, GitHubSyncLease.holder == self.holder
                    ),
                )
            )
            holder = await session.scalar(
                select(GitHubSyncLease.holder).where(GitHubSyncLease.repository == self.key)
            )
        return holder == self.holder

    async def _renew(self, session: AsyncSession, until: datetime) -> None:
        renewed = await session.execute(
            update(GitHubSyncLease)
            .where(GitHubSyncLease.repository == self.key, GitHubSyncLease.holder == self.holder)
            .values(expires_at=until)
        )
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            raise SyncBusy(f"{self.full_name}: the sync lease expired and was taken over")

    async def _extend_lease(self, until: datetime) -> None:
        async with self.sessions.begin() as session:
            await self._renew(session, until)

    async def _release_lease(self) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                delete(GitHubSyncLease).where(
                    GitHubSyncLease.repository == self.key, GitHubSyncLease.holder == self.holder
                )
            )


async def sync_repositories(
    client: GitHubClient,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: GitHubSettings,
    names: list[str],
    *,
    since: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[SyncStats], list[str]]:
    """Sync each repository in turn; returns the stats and the repositories skipped as busy."""
    done: list[SyncStats] = []
    busy: list[str] = []
    for name in names:
        job = RepositorySync(
            client, sessions, clock, settings, name, since=since, progress=progress
        )
        try:
            done.append(await job.run())
        except SyncBusy as exc:
            log.info("%s", exc)
            busy.append(name)
    return done, busy


class SyncScheduler:
    """Repairs missed webhooks: an incremental sync of every repository, run as a scheduled
    job (bot/scheduler.py) every ``sync_interval_minutes``.

    The checkpoints' times, in the database, keep processes from syncing a repository twice
    in an interval, and the per-repository lease from syncing it at the same time.
    """

    def __init__(
        self,
        client: GitHubClient,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: GitHubSettings,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.interval = timedelta(minutes=settings.sync_interval_minutes)

    async def repair(self) -> None:
        try:
            await self.run_once()
        except GitHubUnavailable as exc:
            log.warning("scheduled GitHub sync failed: %s", exc)

    async def run_once(self) -> None:
        """Sync every repository not synced (by any process) within the last interval."""
        names = await repositories(self.client, self.settings)
        recent = self.clock.now() - self.interval
        async with self.sessions() as session:
            fresh = set(
                await session.scalars(
                    select(GitHubSyncCheckpoint.repository).where(
                        GitHubSyncCheckpoint.listing == "events",
                        GitHubSyncCheckpoint.next_url.is_(None),
                        GitHubSyncCheckpoint.updated_at > recent,
                    )
                )
            )
        due = [name for name in names if name.lower() not in fresh]
        stats, _ = await sync_repositories(
            self.client, self.sessions, self.clock, self.settings, due
        )
        for done in stats:
            log.info(
                "synced %s: %d items in %d requests",
                done.repository,
                done.total_items,
                done.total_requests,
            )
