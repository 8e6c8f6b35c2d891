"""Judging one submission: the checks module of an assignment (loaded and validated), its steps run in
sandboxes, its judges deciding outside them, and the result record.

A checks module, `grading/checks_<assignment>.py` of the course directory (instructor-only), holds the
one judge of each autograded cell; the instructor notebook's hidden tests call the same judges
(`hidden.py`), so plain `nbgrader autograde` and `tasks.py grade` decide alike. It defines:

- `NOTEBOOK`: the notebook's name (without `.ipynb`);
- `STEPS`: a list of `steps.Step`, what runs in sandboxes;
- `CHECKS`: {grade id of an autograded cell: judge}, where `judge(values, inputs)` raises
  AssertionError with the message a student sees, and `judge.steps` names the steps it needs
  (their values, and their failures, which its message quotes);
- optionally `DATASETS`: the datasets its judges and inputs load themselves.

`load_checks` refuses a module that does not hold together (a check for a cell that is not graded, a
step that carries a file no earlier step keeps, a judge without steps, ...), with a message that names
what is wrong.
"""

import dataclasses
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from aekeras_tools.grading import cells as nb
from aekeras_tools.grading import sandbox
from aekeras_tools.grading import steps as steps_module
from aekeras_tools.grading import submissions as subs

GRADED, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, DAMAGED, SUSPICIOUS, ERROR = (
    "graded",
    "timed out",
    "out of memory",
    "output flood",
    "damaged",
    "suspicious",
    "grading error",
)
STATUSES = (GRADED, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, DAMAGED, SUSPICIOUS, ERROR)
MAX_MESSAGE = 2000


class ChecksError(ValueError):
    """A checks module that does not hold together."""


# ----------------------------------------------------------------- records
@dataclasses.dataclass
class Check:
    """The outcome of one autograded cell."""

    points: float
    max_points: float
    message: str = ""


@dataclasses.dataclass
class Result:
    """What grading one submission gave (written as `autograded/<student>/<assignment>/aekeras_result.json`).

    `score` and `max_score` are those of the autograded cells; `manual` holds the points of the cells a
    person grades ({grade id: points}, `manual_max_score` their sum). `answers` (the student's answer
    cells, for the feedback and the formgrader) is not written to the file.
    """

    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    reason: str
    checks: dict
    manual: dict
    manual_max_score: float = 0.0
    seconds: float = 0.0
    grader: str = ""
    answers: dict = dataclasses.field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(
                f"unknown status; expected one of {STATUSES}. Received: {self.status!r}"
            )
        self.checks = {k: v if isinstance(v, Check) else Check(**v) for k, v in self.checks.items()}

    def to_json(self):
        record = dataclasses.asdict(self)
        del record["answers"]
        return record

    @classmethod
    def from_json(cls, record):
        """The record of `to_json`; an unknown or missing key is a ValueError that names it."""
        names = {f.name for f in dataclasses.fields(cls)} - {"answers"}
        unknown = sorted(set(record) - names)
        if unknown:
            raise ValueError(f"unknown keys in a result: {', '.join(unknown)}")
        try:
            return cls(**record)
        except TypeError as error:
            raise ValueError(f"an incomplete result ({error})") from None


def error_result(submission, source, reason):
    """The result of a submission whose grading failed (a grader or machine problem)."""
    manual = nb.manual_cells(source)
    return Result(
        submission.student,
        submission.assignment,
        0.0,
        sum(nb.graded_cells(source).values()),
        ERROR,
        reason,
        {},
        manual,
        sum(manual.values()),
    )


# ----------------------------------------------------------------- checks modules
def checks_path(course_dir, assignment):
    return Path(course_dir) / "grading" / f"checks_{assignment}.py"


def load_checks(course_dir, assignment, source=None):
    """The checks module of `assignment`, validated (against the instructor notebook `source` too).

    Raises:
        FileNotFoundError: there is no checks module.
        ChecksError: it does not hold together.
    """
    path = checks_path(course_dir, assignment)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checks for {assignment}: expected {path} (see aekeras_tools.grading.judging)"
        )
    spec = importlib.util.spec_from_file_location(f"checks_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    validate(module, path, source)
    return module


def validate(module, where, source=None):
    """Raises ChecksError naming what does not hold together in a checks module (see module docstring)."""

    def fail(message):
        raise ChecksError(f"{where}: {message}")

    if not isinstance(getattr(module, "NOTEBOOK", None), str):
        fail("NOTEBOOK must be the notebook's name (a str)")
    steps = getattr(module, "STEPS", None)
    if not isinstance(steps, (list, tuple)) or not steps:
        fail("STEPS must be a non-empty list of Step")
    names, kept = set(), set()
    for index, step in enumerate(steps):
        if not isinstance(step, steps_module.Step):
            fail(f"STEPS[{index}] is a {type(step).__name__}; make it with Step(...)")
        if step.name in names:
            fail(f"two steps are named {step.name!r}")
        missing = sorted(set(step.carry) - kept)
        if missing:
            fail(f"step {step.name!r} carries {missing}, which no earlier step keeps")
        names.add(step.name)
        kept.update(step.keep)
    checks = getattr(module, "CHECKS", None)
    if not isinstance(checks, dict) or not checks:
        fail("CHECKS must be a dict {grade id: judge}")
    for grade_id, judge in checks.items():
        if not callable(judge):
            fail(f"CHECKS[{grade_id!r}] is not a function")
        needed = getattr(judge, "steps", None)
        if not needed or isinstance(needed, str) or not set(needed) <= names:
            fail(
                f"the judge of {grade_id!r} must name the steps it needs ({judge.__name__}.steps, "
                f"some of {sorted(names)}). Received: {needed!r}"
            )
    unknown = sorted(set(getattr(module, "DATASETS", ())) - steps_module.DATASETS.keys())
    if unknown:
        fail(f"DATASETS names datasets the grader does not know: {unknown}")
    if source is not None:
        graded = set(nb.graded_cells(source))
        if set(checks) != graded:
            fail(
                f"CHECKS must judge exactly the autograded cells {sorted(graded)}; "
                f"missing {sorted(graded - set(checks))}, not graded {sorted(set(checks) - graded)}"
            )
        answers, given = set(nb.answer_cells(source)), nb.given_cells(source)
        for step in steps:
            if not set(step.cells or ()) <= answers or not set(step.given) <= given:
                fail(
                    f"step {step.name!r} names cells the notebook does not have as answers "
                    f"({sorted(answers)}) or given cells ({sorted(given)})"
                )


def datasets_of(module):
    """Every dataset the checks module needs prepared: its steps' and its judges'."""
    names = set(getattr(module, "DATASETS", ()))
    for step in module.STEPS:
        names.update(step.data)
    return sorted(names)


# ----------------------------------------------------------------- grading one submission
def decide(judge, values, inputs, failures):
    """(passed, message) of one judge; the message says why a check failed, and quotes what went
    wrong in the steps the judge needs (`failures`: {step: what went wrong})."""
    try:
        judge(values, inputs)
        return True, ""
    except AssertionError as error:
        message = str(error)[:MAX_MESSAGE]
    except KeyError as error:
        message = f"Your code produced no result for this check (no value {error})."
    except Exception as error:  # an odd value must not stop the batch
        message = f"Your result could not be checked: {type(error).__name__}: {error}"
        message = message[:MAX_MESSAGE]
    why = "; ".join(failures[k] for k in judge.steps if k in failures)
    return False, message + (f" (Your code: {why[:600]})" if why else "")


def grade_submission(
    submission,
    checks,
    source,
    prints,
    *,
    backend="tensorflow",
    threads=1,
    data_home=None,
    workspace=None,
    seed=None,
):
    """Grades one submission (on a worker); nothing the submission does makes it raise.

    Args:
        submission: a `submissions.Submission`.
        checks: the assignment's checks module (`load_checks`).
        source: the instructor notebook (nbformat).
        prints: the instructor content to look for (`submissions.fingerprints`).
        backend: the Keras backend of the sandboxes.
        threads: CPU threads per sandbox.
        data_home: where the datasets of the steps are prepared.
        workspace: where the grader's temporary folders go (never shown to a sandbox).
        seed: of the grader's random inputs (default: fresh entropy, so no one knows them in advance).

    Returns:
        A `Result`.

    Raises:
        sandbox.SandboxError: a sandbox could not be made (the machine's problem, not the student's).
    """
    points, manual = nb.graded_cells(source), nb.manual_cells(source)
    start = time.perf_counter()
    data, cells, answers, problems = subs.read(submission, source, f"{checks.NOTEBOOK}.ipynb")
    copied = subs.instructor_content(data, cells, answers, prints)
    if copied:  # not the student's work: not graded, for a person to read
        message = "Not graded: a person reads this notebook first (see the status)."
        return Result(
            submission.student,
            submission.assignment,
            0.0,
            sum(points.values()),
            SUSPICIOUS,
            "not graded, score 0 until a person decides: the notebook carries instructor-only "
            f"content ({'; '.join(copied)})",
            {k: Check(0.0, v, message) for k, v in points.items()},
            manual,
            sum(manual.values()),
            round(time.perf_counter() - start, 1),
            f"{platform.node()}:{os.getpid()}",
            answers,
        )
    code_ids = {k for k, v in nb.answer_cells(source).items() if v == "code"}
    code = {k: v for k, v in answers.items() if k in code_ids}
    blank = nb.unanswered(source, code)
    status, reason = GRADED, ""
    values, inputs, failures = {}, {}, {}
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="aekeras-grading-", dir=workspace) as root:
        plan = []  # (step, cells, why it does not run or "")
        for step in checks.STEPS if code else ():
            cells = nb.compose(source, answers, step)
            mine = [c["id"] for c in cells if c["id"] in code]
            blank_step = step.runs_student_code and mine and set(mine) <= blank
            # Nothing written where this step looks: it could make nothing a judge accepts.
            plan.append(
                (step, cells, f"not answered ({', '.join(mine)} as released)" if blank_step else "")
            )
        started, drawn = {}, {}

        def draw(step):
            # Every step's inputs are drawn, in order, whether it runs or not: a judge sees what it
            # asked for, and finds no value from the student where a step did not run.
            if step.name not in drawn:
                drawn[step.name] = step.inputs(rng) if step.inputs else {}
                inputs.update(
                    {f"{step.name}.{k}": np.asarray(v) for k, v in drawn[step.name].items()}
                )
            return drawn[step.name]

        def launch(step, cells):
            step_inputs = draw(step)
            started[step.name] = steps_module.StartedStep(
                step,
                cells,
                root,
                step_inputs,
                backend=backend,
                threads=threads,
                data_home=data_home,
            )

        try:
            for index, (step, cells, skip) in enumerate(plan):
                missing = [f for f in step.carry if not (Path(root) / "kept" / f).is_file()]
                if skip or missing:  # e.g. no trained model to evaluate: nothing to do
                    draw(step)
                    if step.name in started:
                        started.pop(step.name).kill()
                    failures[step.name] = skip or f"no {', '.join(missing)} from an earlier step"
                    continue
                if step.name not in started:
                    launch(step, cells)
                # The next step that preloads Keras starts now: its slow start overlaps this one.
                later = [(s, c) for s, c, why in plan[index + 1 :] if not why and s.preload]
                if later and later[0][0].name not in started:
                    launch(*later[0])
                result, errors, step_values = started.pop(step.name).finish()
                values.update(step_values)
                if result.status != sandbox.OK:
                    failures[step.name] = f"{result.status}: {result.reason}"
                    if status == GRADED and result.status != sandbox.CRASHED:
                        status, reason = result.status, f"step {step.name}: {result.reason}"
                elif errors:
                    failures[step.name] = "; ".join(
                        f"{cell}: {error}" for cell, error in errors.items()
                    )
        finally:
            for waiting in started.values():
                waiting.kill()
    results = {}
    for grade_id, maximum in points.items():
        judge = checks.CHECKS[grade_id]
        if not code:
            passed, message = False, "Your notebook could not be graded: " + "; ".join(problems)
        else:
            passed, message = decide(judge, values, inputs, failures)
        results[grade_id] = Check(maximum if passed else 0.0, maximum, message)
    if status == GRADED and problems:
        status, reason = DAMAGED, "; ".join(problems)
    flags = subs.suspicious(code)
    if status == GRADED and flags:
        status, reason = SUSPICIOUS, "; ".join(flags)
    elif flags:
        reason += "; also suspicious: " + "; ".join(flags)
    return Result(
        submission.student,
        submission.assignment,
        sum(r.points for r in results.values()),
        sum(points.values()),
        status,
        reason,
        results,
        manual,
        sum(manual.values()),
        round(time.perf_counter() - start, 1),
        f"{platform.node()}:{os.getpid()}",  # which machine and process graded it
        answers,
    )
