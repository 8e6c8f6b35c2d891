"""The course material of the installed aekeras, and `aekeras-course`, which copies it out.

A wheel of aekeras carries the lectures (without outputs) and the student
versions of the assignments (released by nbgrader: no solutions, no hidden
tests) under `aekeras/course_material/`. `aekeras-course get [DIR]` copies them
into a folder of the student's, and never overwrites work the student has
edited there without `--force` (which keeps the edited file as a backup).
"""

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from aekeras.version import __version__

MATERIAL = Path(__file__).resolve().parent / "course_material"
# Written beside the copies: what `get` copied, so that a later `get` can tell edited files.
STATE_FILE = ".aekeras-course.json"
DEFAULT_DIRECTORY = "aekeras-course"
# The one setting behind every "Open in Colab" link: the GitHub repository (owner/name) that
# publishes the notebooks, at the tag of each release (pyproject.toml's Repository URL).
REPOSITORY = "aekeras/aekeras"
COLAB = "https://colab.research.google.com/github"


class CourseMaterialError(RuntimeError):
    """The installed aekeras has no course material, or a copy would overwrite a student's work."""


def colab_url(notebook, ref=None):
    """Returns the "Open in Colab" address of a notebook of the repository.

    Args:
        notebook: Path of the notebook inside the repository, e.g.
            `"course/01_autoencoders.ipynb"`.
        ref: Git tag or branch; default the tag of this release, `v<version>`.

    Returns:
        A URL string.

    Example:

    >>> import aekeras
    >>> aekeras.course.colab_url("course/01_autoencoders.ipynb", ref="main")
    'https://colab.research.google.com/github/aekeras/aekeras/blob/main/course/01_autoencoders.ipynb'
    """
    notebook = Path(notebook).as_posix()
    if Path(notebook).is_absolute() or not notebook.endswith(".ipynb"):
        raise ValueError(
            "`notebook` must be a notebook's path inside the repository, such as "
            f"'course/01_autoencoders.ipynb'. Received: notebook={notebook!r}"
        )
    return f"{COLAB}/{REPOSITORY}/blob/{ref or 'v' + __version__}/{notebook}"


def _release(version):
    return tuple(int(n) for n in re.findall(r"\d+", version)[:3])


def install_requirement(version=__version__, extras="course"):
    """The pip requirement a launch cell installs: this release up to, not including, the next minor.

    Example:

    >>> import aekeras
    >>> aekeras.course.install_requirement("0.1.0")
    'aekeras[course]>=0.1.0,<0.2'
    """
    major, minor = _release(version)[:2]
    return f"aekeras[{extras}]>={version},<{major}.{minor + 1}"


def launch_cell(version=__version__):
    """The source of the first code cell of every lecture and assignment.

    It works unchanged on Colab, Kaggle, a JupyterHub and a laptop: it
    installs `aekeras[course]` from PyPI only when aekeras is missing or older
    than the notebook (adding the backend's extra when that framework is
    missing too), keeps `KERAS_BACKEND` when it is set and otherwise picks the
    first installed of TensorFlow, JAX and PyTorch (JAX when none is), and runs
    `aekeras.notebook.setup`. tests/test_course.py checks that every notebook
    opens with exactly this text.

    Args:
        version: The aekeras release the notebook belongs to.

    Returns:
        The cell's source, a string.
    """
    upper = install_requirement(version).rsplit("<", 1)[1]
    return f"""\
# Set-up: installs aekeras when it is missing or older than this notebook (Colab, Kaggle,
# JupyterHub), picks the Keras backend (KERAS_BACKEND, else the first installed), then seeds.
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys

AEKERAS = "{version}"  # the aekeras release this notebook belongs to
BACKEND = os.environ.setdefault(
    "KERAS_BACKEND",
    next((b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)), "jax"),
)


def _release(version):
    return [int(n) for n in re.findall(r"\\d+", version)[:3]]


try:
    _installed = importlib.metadata.version("aekeras")
except importlib.metadata.PackageNotFoundError:
    _installed = "0"
if _release(_installed) < _release(AEKERAS):
    _extras = "course" if importlib.util.find_spec(BACKEND) else f"course,{{BACKEND}}"
    _requirement = f"aekeras[{{_extras}}]>={{AEKERAS}},<{upper}"
    print(f"Installing {{_requirement}} ...")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", _requirement])
    importlib.invalidate_caches()
import aekeras

info = aekeras.notebook.setup(seed=0)"""


def material_files(material=None):
    """Lists the course material of this installation.

    Args:
        material: The material folder; default the one inside the package.

    Returns:
        A dict mapping each file's path relative to the folder (POSIX form,
        e.g. `"lectures/01_autoencoders.ipynb"`) to its sha256.

    Raises:
        CourseMaterialError: If the folder holds no material, as in a source
            checkout that was not built.
    """
    manifest = Path(MATERIAL if material is None else material) / "manifest.json"
    if not manifest.is_file():
        raise CourseMaterialError(
            f"This aekeras ({__version__}, at {Path(__file__).parent}) carries no course material: "
            f"{manifest} does not exist. The material is part of the built distribution: install it "
            "with `pip install aekeras` (or a wheel built with `python -m build` in a checkout). In a "
            "checkout of the repository, the lectures are in course/ and the assignments in "
            "course/assignments/ (instructors: see course/assignments/README.md)."
        )
    return json.loads(manifest.read_text())["files"]


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backup_name(path, stamp):
    return path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")


def get(directory=DEFAULT_DIRECTORY, force=False, material=None):
    """Copies the lectures and assignments of this release into `directory`.

    A file that is missing there is copied; one still as `get` left it is
    updated to this release's version. A file the student has changed (or one
    `get` did not put there) is never overwritten without `force`; with
    `force` it is first kept beside the new copy as
    `<name>.backup-<date>-<time>.ipynb`.

    Args:
        directory: The folder to copy into; created when missing.
        force: Whether to replace edited files, after backing them up.
        material: The material folder; default the one inside the package.

    Returns:
        A dict mapping each file's relative path to what happened to it:
        `"copied"`, `"updated"`, `"unchanged"` or `"replaced"` (with a backup).

    Raises:
        CourseMaterialError: If this installation has no material, or if
            edited files would be overwritten without `force` (nothing is
            copied then).

    Example:

    >>> import aekeras
    >>> aekeras.course.get("my-course")  # doctest: +SKIP
    {'lectures/01_autoencoders.ipynb': 'copied', ...}
    """
    material = Path(MATERIAL if material is None else material)
    files = material_files(material)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CourseMaterialError(
            f"Cannot copy the course into {directory}: it is a file, not a folder. Choose another "
            f"folder: `aekeras-course get FOLDER`. Received: directory={str(directory)!r}"
        )
    state_path = directory / STATE_FILE
    copied = json.loads(state_path.read_text())["files"] if state_path.is_file() else {}
    actions, edited = {}, []
    for name, digest in files.items():
        target = directory / name
        if not target.exists():
            actions[name] = "copied"
        elif _sha256(target) == digest:
            actions[name] = "unchanged"
        elif copied.get(name) == _sha256(target):
            actions[name] = "updated"  # as an earlier `get` left it: safe to replace
        else:
            actions[name] = "replaced"
            edited.append(name)
    if edited and not force:
        listing = "\n".join(f"  {directory / name}" for name in edited)
        raise CourseMaterialError(
            f"Not copying aekeras {__version__}'s course into {directory}: these files differ from "
            f"what `aekeras-course get` put there, so they may hold your work:\n{listing}\n"
            "Nothing was changed. To keep your work, copy the course into another folder "
            "(`aekeras-course get OTHER_FOLDER`); to replace these files anyway, run again with "
            "--force, which first saves each of them beside it as <name>.backup-<date>-<time>.ipynb."
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name, action in actions.items():
        target = directory / name
        if action == "unchanged":
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if action == "replaced":
            shutil.copy2(target, _backup_name(target, stamp))
        shutil.copyfile(material / name, target)
    state = {"aekeras": __version__, "files": {**copied, **files}}
    directory.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1) + "\n")
    return actions


def main(argv=None):
    """The `aekeras-course` command."""
    parser = argparse.ArgumentParser(
        prog="aekeras-course",
        description=(
            "The aekeras course: lectures and assignments of the installed release. "
            "`aekeras-course get [DIR]` copies them into DIR, then open it with `jupyter lab DIR`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"aekeras {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    get_parser = commands.add_parser(
        "get", help="copy the lectures and assignments into a folder (default ./aekeras-course)"
    )
    get_parser.add_argument("directory", nargs="?", default=DEFAULT_DIRECTORY)
    get_parser.add_argument(
        "--force", action="store_true", help="replace edited files, keeping each as a backup"
    )
    commands.add_parser("list", help="list the notebooks of this release")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name in material_files():
                print(name)
            return 0
        actions = get(args.directory, force=args.force)
    except CourseMaterialError as error:
        print(f"aekeras-course: {error}", file=sys.stderr)
        return 1
    for name, action in actions.items():
        print(f"{action:>9}  {Path(args.directory) / name}")
    print(
        f"The aekeras {__version__} course is in {args.directory}/. Open it with:\n"
        f"  jupyter lab {args.directory}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
