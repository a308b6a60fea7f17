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
    # An embed shows whole, indented under its message's line.
    status = lines.index(
        "Mon 05 Jan 09:00 [ 2] message     (only ines sees): [Helios bot status] buttons: Refresh"
    )
    assert lines[status + 3] == "                      │ Features off: none"
    assert lines[status + 4] == "                      │ — Mon 05 Jan 2026 09:00 UTC"
    welcome = next(line for line in lines if "[Welcome to Helios Engine!]" in line)
    assert welcome.startswith("Mon 05 Jan 09:00 [ 4] message     (only ada sees): ")
    almost = next(i for i, line in enumerate(lines) if "[Almost there]" in line)
    assert lines[almost + 1] == "                      │ Linked to GitHub as **ada-codes**."
    assert "Mon 05 Jan 09:00 [12] role        Newcomer given ada" in lines
    # GitHub writes name what they change; the device flow's sign-in POSTs are not writes.
    writes = [line.split("github      ", 1)[1] for line in lines if "] github " in line]
    assert writes == [
        "POST /repos/{owner}/{repo}/issues/{number}/assignees on issue helios-engine/helios#1",
        "POST /repos/{owner}/{repo}/issues/{number}/comments on pull request "
        "helios-engine/helios#4",
    ]
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
    # As the bot sent it, and as a person reads it: the embed whole.
    assert steps[1]["text"] == "[Helios bot status] buttons: Refresh"
    assert steps[1]["rendered"].startswith("[Helios bot status] buttons: Refresh\nVersion: ")
    assert "\nFeatures off: none\n" in steps[1]["rendered"]
    assert steps[0]["rendered"] is None
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
        # A `say` beside another action used to be dropped without a word.
        (
            '[[step]]\nsay = "hi"\nas = "ines"\nrun = "helios status"\n',
            "step 1: one action per step, found say, run",
        ),
        ('[[step]]\nexpect = "hi"\n', "step 1: no action: a step needs one of say, join"),
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


async def test_a_click_on_a_missing_button_fails_naming_the_step(tmp_path: Path) -> None:
    steps = (
        '[[step]]\nas = "ada"\nrun = "start"\n'
        '[[step]]\nas = "ada"\nclick = "Accept"\n'
        '[[step]]\nas = "ines"\nrun = "helios status"\n'
    )
    code, out, err = await sandbox("--script", scenario(tmp_path, steps))
    assert code == 1, err
    assert err.splitlines()[-1] == (
        "FAILED step 2 (ada clicks 'Accept'): ada sees no button or menu 'Accept'; "
        "the newest offers 'I accept', 'Read the Code of Conduct'"
    )
    # The transcript up to the failure is printed; the scenario stops there.
    lines = out.splitlines()
    assert "[Welcome to Helios Engine!]" in lines[-6]  # its embed's three lines below it
    assert lines[-2].endswith("step        ada clicks 'Accept'")
    assert lines[-1].endswith(
        "failed      ada sees no button or menu 'Accept'; the newest offers 'I accept', "
        "'Read the Code of Conduct' (the scenario stops here: 1 step(s) not played)"
    )
    assert "Traceback" not in err


async def test_a_value_the_menu_does_not_offer_fails_naming_the_step(tmp_path: Path) -> None:
    steps = (
        '[[step]]\nas = "ada"\nrun = "start"\n'
        '[[step]]\nas = "ada"\nclick = "I accept"\n'
        '[[step]]\nas = "ada"\nselect = "Areas of interest"\nvalues = ["quantum"]\n'
    )
    code, out, err = await sandbox("--script", scenario(tmp_path, steps), "--format", "jsonl")
    assert code == 1, err
    assert err.splitlines()[-1] == (
        "FAILED step 3 (ada picks ['quantum'] in 'Areas of interest'): "
        "'quantum' not among the select's options (docs, core, sdk-python)"
    )
    last = json.loads(out.splitlines()[-1])
    assert (last["step"], last["kind"]) == (3, "failed")
    assert "Traceback" not in err


# An organiser's config: its own ids, repository and beginner label; a reminder after 2 days;
# good first issues announced in the help channel.
ORGANISER_CONFIG = """\
[discord]
guild_id = 900000000000000001
[github]
repositories = ["acme/widgets"]
[admin]
organiser_role_id = 900000000000000002
[announcements]
good_first_issues_channel_id = 900000000000000004
[onboarding]
code_of_conduct_url = "https://example.org/coc"
contributing_url = "https://example.org/contributing"
help_channel_id = 900000000000000004
newcomer_role_id = 900000000000000005
github_oauth_client_id = "Iv1.acme"
beginner_labels = ["beginner"]
claim_reminder_days = 2
claim_release_days = 4
areas = [{ name = "docs", labels = ["docs"] }]
"""

CLAIM_AND_WAIT = """\
[[step]]
as = "ines"
run = "helios status"
expect = "Helios bot status"
[[step]]
as = "bruno"
run = "start"
[[step]]
as = "bruno"
click = "I accept"
[[step]]
as = "bruno"
select = "Areas of interest"
values = ["docs"]
[[step]]
as = "bruno"
select = "Your experience"
values = ["some"]
[[step]]
as = "bruno"
click = "Continue"
[[step]]
as = "bruno"
click = "Link with GitHub"
[[step]]
as = "bruno"
authorize = "bruno-dev"
[[step]]
as = "bruno"
click = "Claim {repo}#1"
expect = "It's yours"
[[step]]
advance = "2d"
"""


async def test_an_organisers_config_is_what_the_bot_runs_with(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(ORGANISER_CONFIG)
    demo = scenario(tmp_path, CLAIM_AND_WAIT.format(repo="helios"))
    code, out, err = await sandbox("--script", demo)
    assert code == 0, err
    announced = [line for line in out.splitlines() if "New good first issue!" in line]
    assert all("message     #dev: " in line for line in announced)
    assert "How is it going?" not in out  # the demo reminds after 7 days

    (tmp_path / "organiser").mkdir()
    own = scenario(tmp_path / "organiser", CLAIM_AND_WAIT.format(repo="widgets"))
    code, out, err = await sandbox("--script", own, "--config", str(config))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:4] == [
        "Mon 02 Feb 10:00 [ 0] config      admin.organiser_role_id = 900000000000000002: "
        "role Organiser",
        "Mon 02 Feb 10:00 [ 0] config      onboarding.help_channel_id = 900000000000000004: #help",
        "Mon 02 Feb 10:00 [ 0] config      onboarding.newcomer_role_id = 900000000000000005: "
        "role Newcomer",
        "Mon 02 Feb 10:00 [ 0] config      announcements.good_first_issues_channel_id = "
        "900000000000000004: the same channel as #help",
    ]
    # Its repository and beginner label, announced in the channel it configured.
    assert lines[4:6] == [
        "Mon 02 Feb 10:00 [ 0] message     #help: New good first issue! Claim it here if "
        "you'd like to take it on. [acme/widgets#1: Document the cache eviction flags] "
        "buttons: Claim",
        "                      │ `beginner`",
    ]
    reminder = next(line for line in lines if "How is it going?" in line)
    assert reminder.startswith("Wed 04 Feb 10:00 [10] message     DM bruno: Hi! You claimed")
    assert "2 days ago" in reminder


async def test_a_config_the_bot_cannot_use_fails_the_run(tmp_path: Path) -> None:
    """The bot logs an error at start-up, before the first step: the run fails."""
    config = tmp_path / "config.toml"
    # A role id copied from a channel: the bot cannot find the role.
    config.write_text(
        ORGANISER_CONFIG.replace(
            "newcomer_role_id = 900000000000000005", "newcomer_role_id = 900000000000000004"
        )
    )
    steps = '[[step]]\nas = "ines"\nrun = "helios status"\n'
    code, out, err = await sandbox("--script", scenario(tmp_path, steps), "--config", str(config))
    assert code == 1
    assert (
        "FAILED start-up: the bot logged an error: bot.app: config onboarding.newcomer_role_id: "
        "role 900000000000000004 does not exist in guild Helios Engine (900000000000000001); "
        "feature 'onboarding' is off until the config is fixed and the bot restarted"
    ) in err.splitlines()
    assert (
        "config      onboarding.newcomer_role_id = 900000000000000004: already the channel "
        "#help, so no role has it"
    ) in out
    assert "[ 0] error       bot.app: config onboarding.newcomer_role_id: role" in out
    assert "[ 1] step        ines runs /helios status" in out  # the scenario still ran


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            ORGANISER_CONFIG.replace("claim_reminder_days = 2", "claim_reminder_days = 5"),
            "onboarding: claim_reminder_days must be less than claim_release_days",
        ),
        (ORGANISER_CONFIG + "[web]\nprot = 1\n", "web.prot: unknown key"),
        (ORGANISER_CONFIG + '[database]\nurl = "sqlite://"\n', "database.url: secrets must"),
    ],
)
async def test_a_malformed_config_is_refused_naming_file_and_key(
    tmp_path: Path, config: str, problem: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config)
    steps = '[[step]]\nas = "ines"\nrun = "helios status"\n'
    code, out, err = await sandbox("--script", scenario(tmp_path, steps), "--config", str(path))
    assert code == 2
    assert out == ""
    assert f"{path}: {problem}" in err


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
    # January's Community Champions, on time, with their role.
    first_of_february = [s for s in transcript.splitlines() if s.startswith("Sun 01 Feb 15:00")]
    assert any("#spotlight: 🏆 **Community Champions** of January" in s for s in first_of_february)
    assert any(s.endswith("role        Champion given kofi") for s in first_of_february)
    # Service levels: each stage once, silence once the issue is labelled, while the pull
    # request waits on its author and once Bruno's is snoozed; one digest.
    said = []
    for line in transcript.splitlines():
        if "message     #triage: " in line:
            text = line.split("#triage: ", 1)[1]
            item = re.search(r"\[(helios-engine/[\w-]+#\d+)\]", text)
            said.append((line[:16], text.split()[0], item.group(1) if item else None))
    sdk = "helios-engine/helios-sdk-python"
    assert said == [
        ("Tue 06 Jan 03:00", "⏳", f"{sdk}#2"),
        ("Tue 06 Jan 09:00", "⚠️", f"{sdk}#2"),
        ("Wed 07 Jan 05:00", "⏳", f"{sdk}#3"),
        ("Wed 07 Jan 09:00", "⚠️", f"{sdk}#3"),
        ("Wed 21 Jan 09:00", "🚨", "helios-engine/helios#5"),
        ("Tue 10 Feb 18:00", "[Service", None),
        ("Tue 10 Feb 21:00", "⏳", f"{sdk}#3"),
    ]
