"""The class grader's sandbox (aekeras_tools.grading.sandbox): an allowlist built from an empty file system.

Each test runs a small Python program in a sandbox and checks a wall: what it sees, where it can write,
that it has no network and no other process, that it runs as nobody the machine knows, and its limits.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from aekeras_tools.grading import sandbox

from grading_course import ROOT
from grading_course import require_sandbox

# The grader is instructor tooling that runs in the complete environment (tasks.py grade), whatever
# backend the course uses: its tests run once, with the TensorFlow suite.
pytestmark = pytest.mark.tensorflow_only
PYTHON = sandbox.python_mounts()


@pytest.fixture(autouse=True)
def _sandbox():
    require_sandbox()


def run(code, limits=None, mounts=(), env=None):
    limits = limits or sandbox.Limits(wall_s=60)
    return sandbox.run(
        [sys.executable, "-c", textwrap.dedent(code)], limits, mounts=[*PYTHON, *mounts], env=env
    )


def test_sees_only_the_system_the_interpreter_and_what_it_is_given(tmp_path):
    given = tmp_path / "a folder with spaces"
    given.mkdir()
    (given / "input.txt").write_text("given")
    (tmp_path / "not given.txt").write_text("secret")
    result = run(
        f"""
        import os, sys
        print(sorted(os.listdir("/")))
        print(sorted(os.listdir("/etc")))
        print(open({str(given / "input.txt")!r}).read())
        print(os.path.exists({str(tmp_path / "not given.txt")!r}), os.path.exists({str(ROOT / ".git")!r}))
        print(sorted(os.listdir("/sandbox")), os.getcwd(), os.environ["HOME"])
        """,
        mounts=[sandbox.Mount(given, str(given))],
    )
    assert result.status == sandbox.OK, result
    top, etc, content, hidden, folder = result.stdout.strip().splitlines()
    allowed = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sandbox"}
    allowed |= {"tmp", "usr", *(Path(m.target).parts[1] for m in [*PYTHON])}
    allowed |= {Path(str(given)).parts[1]}
    assert set(eval(top)) <= allowed, top
    assert set(eval(etc)) <= {"passwd", "group", *(Path(p).name for p in sandbox.SYSTEM_FILES)}
    assert content == "given" and hidden == "False False"
    assert folder == "[] /sandbox /sandbox"


def test_writes_only_its_folder_tmp_and_the_output_files_it_is_given(tmp_path):
    out = tmp_path / "out.txt"
    out.touch()
    readonly = tmp_path / "readonly.txt"
    readonly.write_text("keep")
    result = run(
        f"""
        import os
        for path in ("/sandbox/mine.txt", "/tmp/mine.txt", "/sandbox/out.txt"):
            open(path, "w").write("written")
        for path in ({str(readonly)!r}, "/usr/mine.txt", "/etc/passwd", "/mine.txt"):
            try:
                open(path, "a").write("x")
                print("wrote", path)
            except OSError as error:
                print("refused", path, error.strerror)
        """,
        mounts=[
            sandbox.Mount(out, "out.txt", writable=True),
            sandbox.Mount(readonly, str(readonly)),
        ],
    )
    assert result.status == sandbox.OK, result
    assert "wrote" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 4
    assert out.read_text() == "written" and readonly.read_text() == "keep"


def test_a_writable_mount_must_be_a_file(tmp_path):
    with pytest.raises(ValueError, match="a writable mount must be an existing file"):
        sandbox.Mount(tmp_path, "folder", writable=True)


def test_a_missing_mount_is_the_graders_error_not_the_students(tmp_path):
    with pytest.raises(sandbox.SandboxError, match="no such file"):
        run("print(1)", mounts=[sandbox.Mount(tmp_path / "missing", "/data/missing")])


def test_has_no_network_not_even_to_a_listener_of_this_machine():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run(
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3)
                print("connected")
            except OSError as error:
                print("no network:", error)
            """
        )
    assert result.status == sandbox.OK, result
    assert "no network" in result.stdout, result.stdout


def test_sees_no_other_process_and_runs_as_nobody_the_machine_knows():
    result = run(
        """
        import os
        print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
        print(os.getuid(), open("/etc/passwd").read().count("\\n"))
        """
    )
    assert result.status == sandbox.OK, result
    pids, identity = result.stdout.strip().splitlines()
    assert len(eval(pids)) <= 3, pids  # its own init, itself (and a reaper)
    uid, users = identity.split()
    assert users == "1"
    if os.geteuid() == 0:
        assert int(uid) >= 200_000  # a fresh unprivileged uid, not root
    else:
        assert int(uid) == os.getuid()


def test_kills_a_process_that_leaves_the_session_at_the_wall_clock_limit():
    code = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\ntime.sleep(60)"
    )
    result = run(code, limits=sandbox.Limits(wall_s=2))
    assert result.status == sandbox.TIMED_OUT and result.wall_s < 10


@pytest.mark.parametrize(
    ("code", "status", "limits"),
    [
        (
            "blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))",
            sandbox.OUT_OF_MEMORY,
            sandbox.Limits(wall_s=60, memory_bytes=2**30),
        ),
        (
            "while True:\n    print('x' * 100000)",
            sandbox.OUTPUT_FLOOD,
            sandbox.Limits(wall_s=60, file_bytes=2**20),
        ),
    ],
)
def test_limits_end_a_run_with_their_status(code, status, limits):
    assert run(code, limits=limits).status == status


def test_its_folders_in_memory_are_bounded():
    result = run(
        """
        import os
        for folder in ("/tmp", "/sandbox"):
            written = 0
            try:
                for i in range(1000):
                    with open(f"{folder}/block{i}", "wb") as file:
                        file.write(bytes(2**20))
                    written += 1
            except OSError as error:
                print(folder, written, error.strerror)
        """,
        limits=sandbox.Limits(wall_s=60, tmp_bytes=8 * 2**20, folder_bytes=16 * 2**20),
    )
    assert result.status == sandbox.OK, result
    tmp, folder = result.stdout.strip().splitlines()
    assert tmp.startswith("/tmp") and int(tmp.split()[1]) <= 8 and "No space" in tmp
    assert folder.startswith("/sandbox") and int(folder.split()[1]) <= 16 and "No space" in folder


def test_limits_must_be_positive_numbers():
    with pytest.raises(
        ValueError, match=r"Limits.wall_s must be a positive number. Received: wall_s=0"
    ):
        sandbox.Limits(wall_s=0)
    with pytest.raises(ValueError, match=r"memory_bytes='8G'"):
        sandbox.Limits(memory_bytes="8G")


def test_dies_with_the_grader(tmp_path):
    # A grader killed mid-step (by hand, by the OOM killer) leaves no student code running.
    started = tmp_path / "started"
    started.touch()
    token = f"sandbox-orphan-{os.getpid()}-{time.time_ns()}"
    student = f"import time\nopen('/sandbox/started', 'w').write('yes')\ntime.sleep(120)  # {token}"
    grader = (
        "import sys\nfrom pathlib import Path\nfrom aekeras_tools.grading import sandbox\n"
        f"sandbox.run([sys.executable, '-c', {student!r}], sandbox.Limits(wall_s=120), "
        f"mounts=[*sandbox.python_mounts(), sandbox.Mount(Path({str(started)!r}), 'started', "
        "writable=True)])"
    )
    process = subprocess.Popen([sys.executable, "-c", grader], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while started.read_text() != "yes" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert started.read_text() == "yes", "the sandboxed code did not start"
        assert processes_with(token)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not processes_with(token), "the sandboxed code outlived the grader"
    finally:
        process.kill()
        for pid in processes_with(token):
            os.kill(pid, signal.SIGKILL)


def test_a_sandbox_started_from_a_thread_runs_to_its_end():
    # Dask workers start sandboxes from threads; the parent-death signal must not fire early.
    outcome = []
    thread = threading.Thread(
        target=lambda: outcome.append(run("import time; time.sleep(1); print('done')"))
    )
    thread.start()
    thread.join()
    assert outcome[0].status == sandbox.OK and outcome[0].stdout.strip() == "done"


def processes_with(token):
    """The processes whose command line holds `token`, whatever their user."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:  # it ended meanwhile
            continue
    return pids
