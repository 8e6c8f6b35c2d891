"""Time of each lecture notebook, from the nbval run, on one or more backends.

Usage:
    python -m aekeras_tools.lecture_times                  # run nbval over course/*.ipynb now
    python -m aekeras_tools.lecture_times --junit build/test-results/*.xml
                                                        # read the reports of `python3 tasks.py test`
    python -m aekeras_tools.lecture_times --junit build/test-results/jax.xml --name lecture_times_gpu

A report's file name is its backend (`jax.xml`, as `tasks.py test` writes
them); the device each backend ran on (CPU or the accelerator's name) is
read by asking that backend in a fresh process on the machine running this
script, so run it where the tests ran.

nbval runs every code cell of a lecture as one test, in one kernel per
notebook, at the default (CPU-friendly) budget unless AEKERAS_FULL_RUN=1 is
set. The JUnit XML report that pytest writes holds each cell's time (the
first cell's includes the kernel's start); this script sums them per
notebook and prints, per lecture: the number of code cells, how many
passed, the total time and the slowest cell. The README's
limit for a lecture is 5 minutes on a 2-core CPU. Results go to
benchmarks/results/lecture_times.md.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT
from aekeras_tools.results import table
from aekeras_tools.results import write_result

LIMIT_SECONDS = 300


def run_nbval(junit, notebooks):
    """Runs nbval over `notebooks` with pytest, writing the JUnit report to `junit`."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *map(str, notebooks),
        "--nbval-lax",
        "--nbval-current-env",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--junitxml={junit}",
    ]
    print("$", " ".join(cmd), flush=True)
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


def notebook_times(junit):
    """Returns {notebook name: [(cell name, seconds, passed)]} from a pytest JUnit XML report."""
    cells = defaultdict(list)
    for case in ET.parse(junit).getroot().iter("testcase"):
        classname = case.get("classname", "")  # "course.01_autoencoders.ipynb"
        if not classname.endswith(".ipynb"):
            continue
        name = classname[: -len(".ipynb")].rsplit(".", 1)[-1]
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        cells[name].append(
            (case.get("name"), float(case.get("time", 0.0)), not failed and not skipped)
        )
    return dict(cells)


def device_of(backend):
    """The device a Keras backend uses here, as `aekeras.notebook.setup` prints it."""
    code = (
        "import os, aekeras; d = aekeras.notebook.devices(); "
        "print(', '.join(d) if d else f'CPU ({os.cpu_count()} cores)')"
    )
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    return (
        result.stdout.strip().splitlines()[-1]
        if result.returncode == 0
        else f"? ({backend} not importable)"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--junit",
        type=Path,
        nargs="+",
        help="read these pytest JUnit XML reports (named <backend>.xml) instead of running nbval",
    )
    parser.add_argument(
        "--name", default="lecture_times", help="result file: benchmarks/results/<name>.md"
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lecture")
    args = parser.parse_args()
    if args.junit is not None:
        for junit in args.junit:
            if not junit.is_file():
                parser.error(f"--junit must name existing JUnit XML files. Received: {junit}")
        reports, source = (
            {j.stem: j for j in args.junit},
            "reports " + ", ".join(map(str, args.junit)),
        )
    else:
        notebooks = args.notebooks or LECTURES
        junit = Path(tempfile.mkdtemp()) / "nbval.xml"
        run_nbval(junit, notebooks)
        reports, source = {"tensorflow": junit}, "nbval run of this script"
    rows, all_passed = [], True
    for backend, junit in reports.items():
        times = notebook_times(junit)
        if not times:
            sys.exit(
                f"No notebook cells found in {junit}: was nbval run over the lectures (--nbval-lax)?"
            )
        device, total = device_of(backend), 0.0
        for name, cells in sorted(times.items()):
            seconds = sum(t for _, t, _ in cells)
            total += seconds
            slowest = max(cells, key=lambda c: c[1])
            passed = sum(ok for _, _, ok in cells)
            all_passed &= passed == len(cells)
            rows.append(
                [
                    backend,
                    device,
                    name,
                    len(cells),
                    passed,
                    f"{seconds:.0f} s ({seconds / 60:.1f} min)",
                    f"{slowest[0]}: {slowest[1]:.0f} s",
                    "yes" if seconds <= LIMIT_SECONDS else "NO",
                ]
            )
        rows.append(
            [
                backend,
                device,
                "**all lectures**",
                "",
                "",
                f"{total:.0f} s ({total / 60:.1f} min)",
                "",
                "",
            ]
        )
    budget = (
        "full (AEKERAS_FULL_RUN=1)" if os.environ.get("AEKERAS_FULL_RUN", "0") == "1" else "default"
    )
    header = [
        "backend",
        "device",
        "lecture",
        "code cells",
        "passed",
        "time",
        "slowest cell",
        f"within {LIMIT_SECONDS // 60} min",
    ]
    body = f"Source: {source}; {budget} budget.\n\n" + table(header, rows) + "\n"
    write_result(args.name, "Lecture notebooks: time of the nbval run", body)
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
