"""The README's example runs as written (in a fresh process, on the default backend)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.tensorflow_only


def test_readme_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'sparsity_strength': [0.1, 0.0]" in result.stdout, result.stdout
    assert "per-image squared error:" in result.stdout
    assert (tmp_path / "ae.keras").exists()
