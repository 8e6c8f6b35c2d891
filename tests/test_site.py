"""The rendered course (aekeras_tools.site) as a reader sees it in headless Chromium.

The real lectures are rendered without running them (CI runs them under
nbval); a small notebook with a figure, math and the lectures' set-up cell is
executed by the build to check what only an executed page shows.
"""

import html.parser
import os
import re

import keras
import nbformat
import pytest

from aekeras.course import colab_url
from aekeras_tools import browser
from aekeras_tools import site
from aekeras_tools import slides
from aekeras_tools.paths import ASSIGNMENTS
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT

pytestmark = pytest.mark.tensorflow_only  # renders and runs notebooks; one backend is enough


def fixture_notebook(path):
    """A short lecture: goals, the set-up cell, display math and a figure; slide metadata by the rules."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["aekeras"] = {
        "goals": ["typeset $\\Omega(h) = \\lambda \\sum_i |h_i|$;", "show a figure."],
        "run_time": "about 10 s on a 2-core laptop CPU (default settings).",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Lecture 9: A fixture\n\nWhy it matters.\n\n**Learning goals**\n\n"
            "- typeset $\\Omega(h) = \\lambda \\sum_i |h_i|$;\n- show a figure.\n\n"
            "Run time: about 10 s on a 2-core laptop CPU (default settings)."
        ),
        nbformat.v4.new_code_cell(
            "import aekeras\nfrom matplotlib.figure import Figure\n\ninfo = aekeras.notebook.setup(seed=0)"
        ),
        nbformat.v4.new_markdown_cell("## 1. The loss\n\n$$z = f(x) = E_\\eta(x)$$"),
        nbformat.v4.new_code_cell(
            "fig = Figure(figsize=(3, 2))\nfig.subplots().plot([0, 1], [1, 0])\nfig"
        ),
        nbformat.v4.new_code_cell("assert info['seed'] == 0"),
    ]
    slides.apply(nb)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def lecture_site(tmp_path_factory):
    output = tmp_path_factory.mktemp("site")
    assert site.main(["--no-execute", "--output", str(output), *map(str, LECTURES)]) == 0
    return output


@pytest.fixture(scope="module")
def executed_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixture")
    notebook = fixture_notebook(folder / "09_fixture.ipynb")
    assert site.main(["--output", str(folder / "site"), str(notebook)]) == 0
    return folder / "site"


@pytest.fixture(scope="module")
def chromium():
    if browser.find_chromium() is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with browser.Chromium() as instance:
        yield instance


class _Links(html.parser.HTMLParser):
    """Every URL a page refers to, by tag: a/href, script/src, link/href, img/src."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.found.append((tag, attrs[name]))


def links(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def test_index_is_the_course_front_page(lecture_site):
    index = (lecture_site / "index.html").read_text(encoding="utf-8")
    hrefs = [href for tag, href in links(lecture_site / "index.html") if tag == "a"]
    for path in LECTURES:
        nb = nbformat.read(path, as_version=4)
        assert site.title(nb, None) in index
        for target in (f"{path.stem}.html", f"{path.stem}.slides.html", f"notebooks/{path.name}"):
            assert target in hrefs and (lecture_site / target).is_file(), target
        facts = site.lecture_facts(nb)
        assert len(facts["goals"]) >= 3, path.name
        assert facts["run_time"] in index  # not executed here: the notebook's own estimate
        section = index.split(f'id="{path.stem}"')[1].split("</section>")[0]
        assert section.count("<li>") == len(facts["goals"]), path.name
        core = section.split("Core (about 60 min):")[1].split("</p>")[0]
        optional = section.split("Optional:")[1].split("</p>")[0]
        assert all(html.escape(title) in core for title in facts["core"]), path.name
        assert all(html.escape(title) in optional for title in facts["optional"]), path.name
        assert not any(html.escape(title) in core for title in facts["optional"]), path.name
    for assignment in sorted(ASSIGNMENTS.iterdir()):
        assert f"<code>{assignment.name}</code>" in index


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_metadata_holds_the_goals_and_run_time_its_introduction_states(path):
    # The index reads the metadata; the reader of the notebook reads the introduction.
    nb = nbformat.read(path, as_version=4)
    facts = site.lecture_facts(nb)
    intro = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            break
        intro.append(" ".join(cell.source.split()))
    intro = " ".join(intro)
    assert facts["goals"] and facts["run_time"], path.name
    for goal in facts["goals"]:
        assert f"- {' '.join(goal.split())}" in intro, (path.name, goal)
    assert f"Run time: {facts['run_time']}" in intro, path.name


def sections(nb):
    """Each "## " heading of the notebook, in order, with the Markdown cell it starts."""
    return [
        (cell.source.splitlines()[0].removeprefix("## "), cell)
        for cell in nb.cells
        if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_metadata_splits_its_numbered_sections_into_core_and_optional(path):
    # The front page's "Core (about 60 min)" and "Optional" lists are the lecture's own headings,
    # and a reader of the notebook sees the same split in them.
    nb = nbformat.read(path, as_version=4)
    facts = site.lecture_facts(nb)
    headings = [heading for heading, _ in sections(nb)]
    numbered = [heading for heading in headings if heading[0].isdigit()]
    assert facts["core"] and facts["optional"], path.name
    for title in facts["core"]:
        assert title in headings, (path.name, title)  # and not marked "(optional)"
    for title in facts["optional"]:
        assert f"{title} (optional)" in headings, (path.name, title)
    marked = [heading.removesuffix(" (optional)") for heading in numbered]
    assert sorted(marked) == sorted(facts["core"] + facts["optional"]), path.name
    assert sum("(optional)" in heading for heading in headings) == len(facts["optional"])


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_core_has_two_to_four_predict_then_run_checkpoints_each_before_a_code_cell(path):
    nb = nbformat.read(path, as_version=4)
    core = set(site.lecture_facts(nb)["core"])
    section, found = None, 0
    for cell, after in zip(nb.cells, nb.cells[1:]):
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            section = cell.source.splitlines()[0].removeprefix("## ")
        if cell.cell_type == "markdown" and cell.source.startswith("**Predict, then run.**"):
            assert after.cell_type == "code", (path.name, cell.source)  # the answer: the next cell
            assert "?" in cell.source, (path.name, cell.source)
            found += section in core
    assert 2 <= found <= 4, (path.name, found)


@pytest.mark.parametrize(
    "metadata, message",
    [
        (["a goal"], r"must be a dict with \"goals\" and \"run_time\". Received: \['a goal'\]"),
        ({"goals": "one goal"}, r"list of non-empty strings .* Received: goals='one goal'"),
        ({"goals": ["ok", ""]}, r"Received: goals=\['ok', ''\]"),
        ({"run_time": 120}, r"must be a string, e.g. .* Received: run_time=120"),
        ({"core": "1. The loss"}, r'\["core"\] must be a list .* Received: core=.1. The loss.'),
        ({"optional": ["2. More", 2]}, r"Received: optional=\['2. More', 2\]"),
        (
            {"core": ["1. The loss"], "optional": ["1. The loss"]},
            r"either core or optional, not both.* Received: core=\['1. The loss'\]",
        ),
    ],
)
def test_lecture_facts_reject_malformed_metadata(metadata, message):
    nb = nbformat.v4.new_notebook(metadata={"aekeras": metadata})
    with pytest.raises(ValueError, match=message):
        site.lecture_facts(nb)


def test_lecture_pages_link_to_the_index_and_their_neighbours(lecture_site):
    pages = [f"{path.stem}.html" for path in LECTURES]
    for i, page in enumerate(pages):
        text = (lecture_site / page).read_text(encoding="utf-8")
        hrefs = {href for tag, href in links(lecture_site / page) if tag == "a"}
        assert "index.html" in hrefs and f"{LECTURES[i].stem}.slides.html" in hrefs
        # one navigation bar above the lecture and one below it
        assert re.findall(r'<a href="([^"]+)" rel="prev"', text) == (
            [pages[i - 1]] * 2 if i > 0 else []
        )
        assert re.findall(r'<a href="([^"]+)" rel="next"', text) == (
            [pages[i + 1]] * 2 if i + 1 < len(pages) else []
        )
        for href in hrefs:
            if not re.match(r"^(https?:|#|mailto:)", href):
                assert (lecture_site / href.split("#")[0]).exists(), (page, href)


def test_every_page_opens_its_lecture_in_colab(lecture_site):
    index = (lecture_site / "index.html").read_text(encoding="utf-8")
    for path in LECTURES:
        url = colab_url(path.relative_to(ROOT))
        assert url in index, path.name
        page = (lecture_site / f"{path.stem}.html").read_text(encoding="utf-8")
        assert page.count(f'<a class="colab" href="{url}">Open in Colab</a>') == 2, path.name
        deck = (lecture_site / f"{path.stem}.slides.html").read_text(encoding="utf-8")
        assert f'href="{url}"' in deck, path.name


def test_pages_load_nothing_from_another_host(lecture_site):
    pages = sorted(lecture_site.glob("*.html"))
    assert len(pages) == 1 + 2 * len(LECTURES)
    for page in pages:
        for tag, url in links(page):
            if tag in ("script", "link", "img"):
                assert not re.match(r"^(https?:)?//", url), (page.name, url)
                assert (lecture_site / url.split("?")[0]).is_file(), (page.name, url)


@pytest.mark.parametrize(
    "name", ["index", *[p.stem for p in LECTURES], *[f"{p.stem}.slides" for p in LECTURES]]
)
def test_page_renders_offline_with_typeset_math(lecture_site, chromium, name):
    page = chromium.open((lecture_site / f"{name}.html").as_uri())
    report = page.report()
    page.close()
    assert report["errors"] == [] and report["failed"] == []
    assert browser.foreign_requests(report["requests"]) == []
    assert report["mathjax"] is True and report["math"] > 0
    assert report["rawTex"] == [] and report["mathErrors"] == 0


def test_executed_lecture_shows_its_figure_run_time_and_backend(executed_site, chromium):
    page = chromium.open((executed_site / "09_fixture.html").as_uri())
    report = page.report()
    page.close()
    assert report["errors"] == [] and browser.foreign_requests(report["requests"]) == []
    assert len(report["images"]) == 1 and report["images"][0]["width"] > 0
    assert report["math"] >= 2 and report["rawTex"] == []
    index = (executed_site / "index.html").read_text(encoding="utf-8")
    facts = re.search(r'<p class="facts">(.*?)</p>', index).group(1)
    assert re.match(r"ran in \d+\.\d min; on \w+ \(Keras ", facts), facts
    assert f"on {keras.backend.backend()} (Keras {keras.__version__})" in facts
    executed = nbformat.read(executed_site / "notebooks" / "09_fixture.ipynb", as_version=4)
    assert any(o.output_type == "execute_result" for o in executed.cells[3].outputs)


def test_slide_deck_follows_the_slide_metadata(executed_site, chromium):
    page = chromium.open((executed_site / "09_fixture.slides.html").as_uri())
    deck = browser.deck_slides(page)
    text = page.evaluate("document.querySelector('.reveal .slides').innerText")
    fragments = page.evaluate("document.querySelectorAll('.reveal .fragment').length")
    report = page.report()
    page.close()
    assert [(s["h"], s["v"]) for s in deck] == [(0, 0), (1, 0)]  # title, then "## 1. The loss"
    assert "notebook.setup" not in text and "assert info" not in text  # skipped cells
    assert fragments == 1  # the figure's code cell follows its explanation
    assert all(s["height"] <= s["screen"] for s in deck), deck
    assert report["errors"] == [] and browser.foreign_requests(report["requests"]) == []
    assert report["math"] >= 1 and len(report["images"]) == 1 and report["images"][0]["width"] > 0


def test_build_refuses_a_missing_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        site.main(["--output", str(tmp_path), str(tmp_path / "missing.ipynb")])
    assert f"Received: notebooks=['{tmp_path / 'missing.ipynb'}']" in capsys.readouterr().err


def test_rendered_folder_is_small_enough_to_share(lecture_site):
    size = site.folder_size(lecture_site)
    assert size < 10 * 2**20, f"{size / 2**20:.1f} MiB"
    assert not (lecture_site / "mathjax" / "localization").exists()


def test_folder_check_passes_a_built_course_and_flags_what_loads_from_elsewhere(
    executed_site, tmp_path
):
    problems, notes = browser.check_folder(executed_site)
    assert problems == [] and notes == []
    bad = tmp_path / "bad"
    bad.mkdir()
    # A script from another host (here a closed local port, so nothing leaves the machine) and a missing image.
    (bad / "page.html").write_text(
        '<!doctype html><html><body><script src="http://127.0.0.1:9/x.js"></script>'
        '<img src="missing.png"></body></html>'
    )
    problems, _ = browser.check_folder(bad)
    assert any("loads from another host: http://127.0.0.1:9/x.js" in line for line in problems), (
        problems
    )
    assert any("image not shown" in line for line in problems), problems
