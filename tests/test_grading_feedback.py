"""The class grader's feedback and hand-graded cells (aekeras_tools.grading), and A1 Task 3 graded as a
design that the grader trains itself.

A toy class (tests/test_grading.py's `toy` assignment, plus a written answer graded by hand) is graded;
its feedback must carry each failed check's message, the student's answers and none of the code of the
instructor's test cells or of the checks; the hand-graded points must be reported apart, wait in the
gradebook for nbgrader's formgrader, and the feedback must go through `nbgrader release_feedback`.
"""

import copy
import csv
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell
from test_grading import CHECKS
from test_grading import HONEST
from test_grading import SECRET
from test_grading import a1_submission
from test_grading import answers
from test_grading import meta
from test_grading import source_notebook

from aekeras_tools import grading
from aekeras_tools import sandbox

# Instructor tooling, run in the complete environment whatever the course's backend (test_grading.py).
pytestmark = [
    pytest.mark.skipif(
        not sandbox.namespaces_available(), reason="needs Linux user, network and mount namespaces"
    ),
    pytest.mark.tensorflow_only,
]

WRITTEN = "Doubling is linear, so <b>2x</b> & its sum are exact.\n</pre><script>alert(1)</script>"


def with_written_answer(notebook, text="YOUR ANSWER HERE"):
    """The toy notebook with a written answer after its last cell, graded by hand (2 points)."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.append(
        new_markdown_cell(text, metadata=meta("explain", grade=True, solution=True, points=2))
    )
    return notebook


def secret_lines(source, checks_source, own_text):
    """The non-trivial lines of the instructor's test cells (visible and hidden parts) and of the checks'
    source, except those the student wrote too (a student's own text is theirs to see)."""
    tests = [
        c.source
        for c in source.cells
        if c.cell_type == "code" and grading._meta(c).get("grade")
        if not grading._meta(c).get("solution")
    ]
    lines = {line.strip() for text in [*tests, checks_source] for line in text.splitlines()}
    return {line for line in lines if len(line) >= 8 and line not in own_text}


def assert_feedback_keeps_the_secrets(text, secrets):
    for shown in (text, html.unescape(text)):  # escaping must not hide a leak, nor make one
        leaked = [line for line in secrets if line in shown]
        assert not leaked, leaked


STUDENTS = {
    "honest": with_written_answer(HONEST, WRITTEN),
    "wrong": with_written_answer(
        answers("def double(x):\n    return x", "total = 11"), "I did not explain."
    ),
    "blank": with_written_answer(answers()),
}


@pytest.fixture(scope="module")
def course():
    if not sandbox.namespaces_available():
        pytest.skip("needs Linux user, network and mount namespaces")
    course = Path(tempfile.mkdtemp(prefix="aekeras-feedback-"))
    course.chmod(0o755)
    (course / "source" / "toy").mkdir(parents=True)
    nbformat.write(with_written_answer(source_notebook()), course / "source" / "toy" / "toy.ipynb")
    (course / "grading").mkdir()
    (course / "grading" / "checks_toy.py").write_text(CHECKS)
    for student, notebook in STUDENTS.items():
        folder = course / "submitted" / student / "toy"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "toy.ipynb")
        # What nbgrader's submit and collect leave beside a submission.
        (folder / "timestamp.txt").write_text("2026-12-05 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    results = {r["student"]: r for r in grading.grade(course, workers=2)}
    yield course, results
    shutil.rmtree(course)


def feedback(course, student):
    return (course / "feedback" / student / "toy" / "toy.html").read_text(encoding="utf-8")


def test_feedback_has_every_failed_message_and_no_test_or_check_code(course):
    course, results = course
    source = nbformat.read(course / "source" / "toy" / "toy.ipynb", as_version=4)
    failed = 0
    for student, notebook in STUDENTS.items():
        text = feedback(course, student)
        own = "\n".join(c.source for c in notebook.cells if grading._meta(c).get("solution"))
        secrets = secret_lines(source, CHECKS, own)
        assert any(SECRET in line for line in secrets) and len(secrets) > 20
        assert_feedback_keeps_the_secrets(text, secrets)
        for grade_id, check in results[student]["checks"].items():
            assert f"{grade_id}: {check['points']:g} / {check['max_points']:g}" in text
            if check["points"] < check["max_points"]:
                failed += 1
                assert check["message"] and check["message"] in html.unescape(text), grade_id
    assert failed == 4  # both checks of `wrong` and of `blank`
    assert "double(x) must return 2 * x" in html.unescape(feedback(course, "wrong"))


def test_feedback_carries_the_written_answer_escaped(course):
    course, _ = course
    text = feedback(course, "honest")
    assert WRITTEN in html.unescape(text)
    assert "<script>" not in text and "<b>2x</b>" not in text
    assert "explain: graded by hand, 2 points" in text


def test_hand_graded_points_are_reported_apart_and_wait_in_the_gradebook(course):
    from nbgrader.api import Gradebook

    course, results = course
    honest = results["honest"]
    assert (honest["score"], honest["max_score"], honest["manual_max_score"]) == (3, 3, 2)
    row = next(r for r in grading.summary(list(results.values())).splitlines() if "honest" in r)
    assert "3/3 +2 by hand" in row
    path = course / "grades.csv"
    grading.write_csv(path, list(results.values()))
    with path.open() as file:
        rows = {r["student"]: r for r in csv.DictReader(file)}
    assert [rows["honest"][k] for k in ("score", "max_score", "manual_to_grade")] == ["3", "3", "2"]
    assert [rows["wrong"][k] for k in ("score", "max_score", "manual_to_grade")] == ["0", "3", "2"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=grading.COURSE_ID) as gb:
        written = gb.find_grade("explain", "toy", "toy", "honest")
        assert written.max_score == 2 and written.auto_score is None and written.needs_manual_grade
        assert written.cell.cell_type == "markdown"
        auto = gb.find_grade("test_double", "toy", "toy", "honest")
        assert auto.auto_score == 2 and not auto.needs_manual_grade
        assert gb.find_submission_notebook("toy", "toy", "honest").needs_manual_grade
    # The notebook nbgrader's formgrader shows: the student's answers, no hidden tests.
    shown = nbformat.read(course / "autograded" / "honest" / "toy" / "toy.ipynb", as_version=4)
    cells = {grading._meta(c)["grade_id"]: c for c in shown.cells}
    assert cells["explain"].source == WRITTEN
    assert cells["answer_double"].source == HONEST.cells[2].source
    assert SECRET not in nbformat.writes(shown)
    wrong = nbformat.read(course / "autograded" / "wrong" / "toy" / "toy.ipynb", as_version=4)
    (output,) = next(c for c in wrong.cells if grading._meta(c)["grade_id"] == "test_total").outputs
    assert output.evalue == results["wrong"]["checks"]["test_total"]["message"]


def test_nbgrader_release_feedback_sends_the_feedback_on(course, tmp_path):
    from nbgrader.utils import notebook_hash

    course, _ = course
    nbgrader = Path(sys.executable).with_name("nbgrader")
    run = subprocess.run(
        [
            str(nbgrader),
            "release_feedback",
            "toy",
            f"--Exchange.root={tmp_path}",
            f"--CourseDirectory.root={course}",
            "--CourseDirectory.course_id=aekeras",
        ],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for student in STUDENTS:
        released = tmp_path / "aekeras" / "feedback"
        name = notebook_hash(secret=f"secret-of-{student}", notebook_id="toy")
        assert (released / f"{name}.html").read_text(encoding="utf-8") == feedback(course, student)


def test_a1_feedback_holds_no_line_of_its_tests_or_checks():
    """A1's real test cells and checks (no grading run: a result where every check failed)."""
    a1 = "a1_autoencoders"
    source = nbformat.read(grading.COURSE_DIR / "source" / a1 / f"{a1}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        submission = a1_submission(Path(folder), "student")
        own, _ = grading.read_submission(submission, source)
        result = {
            "student": "student",
            "assignment": a1,
            "score": 0.0,
            "max_score": sum(grading.graded_cells(source).values()),
            "manual_max_score": 2.0,
            "status": grading.GRADED,
            "reason": "",
            "manual": grading.manual_cells(source),
            "checks": {
                grade_id: {"points": 0.0, "max_points": points, "message": f"message of {grade_id}"}
                for grade_id, points in grading.graded_cells(source).items()
            },
        }
        text = grading.feedback_html(source, own, result)
    checks = (grading.COURSE_DIR / "grading" / f"checks_{a1}.py").read_text()
    secrets = secret_lines(source, checks, "\n".join(own.values()))
    assert len(secrets) > 100
    assert_feedback_keeps_the_secrets(text, secrets)
    assert grading.manual_cells(source) == {"task4_answer": 2.0}
    assert own["task4_answer"].strip() in html.unescape(text)
    for grade_id in result["checks"]:
        assert f"message of {grade_id}" in text


# ----------------------------------------------------------------- a1_autoencoders, Task 3
@pytest.fixture(scope="module")
def a1_design_checks():
    """The trusted checks of a1_autoencoders, limited to Task 3 (its design and train steps)."""
    checks = grading.load_checks(grading.COURSE_DIR, "a1_autoencoders")
    checks.STEPS = [step for step in checks.STEPS if step["name"] in ("design", "train")]
    checks.CHECKS = {k: v for k, v in checks.CHECKS.items() if k.startswith("task3")}
    return checks


NARROW_PRETRAINED = """
def build_autoencoder():
    return aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(256, 2), code_dim=CODE_DIM)


_pretrained = build_autoencoder()
_pretrained.compile(optimizer="adam", loss="binary_crossentropy")
_pretrained.fit(np.concatenate([x_train, x_test]), epochs=30, batch_size=256, verbose=0)
build_autoencoder = lambda: _pretrained  # noqa: E731
"""


def test_a1_task3_the_grader_trains_the_design_itself(tmp_path, a1_design_checks):
    """The solution's design gets the 4 points; a too-narrow design, trained on test images past the
    budget in the notebook, gets none: the grader trains it afresh with its own budget."""
    solution = grading.grade_submission(
        a1_submission(tmp_path, "solution"), grading.COURSE_DIR, a1_design_checks
    )
    assert solution["score"] == 4, solution
    narrow = grading.grade_submission(
        a1_submission(tmp_path, "narrow", {"task3_autoencoder": NARROW_PRETRAINED}),
        grading.COURSE_DIR,
        a1_design_checks,
    )
    assert narrow["checks"]["task3_architecture"]["points"] == 1, narrow
    beats = narrow["checks"]["task3_beats_pca"]
    assert beats["points"] == 0 and "retrained by the grader" in beats["message"], beats
