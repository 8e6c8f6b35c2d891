"""Execute the lecture notebooks and render the course: pages, slide decks and an index.

Usage: python -m aekeras_tools.site [--output build/course] [--no-execute] course/01_*.ipynb ...
(`python3 tasks.py lectures` runs it in the project's environment, `python3 tasks.py site`
with `--no-execute`.)

The output folder works offline and can be zipped and opened anywhere:

    index.html                  front page: goals, run time, backend, links, assignments
    01_autoencoders.html        each lecture as a page, linked to the previous and next one
    01_autoencoders.slides.html each lecture as a reveal.js deck (the notebook's slide metadata)
    notebooks/01_*.ipynb        the notebooks as executed for these pages
    mathjax/, reveal.js/        MathJax 2.7 (from jupyter-server-mathjax) and reveal.js
                                (from sphinx-revealjs), copied from the environment

`--no-execute` renders the notebooks as they are (with the outputs they
hold), e.g. to check the site's layout without running the lectures.

What the index says about a lecture comes from structured data only: its
goals and planned run time from the notebook's metadata
(`metadata["aekeras"] = {"goals": [...], "run_time": "..."}`), its backend,
device and versions from the record `aekeras.notebook.setup` displays (MIME
type `aekeras.notebook.SETUP_MIMETYPE`), and how long it ran from the cell
execution times the notebook records.
"""

import argparse
import datetime
import importlib.util
import shutil
import sys
import time
from pathlib import Path

import jinja2
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbconvert import SlidesExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from aekeras.course import colab_url
from aekeras.notebook import SETUP_MIMETYPE
from aekeras_tools import slides
from aekeras_tools.paths import ASSIGNMENTS
from aekeras_tools.paths import BUILD
from aekeras_tools.paths import ROOT
from aekeras_tools.paths import SITE_TEMPLATES as TEMPLATES
from aekeras_tools.paths import STYLESHEET

SHARED = TEMPLATES / "shared"  # macros of both templates, and the index page
# The notebook-level metadata key of a lecture's facts (goals, planned run time).
METADATA_KEY = "aekeras"

MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
REVEAL_PREFIX = "reveal.js"
# Parts of the packages' folders the pages never load (MathJax's translations,
# its SVG fonts and accessibility explorer; reveal.js's sources and ES modules).
MATHJAX_SKIP = ("localization", "extensions/a11y", "jax/output/SVG")
REVEAL_KEEP = (
    "LICENSE",
    "dist/reveal.js",
    "dist/reveal.css",
    "dist/reset.css",
    "dist/theme/white.css",
    "dist/theme/fonts/source-sans-pro/LICENSE",
    "dist/theme/fonts/source-sans-pro/source-sans-pro.css",
    "dist/theme/fonts/source-sans-pro/*.woff",
    "plugin/notes/notes.js",
)


def package_folder(module, what):
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"The course build copies {what} from the package `{module}`, which is not installed. "
            "Install the course extra: pip install -e '.[course]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def copy_assets(output):
    """Copies MathJax, reveal.js and the stylesheet into `output`; returns the bytes copied."""
    mathjax = package_folder("jupyter_server_mathjax", "MathJax") / "static"
    reveal = package_folder("sphinx_revealjs", "reveal.js") / "_static" / "revealjs"
    target = output / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        mathjax,
        target,
        ignore=lambda folder, names: [
            n for n in names if (Path(folder) / n).relative_to(mathjax).as_posix() in MATHJAX_SKIP
        ],
    )
    target = output / REVEAL_PREFIX
    if target.exists():
        shutil.rmtree(target)
    for pattern in REVEAL_KEEP:
        matches = sorted(reveal.glob(pattern))
        if not matches:
            raise FileNotFoundError(
                f"reveal.js file missing from sphinx-revealjs. Received: pattern={pattern!r}"
            )
        for source in matches:
            dest = target / source.relative_to(reveal)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    shutil.copy2(STYLESHEET, output / STYLESHEET.name)
    return folder_size(output / "mathjax") + folder_size(output / REVEAL_PREFIX)


def folder_size(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def title(nb, fallback):
    """The first level-1 Markdown heading of the notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def lecture_facts(nb):
    """The lecture's own facts from its metadata.

    `{"goals": [...], "run_time": "...", "core": [...], "optional": [...]}`:
    the learning goals (Markdown), the run-time estimate, and the titles of
    the sections taught in class (the core, about 60 min) and of those
    marked "(optional)", as in their "## " headings without the mark. Every
    key is optional (an empty list or "" when absent).

    Raises:
        ValueError: If `metadata["aekeras"]` is not a dict, `goals`, `core`
            or `optional` not a list of non-empty strings, `run_time` not a
            string, or a section both core and optional.
    """
    facts = nb.metadata.get(METADATA_KEY, {})
    if not isinstance(facts, dict):
        raise ValueError(
            f'A lecture\'s metadata["{METADATA_KEY}"] must be a dict with "goals" and "run_time". '
            f"Received: {facts!r}"
        )
    found = {key: facts.get(key, []) for key in ("goals", "core", "optional")}
    what = {
        "goals": "Markdown, one per goal",
        "core": "the titles of the sections taught in class",
        "optional": 'the titles of the sections marked "(optional)"',
    }
    for key, value in found.items():
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(
                f'metadata["{METADATA_KEY}"]["{key}"] must be a list of non-empty strings '
                f"({what[key]}). Received: {key}={value!r}"
            )
    both = sorted(set(found["core"]) & set(found["optional"]))
    if both:
        raise ValueError(
            f'A section is either core or optional, not both: remove it from metadata["{METADATA_KEY}"]'
            f'["core"] or ["optional"]. Received: core={found["core"]!r}, optional={found["optional"]!r}'
        )
    run_time = facts.get("run_time", "")
    if not isinstance(run_time, str):
        raise ValueError(
            f'metadata["{METADATA_KEY}"]["run_time"] must be a string, e.g. "about 2-3 min on a '
            f'2-core laptop CPU (default settings)". Received: run_time={run_time!r}'
        )
    return {**found, "run_time": run_time}


def environment(nb):
    """The record `aekeras.notebook.setup` displayed in the executed notebook, or None.

    A dict with `backend`, `device`, `devices`, `versions` (e.g.
    `versions["Keras"]`), `seed` and `full_run`.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = output.get("data", {}).get(SETUP_MIMETYPE)
            if record is not None:
                return record
    return None


def recorded_seconds(nb):
    """Seconds between the first and last cell execution recorded in the notebook, or None."""
    stamps = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        for key in ("iopub.execute_input", "shell.execute_reply"):
            if key in timing:
                stamps.append(datetime.datetime.fromisoformat(timing[key].replace("Z", "+00:00")))
    return (max(stamps) - min(stamps)).total_seconds() if len(stamps) >= 2 else None


def execute(path, timeout=900, allow_errors=False):
    """Executes one notebook in its folder, printing progress; returns (nb, seconds, error).

    With `allow_errors`, a cell that raises does not stop the run (the claims
    audit measures every claim of a lecture even when one fails).
    """
    nb = nbformat.read(path, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    done = 0

    def on_cell_executed(cell, **kwargs):
        nonlocal done
        if cell.cell_type == "code":
            done += 1
            elapsed = time.perf_counter() - start
            print(f"\r  cell {done}/{code_cells}  {elapsed:5.0f} s", end="", flush=True)

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=on_cell_executed,
        allow_errors=allow_errors,
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = exc
    print()
    return nb, time.perf_counter() - start, error


class Lecture:
    """One notebook of the course and what the index says about it."""

    def __init__(self, path, nb, seconds=None, error=None, executed=False):
        self.path, self.nb, self.error, self.executed = path, nb, error, executed
        self.stem = path.stem
        self.title = title(nb, path.stem)
        self.page = f"{self.stem}.html"
        self.slides = f"{self.stem}.slides.html"
        self.notebook = f"notebooks/{path.name}"
        # "Open in Colab": the notebook's public copy, for a lecture of this repository.
        inside = path.resolve().is_relative_to(ROOT)
        self.colab = colab_url(path.resolve().relative_to(ROOT)) if inside else None
        facts = lecture_facts(nb)
        self.goals, self.planned = facts["goals"], facts["run_time"]
        self.core, self.optional = facts["core"], facts["optional"]
        self.environment = environment(nb)
        self.seconds = seconds if seconds is not None else recorded_seconds(nb)

    def facts(self):
        """One line: how long it ran and on what."""
        parts = []
        if self.seconds is not None:
            parts.append(f"ran in {self.seconds / 60:.1f} min")
        elif self.planned:
            parts.append(f"not executed in this build; run time {self.planned}")
        if self.environment:
            record = self.environment
            parts.append(
                f"on {record['backend']} (Keras {record['versions']['Keras']}), {record['device']}"
            )
        return "; ".join(parts)


def render(lectures, output):
    """Writes each lecture's page, slide deck and notebook, with links between them."""
    pages = HTMLExporter(
        template_name="lecture",
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(SHARED)],
        mathjax_url=MATHJAX_URL,
    )
    decks = SlidesExporter(
        template_name="lecture_slides",
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(SHARED)],
        mathjax_url=MATHJAX_URL,
        reveal_url_prefix=REVEAL_PREFIX,
        reveal_theme="white",
    )
    (output / "notebooks").mkdir(parents=True, exist_ok=True)
    for i, lecture in enumerate(lectures):
        course = {
            "prev": vars_of(lectures[i - 1]) if i > 0 else None,
            "next": vars_of(lectures[i + 1]) if i + 1 < len(lectures) else None,
            "slides": lecture.slides,
            "notebook": lecture.notebook,
            "colab": lecture.colab,
        }
        resources = {"metadata": {"name": lecture.title}, "course": course}
        body, _ = pages.from_notebook_node(lecture.nb, resources=resources)
        (output / lecture.page).write_text(body, encoding="utf-8")
        body, _ = decks.from_notebook_node(
            lecture.nb, resources={"metadata": {"name": lecture.title}, "course": course}
        )
        (output / lecture.slides).write_text(body, encoding="utf-8")
        nbformat.write(lecture.nb, output / lecture.notebook)


def vars_of(lecture):
    return {"page": lecture.page, "title": lecture.title}


def assignments():
    """Name, title, summary (HTML) and points of each nbgrader assignment under course/assignments/source/."""
    found = []
    for notebook in sorted(ASSIGNMENTS.glob("*/*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        heading = next(
            (c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")),
            "",
        )
        paragraphs = heading.split("\n\n")
        summary = paragraphs[1] if len(paragraphs) > 1 else ""
        points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells)
        found.append(
            {
                "name": notebook.parent.name,
                "title": title(nb, notebook.stem),
                "summary": markdown2html_mistune(summary),
                "points": points,
            }
        )
    return found


def index_page(lectures):
    """The course's front page, from templates/shared/course_index.html.j2."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(SHARED), autoescape=False)
    for lecture in lectures:
        goals = "\n".join(f"- {goal}" for goal in lecture.goals)
        lecture.goals_html = markdown2html_mistune(goals) if goals else ""
    return env.get_template("course_index.html.j2").render(
        lectures=lectures,
        assignments=assignments(),
        mathjax_url=MATHJAX_URL,
        built=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, default=BUILD)
    parser.add_argument(
        "--no-execute",
        action="store_true",
        help="render the notebooks as they are, without running them",
    )
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook. Received: notebooks={missing}")
    args.output.mkdir(parents=True, exist_ok=True)
    lectures, failed = [], []
    for i, path in enumerate(args.notebooks, 1):
        if args.no_execute:
            nb = nbformat.read(path, as_version=4)
            slides.apply(nb)  # the slide types by their rules, here only (lint --fix commits them)
            lectures.append(Lecture(path, nb))
            continue
        print(f"[{i}/{len(args.notebooks)}] executing {path.name}", flush=True)
        nb, seconds, error = execute(path.resolve())
        slides.apply(nb)
        print(f"  {'ok' if error is None else 'FAILED'} in {seconds:.0f} s", flush=True)
        if error is not None:
            failed.append(path.name)
            print(str(error)[-2000:], file=sys.stderr)
        lectures.append(Lecture(path, nb, seconds, error, executed=True))
    assets = copy_assets(args.output)
    render(lectures, args.output)
    index = args.output / "index.html"
    index.write_text(index_page(lectures), encoding="utf-8")
    total = sum(lecture.seconds or 0 for lecture in lectures if lecture.executed)
    size = folder_size(args.output)
    if not args.no_execute:
        print(f"\nAll lectures executed in {total / 60:.1f} min.")
    print(
        f"Wrote {len(lectures)} pages and slide decks, {size / 2**20:.1f} MiB in all "
        f"({assets / 2**20:.1f} MiB of MathJax and reveal.js). Open {index.resolve()} in a browser."
    )
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
