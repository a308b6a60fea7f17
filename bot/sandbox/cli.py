# SPDX-License-Identifier: Apache-2.0
"""`helios-bot sandbox`: play a scenario and print the transcript, or keep a demo running."""

from __future__ import annotations

import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from bot.clock import ManualClock
from bot.runtime import wait_for_shutdown_signal
from bot.sandbox.community import Sandbox
from bot.sandbox.scenario import Runner, ScenarioError, Transcript, load_scenario

EXIT_FAILED = 1
EXIT_BAD_SCENARIO = 2
BUILT_IN = "first_month.toml"


async def run_sandbox(script: str | None, output: str) -> int:
    path = Path(script) if script else Path(str(files("bot.sandbox.scenarios") / BUILT_IN))
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_SCENARIO
    clock = ManualClock(scenario.start) if scenario.start else ManualClock()
    with tempfile.TemporaryDirectory(prefix="helios-sandbox-") as directory:
        sandbox = Sandbox(Path(directory), clock)
        await sandbox.start()
        try:
            try:
                transcript = await Runner(sandbox, clock).play(scenario)
            except ScenarioError as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                return EXIT_BAD_SCENARIO
            _print(transcript, output)
            if script is None:
                print(
                    f"\nThe bot's HTTP server is at {sandbox.running_bot.runtime.url} "
                    "(/healthz, /readyz, /metrics). Ctrl-C to stop.",
                    file=sys.stderr,
                )
                await wait_for_shutdown_signal()
        finally:
            await sandbox.stop()
    for failure in transcript.failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return EXIT_FAILED if transcript.failures else 0


def _print(transcript: Transcript, output: str) -> None:
    sys.stdout.write(transcript.jsonl() if output == "jsonl" else transcript.text())
    sys.stdout.flush()
