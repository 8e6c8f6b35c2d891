"""Headless Chromium driven by Playwright: what a page loads, shows and reports.

Usage: python -m aekeras_tools.browser build/course   # checks every page of a rendered course

Used by the site tests and by `aekeras_tools.jupyterlab`. Playwright
(`pip install playwright`, in the test extra) drives the system's Chromium
(Debian: `apt-get install chromium`; or set `CHROMIUM=/path/to/it`): never
run `playwright install`, which downloads a browser of its own.

    with Chromium() as browser:
        page = browser.open(Path("build/course/index.html").resolve().as_uri())
        report = page.report()   # errors, requests, images, math
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Playwright starts Chromium headless; these flags are added to its own. No sandbox: CI
# and containers run as root, where Chromium's sandbox cannot start.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
# Failed requests that are not failures: a load the page itself cancelled.
CANCELLED = "net::ERR_ABORTED"

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


class _Driver:
    """Playwright's driver, shared by the browsers open at one time in this process.

    Playwright's synchronous API runs one driver per thread: a second browser
    opened while one is open (a check inside a test that holds one) reuses it.
    """

    playwright, users = None, 0

    @classmethod
    def acquire(cls):
        if cls.playwright is None:
            try:
                from playwright.sync_api import sync_playwright
            except ImportError as exc:
                raise ImportError(
                    "The browser checks drive Chromium with Playwright, which is not installed. "
                    "Install the test extra: pip install -e '.[test]'"
                ) from exc
            cls.playwright = sync_playwright().start()
        cls.users += 1
        return cls.playwright

    @classmethod
    def release(cls):
        cls.users -= 1
        if cls.users == 0:
            cls.playwright.stop()
            cls.playwright = None


class Chromium:
    """A headless Chromium (the system's, through Playwright) with a fresh profile, ended on exit.

    Args:
        binary: Path of the Chromium executable (default: `find_chromium()`).
        window: (width, height) of the window and viewport, in CSS pixels.

    Raises:
        FileNotFoundError: If no Chromium is found.
        ImportError: If Playwright is not installed.
    """

    def __init__(self, binary=None, window=(1280, 900)):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise FileNotFoundError(
                "No Chromium found. Install it (Debian: apt-get install chromium) or set CHROMIUM. "
                f"Received: PATH={os.environ.get('PATH', '')}"
            )
        self.window = window
        self.playwright = self.browser = self.context = None

    def __enter__(self):
        self.playwright = _Driver.acquire()
        try:
            width, height = self.window
            self.browser = self.playwright.chromium.launch(
                executable_path=self.binary,
                headless=True,
                args=[*FLAGS, f"--window-size={width},{height}"],
            )
            self.context = self.browser.new_context(viewport={"width": width, "height": height})
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.browser is not None:
            self.browser.close()
            self.browser = self.context = None
        if self.playwright is not None:
            self.playwright = None
            _Driver.release()

    def open(self, url, timeout=60):
        """Opens `url` in a new tab and waits for its load event; returns a `Page`."""
        return Page(self.context.new_page(), url, timeout)


class Page:
    """One tab: evaluates JavaScript and records script errors and requests.

    Args:
        page: A Playwright page.
        url: The address to open.
        timeout: Seconds to wait for the page's load event.

    Raises:
        TimeoutError: If the page does not finish loading in `timeout` seconds.
    """

    def __init__(self, page, url, timeout=60):
        from playwright.sync_api import Error
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page, self._error, self._timeout = page, Error, PlaywrightTimeout
        self.errors, self.requests, self.failed = [], [], []
        page.on("pageerror", lambda error: self.errors.append(f"exception: {error}"))
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", self._request_failed)
        try:
            page.goto(url, wait_until="load", timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise TimeoutError(
                f"The page did not finish loading in {timeout} s. Received: url={url}"
            ) from None

    def _console(self, message):
        if message.type in ("error", "assert"):
            where = message.location.get("url", "")
            self.errors.append(f"console.{message.type}: {message.text} {where}".strip())

    def _request_failed(self, request):
        if request.failure != CANCELLED:
            self.failed.append(f"{request.failure}: {request.url}")

    def evaluate(self, expression, timeout=60):
        """The value of a JavaScript expression (promises are awaited, for at most `timeout` s).

        Raises:
            RuntimeError: If the expression throws or its promise does not settle in time.
        """
        guarded = (
            f"Promise.race([Promise.resolve(\n{expression}\n), new Promise((_, reject) => "
            f"setTimeout(() => reject(new Error('no result in {timeout} s')), {timeout * 1000}))])"
        )
        try:
            return self.page.evaluate(guarded)
        except self._error as exc:
            message = str(exc).splitlines()[0]
            raise RuntimeError(
                f"JavaScript failed: {message}. Received: {expression[:200]}"
            ) from None

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
        self.evaluate("0")  # lets the events that arrived meanwhile be recorded
        return {
            **facts,
            "mathjax": mathjax,
            "errors": list(self.errors),
            "requests": list(self.requests),
            "failed": list(self.failed),
        }

    def screenshot(self, path, full_page=False):
        self.page.screenshot(path=str(path), full_page=full_page)

    def close(self):
        self.page.close()


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
