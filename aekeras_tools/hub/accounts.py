"""The Unix side of the class: its accounts, their group, passwords and Jupyter settings.

Also the instructor's copy of the repository (the nbgrader course directory), and the exchange's
folders with their owners and modes, made by root (the walls that `exchange.py` relies on).
"""

import contextlib
import grp
import json
import os
import pwd
import secrets
import subprocess

from aekeras_tools.hub.classroom import COURSE_ID
from aekeras_tools.hub.classroom import MARK
from aekeras_tools.hub.classroom import HubError
from aekeras_tools.paths import ROOT

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
# What the grader reads (course/assignments/grading/checks_*.py), prepared once in the instructor's
# copy: two graders' workers preparing it at once on the first grading would race.
GRADER_DATASETS = (
    "import aekeras; d = aekeras.datasets; d.load_mnist('train', n=10); "
    "d.load_mnist('test', n=10); d.load_fashion_mnist('test', n=10)"
)


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
    """The exchange's folders, owners and modes (see aekeras_tools.hub.exchange)."""
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
