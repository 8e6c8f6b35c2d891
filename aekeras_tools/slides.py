"""Slide metadata of the lecture notebooks, set by rules: a lecture presents as slides.

Usage: python -m aekeras_tools.slides [--check] [course/01_*.ipynb ...]   # default: every lecture

Only `cell.metadata.slideshow.slide_type` changes (cell sources never do), so
the same notebook runs top to bottom, renders as a page, presents live in
JupyterLab with jupyterlab-rise (code runs during the talk), and becomes a
static reveal.js deck in `aekeras_tools.site`. `python3 tasks.py lectures`
and `python3 tasks.py site` run it before rendering; `--check` exits 1 when a
notebook's metadata differs from the rules (the tests run it).

The rules, in order:
- the title cell and every "## " section heading start a new slide;
- the set-up cells (the launch cell, which calls `aekeras.notebook.setup(...)`,
  and the settings cell, which reads `info["full_run"]`: run them before presenting),
  the run-time report, and check cells (assertions, `claim` calls) whose names no later cell uses,
  are skipped: they check the lecture, they are not part of the talk;
- a cell that would overflow the screen together with the cells above it on
  the same slide starts a sub-slide (reveal.js: the next slide down);
- a code cell that follows an explanation on the same slide is a fragment:
  the explanation comes first, the code and its output on the next key press;
- every other cell continues the slide ("-").
Heights are estimated from the source in lines of slide text (960x700 slides
at nbconvert's 20 px font hold about `SCREEN_LINES`).
"""

import argparse
import ast
import math
import re
import sys
from pathlib import Path

import nbformat

from aekeras_tools.paths import LECTURES

SCREEN_LINES = 21.0
CHARS_PER_LINE = 80
FIGURE_LINES = (
    11.0  # a figure returned by aekeras.plots or a Matplotlib Figure, as shown on a slide
)

FIGURE_CALL = re.compile(r"(aekeras\.plots\.\w+\(|^\s*fig\s*$|\bFigure\()", re.MULTILINE)


def markdown_lines(source):
    """Estimated height of a Markdown cell in lines of slide text."""
    lines, in_math = 0.0, False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("$$"):
            in_math = not in_math if text == "$$" else in_math
            lines += 1.5
        elif in_math:
            lines += 1.2
        elif text.startswith("# "):
            lines += 2.5
        elif text.startswith("## "):
            lines += 2.0
        elif text.startswith("|"):
            lines += 0 if set(text) <= set("|-: ") else 1.3
        elif not text:
            lines += 0.4
        else:
            lines += math.ceil(len(text) / CHARS_PER_LINE)
    return lines


def code_lines(source):
    """Estimated height of a code cell and its output, in lines of slide text."""
    height = 1.0 + 0.9 * len(source.splitlines())
    if FIGURE_CALL.search(source):
        height += FIGURE_LINES
    height += 1.0 * len(re.findall(r"\bprint\(", source))
    return height


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics
        return ast.parse(
            "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
        )


def reads(source):
    """Names a code cell reads."""
    return {
        n.id
        for n in ast.walk(_parse(source))
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def binds(source):
    """Names a code cell's top level leaves behind (loop and comprehension variables aside)."""
    found = set()
    for statement in _parse(source).body:
        targets = []
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        elif isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            found.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in statement.names)
        for target in targets:
            found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return found


def is_check(cell, later_sources):
    """A check cell (asserts or `claim(` calls) that prints nothing and whose names no later cell reads."""
    checks = "assert " in cell.source or "claim(" in cell.source
    if not checks or "print(" in cell.source:
        return False
    later = set().union(*(reads(s) for s in later_sources)) if later_sources else set()
    return not (binds(cell.source) & later)


def slide_types(nb):
    """The slide type of every cell of `nb`, by the rules of this module."""
    code_sources = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    types, height, previous = [], 0.0, None
    for i, cell in enumerate(nb.cells):
        source = cell.source
        if cell.cell_type == "markdown":
            if i == 0 or source.lstrip().startswith(("# ", "## ")):
                kind, height = "slide", markdown_lines(source)
            else:
                size = markdown_lines(source)
                kind, height = (
                    ("subslide", size) if height + size > SCREEN_LINES else ("-", height + size)
                )
        elif cell.cell_type == "code":
            later = [s for j, s in code_sources if j > i]
            if (
                "aekeras.notebook.setup(" in source
                or 'info["full_run"]' in source
                or "aekeras.notebook.elapsed(" in source
                or is_check(cell, later)
            ):
                types.append("skip")
                continue
            size = code_lines(source)
            if height + size > SCREEN_LINES:
                kind, height = "subslide", size
            else:
                kind, height = ("fragment" if previous == "markdown" else "-"), height + size
        else:
            types.append("skip")
            continue
        types.append(kind)
        previous = cell.cell_type
    return types


# Notebook-level jupyterlab-rise settings: a slide that still overflows scrolls
# instead of being cut off; slides numbered for questions.
RISE = {"scroll": True, "slideNumber": "c/t"}


def apply(nb):
    """Sets the slide metadata of every cell (and RISE's settings); returns the number of changes."""
    changed = 0
    if nb.metadata.get("rise") != RISE:
        nb.metadata["rise"] = nbformat.NotebookNode(RISE)
        changed += 1
    for cell, kind in zip(nb.cells, slide_types(nb), strict=True):
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            cell.metadata.setdefault("slideshow", nbformat.NotebookNode())["slide_type"] = kind
            changed += 1
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, default=LECTURES, help="default: every lecture"
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook differs"
    )
    args = parser.parse_args(argv)
    differ = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        changed = apply(nb)
        counts = {
            k: sum(c.metadata["slideshow"]["slide_type"] == k for c in nb.cells)
            for k in ("slide", "subslide")
        }
        print(
            f"{path.name}: {counts['slide']} slides, {counts['subslide']} sub-slides, {changed} cells changed"
        )
        if changed and args.check:
            differ.append(path.name)
        elif changed:
            nbformat.write(nb, path)
    if differ:
        print(
            f"Slide metadata out of date (run python -m aekeras_tools.slides on them): {', '.join(differ)}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
