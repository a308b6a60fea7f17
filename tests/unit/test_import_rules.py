# SPDX-License-Identifier: Apache-2.0
"""The import-linter contracts in pyproject.toml, which `make lint` runs, catch a bad import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SERVICES_CONTRACT = "services never import discord, aiohttp, cogs or the web layer"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the packages and their contracts, to break without touching the checkout."""
    for package in ("bot", "cogs"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_services_contract(project: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working directory first on sys.path, so it analyses the copy rather
    # than the installed packages. Only this contract: its exit status is then its verdict.
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--contract", "services"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def test_services_contract_is_kept_by_the_code_as_it_is(project: Path) -> None:
    result = lint_services_contract(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SERVICES_CONTRACT in result.stdout


def test_a_service_importing_discord_breaks_the_services_contract(project: Path) -> None:
    history = project / "bot" / "services" / "history.py"
    history.write_text("import discord\n" + history.read_text())
    result = lint_services_contract(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert SERVICES_CONTRACT in result.stdout
    assert "bot.services.history -> discord (l.1)" in result.stdout
