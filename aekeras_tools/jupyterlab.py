"""Checks the interactive path of the README in a real (headless) browser.

Usage: python -m aekeras_tools.jupyterlab [--screenshot lab.png] [course/01_autoencoders.ipynb]

Run with the project environment's Python (`.venv/bin/python`). It starts
JupyterLab from that environment on a free local port, opens the lecture in
headless Chromium, runs its set-up cell (`aekeras.notebook.setup`) from the
notebook's toolbar command, and checks that the cell ran in the environment's
own kernel and displayed its set-up record (`aekeras.notebook.SETUP_MIMETYPE`)
with the backend, device and versions. It also checks that
jupyterlab-rise is loaded and that the lecture opens as a live slideshow
(RISE's preview). The notebook is copied to a temporary folder first, so
JupyterLab's autosave never writes outputs into course/.
Exits 0 when everything holds, 1 with the reasons otherwise.
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from aekeras.notebook import SETUP_MIMETYPE
from aekeras_tools import browser
from aekeras_tools.paths import LECTURES

SETUP_CALL = "aekeras.notebook.setup("

# Selects the set-up cell, runs it like Shift+Enter would, returns its outputs.
RUN_SETUP_CELL = """
(async () => {
  const panel = [...jupyterapp.shell.widgets("main")].find(w => w.content && w.sessionContext);
  jupyterapp.shell.activateById(panel.id);  // the notebook commands act on the active notebook
  const cells = panel.content.widgets;
  const index = cells.findIndex(c => c.model.type === "code" && c.model.sharedModel.getSource().includes(%s));
  if (index < 0) return {error: "no set-up cell"};
  panel.content.activeCellIndex = index;
  const ran = await jupyterapp.commands.execute("notebook:run-cell");
  const cell = cells[index];
  return {index, ran, count: cell.model.executionCount, outputs: cell.model.outputs.toJSON(),
          kernel: panel.sessionContext.session.kernel.name};
})()
"""

NOTEBOOK_READY = """
(() => {
  // A headless window has no focus, so look the notebook up instead of taking the current widget.
  const panel = window.jupyterapp && [...jupyterapp.shell.widgets("main")].find(w => w.content && w.sessionContext);
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return Boolean(panel && panel.content && panel.content.widgets && panel.content.widgets.length
    && kernel && kernel.status === "idle");
})()
"""

# Opens RISE's preview of the notebook and reports the deck in its frame.
RISE_PREVIEW = """
(async () => {
  await jupyterapp.commands.execute("RISE:preview");
  return true;
})()
"""
RISE_DECK = """
(() => {
  const frame = [...document.querySelectorAll("iframe")].find(f => f.src.includes("rise"));
  const doc = frame && frame.contentDocument;
  const reveal = doc && doc.querySelector(".reveal .slides");
  return reveal ? {src: frame.src, sections: doc.querySelectorAll(".reveal .slides section").length} : null;
})()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early. Received: exit code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer within {timeout} s. Received: url={url}")


def check(notebook, screenshot=None, timeout=180):
    """Runs the check; returns a list of problems (empty when the path works)."""
    problems = []
    port, token = free_port(), secrets.token_hex(16)
    with (
        tempfile.TemporaryDirectory(prefix="aekeras-lab-") as root,
        open(Path(root) / "jupyterlab.log", "w") as log,
    ):
        shutil.copy2(notebook, Path(root) / notebook.name)
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI machines run as root
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_server(f"{base}/api/status?token={token}", server)
            specs = wait_for_server(f"{base}/api/kernelspecs?token={token}", server)
            argv = specs["kernelspecs"][specs["default"]]["spec"]["argv"]
            if Path(argv[0]).resolve() != Path(sys.executable).resolve() and argv[0] not in (
                "python",
                "python3",
            ):
                problems.append(
                    f"the default kernel is not this environment's Python. Received: argv={argv}"
                )
            with browser.Chromium(window=(1400, 1000)) as chromium:
                page = chromium.open(
                    f"{base}/lab/tree/{notebook.name}?token={token}", timeout=timeout
                )
                page.wait_for(NOTEBOOK_READY, timeout=timeout)
                result = page.evaluate(RUN_SETUP_CELL % json.dumps(SETUP_CALL), timeout=timeout)
                outputs = result.get("outputs", [])
                text = "".join(
                    "".join(o.get("text", ""))
                    if o.get("output_type") == "stream"
                    else "".join(o.get("data", {}).get("text/plain", "")) or json.dumps(o)
                    for o in outputs
                )
                print(f"set-up cell {result.get('index')} ran in kernel {result.get('kernel')!r}:")
                print("  " + "\n  ".join(text.strip().splitlines()))
                if not result.get("ran") or not result.get("count"):
                    problems.append(f"the set-up cell did not run. Received: {result}")
                if any(o.get("output_type") == "error" for o in outputs):
                    problems.append(f"the set-up cell failed. Received: {text[-500:]}")
                records = [
                    o["data"][SETUP_MIMETYPE]
                    for o in outputs
                    if SETUP_MIMETYPE in o.get("data", {})
                ]
                if len(records) != 1 or not all(
                    records[0].get(key) for key in ("backend", "device", "versions")
                ):
                    problems.append(
                        f"the set-up cell showed no record of its backend and device "
                        f"({SETUP_MIMETYPE}). Received: {records or text[-500:]}"
                    )
                if screenshot:
                    page.screenshot(screenshot)
                if not page.evaluate("jupyterapp.commands.hasCommand('RISE:preview')"):
                    problems.append("jupyterlab-rise is not loaded: no RISE:preview command")
                else:
                    page.evaluate(RISE_PREVIEW)
                    deck = page.wait_for(RISE_DECK, timeout=60)
                    print(f"RISE preview: {deck['sections']} slides")
                    if deck["sections"] < 2:
                        problems.append(
                            f"the lecture shows as a single slide: no slide metadata? Received: {deck}"
                        )
                    if screenshot:
                        time.sleep(2)
                        page.screenshot(str(Path(screenshot).with_suffix(".rise.png")))
                page.close()
        except (TimeoutError, RuntimeError) as exc:
            problems.append(str(exc))
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if problems:
                print(
                    "JupyterLab's log:\n" + (Path(root) / "jupyterlab.log").read_text()[-3000:],
                    file=sys.stderr,
                )
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebook", nargs="?", type=Path, default=LECTURES[0])
    parser.add_argument("--screenshot", help="save a PNG of JupyterLab after the set-up cell ran")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"no such notebook. Received: notebook={args.notebook}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    problems = check(args.notebook.resolve(), args.screenshot)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("JupyterLab: Lecture opened, set-up cell ran in the project's kernel, RISE loaded.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
