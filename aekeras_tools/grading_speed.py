"""Speed of grading a class: plain `nbgrader autograde` against the class grader, and the sandbox's cost.

(One module of just over 400 lines: a benchmark script, its synthetic class and its four modes read
together.)

Usage (from the repository root, in the complete environment, `python3 tasks.py setup`):

    .venv/bin/python -m aekeras_tools.grading_speed                  # 40 submissions of a3_denoising
    .venv/bin/python -m aekeras_tools.grading_speed --assignment a2_sparse --submissions 12 \\
        --modes grader-1 grader-2 isolation                          # a shorter run

A synthetic class is made from the instructor notebook of one assignment, cycling through five kinds
of submission: honest (the instructor's answers, rewritten as a student's own text: the grader does
not grade the instructor's text line for line), blank (every answer cell left as released),
partial (the last answer cell left blank), damaged (invalid JSON, an empty notebook, a renamed file, a
duplicated answer cell, a deleted test cell) and hostile (an endless loop, checks patched to pass, an
output flood, the instructor's notebook read from disk: each with every answer left blank, so that it
deserves what the blank release gets). The hostile kinds are those that are safe to run outside a
sandbox too: plain nbgrader runs them in its own kernel on this machine. (Memory and
process bombs are in the grader's tests, tests/test_grading_*.py, not here.)

Then, side by side in one run, on copies of the same course directory:

- `nbgrader`: `nbgrader autograde ASSIGNMENT --create`, one submission after another, each cell
  limited to `--cell-timeout` seconds (default: the grader's wall-clock limit of a step, 300 s, so
  that the endless loop costs both the same). A notebook it cannot read stops its whole batch
  (duplicated grade ids, jupyter/nbgrader#1083): it is run again without that notebook, as an
  instructor would, and the restarts count;
- `grader-1`, `grader-2`: `aekeras_tools.grading.batch.grade` with a LocalCluster of 1 and 2
  workers;
- `dask-2`: the same on a Dask scheduler and two workers started as processes of their own
  (`--scheduler`, as on a cluster);
- `isolation`: the cost of the sandbox's walls alone: one step (start Python, import the
  libraries a step imports) run `--repeats` times through `sandbox.run` (bubblewrap: namespaces,
  the allowlist file system, limits) and as a plain subprocess.

It prints and writes (benchmarks/results/<name>.md) the seconds per submission of each mode, the
throughput relative to plain nbgrader, and the isolation cost per step and per submission.
"""

import argparse
import copy
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.corpus.words import generate_corpus_id

from aekeras_tools.grading import batch
from aekeras_tools.grading import cells
from aekeras_tools.grading import judging
from aekeras_tools.grading import reports
from aekeras_tools.grading import sandbox
from aekeras_tools.grading import steps
from aekeras_tools.paths import ROOT
from aekeras_tools.results import table
from aekeras_tools.results import write_result

MODES = ("nbgrader", "grader-1", "grader-2", "dask-2", "isolation")
KINDS = ("honest", "blank", "partial", "damaged", "hostile")
DAMAGES = (
    "invalid JSON",
    "empty notebook",
    "renamed file",
    "duplicated answer cell",
    "test deleted",
)
HOSTILES = ("endless loop", "checks patched", "output flood", "reads the instructor notebook")
GENERATED = ("release", "submitted", "autograded", "feedback", "gradebook.db", "grades_lms.csv")


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _as_student(cell):
    # The instructor's code without its region markers, with a comment between its lines: the same
    # answer in a student's own text (the grader does not grade the instructor's text line for line).
    lines = [
        line
        for line in cell.source.splitlines()
        if "### BEGIN" not in line and "### END" not in line
    ]
    cell.source = "\n".join(x for line in lines for x in (line, "# (my notes)"))


def _answers(notebook):
    """The code answer cells of an instructor notebook (graded or not), in order."""
    return [c for c in notebook.cells if c.cell_type == "code" and _meta(c).get("solution")]


def submission(source, kind, n):
    """(file name, notebook or raw text) of the `n`-th submission of `kind`, made from `source`."""
    nb = nbformat.reads(nbformat.writes(source), as_version=4)  # a deep copy
    name = None
    for cell in nb.cells:
        if cell.cell_type == "code" and not _meta(cell).get("solution"):
            cell.source = re.sub(
                r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S
            )
    release = {id(cell): cells.released(cell.source) for cell in _answers(nb)}
    for cell in _answers(nb):
        _as_student(cell)
    if kind in ("blank", "partial"):
        auto = [c for c in _answers(nb) if not _meta(c).get("grade")]  # not graded by hand
        for cell in _answers(nb) if kind == "blank" else auto[-1:]:
            cell.source = release[id(cell)]  # as released: `# YOUR CODE HERE`
    elif kind == "damaged":
        damage = DAMAGES[n % len(DAMAGES)]
        if damage == "invalid JSON":
            return None, nbformat.writes(nb)[: len(nbformat.writes(nb)) // 2]
        if damage == "empty notebook":
            nb.cells = []
        elif damage == "renamed file":
            name = "my_copy"
        elif damage == "duplicated answer cell":
            # a copy-pasted cell: Jupyter gives it a new id, the grade id in its metadata stays
            first = _answers(nb)[0]
            pasted = copy.deepcopy(first)
            pasted.id = generate_corpus_id()
            nb.cells.insert(nb.cells.index(first), pasted)
        else:
            tests = [c for c in nb.cells if _meta(c).get("grade") and not _meta(c).get("solution")]
            nb.cells.remove(tests[0])
    elif kind == "hostile":
        # As in the tamper tests: no answer, only the attack, so it deserves what the blank release
        # gets. The attack goes first in the first answer cell.
        hostile = HOSTILES[n % len(HOSTILES)]
        for cell in _answers(nb):
            cell.source = release[id(cell)]
        first = _answers(nb)[0]
        first.source = {
            "endless loop": "while True:\n    pass\n",
            "checks patched": "import numpy, numpy.testing\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
            "numpy.allclose = lambda *a, **k: True\n",
            "output flood": "print('x' * 20_000_000)\n",
            "reads the instructor notebook": "import glob\n"
            "print([open(p).read()[:100] for p in glob.glob('../../../source/*/*')])\n",
        }[hostile]
    return name, nb


def make_class(course, assignment, count):
    """Writes `count` submissions of `assignment` into the course copy `course`: {student: kind}."""
    checks = judging.load_checks(course, assignment)
    source = nbformat.read(
        course / "source" / assignment / f"{checks.NOTEBOOK}.ipynb", as_version=4
    )
    kinds = {}
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        student = f"s{i:03d}_{kind}"
        name, content = submission(source, kind, i // len(KINDS))
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        path = folder / f"{name or checks.NOTEBOOK}.ipynb"
        path.write_text(content if isinstance(content, str) else nbformat.writes(content))
        kinds[student] = kind
    return kinds


def course_copy(base):
    """A copy of the course directory (nothing generated) under `base`, readable by a sandbox's user."""
    course = Path(base) / "assignments"
    shutil.copytree(batch.COURSE_DIR, course, ignore=shutil.ignore_patterns(*GENERATED))
    for folder in (Path(base), course):
        folder.chmod(0o755)
    return course


def nbgrader_env(base):
    """The environment of `nbgrader autograde`: its kernel is this interpreter, `alembic` on PATH."""
    kernel = Path(base) / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernel / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=str(Path(base) / "jupyter"))
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.pop("AEKERAS_FULL_RUN", None)
    return env


def time_nbgrader(base, assignment, count, cell_timeout):
    course = course_copy(base)
    kinds = make_class(course, assignment, count)
    env, nbgrader = nbgrader_env(base), [sys.executable, "-m", "nbgrader"]
    # The release puts the assignment and its test cells into the gradebook (not timed).
    released = subprocess.run(
        [*nbgrader, "generate_assignment", assignment], cwd=course, env=env, capture_output=True
    )
    if released.returncode:
        raise RuntimeError(f"nbgrader generate_assignment failed: {released.stderr[-4000:]}")
    command = [*nbgrader, "autograde", assignment, "--create", f"--Execute.timeout={cell_timeout}"]
    # A notebook nbgrader cannot read (duplicated grade ids, jupyter/nbgrader#1083) stops the whole
    # batch. An instructor then leaves it out and runs the command again, which skips what is graded:
    # so does this, and the restarts are part of the time.
    stopped = []
    start = time.perf_counter()
    while True:
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(stopped)}"] if stopped else []
        run = subprocess.run(
            [*command, *exclude], cwd=course, env=env, capture_output=True, text=True, check=False
        )
        last = re.findall(r"Creating/updating student with ID '([^']+)'", run.stderr)
        left = [s for s in kinds if s not in stopped and not (course / "autograded" / s).exists()]
        # a failure it went past (a timed-out cell) is not a stop: the students after it were graded
        if run.returncode == 0 or not last or last[-1] not in left:
            break
        stopped.append(last[-1])
        if last[-1] == left[-1]:  # nothing after it is left to grade
            break
    seconds = time.perf_counter() - start
    from nbgrader.api import Gradebook
    from nbgrader.api import MissingEntry

    by_kind = {}
    with Gradebook(
        f"sqlite:///{course / 'gradebook.db'}", course_id=reports.COURSE_ID
    ) as gradebook:
        for student, kind in kinds.items():
            try:
                score = gradebook.find_submission(assignment, student).score
            except MissingEntry:  # never reached the gradebook
                continue
            by_kind.setdefault(kind, []).append(score)
    return {"seconds": seconds, "scores": by_kind, "stopped": stopped}


def time_grader(base, assignment, count, workers=None, scheduler=None):
    course = course_copy(base)
    kinds = make_class(course, assignment, count)
    start = time.perf_counter()
    results = batch.grade(course, [assignment], workers, scheduler=scheduler, stream=sys.stderr)
    seconds = time.perf_counter() - start
    by_kind, each = {}, {}
    for result in results:
        by_kind.setdefault(kinds[result.student], []).append(result.score)
        each.setdefault(kinds[result.student], []).append(result.seconds)
    return {"seconds": seconds, "scores": by_kind, "each": each}


def dask_processes(base, workers=2):
    """A Dask scheduler and `workers` workers, each a process of its own: (address, processes)."""
    scheduler_file = Path(base) / "scheduler.json"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    common = ["--scheduler-file", str(scheduler_file), "--no-dashboard"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": ROOT}
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen([*dask, "scheduler", "--port", "0", *common], **quiet)]
    deadline = time.monotonic() + 120
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    for _ in range(workers):
        processes.append(subprocess.Popen([*dask, "worker", "--nthreads", "1", *common], **quiet))
    address = json.loads(scheduler_file.read_text())["address"]
    from distributed import Client

    with Client(address, timeout=120) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, processes


def time_isolation(base, repeats):
    """Seconds of one step (start Python, import NumPy and Keras) in a sandbox and as a plain
    subprocess: (median sandboxed, median plain)."""
    code = "import numpy, keras"
    env = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv, mounts, _ = steps.interpreter(numpy_only=False)
    limits = steps.Step("timing", "", cells=[]).limits
    times = {True: [], False: []}
    for _ in range(repeats):
        start = time.perf_counter()
        result = sandbox.run([*argv, "-c", code], limits, env=env, mounts=mounts)
        times[True].append(time.perf_counter() - start)
        if result.status != "ok":
            raise RuntimeError(f"the timing step failed ({result.status}): {result.stderr}")
        start = time.perf_counter()
        subprocess.run([*argv, "-c", code], env={**os.environ, **env}, check=True, cwd=base)
        times[False].append(time.perf_counter() - start)
    return statistics.median(times[True]), statistics.median(times[False])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="a3_denoising", choices=batch.assignments())
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=int(steps.Step("default", "", cells=[]).wall_s),
        help="`nbgrader`: seconds per cell (default: the grader's wall-clock limit of a step, so that "
        "an endless loop costs both the same)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="`isolation`: steps timed per setting"
    )
    parser.add_argument("--name", default="grading", help="the result file's name")
    args = parser.parse_args(argv)
    if args.submissions < len(KINDS):
        parser.error(f"--submissions must be at least {len(KINDS)}. Received: {args.submissions}")
    if sandbox.unavailable():
        parser.error(f"the class grader cannot make sandboxes here: {sandbox.unavailable()}")
    runs = {}
    for mode in [m for m in args.modes if m != "isolation"]:
        base = Path(tempfile.mkdtemp(prefix=f"aekeras-{mode}-"))
        processes = []
        try:
            print(f"{mode}: {args.submissions} submissions of {args.assignment}", flush=True)
            if mode == "nbgrader":
                run = time_nbgrader(base, args.assignment, args.submissions, args.cell_timeout)
            elif mode == "dask-2":
                address, processes = dask_processes(base)
                run = time_grader(base, args.assignment, args.submissions, scheduler=address)
            else:
                workers = int(mode.split("-")[1])
                run = time_grader(base, args.assignment, args.submissions, workers)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
            shutil.rmtree(base, ignore_errors=True)
        runs[mode] = run
        # Each mode as it ends: a run cut short still tells what it measured.
        print(
            f"{mode}: {run['seconds']:.0f} s, {run['seconds'] / args.submissions:.1f} s per "
            f"submission; stopped on: {run.get('stopped') or 'none'}; scores per kind: {run['scores']}",
            flush=True,
        )
    reference = runs["nbgrader"]["seconds"] if "nbgrader" in runs else None
    rows = []
    for mode, run in runs.items():
        elapsed, by_kind = run["seconds"], run["scores"]
        rows.append(
            [
                mode,
                f"{sum(len(v) for v in by_kind.values())} of {args.submissions}",
                f"{elapsed:.0f} s",
                f"{elapsed / args.submissions:.1f} s",
                f"{reference / elapsed:.2f}x" if reference else "-",
                ", ".join(f"{k} {max(v):g}" for k, v in sorted(by_kind.items()))
                if by_kind
                else "-",
            ]
        )
    body = table(
        [
            "mode",
            "scored",
            "batch",
            "per submission",
            "throughput vs nbgrader",
            "highest score per kind",
        ],
        rows,
    )
    for mode, run in runs.items():
        if run.get("stopped"):
            body += (
                f"\n\n`{mode}` stopped the whole batch on {len(run['stopped'])} notebook(s) it could "
                f"not read ({', '.join(run['stopped'])}); each time it was run again without them, as "
                "an instructor would, and the time includes the restarts. It autograded none of them: "
                "their score is the gradebook's 0."
            )
    if "grader-1" in runs:  # one submission at a time: what one student's grading takes
        each = runs["grader-1"]["each"]
        body += "\n\n`grader-1`, seconds to grade one submission, median (range) per kind: " + (
            ", ".join(
                f"{k} {statistics.median(v):.1f} s ({min(v):.1f}-{max(v):.1f})"
                for k, v in sorted(each.items())
            )
            + "."
        )
    if "isolation" in args.modes:
        base = Path(tempfile.mkdtemp(prefix="aekeras-isolation-"))
        try:
            isolated, bare = time_isolation(base, args.repeats)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        count = len(judging.load_checks(batch.COURSE_DIR, args.assignment).STEPS)
        per_submission = runs["grader-1"]["seconds"] / args.submissions if "grader-1" in runs else 0
        share = (
            f", {count * (isolated - bare) / per_submission:.1%} of grader-1's time per submission"
            if per_submission
            else ""
        )
        body += (
            f"\n\nIsolation: a step (start Python, import NumPy and Keras) takes {isolated:.2f} s in the "
            f"sandbox and {bare:.2f} s as a plain subprocess (median of {args.repeats}); "
            f"{args.assignment} runs {count} steps per submission: "
            f"{count * (isolated - bare):+.2f} s per submission{share}."
        )
    write_result(
        args.name,
        f"Grading a class of {args.submissions} synthetic submissions of {args.assignment}",
        body,
        notes=[
            f"Kinds, in turn: {', '.join(KINDS)}; damaged: {', '.join(DAMAGES)}; hostile: "
            f"{', '.join(HOSTILES)}. nbgrader cells limited to {args.cell_timeout} s.",
            "Damaged notebooks carry the honest answers: where the notebook can still be read (a "
            "renamed file, an answer cell pasted twice: its first copy) the class grader grades "
            "them; hostile ones carry an attack and no answer, so they deserve the blank score.",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
