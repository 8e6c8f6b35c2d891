"""Grading a class: every submission of an nbgrader course directory, in parallel on Dask distributed.

`grade` finds the submissions, prepares the datasets the checks need once (before any worker starts,
so that two workers never prepare the same files at the same time), and hands each submission to a
worker: by default a LocalCluster of worker processes started for the batch, or, with `scheduler`,
the workers of a running cluster. Only plain values travel (paths, names; the result as JSON), and
the task a worker runs is a small function sent by value that imports this module there, so the
scheduler needs nothing of this repository: Python and `distributed` only. The workers need the
grading environment, this repository's `aekeras_tools` importable, and the course directory and the
data home at the same paths as the process that asked (a shared file system).

As each result comes back, this process alone writes it (result file, formgrader notebook, feedback)
and records it in the gradebook, so a batch killed midway keeps everything it finished. A later run
skips what was graded (unless `force`, or the students named), records those results in the gradebook
again (a run killed before it could is made whole), and grades again what ended in a grading error.
"""

import functools
import json
import os
import sys
import time
from pathlib import Path

import nbformat

from aekeras_tools.grading import judging
from aekeras_tools.grading import reports
from aekeras_tools.grading import sandbox
from aekeras_tools.grading import steps as steps_module
from aekeras_tools.grading import submissions as subs
from aekeras_tools.paths import COURSE

COURSE_DIR = COURSE / "assignments"
# The task a worker runs, defined in a module that does not exist, so that Dask sends it by value
# (cloudpickle) and the scheduler can read the task graph without importing anything of ours.
_REMOTE = """
def grade_remote(payload):
    import importlib

    return importlib.import_module("aekeras_tools.grading.batch").grade_payload(payload)
"""
_namespace = {"__name__": "aekeras_grading_remote"}
exec(compile(_REMOTE, "<aekeras grading task>", "exec"), _namespace)
grade_remote = _namespace["grade_remote"]


def assignments(course_dir=COURSE_DIR):
    """The assignments with instructor notebooks under source/, sorted."""
    return sorted(p.name for p in (Path(course_dir) / "source").iterdir() if p.is_dir())


def instructor_notebook(course_dir, assignment, notebook):
    return Path(course_dir) / "source" / assignment / f"{notebook}.ipynb"


@functools.cache
def context(course_dir, assignment):
    """(checks module, instructor notebook, fingerprints) of an assignment, loaded once per process."""
    path = judging.checks_path(course_dir, assignment)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checks for {assignment}: expected {path} (see aekeras_tools.grading.judging)"
        )
    module = judging.load_checks(course_dir, assignment)
    source_path = instructor_notebook(course_dir, assignment, module.NOTEBOOK)
    source = nbformat.read(source_path, as_version=4)
    judging.validate(module, path, source)
    return module, source, subs.fingerprints(source_path, source, path)


def prepare_data(names, stream=sys.stderr):
    """Prepares the datasets `names` in this process, before any worker starts: the raw path's arrays
    where the raw files can be had, else tensorflow-datasets' records. Returns (data home, source),
    the loaders' path that the workers and the sandboxes then take (`AEKERAS_DATASET_SOURCE`).

    Raises:
        aekeras.datasets.DatasetNotFoundError: a dataset cannot be had (the message says how to provide
            it).
    """
    import aekeras

    source = "raw"
    for name in names:
        loader = getattr(aekeras.datasets, steps_module.DATASETS[name])
        stream.write(f"Preparing {name} for the sandboxes ...\n")
        try:
            for split in ("train", "test"):
                loader(split, n=1, source="raw")
        except aekeras.datasets.DatasetNotFoundError:
            source = "tfds"
    if source == "tfds":  # every dataset the same way: the loaders' path is one setting
        for name in names:
            loader = getattr(aekeras.datasets, steps_module.DATASETS[name])
            for split in ("train", "test"):
                loader(split, n=1, source="tfds")
    return Path(aekeras.datasets.data_home()).resolve(), source


# ----------------------------------------------------------------- on a worker
def grade_payload(payload):
    """Grades one submission on a worker from plain values; returns plain values."""
    # The judges load their data as the batch prepared it (never preparing it again here).
    os.environ["AEKERAS_DATA_HOME"] = payload["data_home"]
    os.environ["AEKERAS_DATASET_SOURCE"] = payload["data_source"]
    checks, source, prints = context(Path(payload["course_dir"]), payload["assignment"])
    submission = subs.Submission.from_payload(payload["submission"])
    try:
        result = judging.grade_submission(
            submission,
            checks,
            source,
            prints,
            backend=payload["backend"],
            threads=payload["threads"],
            data_home=payload["data_home"],
        )
    except sandbox.SandboxError as error:
        result = judging.error_result(submission, source, f"the sandbox failed: {error}")
    return {"result": result.to_json(), "answers": result.answers}


def _on_client(payloads, client):
    distributed = _distributed()
    futures = {
        client.submit(
            grade_remote,
            payload,
            pure=False,
            key=f"grade-{payload['assignment']}-{payload['submission']['student']}",
        ): payload
        for payload in payloads
    }
    for future in distributed.as_completed(futures):
        yield futures[future], future.exception() or future.result()


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "grading runs on Dask distributed, which is not installed here: "
            "pip install -e '.[test]' (or pip install distributed)"
        ) from error
    return distributed


def _on_dask(payloads, scheduler=None, workers=1):
    """(payload, result or exception) as each finishes."""
    distributed = _distributed()
    if not payloads:
        return
    if scheduler:
        with distributed.Client(scheduler) as client:
            yield from _on_client(payloads, client)
        return
    # No memory limit for the worker processes: each sandbox has its own, and a worker that Dask
    # restarted for memory would lose a submission without a status.
    with (
        distributed.LocalCluster(
            n_workers=min(workers, len(payloads)),
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=":0",  # a free port: never "already in use" beside another batch
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield from _on_client(payloads, client)


# ----------------------------------------------------------------- the batch
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


def _folder(course_dir, result):
    return Path(course_dir) / "submitted" / result.student / result.assignment


def _earlier(course_dir, submission):
    """The result of an earlier run, or None (none, unreadable, or a grading error to redo)."""
    path = reports.result_path(course_dir, submission.student, submission.assignment)
    if not path.is_file():
        return None
    try:
        result = judging.Result.from_json(json.loads(path.read_text()))
    except ValueError:
        return None
    return None if result.status == judging.ERROR else result


def grade(
    course_dir=COURSE_DIR,
    names=None,
    workers=None,
    students=None,
    force=False,
    scheduler=None,
    stream=sys.stderr,
):
    """Grades every submission of the assignments `names` (default: all); returns every student's result,
    those graded before included. What was graded before is skipped unless `force` or `students`.

    Raises:
        sandbox.SandboxError: sandboxes cannot be made here (the reason says what to install).
        judging.ChecksError: a checks module does not hold together.
    """
    sandbox.require()
    course_dir = Path(course_dir).resolve()
    names = names or assignments(course_dir)
    sources, todo, earlier, datasets = {}, [], [], set()
    for assignment in names:
        checks, source, _ = context(course_dir, assignment)
        sources[assignment] = (checks.NOTEBOOK, source)
        datasets.update(judging.datasets_of(checks))
        for submission in subs.discover(course_dir, assignment, checks.NOTEBOOK, students):
            done = None if (force or students) else _earlier(course_dir, submission)
            (todo if done is None else earlier).append(done or submission)
    workers = max(1, int(workers or os.cpu_count() or 1))
    data_home, data_source = prepare_data(sorted(datasets), stream) if todo else (None, None)
    backend = os.environ.get("KERAS_BACKEND") or "tensorflow"
    threads = max(1, (os.cpu_count() or 1) // min(workers, max(1, len(todo))))
    payloads = [
        {
            "course_dir": str(course_dir),
            "assignment": s.assignment,
            "submission": s.payload(),
            "data_home": str(data_home),
            "data_source": data_source,
            "backend": backend,
            "threads": 1 if scheduler else threads,
        }
        for s in todo
    ]
    fresh = []
    with reports.Gradebook(course_dir, sources) as gradebook:
        for result in earlier:
            gradebook.record(result, _folder(course_dir, result))
        start = time.perf_counter()
        _progress(0, len(todo), start, stream)
        for n, (payload, outcome) in enumerate(_on_dask(payloads, scheduler, workers), 1):
            submission = subs.Submission.from_payload(payload["submission"])
            notebook, source = sources[submission.assignment]
            if isinstance(outcome, BaseException):  # a grader bug must not lose the batch
                result = judging.error_result(
                    submission, source, f"{type(outcome).__name__}: {outcome}"
                )
            else:
                result = judging.Result.from_json(outcome["result"])
                result.answers = outcome["answers"]
            try:
                reports.write_result(course_dir, result, submission, source, notebook)
            except Exception as error:  # a grader bug must not lose the batch's grades
                reports.write_result(course_dir, result)
                stream.write(
                    f"\nno feedback for {result.student}: {type(error).__name__}: {error}\n"
                )
            gradebook.record(result, submission.folder)
            fresh.append(result)
            _progress(n, len(todo), start, stream)
    stream.write("\n")
    return earlier + fresh
