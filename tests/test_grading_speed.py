"""The grading benchmark's synthetic class (aekeras_tools.grading_speed): each kind is what it says."""

from collections import Counter

import nbformat
import pytest

from aekeras_tools import grading_speed
from aekeras_tools.grading import cells
from aekeras_tools.grading import judging
from aekeras_tools.grading import submissions as subs

pytestmark = (
    pytest.mark.tensorflow_only
)  # instructor tooling, run once (see tests/test_grading_*.py)

A3 = "a3_denoising"


def test_a_synthetic_class_holds_every_kind_and_each_reads_as_what_it_is(tmp_path):
    course = grading_speed.course_copy(tmp_path)
    kinds = grading_speed.make_class(course, A3, 10)
    assert Counter(kinds.values()) == dict.fromkeys(grading_speed.KINDS, 2)
    notebook = judging.load_checks(course, A3).NOTEBOOK
    path = course / "source" / A3 / f"{notebook}.ipynb"
    source = nbformat.read(path, as_version=4)
    _, _, solutions, _ = subs.read(subs.Submission("x", A3, path.parent, path), source, path.name)
    answers = grading_speed._answers(source)
    code = [c.metadata.nbgrader.grade_id for c in answers]
    autograded = [c.metadata.nbgrader.grade_id for c in answers if not c.metadata.nbgrader.grade]
    by_student = {s.student: s for s in subs.discover(course, A3, notebook)}
    assert by_student.keys() == kinds.keys()
    read = {
        student: subs.read(s, source, f"{notebook}.ipynb")[2:] for student, s in by_student.items()
    }

    def code_lines(text):  # the answer's code, whoever wrote it
        return [
            line
            for line in text.splitlines()
            if line.strip() and "###" not in line and "(my notes)" not in line
        ]

    for student in ("s000_honest", "s005_honest"):
        honest, problems = read[student]
        assert problems == [] and honest.keys() == solutions.keys()
        assert all(code_lines(honest[g]) == code_lines(solutions[g]) for g in code)
        assert all(honest[g] != solutions[g] for g in code)  # a student's own text
    # every code answer has a solution region, which the release replaces with nbgrader's stub
    assert all(cells.released(solutions[g]) != solutions[g] for g in code)
    blank, _ = read["s001_blank"]
    assert cells.unanswered(source, {g: blank[g] for g in code}) == set(code)  # as released
    partial, _ = read["s002_partial"]
    assert sorted(cells.unanswered(source, {g: partial[g] for g in code})) == autograded[-1:]
    assert "not valid JSON" in read["s003_damaged"][1][0]
    assert read["s008_damaged"][1] == ["the notebook has no cells"]
    loop, _ = read["s004_hostile"]
    assert loop[code[0]].startswith("while True:")
    patched, _ = read["s009_hostile"]
    assert "numpy.testing.assert_allclose = lambda" in patched[code[0]]
    for hostile in (loop, patched):  # an attack, no answer: it deserves the blank release's score
        assert cells.unanswered(source, {g: hostile[g] for g in code[1:]}) == set(code[1:])
    assert not (course / "gradebook.db").exists() and not (course / "release").exists()


@pytest.mark.notebook
def test_plain_nbgrader_is_run_again_without_each_notebook_that_stops_its_batch(
    tmp_path, monkeypatch
):
    # duplicated grade ids stop `nbgrader autograde` for the whole class (jupyter/nbgrader#1083): the
    # benchmark leaves that notebook out and runs it again, as an instructor would, so that plain
    # nbgrader's time covers the class and the blank submission after the stop is still graded
    monkeypatch.setattr(grading_speed, "KINDS", ("damaged", "blank"))
    monkeypatch.setattr(grading_speed, "DAMAGES", ("duplicated answer cell",))
    run = grading_speed.time_nbgrader(tmp_path, A3, 3, cell_timeout=60)
    assert run["stopped"] == ["s000_damaged", "s002_damaged"]
    assert run["scores"]["blank"] == [0.0] and run["seconds"] > 0
    assert (tmp_path / "assignments" / "autograded" / "s001_blank" / A3).is_dir()
    assert not (tmp_path / "assignments" / "autograded" / "s000_damaged").exists()
