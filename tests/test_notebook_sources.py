"""The notebooks' text twins (jupytext, MyST Markdown) are in sync, and committed notebooks are clean.

Each lecture course/NN_name.ipynb and each instructor notebook
course/assignments/source/<assignment>/<name>.ipynb is paired with a MyST Markdown twin (see
course/jupytext.toml), so that a change to a lecture reads as a text diff. After editing either
side, run from the repository root:

    jupytext --sync course/*.ipynb course/assignments/source/*/*.ipynb
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_config
from jupytext.paired_paths import paired_paths

from aekeras_tools import twins

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "course" / "assignments" / "source"
LECTURES = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
INSTRUCTOR_NOTEBOOKS = sorted(SOURCE.glob("*/*.ipynb"))
PAIRED = LECTURES + INSTRUCTOR_NOTEBOOKS
TWINS = sorted((ROOT / "course").glob("[0-9][0-9]_*.md")) + sorted(
    (ROOT / "course" / "assignments" / "source_md").glob("*/*.md")
)
SYNC = "jupytext --sync course/*.ipynb course/assignments/source/*/*.ipynb"
# Code cells whose outputs nbval compares with the committed ones: they keep their outputs.
CHECKED_OUTPUT_MARK = "# NBVAL_CHECK_OUTPUT"
# Cell metadata that Jupyter front ends write as a side effect of running or viewing a cell.
VOLATILE_CELL_METADATA = {"execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "trusted"}
# The kernel every Jupyter with ipykernel has (not one of a particular environment).
KERNEL_NAME = "python3"

pytestmark = pytest.mark.tensorflow_only  # backend-independent: checked once, in the TensorFlow run


def relative(path):
    return Path(path).relative_to(ROOT).as_posix()


def twin_of(notebook):
    """The text twin that course/jupytext.toml (or course/assignments/jupytext.toml) pairs with `notebook`."""
    config = load_jupytext_config(str(notebook))
    assert config is not None, f"no jupytext configuration applies to {relative(notebook)}"
    formats = config.default_formats(str(notebook))
    paths = [path for path, _ in paired_paths(str(notebook), "ipynb", formats)]
    assert len(paths) == 2 and paths[1].endswith(".md"), f"{relative(notebook)} pairs with {paths}"
    return Path(paths[1]), config


def committed_notebooks():
    result = subprocess.run(
        ["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / name for name in result.stdout.split("\0") if name]


def cells(notebook):
    return [(cell.cell_type, cell.source, dict(cell.metadata)) for cell in notebook.cells]


def first_line(cell):
    return cell.source.strip().splitlines()[0] if cell.source.strip() else "(empty)"


def test_every_lecture_and_instructor_notebook_has_a_twin_and_every_twin_a_notebook():
    assert len(LECTURES) == 3 and len(INSTRUCTOR_NOTEBOOKS) == 3, (LECTURES, INSTRUCTOR_NOTEBOOKS)
    twins = {twin_of(notebook)[0]: notebook for notebook in PAIRED}
    missing = sorted(relative(twin) for twin in twins if not twin.is_file())
    assert not missing, f"missing text twins {missing}: run `{SYNC}` and commit them"
    orphans = sorted(relative(twin) for twin in TWINS if twin not in twins)
    assert not orphans, (
        f"text twins without a notebook: {orphans}. Delete them, or restore their notebooks "
        "with `jupytext --to ipynb <twin>` and pair them."
    )


@pytest.mark.parametrize("notebook", INSTRUCTOR_NOTEBOOKS, ids=lambda p: p.stem)
def test_instructor_twins_stay_out_of_what_nbgrader_releases(notebook):
    """nbgrader generate_assignment copies every file of source/<assignment>/ into the student release,
    and a twin holds the solutions and hidden tests."""
    twin, _ = twin_of(notebook)
    assert not twin.resolve().is_relative_to(SOURCE), (
        f"{relative(twin)} would be released to students"
    )
    leaked = sorted(relative(p) for p in notebook.parent.iterdir() if p.suffix in {".md", ".py"})
    assert not leaked, f"text files in {relative(notebook.parent)}/ reach the students: {leaked}"


@pytest.mark.parametrize("notebook", PAIRED, ids=lambda p: p.stem)
def test_twin_reads_back_as_the_notebook_cells(notebook):
    """Converting the twin back to a notebook gives the committed cells: sources and metadata (RISE's
    slideshow, nbgrader's grade ids, points and solution/locked flags)."""
    twin, _ = twin_of(notebook)
    committed = nbformat.read(notebook, as_version=4)
    from_twin = jupytext.read(twin)
    kept_metadata = {key for cell in committed.cells for key in cell.metadata}
    expected_metadata = "nbgrader" if notebook in INSTRUCTOR_NOTEBOOKS else "slideshow"
    assert expected_metadata in kept_metadata, (
        f"{relative(notebook)} has no {expected_metadata} metadata"
    )
    theirs, ours = cells(from_twin), cells(committed)
    differing = [
        f"cell {i + 1} ({first_line(cell)!r})"
        for i, (cell, a, b) in enumerate(zip(committed.cells, ours, theirs))
        if a != b
    ]
    if len(theirs) != len(ours):
        differing.append(f"{len(theirs)} cells in the twin, {len(ours)} in the notebook")
    assert not differing, (
        f"{relative(twin)} and {relative(notebook)} differ ({'; '.join(differing[:5])}): "
        f"after editing one of them, run `{SYNC}`"
    )


@pytest.mark.parametrize("notebook", PAIRED, ids=lambda p: p.stem)
def test_twin_is_what_jupytext_writes_so_syncing_is_deterministic(notebook):
    """Syncing rewrites nothing: the twin is byte for byte what jupytext writes from the notebook (no
    version stamp in its header, cells in jupytext's own layout)."""
    twin, config = twin_of(notebook)
    nb = nbformat.read(notebook, as_version=4)
    # JupyterLab's jupytext records the configuration's options in the notebook when it saves one:
    # recorded already, a save in JupyterLab writes the same files as the command line.
    recorded = {"notebook_metadata_filter": config.notebook_metadata_filter}
    assert nb.metadata.get("jupytext") == recorded, (
        f"{relative(notebook)}: the notebook metadata 'jupytext' should be {recorded}. "
        f"Received: {nb.metadata.get('jupytext')}. Run `jupytext --sync --update-metadata "
        f"'{{\"jupytext\": {json.dumps(recorded)}}}' {relative(notebook)}`"
    )
    expected = jupytext.writes(nb, "md:myst", config=config)
    assert "jupytext_version:" not in expected, (
        "course/jupytext.toml must filter out the version stamp"
    )
    assert twin.read_text(encoding="utf-8") == expected, (
        f"{relative(twin)} is not what jupytext writes from {relative(notebook)}: run `{SYNC}`"
    )


@pytest.mark.parametrize("notebook", committed_notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs_or_volatile_metadata(notebook):
    """Only the cells that nbval compares (marked `# NBVAL_CHECK_OUTPUT`) keep outputs; no execution
    counts, timings or view state elsewhere, no widget state, and no kernel or language version of a
    particular machine."""
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    problems = []
    for i, cell in enumerate(nb.cells):
        where = f"cell {i + 1} ({first_line(cell)!r})"
        volatile = sorted(VOLATILE_CELL_METADATA & set(cell.metadata))
        if volatile:
            problems.append(f"{where} has volatile metadata {volatile}: delete it")
        if cell.cell_type == "code" and CHECKED_OUTPUT_MARK not in cell.source.splitlines():
            if cell.outputs or cell.execution_count is not None:
                problems.append(
                    f"{where} has outputs or an execution count (execution_count={cell.execution_count}): "
                    "clear its outputs (JupyterLab: right-click > Clear Cell Output)"
                )
    if "widgets" in nb.metadata:
        problems.append("the notebook metadata holds widget state ('widgets'): delete it")
    kernel = nb.metadata.get("kernelspec", {})
    if kernel.get("name") != KERNEL_NAME:
        problems.append(
            f"kernelspec name should be {KERNEL_NAME!r}. Received: {kernel.get('name')!r}"
        )
    language = nb.metadata.get("language_info", {})
    versioned = sorted({"version", "codemirror_mode"} & set(language))
    if versioned:
        problems.append(
            f"language_info records the versions of one machine ({versioned}): keep only its 'name'"
        )
    assert not problems, f"{relative(notebook)}:\n" + "\n".join(problems)


def test_twins_sync_carries_an_edit_of_the_text_twin_into_the_notebook(tmp_path):
    # What `python3 tasks.py lectures` does first (aekeras_tools.twins), on a copy of Lecture 2.
    lecture = LECTURES[1]
    shutil.copy(ROOT / "course" / "jupytext.toml", tmp_path)
    notebook = Path(shutil.copy(lecture, tmp_path))
    twin = notebook.with_suffix(".md")
    text = lecture.with_suffix(".md").read_text()
    sentence = next(line for line in text.splitlines() if line.startswith("A sparse"))
    twin.write_text(text.replace(sentence, sentence + " (edited)", 1))
    os.utime(notebook, (1, 1))  # the twin is the side that changed last
    assert twins.sync([notebook]) == 0
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells]
    assert any(sentence + " (edited)" in source for source in cells)
    assert twin.read_text() == text.replace(sentence, sentence + " (edited)", 1)
