"""aekeras.course: the launch cell every notebook opens with, Colab links, and `aekeras-course get`."""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import aekeras
from aekeras import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "course" / "assignments" / "source").glob("*/*.ipynb")
)


# ----------------------------------------------------------------------------- the launch cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_lecture_and_assignment_opens_with_the_launch_cell_of_this_release(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == course.launch_cell(aekeras.__version__), (
        f"{path.name}: its first code cell must be aekeras.course.launch_cell() of version "
        f"{aekeras.__version__} (after changing the version or the cell, write it into every "
        "lecture and assignment source)"
    )
    assert "nbgrader" not in first.metadata or first.metadata["nbgrader"]["locked"]


def _run_launch_cell(monkeypatch, installed, importable=("tensorflow", "jax", "torch")):
    """Runs the launch cell with aekeras `installed` at a version (None: missing); returns pip calls."""
    calls = []
    real_find_spec = importlib.util.find_spec

    def version(name):
        if name != "aekeras":
            return importlib.metadata.version(name)
        if installed is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed

    def find_spec(name, *args):
        if name in ("tensorflow", "jax", "torch"):
            return real_find_spec("json") if name in importable else None
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "check_call", lambda cmd: calls.append(cmd) or 0)
    monkeypatch.setattr(aekeras.notebook, "setup", lambda seed: {"seed": seed})
    namespace = {}
    exec(compile(course.launch_cell("0.3.1"), "launch_cell", "exec"), namespace)
    assert namespace["info"] == {"seed": 0}
    return calls, namespace


@pytest.mark.parametrize("installed", ["0.3.1", "0.3.2", "0.4.0", "1.0.0", "0.3.1.dev0"])
def test_launch_cell_installs_nothing_when_aekeras_is_this_release_or_newer(
    monkeypatch, capsys, installed
):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    calls, _ = _run_launch_cell(monkeypatch, installed)
    assert calls == []
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("installed", [None, "0.3.0", "0.2.9", "0.1.0rc1"])
def test_launch_cell_installs_this_release_range_when_aekeras_is_missing_or_older(
    monkeypatch, capsys, installed
):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    calls, _ = _run_launch_cell(monkeypatch, installed)
    requirement = "aekeras[course]>=0.3.1,<0.4"
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", requirement]]
    assert f"Installing {requirement}" in capsys.readouterr().out


def test_launch_cell_adds_the_backend_extra_when_that_framework_is_missing(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    calls, namespace = _run_launch_cell(monkeypatch, None, importable=("jax",))
    assert namespace["BACKEND"] == "torch"  # KERAS_BACKEND is respected
    assert calls[0][-1] == "aekeras[course,torch]>=0.3.1,<0.4"


@pytest.mark.parametrize(
    "importable, expected",
    [
        (("tensorflow", "jax", "torch"), "tensorflow"),
        (("jax", "torch"), "jax"),
        (("torch",), "torch"),
        ((), "jax"),
    ],
)
def test_launch_cell_picks_the_first_installed_backend_when_none_is_set(
    monkeypatch, importable, expected
):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    calls, namespace = _run_launch_cell(monkeypatch, "0.3.1", importable=importable)
    assert namespace["BACKEND"] == expected
    assert os.environ["KERAS_BACKEND"] == expected


def test_install_requirement_is_a_range_up_to_the_next_minor_release():
    assert course.install_requirement("0.1.0") == "aekeras[course]>=0.1.0,<0.2"
    assert (
        course.install_requirement("1.4.2", extras="course,jax")
        == "aekeras[course,jax]>=1.4.2,<1.5"
    )


# ----------------------------------------------------------------------------- Colab links


def test_colab_url_points_at_the_repository_at_this_release():
    url = course.colab_url("course/02_sparse_autoencoders.ipynb")
    assert url == (
        f"https://colab.research.google.com/github/{course.REPOSITORY}/blob/"
        f"v{aekeras.__version__}/course/02_sparse_autoencoders.ipynb"
    )


@pytest.mark.parametrize("bad", ["/abs/course/01.ipynb", "course/01_autoencoders.py"])
def test_colab_url_refuses_what_is_not_a_notebook_of_the_repository(bad):
    with pytest.raises(ValueError, match="Received: notebook="):
        course.colab_url(bad)


def test_the_colab_setting_matches_the_project_urls():
    import tomllib

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == f"https://github.com/{course.REPOSITORY}"


def test_readme_opens_every_lecture_in_colab_from_the_one_setting():
    readme = (ROOT / "README.md").read_text()
    links = set(re.findall(r"https://colab\.research\.google\.com/github/[^\s)\"]+", readme))
    expected = {
        course.colab_url(path.relative_to(ROOT))
        for path in NOTEBOOKS
        if path.parent.name == "course"
    }
    assert expected and links == expected


# ----------------------------------------------------------------------------- aekeras-course get


def _material(folder, files):
    """Writes a material folder like the wheel's: files and a manifest of their sha256."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    digests = {n: hashlib.sha256(t.encode()).hexdigest() for n, t in files.items()}
    (folder / "manifest.json").write_text(json.dumps({"aekeras": "0.1.0", "files": digests}))
    return folder


@pytest.fixture
def material(tmp_path):
    return _material(
        tmp_path / "material",
        {"lectures/01_a.ipynb": "lecture one", "assignments/a1/a1.ipynb": "assignment one"},
    )


def test_get_copies_every_notebook_and_a_second_get_changes_nothing(tmp_path, material):
    target = tmp_path / "student"
    actions = course.get(target, material=material)
    assert actions == {"lectures/01_a.ipynb": "copied", "assignments/a1/a1.ipynb": "copied"}
    assert (target / "lectures/01_a.ipynb").read_text() == "lecture one"
    assert (target / "assignments/a1/a1.ipynb").read_text() == "assignment one"
    assert set(course.get(target, material=material).values()) == {"unchanged"}


def test_get_updates_files_the_student_left_untouched(tmp_path, material):
    target = tmp_path / "student"
    course.get(target, material=material)
    newer = _material(
        tmp_path / "newer",
        {
            "lectures/01_a.ipynb": "lecture one, revised",
            "assignments/a1/a1.ipynb": "assignment one",
            "lectures/02_b.ipynb": "lecture two",
        },
    )
    actions = course.get(target, material=newer)
    assert actions["lectures/01_a.ipynb"] == "updated"
    assert actions["lectures/02_b.ipynb"] == "copied"
    assert (target / "lectures/01_a.ipynb").read_text() == "lecture one, revised"
    assert not list(target.rglob("*.backup-*"))


def test_get_refuses_to_overwrite_edited_work_and_changes_nothing(tmp_path, material):
    target = tmp_path / "student"
    course.get(target, material=material)
    (target / "assignments/a1/a1.ipynb").write_text("my answers")
    newer = _material(
        tmp_path / "newer",
        {
            "lectures/01_a.ipynb": "lecture one, revised",
            "assignments/a1/a1.ipynb": "assignment, v2",
        },
    )
    with pytest.raises(course.CourseMaterialError, match="--force") as error:
        course.get(target, material=newer)
    assert str(target / "assignments/a1/a1.ipynb") in str(error.value)
    assert (target / "assignments/a1/a1.ipynb").read_text() == "my answers"
    assert (target / "lectures/01_a.ipynb").read_text() == "lecture one"  # nothing changed


def test_get_counts_a_file_it_did_not_copy_as_the_students(tmp_path, material):
    target = tmp_path / "student"
    (target / "lectures").mkdir(parents=True)
    (target / "lectures/01_a.ipynb").write_text("a notebook of my own")
    with pytest.raises(course.CourseMaterialError, match="may hold your work"):
        course.get(target, material=material)


def test_get_force_replaces_edited_work_and_keeps_it_as_a_backup(tmp_path, material):
    target = tmp_path / "student"
    course.get(target, material=material)
    (target / "assignments/a1/a1.ipynb").write_text("my answers")
    actions = course.get(target, force=True, material=material)
    assert actions["assignments/a1/a1.ipynb"] == "replaced"
    assert (target / "assignments/a1/a1.ipynb").read_text() == "assignment one"
    (backup,) = (target / "assignments/a1").glob("a1.backup-*.ipynb")
    assert backup.read_text() == "my answers"


def test_get_without_material_says_where_the_course_comes_from(tmp_path):
    with pytest.raises(course.CourseMaterialError, match="pip install aekeras"):
        course.get(tmp_path / "student", material=tmp_path / "nothing")


def test_get_refuses_a_file_as_the_folder(tmp_path, material):
    (tmp_path / "taken").write_text("")
    with pytest.raises(course.CourseMaterialError, match="Received: directory="):
        course.get(tmp_path / "taken", material=material)


def test_command_line_get_and_list(tmp_path, material, monkeypatch, capsys):
    monkeypatch.setattr(course, "MATERIAL", material)
    assert course.main(["list"]) == 0
    assert capsys.readouterr().out.split() == ["lectures/01_a.ipynb", "assignments/a1/a1.ipynb"]
    assert course.main(["get", str(tmp_path / "student")]) == 0
    assert "jupyter lab" in capsys.readouterr().out
    (tmp_path / "student/lectures/01_a.ipynb").write_text("edited")
    assert course.main(["get", str(tmp_path / "student")]) == 1
    assert "--force" in capsys.readouterr().err
    assert course.main(["get", str(tmp_path / "student"), "--force"]) == 0
