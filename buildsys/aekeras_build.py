"""The build backend: setuptools, plus the student course material put into the package.

`python -m build` calls this module (pyproject.toml's `[build-system]`). Built
from a source checkout, it first writes `aekeras/course_material/`:

- `lectures/`: the lecture notebooks of `course/`, outputs and execution
  counts cleared;
- `assignments/<id>/<id>.ipynb`: the *released* student notebooks, made by
  nbgrader's `generate_assignment` from the instructor sources in
  `course/assignments/source/`, so that solutions and hidden tests are
  stripped exactly as nbgrader strips them for a class;
- `manifest.json`: the aekeras version and the files.

The sdist carries that folder and none of `course/` (MANIFEST.in prunes it), so
a wheel built from the sdist uses the material as it is and needs no nbgrader.
Nothing else changes setuptools' behaviour.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (the other PEP 517 hooks, unchanged)

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
SOURCES = COURSE / "assignments" / "source"
MATERIAL = ROOT / "aekeras" / "course_material"
# What writing the material needs, on top of setuptools; only asked for when building from a checkout.
MATERIAL_REQUIRES = ["nbgrader>=0.9,<0.10", "nbformat>=5.9,<6"]


def _from_checkout():
    return SOURCES.is_dir()


def _version():
    text = (ROOT / "aekeras" / "version.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def _clear_outputs(source, target):
    import nbformat

    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _release_assignments(target):
    """Runs `nbgrader generate_assignment` on a copy of the sources; returns the released notebooks."""
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copytree(SOURCES, course / "source")
        shutil.copy(SOURCES.parent / "nbgrader_config.py", course)  # the course's own settings
        for assignment in sorted(p.name for p in SOURCES.iterdir() if p.is_dir()):
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", assignment]
                + ["--no-db", "--force", "--log-level=WARN"],
                cwd=course,
                check=True,
            )
        released = course / "release"
        for notebook in sorted(released.glob("*/*.ipynb")):
            _clear_outputs(notebook, target / notebook.relative_to(released))


def write_course_material(material=MATERIAL):
    """Writes the lectures and released assignments into `material` (replacing what was there)."""
    if material.exists():
        shutil.rmtree(material)
    for lecture in sorted(COURSE.glob("[0-9][0-9]_*.ipynb")):
        _clear_outputs(lecture, material / "lectures" / lecture.name)
    _release_assignments(material / "assignments")
    files = {
        path.relative_to(material).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(material.rglob("*.ipynb"))
    }
    manifest = {"aekeras": _version(), "files": files}
    (material / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def get_requires_for_build_sdist(config_settings=None):
    extra = MATERIAL_REQUIRES if _from_checkout() else []
    return _setuptools.get_requires_for_build_sdist(config_settings) + extra


def get_requires_for_build_wheel(config_settings=None):
    extra = MATERIAL_REQUIRES if _from_checkout() else []
    return _setuptools.get_requires_for_build_wheel(config_settings) + extra


def build_sdist(sdist_directory, config_settings=None):
    if _from_checkout():
        write_course_material()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if _from_checkout():
        write_course_material()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
