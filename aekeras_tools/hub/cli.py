"""The command line of the demo hub: `python -m aekeras_tools.hub` (or `python3 tasks.py hub`)."""

import argparse
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aekeras_tools.hub
from aekeras_tools.hub import accounts
from aekeras_tools.hub import checks
from aekeras_tools.hub import environment
from aekeras_tools.hub import server
from aekeras_tools.hub.classroom import DEFAULT_DIR
from aekeras_tools.hub.classroom import DEFAULT_PREFIX
from aekeras_tools.hub.classroom import MARK
from aekeras_tools.hub.classroom import Classroom
from aekeras_tools.hub.classroom import HubError

# --help shows the package's docstring up to its list of modules (what a user of the command reads).
DESCRIPTION = aekeras_tools.hub.__doc__.split("\nModules, named by what they hold")[0]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m aekeras_tools.hub",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def prepare(room, ip, port, python=None):
    """Every check and every folder, account and file of the class; returns (proxy, logins)."""
    checks.check_root()
    proxy = checks.find_proxy()
    checks.check_port(ip, port)
    checks.check_reachable(room.dir)
    room.dir.mkdir(parents=True, exist_ok=True)
    room.dir.chmod(0o755)
    environment.make_environment(room, python)
    logins = accounts.make_accounts(room)
    accounts.make_exchange(room)
    return proxy, logins


def remove(room):
    """Deletes the class's accounts (those the hub made), its group and the hub's folder."""
    checks.check_root()
    for pid in server.class_processes(room):  # userdel refuses an account whose processes run
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


def main(argv=None):
    args = parse_args(argv)
    room = Classroom(args.dir.resolve(), students=args.students, prefix=args.prefix)
    try:
        if args.remove:
            return remove(room)
        proxy, logins = prepare(room, args.ip, args.port, args.python)
        return server.serve(room, args.ip, args.port, proxy, logins)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
