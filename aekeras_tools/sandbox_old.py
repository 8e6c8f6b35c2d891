"""A restricted subprocess for untrusted code: resource limits, a private folder, no network, hidden files.

The grader (`aekeras_tools.grading`) runs every piece of student code through `run`; it never runs
student code itself. What each wall enforces on Linux, and what it does not:

- **Wall-clock limit.** The command starts in a new session; at the deadline the whole process group
  is killed with SIGKILL. With namespaces (below) the code also runs in its own PID namespace, whose
  processes the kernel kills together when its first process dies, so a child that calls `setsid`
  cannot outlive the limit either. Without namespaces it can (documented, not tested). With
  namespaces the sandbox also dies with the grader's thread that started it (parent-death signals,
  `setpriv --pdeathsig`), so a grader killed mid-step leaves no student code running.
- **CPU time** (`RLIMIT_CPU`): SIGXCPU, then SIGKILL, after `cpu_s` seconds of CPU summed over the
  threads of one process (each child process has its own count; the wall-clock limit bounds them all).
- **Memory** (`RLIMIT_AS`): address space per process. An allocation beyond it fails (MemoryError in
  Python, std::bad_alloc in C++). It counts reserved, not resident, memory, so the limit must leave room
  for the libraries' reservations (TensorFlow reserves a few GB); it is per process, not a total over a
  process tree. A cgroup would bound the total; it needs systemd or root, so it is not used.
- **Processes** (`RLIMIT_NPROC`): processes and threads of the user. With namespaces the sandbox runs
  as its own user (mapped to a fresh unprivileged uid when the grader is root, since root ignores the
  limit), so the count is that sandbox's alone; without them it counts every process of the grader's
  user, so the fallback sets it no lower than what already runs.
- **Files** (`RLIMIT_FSIZE`, `RLIMIT_NOFILE`, `RLIMIT_CORE`): no file (stdout and stderr included,
  which go to files) grows beyond `file_bytes`, a write past it kills the process (SIGXFSZ);
  no core dumps.
- **Network, files, privileges** (Linux namespaces through util-linux's `unshare`, used when
  `namespaces_available()`): a new network namespace with only a loopback device that is down (no
  route anywhere); a new mount namespace in which every path of `hide` is covered by an empty tmpfs,
  the parent folder of the sandbox folders too (so no other submission's folder is visible), then
  the sandbox folder mounted back alone; every other mount is made read-only, so the code can write
  only in its folder; then all capabilities are dropped (`setpriv`, no new privileges), so the code
  cannot undo a mount. A grader that runs as root runs the code as a fresh unprivileged uid, and
  also hides root's home folder (but for a Python installed there). Other world-readable files of the
  machine stay readable. Without namespaces (no unprivileged user namespaces) none of this holds:
  `run` then refuses unless `require_isolation=False`, and the result says so.
- **Environment**: a minimal one (PATH, LANG, HOME and TMPDIR in the folder, and what the caller
  passes); the working directory is the sandbox folder.

Example:

>>> import tempfile
>>> from aekeras_tools import sandbox
>>> with tempfile.TemporaryDirectory() as folder:
...     result = sandbox.run(["python3", "-c", "print(6 * 7)"], folder, sandbox.Limits(wall_s=30),
...                          require_isolation=False)
>>> result.status, result.stdout.strip()
('ok', '42')
"""

import dataclasses
import functools
import os
import random
import resource
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
    """

    wall_s: float = 60.0
    cpu_s: float | None = None
    memory_bytes: int = 8 * 2**30
    processes: int = 256
    file_bytes: int = 64 * 2**20
    open_files: int = 256


@dataclasses.dataclass
class Result:
    """What a sandboxed command did: `status` (OK, TIMED_OUT, OUT_OF_MEMORY, OUTPUT_FLOOD, CRASHED),
    its exit code (negative: the signal), the ends of its stdout and stderr, the seconds it ran, and
    whether the namespaces (network, files) were in force."""

    status: str
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    isolated: bool

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


# The next command dies when the thread that started it ends (util-linux 2.33 or newer).
_PDEATHSIG = ["setpriv", "--pdeathsig", "KILL"]


@functools.cache
def namespaces_available():
    """Whether `unshare` can make user, network, mount and PID namespaces here (unprivileged or root),
    and `setpriv` set a parent-death signal inside them."""
    if not (shutil.which("unshare") and shutil.which("setpriv") and shutil.which("prlimit")):
        return False
    try:
        probe = subprocess.run(
            [*_PDEATHSIG, *_unshare_prefix(_sandbox_uid()), *_PDEATHSIG, "true"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _sandbox_uid():
    # Root ignores RLIMIT_NPROC and may write most files: a root grader runs the code as a fresh
    # unprivileged uid instead (one per sandbox, so that RLIMIT_NPROC counts its processes alone).
    return random.randrange(200_000, 2**31 - 2) if os.geteuid() == 0 else None


def _unshare_prefix(uid=None):
    # Root makes the namespaces itself; another user in a user namespace where it is root.
    return [
        "unshare",
        *(["--map-root-user"] if uid is None else []),
        "--net",
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
    ]


_SETUP = r"""
set -e
work=$1; shift
cd "$work"
# Folders to keep visible under a hidden one (the interpreter under a hidden home): mounted aside first.
i=0
for path in $REVEAL; do
    mkdir -p ".reveal$i"; mount --bind "$path" ".reveal$i"; i=$((i + 1))
done
for path in $HIDE; do
    if [ -d "$path" ]; then mount -t tmpfs -o size=64k,mode=0755 none "$path"; fi
done
# The folder of every sandbox is now covered: mount ours back, from the directory we stand in.
i=0
for path in $REVEAL; do
    mkdir -p "$path"; mount --no-canonicalize --bind ".reveal$i" "$path"; i=$((i + 1))
done
mkdir -p "$work"
mount --no-canonicalize --bind . "$work"
cd "$work"
for pair in $BIND; do
    source=${pair%%=*}; target=$work/${pair#*=}
    mkdir -p "$target"; mount --bind "$source" "$target"
done
for path in $HIDE_AFTER; do
    if [ -d "$path" ]; then mount -t tmpfs -o size=64k,mode=0755 none "$path"; fi
done
mount -t tmpfs -o size=16m none /dev/shm 2>/dev/null || true
# Everything but the sandbox folder read-only (mountinfo's 5th field is the mount point).
while read -r _ _ _ _ point _; do
    [ "$point" = "$work" ] && continue
    mount -o remount,bind,ro "$point" 2>/dev/null || true
done < /proc/self/mountinfo
# A new uid clears the parent-death signal that `unshare --kill-child` set: set it again.
exec prlimit $LIMITS setpriv $USER_IDS --bounding-set=-all --inh-caps=-all --no-new-privs \
    --pdeathsig KILL -- "$@"
"""


def _root_home(executable, hide, reveal):
    """A root grader's home is hidden too (keys, histories), but an interpreter installed there
    (pyenv, conda) stays visible: the sandbox runs as an unprivileged uid that could not reach it."""
    home = Path.home().resolve()
    if home == Path("/"):
        return hide, reveal
    interpreters = {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(executable).resolve().parent.parent,
    }
    kept = [p.resolve() for p in interpreters if home in p.resolve().parents]
    return [*hide, home], sorted({*map(Path, reveal), *kept})


def _rlimits(limits):
    cpu = int(limits.cpu_s or limits.wall_s) + 1
    return {
        # SIGXCPU at the soft limit (reported as a timeout), SIGKILL 2 s later.
        resource.RLIMIT_CPU: (cpu, cpu + 2),
        resource.RLIMIT_AS: (limits.memory_bytes,) * 2,
        resource.RLIMIT_NPROC: (limits.processes,) * 2,
        resource.RLIMIT_FSIZE: (limits.file_bytes,) * 2,
        resource.RLIMIT_NOFILE: (limits.open_files,) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }


def _prlimit_args(limits):
    names = {
        resource.RLIMIT_CPU: "cpu",
        resource.RLIMIT_AS: "as",
        resource.RLIMIT_NPROC: "nproc",
        resource.RLIMIT_FSIZE: "fsize",
        resource.RLIMIT_NOFILE: "nofile",
        resource.RLIMIT_CORE: "core",
    }
    return " ".join(
        f"--{names[key]}={soft}:{hard}" for key, (soft, hard) in _rlimits(limits).items()
    )


def _tail(path, size=8000):
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - size))
        return file.read().decode("utf-8", errors="replace")


def run(
    argv,
    folder,
    limits=Limits(),
    *,
    env=None,
    hide=(),
    hide_after=(),
    reveal=(),
    bind=(),
    require_isolation=True,
):
    """Runs `argv` in `folder` under `limits`, isolated as the module docstring says.

    Args:
        argv: the command (its first item found on PATH).
        folder: the sandbox folder: working directory, HOME and TMPDIR, the only place it can write.
            Its parent folder is hidden too (other sandboxes live there).
        limits: a `Limits`.
        env: further environment variables (the rest of the grader's environment is not passed).
        hide: folders covered by an empty folder before the sandbox folder is mounted back.
        hide_after: folders covered after the `bind` mounts are made (e.g. site-packages, once
            NumPy is mounted into the folder).
        reveal: folders inside `hide` that stay visible (read-only), e.g. the interpreter.
        bind: (source, name) pairs: `source` is mounted read-only at `folder/name`.
        require_isolation: if True (the default), raise when namespaces are unavailable, rather
            than run with the rlimits alone.

    Returns:
        A `Result`.

    Raises:
        RuntimeError: namespaces are unavailable and `require_isolation` is True.
    """
    folder = Path(folder).resolve()
    isolated = namespaces_available()
    if not isolated and require_isolation:
        raise RuntimeError(
            "this machine cannot make Linux user namespaces (`unshare --user --net --mount` failed, "
            "or `setpriv --pdeathsig`, util-linux 2.33 or newer, is missing), so student code would "
            "run without network or file isolation. Enable unprivileged user namespaces (sysctl "
            "kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 "
            "kernel.apparmor_restrict_unprivileged_userns=0), install util-linux 2.33 or newer, or "
            "pass require_isolation=False."
        )
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    argv = [shutil.which(argv[0]) or argv[0], *argv[1:]]
    logs = Path(tempfile.mkdtemp(prefix="sandbox-logs-"))
    stdout_path, stderr_path = logs / "stdout", logs / "stderr"
    if isolated:
        uid = _sandbox_uid()
        if uid is not None:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, uid, uid, follow_symlinks=False)
            hide, reveal = _root_home(argv[0], hide, reveal)
        environment.update(
            # Paths without spaces.
            HIDE=" ".join(str(p) for p in (folder.parent, *hide)),
            REVEAL=" ".join(str(p) for p in reveal),
            USER_IDS="" if uid is None else f"--reuid={uid} --regid={uid} --clear-groups",
            HIDE_AFTER=" ".join(str(p) for p in hide_after),
            BIND=" ".join(f"{source}={name}" for source, name in bind),
            LIMITS=_prlimit_args(limits),
        )
        # If the grader dies (killed, out of memory), its sandboxes die with it, not at their
        # wall-clock limit: `unshare` gets SIGKILL when the grader's thread ends, and takes the
        # whole PID namespace with it (`--kill-child`).
        command = [
            *_PDEATHSIG,
            *_unshare_prefix(uid),
            "sh",
            "-c",
            _SETUP,
            "sandbox",
            str(folder),
            *argv,
        ]
        preexec = None
    else:
        command = argv

        def preexec():
            for key, (soft, hard) in _rlimits(limits).items():
                if key == resource.RLIMIT_NPROC:  # counts every process of the user here
                    continue
                resource.setrlimit(key, (soft, hard))

    start = time.perf_counter()
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=preexec,
        )
        try:
            process.wait(timeout=limits.wall_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    wall = time.perf_counter() - start
    out, err = _tail(stdout_path), _tail(stderr_path)
    flooded = max(os.path.getsize(stdout_path), os.path.getsize(stderr_path)) >= limits.file_bytes
    shutil.rmtree(logs, ignore_errors=True)
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
    return Result(status, code, out, err, limits.wall_s if timed_out else wall, isolated)
