"""Project tasks: set up the environment, build the course, run the tests.

Usage (Python >= 3.10, standard library only; creates or reuses ./.venv):

    python3 tasks.py lectures   # execute the lectures, write HTML to build/course/
    python3 tasks.py test       # the complete test suite (what CI runs)
    python3 tasks.py setup      # only create/update the environment

Environment variables:
    AEKERAS_RAW_DATA   folder with offline dataset copies (see data/README.md);
                       not needed with internet access.
    AEKERAS_VENV       location of the virtual environment (default ./.venv).
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("AEKERAS_VENV", ROOT / ".venv"))
EXTRAS = "course,test,backends"
LECTURES = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
BUILD = ROOT / "build" / "course"
RESULTS = ROOT / "build" / "test-results"
BACKENDS = ("tensorflow", "jax", "torch")


def venv_python():
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def run(cmd, env=None):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    env = dict(os.environ if env is None else env)
    # TensorFlow's C++ info and warning lines would otherwise fill notebook outputs.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def setup():
    """Creates or reuses the virtual environment and installs the project into it."""
    if sys.version_info < (3, 10):
        sys.exit(f"aekeras needs Python >= 3.10. Received: Python {sys.version.split()[0]}")
    python = venv_python()
    if not python.exists():
        print(f"Creating the virtual environment {VENV}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / ".aekeras-install"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        print(f"Reusing the environment {VENV} (pyproject.toml unchanged)", flush=True)
        return python
    print("Installing aekeras and its dependencies (a few minutes the first time)", flush=True)
    if run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]) != 0:
        sys.exit("Could not upgrade pip in the virtual environment.")
    if run([python, "-m", "pip", "install", "--quiet", "-e", f".[{EXTRAS}]"]) != 0:
        sys.exit("Installing the project failed (see pip's message above).")
    stamp.write_text(digest)
    return python


def lectures(python):
    """Executes every lecture and writes HTML pages and an index under build/course/."""
    if not LECTURES:
        sys.exit("No lectures found under course/.")
    return run([python, ROOT / "course" / "build.py", "--output", BUILD, *LECTURES])


def test(python):
    """Runs the complete test suite: everything on TensorFlow, the library on JAX and PyTorch.

    On TensorFlow: the tests, the docstring examples, nbval over the lectures
    (their assertion cells and the cells marked NBVAL_CHECK_OUTPUT) and the
    nbgrader checks. On JAX and PyTorch: the library tests.
    """
    env = dict(os.environ)
    results = []
    for backend in BACKENDS:
        env["KERAS_BACKEND"] = backend
        if backend == "tensorflow":
            cmd = [
                python, "-m", "pytest", "tests", "aekeras", "--doctest-modules",
                *LECTURES, "--nbval-lax", "--nbval-current-env",
            ]
        else:
            cmd = [python, "-m", "pytest", "tests", "-m", "not tensorflow_only"]
        # Per-test times (lecture cells included) for benchmarks/lecture_times.py --junit.
        cmd.append(f"--junitxml={RESULTS / f'{backend}.xml'}")
        print(f"\n=== KERAS_BACKEND={backend} ===", flush=True)
        start = time.perf_counter()
        code = run(cmd, env=env)
        results.append((backend, code, time.perf_counter() - start))
    print("\nSummary:")
    for backend, code, seconds in results:
        print(f"  {backend:<10} {'passed' if code == 0 else f'FAILED (exit {code})'}  {seconds:6.0f} s")
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["setup", "lectures", "test"])
    args = parser.parse_args(argv)
    absolute_data_paths()
    python = setup()
    if args.task == "lectures":
        return lectures(python)
    if args.task == "test":
        return test(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
