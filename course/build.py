"""Execute the lecture notebooks and render them as HTML pages with an index.

Usage: python course/build.py [--output build/course] course/01_*.ipynb ...
(`python3 tasks.py lectures` runs it in the project's environment.)
"""

import argparse
import html
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def execute(path, timeout=900):
    """Executes one notebook in its folder, printing progress; returns (nb, seconds, error)."""
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
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = exc
    print()
    return nb, time.perf_counter() - start, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, default=Path("build/course"))
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    rows, failed = [], []
    for i, path in enumerate(args.notebooks, 1):
        print(f"[{i}/{len(args.notebooks)}] executing {path.name}", flush=True)
        nb, seconds, error = execute(path.resolve())
        page = args.output / (path.stem + ".html")
        body, _ = exporter.from_notebook_node(nb)
        page.write_text(body, encoding="utf-8")
        status = "ok" if error is None else "FAILED"
        print(f"  {status} in {seconds:.0f} s -> {page}", flush=True)
        if error is not None:
            failed.append(path.name)
            print(str(error)[-2000:], file=sys.stderr)
        rows.append((page.name, _title(nb, path.stem), seconds, status))
    items = "\n".join(
        f'<li><a href="{html.escape(name)}">{html.escape(title)}</a> '
        f"<small>(executed in {seconds / 60:.1f} min, {status})</small></li>"
        for name, title, seconds, status in rows
    )
    index = args.output / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>aekeras course</title></head>"
        "<body><h1>aekeras: autoencoders in Keras 3</h1>"
        "<p>Lectures, executed top to bottom with the default (CPU-friendly) settings.</p>"
        f"<ol>{items}</ol></body></html>\n",
        encoding="utf-8",
    )
    total = sum(r[2] for r in rows)
    print(f"\nAll lectures executed in {total / 60:.1f} min. Open {index.resolve()} in a browser.")
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
