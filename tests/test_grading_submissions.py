"""Submissions (aekeras_tools.grading.submissions): found without following links, read as data, and
checked for instructor-only content."""

import os

import nbformat
import pytest

from aekeras_tools.grading import submissions as subs

from grading_course import TOY_CHECKS
from grading_course import TOY_HONEST
from grading_course import instructor
from grading_course import student_version
from grading_course import submit
from grading_course import toy_answers
from grading_course import toy_course
from grading_course import toy_source

pytestmark = pytest.mark.tensorflow_only


@pytest.fixture
def course(tmp_path):
    return toy_course(tmp_path)


def found(course):
    return {s.student: s for s in subs.discover(course, "toy", "toy")}


def test_a_link_is_refused_not_followed_wherever_it_is(course, tmp_path):
    instructor_notebook = course / "source" / "toy" / "toy.ipynb"
    submit(course, "honest", TOY_HONEST)
    # A notebook that is a link to the instructor's, one to another student's, a student folder and
    # an assignment folder that are links.
    (course / "submitted" / "notebook_link" / "toy").mkdir(parents=True)
    (course / "submitted" / "notebook_link" / "toy" / "toy.ipynb").symlink_to(instructor_notebook)
    (course / "submitted" / "peer_link" / "toy").mkdir(parents=True)
    (course / "submitted" / "peer_link" / "toy" / "toy.ipynb").symlink_to(
        course / "submitted" / "honest" / "toy" / "toy.ipynb"
    )
    (course / "submitted" / "folder_link").symlink_to(course / "submitted" / "honest")
    (course / "submitted" / "assignment_link").mkdir()
    (course / "submitted" / "assignment_link" / "toy").symlink_to(instructor_notebook.parent)
    submissions = found(course)
    assert submissions["honest"].path is not None and not submissions["honest"].problems
    for student in ("notebook_link", "peer_link", "folder_link", "assignment_link"):
        submission = submissions[student]
        assert submission.path is None, submission
        assert "is a symbolic link" in submission.problems[0], submission
        _, _, answers, problems = subs.read(submission, toy_source(), "toy.ipynb")
        assert answers == {} and "no notebook in the submission folder" in problems[-1]


def test_a_notebook_is_opened_without_following_a_link_even_if_one_appears_later(course, tmp_path):
    path = submit(course, "late", TOY_HONEST)
    (submission,) = found(course).values()
    path.unlink()
    path.symlink_to(course / "source" / "toy" / "toy.ipynb")  # swapped after discovery
    _, _, answers, problems = subs.read(submission, toy_source(), "toy.ipynb")
    assert answers == {} and "cannot be opened" in problems[-1]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"cells": [', "not valid JSON"),
        ("[1, 2, 3]", "not a notebook"),
        (nbformat.writes(nbformat.v4.new_notebook()), "no cells"),
    ],
)
def test_a_damaged_file_is_named_for_what_it_is(course, text, words):
    submit(course, "damaged", text)
    _, _, answers, problems = subs.read(found(course)["damaged"], toy_source(), "toy.ipynb")
    assert answers == {} and words in problems[-1]


def test_a_renamed_notebook_is_found_and_named(course):
    submit(course, "renamed", TOY_HONEST, name="toy (1).ipynb")
    _, _, answers, problems = subs.read(found(course)["renamed"], toy_source(), "toy.ipynb")
    assert set(answers) == {"answer_double", "answer_total"}
    assert problems == ["the notebook is named toy (1).ipynb, not toy.ipynb"]


def prints(course):
    source_path = course / "source" / "toy" / "toy.ipynb"
    return subs.fingerprints(
        source_path, nbformat.read(source_path, as_version=4), course / "grading" / "checks_toy.py"
    )


def content(course, student, notebook):
    path = submit(course, student, notebook)
    data, cells, answers, _ = subs.read(found(course)[student], toy_source(), "toy.ipynb")
    assert data == path.read_bytes()
    return subs.instructor_content(data, cells, answers, prints(course))


def test_instructor_content_is_named_where_it_is_never_what_it_is(course):
    judge = [
        line.strip()
        for line in TOY_CHECKS.splitlines()
        if "got(values" in line or "must return 2" in line
    ]
    assert len(judge) >= 3
    cases = {
        "byte_for_byte": ((course / "source" / "toy" / "toy.ipynb").read_text(), "byte for byte"),
        "markers": (toy_source(), "solution or hidden-test markers"),
        "checks_lines": (
            toy_answers(
                total="total = 12\n"
                + "\n".join(f"# {line}" if i else line for i, line in enumerate(judge))
            ),
            None,  # only one of them is a line of code: not enough
        ),
        "pasted_judge": (
            toy_answers(
                total="total = 12\nif False:\n" + "\n".join(f"    {line}" for line in judge)
            ),
            "lines of the grader's checks",
        ),
        # one line an honest answer can share with the checks (an idiom): not flagged
        "idiom": (toy_answers(total=f"total = 12\n{judge[0]}"), None),
        "solution": (toy_answers("def double(x):\n    return 2 * np.asarray(x)"), None),
    }
    for student, (notebook, words) in cases.items():
        reasons = content(course, student, notebook)
        if words is None:  # a one-line solution, an idiom, comments: anyone's
            assert reasons == [], (student, reasons)
        else:
            assert any(words in r for r in reasons), (student, reasons)
            assert "numpy.double" not in " ".join(reasons) and "BEGIN" not in " ".join(reasons)


def test_a_line_of_the_hidden_tests_is_named(tmp_path):
    source = instructor("a1_autoencoders")
    path = tmp_path / "source.ipynb"
    nbformat.write(source, path)
    fingerprints = subs.fingerprints(path, source, None)
    copied = student_version("a1_autoencoders")
    copied.cells.append(
        nbformat.v4.new_code_cell('check("a1_autoencoders", "task1_shape_exact", globals())')
    )
    data = nbformat.writes(copied).encode()
    cells, _ = subs.parse(data)
    answers, _ = subs.answers_of(cells, source)
    reasons = subs.instructor_content(data, cells, answers, fingerprints)
    assert reasons == [f"cell {len(copied.cells)} holds 1 line(s) of the hidden tests"]


def test_an_answer_that_is_the_instructors_solution_line_for_line_is_named(tmp_path):
    source = instructor("a1_autoencoders")
    path = tmp_path / "source.ipynb"
    nbformat.write(source, path)
    fingerprints = subs.fingerprints(path, source, None)
    copied = student_version("a1_autoencoders", rest="blank")
    for cell in copied.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "task1_pca_reconstruct":
            original = next(
                c
                for c in source.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "task1_pca_reconstruct"
            )
            cell.source = "\n".join(
                line for line in original.source.splitlines() if "### " not in line
            )
    data = nbformat.writes(copied).encode()
    cells, _ = subs.parse(data)
    answers, _ = subs.answers_of(cells, source)
    reasons = subs.instructor_content(data, cells, answers, fingerprints)
    assert reasons == ["task1_pca_reconstruct holds the instructor's solution, line for line"]
    honest = student_version("a1_autoencoders")  # the same code, a student's own text
    data = nbformat.writes(honest).encode()
    cells, _ = subs.parse(data)
    answers, _ = subs.answers_of(cells, source)
    assert subs.instructor_content(data, cells, answers, fingerprints) == []


def test_code_no_answer_needs_is_flagged_with_what_it_does():
    reasons = subs.suspicious(
        {"a": "import subprocess\nsubprocess.run(['ls'])", "b": "x = open('/etc/passwd').read()"}
    )
    assert reasons == [
        "a imports `subprocess`",
        "b calls `open('/`",
        "b names the path `/etc/passwd`",
    ]
    reasons = subs.suspicious({"c": "import os\nfiles = os.listdir('..')\nratio = a / b"})
    assert reasons == ["c looks around the machine (`os.listdir`)"]


def test_a_payload_travels_as_plain_values(course):
    submit(course, "honest", TOY_HONEST)
    (submission,) = found(course).values()
    payload = submission.payload()
    assert all(isinstance(v, (str, list)) for v in payload.values())
    assert subs.Submission.from_payload(payload) == submission
    assert os.fspath(submission.path).endswith("toy.ipynb")
