"""The notebooks' text twins: sync each lecture and instructor notebook with its MyST Markdown twin.

Usage: python -m aekeras_tools.twins [course/01_*.ipynb ...]   (default: every pair)

The pairs are set in course/jupytext.toml and course/assignments/jupytext.toml;
`jupytext --sync` copies the cells of whichever side of a pair was changed
last onto the other (keeping the notebook's outputs). `python3 tasks.py
lectures` and `python3 tasks.py site` run it before and after setting the
slide metadata, so an edit of a twin reaches the rendered course and the
slide types reach the twin. tests/test_notebook_sources.py checks the pairs.
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every paired notebook")
    args = parser.parse_args(argv)
    return sync(args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
