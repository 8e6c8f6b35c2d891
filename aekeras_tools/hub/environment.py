"""The users' environment: a virtual environment every user can run, with the project's packages.

It holds the project environment's packages as hard links, a copy of aekeras, the hardened exchange
(`exchange.py`, as `aekeras_hub_exchange`), the course kernel, JupyterLab's settings for a classroom
and the global `nbgrader_config.py` every account reads.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from aekeras_tools import kernel
from aekeras_tools.hub import exchange
from aekeras_tools.hub.checks import NOBODY
from aekeras_tools.hub.checks import as_nobody
from aekeras_tools.hub.checks import python_for_users
from aekeras_tools.hub.classroom import COURSE_ID
from aekeras_tools.hub.classroom import PROJECT_ENV
from aekeras_tools.hub.classroom import HubError
from aekeras_tools.paths import ROOT

INSTALL_STAMP = ".aekeras-install"  # tasks.py's record of what it installed into an environment
ENV_STAMP = ".aekeras-hub-env"
EXCHANGE_MODULE = "aekeras_hub_exchange"
# A classroom hub asks no one whether to fetch Jupyter's news from the internet.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}
}


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _site_packages(prefix):
    relative = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    return Path(prefix) / relative


def make_environment(room, python=None):
    """Makes (or reuses) the users' environment: returns its Python."""
    target = room.env
    stamp = {
        "project_env": str(PROJECT_ENV),
        "install": _read(PROJECT_ENV / INSTALL_STAMP),
        "version": sys.version.split()[0],
    }
    old = json.loads(_read(target / ENV_STAMP) or "{}")
    if {k: old.get(k) for k in stamp} == stamp and python in (None, old.get("python")):
        print(f"Reusing the users' environment {target}", flush=True)
        _refresh_environment(room)
        return room.python
    python = python_for_users(python)
    stamp["python"] = python
    print(
        f"Making the users' environment {target} from {python} and the packages of {PROJECT_ENV}",
        flush=True,
    )
    if target.exists():
        shutil.rmtree(target)
    subprocess.run([python, "-m", "venv", "--without-pip", str(target)], check=True)
    # The project's aekeras is installed editable (a hook into the repository): copied instead.
    source = _site_packages(PROJECT_ENV)
    editable = [p.name for p in source.glob("__editable__*aekeras*")]
    shutil.copytree(
        source,
        _site_packages(target),
        symlinks=True,
        copy_function=_link_or_copy,
        dirs_exist_ok=True,
        ignore=lambda folder, names: editable if folder == str(source) else [],
    )
    for sub in ("share", "etc"):
        if (PROJECT_ENV / sub).is_dir():
            shutil.copytree(
                PROJECT_ENV / sub,
                target / sub,
                symlinks=True,
                copy_function=_link_or_copy,
                dirs_exist_ok=True,
            )
    _copy_scripts(PROJECT_ENV / "bin", target)
    if (PROJECT_ENV / INSTALL_STAMP).exists():  # tasks.py (AEKERAS_VENV=<env>) then reuses it
        shutil.copy(PROJECT_ENV / INSTALL_STAMP, target / INSTALL_STAMP)
    _refresh_environment(room)
    probe = (  # what each user's server imports (aekeras itself would start TensorFlow: found only)
        f"import importlib.util, jupyterhub, nbgrader, ipykernel, {EXCHANGE_MODULE}; "
        "assert importlib.util.find_spec('aekeras')"
    )
    check = subprocess.run(
        [*as_nobody(), str(room.python), "-c", probe], capture_output=True, text=True, cwd="/"
    )
    if check.returncode != 0:
        raise HubError(
            f"The users' environment {target} does not work for other users (`{probe}` as "
            f"{NOBODY} failed). Received: {check.stderr.strip()[-800:]}"
        )
    (target / ENV_STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
    return room.python


def _copy_scripts(source, target):
    """The project environment's commands, pointed at the users' environment (`target`)."""
    for entry in sorted(source.iterdir()):
        dest = target / "bin" / entry.name
        if entry.name.startswith(("python", "activate", "Activate")) or dest.exists():
            continue
        if entry.is_symlink() or not entry.is_file():
            continue
        with open(entry, "rb") as fh:
            head = fh.read(2)
        if head == b"#!":
            text = entry.read_bytes().replace(bytes(PROJECT_ENV), bytes(target))
            dest.write_bytes(text)
            dest.chmod(0o755)
        else:
            _link_or_copy(entry, dest)


def _refresh_environment(room):
    """What changes with the repository: aekeras itself, the exchange module, kernel, config."""
    site = _site_packages(room.env)
    if (site / "aekeras").exists():
        shutil.rmtree(site / "aekeras")
    shutil.copytree(
        ROOT / "aekeras",
        site / "aekeras",
        ignore=shutil.ignore_patterns("__pycache__", "course_material"),
    )
    shutil.copy(Path(exchange.__file__), site / f"{EXCHANGE_MODULE}.py")
    kernel_json = room.env / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    kernel_json.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        kernel_json.unlink()  # a hard link to the project environment's: never write through it
    kernel_json.write_text(json.dumps(kernel.spec(room.python), indent=1) + "\n")
    # A classroom hub asks no one whether to fetch Jupyter's news from the internet.
    overrides = room.env / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        overrides.unlink()
    overrides.write_text(json.dumps(LAB_SETTINGS, indent=1) + "\n")
    config = room.env / "etc" / "jupyter" / "nbgrader_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        config.unlink()
    config.write_text(nbgrader_config(room))


def nbgrader_config(room):
    """The global nbgrader_config.py of the users' environment (every account reads it)."""
    factory = "\n".join(
        f"c.ExchangeFactory.{key} = {f'{EXCHANGE_MODULE}.{name}'!r}"
        for key, name in exchange.FACTORY.items()
    )
    return f'''"""nbgrader settings of every account of the aekeras demo hub (written by aekeras_tools.hub)."""

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {COURSE_ID!r}
c.Exchange.root = {str(room.exchange)!r}
c.Exchange.path_includes_course = False
# The hardened exchange (aekeras_tools/hub/exchange.py, installed as {EXCHANGE_MODULE}).
{factory}
'''


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None
