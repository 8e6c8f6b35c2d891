"""The notebooks' text twins: sync each lecture and instructor notebook with its MyST Markdown twin.

Usage: python -m aekeras_tools.twins [course/01_*.ipynb ...]   (default: every pair)

The pairs are set in course/jupytext.toml and course/assignments/jupytext.toml;
`jupytext --sync` copies the cells of whichever side of a pair was changed
last onto the other (keeping the notebook's outputs). `python3 tasks.py lint
--fix` runs it before and after setting the slide metadata, so an edit of a
twin reaches its notebook and the slide types reach the twin; `python3
tasks.py lint`, `lectures` and `site` only check (`differing`) and say to run
it, so that no main command rewrites a tracked file.
tests/test_notebook_sources.py checks the pairs.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from aekeras_tools.paths import ASSIGNMENTS
from aekeras_tools.paths import LECTURES

PAIRED = [*LECTURES, *sorted(ASSIGNMENTS.glob("*/*.ipynb"))]


def sync(notebooks=None):
    """Syncs the given notebooks (default: every paired one) with their twins; returns the exit code."""
    paths = [str(p) for p in (PAIRED if not notebooks else notebooks)]
    return subprocess.call([sys.executable, "-m", "jupytext", "--quiet", "--sync", *paths])


def differing(notebooks=None):
    """The paired notebooks whose cells (sources and cell types) differ from their twin's."""
    import jupytext

    found = []
    for path in [Path(p) for p in (PAIRED if not notebooks else notebooks)]:
        twin = _twin(path)
        if twin is None:
            continue
        cells = [(c.cell_type, c.source) for c in jupytext.read(path).cells]
        if cells != [(c.cell_type, c.source) for c in jupytext.read(twin).cells]:
            found.append(path)
    return found


def _twin(path):
    if path.parent == LECTURES[0].parent:
        twin = path.with_suffix(".md")
    else:  # an instructor notebook: source/<id>/<id>.ipynb, its twin in source_md/<id>/
        twin = path.parents[2] / "source_md" / path.parent.name / f"{path.stem}.md"
    return twin if twin.is_file() else None


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every paired notebook")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a pair differs"
    )
    args = parser.parse_args(argv)
    if not args.check:
        return sync(args.notebooks)
    found = differing(args.notebooks)
    for path in found:
        print(f"{path} differs from its text twin: run `python3 tasks.py lint --fix` to sync them")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
