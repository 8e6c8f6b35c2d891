"""The sdist and wheel as a student receives them.

`python -m build` makes both (the build backend, buildsys/aekeras_build.py,
puts the lectures and the nbgrader-released assignments into the package);
the tests check their metadata, that the student material is inside and that
no solution, hidden test, grading helper or author note is; and then, as a
fresh Colab-like runtime would, install from the wheel alone and run Lecture 1
and Assignment 1's release from the folder `aekeras-course get` writes.
"""

import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

import aekeras

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = ROOT / "course" / "assignments"
SOURCES = sorted((ASSIGNMENTS / "source").glob("*/*.ipynb"))
MATERIAL = "aekeras/course_material/"
# nbgrader's region markers: a student file holding any of them holds what nbgrader should have cut.
MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
)
# The notebook runner of the fresh runtime (Colab and JupyterHub come with Jupyter).
RUNNER = ["nbval>=0.11,<0.12", "pytest>=8,<9"]

# Builds once per run and installs a whole environment: one backend's run is enough.
pytestmark = pytest.mark.tensorflow_only


def _run(cmd, timeout=900, **kwargs):
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {result.returncode}:\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel, built the standard way (the wheel from the sdist)."""
    # Built from a copy of the checkout (the files git tracks, and new ones it does not ignore), so
    # that the course material the backend writes into the package never lands in this tree.
    out, source = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("checkout")
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], cwd=source)
    (wheel,) = out.glob("aekeras-*.whl")
    (sdist,) = out.glob("aekeras-*.tar.gz")
    return SimpleNamespace(wheel=wheel, sdist=sdist)


def _wheel_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def _sdist_files(sdist):
    with tarfile.open(sdist) as archive:
        return {
            member.name.split("/", 1)[1]: archive.extractfile(member).read()
            for member in archive.getmembers()
            if member.isfile()
        }


def _metadata(wheel):
    files = _wheel_files(wheel)
    (name,) = [n for n in files if n.endswith(".dist-info/METADATA")]
    return email.parser.BytesParser().parsebytes(files[name]), files


def test_twine_check_passes(dist):
    out = _run([sys.executable, "-m", "twine", "check", "--strict", dist.wheel, dist.sdist])
    assert out.count("PASSED") == 2, out


def test_wheel_metadata_is_complete(dist):
    meta, files = _metadata(dist.wheel)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["Name"] == "aekeras" and meta["Version"] == aekeras.__version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["License-File"] == "LICENSE" and any(n.endswith("licenses/LICENSE") for n in files)
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Intended Audience :: Education" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(urls)
    assert set(meta.get_all("Provides-Extra")) == set(project["optional-dependencies"])
    assert meta["Description-Content-Type"] == "text/markdown"
    (entry_points,) = [n for n in files if n.endswith(".dist-info/entry_points.txt")]
    assert "aekeras-course = aekeras.course:main" in files[entry_points].decode()


def test_wheel_carries_the_lectures_and_released_assignments_without_outputs(dist):
    files = _wheel_files(dist.wheel)
    lectures = {n for n in files if n.startswith(MATERIAL + "lectures/")}
    assert lectures == {f"{MATERIAL}lectures/{p.name}" for p in LECTURES}
    assignments = {n for n in files if n.startswith(MATERIAL + "assignments/")}
    assert assignments == {f"{MATERIAL}assignments/{p.parent.name}/{p.name}" for p in SOURCES}, (
        "one released notebook per instructor source"
    )
    for name in lectures | assignments:
        nb = nbformat.reads(files[name].decode(), as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        if "/assignments/" in name:
            assert "YOUR CODE HERE" in "".join(c.source for c in code), name
    manifest = json.loads(files[MATERIAL + "manifest.json"])
    assert manifest["aekeras"] == aekeras.__version__
    assert manifest["files"] == {
        n.removeprefix(MATERIAL): hashlib.sha256(files[n]).hexdigest()
        for n in lectures | assignments
    }


def _instructor_only_lines():
    """Lines only an instructor has: solution and hidden-test regions, model answers, author notes.

    Lines that students see anyway (in the lectures, or outside those regions) are not secret.
    """
    secret, public = set(), set()
    for path in LECTURES:
        for cell in nbformat.read(path, as_version=4).cells:
            public |= {line.strip() for line in cell.source.splitlines()}
    for path in SOURCES:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            inside = cell.cell_type == "markdown" and meta.get("solution", False)
            for line in cell.source.splitlines():
                text = line.strip()
                if text.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS")):
                    inside = True
                elif text.startswith(("### END SOLUTION", "### END HIDDEN TESTS")):
                    inside = cell.cell_type == "markdown" and meta.get("solution", False)
                elif len(text) >= 25:
                    (secret if inside else public).add(text)
    for path in sorted((ASSIGNMENTS / "notes").glob("*.md")):
        secret |= {
            line.strip() for line in path.read_text().splitlines() if len(line.strip()) >= 40
        }
    for path in sorted((ASSIGNMENTS / "grading").glob("*.py")):
        secret |= {
            line.strip()
            for line in path.read_text().splitlines()
            if len(line.strip()) >= 40 and not line.strip().startswith("#")
        }
    return secret - public


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_solution_hidden_test_grading_helper_or_author_note_is_shipped(dist, kind):
    files = _wheel_files(dist.wheel) if kind == "wheel" else _sdist_files(dist.sdist)
    assert not [n for n in files if n.startswith(("course/", "tests/", "benchmarks/", "data/"))]
    assert not [n for n in files if "/source/" in n or "grading" in n or "/notes/" in n]
    secret = _instructor_only_lines()
    assert len(secret) > 100, "the search must know the instructor material it looks for"
    for name, content in files.items():
        text = content.decode("utf-8", errors="replace")
        if name.endswith(".ipynb"):  # search the cells' text, not its JSON escaping
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        found = [m for m in MARKERS if m in text]
        if name.endswith(".ipynb") and "aekeras_grading" in text:  # what hidden tests import
            found.append("aekeras_grading")
        assert not found, f"{kind}: {name} holds {found}"
        leaked = sorted(secret & {line.strip() for line in text.splitlines()})
        assert not leaked, f"{kind}: {name} holds instructor-only lines, e.g. {leaked[:3]}"


def _first_code_cell(notebook_bytes):
    nb = nbformat.reads(notebook_bytes.decode(), as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


def _execute_release(python, notebook, cwd, env):
    """Runs a released assignment top to bottom in `python`'s environment.

    Returns:
        One `[grade_id, kind, error, calls_answer]` per code cell, `kind` being "answer" (a solution
        cell), "test" (an autograded test) or "given", `error` the name of the exception it raised, or
        None, and `calls_answer` whether it calls a function that an answer cell defines.
    """
    script = (
        "import json, re, sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=600, allow_errors=True).execute()\n"
        "kind_of = lambda m: 'answer' if m.get('solution') else 'test' if m.get('grade') else 'given'\n"
        "code = [(c, kind_of(c.metadata.get('nbgrader', {}))) for c in nb.cells if c.cell_type == 'code']\n"
        "defined = {n for c, k in code if k == 'answer' for n in re.findall(r'^def (\\w+)', c.source, re.M)}\n"
        "rows = []\n"
        "for c, kind in code:\n"
        "    errors = [o.ename for o in c.outputs if o.output_type == 'error']\n"
        "    calls = any(re.search(rf'\\b{n}\\(', c.source) for n in defined)\n"
        "    grade_id = c.metadata.get('nbgrader', {}).get('grade_id')\n"
        "    rows.append([grade_id, kind, errors[0] if errors else None, calls])\n"
        "print(json.dumps(rows))\n"
    )
    out = _run([python, "-c", script, notebook], cwd=cwd, env=env)
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.notebook
def test_a_fresh_runtime_installs_from_the_wheel_alone_and_runs_lecture_1_and_assignment_1(
    dist, tmp_path, readme_example
):
    # The runtime's package index: the wheel, its dependencies with JAX as the backend, and the
    # notebook runner, fetched with the ordinary pip configuration. The environment below sees
    # only this folder (no index), so everything it installs of aekeras comes from the wheel.
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    shutil.copy(dist.wheel, wheelhouse)
    _run(
        [sys.executable, "-m", "pip", "download", "-q", "--dest", wheelhouse]
        + [f"{dist.wheel}[course,jax]", *RUNNER]
    )
    venv = tmp_path / "runtime"
    _run([sys.executable, "-m", "venv", venv])
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "KERAS_"))
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        HOME=str(tmp_path / "home"),
        AEKERAS_DATA_HOME=str(tmp_path / "data"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    _run([python, "-m", "pip", "install", "-q", *RUNNER], env=env)
    launch = tmp_path / "launch_cell.py"
    launch.write_text(
        _first_code_cell(_wheel_files(dist.wheel)[MATERIAL + "lectures/" + LECTURES[0].name])
    )

    # First run: aekeras is missing, and so is every backend (no KERAS_BACKEND is set, as on a
    # student's laptop): the cell picks JAX and installs aekeras[course,jax] from the wheel. Every
    # later step, `aekeras-course` included, then runs on JAX without KERAS_BACKEND.
    out = _run([python, launch], cwd=tmp_path, env=env)
    requirement = f"aekeras[course,jax]>={aekeras.__version__},<"
    assert f"Installing {requirement}" in out, out
    assert "jax" in out.lower()  # the set-up report names the backend
    installed = _run([python, "-m", "pip", "freeze"], env=env)
    assert (
        f"aekeras @ file://{wheelhouse}" in installed
        or f"aekeras=={aekeras.__version__}" in installed
    )

    # The library as installed from the wheel: the README's example.
    example = tmp_path / "example"
    example.mkdir()
    readme_example.check(_run([python, "-c", readme_example.code], cwd=example, env=env), example)

    # The student's folder, then Lecture 1 from it, under nbval in that environment.
    out = _run([bin_dir / "aekeras-course", "get", "my-course"], cwd=tmp_path, env=env)
    lecture = tmp_path / "my-course" / "lectures" / LECTURES[0].name
    assignment = (
        tmp_path / "my-course" / "assignments" / "a1_autoencoders" / "a1_autoencoders.ipynb"
    )
    assert lecture.is_file() and assignment.is_file(), out
    _run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval-lax",
            "--nbval-current-env",
            lecture,
        ],
        cwd=lecture.parent,
        env=env,
    )

    # Assignment 1's release: every locked cell (the set-up and data included) runs; the answers are
    # placeholders, which the autograded checks reach (the release holds no solution). Cells that
    # only look at an answer (not graded, no grade id) may fail on a placeholder, and so may a locked
    # cell that calls an answer's function (A1 Task 3's training cell), with the placeholder's error.
    cells = _execute_release(python, assignment, assignment.parent, env)
    broken = [c for c in cells if c[1] == "given" and c[0] and c[2]]
    assert [c for c in broken if not (c[3] and c[2] == "NotImplementedError")] == [], cells
    assert all(c[2] in (None, "NotImplementedError") for c in cells if c[1] == "answer"), cells
    assert "NotImplementedError" in {c[2] for c in cells if c[1] == "test"}, cells

    # Second run of the set-up cell: nothing to install, nothing said about installing.
    out = _run([python, launch], cwd=tmp_path, env=env)
    assert "Installing" not in out, out
    assert _run([python, "-m", "pip", "freeze"], env=env) == installed
