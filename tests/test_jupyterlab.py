"""The README's interactive path: JupyterLab from this environment runs Lecture 1's set-up cell.

Drives a real JupyterLab in headless Chromium (course/check_jupyterlab.py).
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "course"))
import browser  # noqa: E402
import check_jupyterlab  # noqa: E402

pytestmark = pytest.mark.tensorflow_only  # starts a kernel; one backend is enough


def test_lecture_1_opens_and_its_set_up_cell_runs_in_the_project_kernel(capsys):
    if browser.find_chromium() is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    problems = check_jupyterlab.check(ROOT / "course" / "01_autoencoders.ipynb")
    out = capsys.readouterr().out
    assert problems == [], problems
    assert "Backend " in out and "RISE preview:" in out
