"""The README's interactive path: JupyterLab from this environment runs Lecture 1's set-up cell.

Drives a real JupyterLab in headless Chromium (aekeras_tools.jupyterlab).
"""

import os

import pytest

from aekeras_tools import browser
from aekeras_tools import jupyterlab
from aekeras_tools.paths import COURSE

# Starts JupyterLab and a kernel; one backend is enough.
pytestmark = [pytest.mark.tensorflow_only, pytest.mark.notebook]


def test_lecture_1_opens_and_its_set_up_cell_runs_in_the_project_kernel(capsys):
    if browser.find_chromium() is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    problems = jupyterlab.check(COURSE / "01_autoencoders.ipynb")
    out = capsys.readouterr().out
    assert problems == [], problems
    assert "Backend " in out and "RISE preview:" in out
