"""What the class grader writes (aekeras_tools.grading.reports): feedback from its template with every
failed check's message and nothing of the tests or checks, hand-graded points apart and waiting in the
gradebook, the formgrader's notebook, the LMS file, and feedback that `nbgrader release_feedback` sends on.
"""

import copy
import csv
import html
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from aekeras_tools.grading import batch
from aekeras_tools.grading import cells as nb
from aekeras_tools.grading import judging
from aekeras_tools.grading import reports
from aekeras_tools.grading import submissions as subs

from grading_course import SECRET
from grading_course import TOY_CHECKS
from grading_course import TOY_HONEST
from grading_course import instructor
from grading_course import meta
from grading_course import require_sandbox
from grading_course import student_version
from grading_course import submit
from grading_course import toy_answers
from grading_course import toy_course
from grading_course import toy_source

pytestmark = pytest.mark.tensorflow_only
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
        if c.cell_type == "code" and nb.meta(c).get("grade") and not nb.meta(c).get("solution")
    ]
    lines = {line.strip() for text in [*tests, checks_source] for line in text.splitlines()}
    return {line for line in lines if len(line) >= 8 and line not in own_text}


def assert_feedback_keeps_the_secrets(text, secrets):
    for shown in (text, html.unescape(text)):  # escaping must not hide a leak, nor make one
        leaked = [line for line in secrets if line in shown]
        assert not leaked, leaked


STUDENTS = {
    "honest": with_written_answer(TOY_HONEST, WRITTEN),
    "wrong": with_written_answer(
        toy_answers("def double(x):\n    return x", "total = 11"), "I did not explain."
    ),
    "blank": with_written_answer(toy_answers()),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    require_sandbox()
    course = toy_course(
        tmp_path_factory.mktemp("reports"), source=with_written_answer(toy_source())
    )
    for student, notebook in STUDENTS.items():
        path = submit(course, student, notebook)
        # What nbgrader's submit and collect leave beside a submission.
        (path.parent / "timestamp.txt").write_text("2026-12-05 10:00:00.000000 UTC")
        (path.parent / "submission_secret.txt").write_text(f"secret-of-{student}")
    results = {r.student: r for r in batch.grade(course, workers=2)}
    return course, results


def feedback(course, student):
    return (course / "feedback" / student / "toy" / "toy.html").read_text(encoding="utf-8")


def test_feedback_has_every_failed_message_and_no_test_or_check_code(course):
    course, results = course
    source = nbformat.read(course / "source" / "toy" / "toy.ipynb", as_version=4)
    failed = 0
    for student, notebook in STUDENTS.items():
        text = feedback(course, student)
        own = "\n".join(c.source for c in notebook.cells if nb.meta(c).get("solution"))
        secrets = secret_lines(source, TOY_CHECKS, own)
        assert any(SECRET in line for line in secrets) and len(secrets) > 20
        assert_feedback_keeps_the_secrets(text, secrets)
        for grade_id, check in results[student].checks.items():
            assert f"{grade_id}: {check.points:g} / {check.max_points:g}" in text
            if check.points < check.max_points:
                failed += 1
                assert check.message and check.message in html.unescape(text), grade_id
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
    assert (honest.score, honest.max_score, honest.manual_max_score) == (3, 3, 2)
    row = next(r for r in reports.summary(list(results.values())).splitlines() if "honest" in r)
    assert "3/3 +2 by hand" in row
    path = course / "grades.csv"
    reports.write_csv(path, list(results.values()))
    with path.open() as file:
        rows = {r["student"]: r for r in csv.DictReader(file)}
    columns = ("score", "max_score", "manual_to_grade", "status")
    assert [rows["honest"][k] for k in columns] == ["3", "3", "2", "graded"]
    assert [rows["wrong"][k] for k in columns] == ["0", "3", "2", "graded"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=reports.COURSE_ID) as gb:
        written = gb.find_grade("explain", "toy", "toy", "honest")
        assert written.max_score == 2 and written.auto_score is None and written.needs_manual_grade
        assert written.cell.cell_type == "markdown"
        auto = gb.find_grade("test_double", "toy", "toy", "honest")
        assert auto.auto_score == 2 and not auto.needs_manual_grade
        assert gb.find_submission_notebook("toy", "toy", "honest").needs_manual_grade
        # The submission's time, as nbgrader autograde records it: the formgrader counts a
        # submission as autograded when it equals the time in submitted/.../timestamp.txt.
        submitted = gb.find_submission("toy", "honest").timestamp
        assert submitted is not None and submitted.isoformat().startswith("2026-12-05T10:00:00")
    # The notebook nbgrader's formgrader shows: the student's answers, no hidden tests.
    shown = nbformat.read(course / "autograded" / "honest" / "toy" / "toy.ipynb", as_version=4)
    cells = {nb.meta(c)["grade_id"]: c for c in shown.cells}
    assert cells["explain"].source == WRITTEN
    assert cells["answer_double"].source == TOY_HONEST.cells[2].source
    assert SECRET not in nbformat.writes(shown)
    wrong = nbformat.read(course / "autograded" / "wrong" / "toy" / "toy.ipynb", as_version=4)
    (output,) = next(c for c in wrong.cells if nb.meta(c)["grade_id"] == "test_total").outputs
    assert output.evalue == results["wrong"].checks["test_total"].message


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


@pytest.mark.parametrize("assignment", ["a1_autoencoders", "a2_sparse", "a3_denoising"])
def test_an_assignments_feedback_holds_no_line_of_its_tests_or_checks(tmp_path, assignment):
    """The real test cells and checks (no grading run: a result where every check failed)."""
    source = instructor(assignment)
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(student_version(assignment), path)
    _, _, own, _ = subs.read(subs.Submission("ada", assignment, tmp_path, path), source, path.name)
    result = judging.Result(
        "ada",
        assignment,
        0.0,
        sum(nb.graded_cells(source).values()),
        judging.GRADED,
        "",
        {
            grade_id: judging.Check(0.0, points, f"message of {grade_id}")
            for grade_id, points in nb.graded_cells(source).items()
        },
        nb.manual_cells(source),
        sum(nb.manual_cells(source).values()),
        answers=own,
    )
    text = reports.feedback_html(source, result)
    checks = (judging.checks_path(batch.COURSE_DIR, assignment)).read_text()
    secrets = secret_lines(source, checks, "\n".join(own.values()))
    assert len(secrets) > 100
    assert_feedback_keeps_the_secrets(text, secrets)
    for grade_id in result.checks:
        assert f"message of {grade_id}" in text
    for grade_id in nb.manual_cells(source):
        if grade_id in own:
            assert own[grade_id].strip()[:40] in html.unescape(text)
