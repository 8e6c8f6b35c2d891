"""The lectures' pipeline: the rendered course, then the claims table of the run.

Usage: python -m aekeras_tools.lectures [--no-execute] [--record] [--output build/course] [course/01_*.ipynb ...]

`python3 tasks.py lectures` runs it (and `python3 tasks.py site` with
`--no-execute`). It writes only under the output folder (build/): no tracked
file changes, so a user who runs the Quick start finds a clean working tree.

1. It checks that every lecture agrees with its text twin (`aekeras_tools.twins`):
   after an edit of `course/NN_name.md`, `python3 tasks.py lint --fix` syncs
   the pair (and the slide metadata); until then this stops with that advice;
2. `aekeras_tools.site` executes the lectures (unless `--no-execute`) and
   renders the pages, slide decks and index into the output folder, with
   each lecture's slide metadata derived by `aekeras_tools.slides`' rules
   (in memory: the committed metadata is `lint --fix`'s);
3. after an execution of every lecture, `aekeras_tools.lecture_claims`
   tabulates their claims from the executed notebooks into
   `<output>/../lecture_claims_run.md` (`lectures_full_run.md` with
   `AEKERAS_FULL_RUN=1`); with `--record`, into `benchmarks/results/`, the
   committed records. A run of only some lectures leaves the table as is.
   (`lecture_claims.md` is the audit of every claim over seeds and backends:
   `python3 tasks.py claims`, aekeras_tools.claims_audit.)

Exits 1 if a lecture failed (the claims table then records the failure).
"""

import argparse
import sys
from pathlib import Path

from aekeras_tools import lecture_claims
from aekeras_tools import site
from aekeras_tools import twins
from aekeras_tools.paths import BUILD
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import RESULTS


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
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the claims table to benchmarks/results/ (a committed record), not beside the output",
    )
    args = parser.parse_args(argv)
    notebooks = [str(p) for p in args.notebooks]
    stale = twins.differing(args.notebooks)
    if stale:
        print(
            "These lectures differ from their text twins: "
            f"{', '.join(str(p) for p in stale)}. Run `python3 tasks.py lint --fix` to sync them "
            "(and the slide metadata), then this again.",
            file=sys.stderr,
        )
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
    folder = RESULTS if args.record else args.output.parent
    lecture_claims.main([*map(str, executed), "--folder", str(folder)])
    return code


if __name__ == "__main__":
    sys.exit(main())
