# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by every test: databases (SQLite and PostgreSQL), clock, loop watchdog."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import migrate

POSTGRES_ENV = "HELIOS_TEST_POSTGRES_URL"
# Discord allows 3 s to acknowledge an interaction; anything holding the loop this long is a
# bug (PyGithub, heavy SQL and rendering belong in threads).
BLOCKING_LIMIT = 0.25


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database: a SQLite file, or a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'helios.db'}"
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL suite")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"helios_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head, the way production gets its schema."""
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


class _SlowCallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing"):
            self.messages.append(message)


class CpuTimedEventLoop(asyncio.SelectorEventLoop):
    """A loop whose watchdog counts the CPU time a callback uses, not the wall time it takes.

    For a server whose loop runs in a thread beside the test's own Python code: the two share
    the GIL, so a callback's wall time includes the test's turns (a one-line future callback
    was seen to "take" 0.48 s). Callbacks over the limit are logged the way asyncio logs slow
    callbacks, so :func:`no_blocking` reports them.
    """

    def call_soon(self, callback: Callable[..., object], *args: Any, context: Any = None) -> Any:
        return super().call_soon(self._timed, callback, *args, context=context)

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> Any:
        return super().call_soon_threadsafe(self._timed, callback, *args, context=context)

    def call_at(
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> Any:
        return super().call_at(when, self._timed, callback, *args, context=context)

    @staticmethod
    def _timed(callback: Callable[..., object], *args: Any) -> None:
        started = time.thread_time()
        try:
            callback(*args)
        finally:
            used = time.thread_time() - started
            if used >= BLOCKING_LIMIT:
                logging.getLogger("asyncio").warning(
                    "Executing %r used %.3f s of CPU", callback, used
                )


@pytest.fixture
async def no_blocking() -> AsyncIterator[None]:
    """Fail the test if any callback blocks the event loop for longer than BLOCKING_LIMIT."""
    # A full garbage collection of the test process's heap (pytest, hypothesis, every module
    # imported) pauses whichever callback is running for a good part of the limit on a busy
    # 2-core machine. That is the test harness, not the bot: collect now and keep the
    # collector off for the test, so what the watchdog measures is the code under test.
    gc.collect()
    gc.disable()
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = BLOCKING_LIMIT
    watcher = _SlowCallbacks()
    asyncio_log = logging.getLogger("asyncio")
    asyncio_log.addHandler(watcher)
    try:
        yield
    finally:
        asyncio_log.removeHandler(watcher)
        gc.enable()
    if watcher.messages:
        pytest.fail("the event loop was blocked:\n" + "\n".join(watcher.messages))


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
