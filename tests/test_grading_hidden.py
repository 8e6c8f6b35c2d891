"""The hidden tests' side (aekeras_tools.grading.hidden): the judges run in a kernel, the NumPy-only guard.

The nbgrader runs (test_assignments.py, test_assignment_mutations.py) show `check` at work in notebooks;
these fast tests pin what a notebook run does not reach: aliases bound before the call, lazy results,
threads, a guard switched off, and the time limit of a step.
"""

import sys
import threading

import keras
import numpy as np
import pytest

import aekeras
from aekeras.metrics import psnr as aliased_psnr
from aekeras_tools.grading import hidden

from grading_course import TOY_CHECKS
from grading_course import toy_course

pytestmark = pytest.mark.tensorflow_only


def numpy_psnr(x, x_hat):
    mse = np.mean((np.asarray(x) - np.asarray(x_hat)) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1 / mse)))


def test_numpy_only_returns_the_result_of_numpy_code():
    x, x_hat = np.zeros((2, 4)), np.full((2, 4), 0.1)
    assert hidden.numpy_only(numpy_psnr, x, x_hat) == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("function", "named"),
    [
        (lambda x, x_hat: aliased_psnr(x, x_hat), "aekeras.metrics.psnr"),  # bound before the guard
        (lambda x, x_hat: aekeras.metrics.psnr(x, x_hat), "aekeras.metrics.psnr"),
        (lambda x, x_hat: float(keras.ops.mean(keras.ops.square(x - x_hat))), "keras."),
        (
            lambda x, x_hat: aekeras.SaltAndPepperNoise(0.1).corrupt(x),
            "aekeras.corruption.SaltAndPepperNoise",
        ),
    ],
)
def test_numpy_only_refuses_library_calls_under_any_name(function, named):
    with pytest.raises(hidden.LibraryUnavailable, match="is not available in this task") as error:
        hidden.numpy_only(function, np.zeros((2, 4)), np.full((2, 4), 0.1))
    assert named in str(error.value)


def test_numpy_only_refuses_a_library_call_the_function_catches():
    def sneaky(x):
        try:
            return aekeras.PCA(1).fit(x).reconstruct(x)
        except Exception:
            return x

    with pytest.raises(hidden.LibraryUnavailable, match="aekeras.pca.PCA"):
        hidden.numpy_only(sneaky, np.random.default_rng(0).random((5, 3)))


def test_numpy_only_lets_the_students_own_errors_through():
    with pytest.raises(ZeroDivisionError):
        hidden.numpy_only(lambda: 1 / 0)


def test_numpy_only_guards_lazy_results_and_threads():
    class Lazy:
        def __array__(self, dtype=None, copy=None):
            return aekeras.PCA(1).fit(np.eye(3)).reconstruct(np.eye(3))

    with pytest.raises(hidden.LibraryUnavailable, match="aekeras.pca.PCA"):
        hidden.numpy_only(lambda: Lazy())

    def threaded():
        result = []

        def work():
            try:
                result.append(aekeras.metrics.psnr(np.zeros((1, 2)), np.full((1, 2), 0.5)))
            except Exception as error:  # the refusal, raised in the thread
                result.append(error)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        return result

    with pytest.raises(hidden.LibraryUnavailable, match="aekeras.metrics.psnr"):
        hidden.numpy_only(threaded)


def test_numpy_only_notices_a_function_that_switches_the_check_off():
    with pytest.raises(hidden.LibraryUnavailable, match="switched off"):
        hidden.numpy_only(lambda: sys.setprofile(None))
    assert sys.getprofile() is None


@pytest.fixture
def toy_checks(tmp_path, monkeypatch):
    course = toy_course(tmp_path, checks=TOY_CHECKS.replace("wall_s=20,", "wall_s=1,", 1))
    monkeypatch.syspath_prepend(str(course / "grading"))
    monkeypatch.delitem(sys.modules, "checks_toy", raising=False)
    return course


def test_check_runs_the_graders_judge_on_the_notebooks_names(toy_checks):
    import numpy

    notebook = {"__name__": "__main__", "np": numpy}
    exec("def double(x):\n    return x + x\ntotal = double(np.arange(4)).sum()", notebook)
    hidden.check("toy", "test_double", notebook)
    hidden.check("toy", "test_total", notebook)
    exec("total = 11", notebook)
    with pytest.raises(
        AssertionError, match="total must be double\\(np.arange\\(4\\)\\).sum\\(\\) = 12; got 11"
    ):
        hidden.check("toy", "test_total", notebook)
    exec(
        "import aekeras\ndef double(x):\n    return aekeras.PCA(1).fit(x).reconstruct(x)",
        notebook,
    )
    with pytest.raises(AssertionError, match="aekeras is not available in this task"):
        hidden.check("toy", "test_double", notebook)


def test_check_keeps_a_steps_time_limit(toy_checks):
    import numpy

    notebook = {"__name__": "__main__", "np": numpy}
    exec("import time\ndef double(x):\n    time.sleep(5)\n    return x + x", notebook)
    with pytest.raises(AssertionError, match="timed out: killed after the wall-clock limit of 1 s"):
        hidden.check("toy", "test_double", notebook)
