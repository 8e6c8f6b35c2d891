"""The nbgrader assignments: student versions, autograding, and what students never see.

The course directory `course/assignments/` is copied to a temporary folder and
driven with the `nbgrader` command of the running environment, as an
instructor would: `generate_assignment` makes the student versions, then three
kinds of submissions are autograded (the instructor notebooks, the unmodified
student versions, and a partly correct student version) and the grades read
back from the gradebook.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

# Notebook execution: run once, on the default TensorFlow backend (tasks.py test).
pytestmark = pytest.mark.tensorflow_only

COURSE_DIR = Path(__file__).resolve().parents[1] / "course" / "assignments"
COURSE_ID = "aekeras"
ASSIGNMENTS = sorted(p.name for p in (COURSE_DIR / "source").iterdir() if p.is_dir())
GENERATED = (
    "release", "submitted", "autograded", "feedback", "downloaded",
    "gradebook.db", "gradebook.db-journal", "grades.csv", ".nbgrader.log",
    ".ipynb_checkpoints", "__pycache__",
)
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# A partly correct submission: the student version of assignment 3 with Tasks 1 and 2 answered (the
# instructor's code; Task 1 with a bug that makes every corrupted value salt) and the others left as released.
PARTIAL_ASSIGNMENT = "a3_denoising"
PARTIAL_ANSWERS = {  # solution cell -> (instructor code, buggy replacement) or None (correct answer)
    "task1_salt_and_pepper": ("noisy[corrupt & ~salt] = 0.0", "noisy[corrupt & ~salt] = 1.0"),
    "task2_psnr_solution": None,
}
PARTIAL_PASSES = {"task1_shape_and_values", "task2_psnr"}
PARTIAL_FAILS = {
    "task1_statistics": "expected half of the corrupted values to be salt (1) and half pepper (0)",
}


# ----------------------------------------------------------------- helpers
def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_autograder_test(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_manual_answer(cell):
    meta = nbgrader_meta(cell)
    return meta.get("grade", False) and meta.get("solution", False)


def notebook_names(assignment):
    return sorted(p.stem for p in (COURSE_DIR / "source" / assignment).glob("*.ipynb"))


def read(path):
    return nbformat.read(path, as_version=4)


def split_regions(text):
    """(lines inside solution or hidden-test regions, lines outside them), stripped; markers dropped."""
    inside, outside, region = [], [], False
    for line in text.splitlines():
        if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
            region = True
        elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
            region = False
        else:
            (inside if region else outside).append(line.strip())
    return inside, outside


def error_text(cell):
    """What a student sees of a failed cell: the exception name and message."""
    return "\n".join(
        f"{out.ename}: {out.evalue}" for out in cell.get("outputs", []) if out.output_type == "error"
    )


class Course:
    """A copy of the course directory and the environment that nbgrader runs in."""

    def __init__(self, root, env):
        self.root = root
        self.env = env

    def nbgrader(self, *args):
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=1800,
        )
        assert result.returncode == 0, (
            f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
        return result

    def release(self, assignment, notebook):
        return self.root / "release" / assignment / f"{notebook}.ipynb"

    def autograded(self, student, assignment, notebook):
        return read(self.root / "autograded" / student / assignment / f"{notebook}.ipynb")

    def submit(self, student, assignment, notebook, nb):
        path = self.root / "submitted" / student / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    def grades(self, assignment, student):
        """{grade id: (auto_score, max_score)} of one submission, from the gradebook."""
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", course_id=COURSE_ID) as gb:
            submission = gb.find_submission(assignment, student)
            return {
                grade.name: (grade.auto_score, grade.max_score)
                for notebook in submission.notebooks
                for grade in notebook.grades
            }


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course directory copied to a temporary folder, with every student version generated."""
    base = tmp_path_factory.mktemp("nbgrader")
    root = base / "assignments"
    shutil.copytree(COURSE_DIR, root, ignore=shutil.ignore_patterns(*GENERATED))
    # Notebooks ask for the "python3" kernel: make it this interpreter, whatever kernels the user has installed
    # (JUPYTER_PATH comes first in Jupyter's search path).
    kernel_dir = base / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (aekeras tests)",
        "language": "python",
    }))
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(base / "jupyter"), env.get("JUPYTER_PATH")]))
    # nbgrader runs the `alembic` command when it creates the gradebook: it must be on PATH.
    env["PATH"] = os.pathsep.join(filter(None, [os.path.dirname(sys.executable), env.get("PATH")]))
    env.pop("AEKERAS_FULL_RUN", None)
    course = Course(root, env)
    course.nbgrader("generate_assignment", "*")  # every assignment under source/
    return course


@pytest.fixture(scope="module")
def graded(course):
    """Autogrades, for every assignment, the instructor version and the unmodified student version, plus a
    partly correct submission of PARTIAL_ASSIGNMENT with its feedback."""
    for assignment in ASSIGNMENTS:
        for notebook in notebook_names(assignment):
            source = read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb")
            course.submit("instructor", assignment, notebook, source)
            course.submit("student", assignment, notebook, read(course.release(assignment, notebook)))

    (notebook,) = notebook_names(PARTIAL_ASSIGNMENT)
    solutions = {
        grade_id(cell): cell.source
        for cell in read(COURSE_DIR / "source" / PARTIAL_ASSIGNMENT / f"{notebook}.ipynb").cells
    }
    partial = read(course.release(PARTIAL_ASSIGNMENT, notebook))
    for cell in partial.cells:
        if grade_id(cell) in PARTIAL_ANSWERS:
            answer = solutions[grade_id(cell)]
            edit = PARTIAL_ANSWERS[grade_id(cell)]
            if edit is not None:
                assert edit[0] in answer, f"PARTIAL_ANSWERS is out of date: {edit[0]!r} not in the solution"
                answer = answer.replace(*edit)
            cell.source = answer
    course.submit("partial", PARTIAL_ASSIGNMENT, notebook, partial)

    course.nbgrader("autograde", "*")  # every submission of every assignment
    course.nbgrader("generate_feedback", PARTIAL_ASSIGNMENT, "--student", "partial")
    return course


# ----------------------------------------------------------------- structure
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_notebook_has_graded_tasks_and_author_notes(assignment):
    for notebook in notebook_names(assignment):
        cells = read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb").cells
        graded = [c for c in cells if nbgrader_meta(c).get("grade")]
        tasks = {grade_id(c).split("_")[0] for c in graded}
        assert 3 <= len(tasks) <= 5, f"{notebook}: expected 3 to 5 graded tasks; got {sorted(tasks)}"
        assert any(is_manual_answer(c) for c in graded), f"{notebook}: no task graded by hand"
        assert all(nbgrader_meta(c).get("points", 0) > 0 for c in graded), f"{notebook}: a graded cell has no points"
        tests = [c for c in cells if is_autograder_test(c)]
        assert any("BEGIN HIDDEN TESTS" in c.source for c in tests), f"{notebook}: no hidden tests"
        for c in cells:
            if nbgrader_meta(c).get("solution") and c.cell_type == "code":
                assert "### BEGIN SOLUTION" in c.source, f"{notebook}: {grade_id(c)} has no solution region"
        notes = cells[0]
        assert notes.cell_type == "markdown" and "author-notes" in notes.metadata.get("tags", []), (
            f"{notebook}: the first cell must be the author notes (cell tag 'author-notes')"
        )
        for c in graded:
            assert f"`{grade_id(c)}`" in notes.source, f"{notebook}: the author notes do not list {grade_id(c)}"


# ----------------------------------------------------------------- student versions
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generate_assignment_writes_every_student_version(course, assignment):
    for notebook in notebook_names(assignment):
        source = read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb")
        release_path = course.release(assignment, notebook)
        assert release_path.is_file(), f"nbgrader generate_assignment wrote no {release_path}"
        release = read(release_path)
        expected = [grade_id(c) for c in source.cells if grade_id(c)]
        assert [grade_id(c) for c in release.cells if grade_id(c)] == expected
        assert all(c.cell_type != "code" or not c.outputs for c in release.cells), "the release has outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_has_no_solution_and_no_hidden_test(course, assignment):
    for notebook in notebook_names(assignment):
        source = read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb")
        secret, public = [], set()
        for cell in source.cells:
            if "author-notes" in cell.metadata.get("tags", []):
                secret.extend(line.strip() for line in cell.source.splitlines())
            elif nbgrader_meta(cell).get("solution") and "BEGIN SOLUTION" not in cell.source:
                secret.extend(line.strip() for line in cell.source.splitlines())  # whole-cell answers
            else:
                inside, outside = split_regions(cell.source)
                secret.extend(inside)
                public.update(outside)
        # Lines long enough to be specific, and not also written outside the hidden regions.
        secret = {line for line in secret if len(line) >= 12 and line not in public}
        assert secret, f"{notebook}: found no solution code to look for"

        release = read(course.release(assignment, notebook))
        text = "\n".join(cell.source for cell in release.cells)
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"{notebook}: the student version contains solution or hidden-test lines: {leaked}"
        for marker in SOLUTION_MARKERS:
            assert marker not in text, f"{notebook}: the student version contains {marker!r}"


# ----------------------------------------------------------------- autograding
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_version_gets_full_marks(graded, assignment):
    grades = graded.grades(assignment, "instructor")
    for notebook in notebook_names(assignment):
        autograded = graded.autograded("instructor", assignment, notebook)
        tests = [c for c in autograded.cells if is_autograder_test(c)]
        assert tests, f"{notebook}: no autograder tests"
        failed = {
            grade_id(c): error_text(c) or "no error: a warning on stderr?"
            for c in tests
            if grades[grade_id(c)][0] != grades[grade_id(c)][1]
        }
        assert not failed, f"{notebook}: the instructor version fails autograder tests: {failed}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unmodified_student_version_gets_zero(graded, assignment):
    grades = graded.grades(assignment, "student")
    assert grades, "the student version has no graded cells"
    scored = {name: auto for name, (auto, _) in grades.items() if auto != 0}
    assert not scored, f"the unmodified student version scores points: {scored}"


def test_partly_correct_submission_gets_partial_marks_and_actionable_feedback(graded):
    (notebook,) = notebook_names(PARTIAL_ASSIGNMENT)
    grades = graded.grades(PARTIAL_ASSIGNMENT, "partial")
    autograded = graded.autograded("partial", PARTIAL_ASSIGNMENT, notebook)
    cells = {grade_id(c): c for c in autograded.cells if grade_id(c)}
    tests = {name for name, cell in cells.items() if is_autograder_test(cell)}

    for name in tests:
        auto, maximum = grades[name]
        expected = maximum if name in PARTIAL_PASSES else 0
        assert auto == expected, f"{name}: expected {expected} of {maximum} points, got {auto}: {error_text(cells[name])}"
    score = sum(grades[name][0] for name in tests)
    total = sum(grades[name][1] for name in tests)
    assert 0 < score < total

    feedback = graded.root / "feedback" / "partial" / PARTIAL_ASSIGNMENT / f"{notebook}.html"
    html = feedback.read_text(encoding="utf-8")
    for name, message in PARTIAL_FAILS.items():
        assert message in error_text(cells[name]), (
            f"{name}: the autograded notebook does not explain the failure: {error_text(cells[name])!r}"
        )
        assert message in html, f"{name}: the feedback {feedback.name} does not show {message!r}"
