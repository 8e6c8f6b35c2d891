"""A sandbox for untrusted code, built from nothing with bubblewrap: it sees only what it is given.

(Over 400 lines, a third of them this docstring: the walls are one concept, and their threat model
belongs beside the flags that make them.)

The grader runs every piece of student code through `run`; it never runs student code itself.
`run` starts the command with [bubblewrap](https://github.com/containers/bubblewrap) (`bwrap`,
Debian's `bubblewrap` package, the tool Flatpak is built on), whose command-line flags build the
sandbox's file system and namespaces as separate argv items (no shell, no word splitting, so a path
with a space is one path), and which fails with a message when a mount cannot be made.

What a sandboxed command sees (the allowlist):

- **An empty root** (`--tmpfs /`, read-only once built), into which go, read-only: the system's
  `/usr` (and `/bin`, `/lib`, ... as the host has them: links into `/usr`, or folders), the dynamic
  loader's cache and configuration, `/etc/localtime` and `/etc/fonts`, and an `/etc/passwd` and
  `/etc/group` written for the sandbox that name its own user only; then the mounts the caller
  lists (`Mount`: for the grader, the interpreter, the packages a step imports and the dataset
  files its cells load).
- **Its folder** `/sandbox` (`FOLDER`): the working directory and HOME, a tmpfs of
  `Limits.folder_bytes`, and the files the caller mounts there (read-only inputs, and output files
  that are the only host files it can write, each at most `Limits.file_bytes`).
- **A private `/tmp` and `/dev/shm`** (tmpfs of `Limits.tmp_bytes` each), `/dev` basics (null,
  zero, random, urandom, tty) and its own `/proc`.
- **Nothing else**: no home folder, no repository, no course directory, no machine `/tmp`, no other
  mount, no environment variable but those passed (`--clearenv`).

Namespaces and privileges: new PID, network (loopback only, down: no route anywhere), IPC, UTS
(hostname `sandbox`) and mount namespaces. A grader that runs as root runs the code as a fresh
unprivileged uid, one per sandbox (`setpriv`, after the mounts: no capabilities, no new privileges),
so that it owns no file of the machine and `RLIMIT_NPROC` counts its processes alone; a grader that
runs as an ordinary user runs it in a new user namespace, as itself, without capabilities and
without the right to make further user namespaces. The sandbox dies with the grader's thread that
started it (`--die-with-parent`), and at its wall-clock limit the whole PID namespace goes.

Limits (`Limits`, set with util-linux's `prlimit` before the command starts): wall clock (the
process tree is killed), CPU seconds per process (`RLIMIT_CPU`), address space per process
(`RLIMIT_AS`: an allocation beyond it fails with MemoryError; it counts reserved memory, so it must
leave room for TensorFlow's reservations), processes and threads (`RLIMIT_NPROC`), the size of any
file written, stdout and stderr included (`RLIMIT_FSIZE`), open files, no core dumps; and the sizes
of the tmpfs folders above, so the disk and memory a sandbox can fill are bounded.

What it does not stop: use of the CPU up to the limits, and what a process can learn about the
machine from its own `/proc` (the kernel version, the CPU, the memory size, the host paths of the
mounts it was given).

Example:

>>> import sys
>>> from aekeras_tools.grading import sandbox
>>> if sandbox.unavailable() is None:
...     result = sandbox.run([sys.executable, "-c", "print(6 * 7)"], sandbox.Limits(wall_s=30),
...                          mounts=sandbox.python_mounts())
...     assert (result.status, result.stdout.strip()) == ("ok", "42"), result
"""

import contextlib
import dataclasses
import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The statuses of a run, in the order a report lists them.
OK, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, CRASHED = (
    "ok",
    "timed out",
    "out of memory",
    "output flood",
    "crashed",
)
# The process writes this (or std::bad_alloc) to stderr when an allocation fails under RLIMIT_AS.
MEMORY_ERRORS = (
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "ResourceExhaustedError",
)
FOLDER = "/sandbox"  # the sandbox's working directory and HOME
MIB = 2**20
# Host system paths a process needs: /usr, and the top-level links into it or folders beside it.
SYSTEM_FOLDERS = ("/usr",)
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Files of /etc that the dynamic loader and the C library read; nothing else of /etc.
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
)
INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install "
    "bubblewrap`) and util-linux (`setpriv`, `prlimit`), and allow unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 "
    "kernel.apparmor_restrict_unprivileged_userns=0)."
)


class SandboxError(RuntimeError):
    """The sandbox could not be made (a grader or machine problem, not the sandboxed code's)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed command.

    Args:
        wall_s: wall-clock seconds before the whole process tree is killed.
        cpu_s: CPU seconds per process (RLIMIT_CPU); default: the wall-clock limit.
        memory_bytes: address space per process (RLIMIT_AS).
        processes: processes and threads (RLIMIT_NPROC).
        file_bytes: the largest file it may write, stdout and stderr included (RLIMIT_FSIZE).
        open_files: open file descriptors (RLIMIT_NOFILE).
        folder_bytes: the size of its folder, `FOLDER` (a tmpfs).
        tmp_bytes: the size of its `/tmp` and of its `/dev/shm` (tmpfs, each).

    Raises:
        ValueError: a limit that is not a positive number.
    """

    wall_s: float = 60.0
    cpu_s: float | None = None
    memory_bytes: int = 8 * 2**30
    processes: int = 256
    file_bytes: int = 64 * MIB
    open_files: int = 256
    folder_bytes: int = 512 * MIB
    tmp_bytes: int = 256 * MIB

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "cpu_s":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(
                    f"Limits.{field.name} must be a positive number. Received: "
                    f"{field.name}={value!r}"
                )


@dataclasses.dataclass(frozen=True)
class Mount:
    """A host path shown in the sandbox: `source` at `target` (a path relative to the sandbox's folder,
    or absolute), read-only unless `writable`; `source=None`: an empty read-only folder at `target`,
    which covers what an earlier mount put there. Only files may be writable (each bounded by
    `Limits.file_bytes`), so a sandbox cannot fill the host's disk."""

    source: Path | None
    target: str
    writable: bool = False

    def __post_init__(self):
        if self.source is None:
            if self.writable:
                raise ValueError(f"an empty folder is read-only. Received: target={self.target!r}")
            return
        object.__setattr__(self, "source", Path(self.source))
        if self.writable and not self.source.is_file():
            raise ValueError(
                "a writable mount must be an existing file (a folder would let the sandbox fill "
                f"the disk). Received: source={str(self.source)!r}"
            )

    @property
    def path(self):
        """The absolute path in the sandbox."""
        return self.target if self.target.startswith("/") else f"{FOLDER}/{self.target}"


@dataclasses.dataclass
class Result:
    """What a sandboxed command did: `status` (OK, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, CRASHED),
    its exit code (negative: the signal), the ends of its stdout and stderr, and the seconds it ran."""

    status: str
    returncode: int
    stdout: str
    stderr: str
    wall_s: float

    @property
    def reason(self):
        """One line that says why a run did not end well ("" for OK)."""
        tail = self.stderr.strip().splitlines()[-1:] or [""]
        return {
            OK: "",
            TIMED_OUT: f"killed after the wall-clock limit of {self.wall_s:.0f} s",
            OUT_OF_MEMORY: f"ran out of its memory limit ({tail[0][:200]})",
            OUTPUT_FLOOD: "wrote more output than the file-size limit",
            CRASHED: f"exited with code {self.returncode} ({tail[0][:200]})",
        }[self.status]


def _root():
    return os.geteuid() == 0


def _namespaces():
    # Root makes the namespaces itself (and later becomes a fresh uid); an ordinary user in a new
    # user namespace, where it cannot make another one.
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    if _root():
        return [*common, "--unshare-cgroup-try"]
    return ["--unshare-user", *common, "--unshare-cgroup-try", "--disable-userns"]


@functools.cache
def unavailable():
    """None if sandboxes can be made here, else the reason (what is missing and how to get it)."""
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found on PATH. {INSTALL_HINT}"
    try:
        probe = run(["true"], Limits(wall_s=30))
    except SandboxError as error:
        return f"bubblewrap cannot make a sandbox here: {error}. {INSTALL_HINT}"
    if probe.status != OK:
        return f"a sandboxed `true` failed ({probe.reason}). {INSTALL_HINT}"
    return None


def require():
    """Raises SandboxError with the reason when sandboxes cannot be made here."""
    reason = unavailable()
    if reason:
        raise SandboxError(reason)


def python_mounts(executable=None, prefixes=None):
    """The read-only mounts an interpreter needs: its installation and its virtual environment's
    (each at its own path, where the interpreter and its `pyvenv.cfg` look for them)."""
    prefixes = prefixes or {sys.base_prefix, sys.prefix}
    if executable:
        prefixes.add(str(Path(executable).resolve().parent.parent))
    return [Mount(Path(p).resolve(), str(Path(p).resolve())) for p in sorted(prefixes)]


def _tasks_of(uid):
    """Processes and threads of `uid` now (RLIMIT_NPROC counts them all)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            count += int(fields.get("Threads", "1"))
    return count


def _prlimit(limits, processes, warm_cpu_s=0.0):
    cpu = int((limits.cpu_s or limits.wall_s) + warm_cpu_s) + 1
    return [
        "prlimit",
        # SIGXCPU at the soft limit (reported as a timeout), SIGKILL 2 s later.
        f"--cpu={cpu}:{cpu + 2}",
        f"--as={limits.memory_bytes}",
        f"--nproc={processes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]


def _system(identity_file):
    args = ["--tmpfs", "/", "--perms", "0755", "--dir", "/etc"]
    for folder in SYSTEM_FOLDERS:
        args += ["--ro-bind", folder, folder]
    for path in SYSTEM_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    for name, text in identity_file.items():
        args += ["--ro-bind", str(text), f"/etc/{name}"]
    return [
        *args,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]


def _mounts(mounts, limits):
    """The folder, /tmp, /dev/shm and the caller's mounts, with the folders above each made 0755."""
    args = [
        *("--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"),
        *("--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/dev/shm"),
        # 1777: root makes it, the sandbox's uid writes in it (the only user there).
        *("--size", str(limits.folder_bytes), "--perms", "1777", "--tmpfs", FOLDER),
    ]
    made = {"/", "/tmp", "/dev", "/dev/shm", "/etc", "/proc", FOLDER}
    for mount in mounts:
        for parent in reversed(Path(mount.path).parents):
            if str(parent) not in made and not str(parent).startswith(("/usr/", "/proc/")):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        if mount.source is None:
            args += ["--size", "4096", "--perms", "0555", "--tmpfs", mount.path]
            args += ["--remount-ro", mount.path]
        elif not mount.source.exists():
            raise SandboxError(f"cannot mount {mount.source}: no such file or folder")
        else:
            args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.path]
        made.add(mount.path)
    return args


def _tail(path, size=8000):
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - size))
        return file.read().decode("utf-8", errors="replace")


def run(argv, limits=Limits(), *, env=None, mounts=()):
    """Runs `argv` in a new sandbox under `limits`, as the module docstring says.

    Args:
        argv: the command; its first item is a path in the sandbox (e.g. the interpreter, mounted
            with `python_mounts`) or a program of the system's `/usr/bin`.
        limits: a `Limits`.
        env: the environment variables of the command (nothing else of the grader's environment
            is passed); HOME, TMPDIR, PATH and LANG are set.
        mounts: `Mount`s: what the command sees besides the system.

    Returns:
        A `Result`.

    Raises:
        SandboxError: the sandbox could not be made (bubblewrap missing, a mount failed).
    """
    return Sandbox(argv, limits, env=env, mounts=mounts).finish()


class Sandbox:
    """A sandboxed command started now and finished later (`run` does both at once).

    The command starts at once, with its standard input a pipe; `finish(data)` writes `data` to it,
    closes it, and waits for the command with the wall-clock limit counted from then. So a command
    can do its slow start (an interpreter importing its libraries) while the grader does something
    else, and wait for the word to go on: the walls are those of `run` from the first instruction.
    `kill()` ends a sandbox that is no longer needed. Arguments as for `run`; `warm_cpu_s`: the CPU
    seconds its start may take, added to the CPU limit.
    """

    def __init__(self, argv, limits=Limits(), *, env=None, mounts=(), warm_cpu_s=0.0):
        if shutil.which("bwrap") is None:
            raise SandboxError(f"bwrap not found on PATH. {INSTALL_HINT}")
        self.limits = limits
        self.logs = Path(tempfile.mkdtemp(prefix="aekeras-sandbox-"))
        try:
            self._start(argv, list(mounts), env, warm_cpu_s)
        except BaseException:
            shutil.rmtree(self.logs, ignore_errors=True)
            raise

    def _start(self, argv, mounts, env, warm_cpu_s):
        limits, logs = self.limits, self.logs
        uid = random.randrange(200_000, 2**31 - 2) if _root() else os.getuid()
        identity = {"passwd": logs / "passwd", "group": logs / "group"}
        identity["passwd"].write_text(f"sandbox:x:{uid}:{uid}:sandbox:{FOLDER}:/usr/sbin/nologin\n")
        identity["group"].write_text(f"sandbox:x:{uid}:\n")
        for path in identity.values():
            path.chmod(0o644)
        if _root():
            for mount in mounts:
                if mount.writable:
                    os.chown(mount.source, uid, uid)
            # The code runs as the fresh uid: bwrap keeps what setpriv needs to get there, setpriv
            # drops it (no capabilities left, none to gain).
            become = [
                *("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"),
                *("--cap-add", "CAP_SETPCAP", "--"),
                *("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"),
                *("--no-new-privs", "--bounding-set=-all", "--inh-caps=-all"),
                # A new uid clears the parent-death signal that --die-with-parent set: set it again.
                *("--pdeathsig", "KILL", "--"),
            ]
            processes = limits.processes
        else:
            become = ["--"]
            # RLIMIT_NPROC counts every process of this user, the grader's own included.
            processes = limits.processes + _tasks_of(uid)
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            **(env or {}),
            "HOME": FOLDER,
            "TMPDIR": "/tmp",
        }
        info_read, info_write = os.pipe()
        command = [
            "bwrap",
            *_namespaces(),
            *("--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"),
            *_system(identity),
            *_mounts(mounts, limits),
            *("--remount-ro", "/", "--chdir", FOLDER),
            *[a for key, value in environment.items() for a in ("--setenv", key, str(value))],
            *("--info-fd", str(info_write)),
            *become,
            *_prlimit(limits, processes, warm_cpu_s),
            *map(str, argv),
        ]
        self.stdout_path, self.stderr_path = logs / "stdout", logs / "stderr"
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:
            try:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                    pass_fds=(info_write,),
                )
            finally:
                os.close(info_write)
        self.info = info_read

    def kill(self):
        """Ends the sandbox (and everything in it) and forgets it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        self.process.wait()
        os.close(self.info)
        shutil.rmtree(self.logs, ignore_errors=True)

    def finish(self, data=b""):
        """Sends `data` to the command's standard input, closes it, waits: a `Result`.

        Raises:
            SandboxError: the sandbox could not be made.
        """
        limits, process = self.limits, self.process
        try:
            start = time.perf_counter()
            with contextlib.suppress(BrokenPipeError):  # a command that ended reads nothing
                process.stdin.write(data)
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            try:
                process.wait(timeout=limits.wall_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            wall = time.perf_counter() - start
            # bwrap writes its child's pid there once the sandbox is made: nothing there, nothing ran.
            os.set_blocking(self.info, False)
            with os.fdopen(self.info, "rb") as info:
                try:
                    started = info.read() or b""
                except BlockingIOError:
                    started = b""
            out, err = _tail(self.stdout_path), _tail(self.stderr_path)
            if not started and not timed_out:
                raise SandboxError(f"bwrap failed before the command started: {err.strip()[-500:]}")
            sizes = (os.path.getsize(self.stdout_path), os.path.getsize(self.stderr_path))
            flooded = max(sizes) >= limits.file_bytes
        finally:
            shutil.rmtree(self.logs, ignore_errors=True)
        code = process.returncode
        if timed_out or code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            status = TIMED_OUT
        elif flooded or code in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
            status = OUTPUT_FLOOD
        elif code and any(marker in err for marker in MEMORY_ERRORS):
            status = OUT_OF_MEMORY
        elif code:
            status = CRASHED
        else:
            status = OK
        return Result(status, code, out, err, limits.wall_s if timed_out else wall)
