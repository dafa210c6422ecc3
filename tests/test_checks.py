"""The static checks, run by the suite so that `.ci/run` (which runs `python -m pytest`) runs them:
ruff (lint and import order), mypy, and the import-linter contract that the data side (api, sim,
monitor) never imports Textual or the UI. Their settings are in pyproject.toml; a failure shows
the tool's own report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHECKS = {
    "ruff": [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "hypertui"],
    "mypy": [sys.executable, "-m", "mypy"],  # the package and settings: [tool.mypy]
    "lint-imports": [
        sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    ],
}


@pytest.mark.parametrize("tool", list(CHECKS))
def test_the_package_passes(tool: str):
    # This checkout's package, whatever is installed: the contract resolves `hypertui` on the path.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(CHECKS[tool], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{tool} failed:\n{done.stdout}{done.stderr}"
