"""Runs a submission's cells inside the sandbox and exports the values the grader judges (untrusted side).

The grader mounts this file and `probe.py` read-only at `/grader/`, with the step's job
`/grader/job.json` ({"cells": [{"id": ..., "source": ...}], "probe": code, "sys_path": [...],
"warm": [modules]}) and the grader's inputs `/grader/inputs.npz`, and runs
`python -I /grader/runner.py` in the sandbox's folder. It imports the `warm` modules (Keras, aekeras:
the slow start, which the grader lets it do while an earlier step runs), then waits until the grader
closes its standard input, having sent the files an earlier step kept for it. It executes the cells
in order in one namespace (a failing cell is recorded and the next
one runs, as in a notebook run with errors allowed), then the probe, which finds `export`,
`attempt` and `inputs` (see probe.py). It writes `out/cells.json` (each cell's error, or null) and
`out/values.npz` (NumPy arrays only), the two host files the grader mounted there for it.

Nothing here is trusted: student code runs in this process first, and may change anything in it,
this file's functions included. The grader treats what comes back as claims to check: it loads the
arrays without pickle, and decides every check itself, outside this process.
"""

import json
import os
import sys
import traceback

GRADER = os.path.dirname(os.path.abspath(__file__))


def _source(cell):
    # IPython magics and shell escapes (`%matplotlib inline`, `!pip ...`) are not Python: dropped.
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell["source"].splitlines()
    )


class _Unavailable:
    """What a NumPy-only task finds under a library's name: any use says the task is NumPy only."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        from probe import unavailable

        raise ModuleNotFoundError(unavailable(self._name), name=self._name)


class _Refuse:
    """The last import finder: a library that is not there is refused with the task's reason."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        from probe import NOT_NUMPY
        from probe import unavailable

        package = name.split(".")[0]
        if package in NOT_NUMPY:
            raise ModuleNotFoundError(unavailable(package), name=name)
        return None


def _numpy_only(namespace):
    # No library but NumPy exists in this sandbox; these only make the refusal say why.
    from probe import NOT_NUMPY

    sys.meta_path.append(_Refuse())
    namespace.update({name: _Unavailable(name) for name in NOT_NUMPY})


def _wait_for_the_grader():
    """Blocks until the grader says go (closes standard input); what it sent is a zip of the files
    an earlier step kept, which go into this folder."""
    import io
    import zipfile

    data = sys.stdin.buffer.read()
    if data:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if "/" not in name and not name.startswith("."):
                    with open(name, "wb") as file:
                        file.write(archive.read(name))


def main():
    with open(os.path.join(GRADER, "job.json"), encoding="utf-8") as file:
        job = json.load(file)
    sys.path[:0] = [GRADER, *job.get("sys_path", [])]
    import importlib

    for module in job.get("warm", []):  # the slow imports, done while the grader does other work
        try:
            importlib.import_module(module)
        except Exception:  # the cells that import it meet the same error, and report it
            pass
    _wait_for_the_grader()
    import numpy as np
    from probe import Exports

    namespace = {"__name__": "__main__", "np": np}  # as after the notebook's set-up cell
    if job.get("numpy_only"):
        _numpy_only(namespace)
    errors = []
    for cell in job["cells"]:
        try:
            exec(compile(_source(cell), f"<cell {cell['id']}>", "exec"), namespace)
            errors.append({"id": cell["id"], "error": None})
        except BaseException as error:  # a student's SystemExit too
            if isinstance(error, MemoryError):
                raise
            errors.append({"id": cell["id"], "error": f"{type(error).__name__}: {error}"[:2000]})
    exports = Exports()
    namespace.update(exports.names())
    inputs = os.path.join(GRADER, "inputs.npz")
    if os.path.exists(inputs):
        with np.load(inputs, allow_pickle=False) as archive:
            namespace["inputs"] = {key: archive[key] for key in archive.files}
    try:
        exec(compile(job.get("probe", ""), "<probe>", "exec"), namespace)
    except BaseException as error:
        if isinstance(error, MemoryError):
            raise
        errors.append({"id": "probe", "error": f"{type(error).__name__}: {error}"[:2000]})
        traceback.print_exc()
    with open(os.path.join("out", "cells.json"), "w", encoding="utf-8") as file:
        json.dump(errors, file)
    with open(os.path.join("out", "values.npz"), "wb") as file:
        np.savez(file, **exports.arrays())


if __name__ == "__main__":
    main()
