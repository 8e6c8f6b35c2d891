"""The benchmark scripts' helpers: result tables and the lecture times read from nbval's report."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import common  # noqa: E402
import lecture_times  # noqa: E402

pytestmark = pytest.mark.tensorflow_only  # runs a notebook kernel, like the nbval run it reads


def test_table_aligns_columns_in_markdown():
    text = common.table(["a", "long header"], [[1, "x"], ["wider cell", 2.5]])
    lines = text.splitlines()
    assert lines[0] == "| a          | long header |"
    assert lines[1] == "| ---------- | ----------- |"
    assert lines[3] == "| wider cell | 2.5         |"
    assert len({len(line) for line in lines}) == 1


def test_lecture_times_sums_cells_per_notebook_from_nbval_junit(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name, sleeps in [("01_fast", [0.0]), ("02_slow", [0.0, 0.6])]:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [
            nbformat.v4.new_code_cell(f"import time; time.sleep({s})") for s in sleeps
        ]
        nbformat.write(nb, course / f"{name}.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("assert False, 'a failing cell'")]
    nbformat.write(nb, course / "03_broken.ipynb")
    junit = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "course", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         f"--junitxml={junit}"],
        cwd=tmp_path, capture_output=True, check=False,
    )

    times = lecture_times.notebook_times(junit)

    assert sorted(times) == ["01_fast", "02_slow", "03_broken"]
    assert [ok for _, _, ok in times["02_slow"]] == [True, True]
    assert times["03_broken"][0][2] is False
    slow_cell = times["02_slow"][1]
    assert slow_cell[0] == "Cell 1" and 0.6 <= slow_cell[1] < 5.0
