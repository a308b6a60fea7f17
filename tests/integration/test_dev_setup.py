# SPDX-License-Identifier: Apache-2.0
"""`make dev-setup`'s git pre-commit hook, in a scratch clone, and what `make test-quick` needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
VENV = Path(sys.executable).parents[1]  # the virtualenv running these tests has ruff
GOOD = "# SPDX-License-Identifier: Apache-2.0\n"


def run(
    *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, check=check, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with the project's .ci scripts and ruff settings, and clean sources."""
    # Neither the machine's nor the user's git settings (a global core.hooksPath) apply.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("VENV", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    run("git", "init", "-q", cwd=repo)
    run("git", "config", "user.email", "dev@helios.invalid", cwd=repo)
    run("git", "config", "user.name", "Helios Bot Dev", cwd=repo)
    shutil.copytree(ROOT / ".ci", repo / ".ci")
    shutil.copy(ROOT / "pyproject.toml", repo)
    for package in ("bot", "cogs", "migrations", "tests", "benchmarks"):
        (repo / package).mkdir()
        (repo / package / "__init__.py").write_text(GOOD)
    return repo


def commit(repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    run("git", "add", "-A", cwd=repo)
    return run("git", "commit", "-q", "-m", message, cwd=repo, check=False)


def test_the_hook_blocks_a_commit_with_style_problems(clone: Path) -> None:
    run("bash", ".ci/install-hooks.sh", str(VENV), cwd=clone)
    assert commit(clone, "clean sources").returncode == 0

    (clone / "bot" / "sloppy.py").write_text("import os\nx=1\n")
    refused = commit(clone, "sloppy")
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "F401" in said  # ruff check: os imported, unused
    assert "File would be reformatted\n --> bot/sloppy.py" in said  # ruff format --check
    assert "bot/sloppy.py: missing 'SPDX-License-Identifier: Apache-2.0'" in refused.stderr
    assert run("git", "log", "--format=%s", cwd=clone).stdout == "clean sources\n"

    (clone / "bot" / "sloppy.py").write_text(GOOD + "x = 1\n")
    assert commit(clone, "tidy").returncode == 0


def test_installing_twice_keeps_one_hook_and_a_foreign_hook_is_left_alone(clone: Path) -> None:
    hook = clone / ".git" / "hooks" / "pre-commit"
    run("bash", ".ci/install-hooks.sh", str(VENV), cwd=clone)
    first = hook.read_text()
    run("bash", ".ci/install-hooks.sh", str(VENV), cwd=clone)
    assert hook.read_text() == first
    assert str(VENV) in first
    assert sorted(p.name for p in hook.parent.iterdir() if not p.name.endswith(".sample")) == [
        "pre-commit"
    ]

    hook.write_text("#!/bin/sh\necho someone else's hook\n")
    kept = run("bash", ".ci/install-hooks.sh", str(VENV), cwd=clone)
    assert hook.read_text() == "#!/bin/sh\necho someone else's hook\n"
    assert "left alone" in kept.stderr


def test_dev_setup_installs_the_hook_and_quick_tests_need_no_node() -> None:
    env = {**os.environ, "VENV": str(VENV)}
    dev_setup = run("make", "-n", "dev-setup", f"VENV={VENV}", cwd=ROOT, env=env).stdout
    assert "install-hooks.sh" in dev_setup
    quick = run("make", "-n", "test-quick", f"VENV={VENV}", cwd=ROOT, env=env).stdout
    assert "npm" not in quick
    assert "pytest tests/unit" in quick
