"""A demo class on JupyterHub: an instructor and N students as Unix users, with nbgrader's exchange.

Usage (as root, from the repository root, after `python3 tasks.py setup`):

    python3 tasks.py hub                                   # 2 students on http://127.0.0.1:8000
    python3 tasks.py hub -- --students 5 --port 8001       # arguments after `--` go to this module
    python -m aekeras_tools.hub --remove                   # delete the class's accounts and folder

It prepares a class, starts JupyterHub, prints the address and the logins, and runs until Ctrl-C,
which stops the hub, its proxy and every server and kernel of the class's users. Run it again and
it reuses the accounts (and their passwords), the environment and the exchange.

What it makes (the folder is `--dir`, default /srv/aekeras-hub, or AEKERAS_HUB_DIR):

- **Accounts**: `<prefix>instructor` and `<prefix>student1..N` (prefix `ae-`), Unix users with a
  home of mode 0700 and a random password (kept in `<dir>/state/logins.json`, root only), and the
  group `<prefix>graders` of the instructor. It changes no account it did not make (their comment
  field says so). The instructor gets a copy of the repository in `~/aekeras` (never overwritten),
  whose `course/assignments/` is the nbgrader course directory the formgrader opens.
- **The users' environment** (`<dir>/env`): the Python of the project's environment lives where
  other users cannot run it (pyenv under /root, mode 0700), and the hub must not open that folder.
  So the command makes a virtual environment from a Python of the same version that every user can
  run (Debian's /usr/bin/python3.11 here; `--python` to choose) and fills it with the project
  environment's packages as hard links (seconds, no download, and exactly the packages the tests
  ran), with a copy of aekeras and the course kernel. Every user's server, kernel and `nbgrader`
  run from it; `AEKERAS_VENV` points at it, so the instructor's `python3 tasks.py grade` uses it.
  When no such Python exists, the command refuses and says what to install.
- **The exchange** (`<dir>/exchange`), made and repaired by root on each start, with the hardened
  exchange classes of `aekeras_tools.hub_exchange` (the threat model is in its docstring).
- **JupyterHub** (`<dir>/etc/jupyterhub_config.py`, state and log under `<dir>/state`, `<dir>/logs`).

The choices:

- **Authenticator: PAM** (JupyterHub's default, `PAMAuthenticator`), against the Unix accounts
  the command makes. The accounts must exist anyway (the exchange's permissions are Unix owners and
  groups), so PAM adds no second user database; it ships and is maintained with JupyterHub itself.
  FirstUseAuthenticator (TLJH's default) and NativeAuthenticator keep passwords of their own and let
  whoever types a name first claim it (or sign up): a class whose accounts exist does not need
  that. The command sets each account's password and prints it.
- **Spawner: LocalProcessSpawner** (JupyterHub's default): each user's server runs as that Unix
  user (the hub, root, switches uid), so the kernel, the files and `nbgrader submit` are the user's
  own and the file system's permissions hold. SudoSpawner would let a hub that is not root do the
  same through sudo; SystemdSpawner (TLJH) needs systemd, which containers and CI lack.
- **Proxy: configurable-http-proxy** (npm), JupyterHub's default proxy.
"""

import argparse
import contextlib
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

from aekeras_tools import hub_exchange
from aekeras_tools.paths import ROOT

DEFAULT_DIR = "/srv/aekeras-hub"
DEFAULT_PREFIX = "ae-"
COURSE_ID = "aekeras"  # course/assignments/nbgrader_config.py
# The comment field of every account the command makes; it changes no other account.
MARK = "aekeras demo hub"
PROXY = "configurable-http-proxy"
NOBODY = "nobody"  # who tries the users' environment ("can any user run it?")
# Where the users' environment comes from: the project's environment (the one running this).
PROJECT_ENV = Path(sys.prefix)
INSTALL_STAMP = ".aekeras-install"  # tasks.py's record of what it installed into an environment
ENV_STAMP = ".aekeras-hub-env"
EXCHANGE_MODULE = "aekeras_hub_exchange"
# nbgrader's extensions a student does not need (the formgrader reads only its user's own files).
STUDENT_LAB_DISABLED = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
STUDENT_SERVER_DISABLED = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
# A classroom hub asks no one whether to fetch Jupyter's news from the internet.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}
}

# The last line the command prints once the hub is up.
STOP_LINE = "Ctrl-C stops the hub, its proxy and every server of the class."
# What the grader reads (course/assignments/grading/checks_*.py), prepared once in the instructor's
# copy: two graders' workers preparing it at once on the first grading would race.
GRADER_DATASETS = (
    "import aekeras; d = aekeras.datasets; d.load_mnist('train', n=10); "
    "d.load_mnist('test', n=10); d.load_fashion_mnist('test', n=10)"
)


class HubError(RuntimeError):
    """The hub cannot start; the message says what was wrong and what to do."""


# ----------------------------------------------------------------- the class


class Classroom:
    """The accounts and folders of one demo class."""

    def __init__(self, folder, students=2, prefix=DEFAULT_PREFIX):
        self.dir = Path(folder)
        self.prefix = prefix
        self.instructor = f"{prefix}instructor"
        self.students = [f"{prefix}student{i}" for i in range(1, students + 1)]
        self.graders = f"{prefix}graders"
        self.env = self.dir / "env"
        self.exchange = self.dir / "exchange"
        self.state = self.dir / "state"
        self.logs = self.dir / "logs"
        self.etc = self.dir / "etc"

    @property
    def users(self):
        return [self.instructor, *self.students]

    @property
    def python(self):
        return self.env / "bin" / "python"

    def home(self, user):
        return Path(pwd.getpwnam(user).pw_dir)

    def course(self):
        """The instructor's nbgrader course directory."""
        return self.home(self.instructor) / "aekeras" / "course" / "assignments"

    def user_env(self, user):
        """The environment a user's server and commands get (what `Spawner.environment` sets)."""
        entry = pwd.getpwnam(user)
        env = {
            "PATH": f"{self.env / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "AEKERAS_VENV": str(self.env),
            "HOME": entry.pw_dir,
            "USER": user,
            "LOGNAME": user,
            "SHELL": entry.pw_shell,
            "LANG": "C.UTF-8",
        }
        for name in ("AEKERAS_RAW_DATA", "AEKERAS_DATA_HOME", "KERAS_BACKEND"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        return env

    def as_user(self, user, command, **kwargs):
        """argv that runs `command` as `user` (uid, gid and groups), with the users' environment."""
        entry = pwd.getpwnam(user)
        return [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            "--",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in self.user_env(user).items()),
            *command,
        ]


# ----------------------------------------------------------------- checks (bad input)


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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# ----------------------------------------------------------------- the users' environment


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
    shutil.copy(Path(hub_exchange.__file__), site / f"{EXCHANGE_MODULE}.py")
    kernel = room.env / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    kernel.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        kernel.unlink()  # a hard link to the project environment's: never write through it
    kernel.write_text(json.dumps(kernel_spec(room.python), indent=1) + "\n")
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


def kernel_spec(python):
    """The course kernel (as tasks.py installs it): imports aekeras first, quiet start-up."""
    return {
        "argv": [
            str(python),
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.exec_lines=import aekeras",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python 3 (aekeras)",
        "language": "python",
        "metadata": {"debugger": True},
    }


def nbgrader_config(room):
    """The global nbgrader_config.py of the users' environment (every account reads it)."""
    factory = "\n".join(
        f"c.ExchangeFactory.{key} = {f'{EXCHANGE_MODULE}.{name}'!r}"
        for key, name in hub_exchange.FACTORY.items()
    )
    return f'''"""nbgrader settings of every account of the aekeras demo hub (written by aekeras_tools.hub)."""

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {COURSE_ID!r}
c.Exchange.root = {str(room.exchange)!r}
c.Exchange.path_includes_course = False
# The hardened exchange (aekeras_tools/hub_exchange.py, installed as {EXCHANGE_MODULE}).
{factory}
'''


# ----------------------------------------------------------------- accounts


def ensure_group(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(["groupadd", name], check=True)
        return grp.getgrnam(name).gr_gid


def ensure_user(name, groups=()):
    """Makes the account `name` (or checks that the command made it); returns True if new."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if entry is not None and not entry.pw_gecos.startswith(MARK):
        raise HubError(
            f"The account {name!r} exists and was not made by the hub (its comment is "
            f"{entry.pw_gecos!r}, not {MARK!r}); the hub changes no other account. Expected: a "
            f"free name. Received: the account {name!r}. Choose another prefix of the names, "
            "e.g. `python3 tasks.py hub -- --prefix class1-`."
        )
    new = entry is None
    if new:
        subprocess.run(
            ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash"]
            + ["--comment", MARK, "-K", "HOME_MODE=0700", name],
            check=True,
        )
        entry = pwd.getpwnam(name)
    os.chmod(entry.pw_dir, 0o700)
    for group in groups:
        if name not in grp.getgrnam(group).gr_mem:
            subprocess.run(["gpasswd", "--add", name, group], check=True, capture_output=True)
    return new


def set_passwords(logins):
    lines = "".join(f"{user}:{password}\n" for user, password in logins.items())
    subprocess.run(["chpasswd"], input=lines, text=True, check=True)


def write_as(room, user, path, text):
    """Writes `text` to `path` as `user` (in their home: root never follows their links)."""
    script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
    subprocess.run(
        room.as_user(user, ["sh", "-c", script, "sh", str(path)]),
        input=text,
        text=True,
        check=True,
    )


def make_accounts(room):
    """The groups and accounts, their passwords (new ones only) and their Jupyter settings."""
    room.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    logins_file = room.state / "logins.json"
    logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
    ensure_group(room.graders)
    fresh = {}
    for user in room.users:
        new = ensure_user(user, groups=[room.graders] if user == room.instructor else ())
        if new or user not in logins:
            fresh[user] = logins[user] = secrets.token_urlsafe(9)
    if fresh:
        set_passwords(fresh)
    logins_file.touch(mode=0o600)
    logins_file.write_text(json.dumps(logins, indent=1) + "\n")
    for student in room.students:
        home = room.home(student)
        lab = {"disabledExtensions": dict.fromkeys(STUDENT_LAB_DISABLED, True)}
        server = {
            "ServerApp": {"jpserver_extensions": dict.fromkeys(STUDENT_SERVER_DISABLED, False)}
        }
        write_as(room, student, home / ".jupyter/labconfig/page_config.json", json.dumps(lab))
        write_as(room, student, home / ".jupyter/jupyter_server_config.json", json.dumps(server))
    home = room.home(room.instructor)
    copy_repository(room, home / "aekeras")
    write_as(
        room,
        room.instructor,
        home / ".jupyter" / "nbgrader_config.py",
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(room.course())!r}\n",
    )
    return {user: logins[user] for user in room.users}


def copy_repository(room, target):
    """The instructor's own copy of the repository's files (tracked and not ignored), made once."""
    if target.exists():
        print(f"Keeping the instructor's copy of the repository, {target}", flush=True)
        return
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    files = b"\0".join(f for f in listed if f and (ROOT / os.fsdecode(f)).is_file())
    tar = subprocess.Popen(
        ["tar", "-c", "-C", str(ROOT), "--null", "-T", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    extract = subprocess.Popen(
        room.as_user(room.instructor, ["sh", "-c", 'mkdir -p "$1" && tar -x -C "$1"', "sh"])
        + [str(target)],
        stdin=tar.stdout,
    )
    tar.stdin.write(files)
    tar.stdin.close()
    tar.stdout.close()
    if extract.wait() != 0 or tar.wait() != 0:
        raise HubError(f"Could not copy the repository {ROOT} to {target}.")
    print(f"Copied the repository to {target} (the instructor's, with the course)", flush=True)
    print("Preparing the datasets the grader reads, in that copy (once)", flush=True)
    prepared = subprocess.run(
        room.as_user(room.instructor, ["sh", "-c", 'cd "$1" && exec python3 -c "$2"', "sh"])
        + [str(target), GRADER_DATASETS],
        capture_output=True,
        text=True,
    )
    if prepared.returncode != 0:
        last = (prepared.stderr.strip().splitlines() or ["?"])[-1]
        print(
            f"warning: the datasets were not prepared ({last}); the first grading prepares them "
            "(set AEKERAS_RAW_DATA for a machine without internet, see data/README.md)",
            flush=True,
        )


# ----------------------------------------------------------------- the exchange


def _folder(path, uid, gid, mode):
    """Makes `path` a folder with this owner and mode (never through a link)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def make_exchange(room):
    """The exchange's folders, owners and modes (see aekeras_tools.hub_exchange)."""
    instructor = pwd.getpwnam(room.instructor).pw_uid
    graders = grp.getgrnam(room.graders).gr_gid
    course = room.exchange / COURSE_ID
    _folder(room.exchange, 0, 0, 0o755)
    _folder(course, instructor, graders, 0o755)
    _folder(course / "outbound", instructor, graders, 0o755)
    _folder(course / "inbound", instructor, graders, 0o3733)
    _folder(course / "feedback", instructor, graders, 0o711)
    for student in room.students:
        gid = pwd.getpwnam(student).pw_gid
        _folder(course / "feedback" / student, instructor, gid, 0o2750)


# ----------------------------------------------------------------- JupyterHub


def hub_config(room, ip, port, proxy):
    """The hub's configuration file (the settings that matter for TLJH and Z2JH are in README)."""
    settings = {
        "bind_url": f"http://{ip}:{port}",
        "hub_port": free_port(),
        "proxy_api_url": f"http://127.0.0.1:{free_port()}",
        "proxy": proxy,
        "state": str(room.state),
        "users": room.users,
        "singleuser": str(room.env / "bin" / "jupyterhub-singleuser"),
        "environment": {
            k: v
            for k, v in room.user_env(room.instructor).items()
            if k not in ("HOME", "USER", "LOGNAME", "SHELL")
        },
    }
    return f'''"""JupyterHub of the aekeras demo class (written by aekeras_tools.hub; rewritten on each start)."""

settings = {json.dumps(settings, indent=1)}
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = settings["bind_url"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = settings["proxy_api_url"]
c.JupyterHub.db_url = "sqlite:///" + settings["state"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = settings["state"] + "/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = settings["state"] + "/jupyterhub.pid"
# Unix accounts and their passwords, through PAM; only the class's accounts may log in.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no systemd-logind in containers
c.Authenticator.allowed_users = set(settings["users"])
# Each user's server runs as that Unix user, from the users' environment, in JupyterLab.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["singleuser"]]
c.Spawner.environment = settings["environment"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server
'''


def wait_until_up(process, url, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def class_processes(room):
    """pids of processes that run as one of the class's users."""
    uids = set()
    for user in room.users:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(user).pw_uid)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
    return found


def proxy_pid(room):
    with contextlib.suppress(OSError, ValueError):
        pid = int((room.state / "jupyterhub-proxy.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if PROXY.encode() in cmdline:
            return pid
    return None


def stop(room, hub, log=print):
    """Stops the hub (which stops its proxy and the users' servers), then anything left."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait()
    leftovers = class_processes(room)
    proxy = proxy_pid(room)
    for pid in leftovers + ([proxy] if proxy else []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    time.sleep(1 if leftovers or proxy else 0)
    for pid in class_processes(room) + ([proxy] if proxy_pid(room) else []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log(
        "Stopped the hub"
        + (f"; ended {len(leftovers)} leftover process(es) of the class" if leftovers else "")
        + ("; ended the proxy" if proxy else ""),
    )


def serve(room, ip, port, proxy, logins):
    """Starts JupyterHub, prints how to log in, and waits for Ctrl-C (or SIGTERM)."""
    for folder in (room.etc, room.logs):
        folder.mkdir(parents=True, exist_ok=True)
    config = room.etc / "jupyterhub_config.py"
    config.write_text(hub_config(room, ip, port, proxy))
    log_path = room.logs / "jupyterhub.log"
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    env = dict(os.environ, PATH=f"{Path(proxy).parent}:{room.env / 'bin'}:{os.environ['PATH']}")
    with open(log_path, "a") as log:
        hub = subprocess.Popen(
            [str(room.python), "-m", "jupyterhub", "-f", str(config)],
            cwd=room.state,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches this process, which stops the hub in order
        )
    try:
        local = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
        address = f"http://{local}:{port}"
        if not wait_until_up(hub, f"{address}/hub/api/"):
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            raise HubError(
                "JupyterHub did not start. The end of its log "
                f"({log_path}):\n  " + "\n  ".join(tail)
            )
        print(banner(room, f"http://{ip}:{port}" if local == ip else address, logins, log_path))
        while not stopping and hub.poll() is None:
            time.sleep(0.5)
        if hub.poll() is not None and not stopping:
            print(f"JupyterHub exited ({hub.returncode}); see {log_path}", flush=True)
    finally:
        stop(room, hub, log=lambda text: print(text, flush=True))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else 1


def banner(room, address, logins, log_path):
    width = max(len(u) for u in room.users)
    lines = [
        "",
        f"The aekeras demo class runs at {address}/ (JupyterHub, PAM logins)",
        f"  instructor  {room.instructor:<{width}}  password {logins[room.instructor]}",
        *(f"  student     {s:<{width}}  password {logins[s]}" for s in room.students),
        "",
        f"Formgrader (the instructor, in its own tab): {address}/user/{room.instructor}/formgrader",
        f"Course directory of the instructor: {room.course()}",
        "  In the instructor's terminal there (JupyterLab, File > New > Terminal):",
        "    nbgrader generate_assignment a1_autoencoders && nbgrader release_assignment a1_autoencoders",
        "    nbgrader collect a1_autoencoders",
        "    (cd ~/aekeras && python3 tasks.py grade a1_autoencoders)",
        "    nbgrader release_feedback a1_autoencoders",
        "  Students: the Assignments tab of JupyterLab (Fetch, Submit, Fetch Feedback), or",
        "    nbgrader fetch_assignment / submit / fetch_feedback a1_autoencoders in a terminal.",
        f"Hub log: {log_path}. Logins are kept in {room.state / 'logins.json'} (root only).",
        STOP_LINE,
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------- removal


def remove(room):
    """Deletes the class's accounts (those the hub made), its group and the hub's folder."""
    check_root()
    for pid in class_processes(room):  # userdel refuses an account whose processes run
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for user in room.users:
        with contextlib.suppress(KeyError):
            if pwd.getpwnam(user).pw_gecos.startswith(MARK):
                subprocess.run(["userdel", "--remove", user], check=False, capture_output=True)
                print(f"Deleted the account {user}", flush=True)
    with contextlib.suppress(KeyError):
        grp.getgrnam(room.graders)
        subprocess.run(["groupdel", room.graders], check=False)
    if (room.dir / "state" / "logins.json").exists():
        shutil.rmtree(room.dir)
        print(f"Deleted {room.dir}", flush=True)
    return 0


# ----------------------------------------------------------------- command line


def prepare(room, ip, port, python=None):
    """Every check and every folder, account and file of the class; returns (proxy, logins)."""
    check_root()
    proxy = find_proxy()
    check_port(ip, port)
    check_reachable(room.dir)
    room.dir.mkdir(parents=True, exist_ok=True)
    room.dir.chmod(0o755)
    make_environment(room, python)
    logins = make_accounts(room)
    make_exchange(room)
    return proxy, logins


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=2, help="number of students (default 2)")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    parser.add_argument("--ip", default="127.0.0.1", help="the hub's address (default 127.0.0.1)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("AEKERAS_HUB_DIR", DEFAULT_DIR)),
        help=f"the hub's folder (default $AEKERAS_HUB_DIR or {DEFAULT_DIR})",
    )
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="of the account names (ae-)")
    parser.add_argument("--python", help="a Python every user can run, for the users' environment")
    parser.add_argument("--remove", action="store_true", help="delete the class and its folder")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 200:
        parser.error(f"--students must be between 1 and 200. Received: --students {args.students}")
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535. Received: --port {args.port}")
    if not re.fullmatch(r"[a-z][a-z0-9]{0,11}-?", args.prefix):
        parser.error(
            "--prefix must be a lowercase letter, up to 11 more letters or digits and an optional "
            f"'-' (account names are <prefix>student1 ...). Received: --prefix {args.prefix!r}"
        )
    return args


def main(argv=None):
    args = parse_args(argv)
    room = Classroom(args.dir.resolve(), students=args.students, prefix=args.prefix)
    try:
        if args.remove:
            return remove(room)
        proxy, logins = prepare(room, args.ip, args.port, args.python)
        return serve(room, args.ip, args.port, proxy, logins)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
