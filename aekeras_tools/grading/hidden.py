"""The hidden tests' side of one judge per task: `check` runs a judge of the checks module in a kernel.

Each autograded cell of an instructor notebook ends with a hidden test that calls the judge the class
grader uses, so plain `nbgrader autograde` and `python3 tasks.py grade` decide alike and a check is
written once (in `grading/checks_<assignment>.py`):

    ### BEGIN HIDDEN TESTS
    from aekeras_tools.grading.hidden import check

    check("a1_autoencoders", "task1_shape_exact", globals())
    ### END HIDDEN TESTS

`check` runs the steps the judge needs, here in the kernel instead of in sandboxes: a step with the
student's cells runs its probe in a copy of the notebook's namespace (the cells ran already), a step
without student code runs its probe in a fresh one, each in a temporary folder with the files it
carries, on inputs drawn afresh; a NumPy-only step's calls of the student's functions run under
`numpy_only`, and a step's wall-clock limit is kept with a timer. It then calls the judge, whose
AssertionError is the cell's failure.

This is the kernel nbgrader runs the student's code in: a few lines of a submission can change what
happens here (the README says why `tasks.py grade` is the grader for grades). nbgrader's configuration
(`course/assignments/nbgrader_config.py`) puts the checks and this package on the kernels' path.
"""

import contextlib
import functools
import importlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from aekeras_tools.grading import judging
from aekeras_tools.grading import probe as probes


class LibraryUnavailable(RuntimeError):
    """Raised inside a student's function when it calls a library that a NumPy-only task refuses."""


def _package_roots():
    roots = []
    for name in probes.NOT_NUMPY:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec and spec.submodule_search_locations) or ():
            roots.append((os.path.join(os.path.realpath(location), ""), name))
    return roots


@functools.cache
def _roots():
    return tuple(_package_roots())


@functools.cache
def _package_of_file(filename):
    path = os.path.realpath(filename) if os.path.isabs(filename) else ""
    return next((name for root, name in _roots() if path.startswith(root)), None)


def numpy_only(function, *args, **kwargs):
    """`function(*args, **kwargs)`, with every library of `probe.NOT_NUMPY` unavailable while it runs.

    A call into one of them (under whatever name the student bound it, and in any thread) raises
    `LibraryUnavailable` inside the function, and this function then raises `LibraryUnavailable`
    too, even if the student's function caught the first one. The result is converted with
    `np.array` once under the same guard, so a lazy result cannot call a library later.
    """
    name = getattr(function, "__name__", repr(function))
    refused = []

    def hook(frame, event, arg):
        if event == "call":
            package = _package_of_file(frame.f_code.co_filename)
            if package is None:
                return
            module, qualname = frame.f_globals.get("__name__", package), frame.f_code.co_qualname
            what = f"import {module}" if qualname == "<module>" else f"{module}.{qualname}"
            if frame.f_code.co_name in ("__new__", "__init__") and frame.f_code.co_varnames:
                first = frame.f_locals.get(frame.f_code.co_varnames[0])  # the class made
                cls = first if isinstance(first, type) else type(first)
                what = f"{cls.__module__}.{cls.__qualname__}"
                named = cls.__module__.split(".")[0]  # the library whose class it is
                package = named if named in probes.NOT_NUMPY else package
        elif event == "c_call":
            package = (getattr(arg, "__module__", None) or "").split(".")[0]
            if package not in probes.NOT_NUMPY:
                return
            what = f"{arg.__module__}.{getattr(arg, '__qualname__', arg)}"
        else:
            return
        refused.append((what, package))
        raise LibraryUnavailable(probes.unavailable(package))

    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        result = function(*args, **kwargs)
        np.array(result)  # a lazy result converts here, under the guard
        intact = sys.getprofile() is hook
    except Exception:
        if not refused:
            raise  # the student's own error
        result, intact = None, True
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    if refused:
        what, package = refused[0]
        raise LibraryUnavailable(f"`{name}` called `{what}`: {probes.unavailable(package)}")
    if not intact:
        raise LibraryUnavailable(f"`{name}` switched off the check of the libraries it calls")
    return result


class StepTimeout(BaseException):
    """A step ran past its wall-clock limit (in a kernel). Not an Exception, so that `attempt` does
    not record it as the student's error: it ends the step, as the sandbox's limit does."""


@contextlib.contextmanager
def _time_limit(seconds):
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: no limit
        return

    def expire(signum, frame):
        raise StepTimeout(f"killed after the wall-clock limit of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _in_folder(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_step(step, namespace, root, inputs):
    """Runs one step's probe in this process: ({"<step>.<name>": array}, failure or "")."""
    folder = Path(root) / step.name
    (folder / "out").mkdir(parents=True)
    kept = Path(root) / "kept"
    for name in step.carry:
        shutil.copyfile(kept / name, folder / name)
    exports = probes.Exports(guard=numpy_only if step.numpy_only else None)
    names = dict(namespace) if step.runs_student_code else {"__name__": "__main__"}
    names.update(exports.names(), inputs=inputs)
    failure = ""
    with _in_folder(folder):
        try:
            with _time_limit(step.wall_s):
                exec(compile(step.probe, f"<probe {step.name}>", "exec"), names)
        except StepTimeout as error:
            return {}, f"timed out: {error}"
        except Exception as error:
            failure = f"probe: {type(error).__name__}: {error}"[:2000]
    for name in step.keep:
        if (folder / "out" / name).is_file():
            kept.mkdir(exist_ok=True)
            shutil.copyfile(folder / "out" / name, kept / name)
    return {f"{step.name}.{k}": v for k, v in exports.arrays().items()}, failure


def _checks_module(assignment):
    # grading/ of the course directory is on the kernel's path (nbgrader_config.py).
    return importlib.import_module(f"checks_{assignment}")


def check(assignment, grade_id, namespace, seed=None):
    """Runs the judge of `grade_id` of `assignment` on the notebook's `namespace` (its `globals()`).

    Raises:
        AssertionError: the judge's message when the check fails (the cell loses its points).
    """
    checks = _checks_module(assignment)
    judge = checks.CHECKS[grade_id]
    rng = np.random.default_rng(seed)
    values, inputs, failures = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="aekeras-check-") as root:
        for step in checks.STEPS:
            if step.name not in judge.steps:
                continue
            missing = [f for f in step.carry if not (Path(root) / "kept" / f).is_file()]
            if missing:
                failures[step.name] = f"no {', '.join(missing)} from an earlier step"
                continue
            step_inputs = step.inputs(rng) if step.inputs else {}
            inputs.update({f"{step.name}.{k}": np.asarray(v) for k, v in step_inputs.items()})
            step_values, failure = run_step(step, namespace, root, step_inputs)
            values.update(step_values)
            if failure:
                failures[step.name] = failure
    passed, message = judging.decide(judge, values, inputs, failures)
    if not passed:
        raise AssertionError(message)
