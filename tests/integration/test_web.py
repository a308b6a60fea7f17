# SPDX-License-Identifier: Apache-2.0
"""The HTTP server of `web` mode, started the way the CLI starts it, on both databases."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from alembic.util import pyfiles

from bot.clock import ManualClock
from bot.config import load_config
from bot.db.migrate import head_revision
from bot.runtime import Runtime
from bot.web.app import READINESS_TIMEOUT


@pytest.fixture
async def runtime_factory(
    empty_database_url: str, write_config: Callable[..., Path], clock: ManualClock
) -> AsyncIterator[Callable[..., Runtime]]:
    """Runtimes on one database, empty until one of them migrates it."""
    started: list[Runtime] = []

    def make(extra: str = "") -> Runtime:
        config = load_config(write_config(extra), {"DATABASE_URL": empty_database_url})
        runtime = Runtime(config, clock, "web")
        started.append(runtime)
        return runtime

    yield make
    for runtime in started:
        await runtime.close()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


async def test_health_readiness_and_metrics(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory()
    await runtime.start(apply_migrations=True)

    assert await get(f"{runtime.url}/healthz") == (200, "application/json", '{"status": "ok"}')
    status, _, body = await get(f"{runtime.url}/readyz")
    assert status == 200
    assert '"database": "ok"' in body
    assert '"migrations": "ok"' in body

    status, content_type, body = await get(f"{runtime.url}/metrics")
    assert (status, content_type) == (200, "text/plain")
    assert 'helios_build_info{mode="web",version="0.1.0"} 1.0' in body
    assert 'helios_http_requests_total{route="/healthz",status="200"} 1.0' in body
    assert "process_resident_memory_bytes" in body

    assert (await get(f"{runtime.url}/nope"))[0] == 404
    _, _, body = await get(f"{runtime.url}/metrics")
    assert 'helios_http_requests_total{route="unmatched",status="404"} 1.0' in body


async def test_readyz_and_metrics_can_have_an_address_of_their_own(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory("admin_port = 0\n")
    await runtime.start(apply_migrations=True)
    assert runtime.admin_url is not None
    assert runtime.admin_url != runtime.url

    # The webhook's address keeps /healthz, where the container's health check points.
    assert (await get(f"{runtime.url}/healthz"))[0] == 200
    assert (await get(f"{runtime.url}/readyz"))[0] == 404
    assert (await get(f"{runtime.url}/metrics"))[0] == 404

    assert (await get(f"{runtime.admin_url}/healthz"))[0] == 200
    assert (await get(f"{runtime.admin_url}/readyz"))[0] == 200
    status, _, body = await get(f"{runtime.admin_url}/metrics")
    assert status == 200
    # Requests to both addresses are counted.
    assert 'helios_http_requests_total{route="/healthz",status="200"} 2.0' in body
    assert 'helios_http_requests_total{route="unmatched",status="404"} 2.0' in body


async def test_without_an_admin_port_everything_is_on_one_address(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory()
    await runtime.start(apply_migrations=True)
    assert runtime.admin_url is None
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await get(f"{runtime.url}{path}"))[0] == 200


async def test_not_ready_until_migrated(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory()
    await runtime.start(apply_migrations=False)
    status, _, body = await get(f"{runtime.url}/readyz")
    assert status == 503
    assert f'"migrations": "database at None, code expects {head_revision()}"' in body
    assert (await get(f"{runtime.url}/healthz"))[0] == 200


async def test_a_restart_reads_no_migration_script_on_the_event_loop(
    runtime_factory: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    await runtime_factory().start(apply_migrations=True)  # the first start migrates
    head_revision.cache_clear()  # the next start is a new process: it reads the scripts again
    loop_thread = threading.current_thread()
    read: list[tuple[str, bool]] = []  # (script, read on the loop's thread)
    load = pyfiles.load_module_py

    def load_noting_the_thread(module_id: str, path: str) -> object:
        read.append((Path(path).name, threading.current_thread() is loop_thread))
        return load(module_id, path)

    monkeypatch.setattr(pyfiles, "load_module_py", load_noting_the_thread)
    runtime = runtime_factory()
    await runtime.start(apply_migrations=True)

    assert runtime.head_revision is not None
    assert f"{runtime.head_revision}_" in " ".join(name for name, _ in read)
    assert [name for name, on_loop in read if on_loop] == []


async def test_a_database_that_does_not_answer_makes_readyz_say_503(
    runtime_factory: Callable[..., Runtime],
) -> None:
    # One pooled connection (SQLite always has one), which the test then keeps busy.
    runtime = runtime_factory("[database]\npool_size = 1\nmax_overflow = 0\n")
    await runtime.start(apply_migrations=True)
    async with runtime.engine.connect():
        status, _, body = await get(f"{runtime.url}/readyz")
    assert status == 503
    assert json.loads(body)["checks"] == {
        "database": f"no answer within {READINESS_TIMEOUT:g} s",
        "migrations": f"no answer within {READINESS_TIMEOUT:g} s",
    }
    assert (await get(f"{runtime.url}/readyz"))[0] == 200  # and ready again once it answers


async def test_close_releases_everything(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory()
    await runtime.start(apply_migrations=True)
    url = runtime.url
    await runtime.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{url}/healthz")
    with pytest.raises(RuntimeError, match="has not run"):
        _ = runtime.engine
