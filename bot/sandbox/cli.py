# SPDX-License-Identifier: Apache-2.0
"""`helios-bot sandbox`: play a scenario and print the transcript, or keep a demo running."""

from __future__ import annotations

import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.runtime import wait_for_shutdown_signal
from bot.sandbox.community import Sandbox
from bot.sandbox.openapi import SPEC_FILES, SpecMissing, require_spec
from bot.sandbox.scenario import ScenarioError, Transcript, load_scenario, run_scenario

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2  # the scenario or the config file was rejected when loaded
BUILT_IN = "first_month.toml"


async def run_sandbox(
    script: str | None, output: str, config: str | None = None, *, check_api: bool = False
) -> int:
    """Play ``script`` (or the built-in month and keep serving); ``check_api``: print, per
    route, the calls checked against Discord's and GitHub's API descriptions, which must
    then be installed."""
    path = Path(script) if script else Path(str(files("bot.sandbox.scenarios") / BUILT_IN))
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    organiser: Config | None = None
    if config is not None:
        try:
            # The file is checked as `check-config` does; secrets come from the sandbox, so
            # none is read from the environment.
            organiser = load_config(Path(config), {})
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_BAD_INPUT

    if check_api:
        try:
            for name in SPEC_FILES:
                require_spec(name)
        except SpecMissing as exc:
            print(exc, file=sys.stderr)
            return EXIT_BAD_INPUT
    served = False

    async def serve(sandbox: Sandbox, transcript: Transcript) -> None:
        nonlocal served
        served = True
        _print(transcript, output)
        print(
            f"\nThe bot's HTTP server is at {sandbox.running_bot.runtime.url} "
            "(/healthz, /readyz, /metrics). Ctrl-C to stop.",
            file=sys.stderr,
        )
        await wait_for_shutdown_signal()

    with tempfile.TemporaryDirectory(prefix="helios-sandbox-") as directory:
        transcript = await run_scenario(
            scenario,
            Path(directory),
            organiser_config=organiser,
            while_running=serve if script is None else None,
        )
    if not served:  # printed after shutdown, so errors logged then are in it too
        _print(transcript, output)
    if check_api:
        print(
            f"\nAPI calls checked against the published descriptions:\n{transcript.api_report}",
            end="",
            file=sys.stderr,
        )
    for failure in transcript.failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return EXIT_FAILED if transcript.failures else 0


def _print(transcript: Transcript, output: str) -> None:
    sys.stdout.write(transcript.jsonl() if output == "jsonl" else transcript.text())
    sys.stdout.flush()
