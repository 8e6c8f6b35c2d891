"""Runs a submission's cells inside the sandbox and exports the values the grader judges (untrusted side).

The grader copies this file into the sandbox folder and runs it there with the job it wrote beside it,
`job.json`: {"cells": [{"id": ..., "source": ...}], "probe": code, "sys_path": [...]}. It executes the
cells in order in one namespace (a failing cell is recorded and the next one runs, as in a notebook
run with errors allowed), then the probe, whose `export(name, value)` stores values; the probe finds the grader's inputs
(`inputs.npz`, if any) in `inputs`. It writes
`out/cells.json` (each cell's error, or null) and `out/values.npz` (NumPy arrays only).

Nothing here is trusted: student code runs in this process first, and may change anything in it,
this file's functions included. The grader treats what comes back as claims to check: it loads the
arrays without pickle, and decides every check itself, outside this process.
"""

import json
import os
import sys
import traceback


def _source(cell):
    # IPython magics and shell escapes (`%matplotlib inline`, `!pip ...`) are not Python: dropped.
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell["source"].splitlines()
    )


def main():
    with open("job.json", encoding="utf-8") as file:
        job = json.load(file)
    sys.path[:0] = job.get("sys_path", [])
    os.makedirs("out", exist_ok=True)
    import numpy as np

    namespace = {"__name__": "__main__"}
    errors = []
    values = {}

    def export(name, value):
        values[name] = np.asarray(value)

    for cell in job["cells"]:
        try:
            exec(compile(_source(cell), f"<cell {cell['id']}>", "exec"), namespace)
            errors.append({"id": cell["id"], "error": None})
        except BaseException as error:  # a student's SystemExit too
            if isinstance(error, MemoryError):
                raise
            errors.append({"id": cell["id"], "error": f"{type(error).__name__}: {error}"[:2000]})
    namespace["export"] = export
    if os.path.exists("inputs.npz"):  # the grader's inputs of the probe
        with np.load("inputs.npz", allow_pickle=False) as archive:
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
    # Objects NumPy cannot store without pickle are dropped; the checks that need them then fail.
    np.savez(
        os.path.join("out", "values.npz"),
        **{k: v for k, v in values.items() if v.dtype != object},
    )


if __name__ == "__main__":
    main()
