# SPDX-License-Identifier: Apache-2.0
"""SIGTERM and SIGINT on a real `helios-bot web` process: during start-up, with a request in
flight, and with a database that does not answer.

PostgreSQL makes the awkward moments observable from outside: who waits for which lock is in
``pg_locks`` and ``pg_stat_activity``, so each signal is sent exactly when the process is stuck
where the test wants it.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.db.migrate import _MIGRATION_LOCK_ID
from bot.github.signature import sign
from tests.integration.processes import start_web

SECRET = "shutdown-webhook-secret"
# A hang detector, far above the 10 s the shutdown is allowed: not a measurement.
HANG = 60

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database", ["postgres"], indirect=True),
]


class WebProcess:
    """A `helios-bot web` child whose log is read as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._new_line:
                self.lines.append(line.decode())
                self._new_line.notify_all()
        async with self._new_line:
            self._new_line.notify_all()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def wait_for_line(self, pattern: str) -> re.Match[str]:
        async def found() -> re.Match[str]:
            async with self._new_line:
                while True:
                    for line in self.lines:
                        if match := re.search(pattern, line):
                            return match
                    if self._reader.done():
                        raise AssertionError(f"exited without logging {pattern!r}:\n{self.log}")
                    await self._new_line.wait()

        return await asyncio.wait_for(found(), HANG)

    async def exit_code(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), HANG)
        await self._reader
        return code


@asynccontextmanager
async def web(config: Path, database_url: str) -> AsyncIterator[WebProcess]:
    process = await start_web(
        config, {"DATABASE_URL": database_url, "GITHUB_WEBHOOK_SECRET": SECRET}
    )
    child = WebProcess(process)
    try:
        yield child
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await child._reader


async def until(connection: asyncpg.Connection, query: str, what: str) -> None:
    """Poll the database until ``query`` counts a row (the state is in PostgreSQL only)."""
    for _ in range(HANG * 20):
        # pg_stat_activity is read once per transaction unless its snapshot is cleared.
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        if await connection.fetchval(query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


async def post_delivery(url: str, delivery_id: str) -> tuple[int, dict[str, str]]:
    body = json.dumps({"action": "started"}).encode()  # an event the bot records, not uses
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "watch",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(body, SECRET),
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/github/webhook", data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def plain(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


# In this test's database only: tests on other databases of the server run beside it.
INSERT_WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND query LIKE 'INSERT INTO webhook_deliveries%' AND datname = current_database()"
)


Posting = asyncio.Task[tuple[int, dict[str, str]]]


@asynccontextmanager
async def a_delivery_waiting_for_its_commit(
    url: str, database_url: str, delivery_id: str
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.transaction.Transaction, Posting]]:
    """A delivery posted while another connection holds the inbox table locked.

    Yields that connection, its open transaction (commit it to let the insert through) and the
    request's task.
    """
    other = await asyncpg.connect(plain(database_url))
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE")
        posting = asyncio.create_task(post_delivery(url, delivery_id))
        await until(other, INSERT_WAITING, "the delivery waiting for its commit")
        yield other, transaction, posting
    finally:
        await other.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_while_migrating_stops_cleanly(
    dummy_env: dict[str, str],
    write_config: Callable[..., Path],
    empty_database_url: str,
    sig: signal.Signals,
) -> None:
    other = await asyncpg.connect(plain(empty_database_url))
    try:
        # Another process is migrating: this one waits for the lock, inside start-up.
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK_ID)
        async with web(write_config(), empty_database_url) as child:
            # This database's lock only: tests on other databases of the same server wait
            # for their own migration locks at the same time.
            await until(
                other,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                "the web process waiting to migrate",
            )
            child.process.send_signal(sig)
            assert await child.exit_code() == 0, child.log
        await transaction.rollback()
        assert "shutting down" in child.log
        assert "stopped cleanly" in child.log
        assert "serving on" not in child.log
        assert "Traceback" not in child.log
        # The migration was abandoned whole: nothing of the schema was committed.
        assert not await other.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
    finally:
        await other.close()


async def test_a_request_in_flight_is_answered_before_the_process_stops(
    dummy_env: dict[str, str], write_config: Callable[..., Path], database_url: str
) -> None:
    async with web(write_config(), database_url) as child:
        url = (await child.wait_for_line(r"serving on (http://[0-9.:]+)"))[1]
        async with a_delivery_waiting_for_its_commit(url, database_url, "in-flight-1") as (
            other,
            transaction,
            posting,
        ):
            child.process.send_signal(signal.SIGTERM)
            await child.wait_for_line("shutting down")
            await transaction.commit()  # the database answers again: the request completes

            assert await posting == (202, {"status": "ignored"})
            assert await child.exit_code() == 0, child.log
            stored = await other.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = 'in-flight-1'"
            )
            assert stored == 1
    assert "stopped cleanly" in child.log


async def test_a_database_that_does_not_answer_cannot_hold_up_the_shutdown(
    dummy_env: dict[str, str], write_config: Callable[..., Path], database_url: str
) -> None:
    async with web(write_config(), database_url) as child:
        url = (await child.wait_for_line(r"serving on (http://[0-9.:]+)"))[1]
        async with a_delivery_waiting_for_its_commit(url, database_url, "never-acknowledged") as (
            other,
            transaction,
            posting,
        ):
            child.process.send_signal(signal.SIGTERM)
            # The lock is held until the process has gone: every wait has to be cut short.
            assert await child.exit_code() == 0, child.log
            with pytest.raises(aiohttp.ClientError):
                await posting  # no answer, so GitHub delivers it again
            await transaction.commit()
            stored = await other.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = 'never-acknowledged'"
            )
            assert stored == 0
    assert "webhook inbox: not all deliveries committed within" in child.log
    assert "stopped; some work was cut short by the shutdown deadline" in child.log
