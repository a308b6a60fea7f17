# SPDX-License-Identifier: Apache-2.0
"""The ``github-redeliver`` job: ask GitHub to redeliver webhook deliveries that failed.

GitHub never retries a failed delivery by itself (one the bot answered 503 while its
database was down, or that found no server during a restart). It keeps a log of every
attempt at its App's webhook, though, and redelivers one on request, with the same
X-GitHub-Delivery id. So this job, as GitHub advises, reads the attempts of the last
``github.redeliver_lookback_hours`` (newest first, 100 a page) and asks again for each event
whose attempts all failed, unless:

- the newest attempt got an answer a retry cannot change: a 4xx other than 408 and 429 (a
  bad signature, a malformed delivery) or a 500 (the database refused its values);
- the inbox holds the event already (committed, but the answer never reached GitHub).

An event is asked for at most once a run; one that fails again is asked for again by the
next run, until GitHub's own limit (3 days) ends it. A copy that arrives twice is stored
once (the inbox deduplicates by delivery id). App webhooks only: their log needs the App's
JWT.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.models import WebhookDelivery
from bot.github.api import GitHubUnavailable
from bot.github.client import GitHubClient, RateLimited
from bot.github.normalise import HookDeliveryRecord, parse_hook_delivery
from bot.log import get_logger

log = get_logger(__name__)

DELIVERIES = "/app/hook/deliveries"
# Delivery ids looked up in the inbox per query (well under every database's bound).
LOOKUP_CHUNK = 500


def worth_redelivering(status_code: int) -> bool:
    """Whether an attempt that got this answer failed for a reason a retry may fix: no
    answer at all, a timeout, a busy or absent server (408, 429, 502-504...)."""
    delivered = 200 <= status_code < 300
    refused = status_code == 500 or (400 <= status_code < 500 and status_code not in (408, 429))
    return not (delivered or refused)


class Redelivery:
    def __init__(
        self,
        github: GitHubClient,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        lookback: timedelta,
    ) -> None:
        self._github = github
        self._sessions = sessions
        self._clock = clock
        self._lookback = lookback

    async def run(self) -> None:
        failed = await self._failed()
        stored = await self._stored(list(failed))
        asked = 0
        for guid, attempt in failed.items():
            if guid in stored:
                continue
            try:
                await self._github.redeliver(attempt.id)
            except RateLimited:
                raise  # the next run picks up where this one stopped
            except GitHubUnavailable as exc:  # say, an attempt GitHub no longer keeps
                log.warning("could not ask GitHub to redeliver %s: %s", guid, exc)
                continue
            asked += 1
        if asked:
            log.info("asked GitHub to redeliver %d failed webhook deliveries", asked)

    async def _failed(self) -> dict[str, HookDeliveryRecord]:
        """The newest attempt of each event in the lookback whose attempts all failed, for a
        reason a retry may fix, by event (guid)."""
        horizon = self._clock.now() - self._lookback
        newest: dict[str, HookDeliveryRecord] = {}
        delivered: set[str] = set()
        url: str | None = DELIVERIES
        params: dict[str, str | int] | None = {}
        while url is not None:
            page = await self._github.app_page(url, params)
            url, params = page.next_url, None
            for item in page.items:
                attempt = parse_hook_delivery(item)
                if attempt.delivered_at < horizon:  # newest first: the rest is older still
                    url = None
                    break
                newest.setdefault(attempt.guid, attempt)
                if 200 <= attempt.status_code < 300:
                    delivered.add(attempt.guid)
        return {
            guid: attempt
            for guid, attempt in newest.items()
            if guid not in delivered and worth_redelivering(attempt.status_code)
        }

    async def _stored(self, guids: list[str]) -> set[str]:
        """Those of ``guids`` the inbox holds."""
        found: set[str] = set()
        async with self._sessions() as session:
            for start in range(0, len(guids), LOOKUP_CHUNK):
                chunk = guids[start : start + LOOKUP_CHUNK]
                found |= set(
                    await session.scalars(
                        select(WebhookDelivery.delivery_id).where(
                            WebhookDelivery.delivery_id.in_(chunk)
                        )
                    )
                )
        return found
