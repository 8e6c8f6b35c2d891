"""Judging (aekeras_tools.grading.judging): a checks module that does not hold together is refused with
what is wrong, every assignment's checks hold together with its notebook, and results round-trip."""

import json

import nbformat
import pytest

from aekeras_tools.grading import judging

from grading_course import ASSIGNMENTS
from grading_course import COURSE_DIR
from grading_course import TOY_CHECKS
from grading_course import toy_course
from grading_course import toy_source

pytestmark = pytest.mark.tensorflow_only


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignments_checks_judge_exactly_its_graded_cells(assignment):
    source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    checks = judging.load_checks(COURSE_DIR, assignment, source)
    assert checks.NOTEBOOK == assignment
    # Each hidden test calls the judge of its own cell, the one the class grader uses.
    for cell in source.cells:
        marks = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and marks.get("grade") and not marks.get("solution"):
            assert f'check("{assignment}", "{marks["grade_id"]}", globals())' in cell.source


BROKEN = {
    "a dict, not a Step": (
        'STEPS = [{"name": "numpy", "probe": ""}]',
        "STEPS[0] is a dict; make it with Step(...)",
    ),
    "a carry that nothing keeps": (
        'STEPS = [Step("numpy", "", cells=["answer_double"]), Step("late", "", cells=[], carry=["m.keras"])]',
        "step 'late' carries ['m.keras'], which no earlier step keeps",
    ),
    "a judge without steps": (
        "check_total.steps = None",
        "the judge of 'test_total' must name the steps it needs",
    ),
    "a judge of a step that does not exist": (
        'check_total.steps = ["notebok"]',
        "Received: ['notebok']",
    ),
    "a check of a cell that is not graded": (
        'CHECKS["test_triple"] = check_total',
        "not graded ['test_triple']",
    ),
    "a graded cell without a check": (
        'del CHECKS["test_total"]',
        "missing ['test_total']",
    ),
    "a step of a cell the notebook does not have": (
        'STEPS.append(Step("more", "", cells=["answer_triple"]))\ncheck_total.steps = ["more"]',
        "step 'more' names cells the notebook does not have",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_checks_module_that_does_not_hold_together_is_refused_naming_what(tmp_path, case):
    change, words = BROKEN[case]
    course = toy_course(tmp_path, checks=TOY_CHECKS + "\n" + change + "\n")
    with pytest.raises(judging.ChecksError, match=rf"checks_toy.py: .*{_escape(words)}"):
        judging.load_checks(course, "toy", toy_source())


def _escape(text):
    return "".join("\\" + c if c in "[]().*?+" else c for c in text)


def test_a_result_round_trips_through_its_file_and_refuses_unknown_keys():
    result = judging.Result(
        "ada",
        "toy",
        2.0,
        3.0,
        judging.GRADED,
        "",
        {"test_double": judging.Check(2.0, 2.0, "")},
        {"explain": 2.0},
        2.0,
        answers={"answer_double": "def double(x): ..."},
    )
    record = json.loads(json.dumps(result.to_json()))
    assert "answers" not in record
    again = judging.Result.from_json(record)
    assert again.checks == result.checks and again.score == 2.0
    with pytest.raises(ValueError, match="unknown keys in a result: scroe"):
        judging.Result.from_json({**record, "scroe": 3})
    with pytest.raises(ValueError, match="unknown status"):
        judging.Result.from_json({**record, "status": "great"})
