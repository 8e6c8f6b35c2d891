"""The repository is formatted and linted with ruff, as configured in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.tensorflow_only  # backend-independent: checked once, in the TensorFlow run


@pytest.mark.parametrize(
    "command",
    [["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]],
    ids=["lint", "format"],
)
def test_ruff_finds_nothing_to_change(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"`ruff {' '.join(command)}` failed; run `python3 tasks.py lint --fix` (ruff check --fix, ruff format) "
        f"and commit the result.\n{result.stdout}{result.stderr}"
    )
