"""Helpers of the class grader's tests: a toy nbgrader course, submissions built from instructor notebooks,
and the grader's command.

The toy assignment `toy` has two answer cells: `double(x)` (NumPy only, 2 points) and `total`, computed
in the notebook (1 point). Its checks draw the inputs of `double` afresh, so only a correct function
earns its points. The real assignments are built from their instructor notebooks: `as_student` turns
the instructor's solution into a notebook a student could have written (same code, not the
instructor's text line for line), `blank` into the release.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_markdown_cell
from nbformat.v4 import new_notebook

from aekeras_tools.grading import batch
from aekeras_tools.grading import judging
from aekeras_tools.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]
COURSE_DIR = ROOT / "course" / "assignments"
ASSIGNMENTS = ("a1_autoencoders", "a2_sparse", "a3_denoising")
SECRET = "HIDDEN_TEST_MARKER_31415"
BLANK = "raise NotImplementedError()"


def require_sandbox():
    """Skips without bubblewrap and namespaces, but fails under CI=true: CI must test the grader."""
    reason = sandbox.unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the class grader cannot be tested here (CI=true): {reason}")
    pytest.skip(f"the class grader's sandbox is unavailable here: {reason}")


TOY_CHECKS = textwrap.dedent(
    '''
    """Checks of the toy assignment (instructor-only)."""
    import numpy as np

    from aekeras_tools.grading.probe import got
    from aekeras_tools.grading.steps import Step

    NOTEBOOK = "toy"
    STEPS = [
        Step(
            "numpy",
            "attempt('double', double, inputs['x'])",
            cells=["answer_double"],
            numpy_only=True,
            inputs=lambda rng: {"x": rng.random((3, 4))},
            wall_s=20,
            memory_bytes=2**30,
            processes=32,
            file_bytes=2**20,
        ),
        Step(
            "notebook",
            "export('total', total)",
            cells=None,
            wall_s=8,
            memory_bytes=2**30,
            processes=32,
            file_bytes=2**20,
        ),
    ]


    def check_double(values, inputs):
        x = inputs["numpy.x"]
        value = got(values, "numpy.double", "double(x)")
        assert value.shape == x.shape and np.allclose(value, 2 * x), (
            f"double(x) must return 2 * x, with the shape of x {x.shape}; got {value!r}"
        )


    def check_total(values, inputs):
        value = float(got(values, "notebook.total", "total"))
        assert value == 12.0, f"total must be double(np.arange(4)).sum() = 12; got {value}"


    check_double.steps = ["numpy"]
    check_total.steps = ["notebook"]
    CHECKS = {"test_double": check_double, "test_total": check_total}
    '''
)


def meta(grade_id, *, grade=False, solution=False, locked=False, points=0):
    nbgrader = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": locked}
    nbgrader.update(schema_version=3, task=False, **({"points": points} if grade else {}))
    return {"nbgrader": nbgrader}


def toy_source():
    return new_notebook(
        cells=[
            new_markdown_cell("# Toy", metadata=meta("intro", locked=True)),
            new_code_cell(
                "%matplotlib inline\nimport numpy as np", metadata=meta("setup", locked=True)
            ),
            new_code_cell(
                "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * np.asarray(x)\n"
                "    ### END SOLUTION",
                metadata=meta("answer_double", solution=True),
            ),
            new_code_cell(
                f"assert double(1) == 2\n### BEGIN HIDDEN TESTS\n# {SECRET}\n### END HIDDEN TESTS",
                metadata=meta("test_double", grade=True, locked=True, points=2),
            ),
            new_code_cell(
                "total = double(np.arange(4)).sum()", metadata=meta("answer_total", solution=True)
            ),
            new_code_cell(
                "assert total == 12", metadata=meta("test_total", grade=True, locked=True, points=1)
            ),
        ]
    )


def toy_answers(double=BLANK, total=BLANK):
    """The toy notebook as a student hands it in, with these answers."""
    notebook = toy_source()
    for cell in notebook.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if grade_id == "answer_double":
            cell.source = double
        elif grade_id == "answer_total":
            cell.source = total
        elif grade_id == "test_double":
            cell.source = "assert double(1) == 2"
    return notebook


TOY_HONEST = toy_answers("def double(x):\n    return x + x", "total = double(np.arange(4)).sum()")


def toy_course(base, checks=TOY_CHECKS, source=None):
    """A toy course directory under `base`: the instructor notebook and its checks."""
    course = Path(base) / "toy-course"
    (course / "source" / "toy").mkdir(parents=True)
    course.chmod(
        0o755
    )  # world-readable, like a course on a shared machine: the sandbox shows none of it
    nbformat.write(source or toy_source(), course / "source" / "toy" / "toy.ipynb")
    (course / "grading").mkdir()
    (course / "grading" / "checks_toy.py").write_text(checks)
    return course


def submit(course, student, content, assignment="toy", name=None):
    """Writes a submission (a notebook, or raw text) as nbgrader's collect would; returns its path."""
    folder = Path(course) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{assignment}.ipynb")
    text = content if isinstance(content, str) else nbformat.writes(content)
    path.write_text(text.replace("COURSE + '", f"'{course}"))
    return path


# ----------------------------------------------------------------- the real assignments
def instructor(assignment):
    return nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _without_regions(text):
    text = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", "", text, flags=re.M)
    return re.sub(
        r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
        "",
        text,
        flags=re.S | re.M,
    )


def student_version(assignment, answers=None, rest="solution"):
    """The notebook a student hands in: the instructor notebook without its hidden tests and region
    markers, with the answer cells of `answers` ({grade id: source}) replaced and every other answer
    cell the instructor's solution rewritten as a student would (`rest="solution"`) or left blank
    (`rest="blank"`, as released)."""
    notebook = instructor(assignment)
    for cell in notebook.cells:
        marks = cell.metadata.get("nbgrader", {})
        grade_id = marks.get("grade_id")
        if answers and grade_id in answers:
            cell.source = textwrap.dedent(answers[grade_id]).strip("\n")
        elif marks.get("solution") and rest == "blank":
            cell.source = BLANK if cell.cell_type == "code" else "YOUR ANSWER HERE"
        elif marks.get("solution") and cell.cell_type == "code":
            # The same code with a comment between its lines: a student's own text, not the
            # instructor's line for line (which the grader withholds as instructor content).
            lines = _without_regions(cell.source).splitlines()
            cell.source = "\n".join(x for line in lines for x in (line, "# (my notes)"))
        else:
            cell.source = _without_regions(cell.source)
    return notebook


def copy_course(base, assignments=ASSIGNMENTS):
    """A copy of the course directory's instructor side (source/, grading/) for these assignments."""
    course = Path(base) / "assignments"
    (course / "source").mkdir(parents=True)
    course.chmod(0o755)
    shutil.copytree(
        COURSE_DIR / "grading", course / "grading", ignore=shutil.ignore_patterns("__pycache__")
    )
    for assignment in assignments:
        shutil.copytree(COURSE_DIR / "source" / assignment, course / "source" / assignment)
    return course


# ----------------------------------------------------------------- the command
def grade_argv(course, *args):
    """`python3 tasks.py grade --current-env --course COURSE ARGS`, the instructor's command, with this
    interpreter (run from the repository root)."""
    return [sys.executable, "tasks.py", "grade", "--current-env", "--course", str(course), *args]


def grade_command(course, *args, env=None, timeout=1800, prefix=()):
    """Runs `grade_argv` (after `prefix`, e.g. to run it as another user): the completed process."""
    return subprocess.run(
        [*prefix, *grade_argv(course, *args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def results(course):
    """{(student, assignment): Result} from the result files the grader wrote."""
    found = {}
    for path in Path(course).glob(f"autograded/*/*/{batch.reports.RESULT_FILE}"):
        result = judging.Result.from_json(json.loads(path.read_text()))
        found[(result.student, result.assignment)] = result
    return found


def feedback_texts(course):
    """Every feedback file's text, and every result file's, and the LMS file's: what leaves the grader."""
    texts = {}
    for pattern in ("feedback/*/*/*.html", f"autograded/*/*/{batch.reports.RESULT_FILE}"):
        for path in Path(course).glob(pattern):
            texts[str(path.relative_to(course))] = path.read_text(errors="replace")
    return texts
