"""Steps: what a checks module asks to run in sandboxes (`Step`), and running one (`run_step`).

A step runs some of a submission's cells (or none) in a fresh sandbox, then the step's probe, which
calls the student's functions on the grader's inputs and exports plain values (see probe.py). What
the sandbox of a step sees (the allowlist of sandbox.py, filled in here):

- `/grader/`, read-only: `runner.py` and `probe.py` (the untrusted side of the grader, both public),
  the step's `job.json` (its cells and probe) and `inputs.npz` (the grader's inputs);
- the interpreter, read-only: for a NumPy-only step (`numpy_only`) the base Python installation,
  whose own site-packages are covered by empty folders, and NumPy alone at `/opt/numpy`, so that
  nothing but NumPy and the standard library can be imported; for any other step the base Python
  installation and the grading environment's (its virtual environment, site-packages included),
  and the aekeras package at `/opt/aekeras` when it is not installed there (a source checkout:
  the package folder alone, never the repository);
- the files of the datasets the step's cells load (`data`), read-only under `/data`, prepared
  before the batch started; a step that runs no notebook cell gets its images as inputs instead;
- in its folder `/sandbox`: the files an earlier step kept that it `carry`s (copies, handed over
  when the step is told to go), and the files it writes back, `out/cells.json`, `out/values.npz`
  and those it `keep`s: the only host files it can write, each at most `file_bytes`.

A step's sandbox can be started before the step runs (`StartedStep`): its interpreter then imports
what the step `preload`s (Keras and aekeras) while an earlier step of the same submission runs, and
waits; the grader overlaps the slow start of the next step with the current one this way.

A `Step` is checked when it is made (an unknown argument is a TypeError that names it; a bad value
a ValueError that says what was expected), so a misspelled limit cannot be silently ignored.
"""

import dataclasses
import importlib.util
import io
import json
import os
import re
import shutil
import site
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aekeras_tools.grading import sandbox

HERE = Path(__file__).resolve().parent
GRADER = "/grader"
DATA = "/data"
# The datasets a step may load, and the aekeras loader of each.
DATASETS = {"mnist": "load_mnist", "fashion_mnist": "load_fashion_mnist"}
GIB = 2**30
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _names(value, what, pattern, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"Step.{what} must be a list of names. Received: {what}={value!r}")
    for v in value:
        if not pattern.match(v):
            raise ValueError(f"Step.{what} holds an invalid name. Received: {what}={value!r}")
    return tuple(value)


@dataclasses.dataclass(frozen=True)
class Step:
    """One sandboxed run of a submission (see the module docstring).

    Args:
        name: the step's name; its exported values and inputs are named `<name>.<key>`.
        probe: code run after the cells; it calls `export`, `attempt` and reads `inputs`.
        cells: the answer cells to run (grade ids); None: the whole notebook (every given code cell
            and every answer, in order); empty: no student code at all (the grader's own probe, on
            the files it `carry`s).
        given: instructor's given cells (grade ids) to run before `cells`, e.g. a set-up.
        numpy_only: run in an interpreter where only NumPy and the standard library exist.
        inputs: a function of a `np.random.Generator` that returns the step's input arrays.
        keep: files the step writes to `out/`, handed to later steps.
        carry: files kept by earlier steps that this step finds in its folder.
        data: datasets its cells load (keys of `DATASETS`), mounted read-only.
        preload: modules its cells import anyway (e.g. `("keras", "aekeras")`), imported before the
            step is told to go, while an earlier step runs (`StartedStep`).
        wall_s, memory_bytes, processes, file_bytes: the step's limits (sandbox.Limits).

    Raises:
        ValueError: an argument of the wrong kind, with what was expected and what was received.
    """

    name: str
    probe: str
    cells: tuple[str, ...] | None = None
    given: tuple[str, ...] = ()
    numpy_only: bool = False
    inputs: Callable | None = None
    keep: tuple[str, ...] = ()
    carry: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    wall_s: float = 300.0
    memory_bytes: int = 12 * GIB
    processes: int = 512
    file_bytes: int = 64 * 2**20

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"Step.name must be an identifier. Received: name={self.name!r}")
        if not isinstance(self.probe, str):
            raise ValueError(f"Step.probe must be code (a str). Received: probe={self.probe!r}")
        fields = {
            "cells": _names(self.cells, "cells", _NAME, allow_none=True),
            "given": _names(self.given, "given", _NAME),
            "keep": _names(self.keep, "keep", _FILE),
            "carry": _names(self.carry, "carry", _FILE),
            "data": _names(self.data, "data", _NAME),
            "preload": _names(self.preload, "preload", _NAME),
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        unknown = sorted(set(self.data) - DATASETS.keys())
        if unknown:
            raise ValueError(
                f"Step.data names datasets the grader does not know; expected some of "
                f"{', '.join(DATASETS)}. Received: data={self.data!r}"
            )
        if not isinstance(self.numpy_only, bool):
            raise ValueError(f"Step.numpy_only must be a bool. Received: {self.numpy_only!r}")
        if self.numpy_only and (not self.cells or self.given or self.data or self.preload):
            raise ValueError(
                "a NumPy-only step runs answer cells alone: it needs `cells` and takes no `given` "
                f"cells, no `data` and no `preload`. Received: cells={self.cells!r}, "
                f"given={self.given!r}, data={self.data!r}, preload={self.preload!r}"
            )
        if self.given and not self.cells:
            raise ValueError(
                "`given` cells run before the step's answer `cells`; a step without answer cells "
                f"takes none. Received: cells={self.cells!r}, given={self.given!r}"
            )
        if self.inputs is not None and not callable(self.inputs):
            raise ValueError(
                f"Step.inputs must be a function of a Generator. Received: {self.inputs!r}"
            )
        self.limits  # noqa: B018 (checks the limits)

    @property
    def limits(self):
        return sandbox.Limits(
            wall_s=self.wall_s,
            memory_bytes=self.memory_bytes,
            processes=self.processes,
            file_bytes=self.file_bytes,
        )

    @property
    def runs_student_code(self):
        return self.cells is None or bool(self.cells)


def numpy_step(name, probe, cell, inputs, *, wall_s=30.0, memory_bytes=2 * GIB):
    """The `Step` of a task asked "with NumPy only": one answer cell, in a NumPy-only interpreter,
    on the grader's inputs, with a small memory limit."""
    return Step(
        name,
        probe,
        cells=[cell],
        numpy_only=True,
        inputs=inputs,
        wall_s=wall_s,
        memory_bytes=memory_bytes,
    )


# ----------------------------------------------------------------- the interpreter of a step
def _site_packages_of_base():
    """Folders under the base installation (and the system's) where packages live."""
    base = sys.base_prefix
    folders = set(site.getsitepackages([base]))
    paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
    folders.update(paths[key] for key in ("purelib", "platlib"))
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    folders.update(
        {
            "/usr/lib/python3/dist-packages",
            f"/usr/local/lib/{version}/dist-packages",
            f"/usr/local/lib/{version}/site-packages",
        }
    )
    return sorted(str(Path(f).resolve()) for f in folders if os.path.isdir(f))


def _package_folder(name):
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).resolve().parent


def interpreter(numpy_only):
    """(argv before the script, mounts, sys.path entries) of a step's interpreter."""
    base = Path(sys.base_prefix).resolve()
    if numpy_only:
        numpy = _package_folder("numpy")
        mounts = [sandbox.Mount(base, str(base))]
        mounts += [sandbox.Mount(None, folder) for folder in _site_packages_of_base()]
        mounts.append(sandbox.Mount(numpy, "/opt/numpy/numpy"))
        libs = numpy.parent / "numpy.libs"
        if libs.is_dir():
            mounts.append(sandbox.Mount(libs, "/opt/numpy/numpy.libs"))
        executable = Path(getattr(sys, "_base_executable", sys.executable))
        return [str(executable), "-I", "-S"], mounts, ["/opt/numpy"]
    mounts = sandbox.python_mounts()
    aekeras = _package_folder("aekeras")
    inside = [m.source for m in mounts if m.source in aekeras.parents]
    sys_path = []
    if not inside:  # an editable install: the package folder alone, not its checkout
        mounts.append(sandbox.Mount(aekeras, "/opt/aekeras/aekeras"))
        sys_path.append("/opt/aekeras")
    return [sys.executable, "-I"], mounts, sys_path


def data_mounts(names, data_home):
    """(mounts, environment) that show the prepared files of the datasets `names` under /data: the
    raw path's arrays where they were prepared, else tensorflow-datasets' records (one path for all)."""
    if not names:
        return [], {}
    home = Path(data_home)
    arrays = [home / "arrays" / f"{name}.npz" for name in names]
    records = [home / "tfds" / name for name in names]
    if all(path.is_file() for path in arrays):
        mounts, source = [sandbox.Mount(p, f"{DATA}/arrays/{p.name}") for p in arrays], "raw"
    elif all(path.is_dir() for path in records):
        mounts, source = [sandbox.Mount(p, f"{DATA}/tfds/{p.name}") for p in records], "tfds"
    else:
        raise FileNotFoundError(
            f"{', '.join(names)} not prepared in {home}: prepare the data before grading "
            "(aekeras_tools.grading.batch.prepare_data)"
        )
    return mounts, {"AEKERAS_DATA_HOME": DATA, "AEKERAS_DATASET_SOURCE": source}


def environment(backend, threads):
    """The environment variables of a step: the Keras backend, quiet logs, `threads` CPU threads."""
    threads = str(max(1, int(threads)))
    return {
        "KERAS_BACKEND": backend,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        **({"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"} if threads == "1" else {}),
    }


# ----------------------------------------------------------------- running a step
OUTPUTS = ("cells.json", "values.npz")
MAX_CELLS_JSON = 2**20


def run_step(step, cells, workspace, inputs=None, *, backend, threads=1, data_home=None):
    """Runs `step` with `cells` ([{"id", "source"}]) in a new sandbox.

    Files the step keeps go to `workspace/kept/`, where a later step that carries them finds them.

    Args:
        step: a `Step`.
        cells: the code cells to run (see `judging.compose`).
        workspace: a folder of the grader's (never shown to a sandbox).
        inputs: the step's input arrays ({name: array}), or None.
        backend: the Keras backend of the step.
        threads: CPU threads the step may use.
        data_home: where the datasets of `step.data` are prepared.

    Returns:
        (sandbox.Result, {cell id: error}, {"<step>.<name>": array}).
    """
    started = StartedStep(
        step, cells, workspace, inputs, backend=backend, threads=threads, data_home=data_home
    )
    return started.finish()


class StartedStep:
    """A step whose sandbox is started (its interpreter importing the modules the step preloads) and
    waits for `finish()`, which hands it the files it carries, runs it and reads what it wrote.
    Arguments as for `run_step`. `kill()` ends a step that will not run."""

    def __init__(self, step, cells, workspace, inputs=None, *, backend, threads=1, data_home=None):
        self.step, self.workspace = step, Path(workspace)
        self.staging = Path(tempfile.mkdtemp(prefix=f"step-{step.name}-", dir=workspace))
        try:
            self.sandbox = self._start(cells, inputs, backend, threads, data_home)
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise

    def _start(self, cells, inputs, backend, threads, data_home):
        step, staging = self.step, self.staging
        argv, mounts, sys_path = interpreter(step.numpy_only)
        warm = step.preload
        job = {
            "cells": cells,
            "probe": step.probe,
            "sys_path": sys_path,
            "numpy_only": step.numpy_only,
            "warm": list(warm),
        }
        (staging / "job.json").write_text(json.dumps(job), encoding="utf-8")
        for name in ("runner.py", "probe.py"):
            mounts.append(sandbox.Mount(HERE / name, f"{GRADER}/{name}"))
        mounts.append(sandbox.Mount(staging / "job.json", f"{GRADER}/job.json"))
        if inputs:
            np.savez(staging / "inputs.npz", **inputs)
            mounts.append(sandbox.Mount(staging / "inputs.npz", f"{GRADER}/inputs.npz"))
        out = staging / "out"
        out.mkdir()
        for name in (*OUTPUTS, *step.keep):
            (out / name).touch()
            mounts.append(sandbox.Mount(out / name, f"out/{name}", writable=True))
        more, data_env = data_mounts(step.data, data_home) if step.data else ([], {})
        return sandbox.Sandbox(
            [*argv, f"{GRADER}/runner.py"],
            step.limits,
            env={**environment(backend, threads), **data_env},
            mounts=[*mounts, *more],
            warm_cpu_s=60.0 if warm else 0.0,
        )

    def finish(self):
        """Hands the step the files it carries, lets it run: (sandbox.Result, errors, values)."""
        step, out, kept = self.step, self.staging / "out", self.workspace / "kept"
        try:
            carried = io.BytesIO()
            with zipfile.ZipFile(carried, "w") as archive:
                for name in step.carry:
                    if (kept / name).is_file():
                        archive.write(kept / name, name)
            result = self.sandbox.finish(carried.getvalue() if step.carry else b"")
            for name in step.keep:
                if (out / name).stat().st_size:
                    kept.mkdir(exist_ok=True)
                    shutil.copyfile(out / name, kept / name)
            return (result, *read_outputs(out, step.name))
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def kill(self):
        self.sandbox.kill()
        shutil.rmtree(self.staging, ignore_errors=True)


def read_outputs(out, name):
    """({cell id: error}, {"<name>.<key>": array}) from what a step wrote: untrusted files, read as data."""
    errors, values = {}, {}
    cells_file, values_file = Path(out) / "cells.json", Path(out) / "values.npz"
    if 0 < cells_file.stat().st_size < MAX_CELLS_JSON:
        try:
            errors = {
                str(e["id"]): str(e["error"])
                for e in json.loads(cells_file.read_text(encoding="utf-8", errors="replace"))
                if e.get("error")
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            errors = {}
    if values_file.stat().st_size:
        try:
            with open(values_file, "rb") as file, np.load(file, allow_pickle=False) as archive:
                values = {f"{name}.{k}": archive[k] for k in archive.files}
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile):
            values = {}
    return errors, values
