"""The two ways to install (pip and conda) and the CI script stay in step."""

import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names.
CONDA_TO_PYPI = {"pytorch": "torch", "python-build": "build"}


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
    lines = [line for line in block.splitlines()[1:] if line.strip()]
    assert len(lines) == 2, f"the Quick start block must hold exactly two commands, found {lines}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert lines[1].strip() in ci, f"{lines[1]!r} not in .ci/run"


def _load_tasks():
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    return tasks


def test_lectures_get_absolute_data_paths(tmp_path, monkeypatch):
    # The lectures run in course/, so `AEKERAS_RAW_DATA=../shared/datasets python3 tasks.py lectures`
    # must reach them resolved against the folder the command was typed in.
    tasks = _load_tasks()
    calls = []
    monkeypatch.setattr(tasks, "setup", lambda name: Path("python-of-" + name))
    monkeypatch.setattr(tasks, "run", lambda cmd, env=None: calls.append((cmd, env)) or 0)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("AEKERAS_RAW_DATA", "../shared/datasets")
    monkeypatch.setenv("AEKERAS_DATA_HOME", str(tmp_path / "home"))
    assert tasks.main(["lectures", "--backend", "jax"]) == 0
    ((cmd, env),) = calls
    assert cmd[0] == Path("python-of-no-tensorflow")
    assert env["AEKERAS_RAW_DATA"] == str(tmp_path / "shared" / "datasets")
    assert env["AEKERAS_DATA_HOME"] == str(tmp_path / "home")
    assert env["KERAS_BACKEND"] == "jax"


def test_python_floor_is_the_same_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floor = re.fullmatch(r">=\s*(\d+)\.(\d+)", project["requires-python"].split("#")[0].strip())
    assert floor, project["requires-python"]
    floor = tuple(map(int, floor.groups()))
    assert _load_tasks().MIN_PYTHON == floor
    conda = re.search(r"^  - python>=(\d+)\.(\d+)", (ROOT / "environment.yml").read_text(), re.M)
    assert tuple(map(int, conda.groups())) == floor
    assert f"Python >= {floor[0]}.{floor[1]}" in (ROOT / "README.md").read_text()


def test_core_install_needs_no_backend_and_extras_name_the_rest():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(r) for r in project["dependencies"]}
    extras = {
        name: {_name(r) for r in reqs} for name, reqs in project["optional-dependencies"].items()
    }
    assert not core & {"tensorflow", "tensorflow-datasets", "jax", "torch"}, core
    assert {"tensorflow", "tensorflow-datasets"} <= extras["tensorflow"]
    assert "jax" in extras["jax"] and "torch" in extras["torch"]
    assert {"pytest", "nbval", "nbgrader", "nbformat", "threadpoolctl"} <= extras["test"]


def test_environments_of_the_tasks():
    tasks = _load_tasks()
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    complete, no_tf = (
        set(tasks.ENVIRONMENTS[n][2].split(",")) for n in ("complete", "no-tensorflow")
    )
    assert complete == extras  # the Quick start installs the complete course environment
    assert no_tf == extras - {"tensorflow"}
    assert tasks.environment_for("tensorflow") == "complete"  # TensorFlow stays the default backend
    assert tasks.environment_for("jax") == tasks.environment_for("torch") == "no-tensorflow"
    for backend in tasks.BACKENDS:
        cmd = [str(c) for c in tasks.test_command(Path("python"), backend)]
        assert all(str(lecture) in cmd for lecture in tasks.LECTURES) and "--nbval-lax" in cmd
        assert ("not tensorflow_only" in cmd) == (backend != "tensorflow")


def test_every_requirement_is_a_range_with_an_upper_limit():
    # Exact pins break where the runtime's packages move (Colab upgrades them); open ranges let a
    # future major release break the course. Each bound is a range: a floor and an upper limit.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    loose = [r for r in requirements if "==" in r or "<" not in r or ">=" not in r]
    assert not loose, f"requirements without a floor and an upper limit, or pinned: {loose}"
