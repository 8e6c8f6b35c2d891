"""The slide metadata rules of aekeras_tools.slides, and that the lectures follow them."""

import nbformat

from aekeras_tools import slides
from aekeras_tools.paths import LECTURES


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        for kind, source in cells
    ]
    return nb


def test_headings_start_slides_and_checks_are_skipped():
    nb = notebook(
        ("md", "# Lecture 9\n\nWhy."),
        ("code", "import aekeras\ninfo = aekeras.notebook.setup(seed=0)\nN = 3"),
        ("md", "## 1. A section\n\nText."),
        ("code", "x = list(range(N))\nprint(x)"),
        ("code", "assert len(x) == N, x"),  # a check: skipped
        ("code", "y = sum(x)\nassert y == 3"),  # binds y, read below: kept
        ("md", "More text about $y$."),
        ("code", "print(y)"),
        ("code", 'print("Run time:", aekeras.notebook.elapsed(info))'),
    )
    assert slides.slide_types(nb) == [
        "slide",
        "skip",
        "slide",
        "fragment",
        "skip",
        "-",
        "-",
        "fragment",
        "skip",
    ]


def test_a_cell_that_would_overflow_the_screen_starts_a_subslide():
    long_text = "\n".join(
        f"Line {i} of a long explanation." for i in range(int(slides.SCREEN_LINES) - 4)
    )
    nb = notebook(
        ("md", "## 1. A section"), ("md", long_text), ("code", "import numpy as np\nnp.zeros(3)")
    )
    assert slides.slide_types(nb) == ["slide", "-", "subslide"]
    figure = notebook(
        ("md", "## 2. Figures"), ("code", "aekeras.plots.reconstruction_grid(x)"), ("code", "fig")
    )
    assert slides.slide_types(figure) == ["slide", "fragment", "subslide"]


def test_apply_changes_only_metadata_and_is_idempotent():
    nb = notebook(("md", "# Title"), ("code", "print(1)"))
    sources = [c.source for c in nb.cells]
    assert slides.apply(nb) == 3  # two cells and the notebook's RISE settings
    assert [c.metadata.slideshow.slide_type for c in nb.cells] == ["slide", "fragment"]
    assert nb.metadata.rise["scroll"] is True
    assert slides.apply(nb) == 0
    assert [c.source for c in nb.cells] == sources


def test_lectures_carry_the_slide_metadata_of_the_rules(capsys):
    # After editing a lecture, run: python -m aekeras_tools.slides (tasks.py lectures/site do)
    assert slides.main(["--check", *map(str, LECTURES)]) == 0, capsys.readouterr().out
