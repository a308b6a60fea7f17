# SPDX-License-Identifier: Apache-2.0
"""The simulators' API checks in the test suite (bot/sandbox/openapi.py).

- A test during which a simulator answered (or was asked) something its API description
  does not allow fails, naming the route and the problem.
- With CI set, a missing description fails the run instead of turning the checks off.
- ``pytest --api-report`` prints, per route, the calls made and the calls fully valid,
  over the whole run (all xdist workers together).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from bot.sandbox.openapi import (
    LEDGER,
    SPEC_FILES,
    RouteTally,
    drain,
    preload,
    render_report,
    require_spec,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--api-report",
        action="store_true",
        help="print, per Discord and GitHub route, the calls the simulators saw and how many "
        "were valid against the published API descriptions",
    )


@pytest.fixture(scope="session", autouse=True)
def _api_descriptions() -> None:
    """Parsed before any test's event loop runs; in CI the checks must run: a description
    that is not installed fails every test."""
    preload()
    if os.environ.get("CI"):
        for name in SPEC_FILES:
            require_spec(name)


@pytest.fixture(autouse=True)
def _api_calls_valid() -> Iterator[None]:
    """Fail the test if a simulator's answer or the bot's request broke the API description."""
    LEDGER.take_violations()  # a test that already failed for them left these behind
    yield
    found = LEDGER.take_violations()
    if found:
        shown = "\n".join(f"  {v}" for v in found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        pytest.fail(f"calls that do not match the published API description:\n{shown}{more}")


# The report: each worker sends its tallies to the controller, which adds them up.

_WORKER_TALLIES = "api_tallies"


def pytest_sessionfinish(session: pytest.Session) -> None:
    drain()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_TALLIES] = [
            [api, route, tally.calls, tally.valid] for (api, route), tally in LEDGER.tallies.items()
        ]


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_testnodedown(node: Any, error: Any) -> None:
    for api, route, calls, valid in node.workeroutput.get(_WORKER_TALLIES, []):
        tally = LEDGER.tallies.setdefault((api, route), RouteTally())
        tally.calls += calls
        tally.valid += valid


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.getoption("--api-report") and not hasattr(config, "workeroutput"):
        terminalreporter.section("API calls checked against the published descriptions")
        terminalreporter.write(render_report(LEDGER.tallies, []))
