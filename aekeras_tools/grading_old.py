"""Grades a class: every submission in an nbgrader course directory, in parallel sandboxes, judged outside them.

Usage (from the repository root, with the project's environment):

    python -m aekeras_tools.grading [ASSIGNMENT ...] [--course DIR] [--workers N] [--student ID]
                                    [--force] [--csv FILE] [--scheduler ADDRESS]

or `python3 tasks.py grade [ASSIGNMENT]`. It reads nbgrader's course directory (default
`course/assignments/`): the instructor notebooks `source/<assignment>/<notebook>.ipynb`, the
submissions `submitted/<student>/<assignment>/<notebook>.ipynb`, and the trusted checks of each
assignment, `grading/checks_<assignment>.py`. It writes the scores into nbgrader's `gradebook.db`,
each submission's result to `autograded/<student>/<assignment>/aekeras_result.json`, prints a table
(one row per student and assignment: score, maximum, status and reason) and writes `grades_lms.csv`.

Scores and maxima are those of the autograded cells; the cells nbgrader grades by hand (written
answers, tasks) are counted apart, as points still to grade, in the table (`9/9 +2 by hand`), the
CSV (`manual_to_grade`) and the gradebook, where they wait for a person in nbgrader's formgrader. For
the formgrader, `autograded/<student>/<assignment>/<notebook>.ipynb` holds the student's answers in
the instructor's notebook (hidden tests removed, each failed check's message as its cell's output).
The feedback, `feedback/<student>/<assignment>/<notebook>.html` beside the submission's
`timestamp.txt` and `submission_secret.txt` (nbgrader's layout: `nbgrader release_feedback` sends it
on), holds the student's answers and, per graded cell, its score, maximum and check's message: never
the code of a test cell or of the checks.

Design: who runs what
---------------------

The threat model. A submission is code that runs before anything the grader does with it. In
`nbgrader autograde`, the hidden tests run in the student's own kernel after the student's cells, so
a few lines in an answer can replace the grading helpers or the functions a check calls, switch off a
guard, rewrite the cells still to come, read the hidden tests from disk, or loop, allocate, fork and
print until the batch stops. Here:

- **The trusted harness** is this module. It never executes student code. It reads the submitted
  notebook as data (size-limited JSON), takes only the student's *answer* cells from it (by grade
  id, found in the instructor's notebook), and puts them between the instructor's own given cells;
  test cells, hidden or not, never go to the student's process.
- **The sandbox** (`aekeras_tools.sandbox`): each step of each submission runs in its own
  subprocess, in a fresh temporary folder (its working directory and HOME), with limits on wall
  clock, CPU, memory, processes and file size, no network, the course directory (other submissions,
  the instructor's notebooks, the checks, the gradebook) hidden, and everything but its folder
  read-only. The step executes the cells, then a *probe* of the assignment's checks calls the
  student's functions on the grader's inputs and exports plain values (NumPy arrays) to a file.
- **The judges** are functions of `grading/checks_<assignment>.py`, run here, outside the
  sandbox. They receive only the exported arrays (loaded without pickle), compute the expected
  results themselves with the library, and pass or fail each graded cell with a message. So nothing
  the student's code does to its own process (patching NumPy, the runner, builtins) changes how a
  check decides, only what the student's own functions return.
- **NumPy-only tasks** run in a step with `numpy_only`: the interpreter starts without its
  site-packages (`python -I -S`), NumPy is mounted into the sandbox folder, and in the sandbox the
  site-packages folders are hidden, so aekeras, Keras, SciPy, scikit-learn cannot be imported at all
  (there is no guard to switch off).

Where the work runs. Submissions are graded on Dask distributed (no scheduler of our own): by
default a LocalCluster of one worker process per core, started for the batch; with `--scheduler` the
workers of a running cluster (dask-jobqueue on Slurm, dask-kubernetes: see the README), which need the
repository and the course directory at the same path. A worker grades one submission at a time, runs
its sandboxes and its judges, and returns the result; only the process that asked writes the results,
the gradebook and the CSV, so nbgrader's one SQLite file has a single writer.

A checks module defines `NOTEBOOK` (the notebook's name), `STEPS` (a list of dicts: `name`,
`numpy_only`, `cells`: the answer cells to run, or None for the whole notebook, `probe`: code that
calls `export(name, value)`, optional `inputs`: a function of a NumPy Generator that returns the
grader's input arrays, found by the probe in `inputs`, `keep` and `carry`: files handed from a step to
a later one (`run_step`), optional `given`: the instructor's given cells (grade ids) to run before the
answer cells of `cells`, e.g. the set-up an answer needs, and limits `wall_s`, `memory_bytes`,
`processes`, `file_bytes`) and
`CHECKS` (grade id of an autograded cell -> a function `judge(values, inputs)` that raises
AssertionError with the message a student sees; its optional attribute `steps` names the steps whose
failures its message quotes). Exported names and inputs are prefixed with the step's name
(`numpy.rec` for `export("rec", ...)` in the step `numpy`).

Steps without student code. A step with `"cells": []` runs only its probe: the grader's own code, in
a sandbox, on what an earlier step kept. This is how a task grades a *design* rather than a training
run that the student controls (A1 Task 3): a step runs the student's builder and keeps the model's
configuration (`keep: ["design.json"]`); a later step with no student code (`carry`) rebuilds the
model from it in Keras' safe mode, initialises it from the grader's seed and trains it with the
grader's budget (the source of `retrain` in grading/aekeras_grading.py, whose `design_problems` the
judges use to refuse configurations holding code or arrays), then exports what the judges compare.
Training longer or on test images in the notebook then changes nothing a judge sees.

Statuses: graded; timed out, out of memory, output flood (a step hit a limit: the checks that need
its values fail); damaged (the file is not a notebook, a cell is missing or duplicated, the file has
another name: graded from what could be found); suspicious (an answer cell does what no answer needs,
e.g. imports `sys`, `ctypes`, `subprocess`, reads frames or files outside its folder: graded as
usual, flagged for a person to read). Each comes with its reason.
"""

import argparse
import copy
import csv
import dataclasses
import functools
import html
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np

from aekeras_tools import sandbox
from aekeras_tools.paths import COURSE

COURSE_DIR = COURSE / "assignments"
COURSE_ID = "aekeras"
RESULT_FILE = "aekeras_result.json"
LMS_CSV = "grades_lms.csv"
MAX_NOTEBOOK_BYTES = 20 * 2**20  # larger submissions are damaged (outputs of a flood)
DEFAULT_LIMITS = sandbox.Limits(wall_s=300, memory_bytes=12 * 2**30, processes=512)

GRADED, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, DAMAGED, SUSPICIOUS, ERROR = (
    "graded",
    "timed out",
    "out of memory",
    "output flood",
    "damaged",
    "suspicious",
    "grading error",
)
# What no answer cell needs, with the reason a person reads in the summary.
SUSPICIOUS_CODE = (
    (
        r"\bimport\s+(sys|ctypes|subprocess|socket|gc|inspect|builtins|importlib|signal)\b",
        "imports `{0}`",
    ),
    (
        r"\bfrom\s+(sys|ctypes|subprocess|socket|gc|inspect|builtins|importlib|signal)\b",
        "imports from `{0}`",
    ),
    (
        r"\b(__import__|_getframe|setprofile|settrace|__builtins__|__code__|__globals__)\b",
        "uses `{0}`",
    ),
    (r"\b(os\.(?:system|fork|kill|popen|exec\w*|spawn\w*)|open\s*\(\s*['\"]/)", "calls `{0}`"),
    (r"(?<![.\w])(exec|eval|compile)\s*\(", "calls `{0}`"),
)


@dataclasses.dataclass
class Submission:
    """One student's folder for one assignment: `path` is the notebook found there, or None."""

    student: str
    assignment: str
    folder: Path
    path: Path | None


# ----------------------------------------------------------------- course directory
def assignments(course_dir=COURSE_DIR):
    """The assignments with instructor notebooks under source/, sorted."""
    return sorted(p.name for p in (Path(course_dir) / "source").iterdir() if p.is_dir())


def load_checks(course_dir, assignment):
    """The trusted checks module `grading/checks_<assignment>.py` (instructor-only)."""
    path = Path(course_dir) / "grading" / f"checks_{assignment}.py"
    if not path.is_file():
        raise FileNotFoundError(
            f"no trusted checks for {assignment}: expected {path} (see aekeras_tools.grading)"
        )
    spec = importlib.util.spec_from_file_location(f"checks_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def discover(course_dir, assignment, notebook, students=None):
    """The submissions of `assignment` under submitted/, one per student folder, sorted by student."""
    found = []
    for folder in sorted((Path(course_dir) / "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        if students and student not in students:
            continue
        expected = folder / f"{notebook}.ipynb"
        others = sorted(folder.glob("*.ipynb"))
        found.append(
            Submission(
                student,
                assignment,
                folder,
                expected if expected.exists() else (others or [None])[0],
            )
        )
    return found


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(source):
    """{grade id: points} of the autograded test cells of the instructor notebook."""
    return {
        _meta(c)["grade_id"]: float(_meta(c).get("points", 0))
        for c in source.cells
        if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")
    }


def manual_cells(source):
    """{grade id: points} of the cells a person grades (nbgrader's manually graded answers and tasks)."""
    return {
        _meta(c)["grade_id"]: float(_meta(c).get("points", 0))
        for c in source.cells
        if (_meta(c).get("grade") and _meta(c).get("solution")) or _meta(c).get("task")
    }


# ----------------------------------------------------------------- reading a submission
def read_submission(submission, source):
    """(answer cells {grade id: source}, problems) of a submission, read as data (never executed).

    The answer cells are the solution cells of the instructor's notebook, code and written ones (a written
    answer is carried into the feedback; only code cells ever run), found by grade id and cell type.
    """
    problems = []
    if submission.path is None:
        return {}, ["no notebook in the submission folder"]
    if submission.path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return {}, [f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"]
    try:
        data = json.loads(submission.path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as error:
        return {}, [
            f"the file is not valid JSON ({error.msg}, line {error.lineno}); it cannot be opened as a notebook"
        ]
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return {}, ["the file is not a notebook (no list of cells)"]
    if not cells:
        return {}, ["the notebook has no cells"]
    solutions = {
        _meta(c)["grade_id"]: c.cell_type
        for c in source.cells
        if _meta(c).get("solution") and c.cell_type in ("code", "markdown")
    }
    answers = {}
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        meta = (
            cell.get("metadata", {}).get("nbgrader", {})
            if isinstance(cell.get("metadata"), dict)
            else {}
        )
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id not in solutions or cell.get("cell_type") != solutions[grade_id]:
            continue
        text = cell.get("source", "")
        text = "".join(map(str, text)) if isinstance(text, list) else str(text)
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be written
        if grade_id in answers:
            problems.append(
                f"the answer cell {grade_id} appears more than once; the first copy was graded"
            )
            continue
        answers[grade_id] = text
    missing = sorted(solutions - answers.keys())
    if missing:
        problems.append(
            f"answer cells missing (deleted, or their metadata changed): {', '.join(missing)}"
        )
    return answers, problems


def _code_answers(source):
    """The grade ids of the instructor notebook's code answer cells (those that run)."""
    return {
        _meta(c)["grade_id"]
        for c in source.cells
        if _meta(c).get("solution") and c.cell_type == "code"
    }


def suspicious(answers):
    """Reasons to have a person read the answer cells: code that no answer needs."""
    reasons = []
    for grade_id, text in answers.items():
        for pattern, reason in SUSPICIOUS_CODE:
            match = re.search(pattern, text)
            if match:
                reasons.append(f"{grade_id} {reason.format(match.group(1))}")
    return reasons


def compose(source, answers, names=None, given=None):
    """The cells one sandbox step runs: the instructor's given code cells and the student's answers.

    Test cells (autograded, hidden parts or not) are never included. With `names`, only those answer
    cells run (a NumPy-only step runs the answer cells without the notebook's set-up), after the given
    cells named in `given` (e.g. the set-up that an answer needs), in the notebook's order.
    """
    cells = []
    for cell in source.cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or not meta:
            continue
        grade_id = meta.get("grade_id")
        if meta.get("solution"):
            if names is None or grade_id in names:
                cells.append({"id": grade_id, "source": answers.get(grade_id, "")})
        elif not meta.get("grade") and (names is None or grade_id in (given or ())):
            cells.append({"id": grade_id, "source": cell.source})
    return cells


# ----------------------------------------------------------------- running a step
# Packages a NumPy-only step must not reach, even by path: their folders are hidden there.
NOT_NUMPY = (
    "aekeras",
    "keras",
    "tensorflow",
    "torch",
    "jax",
    "jaxlib",
    "scipy",
    "sklearn",
    "skimage",
)


def _not_numpy_folders():
    """The site-packages folders of this interpreter and its base, and the folders of `NOT_NUMPY`
    packages (an editable aekeras lives in a checkout)."""
    folders = set()
    for base in {sys.prefix, sys.base_prefix}:
        paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
        folders.update(paths[key] for key in ("purelib", "platlib"))
    for name in NOT_NUMPY:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        folders.update((spec and spec.submodule_search_locations) or ())
    return sorted(str(Path(f).resolve()) for f in folders if os.path.isdir(f))


def _numpy_mounts():
    """(source, name) pairs that make NumPy (and its bundled libraries) importable from `_site/`."""
    root = Path(np.__file__).resolve().parent
    pairs = [(root, "_site/numpy")]
    libs = root.parent / "numpy.libs"
    if libs.is_dir():
        pairs.append((libs, "_site/numpy.libs"))
    return pairs


def run_step(step, cells, course_dir, workspace, inputs=None, env=None):
    """Runs one step in a fresh sandbox folder under `workspace` (hidden from the step, like every other
    folder there): returns (sandbox.Result, {cell id: error}, {"<step>.<name>": exported array}).

    Files a step names in `keep` (written to its `out/`) are kept in `workspace/kept/`; a later step
    that names them in `carry` finds them in its folder (e.g. a trained model, for a step that loads
    it safely and evaluates it without any student code).
    """
    folder = Path(tempfile.mkdtemp(prefix="step-", dir=workspace))
    kept = Path(workspace) / "kept"
    try:
        for name in step.get("carry", ()):
            if (kept / name).is_file():
                shutil.copy(kept / name, folder / name)
        numpy_only = bool(step.get("numpy_only"))
        shutil.copy(Path(__file__).with_name("sandbox_runner.py"), folder / "runner.py")
        if inputs:
            np.savez(folder / "inputs.npz", **inputs)
        prelude = [{"id": "prelude", "source": "import numpy as np"}] if numpy_only else []
        job = {
            "cells": prelude + cells,
            "probe": step.get("probe", ""),
            "sys_path": [str(folder / "_site")] if numpy_only else [],
        }
        (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
        limits = dataclasses.replace(
            DEFAULT_LIMITS,
            **{
                k: step[k]
                for k in ("wall_s", "memory_bytes", "processes", "file_bytes")
                if k in step
            },
        )
        python = sys.executable
        if numpy_only:
            argv, bind, hide_after = (
                [python, "-I", "-S", "runner.py"],
                _numpy_mounts(),
                _not_numpy_folders(),
            )
        else:
            argv, bind, hide_after = [python, "-I", "runner.py"], (), ()
        passed = ("AEKERAS_RAW_DATA", "AEKERAS_DATA_HOME", "KERAS_BACKEND")
        environment = {
            "KERAS_BACKEND": "tensorflow",
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "OMP_NUM_THREADS": "1",
            **{k: os.environ[k] for k in passed if k in os.environ},
            **(env or {}),
        }
        result = sandbox.run(
            argv,
            folder,
            limits,
            env=environment,
            hide=[Path(course_dir).resolve()],
            hide_after=hide_after,
            bind=bind,
            require_isolation=not os.environ.get("AEKERAS_GRADING_WITHOUT_ISOLATION"),
        )
        for name in step.get("keep", ()):
            path = folder / "out" / name
            if path.is_file() and not path.is_symlink():
                kept.mkdir(exist_ok=True)
                shutil.copy(path, kept / name)
        return (result, *_read_outputs(folder, step["name"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read_outputs(folder, name):
    """({cell id: error}, {"<name>.<key>": array}) from what a step wrote: untrusted files, read as data."""
    errors, values = {}, {}
    cells_file, values_file = folder / "out" / "cells.json", folder / "out" / "values.npz"
    if cells_file.is_file() and not cells_file.is_symlink() and cells_file.stat().st_size < 2**20:
        try:
            errors = {
                str(e["id"]): str(e["error"])
                for e in json.loads(cells_file.read_text())
                if e.get("error")
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            errors = {}
    if values_file.is_file() and not values_file.is_symlink():
        try:
            with np.load(values_file, allow_pickle=False) as archive:
                values = {f"{name}.{k}": archive[k] for k in archive.files}
        except (ValueError, OSError, EOFError):
            values = {}
    return errors, values


# ----------------------------------------------------------------- grading one submission
def _check(judge, values, inputs):
    """(passed, message) of one trusted check; the message says why a check failed."""
    try:
        judge(values, inputs)
        return True, ""
    except AssertionError as error:
        return False, str(error)[:2000]
    except KeyError as error:
        return False, f"Your code produced no result for this check (no value {error})."
    except Exception as error:  # an odd value must not stop the batch
        return False, f"Your result could not be checked: {type(error).__name__}: {error}"[:2000]


def grade_submission(submission, course_dir, checks, workspace=None, env=None, seed=None):
    """Grades one submission (on a worker): a dict with student, assignment, score and max_score (of the
    autograded cells), manual_max_score and manual (the points of the cells a person grades, {grade id:
    points}), status, reason, and per test cell its points and message. Nothing the submission does makes
    it raise.

    Args:
        submission: a `Submission`.
        course_dir: nbgrader's course directory.
        checks: the assignment's checks module (`load_checks`).
        workspace: the folder the sandbox folders are made in (hidden from every sandbox); default: a
            temporary one.
        env: further environment variables of the sandboxes.
        seed: of the grader's random inputs (default: fresh entropy, so no one knows them in advance).
    """
    course_dir = Path(course_dir)
    source = nbformat.read(
        course_dir / "source" / submission.assignment / f"{checks.NOTEBOOK}.ipynb", as_version=4
    )
    points, manual = graded_cells(source), manual_cells(source)
    start = time.perf_counter()
    answers, problems = read_submission(submission, source)
    code = {k: v for k, v in answers.items() if k in _code_answers(source)}  # the cells that run
    if submission.path is not None and submission.path.name != f"{checks.NOTEBOOK}.ipynb":
        problems.insert(
            0, f"the notebook is named {submission.path.name}, not {checks.NOTEBOOK}.ipynb"
        )
    status, reason = GRADED, ""
    values, inputs, failures = {}, {}, {}
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="aekeras-grading-", dir=workspace) as root:
        for step in checks.STEPS if code else ():
            name = step["name"]
            missing = [f for f in step.get("carry", ()) if not (Path(root) / "kept" / f).is_file()]
            if missing:  # e.g. no trained model to evaluate: the step has nothing to do
                failures[name] = f"no {', '.join(missing)} from an earlier step"
                continue
            step_inputs = step["inputs"](rng) if "inputs" in step else {}
            inputs.update({f"{name}.{k}": np.asarray(v) for k, v in step_inputs.items()})
            result, errors, step_values = run_step(
                step,
                compose(source, answers, step.get("cells"), step.get("given")),
                course_dir,
                root,
                step_inputs,
                env,
            )
            values.update(step_values)
            if result.status != sandbox.OK:
                failures[name] = f"{result.status}: {result.reason}"
                if status == GRADED and result.status != sandbox.CRASHED:
                    status, reason = result.status, f"step {name}: {result.reason}"
            elif errors:
                failures[name] = "; ".join(f"{cell}: {error}" for cell, error in errors.items())
    results = {}
    for grade_id, maximum in points.items():
        judge = checks.CHECKS.get(grade_id)
        if judge is None:
            passed, message = False, f"grading error: no trusted check for {grade_id}"
        elif not code:
            passed, message = False, "Your notebook could not be graded: " + "; ".join(problems)
        else:
            passed, message = _check(judge, values, inputs)
            needed = getattr(judge, "steps", None) or [k.split(".")[0] for k in failures]
            why = "; ".join(failures[k] for k in needed if k in failures)
            if not passed and why:
                message += f" (Your code: {why[:600]})"
        results[grade_id] = {
            "points": maximum if passed else 0.0,
            "max_points": maximum,
            "message": message,
        }
    if status == GRADED and problems:
        status, reason = DAMAGED, "; ".join(problems)
    flags = suspicious(code)
    if status == GRADED and flags:
        status, reason = SUSPICIOUS, "; ".join(flags)
    elif flags:
        reason += "; also suspicious: " + "; ".join(flags)
    return {
        "student": submission.student,
        "assignment": submission.assignment,
        "score": sum(r["points"] for r in results.values()),
        "max_score": sum(points.values()),
        "manual_max_score": sum(manual.values()),  # points a person still grades (formgrader)
        "status": status,
        "reason": reason,
        "checks": results,
        "manual": manual,
        "seconds": round(time.perf_counter() - start, 1),
        "grader": f"{platform.node()}:{os.getpid()}",  # which machine and process graded it
    }


# ----------------------------------------------------------------- the batch
def result_path(course_dir, student, assignment):
    return Path(course_dir) / "autograded" / student / assignment / RESULT_FILE


def _duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _progress(done, total, start, stream):
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done) if done else 0
    width = 30
    bar = "#" * (width * done // max(total, 1))
    stream.write(
        f"\r[{bar:<{width}}] {done}/{total}  elapsed {_duration(elapsed)}  ETA {_duration(eta)} "
    )
    stream.flush()


def record(course_dir, source_notebooks, results):
    """Writes the results into nbgrader's gradebook (the only writer; called in the main process)."""
    from nbgrader.api import Gradebook
    from nbgrader.api import MissingEntry

    # nbgrader runs the `alembic` command of this environment when it creates or upgrades the gradebook.
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join(filter(None, [scripts, os.environ.get("PATH")]))
    with (
        warnings.catch_warnings(),
        Gradebook(f"sqlite:///{Path(course_dir) / 'gradebook.db'}", course_id=COURSE_ID) as gb,
    ):
        # nbgrader's add_submission links the new row to its student before adding it to the session;
        # SQLAlchemy warns at the next flush (nbgrader's own autograde does the same).
        warnings.filterwarnings("ignore", r"Object of type <\w+> not in session")
        for assignment, (notebook, source) in source_notebooks.items():
            gb.update_or_create_assignment(assignment)
            gb.update_or_create_notebook(notebook, assignment)
            for cell in source.cells:
                meta = _meta(cell)
                if meta.get("grade"):
                    gb.update_or_create_grade_cell(
                        meta["grade_id"],
                        notebook,
                        assignment,
                        max_score=float(meta.get("points", 0)),
                        cell_type=cell.cell_type,
                    )
                if meta.get("solution"):
                    gb.update_or_create_solution_cell(meta["grade_id"], notebook, assignment)
        for result in results:
            notebook = source_notebooks[result["assignment"]][0]
            gb.update_or_create_student(result["student"])
            try:
                gb.find_submission(result["assignment"], result["student"])
            except MissingEntry:
                gb.add_submission(result["assignment"], result["student"])
            for grade_id, check in result["checks"].items():
                grade = gb.find_grade(grade_id, notebook, result["assignment"], result["student"])
                grade.auto_score = check["points"]
                grade.needs_manual_grade = False
            # The cells a person grades: nbgrader's formgrader lists them as waiting.
            for grade_id in result.get("manual", {}):
                grade = gb.find_grade(grade_id, notebook, result["assignment"], result["student"])
                grade.auto_score = None
                grade.needs_manual_grade = True
            gb.db.commit()


# ----------------------------------------------------------------- feedback and formgrader
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M
)
# Files of nbgrader's submission folder that release_feedback needs beside the feedback (copied as data).
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def _copy_submission_files(submission, folder):
    for name in SUBMISSION_FILES:
        path = submission.folder / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 4096:
            shutil.copy(path, folder / name)


def autograded_notebook(source, answers, result):
    """The notebook nbgrader's formgrader shows a person: the instructor's notebook with the student's
    answers in place, each test cell's visible part (hidden tests removed) with its check's message as
    output, and no outputs of student code (none ran here)."""
    notebook = copy.deepcopy(source)
    for cell in notebook.cells:
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        if meta.get("solution"):
            cell.source = answers.get(grade_id, "")
        elif meta.get("grade") and cell.cell_type == "code":
            cell.source = HIDDEN_TESTS.sub("", cell.source)
            check = result["checks"].get(grade_id)
            if check and check["points"] < check["max_points"]:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error", ename="AssertionError", evalue=check["message"], traceback=[]
                    )
                ]
        if cell.cell_type == "code" and not (meta.get("grade") and not meta.get("solution")):
            cell.outputs = []
    return notebook


def feedback_html(source, answers, result):
    """The feedback a student reads: a self-contained HTML page with the student's answers, and for each
    autograded cell its score, maximum and (when it failed) its check's message; the cells graded by hand
    with their points. It holds nothing of the test cells or the checks but those messages."""
    e = html.escape
    manual = result.get("manual", {})
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>Feedback: {e(result['assignment'])}, {e(result['student'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}"
        ".passed{color:#176117}.failed{color:#a11}.manual{color:#555}</style>",
        "</head><body>",
        f"<h1>{e(result['assignment'])}: feedback for {e(result['student'])}</h1>",
        f"<p>Autograded score: <b>{result['score']:g} / {result['max_score']:g}</b>"
        + (
            f"; {result.get('manual_max_score', 0):g} more points are graded by hand"
            if result.get("manual_max_score")
            else ""
        )
        + "</p>",
    ]
    if result.get("reason"):
        parts.append(f"<p>Status: {e(result['status'])}: {e(result['reason'])}</p>")
    for cell in source.cells:
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        if cell.cell_type == "markdown" and not meta.get("solution"):
            titles = [line for line in cell.source.splitlines() if line.startswith("#")]
            parts += [f"<h2>{e(line.lstrip('#').strip())}</h2>" for line in titles]
        elif meta.get("solution"):
            parts.append(f"<h3>Your answer ({e(grade_id)})</h3>")
            parts.append(f"<pre>{e(answers.get(grade_id, '(missing)'))}</pre>")
            if grade_id in manual:
                parts.append(
                    f'<p class="manual">{e(grade_id)}: graded by hand, {manual[grade_id]:g} points</p>'
                )
        elif grade_id in result["checks"]:
            check = result["checks"][grade_id]
            passed = check["points"] >= check["max_points"]
            parts.append(
                f'<p class="{"passed" if passed else "failed"}">{e(grade_id)}: '
                f"{check['points']:g} / {check['max_points']:g}"
                + ("" if passed else f"<br>{e(check['message'])}")
                + "</p>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_feedback(course_dir, submission, notebook, source, result):
    """Writes, in nbgrader's layout, the notebook the formgrader shows
    (`autograded/<student>/<assignment>/<notebook>.ipynb`) and the feedback
    (`feedback/<student>/<assignment>/<notebook>.html`, with the submission's `timestamp.txt` and
    `submission_secret.txt`, which `nbgrader release_feedback` reads). The submission is read as data."""
    answers, _ = read_submission(submission, source)
    course_dir = Path(course_dir)
    folders = {
        kind: course_dir / kind / submission.student / submission.assignment
        for kind in ("autograded", "feedback")
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
        _copy_submission_files(submission, folder)
    nbformat.write(
        autograded_notebook(source, answers, result),
        folders["autograded"] / f"{notebook}.ipynb",
    )
    (folders["feedback"] / f"{notebook}.html").write_text(
        feedback_html(source, answers, result), encoding="utf-8"
    )


def write_csv(path, results):
    """One row per student and assignment: what an LMS imports (student, assignment, the autograded score
    and maximum, the points still to grade by hand, status, reason)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["student", "assignment", "score", "max_score", "manual_to_grade", "status", "reason"]
        )
        for r in sorted(results, key=lambda r: (r["student"], r["assignment"])):
            writer.writerow(
                [
                    r["student"],
                    r["assignment"],
                    f"{r['score']:g}",
                    f"{r['max_score']:g}",
                    f"{r.get('manual_max_score', 0):g}",
                    r["status"],
                    r["reason"],
                ]
            )


def summary(results):
    """The table printed at the end: one row per student and assignment (the autograded score of the
    autograded maximum, and the points still to grade by hand)."""
    rows = [("student", "assignment", "score", "status", "reason")]
    for r in sorted(results, key=lambda r: (r["student"], r["assignment"])):
        manual = r.get("manual_max_score", 0)
        rows.append(
            (
                r["student"],
                r["assignment"],
                f"{r['score']:g}/{r['max_score']:g}" + (f" +{manual:g} by hand" if manual else ""),
                r["status"],
                r["reason"][:120],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]
        for row in rows
    )


@functools.cache
def _checks(course_dir, assignment):
    return load_checks(course_dir, assignment)


def grade_on_worker(submission, course_dir):
    """`grade_submission` where only paths travel (a Dask worker loads the checks module itself)."""
    return grade_submission(
        submission, course_dir, _checks(Path(course_dir), submission.assignment)
    )


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "grading runs on Dask distributed, which is not installed here: "
            "pip install -e '.[test]' (or pip install distributed)"
        ) from error
    return distributed


def _on_client(submissions, course_dir, client):
    """(submission, result or exception) as each finishes, graded by the workers of `client`."""
    distributed = _distributed()
    futures = {
        client.submit(
            grade_on_worker,
            s,
            str(course_dir),
            pure=False,
            key=f"grade-{s.assignment}-{s.student}",
        ): s
        for s in submissions
    }
    for future in distributed.as_completed(futures):
        yield futures[future], future.exception() or future.result()


def _on_dask(submissions, course_dir, scheduler=None, workers=None):
    """(submission, result or exception) as each finishes, graded on Dask distributed.

    Without `scheduler`, on a LocalCluster of `workers` processes (one thread each; default: one per
    core) that lives as long as the batch. With `scheduler` (an address), on the workers of that
    running cluster; they must see the course directory at the same path (a shared file system) and
    import aekeras_tools (start them from the repository root, or with it on PYTHONPATH).
    """
    distributed = _distributed()
    if not submissions:
        return
    if scheduler:
        with distributed.Client(scheduler) as client:
            yield from _on_client(submissions, course_dir, client)
        return
    workers = workers or os.cpu_count() or 1
    # No memory limit for the worker processes: each sandbox has its own, and a worker that Dask
    # restarted for memory would lose a submission without a status.
    with (
        distributed.LocalCluster(
            n_workers=min(workers, len(submissions)),
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield from _on_client(submissions, course_dir, client)


def grade(
    course_dir=COURSE_DIR,
    names=None,
    workers=None,
    students=None,
    force=False,
    scheduler=None,
    stream=sys.stderr,
):
    """Grades every submission of the assignments `names` (default: all) and returns the results of every
    student, those graded before included. Graded submissions are skipped unless `force` or `students`.

    The submissions are graded on Dask distributed: by a LocalCluster of `workers` processes here
    (default: one per core), each running its sandboxes, or, with `scheduler` (a Dask scheduler's
    address), by the workers of that cluster. Either way this process alone writes the results and the
    gradebook, as they come back.
    """
    course_dir = Path(course_dir).resolve()
    names = names or assignments(course_dir)
    submissions, results, sources = [], [], {}
    for assignment in names:
        checks = _checks(course_dir, assignment)
        source = nbformat.read(
            course_dir / "source" / assignment / f"{checks.NOTEBOOK}.ipynb", as_version=4
        )
        sources[assignment] = (checks.NOTEBOOK, source)
        for submission in discover(course_dir, assignment, checks.NOTEBOOK, students):
            done = result_path(course_dir, submission.student, assignment)
            if done.is_file() and not (force or students):
                results.append(json.loads(done.read_text()))
            else:
                submissions.append(submission)
    start, fresh = time.perf_counter(), []
    _progress(0, len(submissions), start, stream)
    finished = _on_dask(submissions, course_dir, scheduler, workers)
    for n, (submission, result) in enumerate(finished, 1):
        if isinstance(result, BaseException):  # a grader bug must not lose the batch
            result = {
                "student": submission.student,
                "assignment": submission.assignment,
                "score": 0.0,
                "max_score": sum(graded_cells(sources[submission.assignment][1]).values()),
                "manual_max_score": sum(manual_cells(sources[submission.assignment][1]).values()),
                "status": ERROR,
                "reason": f"{type(result).__name__}: {result}",
                "checks": {},
                "manual": manual_cells(sources[submission.assignment][1]),
            }
        path = result_path(course_dir, submission.student, submission.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))
        try:
            write_feedback(course_dir, submission, *sources[submission.assignment], result)
        except Exception as error:  # a grader bug must not lose the batch's grades
            stream.write(
                f"\nno feedback for {submission.student}: {type(error).__name__}: {error}\n"
            )
        fresh.append(result)
        _progress(n, len(submissions), start, stream)
    stream.write("\n")
    record(course_dir, sources, fresh)
    return results + fresh


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "assignments", nargs="*", help="assignment ids (default: every one under source/)"
    )
    parser.add_argument("--course", type=Path, default=COURSE_DIR, help="nbgrader course directory")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes of the local Dask cluster (default: one per core)",
    )
    parser.add_argument(
        "--student", action="append", help="grade (again) only this student; repeatable"
    )
    parser.add_argument("--force", action="store_true", help="grade again what was graded before")
    parser.add_argument(
        "--scheduler",
        default=None,
        help="a running Dask scheduler's address (tcp://host:8786): grade on its workers "
        "instead of a local cluster",
    )
    parser.add_argument(
        "--csv", type=Path, default=None, help=f"the LMS file (default: COURSE/{LMS_CSV})"
    )
    args = parser.parse_args(argv)
    known = assignments(args.course)
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        parser.error(f"unknown assignment {', '.join(unknown)}; expected one of {', '.join(known)}")
    results = grade(
        args.course, args.assignments, args.workers, args.student, args.force, args.scheduler
    )
    print(summary(results))
    csv_path = args.csv or args.course / LMS_CSV
    write_csv(csv_path, results)
    print(f"\n{len(results)} results; LMS file: {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
