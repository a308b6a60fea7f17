# SPDX-License-Identifier: Apache-2.0
"""Promises the repository makes about itself: packaging, Docker image, docs, extensions."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.app import extension_names

ROOT = Path(__file__).parents[2]


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per build stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_exec_entrypoint() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    final = dict(stages[-1])
    assert final["USER"] not in ("root", "0")
    assert "/healthz" in final["HEALTHCHECK"]
    # Exec form, so SIGTERM reaches helios-bot rather than a shell.
    assert json.loads(final["ENTRYPOINT"]) == ["helios-bot"]
    assert json.loads(final["CMD"]) == ["run"]
    assert "8080" in final["EXPOSE"]


def test_dockerfile_copies_only_paths_that_exist() -> None:
    for stage in dockerfile_stages():
        for instruction, arguments in stage:
            if instruction == "COPY" and not arguments.startswith("--from"):
                for source in arguments.split()[:-1]:
                    assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_wheel_carries_the_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("helios_bot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "migrations/env.py" in names
    assert "migrations/script.py.mako" in names
    assert any(name.startswith("migrations/versions/0001_") for name in names)
    assert "bot/__main__.py" in names


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^\s*make test\b", ci, re.M)


@pytest.mark.parametrize("name", extension_names())
def test_every_extension_imports_and_has_setup(name: str) -> None:
    module = importlib.import_module(name)
    assert callable(getattr(module, "setup", None))


def test_every_module_and_package_under_cogs_is_an_extension() -> None:
    # Every directory counts: one without __init__.py is not a package to pkgutil, so the bot
    # would never load it.
    on_disk = {
        f"cogs.{path.stem}"
        for path in (ROOT / "cogs").iterdir()
        if not path.name.startswith(("_", ".")) and (path.is_dir() or path.suffix == ".py")
    }
    assert set(extension_names()) == on_disk
