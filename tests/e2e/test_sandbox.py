# SPDX-License-Identifier: Apache-2.0
"""`helios-bot sandbox --script`: the real CLI plays scenarios against the simulators."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).parents[2]


async def sandbox(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        *args,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def scenario(tmp_path: Path, steps: str) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text(f'name = "test"\nstart = 2026-02-02T10:00:00Z\n{steps}')
    return str(path)


async def test_first_week_example_plays_and_passes() -> None:
    code, out, err = await sandbox("--script", "examples/first-week.toml")
    assert code == 0, err + out
    lines = out.splitlines()
    assert (
        "Mon 05 Jan 09:00 [ 2] message     (only ines sees): [Helios bot status] buttons: Refresh"
        in lines
    )
    welcome = next(line for line in lines if "[Welcome to Helios Engine!]" in line)
    assert welcome.startswith("Mon 05 Jan 09:00 [ 4] message     (only ada sees): ")
    assert any("[Almost there] Linked to GitHub as **ada-codes**." in line for line in lines)
    assert "Mon 05 Jan 09:00 [12] role        Newcomer given ada" in lines
    assert any(
        line.endswith("github      POST /repos/{owner}/{repo}/issues/{number}/assignees x1")
        for line in lines
    )
    assert "FAILED" not in err


async def test_jsonl_output_is_one_object_per_line(tmp_path: Path) -> None:
    path = scenario(tmp_path, '[[step]]\nas = "ines"\nrun = "helios status"\n')
    code, out, _ = await sandbox("--script", path, "--format", "jsonl")
    assert code == 0
    entries = [json.loads(line) for line in out.splitlines()]
    # Step 0 is the start-up: the seeded good first issues are announced in #dev.
    assert [(e["kind"], e["where"]) for e in entries if e["step"] == 0] == [("message", "#dev")] * 2
    steps = [e for e in entries if e["step"] == 1]
    assert [e["kind"] for e in steps] == ["step", "message"]
    assert steps[1]["where"] == "(only ines sees)"
    assert steps[1]["time"] == "2026-02-02T10:00:00+00:00"


async def test_unmet_expectation_fails_the_run(tmp_path: Path) -> None:
    steps = '[[step]]\nas = "ada"\nrun = "helios status"\nexpect = "Helios bot status"\n'
    code, out, err = await sandbox("--script", scenario(tmp_path, steps))
    assert code == 1
    assert "expected to see 'Helios bot status': not seen" in out
    assert "FAILED step 1: 'Helios bot status' not seen" in err


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ('[[step]]\nrun = "helios status"\n', "step 1: 'run' needs 'as'"),
        ('[[step]]\nadvance = "soon"\n', "step 1: expected a duration like 90s"),
        ('[[step]]\ngithub = "delete_everything"\n', "step 1: unknown GitHub action"),
        (
            '[[step]]\ngithub = "merge"\nargs = { full_name = "a/b" }\n',
            "step 1: github merge: missing a required argument",
        ),
        ('[[step]]\njoin = "x"\nadvance = "1d"\n', "step 1: one action per step"),
        ('[[step]]\nshout = "hi"\n', "step.0.shout: Extra inputs are not permitted"),
    ],
)
async def test_malformed_scenario_is_refused_with_the_step_named(
    tmp_path: Path, steps: str, problem: str
) -> None:
    code, out, err = await sandbox("--script", scenario(tmp_path, steps))
    assert code == 2
    assert out == ""
    assert problem in err


async def test_without_a_script_it_plays_the_first_month_then_serves_until_ctrl_c() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    assert process.stdout is not None
    url = None
    while url is None:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
        assert line, "the sandbox exited before serving"
        if found := re.search(r"HTTP server is at (http://[0-9.:]+)", line):
            url = found.group(1)
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        assert response.status == 200
    process.send_signal(signal.SIGINT)
    transcript = (await asyncio.wait_for(process.stdout.read(), timeout=15)).decode()
    assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    assert "[Helios bot status]" in transcript
    assert "DM bruno: I've freed" in transcript  # the month ran to its last week
