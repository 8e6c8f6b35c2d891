"""The class grader (aekeras_tools.grading): a batch of honest, hostile and damaged submissions of a tiny
synthetic assignment, each with its status and reason, none above what it earns, the batch complete.

The assignment `toy` has two answer cells: `double(x)` (NumPy only, 2 points) and `total`, computed in
the notebook (1 point). Its trusted checks (grading/checks_toy.py) draw the inputs of `double`
afresh, so only a correct function earns its points.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_markdown_cell
from nbformat.v4 import new_notebook

from aekeras_tools import grading
from aekeras_tools import sandbox
from aekeras_tools.paths import ROOT

pytestmark = [
    pytest.mark.skipif(
        not sandbox.namespaces_available(), reason="needs Linux user, network and mount namespaces"
    ),
    # The grader is instructor tooling that runs in the complete environment (tasks.py grade),
    # whatever backend the course uses: its tests run once, with the TensorFlow suite.
    pytest.mark.tensorflow_only,
]

SECRET = "HIDDEN_TEST_MARKER_31415"
CHECKS = textwrap.dedent(
    '''
    """Trusted checks of the toy assignment (instructor-only)."""
    import numpy as np

    NOTEBOOK = "toy"
    STEPS = [
        {
            "name": "numpy",
            "numpy_only": True,
            "cells": ["answer_double"],
            "inputs": lambda rng: {"x": rng.random((3, 4))},
            "probe": "export('double', double(inputs['x']))",
            "wall_s": 20,
            "memory_bytes": 2**30,
            "processes": 32,
            "file_bytes": 2**20,
        },
        {
            "name": "notebook",
            "cells": None,
            "probe": "export('total', total)",
            "wall_s": 8,
            "memory_bytes": 2**30,
            "processes": 32,
            "file_bytes": 2**20,
        },
    ]


    def check_double(values, inputs):
        x = inputs["numpy.x"]
        got = values["numpy.double"]
        assert got.shape == x.shape and np.allclose(got, 2 * x), (
            f"double(x) must return 2 * x, with the shape of x {x.shape}; got {got!r}"
        )


    def check_total(values, inputs):
        got = float(values["notebook.total"])
        assert got == 12.0, f"total must be double(np.arange(4)).sum() = 12; got {got}"


    check_double.steps = ["numpy"]
    check_total.steps = ["notebook"]
    CHECKS = {"test_double": check_double, "test_total": check_total}
    '''
)


def meta(grade_id, *, grade=False, solution=False, locked=False, points=0):
    nbgrader = {"grade_id": grade_id, "grade": grade, "solution": solution, "locked": locked}
    nbgrader.update(schema_version=3, task=False, **({"points": points} if grade else {}))
    return {"nbgrader": nbgrader}


def source_notebook():
    return new_notebook(
        cells=[
            new_markdown_cell("# Toy", metadata=meta("intro", locked=True)),
            new_code_cell(
                "%matplotlib inline\nimport numpy as np", metadata=meta("setup", locked=True)
            ),
            new_code_cell(
                "def double(x):\n    return 2 * np.asarray(x)",
                metadata=meta("answer_double", solution=True),
            ),
            new_code_cell(
                f"assert double(1) == 2\n### BEGIN HIDDEN TESTS\n# {SECRET}\n### END HIDDEN TESTS",
                metadata=meta("test_double", grade=True, locked=True, points=2),
            ),
            new_code_cell(
                "total = double(np.arange(4)).sum()", metadata=meta("answer_total", solution=True)
            ),
            new_code_cell(
                "assert total == 12", metadata=meta("test_total", grade=True, locked=True, points=1)
            ),
        ]
    )


BLANK = "raise NotImplementedError()"
SITE = sysconfig.get_paths()["purelib"]


def answers(double=BLANK, total=BLANK):
    notebook = source_notebook()
    for cell in notebook.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if grade_id == "answer_double":
            cell.source = double
        elif grade_id == "answer_total":
            cell.source = total
        elif grade_id == "test_double":
            cell.source = "assert double(1) == 2"
    return notebook


HONEST = answers("def double(x):\n    return x + x", "total = double(np.arange(4)).sum()")

# name -> (notebook or raw text, expected status, words of the reason or of a message)
HOSTILE = {
    "timeout": (answers(total="while True:\n    pass"), grading.TIMED_OUT, "wall-clock"),
    "memory_bomb": (
        answers(total="blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))"),
        grading.OUT_OF_MEMORY,
        "memory",
    ),
    "fork_bomb": (
        answers(total="import os\nwhile True:\n    os.fork()"),
        grading.SUSPICIOUS,
        "os.fork",
    ),
    "output_flood": (
        answers(total="while True:\n    print('x' * 100000)"),
        grading.OUTPUT_FLOOD,
        "output",
    ),
    "reads_others": (
        answers(total="total = len(open(COURSE + '/submitted/honest/toy/toy.ipynb').read())"),
        grading.SUSPICIOUS,
        "No such file",
    ),
    "reads_gradebook": (
        answers(total="total = len(open(COURSE + '/gradebook.db', 'rb').read())"),
        grading.SUSPICIOUS,
        "No such file",
    ),
    "reads_checks": (
        answers(total="total = open(COURSE + '/grading/checks_toy.py').read().count('a')"),
        grading.SUSPICIOUS,
        "No such file",
    ),
    "imports_library": (
        answers(
            f"import sys\nsys.path.append({SITE!r})\nimport scipy\ndef double(x):\n    return 2 * x"
        ),
        grading.SUSPICIOUS,
        "ModuleNotFoundError",
    ),
    "patches_numpy": (
        answers(
            "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = numpy.allclose\n"
            "def double(x):\n    return x",
            "total = 11\nimport builtins\nbuiltins.float = lambda v: 12.0",
        ),
        grading.SUSPICIOUS,
        "double(x) must return 2 * x",
    ),
    "rewrites_probe": (
        answers(
            "import sys\nframe = sys._getframe(0)\n"
            "while frame and 'job' not in frame.f_locals:\n    frame = frame.f_back\n"
            "frame.f_locals['job']['probe'] = \"export('double', np.ones((3, 4)))\"\n"
            "def double(x):\n    return x"
        ),
        grading.SUSPICIOUS,
        "double(x) must return 2 * x",
    ),
    "writes_outside": (
        answers(total="open(COURSE + '/gradebook.db', 'w').write('x')\ntotal = 11"),
        grading.SUSPICIOUS,
        "",
    ),
}
DAMAGED = {
    "invalid_json": ('{"cells": [', grading.DAMAGED, "not valid JSON"),
    "empty": (new_notebook(), grading.DAMAGED, "no cells"),
    "not_a_notebook": ("[1, 2, 3]", grading.DAMAGED, "not a notebook"),
    "duplicate_ids": (None, grading.DAMAGED, "more than once"),
    "deleted_cell": (None, grading.DAMAGED, "missing"),
}


def duplicated():
    notebook = nbformat.from_dict(json.loads(nbformat.writes(HONEST)))
    copy = nbformat.from_dict(json.loads(json.dumps(notebook.cells[2])))
    copy.source = "def double(x):\n    return 0 * x"
    copy.id = "copied"  # a new cell id, the same grade id (jupyter/nbgrader#1083)
    notebook.cells.append(copy)
    return notebook


def deleted():
    notebook = nbformat.from_dict(json.loads(nbformat.writes(HONEST)))
    notebook.cells = [
        c for c in notebook.cells if c.metadata["nbgrader"]["grade_id"] != "answer_total"
    ]
    return notebook


def write(course, student, content, name="toy.ipynb"):
    folder = course / "submitted" / student / "toy"
    folder.mkdir(parents=True)
    text = content if isinstance(content, str) else nbformat.writes(content)
    (folder / name).write_text(text.replace("COURSE + '", f"'{course}"))


@pytest.fixture(scope="module")
def course():
    # World-readable, like a course directory on a shared machine: only the sandbox hides it.
    course = Path(tempfile.mkdtemp(prefix="aekeras-course-"))
    course.chmod(0o755)
    (course / "source" / "toy").mkdir(parents=True)
    nbformat.write(source_notebook(), course / "source" / "toy" / "toy.ipynb")
    (course / "grading").mkdir()
    (course / "grading" / "checks_toy.py").write_text(CHECKS)
    write(course, "honest", HONEST)
    write(course, "blank", answers())
    write(course, "renamed", HONEST, name="toy (1).ipynb")
    for student, (content, _, _) in {**HOSTILE, **DAMAGED}.items():
        if content is not None:
            write(course, student, content)
    write(course, "duplicate_ids", duplicated())
    write(course, "deleted_cell", deleted())
    yield course
    shutil.rmtree(course)


@pytest.fixture(scope="module")
def graded(course):
    results = grading.grade(course, workers=2)
    return {r["student"]: r for r in results}


def test_every_student_has_a_result(graded):
    assert set(graded) == {"honest", "blank", "renamed", *HOSTILE, *DAMAGED}


def test_honest_work_gets_full_marks_and_the_blank_release_none(graded):
    assert graded["honest"]["score"] == graded["honest"]["max_score"] == 3, graded["honest"]
    assert graded["honest"]["status"] == grading.GRADED
    assert graded["blank"]["score"] == 0, graded["blank"]
    assert "NotImplementedError" in graded["blank"]["checks"]["test_double"]["message"]


@pytest.mark.parametrize("student", sorted(HOSTILE))
def test_hostile_submission_earns_nothing_it_did_not_do_and_is_flagged(graded, student):
    _, status, words = HOSTILE[student]
    result = graded[student]
    assert result["score"] <= graded["blank"]["score"], result
    assert result["status"] == status, result
    text = result["reason"] + " " + " ".join(c["message"] for c in result["checks"].values())
    assert words in text, result


@pytest.mark.parametrize("student", sorted(DAMAGED))
def test_damaged_submission_is_reported_with_its_reason(graded, student):
    _, status, words = DAMAGED[student]
    result = graded[student]
    assert result["status"] == status, result
    assert words in result["reason"], result


def test_damaged_but_readable_submissions_are_graded_from_what_was_found(graded):
    assert graded["duplicate_ids"]["checks"]["test_double"]["points"] == 2  # the first copy
    assert graded["deleted_cell"]["score"] == 2  # double answered, total deleted
    assert graded["renamed"]["score"] == 3 and "toy (1).ipynb" in graded["renamed"]["reason"]


def test_no_message_carries_hidden_test_code(graded):
    assert SECRET not in json.dumps(graded)


def test_writes_the_gradebook_the_lms_file_and_skips_what_was_graded(course, graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=grading.COURSE_ID) as gb:
        assert gb.find_submission("toy", "honest").score == 3
        assert gb.find_submission("toy", "blank").score == 0
    path = course / "grades.csv"
    grading.write_csv(path, list(graded.values()))
    with path.open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert rows["honest"]["score"] == "3" and rows["timeout"]["status"] == grading.TIMED_OUT
    again = grading.grade(course, workers=2)  # resumes: nothing left to grade
    assert {r["student"]: r["score"] for r in again} == {s: r["score"] for s, r in graded.items()}


def test_summary_has_a_row_per_student_with_status_and_reason(graded):
    table = grading.summary(list(graded.values())).splitlines()
    assert len(table) == 1 + len(graded)
    assert any("timed out" in row and "wall-clock" in row for row in table)


def test_sandbox_has_no_network_and_cannot_write_outside_its_folder(tmp_path):
    folder = tmp_path / "box" / "one"
    folder.mkdir(parents=True)
    code = textwrap.dedent(
        f"""
        import socket
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=2)
            print("network")
        except OSError as error:
            print("no network:", error)
        try:
            open({str(Path(__file__))!r}, "a")
            print("wrote")
        except OSError as error:
            print("read-only:", error)
        open("mine.txt", "w").write("ok")
        print(open("mine.txt").read())
        """
    )
    result = sandbox.run([sys.executable, "-c", code], folder, sandbox.Limits(wall_s=30))
    assert result.status == sandbox.OK, result
    assert "no network" in result.stdout and "read-only" in result.stdout and "ok" in result.stdout


def test_sandbox_kills_a_process_that_leaves_the_session(tmp_path):
    folder = tmp_path / "box" / "one"
    folder.mkdir(parents=True)
    code = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\ntime.sleep(60)"
    )
    result = sandbox.run([sys.executable, "-c", code], folder, sandbox.Limits(wall_s=2))
    assert result.status == sandbox.TIMED_OUT and result.wall_s < 10


def test_sandbox_dies_with_the_grader(tmp_path):
    # a grader killed mid-step (by hand, by the OOM killer) leaves no student code running
    folder = tmp_path / "box" / "one"
    folder.mkdir(parents=True)
    token = f"sandbox-orphan-{os.getpid()}-{time.time_ns()}"
    student = f"import time\nopen('started', 'w').close()\ntime.sleep(120)  # {token}"
    grader = (
        "import sys\nfrom pathlib import Path\nfrom aekeras_tools import sandbox\n"
        f"sandbox.run([sys.executable, '-c', {student!r}], Path({str(folder)!r}), "
        "sandbox.Limits(wall_s=120))"
    )
    process = subprocess.Popen([sys.executable, "-c", grader], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (folder / "started").exists(), "the sandboxed code did not start"
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


# ----------------------------------------------------------------- a1_autoencoders, Tasks 1 and 2
A1 = "a1_autoencoders"
A1_ANSWERS = {  # name -> {answer cell: source}, and the graded cells it must lose
    "library": (
        {
            "task1_pca_reconstruct": "import aekeras\n\ndef pca_reconstruct(x_fit, x, k):\n"
            "    return aekeras.PCA(k).fit(x_fit).reconstruct(x)"
        },
        {
            "task1_shape_exact": "ModuleNotFoundError",
            "task1_matches_library": "ModuleNotFoundError",
        },
    ),
    "uncentred": (
        {"task1_pca_reconstruct": ("svd(fit - mean", "svd(fit")},
        {"task1_shape_exact": "Did you centre", "task1_matches_library": "differs from"},
    ),
    "table": (
        {
            "task2_n_parameters_solution": "def n_parameters(layer_sizes, tied_weights=False):\n"
            "    return {(784, 1000, 500, 250, 30): 2837314, (10, 4): 98}.get(tuple(layer_sizes), 0)"
        },
        {"task2_n_parameters": "expected"},
    ),
}


def a1_submission(folder, student, answers=None, blank=False):
    """The instructor notebook with some answer cells replaced (or every one left blank), submitted."""
    notebook = nbformat.read(grading.COURSE_DIR / "source" / A1 / f"{A1}.ipynb", as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if blank and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = BLANK
        elif answers and grade_id in answers:
            edit = answers[grade_id]
            cell.source = cell.source.replace(*edit) if isinstance(edit, tuple) else edit
    path = folder / "submitted" / student / A1 / f"{A1}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    return grading.Submission(student, A1, path.parent, path)


@pytest.fixture(scope="module")
def a1_numpy_checks():
    """The trusted checks of a1_autoencoders, limited to its NumPy-only steps (Tasks 1 and 2)."""
    checks = grading.load_checks(grading.COURSE_DIR, A1)
    checks.STEPS = [step for step in checks.STEPS if step.get("numpy_only")]
    checks.CHECKS = {k: v for k, v in checks.CHECKS.items() if k.startswith(("task1", "task2"))}
    return checks


@pytest.mark.tensorflow_only
def test_a1_numpy_tasks_full_marks_for_the_solution_none_for_the_release(tmp_path, a1_numpy_checks):
    solution = grading.grade_submission(
        a1_submission(tmp_path, "solution"), grading.COURSE_DIR, a1_numpy_checks
    )
    blank = grading.grade_submission(
        a1_submission(tmp_path, "blank", blank=True), grading.COURSE_DIR, a1_numpy_checks
    )
    tasks = ("task1_shape_exact", "task1_matches_library", "task2_n_parameters")
    assert [solution["checks"][t]["points"] for t in tasks] == [1, 2, 2], solution
    assert [blank["checks"][t]["points"] for t in tasks] == [0, 0, 0], blank
    assert "NotImplementedError" in blank["checks"]["task1_shape_exact"]["message"]


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", sorted(A1_ANSWERS))
def test_a1_numpy_tasks_wrong_answers_lose_their_points_with_a_message(
    tmp_path, a1_numpy_checks, name
):
    answers, losses = A1_ANSWERS[name]
    result = grading.grade_submission(
        a1_submission(tmp_path, name, answers), grading.COURSE_DIR, a1_numpy_checks
    )
    for grade_id, words in losses.items():
        check = result["checks"][grade_id]
        assert check["points"] == 0 and words in check["message"], (grade_id, check)


# ----------------------------------------------------------------- Dask
@pytest.fixture
def dask_cluster(tmp_path):
    """A Dask scheduler and two workers, each a process of its own, as on a cluster."""
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    common = ["--scheduler-file", str(scheduler_file)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--port", "0", "--no-dashboard", *common],
            env=env,
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
                    [
                        sys.executable,
                        "-m",
                        "dask",
                        "worker",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        *common,
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def test_grades_on_dask_workers_in_other_processes(dask_cluster):
    course = Path(tempfile.mkdtemp(prefix="aekeras-course-"))
    try:
        course.chmod(0o755)
        (course / "source" / "toy").mkdir(parents=True)
        nbformat.write(source_notebook(), course / "source" / "toy" / "toy.ipynb")
        (course / "grading").mkdir()
        (course / "grading" / "checks_toy.py").write_text(CHECKS)
        for student, notebook in (
            ("honest", HONEST),
            ("blank", answers()),
            ("also_honest", HONEST),
        ):
            write(course, student, notebook)
        results = {r["student"]: r for r in grading.grade(course, scheduler=dask_cluster)}
    finally:
        shutil.rmtree(course)
    assert {s: r["score"] for s, r in results.items()} == {
        "honest": 3,
        "blank": 0,
        "also_honest": 3,
    }
    graders = {r["grader"].rsplit(":", 1)[1] for r in results.values()}
    assert str(os.getpid()) not in graders, graders
