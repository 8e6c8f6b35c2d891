"""The grading helpers of the assignments' hidden tests (course/assignments/grading/aekeras_grading.py).

The nbgrader runs (test_assignments.py, test_assignment_mutations.py) show them at work in a notebook; these
fast tests pin the cases a notebook run does not reach: aliases bound before the call, lazy results, threads,
and the training records.
"""

import sys
import threading

import keras
import numpy as np
import pytest

import aekeras
from aekeras.metrics import psnr as aliased_psnr

import aekeras_grading as grading


def numpy_psnr(x, x_hat):
    mse = np.mean((np.asarray(x) - np.asarray(x_hat)) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1 / mse)))


def test_numpy_only_returns_the_result_of_numpy_code():
    x, x_hat = np.zeros((2, 4)), np.full((2, 4), 0.1)
    assert grading.numpy_only(numpy_psnr, x, x_hat, convert=float) == pytest.approx(20.0)


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
    with pytest.raises(AssertionError, match="write the computation yourself with NumPy") as error:
        grading.numpy_only(function, np.zeros((2, 4)), np.full((2, 4), 0.1))
    assert named in str(error.value)


def test_numpy_only_refuses_a_library_call_the_function_catches():
    def sneaky(x):
        try:
            return aekeras.PCA(1).fit(x).reconstruct(x)
        except Exception:
            return x

    with pytest.raises(AssertionError, match="aekeras.pca.PCA"):
        grading.numpy_only(sneaky, np.random.default_rng(0).random((5, 3)))

    def gives_up(x):
        try:
            return aekeras.metrics.psnr(x, x / 2)
        except Exception:
            return None

    with pytest.raises(AssertionError, match="aekeras.metrics.psnr"):  # not float(None)'s TypeError
        grading.numpy_only(gives_up, np.full((2, 3), 0.5), convert=float)


def test_numpy_only_lets_the_students_own_errors_through():
    with pytest.raises(ZeroDivisionError):
        grading.numpy_only(lambda: 1 / 0)


def test_numpy_only_guards_lazy_results_and_threads():
    class Lazy:
        def __array__(self, dtype=None, copy=None):
            return aekeras.PCA(1).fit(np.eye(3)).reconstruct(np.eye(3))

    with pytest.raises(AssertionError, match="aekeras.pca.PCA"):
        grading.numpy_only(lambda: Lazy())

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

    with pytest.raises(AssertionError, match="aekeras.metrics.psnr"):
        grading.numpy_only(threaded)


def test_numpy_only_notices_a_function_that_switches_the_check_off():
    with pytest.raises(AssertionError, match="switched off"):
        grading.numpy_only(lambda: sys.setprofile(None))
    assert sys.getprofile() is None


@pytest.fixture
def recorder():
    rng = np.random.default_rng(0)
    x_train, x_test = rng.random((40, 6)).astype("float32"), rng.random((10, 6)).astype("float32")
    grading.record_training(x_train, x_test)
    yield x_train, x_test
    grading.stop_recording()


def small_model():
    model = aekeras.models.DenseAutoencoder(6, hidden_units=(4,), code_dim=2)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_check_training_accepts_fit_on_x_train_within_the_budget(recorder):
    x_train, _ = recorder
    model = small_model()
    model.fit(x_train, epochs=2, batch_size=8, verbose=0)
    model.fit(x_train[:20], epochs=2, batch_size=8, verbose=0)
    grading.check_training(model, "ae", epochs=3, cell="the cell")


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (
            lambda m, x, t: m.fit(np.concatenate([x, t]), epochs=1, verbose=0),
            "10 of them test images",
        ),
        (lambda m, x, t: m.fit(x, epochs=4, batch_size=8, verbose=0), "the budget is 3 epochs"),
        (
            lambda m, x, t: [m.fit(x, epochs=2, verbose=0), m.fit(x, epochs=2, verbose=0)],
            "the budget is 3 epochs",
        ),
        (lambda m, x, t: None, "was not trained with fit"),
        (
            lambda m, x, t: [m.train_on_batch(x[:8], x[:8]) for _ in range(30)],
            "the budget is 3 epochs",
        ),
    ],
    ids=["test images", "too many epochs", "two calls of fit", "not trained", "train_on_batch"],
)
def test_check_training_names_what_broke_the_rules(recorder, train, message):
    x_train, x_test = recorder
    model = small_model()
    train(model, x_train, x_test)
    with pytest.raises(AssertionError, match=message):
        grading.check_training(model, "ae", epochs=3, cell="the cell")


def salt(x, rng):
    noisy = np.array(x, copy=True)
    noisy[rng.random(noisy.shape) < 0.3] = 1.0
    return noisy


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (lambda m, c, x, t: m.fit(c(x), x, epochs=2, verbose=0), None),
        (lambda m, c, x, t: m.fit(salt(x, np.random.default_rng(1)), x, verbose=0), "not made by"),
        (lambda m, c, x, t: m.fit(x, epochs=1, verbose=0), "trained without targets"),
        (lambda m, c, x, t: m.fit(c(t), t, verbose=0), "10 of them test images"),
        (lambda m, c, x, t: [m.fit(c(x), x, verbose=0) for _ in range(4)], "budget is 3 epochs"),
    ],
    ids=["its inputs", "other corruption", "clean inputs", "test targets", "too many epochs"],
)
def test_check_training_of_a_denoising_model_wants_inputs_from_the_students_corruption(
    recorder, train, message
):
    x_train, x_test = recorder
    rng = np.random.default_rng(0)
    corrupt = grading.record_corruption(lambda x: salt(x, rng))
    model = small_model()
    train(model, corrupt, x_train, x_test)
    if message is None:
        grading.check_training(model, "dae", epochs=3, cell="the cell", inputs_from="corrupt")
    else:
        with pytest.raises(AssertionError, match=message):
            grading.check_training(model, "dae", epochs=3, cell="the cell", inputs_from="corrupt")


def test_check_training_notices_steps_made_before_recording():
    rng = np.random.default_rng(0)
    x_train = rng.random((40, 6)).astype("float32")
    model = small_model()
    model.fit(x_train, epochs=2, batch_size=8, verbose=0)  # before the recorder
    grading.record_training(x_train, rng.random((10, 6)).astype("float32"))
    try:
        model.fit(x_train, epochs=1, batch_size=8, verbose=0)
        with pytest.raises(AssertionError, match="train it only there, and only with fit"):
            grading.check_training(model, "ae", epochs=3, cell="the cell")
    finally:
        grading.stop_recording()
