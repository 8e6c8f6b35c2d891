"""The command line of the class grader: `python -m aekeras_tools.grading` (or `python3 tasks.py grade`).

Usage (from the repository root, with the project's environment):

    python -m aekeras_tools.grading [ASSIGNMENT ...] [--course DIR] [--workers N] [--student ID]
                                    [--force] [--csv FILE] [--scheduler ADDRESS]

It grades every submission in `DIR/submitted/` (default `course/assignments/`), prints a progress bar,
then one row per student and assignment (score, maximum, status and reason), and writes the LMS file
`DIR/grades_lms.csv`. The exit status is 0 when every submission has a result, 2 for bad arguments or
a machine that cannot make sandboxes (the message says what to install).
"""

import argparse
import sys
from pathlib import Path

from aekeras_tools.grading import batch
from aekeras_tools.grading import judging
from aekeras_tools.grading import reports
from aekeras_tools.grading import sandbox


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m aekeras_tools.grading", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "assignments", nargs="*", help="assignment ids (default: every one under source/)"
    )
    parser.add_argument(
        "--course", type=Path, default=batch.COURSE_DIR, help="nbgrader course directory"
    )
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
        "--csv", type=Path, default=None, help=f"the LMS file (default: COURSE/{reports.LMS_CSV})"
    )
    args = parser.parse_args(argv)
    if not (args.course / "source").is_dir():
        parser.error(
            f"--course must be an nbgrader course directory (with source/). Received: {args.course}"
        )
    known = batch.assignments(args.course)
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        parser.error(f"unknown assignment {', '.join(unknown)}; expected one of {', '.join(known)}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1. Received: --workers {args.workers}")
    try:
        results = batch.grade(
            args.course, args.assignments, args.workers, args.student, args.force, args.scheduler
        )
    except (sandbox.SandboxError, judging.ChecksError) as error:
        print(f"Cannot grade: {error}", file=sys.stderr)
        return 2
    print(reports.summary(results))
    csv_path = args.csv or args.course / reports.LMS_CSV
    reports.write_csv(csv_path, results)
    print(f"\n{len(results)} results; LMS file: {csv_path}")
    return 0
