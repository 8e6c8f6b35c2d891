"""A class graded with the instructor's command (`python3 tasks.py grade`): honest, hostile, damaged and
linked submissions of the toy assignment, each with its status and reason and none above what it earns;
a batch killed midway and resumed; a fresh data home with two workers; a Dask scheduler and workers
started as the README says; and the grader run by an ordinary user, whose files the sandbox never sees.
"""

import csv
import html
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from aekeras_tools.grading import cells
from aekeras_tools.grading import judging
from aekeras_tools.grading import reports

from grading_course import ROOT
from grading_course import SECRET
from grading_course import TOY_CHECKS
from grading_course import TOY_HONEST
from grading_course import feedback_texts
from grading_course import grade_argv
from grading_course import grade_command
from grading_course import require_sandbox
from grading_course import results
from grading_course import submit
from grading_course import toy_answers
from grading_course import toy_course
from grading_course import toy_source

# Whole classes graded by the command (minutes): the slow tier.
pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]
TOKEN = f"machine-secret-{os.getpid()}-{time.time_ns()}"


def secret_files(base):
    """Files of the grading machine a sandbox must never show: in the machine's /tmp, and in a folder
    standing for the grading user's home. Each holds TOKEN."""
    tmp = Path(tempfile.mkdtemp(prefix="aekeras-machine-"))
    (tmp / "secret.txt").write_text(TOKEN)
    home = Path(base) / "home"
    home.mkdir()
    (home / ".token").write_text(TOKEN)
    (home / ".token").chmod(0o600)
    return {"tmp": tmp / "secret.txt", "home": home / ".token"}


# student -> (notebook or raw text, statuses allowed, words of the reason or of a message)
def hostile(secrets):
    return {
        "timeout": (toy_answers(total="while True:\n    pass"), {judging.TIMED_OUT}, "wall-clock"),
        "memory_bomb": (
            toy_answers(total="blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))"),
            {judging.OUT_OF_MEMORY},
            "memory",
        ),
        "fork_bomb": (
            toy_answers(total="import os\nwhile True:\n    os.fork()"),
            {judging.SUSPICIOUS, judging.TIMED_OUT},
            "os.fork",
        ),
        "output_flood": (
            toy_answers(total="while True:\n    print('x' * 100000)"),
            {judging.OUTPUT_FLOOD},
            "output",
        ),
        "reads_others": (
            toy_answers(
                total="total = len(open(COURSE + '/submitted/honest/toy/toy.ipynb').read())"
            ),
            {judging.SUSPICIOUS},
            "No such file",
        ),
        "reads_checks": (
            toy_answers(total="total = open(COURSE + '/grading/checks_toy.py').read().count('a')"),
            {judging.SUSPICIOUS},
            "No such file",
        ),
        "reads_repository": (
            toy_answers(total=f"total = open({str(ROOT / '.git' / 'HEAD')!r}).read()"),
            {judging.SUSPICIOUS},
            "No such file",
        ),
        "reads_home": (
            toy_answers(total=f"raise ValueError(open({str(secrets['home'])!r}).read())"),
            {judging.SUSPICIOUS},
            "No such file",
        ),
        "reads_machine_tmp": (
            toy_answers(
                "import os\n\ndef double(x):\n    raise ValueError(os.listdir('/tmp') + "
                f"[open({str(secrets['tmp'])!r}).read()])"
            ),
            {judging.SUSPICIOUS},
            "No such file",
        ),
        "imports_library": (
            toy_answers(
                f"import sys\nsys.path.append({str(ROOT / '.venv')!r})\nimport scipy\n"
                "def double(x):\n    return 2 * x"
            ),
            {judging.SUSPICIOUS},
            "scipy is not available in this task",
        ),
        "patches_numpy": (
            toy_answers(
                "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = numpy.allclose\n"
                "def double(x):\n    return x",
                "total = 11\nimport builtins\nbuiltins.float = lambda v: 12.0",
            ),
            {judging.SUSPICIOUS},
            "double(x) must return 2 * x",
        ),
        "writes_outside": (
            toy_answers(total="open(COURSE + '/gradebook.db', 'w').write('x')\ntotal = 11"),
            {judging.SUSPICIOUS},
            "",
        ),
        "sees_processes": (
            toy_answers(
                total="import os\nraise ValueError(sorted(open(f'/proc/{p}/comm').read().strip() "
                "for p in os.listdir('/proc') if p.isdigit()))"
            ),
            {judging.SUSPICIOUS},
            "ValueError: ['bwrap', 'python']",  # its own: bubblewrap's init and the runner
        ),
    }


DAMAGED = {
    "invalid_json": ('{"cells": [', "not valid JSON"),
    "empty": (nbformat.v4.new_notebook(), "no cells"),
    "not_a_notebook": ("[1, 2, 3]", "not a notebook"),
}


def duplicated():
    notebook = nbformat.from_dict(json.loads(nbformat.writes(TOY_HONEST)))
    copy = nbformat.from_dict(json.loads(json.dumps(notebook.cells[2])))
    copy.source = "def double(x):\n    return 0 * x"
    copy.id = "copied"  # a new cell id, the same grade id (jupyter/nbgrader#1083)
    notebook.cells.append(copy)
    return notebook


def deleted():
    notebook = nbformat.from_dict(json.loads(nbformat.writes(TOY_HONEST)))
    notebook.cells = [
        c for c in notebook.cells if c.metadata["nbgrader"]["grade_id"] != "answer_total"
    ]
    return notebook


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    require_sandbox()
    base = tmp_path_factory.mktemp("batch")
    course = toy_course(base)
    secrets = secret_files(base)
    submit(course, "honest", TOY_HONEST)
    submit(course, "blank", toy_answers())
    release = toy_source()
    for cell in release.cells:  # as nbgrader releases it: solution regions replaced by its stub
        cell.source = cells.released(cell.source)
    submit(course, "as_released", release)
    submit(course, "renamed", TOY_HONEST, name="toy (1).ipynb")
    submit(course, "duplicate_ids", duplicated())
    submit(course, "deleted_cell", deleted())
    for student, (content, _) in DAMAGED.items():
        submit(course, student, content)
    cases = hostile(secrets)
    for student, (content, _, _) in cases.items():
        submit(course, student, content)
    instructor_notebook = course / "source" / "toy" / "toy.ipynb"
    submit(course, "instructor_file", instructor_notebook.read_text())
    for student, target in (
        ("link_instructor", instructor_notebook),
        ("link_peer", course / "submitted" / "honest" / "toy" / "toy.ipynb"),
    ):
        (course / "submitted" / student / "toy").mkdir(parents=True)
        (course / "submitted" / student / "toy" / "toy.ipynb").symlink_to(target)
    done = grade_command(course, "--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    yield course, {s: r for (s, _), r in results(course).items()}, cases, done.stdout
    shutil.rmtree(secrets["tmp"].parent, ignore_errors=True)


def test_every_student_has_a_result_and_a_row(toy):
    course, graded, cases, stdout = toy
    students = {"honest", "blank", "as_released", "renamed", "duplicate_ids", "deleted_cell"}
    students |= {"instructor_file"}
    students |= {"link_instructor", "link_peer", *DAMAGED, *cases}
    assert set(graded) == students
    assert all(f"{student}  " in stdout for student in students)
    with (course / reports.LMS_CSV).open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert set(rows) == students and rows["honest"]["score"] == "3"


def test_honest_work_gets_full_marks_and_the_blank_release_none(toy):
    _, graded, _, _ = toy
    assert graded["honest"].score == graded["honest"].max_score == 3, graded["honest"]
    assert graded["honest"].status == judging.GRADED
    assert graded["blank"].score == 0
    assert "NotImplementedError" in graded["blank"].checks["test_double"].message
    # Steps where nothing was written are not run: they could make nothing a judge accepts.
    released = graded["as_released"]
    assert released.score == 0 and released.status == judging.GRADED, released
    assert "not answered (answer_double as released)" in released.checks["test_double"].message
    assert released.seconds < 1


def test_hostile_submissions_earn_nothing_and_say_why(toy):
    _, graded, cases, _ = toy
    for student, (_, statuses, words) in cases.items():
        result = graded[student]
        assert result.score <= graded["blank"].score, result
        assert result.status in statuses, result
        text = result.reason + " " + " ".join(c.message for c in result.checks.values())
        assert words in text, result


def test_links_and_the_instructor_notebook_are_refused_or_not_graded(toy):
    _, graded, _, _ = toy
    for student in ("link_instructor", "link_peer"):
        assert graded[student].score == 0 and graded[student].status == judging.DAMAGED
        assert "is a symbolic link" in graded[student].reason
    handed_in = graded["instructor_file"]
    assert handed_in.score == 0 and handed_in.status == judging.SUSPICIOUS
    assert "byte for byte" in handed_in.reason
    assert "not graded, score 0 until a person decides" in handed_in.reason


def test_damaged_submissions_say_what_is_wrong_and_readable_ones_are_graded(toy):
    _, graded, _, _ = toy
    for student, (_, words) in DAMAGED.items():
        assert graded[student].status == judging.DAMAGED and words in graded[student].reason
    assert graded["duplicate_ids"].checks["test_double"].points == 2  # the first copy
    assert graded["deleted_cell"].score == 2  # double answered, total deleted
    assert graded["renamed"].score == 3 and "toy (1).ipynb" in graded["renamed"].reason


def test_nothing_of_the_grading_machine_reaches_a_student(toy):
    course, _, _, _ = toy
    texts = feedback_texts(course)
    assert len([k for k in texts if k.startswith("feedback/")]) >= 10
    checks = {line.strip() for line in TOY_CHECKS.splitlines() if len(line.strip()) >= 20}
    for name, text in texts.items():
        shown = html.unescape(text)
        assert TOKEN not in shown, name
        assert SECRET not in shown, name  # the hidden tests
        assert not [line for line in checks if line in shown], name  # the checks' code


def test_a_second_run_grades_nothing_again(toy):
    course, graded, _, _ = toy
    done = grade_command(course, "--workers", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    again = {s: r for (s, _), r in results(course).items()}
    assert {s: (r.score, r.grader) for s, r in again.items()} == {
        s: (r.score, r.grader) for s, r in graded.items()
    }


# ----------------------------------------------------------------- resume
SLOW = toy_answers("def double(x):\n    return x + x", "import time\ntime.sleep(4)\ntotal = 12")


def gradebook_students(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=reports.COURSE_ID) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions("toy")}


def test_a_batch_killed_midway_is_made_whole_by_the_next_run(tmp_path):
    require_sandbox()
    course = toy_course(tmp_path)
    students = [f"s{i}" for i in range(6)]
    for student in students:
        submit(course, student, SLOW)
    command = grade_argv(course, "--workers", "1")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while len(results(course)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(results(course)) >= 2, "the batch wrote no result"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    first = results(course)
    assert len(first) < len(students), "the batch finished before it could be killed"
    assert set(gradebook_students(course)) == {s for s, _ in first}  # each recorded as it came
    # A submission that ended in a grading error is graded again on the next run.
    (errored,) = [s for s, _ in first][:1]
    path = reports.result_path(course, errored, "toy")
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "status": judging.ERROR, "score": 0.0}))
    done = grade_command(course, "--workers", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    after = results(course)
    assert {s for s, _ in after} == set(students)
    assert gradebook_students(course) == dict.fromkeys(students, 3.0)
    assert after[(errored, "toy")].status == judging.GRADED
    for (student, _), result in first.items():
        if student != errored:
            assert after[(student, "toy")].grader == result.grader  # not graded again


# ----------------------------------------------------------------- data on a fresh machine
DATA_CHECKS = textwrap.dedent(
    """
    import numpy as np

    from aekeras_tools.grading.probe import got
    from aekeras_tools.grading.steps import Step

    NOTEBOOK = "toy"
    DATASETS = ("mnist",)
    STEPS = [
        Step("numpy", "attempt('double', double, np.arange(3.0))", cells=["answer_double"],
             numpy_only=True, wall_s=20),
        Step("notebook", "export('total', total)", cells=None, data=["mnist"], wall_s=120),
    ]


    def check_double(values, inputs):
        assert np.allclose(got(values, "numpy.double", "double(x)"), [0, 2, 4]), "double(x) is 2x"


    def check_total(values, inputs):
        import aekeras

        # A judge that loads data too, as the assignments' do: in the worker, as the batch prepared it.
        assert aekeras.datasets.load_mnist("test", n=4)[0].shape == (4, 28, 28, 1)
        assert float(got(values, "notebook.total", "total")) == 12.0, "total is 12"


    check_double.steps = ["numpy"]
    check_total.steps = ["notebook"]
    CHECKS = {"test_double": check_double, "test_total": check_total}
    """
)
DATA_TOTAL = "import aekeras\nx = aekeras.datasets.load_mnist('train', n=3)[0]\ntotal = double(np.arange(4)).sum()"


def test_a_fresh_data_home_is_prepared_once_before_two_workers_start(tmp_path):
    require_sandbox()
    if not os.environ.get("AEKERAS_RAW_DATA"):
        pytest.skip("AEKERAS_RAW_DATA is not set: the data cannot be prepared offline")
    course = toy_course(tmp_path, checks=DATA_CHECKS)
    for i in range(4):
        submit(course, f"s{i}", toy_answers("def double(x):\n    return x + x", DATA_TOTAL))
    home = tmp_path / "empty-data-home"
    done = grade_command(course, "--workers", "2", env={"AEKERAS_DATA_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    graded = results(course)
    assert {r.status for r in graded.values()} == {judging.GRADED}, graded
    assert {r.score for r in graded.values()} == {3.0}
    prepared = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert prepared == ["arrays/mnist.npz"], prepared  # once, by the batch, not by each worker


# ----------------------------------------------------------------- Dask, as the README says
@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler started where the repository is not (nothing of ours importable) and two workers
    started from the repository root, each a process of its own, as the README says."""
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    bare = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    common = ["--scheduler-file", str(scheduler_file)]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dask = [str(Path(sys.executable).with_name("dask"))]
    processes = [
        subprocess.Popen(
            [*dask, "scheduler", "--port", "0", "--no-dashboard", *common],
            cwd=elsewhere,
            env=bare,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [*dask, "worker", "--nthreads", "1", "--no-dashboard", *common],
                    cwd=ROOT,
                    env={**bare, "PYTHONPATH": str(ROOT)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, [p.pid for p in processes[1:]]
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def test_grades_with_the_command_on_a_scheduler_and_workers_started_apart(tmp_path, dask_cluster):
    require_sandbox()
    address, workers = dask_cluster
    course = toy_course(tmp_path)
    for student, notebook in (
        ("honest", TOY_HONEST),
        ("blank", toy_answers()),
        ("also_honest", TOY_HONEST),
    ):
        submit(course, student, notebook)
    done = grade_command(course, "--scheduler", address)
    assert done.returncode == 0, done.stderr[-3000:]
    graded = {s: r for (s, _), r in results(course).items()}
    assert {s: r.score for s, r in graded.items()} == {"honest": 3, "blank": 0, "also_honest": 3}
    assert {r.status for r in graded.values()} == {judging.GRADED}
    graders = {int(r.grader.rsplit(":", 1)[1]) for r in graded.values()}
    assert graders <= descendants(workers), (graders, workers)


def descendants(pids):
    """`pids` and every process under them (a `dask worker` runs its worker under a nanny)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


# ----------------------------------------------------------------- an ordinary user grades
USER = "aekeras-grader"
AS_USER = textwrap.dedent(
    """
    set -eu
    user=$1; shift
    n=$1; shift
    # Folders under root's home (mode 0700 here: the interpreter, perhaps the checkout) are shown to
    # the user in this mount namespace alone, as on a machine where they were installed for everyone.
    keep=$(mktemp -d)
    i=0
    for path in "$@"; do
        [ "$i" -ge "$n" ] && break
        mkdir -p "$keep/$i"; mount --bind "$path" "$keep/$i"; i=$((i + 1))
    done
    mount -t tmpfs -o mode=0755 tmpfs /root
    i=0
    for path in "$@"; do
        [ "$i" -ge "$n" ] && break
        mkdir -p "$path"; mount --move "$keep/$i" "$path"; i=$((i + 1))
    done
    shift "$n"
    exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
    """
)


def as_user(user, needed):
    """A command prefix that runs what follows as `user`, with the `needed` folders readable."""
    under_root = sorted({str(p) for p in needed if str(p).startswith("/root/")})
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        AS_USER,
        "as-user",
        user,
        str(len(under_root)),
        *under_root,
    ]


def test_an_ordinary_user_grades_and_the_sandbox_sees_none_of_their_files(tmp_path):
    require_sandbox()
    if os.geteuid() != 0:
        pytest.skip("needs root to create the ordinary user (CI runs as root)")
    try:
        account = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", USER], check=True)
        account = pwd.getpwnam(USER)
    home = Path(account.pw_dir)
    (home / "private.txt").write_text(TOKEN)
    os.chown(home / "private.txt", account.pw_uid, account.pw_gid)
    (home / "private.txt").chmod(0o600)
    work = Path(tempfile.mkdtemp(prefix="aekeras-user-"))
    try:
        course = toy_course(work)
        submit(course, "honest", TOY_HONEST)
        submit(
            course,
            "nosy",
            toy_answers(
                "def double(x):\n    return x + x",
                "import os\nraise ValueError(os.listdir('/home') + "
                f"[open({str(home / 'private.txt')!r}).read()])",
            ),
        )
        subprocess.run(["chown", "-R", f"{account.pw_uid}:{account.pw_gid}", str(work)], check=True)
        needed = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), ROOT]
        env = {"HOME": str(home), "AEKERAS_DATA_HOME": str(work / "data"), "USER": USER}
        done = grade_command(course, env=env, prefix=as_user(USER, needed), timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        graded = {s: r for (s, _), r in results(course).items()}
        assert graded["honest"].score == 3 and graded["honest"].status == judging.GRADED
        nosy = graded["nosy"]
        assert nosy.checks["test_total"].points == 0
        assert "No such file" in nosy.checks["test_total"].message, nosy
        assert all(TOKEN not in text for text in feedback_texts(course).values())
        owners = {p.stat().st_uid for p in (course / "feedback").rglob("*")}
        assert owners == {account.pw_uid}  # written by the user's grader, not by root
    finally:
        shutil.rmtree(work, ignore_errors=True)
