"""Headless Chromium driven over the DevTools protocol: what a page loads, shows and reports.

Usage: python -m aekeras_tools.browser build/course   # checks every page of a rendered course

Used by the site tests and by `aekeras_tools.jupyterlab`. It needs a Chromium
binary (Debian: `apt-get install chromium`; or set `CHROMIUM=/path/to/it`)
and the `websocket-client` package (installed with JupyterLab).

    with Chromium() as browser:
        page = browser.open(Path("build/course/index.html").resolve().as_uri())
        report = page.report()   # errors, requests, images, math
"""

import argparse
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-allow-origins=*",
)

# True once MathJax 2 has finished typesetting (null on a page without MathJax).
MATHJAX_DONE = """
!window.MathJax ? null
  : MathJax.isReady === true && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running
"""

# What the reader sees: images, typeset math and any TeX left untypeset outside code.
PAGE_FACTS = r"""
(() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest("pre, code, script, style, .jp-InputArea, textarea")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const raw = [];
  const tex = /\$[^$\s][^$]*\$|\\\(|\\\[|\\begin\{/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (tex.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 120));
  }
  return {
    title: document.title,
    images: [...document.images].map(i => ({src: i.src.slice(0, 100), width: i.naturalWidth})),
    math: document.querySelectorAll(".MathJax, .MathJax_Display, .MathJax_SVG, mjx-container").length,
    mathErrors: document.querySelectorAll(".MathJax_Error, merror, .noError").length,
    rawTex: raw,
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
  };
})()
"""


def find_chromium():
    """Path of a Chromium binary: $CHROMIUM, else the first of CANDIDATES on PATH, else None."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((shutil.which(name) for name in CANDIDATES if shutil.which(name)), None)


class Chromium:
    """A headless Chromium with a fresh profile, ended on exit."""

    def __init__(self, binary=None, window=(1280, 900)):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise FileNotFoundError(
                "No Chromium found. Install it (Debian: apt-get install chromium) or set CHROMIUM. "
                f"Received: PATH={os.environ.get('PATH', '')}"
            )
        self.window = window
        self.process = None

    def __enter__(self):
        self.profile = tempfile.TemporaryDirectory(prefix="aekeras-chromium-")
        # A session of its own: on exit, its helper processes are ended with it (see __exit__).
        self.process = subprocess.Popen(
            [
                self.binary,
                *FLAGS,
                f"--user-data-dir={self.profile.name}",
                f"--window-size={self.window[0]},{self.window[1]}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Chromium did not start. Received: binary={self.binary}")
            time.sleep(0.1)
        self.port = int(port_file.read_text().splitlines()[0])
        return self

    def __exit__(self, *exc):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            # Helper processes that outlive the browser can still write to the profile while it
            # is removed ("Directory not empty"): end the whole session first.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for _ in range(40):
            try:
                shutil.rmtree(self.profile.name)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.25)
        self.profile.cleanup()

    def open(self, url, timeout=60):
        """Opens `url` in a new tab and waits for its load event; returns a `Page`."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            target = json.load(response)
        page = Page(target["webSocketDebuggerUrl"])
        page.navigate(url, timeout)
        return page


class Page:
    """One tab: sends DevTools commands and records script errors and requests."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)
        self.errors, self.requests, self.failed = [], [], []
        self.loaded = False
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _record(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.failed.append(params.get("errorText", "failed"))
        elif method == "Page.loadEventFired":
            self.loaded = True

    def send(self, method, params=None):
        """Sends one command and returns its result, recording the events that arrive meanwhile."""
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})
            self._record(message)

    def navigate(self, url, timeout=60):
        self.loaded = False
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"The page did not finish loading in {timeout} s. Received: url={url}"
                )
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self._record(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
        self.ws.settimeout(60)

    def evaluate(self, expression, timeout=60):
        """The value of a JavaScript expression (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "awaitPromise": True,
                "returnByValue": True,
                "timeout": timeout * 1000,
            },
        )
        if "exceptionDetails" in result:
            raise RuntimeError(
                f"JavaScript failed: {result['exceptionDetails'].get('text')}. Received: {expression[:200]}"
            )
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60, interval=0.25):
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"Timed out after {timeout} s waiting for: {expression[:200]}")
            time.sleep(interval)

    def report(self):
        """Waits for MathJax, then returns errors, requests, images and math on the page."""
        mathjax = self.wait_for(f"({MATHJAX_DONE}) !== false", timeout=60) and self.evaluate(
            MATHJAX_DONE
        )
        facts = self.evaluate(PAGE_FACTS)
        self.send("Runtime.evaluate", {"expression": "0"})  # collect late events
        return {
            **facts,
            "mathjax": mathjax,
            "errors": list(self.errors),
            "requests": list(self.requests),
            "failed": list(self.failed),
        }

    def screenshot(self, path, full_page=False):
        params = {"format": "png", "captureBeyondViewport": full_page}
        Path(path).write_bytes(
            base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        )

    def close(self):
        self.ws.close()


def foreign_requests(urls):
    """The URLs that leave the machine (anything but file:, data:, blob: and about:)."""
    return [u for u in urls if not u.startswith(("file:", "data:", "blob:", "about:", "chrome"))]


# Height of every slide of a reveal.js deck, in the deck's own pixels (its
# configured height is one screen), with the start of the slide's text.
DECK_SLIDES = """
(() => {
  const slides = [];
  const height = Reveal.getConfig().height;
  Reveal.getHorizontalSlides().forEach((top, h) => {
    const stack = top.querySelectorAll(":scope > section");
    (stack.length ? [...stack] : [top]).forEach((slide, v) => {
      Reveal.slide(h, v);
      const fragments = slide.querySelectorAll(".fragment");
      fragments.forEach(f => f.classList.add("visible"));
      slides.push({h, v, height: slide.scrollHeight, screen: height,
                   text: slide.innerText.trim().slice(0, 60)});
    });
  });
  Reveal.slide(0, 0);
  return slides;
})()
"""


def deck_slides(page):
    """Every slide of the reveal.js deck open in `page`: position, height and screen height."""
    page.wait_for("window.Reveal && Reveal.isReady()", timeout=30)
    return page.evaluate(DECK_SLIDES)


def check_folder(folder):
    """Opens every page of a rendered course; returns (problems, notes) as lists of lines."""
    problems, notes = [], []
    pages = sorted(Path(folder).glob("*.html"))
    if not pages:
        return [f"no HTML pages. Received: folder={folder}"], notes
    with Chromium() as chromium:
        for path in pages:
            page = chromium.open(path.resolve().as_uri())
            report = page.report()
            found = [
                *report["errors"],
                *(
                    f"loads from another host: {url}"
                    for url in foreign_requests(report["requests"])
                ),
                *(
                    f"image not shown: {image['src']}"
                    for image in report["images"]
                    if not image["width"]
                ),
                *(f"TeX left untypeset: {text!r}" for text in report["rawTex"]),
            ]
            if report["mathjax"] is not True or report["mathErrors"]:
                found.append(f"MathJax did not finish cleanly: {report['mathErrors']} errors")
            problems += [f"{path.name}: {line}" for line in found]
            summary = f"{path.name}: {len(report['images'])} figures, {report['math']} formulas"
            if path.name.endswith(".slides.html"):
                deck = deck_slides(page)
                tall = [s for s in deck if s["height"] > s["screen"]]
                summary += f", {len(deck)} slides"
                notes += [
                    f"{path.name}: slide {s['h']}.{s['v']} is {s['height']}px tall (screen {s['screen']}px): "
                    f"{s['text'][:50]!r}"
                    for s in tall
                ]
            print(summary + ("" if found else ", no problems"), flush=True)
            page.close()
    return problems, notes


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="a folder written by aekeras_tools.site")
    args = parser.parse_args(argv)
    problems, notes = check_folder(args.folder)
    for line in notes:
        print(f"note: {line}")
    for line in problems:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
