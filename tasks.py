"""Project tasks: set up the environment, build the course, run the tests, lint.

Usage (Python >= 3.11, standard library only):

    python3 tasks.py lectures   # execute the lectures, HTML to build/course/, then the run's
                                # claims (build/lecture_claims_run.md; --record: benchmarks/results/)
    python3 tasks.py site       # HTML of the lectures as they are (no run)
    python3 tasks.py claims     # the claims audit: every lecture with seeds 0, 1, 2 on every
                                # backend (~70 min), then benchmarks/results/lecture_claims.md
    python3 tasks.py claims --backend jax -- --seeds 3 4 --lectures course/02_*.ipynb
                                # arguments after `--` go to `aekeras_tools.claims_audit run`
    python3 tasks.py test       # the complete test suite (what CI runs), TensorFlow's suite
                                # beside JAX's and PyTorch's (--jobs 1: one after another)
    python3 tasks.py test --quick
                                # a few minutes: everything but the tests marked slow or notebook
                                # (whole classes graded, nbgrader, the lectures under nbval)
    python3 tasks.py test --backend tensorflow -- -k slides -x
                                # arguments after `--` go to pytest; paths among them
                                # (tests/test_site.py, tests/test_x.py::test_y) replace the
                                # suite's own (tests, aekeras, the lectures)
    python3 tasks.py lint       # ruff check, ruff format --check, text twins and slide metadata --check
    python3 tasks.py lint --fix # let ruff fix and format, sync the text twins, rewrite the slide metadata
                                # (the only task that rewrites tracked files)
    python3 tasks.py setup      # only create/update the environment
    python3 tasks.py grade [ASSIGNMENT ...] [--workers N] [--student ID] [--force]
                           [--scheduler ADDRESS]
                                # grade every submission in course/assignments/submitted/ in
                                # parallel sandboxes on Dask (aekeras_tools.grading): gradebook,
                                # summary table, course/assignments/grades_lms.csv
    python3 tasks.py hub        # as root: a demo class on JupyterHub (an instructor, 2 students)
                                # until Ctrl-C; arguments after `--` go to aekeras_tools.hub

Options:
    --backend {all,tensorflow,jax,torch}
        `test` and `claims`: which Keras backends to run (default: all three). TensorFlow
        runs in the complete environment (.venv); JAX and PyTorch run in a second
        environment without TensorFlow (.venv-no-tf), which proves that the
        library, its loaders and the lectures need no TensorFlow.
        `lectures` and `setup`: the backend to use (default: tensorflow; jax and
        torch use the environment without TensorFlow).
    --current-env
        Use the Python running this script, as it is, instead of a virtual
        environment made here: for conda (environment.yml) and for machines
        where you installed the accelerator builds of JAX or PyTorch yourself.
    --fix
        `lint`: apply ruff's fixes and formatting instead of only checking.
    --quick
        `test`: leave out the tests marked `slow` or `notebook` and the lectures under nbval.
    --record
        `lectures`: write the run's claims table to benchmarks/results/ (a committed record)
        instead of build/.
    --jobs {1,2}
        `test` on several backends: 2 (default) runs the TensorFlow suite beside the others
        (JAX, then PyTorch), each suite's output in build/test-results/<backend>.log, printed
        when it ends; 1 runs one suite after another.
    --workers N, --student ID (repeatable), --force, --course DIR, --scheduler ADDRESS
        `grade`: worker processes of the local Dask cluster (default: one per core); grade
        (again) only these students; grade again what was graded before; another nbgrader
        course directory; a running Dask scheduler to grade on instead of a local cluster.

Environment variables:
    AEKERAS_RAW_DATA        folder with offline dataset copies (see data/README.md);
                            not needed with internet access.
    AEKERAS_VENV            the complete environment (default ./.venv).
    AEKERAS_VENV_NO_TF      the environment without TensorFlow (default ./.venv-no-tf).
    AEKERAS_FULL_RUN=1      `lectures`: the paper-scale settings (claims table
                            benchmarks/results/lectures_full_run.md).
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Standard library only, like this script: the folders the tools read and write, the course kernel.
from aekeras_tools import kernel
from aekeras_tools.paths import BUILD
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT
from aekeras_tools.paths import TEST_RESULTS as RESULTS

MIN_PYTHON = (3, 11)  # pyproject.toml's requires-python; tests/test_packaging.py keeps them equal
BACKENDS = ("tensorflow", "jax", "torch")
# Which environment serves which backend, and the extras it installs.
ENVIRONMENTS = {
    "complete": ("AEKERAS_VENV", ".venv", "tensorflow,jax,torch,course,test,hub"),
    "no-tensorflow": ("AEKERAS_VENV_NO_TF", ".venv-no-tf", "jax,torch,course,test,hub"),
}
# These backends run where `import tensorflow` fails.
WITHOUT_TENSORFLOW = ("jax", "torch")


def environment_for(backend):
    return "no-tensorflow" if backend in WITHOUT_TENSORFLOW else "complete"


def venv_python(venv):
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return venv / sub


def run(cmd, env=None, log=None):
    """Runs `cmd` in the project root: its exit code. With `log` (a path), its output (stdout and
    stderr) goes to that file instead of the terminal."""
    print("+", " ".join(str(c) for c in cmd), *([f"> {log}"] if log else []), flush=True)
    env = dict(os.environ if env is None else env)
    if log is None:
        return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    with open(log, "w") as out:
        return subprocess.call(
            [str(c) for c in cmd], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def check_python():
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"aekeras needs Python >= {'.'.join(map(str, MIN_PYTHON))}. "
            f"Received: Python {sys.version.split()[0]}"
        )


def setup(name="complete"):
    """Creates or reuses a virtual environment and installs the project into it.

    Returns the environment's Python. The install is skipped when
    pyproject.toml and the extras are unchanged since the last one.
    """
    check_python()
    variable, default, extras = ENVIRONMENTS[name]
    venv = Path(os.environ.get(variable, ROOT / default))
    python = venv_python(venv)
    if not python.exists():
        print(f"Creating the virtual environment {venv} ({name})", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    stamp = venv / ".aekeras-install"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        print(f"Reusing the environment {venv} (pyproject.toml unchanged)", flush=True)
        return python
    print(f"Installing aekeras[{extras}] into {venv} (a few minutes the first time)", flush=True)
    if run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]) != 0:
        sys.exit("Could not upgrade pip in the virtual environment.")
    if run([python, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"]) != 0:
        sys.exit("Installing the project failed (see pip's message above).")
    install_kernel(venv, python)
    stamp.write_text(digest)
    return python


def install_kernel(venv, python):
    """Installs the course kernel (aekeras_tools.kernel: it imports aekeras first, for quiet lectures)
    into the environment, where JupyterLab and nbclient look first."""
    folder = venv / "share" / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(kernel.spec(python), indent=1) + "\n")


def lectures(python, backend, record=False):
    """Every lecture executed and rendered under build/course/, then the claims table of the run
    (aekeras_tools.lectures); no tracked file changes unless `record`."""
    if not LECTURES:
        sys.exit("No lectures found under course/.")
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [python, "-m", "aekeras_tools.lectures", "--output", BUILD, *LECTURES]
    return run([*command, *(["--record"] if record else [])], env=env)


def claims(backends, current_env=False, extra=()):
    """The claims audit (aekeras_tools.claims_audit): each lecture per seed and backend, each
    backend in its environment, then the table of every claim's margin in SDs."""
    status = 0
    for backend in backends:
        python = Path(sys.executable) if current_env else setup(environment_for(backend))
        env = dict(os.environ, KERAS_BACKEND=backend)
        command = [python, "-m", "aekeras_tools.claims_audit", "run", *extra]
        status |= run(command, env=env) != 0
    # The table covers every run kept under build/claims_audit (earlier ones included).
    python = Path(sys.executable) if current_env else setup(environment_for(backends[0]))
    env = dict(os.environ, KERAS_BACKEND=backends[0])
    return status | (run([python, "-m", "aekeras_tools.claims_audit", "report"], env=env) != 0)


def site(python):
    """The lectures rendered as they are (not executed) under build/course/."""
    return run([python, "-m", "aekeras_tools.lectures", "--no-execute", "--output", BUILD])


def grade(python, args):
    """Grades the submissions of the course directory (aekeras_tools.grading, in the complete environment)."""
    cmd = [python, "-m", "aekeras_tools.grading", *args.assignments]
    if args.workers:
        cmd += ["--workers", args.workers]
    for student in args.student or ():
        cmd += ["--student", student]
    if args.force:
        cmd.append("--force")
    if args.course:
        cmd += ["--course", Path(args.course).resolve()]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    return run(cmd)


def hub(python, extra=()):
    """The demo class on JupyterHub (aekeras_tools.hub), until Ctrl-C."""
    cmd = [str(python), "-m", "aekeras_tools.hub", *extra]
    print("+", " ".join(cmd), flush=True)
    child = subprocess.Popen(cmd, cwd=ROOT)
    # Ctrl-C reaches the child too, which stops the class in order; this process waits for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return child.wait()


def lint(python, fix=False):
    """ruff check, ruff format, the text twins and the lectures' slide metadata (with `fix`: ruff's
    fixes and formatting, the twins synced and the slide metadata rewritten; the only task that
    rewrites tracked files)."""
    check = run([python, "-m", "ruff", "check", *(["--fix"] if fix else []), "."])
    form = run([python, "-m", "ruff", "format", *([] if fix else ["--check"]), "."])
    # The lectures' slide metadata follows rules (tests/test_slides.py); editing a cell can change it,
    # and an edit of a text twin must reach its notebook: sync, set the metadata, sync it back.
    if fix:
        pairs = max(
            run([python, "-m", "aekeras_tools.twins"]),
            run([python, "-m", "aekeras_tools.slides", *LECTURES]),
            run([python, "-m", "aekeras_tools.twins"]),
        )
        return max(check, form, pairs)
    pairs = run([python, "-m", "aekeras_tools.twins", "--check"])
    slide = run([python, "-m", "aekeras_tools.slides", "--check", *LECTURES])
    return max(check, form, pairs, slide)


def report_tensorflow_absent(python):
    """Prints the proof that `import tensorflow` fails in this environment; False if it succeeds."""
    result = subprocess.run(
        [str(python), "-c", "import tensorflow"], capture_output=True, text=True, cwd=ROOT
    )
    last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
    if result.returncode == 0:
        print(
            "ERROR: this environment must not have TensorFlow, but `import tensorflow` works.",
            flush=True,
        )
        return False
    print(f"TensorFlow is absent here: `import tensorflow` -> {last}", flush=True)
    return True


def pytest_targets(extra):
    """The paths among pytest's `extra` arguments (files, folders, node ids that exist)."""
    return [a for a in extra if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]


def test_command(python, backend, extra=(), quick=False):
    """The pytest command for one backend: library tests, docstring examples and the lectures under
    nbval, then `extra` (pytest's own arguments; paths among them replace the suite's). `quick`: no
    tests marked slow or notebook, no lectures."""
    extra = [str(a) for a in extra]
    suite = ["tests", "aekeras"] if quick else ["tests", "aekeras", *LECTURES]
    targets = [] if pytest_targets(extra) else suite
    cmd = [python, "-m", "pytest", *targets, "--doctest-modules"]
    # Notebook-kernel checks of the nbgrader assignments and benchmarks run once, on TensorFlow.
    marks = [] if backend == "tensorflow" else ["not tensorflow_only"]
    marks += ["not slow", "not notebook"] if quick else []
    if marks:
        cmd += ["-m", " and ".join(marks)]
    # Per-test times (lecture cells included) for `python -m aekeras_tools.lecture_times --junit`.
    return [
        *cmd,
        "--nbval-lax",
        "--nbval-current-env",
        f"--junitxml={RESULTS / f'{backend}.xml'}",
        *extra,
    ]


# Two streams share the cores: OpenMP threads (PyTorch's) must sleep, not spin, while they wait, or
# PyTorch's suite stalls beside TensorFlow's (806 s alone, 2,222 s beside it in CI; measured:
# `python -m aekeras_tools.stream_threads`, benchmarks/results/stream_threads.md).
SHARED_CPU = {"OMP_WAIT_POLICY": "PASSIVE"}


def suite(backend, python, without_tensorflow, extra=(), log=None, quick=False, shared=False):
    """Runs one backend's suite: (backend, exit code, seconds). `without_tensorflow`: first prove
    that `python` cannot import TensorFlow. With `log` (a path), pytest's output goes there instead
    of to the terminal. `shared`: another suite runs at the same time (`SHARED_CPU`)."""
    start = time.perf_counter()
    if without_tensorflow and not report_tensorflow_absent(python):
        return backend, 1, time.perf_counter() - start
    env = dict(os.environ, KERAS_BACKEND=backend, **(SHARED_CPU if shared else {}))
    code = run(test_command(python, backend, extra, quick), env=env, log=log)
    if log is not None:
        print(f"\n=== KERAS_BACKEND={backend}, output of {log} ===", flush=True)
        print(Path(log).read_text(errors="replace") if Path(log).exists() else "", flush=True)
    return backend, code, time.perf_counter() - start


def test(backends, current_env=False, extra=(), jobs=2, quick=False):
    """Runs the test suite on each backend: the library tests, the docstring examples and the
    lectures under nbval (their assertion cells and the cells marked NBVAL_CHECK_OUTPUT); on
    TensorFlow also the nbgrader checks and the class grader's. JAX and PyTorch run without
    TensorFlow installed.

    With `jobs` 2 (the default) the suites run in two streams at once, the TensorFlow suite beside
    the others (JAX, then PyTorch): the suites leave cores idle (process starts, notebook kernels,
    sandboxes, single-threaded tests), which the other stream uses. Each suite's output then goes to
    build/test-results/<backend>.log, printed when the suite ends. `jobs` 1: one suite after another,
    the output as it comes.
    """
    streams = {}
    for backend in backends:  # environments are made one at a time, before any suite starts
        name = environment_for(backend)
        python = Path(sys.executable) if current_env else setup(name)
        absent = name == "no-tensorflow" and not current_env
        streams.setdefault(backend == "tensorflow", []).append((backend, python, name, absent))
    if jobs < 2 or len(streams) < 2:
        results = []
        for backend, python, name, absent in [e for stream in streams.values() for e in stream]:
            print(
                f"\n=== KERAS_BACKEND={backend} ({'current' if current_env else name} environment) ===",
                flush=True,
            )
            results.append(suite(backend, python, absent, extra, quick=quick))
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)

        def run_stream(stream):
            return [
                suite(
                    backend,
                    python,
                    absent,
                    extra,
                    log=RESULTS / f"{backend}.log",
                    quick=quick,
                    shared=True,
                )
                for backend, python, _, absent in stream
            ]

        print(
            f"\n=== {' | '.join(', '.join(b for b, *_ in s) for s in streams.values())}: "
            "two streams at once, each suite's output printed when it ends ===",
            flush=True,
        )
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            done = list(pool.map(run_stream, streams.values()))
        order = {backend: i for i, backend in enumerate(backends)}
        results = sorted((r for stream in done for r in stream), key=lambda r: order[r[0]])
    print("\nSummary:")
    for backend, code, seconds in results:
        print(
            f"  {backend:<10} {'passed' if code == 0 else f'FAILED (exit {code})'}  {seconds:6.0f} s"
        )
    return max(code for _, code, _ in results)


def absolute_data_paths():
    """Makes relative AEKERAS_RAW_DATA / AEKERAS_DATA_HOME absolute, against the caller's folder.

    The lectures run with their own folder (course/) as working directory, so a
    path given relative to where the command was typed would point elsewhere.
    """
    for name in ("AEKERAS_RAW_DATA", "AEKERAS_DATA_HOME"):
        value = os.environ.get(name)
        if value and not Path(value).is_absolute():
            os.environ[name] = str(Path(value).resolve())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything after `--` goes to pytest, untouched.
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "task", choices=["setup", "lectures", "site", "test", "claims", "lint", "grade", "hub"]
    )
    parser.add_argument("assignments", nargs="*", help="`grade`: assignment ids (default: all)")
    parser.add_argument("--backend", choices=["all", *BACKENDS], default=None)
    parser.add_argument("--current-env", action="store_true")
    parser.add_argument("--fix", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--jobs", type=int, choices=[1, 2], default=None)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--student", action="append")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--course")
    parser.add_argument("--scheduler")
    args = parser.parse_args(argv)
    if args.task != "grade" and (
        args.assignments
        or args.workers
        or args.student
        or args.force
        or args.course
        or args.scheduler
    ):
        parser.error(
            "assignments, --workers, --student, --force, --course and --scheduler belong to "
            "`grade`. "
            f"Received: {' '.join(argv)}"
        )
    if extra and args.task not in ("test", "claims", "hub"):
        parser.error(
            "only `test` (to pytest), `claims` (to the audit's `run`) and `hub` (to "
            "aekeras_tools.hub) pass arguments on. "
            f"Received: {args.task} -- {' '.join(extra)}"
        )
    if args.fix and args.task != "lint":
        parser.error(f"--fix belongs to `lint`. Received: {args.task} --fix")
    if args.quick and args.task != "test":
        parser.error(f"--quick belongs to `test`. Received: {args.task} --quick")
    if args.record and args.task != "lectures":
        parser.error(f"--record belongs to `lectures`. Received: {args.task} --record")
    if args.jobs is not None and args.task != "test":
        parser.error(f"--jobs belongs to `test`. Received: {args.task} --jobs {args.jobs}")
    check_python()
    absolute_data_paths()
    if args.task == "test":
        backends = BACKENDS if args.backend in (None, "all") else (args.backend,)
        return test(
            backends,
            current_env=args.current_env,
            extra=extra,
            jobs=args.jobs or 2,
            quick=args.quick,
        )
    if args.task == "claims":
        backends = BACKENDS if args.backend in (None, "all") else (args.backend,)
        return claims(backends, current_env=args.current_env, extra=extra)
    if args.backend == "all":
        parser.error(f"`{args.task}` runs on one backend. Received: --backend=all")
    backend = args.backend or "tensorflow"
    python = Path(sys.executable) if args.current_env else setup(environment_for(backend))
    if args.task == "lectures":
        return lectures(python, backend, record=args.record)
    if args.task == "site":
        return site(python)
    if args.task == "lint":
        return lint(python, fix=args.fix)
    if args.task == "grade":
        return grade(python, args)
    if args.task == "hub":
        return hub(python, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
