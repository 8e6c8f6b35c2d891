"""Every quantity the lectures assert, with its threshold and margin, read from executed notebooks.

Usage:
    python3 tasks.py lectures        # executes the lectures into build/course/notebooks, then
                                     # runs this on them: results/lecture_claims.md
    python -m aekeras_tools.lecture_claims             # reads build/course/notebooks again
    python -m aekeras_tools.lecture_claims --execute   # executes the lectures itself first
    AEKERAS_FULL_RUN=1 python -m aekeras_tools.lecture_claims --execute   # lectures_full_run.md

The lectures check their claims with `aekeras.notebook.claim`, which records
each one in the notebook's outputs (MIME type
`aekeras.notebook.CLAIM_MIMETYPE`): the description, the measured value,
the comparison, the threshold and the margin (how far the value is from
failing, in the threshold's units). This script collects those records from
executed notebooks into one table per run, with each lecture's run time (from
the cell execution times the notebook records), its backend and device (from
the record `aekeras.notebook.setup` displays) and whether it ran the default
or the full settings. The result file is `lectures_full_run.md` when every
lecture ran the full settings, else `lecture_claims.md` (`--name` chooses). A notebook that stopped at a
failed claim is reported as failed, with the claims that held before it.
"""

import argparse
import sys
from pathlib import Path

import nbformat

from aekeras.notebook import CLAIM_MIMETYPE
from aekeras_tools.paths import COURSE
from aekeras_tools.paths import EXECUTED
from aekeras_tools.paths import LECTURES
from aekeras_tools.results import machine
from aekeras_tools.results import table
from aekeras_tools.results import write_result
from aekeras_tools.site import environment
from aekeras_tools.site import execute
from aekeras_tools.site import recorded_seconds


def claims(nb):
    """The claim records of an executed notebook, in cell order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(CLAIM_MIMETYPE)
            if record is not None:
                found.append(record)
    return found


def failure(nb):
    """The error of the first cell that raised, as 'ename: evalue', or None."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')}"
    return None


def unexecuted(nb):
    """(code cells that did not run, all code cells): a run stopped early leaves some."""
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    return sum(c.get("execution_count") is None for c in code), len(code)


def _number(value):
    return f"{value:.4g}"


def report(lectures):
    """Markdown tables of the claims of `lectures`: a list of (name, notebook node)."""
    summary, rows = [], []
    for name, nb in lectures:
        records = claims(nb)
        found = environment(nb)
        seconds = recorded_seconds(nb)
        modes = {"full" if r.get("full_run") else "default" for r in records}
        error = failure(nb)
        missing, total = unexecuted(nb)
        if error:
            result = f"FAILED: {error}"
        elif missing:
            result = f"INCOMPLETE: {total - missing} of {total} code cells ran"
        else:
            result = "passed"
        summary.append(
            [
                name,
                f"{found['backend']}, {found['device']}" if found else "?",
                "/".join(sorted(modes)) or "?",
                f"{seconds:.0f} s ({seconds / 60:.1f} min)" if seconds is not None else "?",
                len(records),
                result,
            ]
        )
        for r in records:
            relative = r.get("relative_margin")
            rows.append(
                [
                    name,
                    r["description"].replace("|", "\\|"),  # a Markdown table cell
                    _number(r["value"]),
                    f"{r['comparison']} {_number(r['threshold'])}",
                    _number(r["margin"]),
                    f"{100 * relative:.0f}%" if relative is not None else "",
                ]
            )
    return (
        table(["lecture", "backend, device", "settings", "run time", "claims", "result"], summary)
        + "\n\nEach claim: the measured value, the bound it is asserted against, and the margin "
        "(how far it is from failing, in the bound's units; relative: as a share of the bound).\n\n"
        + table(["lecture", "claim", "value", "asserted", "margin", "relative margin"], rows)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        help=f"executed notebooks (default: {EXECUTED}/0*.ipynb, or with --execute "
        "the lectures in course/)",
    )
    parser.add_argument(
        "--execute", action="store_true", help="execute the notebooks first (nbclient)"
    )
    parser.add_argument(
        "--name",
        help="result file name (default: lectures_full_run if every lecture ran the full "
        "settings, else lecture_claims_run; lecture_claims is the audit's, "
        "aekeras_tools.claims_audit)",
    )
    parser.add_argument(
        "--note", action="append", default=[], help="a line to add to the header (repeatable)"
    )
    parser.add_argument(
        "--folder",
        type=Path,
        default=None,
        help="where the table goes (default: benchmarks/results/, the committed records)",
    )
    args = parser.parse_args(argv)
    folder = COURSE if args.execute else EXECUTED
    default = [folder / lecture.name for lecture in LECTURES]
    paths = [Path(p) for p in args.notebooks] or [p for p in default if p.is_file()]
    if not paths:
        parser.error(
            f"No notebooks in {folder}: run `python3 tasks.py lectures` first, or pass "
            "--execute or the executed notebooks."
        )
    lectures = []
    for path in paths:
        if args.execute:
            print(f"Executing {path.name}", flush=True)
            nb = execute(path.resolve())[0]
        else:
            nb = nbformat.read(path, as_version=4)
        lectures.append((path.stem, nb))
    records = [environment(nb) for _, nb in lectures]
    backends = sorted({record["backend"] for record in records if record})
    full = bool(records) and all(record and record["full_run"] for record in records)
    name = args.name or ("lectures_full_run" if full else "lecture_claims_run")
    where = (
        machine()
        if args.execute
        else f"as executed (see each lecture's backend and device); read on {machine()}"
    )
    write_result(
        name,
        "Lecture claims",
        report(lectures),
        notes=[f"Notebooks: {', '.join(p.name for p in paths)}", *args.note],
        backend=", ".join(backends) or None,
        machine_text=where,
        folder=args.folder,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
