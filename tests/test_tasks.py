"""`tasks.py`: what each task runs, and the arguments it passes on to pytest."""

import importlib.util
import re
from pathlib import Path

import pytest

from aekeras_tools.paths import BUILD
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT


@pytest.fixture
def tasks(monkeypatch):
    """tasks.py loaded as a module, with environments and commands recorded instead of run."""
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.calls = []
    monkeypatch.setattr(module, "setup", lambda name: Path("python-of-" + name))
    monkeypatch.setattr(module, "report_tensorflow_absent", lambda python: True)
    module.logs = []

    module.envs = []

    def run(cmd, env=None, log=None):
        module.calls.append([str(c) for c in cmd])
        module.logs.append(log)
        module.envs.append(env or {})
        return module.exit_codes.get((env or {}).get("KERAS_BACKEND"), 0)

    module.exit_codes = {}
    monkeypatch.setattr(module, "run", run)
    monkeypatch.setattr(module, "RESULTS", BUILD / "test-results-of-test_tasks")
    return module


def backend_of(cmd):
    """The backend whose suite `cmd` runs (the name of its JUnit report)."""
    (junit,) = [a for a in cmd if a.startswith("--junitxml=")]
    return Path(junit).stem


def test_suites_run_in_two_streams_each_into_its_log(tasks, capsys):
    tasks.exit_codes = {"jax": 1}
    assert tasks.main(["test"]) == 1  # a failed suite fails the run, the others still run
    assert sorted(backend_of(c) for c in tasks.calls) == ["jax", "tensorflow", "torch"]
    by_backend = {backend_of(c): (c, log) for c, log in zip(tasks.calls, tasks.logs)}
    assert by_backend["tensorflow"][0][0] == "python-of-complete"
    assert by_backend["jax"][0][0] == by_backend["torch"][0][0] == "python-of-no-tensorflow"
    for backend, (_, log) in by_backend.items():
        assert log == tasks.RESULTS / f"{backend}.log"
    # JAX before PyTorch in their stream; the summary in the order of the backends.
    assert [backend_of(c) for c in tasks.calls if backend_of(c) != "tensorflow"] == ["jax", "torch"]
    summary = [
        line.split()[:3] for line in capsys.readouterr().out.split("Summary:")[1].splitlines()
    ]
    assert [words for words in summary if words] == [
        ["tensorflow", "passed", "0"],
        ["jax", "FAILED", "(exit"],
        ["torch", "passed", "0"],
    ]


def test_two_streams_make_openmp_threads_sleep_while_they_wait(tasks, monkeypatch):
    # PyTorch's OpenMP threads spin while they wait; beside the other stream that stalls its suite
    # (aekeras_tools.stream_threads). Alone, a suite keeps the defaults.
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    tasks.main(["test"])
    assert {env.get("OMP_WAIT_POLICY") for env in tasks.envs} == {"PASSIVE"}
    tasks.envs.clear()
    tasks.main(["test", "--jobs", "1"])
    assert {env.get("OMP_WAIT_POLICY") for env in tasks.envs} == {None}


def test_jobs_1_runs_one_suite_after_another_to_the_terminal(tasks):
    assert tasks.main(["test", "--jobs", "1"]) == 0
    assert [backend_of(c) for c in tasks.calls] == ["tensorflow", "jax", "torch"]
    assert tasks.logs == [None, None, None]


def test_arguments_after_double_dash_go_to_pytest(tasks):
    assert tasks.main(["test", "--backend", "jax", "--", "-k", "slides", "-x"]) == 0
    ((cmd,),) = [tasks.calls]
    assert cmd[:3] == ["python-of-no-tensorflow", "-m", "pytest"]
    assert cmd[-3:] == ["-k", "slides", "-x"]
    assert "tests" in cmd and all(str(lecture) in cmd for lecture in LECTURES)  # the whole suite


def test_paths_passed_to_pytest_replace_the_suite(tasks):
    assert (
        tasks.main(["test", "--backend", "tensorflow", "--", "tests/test_slides.py::test_x"]) == 0
    )
    ((cmd,),) = [tasks.calls]
    assert cmd[-1] == "tests/test_slides.py::test_x"
    assert "tests" not in cmd and not any(str(lecture) in cmd for lecture in LECTURES)
    assert "-m" in cmd and "not tensorflow_only" not in cmd


def test_lint_checks_and_fix_fixes(tasks):
    assert tasks.main(["lint"]) == 0
    assert [c[1:] for c in tasks.calls] == [
        ["-m", "ruff", "check", "."],
        ["-m", "ruff", "format", "--check", "."],
        ["-m", "aekeras_tools.twins", "--check"],
        ["-m", "aekeras_tools.slides", "--check", *map(str, LECTURES)],
    ]
    tasks.calls.clear()
    # The only task that rewrites tracked files: the twins synced around the slide metadata.
    assert tasks.main(["lint", "--fix"]) == 0
    assert [c[1:] for c in tasks.calls] == [
        ["-m", "ruff", "check", "--fix", "."],
        ["-m", "ruff", "format", "."],
        ["-m", "aekeras_tools.twins"],
        ["-m", "aekeras_tools.slides", *map(str, LECTURES)],
        ["-m", "aekeras_tools.twins"],
    ]


def test_site_and_lectures_run_the_pipeline_that_keeps_slides_and_claims_current(tasks):
    assert tasks.main(["site"]) == 0
    assert tasks.main(["lectures"]) == 0
    site, lectures = tasks.calls
    assert site[1:] == ["-m", "aekeras_tools.lectures", "--no-execute", "--output", str(BUILD)]
    assert lectures[1:5] == ["-m", "aekeras_tools.lectures", "--output", str(BUILD)]
    assert "--no-execute" not in lectures


def test_claims_audit_runs_each_backend_in_its_environment_then_one_report(tasks, monkeypatch):
    envs = []
    monkeypatch.setattr(
        tasks,
        "run",
        lambda cmd, env=None: tasks.calls.append([str(c) for c in cmd]) or envs.append(env) or 0,
    )
    assert tasks.main(["claims", "--", "--seeds", "3", "4"]) == 0
    audit = ["-m", "aekeras_tools.claims_audit"]
    assert tasks.calls == [
        ["python-of-complete", *audit, "run", "--seeds", "3", "4"],
        ["python-of-no-tensorflow", *audit, "run", "--seeds", "3", "4"],
        ["python-of-no-tensorflow", *audit, "run", "--seeds", "3", "4"],
        ["python-of-complete", *audit, "report"],
    ]
    assert [env["KERAS_BACKEND"] for env in envs] == ["tensorflow", "jax", "torch", "tensorflow"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["lint", "--", "-x"],
            r"only `test` \(to pytest\), `claims` \(to the audit's `run`\) and `hub` \(to "
            r"aekeras_tools.hub\) pass arguments on. Received: lint -- -x",
        ),
        (["test", "--fix"], r"--fix belongs to `lint`. Received: test --fix"),
        (["lint", "--jobs", "1"], r"--jobs belongs to `test`. Received: lint --jobs 1"),
        (["lint", "--force"], r"belong to `grade`. Received: lint --force"),
        (["test", "--scheduler", "tcp://h:1"], r"belong to `grade`. Received: test --scheduler"),
    ],
)
def test_misplaced_arguments_are_refused(tasks, capsys, argv, message):
    with pytest.raises(SystemExit):
        tasks.main(argv)
    assert re.search(message, capsys.readouterr().err)
    assert tasks.calls == []  # nothing ran


def test_grade_runs_the_class_grader_with_its_options(tasks):
    argv = ["grade", "a1_autoencoders", "--workers", "3", "--student", "ada", "--force"]
    argv += ["--scheduler", "tcp://10.0.0.5:8786"]
    assert tasks.main(argv) == 0
    (command,) = tasks.calls
    assert command == [
        "python-of-complete",
        "-m",
        "aekeras_tools.grading",
        "a1_autoencoders",
        "--workers",
        "3",
        "--student",
        "ada",
        "--force",
        "--scheduler",
        "tcp://10.0.0.5:8786",
    ]


def test_hub_passes_its_arguments_on_and_leaves_ctrl_c_to_the_hub(tasks, monkeypatch):
    started, handlers = [], {}

    class Child:
        def __init__(self, cmd, cwd):
            started.append((cmd, cwd))

        def wait(self):
            return 3

    monkeypatch.setattr(tasks.subprocess, "Popen", Child)
    monkeypatch.setattr(
        tasks.signal, "signal", lambda sig, handler: handlers.update({sig: handler})
    )
    assert (
        tasks.main(["hub", "--", "--port", "8001", "--students", "5"]) == 3
    )  # the hub's exit code
    assert started == [
        (
            ["python-of-complete", "-m", "aekeras_tools.hub", "--port", "8001", "--students", "5"],
            ROOT,
        )
    ]
    # Ctrl-C reaches the hub's process too, which stops the class in order; tasks.py waits.
    assert handlers == {tasks.signal.SIGINT: tasks.signal.SIG_IGN}


@pytest.fixture
def pipeline(monkeypatch, tmp_path):
    """aekeras_tools.lectures with its steps recorded instead of run."""
    from aekeras_tools import lectures

    steps = []
    monkeypatch.setattr(
        lectures.twins, "differing", lambda paths: steps.append(("twins", paths)) or []
    )
    monkeypatch.setattr(lectures.site, "main", lambda argv: steps.append(("site", argv)) or 0)
    monkeypatch.setattr(
        lectures.lecture_claims, "main", lambda argv: steps.append(("claims", argv)) or 0
    )
    return lectures, steps, tmp_path / "site"


def test_lectures_check_the_twins_then_render_then_tabulate_the_claims_beside_the_output(pipeline):
    lectures, steps, output = pipeline
    assert lectures.main(["--output", str(output)]) == 0
    assert [name for name, _ in steps] == ["twins", "site", "claims"]
    assert steps[0][1] == list(LECTURES)
    assert "--no-execute" not in steps[1][1]
    executed = [str(output / "notebooks" / p.name) for p in LECTURES]
    # the run's table goes beside the output (build/), not into the committed results
    assert steps[2][1] == [*executed, "--folder", str(output.parent)]
    steps.clear()
    assert lectures.main(["--output", str(output), "--record"]) == 0
    assert steps[2][1][-2:] == ["--folder", str(lectures.RESULTS)]


def test_lectures_stop_when_a_twin_differs_and_say_to_run_lint_fix(pipeline, monkeypatch, capsys):
    lectures, steps, output = pipeline
    monkeypatch.setattr(lectures.twins, "differing", lambda paths: [LECTURES[1]])
    assert lectures.main(["--output", str(output)]) == 1
    assert steps == [] and "python3 tasks.py lint --fix" in capsys.readouterr().err


def test_lectures_leave_the_claims_table_for_some_lectures_or_no_execution(pipeline):
    lectures, steps, output = pipeline
    assert lectures.main(["--output", str(output), str(LECTURES[0])]) == 0
    assert lectures.main(["--output", str(output), "--no-execute"]) == 0
    assert [name for name, _ in steps] == ["twins", "site", "twins", "site"]
    assert "--no-execute" in steps[3][1]
