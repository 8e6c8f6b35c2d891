"""Result files of the benchmarks: machine description, Markdown tables, the header of a run."""

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

from aekeras_tools.paths import RESULTS
from aekeras_tools.paths import ROOT


def machine():
    """A one-line description of the machine and software the benchmark ran on."""
    import keras
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    import aekeras

    accelerators = "".join(f", {name}" for name in aekeras.notebook.devices())
    return (
        f"{cpu}, {os.cpu_count()} cores{accelerators}, load {load:.1f} at start; Python {platform.python_version()}, "
        f"Keras {keras.__version__} ({keras.backend.backend()}), NumPy {np.__version__}"
    )


def table(header, rows):
    """Formats rows (lists of values) as a Markdown table."""
    text = [list(map(str, header))] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in text]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def git_state():
    """The commit checked out, noting uncommitted changes to the library or the benchmarks."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
        changed = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "aekeras",
                "aekeras_tools",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
        if commit and changed:
            commit += " with uncommitted changes to aekeras/ or aekeras_tools/"
    except OSError:
        commit = "?"
    return commit or "?"


# Taken when a script starts, so edits made while it runs do not change its header.
GIT_STATE = git_state()


def command():
    """The command line that ran this script, with its backend, as one could type it again.

    A module of this package run with `python -m` (its `sys.argv[0]` is the
    module's file) is written as `python -m aekeras_tools.<module>`.
    """
    import keras

    script, *arguments = sys.argv
    path = Path(script).resolve()
    if path.suffix == ".py" and path.parent == Path(__file__).resolve().parent:
        words = ["-m", f"{__package__}.{path.stem}", *arguments]
    else:
        words = sys.argv
    return f"KERAS_BACKEND={keras.backend.backend()} python {shlex.join(words)}"


def write_result(name, title, body, notes=(), backend=None, machine_text=None, folder=None):
    """Prints a result and writes it to `folder`/<name>.md (default: benchmarks/results/).

    The header records the date (UTC), the commit, the backend, the machine and
    the command line, then one line per entry of `notes` (e.g. the devices).
    `backend` and `machine_text` replace the running process's backend and
    machine description, for results measured in other processes or read
    from notebooks executed elsewhere.
    """
    import keras

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"Run {stamp}, commit {GIT_STATE}, backend {backend or keras.backend.backend()}.",
        f"Machine: {machine_text or machine()}",
        f"Command: `{command()}`",
        *notes,
    ]
    text = f"# {title}\n\n" + "\n".join(header) + f"\n\n{body}\n"
    print(text)
    folder = Path(folder) if folder is not None else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text)
    return text
