"""The README's example runs as written (in a fresh process, on the default backend)."""

import os
import subprocess
import sys

import pytest

# The README's example trains on all of MNIST (a minute or two).
pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]


def test_readme_example_runs(tmp_path, readme_example):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run(
        [sys.executable, "-c", readme_example.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    readme_example.check(result.stdout, tmp_path)
