"""The checks of bad input: root, the proxy, the port, the hub's folder, a Python for the users.

Each raises `HubError` with a message that says what was wrong, what was expected and what to do.
"""

import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

from aekeras_tools.hub.classroom import DEFAULT_DIR
from aekeras_tools.hub.classroom import PROJECT_ENV
from aekeras_tools.hub.classroom import HubError

PROXY = "configurable-http-proxy"
NOBODY = "nobody"  # who tries the users' environment ("can any user run it?")


def check_root():
    if os.geteuid() != 0:
        try:
            user = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            user = "no name"
        raise HubError(
            "The hub must run as root: it creates the class's Unix accounts, makes the exchange "
            "with their owners and groups, and starts each user's server as that user "
            "(JupyterHub's LocalProcessSpawner), which only root can do. Run it with sudo, as "
            "root (sudo python3 tasks.py hub), or see the README for a hub that is not root "
            f"(SudoSpawner). Received: uid {os.geteuid()} ({user})"
        )


def find_proxy():
    """configurable-http-proxy's path, or HubError that says how to install it."""
    found = shutil.which(PROXY)
    if found is None:
        node = shutil.which("node") or "not installed (Debian: apt-get install nodejs npm)"
        raise HubError(
            f"JupyterHub's proxy, {PROXY} (a Node.js program from npm), is not on PATH. Install "
            f"it with `npm install -g {PROXY}` (Node.js >= 20; node: {node}), then start the hub "
            f"again. Received: PATH={os.environ.get('PATH', '')}"
        )
    return found


def check_port(ip, port):
    """Refuses a port another program listens on (the hub's public address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError as exc:
            raise HubError(
                f"Port {port} on {ip} is taken ({exc.strerror}): another program, perhaps a hub "
                f"started before, listens there (`ss -ltnp 'sport = :{port}'` names it). Expected: "
                f"a free port. Received: --port {port}. Stop that program or choose another "
                "port, e.g. `python3 tasks.py hub -- --port 8001`."
            ) from None


def check_reachable(folder):
    """Every user must be able to enter `folder` (the users' environment and exchange are in it)."""
    folder = Path(folder).resolve()
    for parent in [*reversed(folder.parents), folder]:
        if not parent.exists():
            break
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise HubError(
                f"Other users cannot enter {parent} (mode {stat.S_IMODE(mode):o}), so the class's "
                f"accounts could not reach the hub's folder. Expected: a folder every user can "
                f"enter, such as the default {DEFAULT_DIR}. Received: --dir {folder}"
            )


def as_nobody():
    """argv prefix that runs a command as the user `nobody` (who stands for "any other user")."""
    entry = pwd.getpwnam(NOBODY)
    # `env` in between: setpriv's own exec of the command can reach files the user cannot.
    ids = [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    return ["setpriv", *ids, "env", "-i"]


def runs_for_others(python):
    """(True, version) when the user `nobody` can run `python`; else (False, why)."""
    probe = "import sys, venv; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(
            [*as_nobody(), str(python), "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if result.returncode != 0:
        return False, (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
    return True, result.stdout.strip()


def python_for_users(requested=None):
    """A Python of the project environment's version that every user can run."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    base = getattr(sys, "_base_executable", None) or sys.executable
    candidates = [requested] if requested else []
    candidates += [base, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    candidates.append(shutil.which(f"python{version}"))
    tried = []
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not Path(candidate).exists():
            tried.append(f"{candidate}: not found")
            continue
        ok, answer = runs_for_others(candidate)
        if ok and answer == version:
            return str(candidate)
        tried.append(f"{candidate}: {answer if not ok else 'Python ' + answer}")
        if requested:
            break
    raise HubError(
        f"The class's users need a Python {version} they can run, of the version of the project's "
        f"environment ({PROJECT_ENV}, whose packages they get), and none was found: the "
        f"project's own is in a folder other users cannot enter. Install one for all users "
        f"(Debian: apt-get install python{version} python{version}-venv) or pass "
        f"`--python PATH`. Received: {'; '.join(tried)}"
    )
