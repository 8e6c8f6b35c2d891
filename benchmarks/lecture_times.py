"""Time of each lecture notebook, from the nbval run.

Usage:
    python benchmarks/lecture_times.py                  # run nbval over course/*.ipynb now
    python benchmarks/lecture_times.py --junit build/test-results/tensorflow.xml
                                                        # read the report of `python3 tasks.py test`

nbval runs every code cell of a lecture as one test, in one kernel per
notebook, at the default (CPU-friendly) budget unless AEKERAS_FULL_RUN=1 is
set. The JUnit XML report that pytest writes holds each cell's time (the
first cell's includes the kernel's start); this script sums them per notebook and prints, per lecture: the number of code
cells, how many passed, the total time and the slowest cell. The README's
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

from common import table, write_result

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 300


def run_nbval(junit, notebooks):
    """Runs nbval over `notebooks` with pytest, writing the JUnit report to `junit`."""
    cmd = [
        sys.executable, "-m", "pytest", *map(str, notebooks), "--nbval-lax", "--nbval-current-env",
        "-p", "no:cacheprovider", "-q", f"--junitxml={junit}",
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
        cells[name].append((case.get("name"), float(case.get("time", 0.0)), not failed and not skipped))
    return dict(cells)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--junit", type=Path, help="read this pytest JUnit XML report instead of running nbval")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: course/*.ipynb")
    args = parser.parse_args()
    if args.junit is not None:
        if not args.junit.is_file():
            parser.error(f"--junit must be an existing JUnit XML file. Received: {args.junit}")
        junit, source = args.junit, f"report {args.junit}"
    else:
        notebooks = args.notebooks or sorted((ROOT / "course").glob("*.ipynb"))
        junit = Path(tempfile.mkdtemp()) / "nbval.xml"
        run_nbval(junit, notebooks)
        source = "nbval run of this script"
    times = notebook_times(junit)
    if not times:
        sys.exit(f"No notebook cells found in {junit}: was nbval run over the lectures (--nbval-lax)?")
    rows, total = [], 0.0
    for name, cells in sorted(times.items()):
        seconds = sum(t for _, t, _ in cells)
        total += seconds
        slowest = max(cells, key=lambda c: c[1])
        rows.append([
            name, len(cells), sum(ok for _, _, ok in cells), f"{seconds:.0f} s ({seconds / 60:.1f} min)",
            f"{slowest[0]}: {slowest[1]:.0f} s", "yes" if seconds <= LIMIT_SECONDS else "NO",
        ])
    budget = "full (AEKERAS_FULL_RUN=1)" if os.environ.get("AEKERAS_FULL_RUN", "0") == "1" else "default"
    body = (
        f"Source: {source}; {budget} budget, TensorFlow backend.\n\n"
        + table(["lecture", "code cells", "passed", "time", "slowest cell", f"within {LIMIT_SECONDS // 60} min"], rows)
        + f"\n\nAll lectures: {total:.0f} s ({total / 60:.1f} min).\n"
    )
    write_result("lecture_times", "Lecture notebooks: time of the nbval run", body)
    return 0 if all(ok for cells in times.values() for _, _, ok in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
