"""The two ways to install (pip and conda) and the CI script stay in step."""

import importlib.util
import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names.
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement):
    name = re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return {_name(r) for r in reqs}


def _conda_names():
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)", line)
        if match and match.group(1) not in ("python", "pip"):
            name = _name(match.group(1))
            names.add(CONDA_TO_PYPI.get(name, name))
    return names


def test_environment_yml_installs_the_same_packages_as_pyproject():
    pip_names, conda_names = _pyproject_names(), _conda_names()
    assert conda_names == pip_names, (
        f"only in environment.yml: {sorted(conda_names - pip_names)}; "
        f"only in pyproject.toml: {sorted(pip_names - conda_names)}"
    )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = section.split("```", 2)[1]
    lines = [l for l in block.splitlines()[1:] if l.strip()]
    assert len(lines) == 2, f"the Quick start block must hold exactly two commands, found {lines}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert lines[1].strip() in ci, f"{lines[1]!r} not in .ci/run"


def test_tasks_make_relative_data_paths_absolute_for_the_lectures(tmp_path, monkeypatch):
    # The lectures run in course/, so `AEKERAS_RAW_DATA=../shared/datasets python3 tasks.py ...`
    # must be resolved against the folder the command was typed in.
    spec = importlib.util.spec_from_file_location("tasks", Path(__file__).resolve().parent.parent / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AEKERAS_RAW_DATA", "../shared/datasets")
    monkeypatch.setenv("AEKERAS_DATA_HOME", str(tmp_path / "home"))
    tasks.absolute_data_paths()
    assert os.environ["AEKERAS_RAW_DATA"] == str((tmp_path / "../shared/datasets").resolve())
    assert os.environ["AEKERAS_DATA_HOME"] == str(tmp_path / "home")
