"""The nbgrader assignments: student versions, autograding, and what students never see.

The course directory `course/assignments/` is copied to a temporary folder and
driven with the `nbgrader` command of the running environment, as an
instructor would: `generate_assignment` makes the student versions, then three
kinds of submissions are autograded (the instructor notebooks, the unmodified
student versions, and a partly correct student version) and the grades read
back from the gradebook.
"""

import pytest

from nbgrader_course import ASSIGNMENTS
from nbgrader_course import COURSE_DIR
from nbgrader_course import Course
from nbgrader_course import error_text
from nbgrader_course import grade_id
from nbgrader_course import is_autograder_test
from nbgrader_course import is_manual_answer
from nbgrader_course import nbgrader_meta
from nbgrader_course import notebook_names
from nbgrader_course import read

# Notebook execution: run once, on the default TensorFlow backend (tasks.py test).
# nbgrader generates and autogrades every assignment (minutes): the slow tier.
pytestmark = [pytest.mark.tensorflow_only, pytest.mark.notebook, pytest.mark.slow]

NOTES_DIR = COURSE_DIR / "notes"
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


def author_notes(assignment):
    """The lines of the author notes of an assignment, instructor-only, kept outside source/."""
    return (NOTES_DIR / f"{assignment}.md").read_text(encoding="utf-8").splitlines()


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course directory copied to a temporary folder, with every student version generated."""
    course = Course.copy(tmp_path_factory.mktemp("nbgrader"))
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
            course.submit(
                "student", assignment, notebook, read(course.release(assignment, notebook))
            )

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
                assert edit[0] in answer, (
                    f"PARTIAL_ANSWERS is out of date: {edit[0]!r} not in the solution"
                )
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
        assert 3 <= len(tasks) <= 5, (
            f"{notebook}: expected 3 to 5 graded tasks; got {sorted(tasks)}"
        )
        assert any(is_manual_answer(c) for c in graded), f"{notebook}: no task graded by hand"
        assert all(nbgrader_meta(c).get("points", 0) > 0 for c in graded), (
            f"{notebook}: a graded cell has no points"
        )
        tests = [c for c in cells if is_autograder_test(c)]
        assert any("BEGIN HIDDEN TESTS" in c.source for c in tests), f"{notebook}: no hidden tests"
        for c in cells:
            if nbgrader_meta(c).get("solution") and c.cell_type == "code":
                assert "### BEGIN SOLUTION" in c.source, (
                    f"{notebook}: {grade_id(c)} has no solution region"
                )
        assert not any("author-notes" in c.metadata.get("tags", []) for c in cells), (
            f"{notebook}: the author notes belong in notes/{assignment}.md, outside source/, not in a cell"
        )
        notes = "\n".join(author_notes(assignment))
        for c in graded:
            assert f"`{grade_id(c)}`" in notes, f"notes/{assignment}.md does not list {grade_id(c)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_author_notes_are_outside_everything_nbgrader_releases(assignment):
    """No line of the notes is in source/<assignment>/, the folder every release is made from, whatever the
    nbgrader configuration (nbgrader_config.py removes no cell)."""
    notes = {line.strip() for line in author_notes(assignment) if len(line.strip()) >= 30}
    assert notes, f"notes/{assignment}.md is empty"
    for path in (COURSE_DIR / "source" / assignment).rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found = sorted(line for line in notes if line in text)
            assert not found, f"{path.name} contains lines of the author notes: {found}"


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
        assert all(c.cell_type != "code" or not c.outputs for c in release.cells), (
            "the release has outputs"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_has_no_solution_and_no_hidden_test(course, assignment):
    for notebook in notebook_names(assignment):
        source = read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb")
        secret, public = [line.strip() for line in author_notes(assignment)], set()
        for cell in source.cells:
            if nbgrader_meta(cell).get("solution") and "BEGIN SOLUTION" not in cell.source:
                secret.extend(
                    line.strip() for line in cell.source.splitlines()
                )  # whole-cell answers
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
        assert not leaked, (
            f"{notebook}: the student version contains solution or hidden-test lines: {leaked}"
        )
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
        assert auto == expected, (
            f"{name}: expected {expected} of {maximum} points, got {auto}: {error_text(cells[name])}"
        )
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
