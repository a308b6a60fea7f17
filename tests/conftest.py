# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by every test: databases (SQLite and PostgreSQL), clock, loop watchdog."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate
from bot.db.reader import READER_THREAD, Reader

# Every simulator call checked against Discord's and GitHub's API descriptions.
pytest_plugins = ["tests.api_checks"]

POSTGRES_ENV = "HELIOS_TEST_POSTGRES_URL"
# Discord allows 3 s to acknowledge an interaction; a callback that keeps the loop's thread
# computing this long is a bug (PyGithub, heavy SQL and rendering belong in threads).
BLOCKING_CPU_LIMIT = 0.25
# A callback that holds the loop this long, computing or not, is a bug however busy the machine.
BLOCKING_WALL_LIMIT = 2.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """The test's kind of database: "sqlite" or "postgres"."""
    return str(request.param)


@pytest.fixture
def migrated(database: str, request: pytest.FixtureRequest) -> str:
    """A database of the test's kind migrated to head once per session (per xdist worker):
    each test's database is a copy, which saves alembic's fifth of a second a test on SQLite
    and over a second on PostgreSQL."""
    return str(request.getfixturevalue(f"migrated_{database}"))


@pytest.fixture
async def database_url(database: str, migrated: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new database at head: a SQLite file or a database on the test PostgreSQL."""
    async with new_database(database, tmp_path, migrated) as url:
        yield url


@pytest.fixture
async def empty_database_url(database: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database, for the tests of migrating."""
    async with new_database(database, tmp_path) as url:
        yield url


@contextlib.asynccontextmanager
async def new_database(
    kind: str, directory: Path, template: str | None = None
) -> AsyncIterator[str]:
    """The URL of a new database of ``kind`` ("sqlite": a file in ``directory``, or
    "postgres"), dropped afterwards; empty, or a copy of ``template`` (a SQLite file's path,
    or a PostgreSQL database's name)."""
    if kind == "sqlite":
        path = directory / "helios.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin_url = postgres_admin_url()
    name = f"helios_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        copy = f' TEMPLATE "{template}"' if template is not None else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def postgres_admin_url() -> str:
    """The test PostgreSQL's URL; skips the test where there is none (fails it in CI)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL suite")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return admin_url


async def _migrate_to_head(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()  # on SQLite, checkpoints the WAL into the file


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file migrated to head once per session (per xdist worker), which each test
    that uses ``engine`` gets a copy of."""
    path = tmp_path_factory.mktemp("template") / "helios.db"
    asyncio.run(_migrate_to_head(f"sqlite+aiosqlite:///{path}"))
    return str(path)


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """The name of a PostgreSQL database migrated to head once per session (per xdist
    worker), which each test that uses ``engine`` gets a database created from."""
    admin_url = postgres_admin_url()
    name = f"helios_template_{uuid.uuid4().hex[:16]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        # A template must have no connections when copied: the engine is disposed.
        asyncio.run(
            _migrate_to_head(
                make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            )
        )
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database at head, with the schema the migrations make (production's
    way; tests/integration/test_migrations.py runs them step by step)."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def read(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Reader]:
    """Reads as the bot makes them (bot/db/reader.py): in a thread on read-only connections of
    the SQLite file, on the reader's own thread and event loop on PostgreSQL."""
    reader = Reader(engine, sessions)
    yield reader
    await reader.close()


class LoopWatchdog:
    """Records the callbacks that block their event loop, in every loop of this process.

    Blocking is the loop's thread being kept from its other callbacks by the one running. It is
    judged on two clocks:

    - the CPU time the loop's thread spends in the callback, over BLOCKING_CPU_LIMIT: hashing,
      parsing, rendering, importing, SQL compiled on the loop. Wall time cannot tell this
      apart from a loaded machine: while other processes hold both cores, or another thread
      of this process holds the GIL, a callback of a few milliseconds takes hundreds
      (accepting a connection was seen to take 255 ms, and failed the suite);
    - the wall time, over BLOCKING_WALL_LIMIT: a callback that waits without computing
      (``time.sleep``, a blocking socket, lock or query) uses no CPU, so only its wall time
      shows it. The limit is one no loaded machine stretches a legitimate callback to; shorter
      waits escape this watchdog, and ruff's ASYNC rules flag the usual culprits
      (``time.sleep``, ``open``, ``subprocess``, blocking HTTP) in async functions instead.

    It wraps ``asyncio.Handle._run``, through which every asyncio loop (in any thread) runs
    each callback and each step of each task; uvloop would bypass it, and the bot does not use
    uvloop. The database reader's loop (bot/db/reader.py) is left out: it has a thread of its
    own so that reads can hold it.
    """

    def __init__(self) -> None:
        self.offences: list[str] = []
        self._run = asyncio.events.Handle._run

    def __enter__(self) -> LoopWatchdog:
        run, offences = self._run, self.offences

        def timed_run(handle: asyncio.Handle) -> None:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                run(handle)
            finally:
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                if (
                    cpu > BLOCKING_CPU_LIMIT or wall > BLOCKING_WALL_LIMIT
                ) and threading.current_thread().name != READER_THREAD:
                    offences.append(f"{_describe(handle)} used {cpu:.3f} s of CPU in {wall:.3f} s")

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._run  # type: ignore[method-assign]


def _describe(handle: asyncio.Handle) -> str:
    """The task whose step the handle ran (its coroutine and where it now waits), else the
    handle (its callback, and in debug mode where it was scheduled)."""
    task = getattr(handle._callback, "__self__", None)  # type: ignore[attr-defined]
    return repr(task) if isinstance(task, asyncio.Task) else repr(handle)


@pytest.fixture
async def no_blocking() -> AsyncIterator[None]:
    """Fail the test if any callback blocks an event loop (see :class:`LoopWatchdog`)."""
    # A full garbage collection of the test process's heap (pytest, hypothesis, every module
    # imported) pauses whichever callback is running for a good part of the limit on a busy
    # 2-core machine. That is the test harness, not the bot: collect now and keep the
    # collector off for the test, so what the watchdog measures is the code under test.
    gc.collect()
    gc.disable()
    # Debug mode for its other checks (loop calls from the wrong thread, where a never-awaited
    # coroutine was made, where each reported callback was scheduled); its own wall-time
    # warnings are silenced below the watchdog's wall limit: they are no verdict.
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = BLOCKING_WALL_LIMIT
    try:
        with LoopWatchdog() as watchdog:
            yield
    finally:
        gc.enable()
    if watchdog.offences:
        pytest.fail("the event loop was blocked:\n" + "\n".join(watchdog.offences))


@pytest.fixture
def dummy_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Dummy secrets in the environment, as an operator would set them."""
    env = {
        "DISCORD_TOKEN": "discord-token-for-tests",
        "GITHUB_TOKEN": "ghp_test_token_value",
        "GITHUB_WEBHOOK_SECRET": "webhook-secret-one,webhook-secret-two",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
    }
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file: the minimal required settings plus any extra TOML."""

    def write(extra: str = "", guild_id: int = 100000000000000001) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(
            f'[discord]\nguild_id = {guild_id}\n[web]\nhost = "127.0.0.1"\nport = 0\n{extra}',
            encoding="utf-8",
        )
        return path

    return write
