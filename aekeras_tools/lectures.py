"""The lectures' pipeline: slide metadata, then the rendered course, then the claims table.

Usage: python -m aekeras_tools.lectures [--no-execute] [--output build/course] [course/01_*.ipynb ...]

`python3 tasks.py lectures` runs it (and `python3 tasks.py site` with
`--no-execute`), so that nothing depends on remembering a step:

1. `aekeras_tools.twins` syncs every notebook with its text twin (an edit of
   `course/NN_name.md` reaches the notebook), `aekeras_tools.slides` sets each
   lecture's slide metadata by its rules (the notebooks in course/ change only
   if a lecture was edited since), and the twins are synced again;
2. `aekeras_tools.site` executes the lectures (unless `--no-execute`) and
   renders the pages, slide decks and index into the output folder;
3. after an execution of every lecture, `aekeras_tools.lecture_claims`
   tabulates their claims from the executed notebooks into
   `benchmarks/results/lecture_claims_run.md` (`lectures_full_run.md` with
   `AEKERAS_FULL_RUN=1`). A run of only some lectures leaves the table as is.
   (`lecture_claims.md` is the audit of every claim over seeds and backends:
   `python3 tasks.py claims`, aekeras_tools.claims_audit.)

Exits 1 if a lecture failed (the claims table then records the failure).
"""

import argparse
import sys
from pathlib import Path

from aekeras_tools import lecture_claims
from aekeras_tools import site
from aekeras_tools import slides
from aekeras_tools import twins
from aekeras_tools.paths import BUILD
from aekeras_tools.paths import LECTURES


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, default=LECTURES, help="default: every lecture"
    )
    parser.add_argument("--output", type=Path, default=BUILD)
    parser.add_argument(
        "--no-execute",
        action="store_true",
        help="render the notebooks as they are, without running them (no claims table)",
    )
    args = parser.parse_args(argv)
    notebooks = [str(p) for p in args.notebooks]
    if twins.sync() != 0 or slides.main(notebooks) != 0 or twins.sync() != 0:
        return 1
    render = ["--output", str(args.output), *(["--no-execute"] if args.no_execute else [])]
    code = site.main([*render, *notebooks])
    if args.no_execute:
        return code
    executed = [args.output / "notebooks" / Path(p).name for p in notebooks]
    if sorted(Path(p).resolve() for p in args.notebooks) != [p.resolve() for p in LECTURES]:
        print(
            "The claims table covers every lecture: not refreshed for a run of some of them "
            f"(python -m aekeras_tools.lecture_claims {' '.join(map(str, executed))} reads these)."
        )
        return code
    lecture_claims.main([str(p) for p in executed])
    return code


if __name__ == "__main__":
    sys.exit(main())
