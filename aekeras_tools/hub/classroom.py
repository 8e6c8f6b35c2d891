"""The class: its account names and folders (`Classroom`), the hub's error, the shared names."""

import os
import pwd
import sys
from pathlib import Path

DEFAULT_DIR = "/srv/aekeras-hub"
DEFAULT_PREFIX = "ae-"
COURSE_ID = "aekeras"  # course/assignments/nbgrader_config.py
# The comment field of every account the command makes; it changes no other account.
MARK = "aekeras demo hub"
# Where the users' environment comes from: the project's environment (the one running this).
PROJECT_ENV = Path(sys.prefix)


class HubError(RuntimeError):
    """The hub cannot start; the message says what was wrong and what to do."""


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
