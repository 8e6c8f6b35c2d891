"""The judges of a2_sparse (instructor-only): the class grader (`python3 tasks.py grade`) and the instructor
notebook's hidden tests (plain `nbgrader autograde`) both decide with the functions of `CHECKS`.

- Tasks 1 to 3 run in NumPy-only steps: only the answer cell, with NumPy the only importable package
  (no aekeras, Keras, SciPy, SymPy, JAX, ...; in a kernel: every other library refused while the
  function runs), called on inputs the grader draws afresh for every submission. The reference values
  are the library's: `aekeras.L1Sparsity`, `aekeras.KLSparsity`, and for Task 3 the automatic
  derivative of `KLSparsity` through the sigmoid. Task 3 is also called on a batch of 8192 x 128 in a
  step of its own with a short wall-clock limit: the derived formula takes milliseconds there, a
  numerical derivative (one forward pass per entry) does not finish. Task 3's derivation is graded by
  hand (`task3_derivation`).
- Task 4 runs the notebook (the instructor's given cells and the student's answers), which saves
  `sparse_ae`; a second step with no student code loads it (`safe_mode`), reads its architecture and
  penalty, encodes and reconstructs x_test and 1000 test images drawn outside x_test per submission,
  and trains the submitted configuration (its β) itself, with the dense model's recipe on x_train.
  The judges compare both, the student's model and the grader's retrained one, with the dense model
  that the grader trains once (`dense_baseline`), so training on other images or past the budget
  cannot raise a score.
"""

import functools
import inspect
import threading

import numpy as np

from aekeras_tools.grading.probe import got
from aekeras_tools.grading.steps import Step
from aekeras_tools.grading.steps import numpy_step

PRELOAD = ("keras", "aekeras")  # what the training steps import: loaded while the step before runs

NOTEBOOK = "a2_sparse"
DATASETS = ("mnist",)
N_TRAIN, N_TEST, CODE_DIM, EPOCHS, TARGET = 3000, 1000, 100, 10, 0.05
LARGE = (8192, 128)  # Task 3's large batch: the formula is instant, m·s forward passes are not

_LOCK = threading.Lock()


def _close(a, b, rtol):
    return np.isclose(float(a), float(b), rtol=rtol, atol=1e-9)


# ----------------------------------------------------------------- Task 1
def task1_inputs(rng):
    h = rng.normal(size=(int(rng.integers(4, 12)), int(rng.integers(3, 9))))
    return {
        # of both signs, always: with activations of one sign, Σh equals Σ|h| (a missing abs() would pass)
        "one": np.abs(rng.normal(size=(1, 6))) * rng.permutation([1, 1, 1, -1, -1, -1]),
        "one_strength": np.asarray(rng.uniform(0.05, 2.0)),
        "h": h,
        "twice": np.concatenate([h, h]),
        "strength": np.asarray(rng.uniform(0.1, 1.0)),
        "h0": rng.normal(size=(32, 20)),
        "h1": rng.normal(size=(5, 3)),
        "h2": rng.uniform(-1, 1, size=(1, 50)),
        "h3": rng.random((7, 9)),
        "s0": np.asarray(rng.uniform(0.001, 0.1)),
        "s1": np.asarray(rng.uniform(0.1, 1.0)),
        "s2": np.asarray(rng.uniform(1.0, 3.0)),
        "s3": np.asarray(0.0),
    }


TASK1_PROBE = """
attempt("one", l1_sparsity, inputs["one"], float(inputs["one_strength"]))
attempt("once", l1_sparsity, inputs["h"], float(inputs["strength"]))
attempt("twice", l1_sparsity, inputs["twice"], float(inputs["strength"]))
attempt("triple", l1_sparsity, inputs["h"], 3 * float(inputs["strength"]))
for i in range(4):
    attempt(f"l1_{i}", l1_sparsity, inputs[f"h{i}"], float(inputs[f"s{i}"]))
"""


def check_task1_l1_properties(values, inputs):
    one, strength = inputs["task1.one"], float(inputs["task1.one_strength"])
    value = float(got(values, "task1.one", "l1_sparsity(h, strength) on one example"))
    expected = strength * float(np.abs(one).sum())
    assert _close(value, expected, 1e-6), (
        f"One example h = {np.round(one, 3).tolist()} with λ = {strength:.3f}: Ω = λ Σ_i |h_i| = {expected:.6g}; "
        f"got {value:.6g}. Take the absolute value of each activation, then sum over the units."
    )
    once = float(got(values, "task1.once", "l1_sparsity(h, strength)"))
    twice = float(got(values, "task1.twice", "l1_sparsity(h twice, strength)"))
    n = len(inputs["task1.h"])
    assert _close(once, twice, 1e-9), (
        f"The same {n} examples twice (a batch of {2 * n}) must give the same penalty as once: expected "
        f"{once:.6g}, got {twice:.6g}. Average over the examples of the batch (sum over the units of each example)."
    )
    triple = float(got(values, "task1.triple", "l1_sparsity(h, 3 * strength)"))
    assert _close(triple, 3 * once, 1e-9), (
        f"The penalty must be proportional to λ: with 3 λ expected {3 * once:.6g} (3 × {once:.6g}), got {triple:.6g}"
    )


def check_task1_l1_matches_library(values, inputs):
    import aekeras

    for i in range(4):
        h, strength = inputs[f"task1.h{i}"], float(inputs[f"task1.s{i}"])
        call = f"l1_sparsity(h of shape {h.shape}, strength={strength:.4g})"
        value = float(got(values, f"task1.l1_{i}", call))
        with _LOCK:
            expected = float(aekeras.L1Sparsity(strength)(h.astype("float32")))
        assert np.isclose(value, expected, rtol=1e-4, atol=1e-6), (
            f"{call}: expected {expected:.6f} (aekeras.L1Sparsity), got {value:.6f}"
        )


# ----------------------------------------------------------------- Task 2
def task2_inputs(rng):
    a = rng.uniform(0.05, 0.45)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return {
        "at_target": np.asarray(rng.uniform(0.02, 0.5)),
        "shape": np.asarray(rng.integers(2, 9, size=2)),
        "h": rng.uniform(0.1, 0.9, size=(16, 4)),
        "strength": np.asarray(rng.uniform(0.5, 2.0)),
        "pair": np.array([[a], [1 - a]]),  # one unit, ρ̂ = 0.5
        "pair_target": np.asarray(rng.uniform(0.05, 0.3)),
        "h0": sigmoid(rng.normal(-1.0, 1.0, size=(64, 30))),
        "h1": rng.uniform(0.01, 0.99, size=(16, 7)),
        "h2": rng.uniform(0.3, 0.6, size=(128, 1)),
        "h3": rng.uniform(0.05, 0.95, size=(3, 40)),
        "t0": np.asarray(rng.uniform(0.02, 0.1)),
        "t1": np.asarray(rng.uniform(0.1, 0.3)),
        "t2": np.asarray(rng.uniform(0.3, 0.7)),
        "t3": np.asarray(rng.uniform(0.02, 0.1)),
        "b0": np.asarray(rng.uniform(1.0, 5.0)),
        "b1": np.asarray(rng.uniform(0.1, 1.0)),
        "b2": np.asarray(rng.uniform(1.0, 3.0)),
        "b3": np.asarray(rng.uniform(0.5, 1.5)),
    }


TASK2_PROBE = """
rho = float(inputs["at_target"])
attempt("at_target", kl_sparsity, np.full(tuple(int(n) for n in inputs["shape"]), rho), rho, 2.0)
attempt("once", kl_sparsity, inputs["h"], 0.05, float(inputs["strength"]))
attempt("triple", kl_sparsity, inputs["h"], 0.05, 3 * float(inputs["strength"]))
attempt("pair", kl_sparsity, inputs["pair"], float(inputs["pair_target"]), 1.0)
for i in range(4):
    attempt(f"kl_{i}", kl_sparsity, inputs[f"h{i}"], float(inputs[f"t{i}"]), float(inputs[f"b{i}"]))
"""


def _kl(rho, rho_hat):
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def check_task2_kl_properties(values, inputs):
    rho = float(inputs["task2.at_target"])
    value = float(got(values, "task2.at_target", f"kl_sparsity(h, {rho:.3f}, 2.0)"))
    assert abs(value) < 1e-9, (
        f"When the mean activation of every unit equals the target ({rho:.3f}), the penalty must be 0; got {value:.3g}"
    )
    once = float(got(values, "task2.once", "kl_sparsity(h, 0.05, β)"))
    triple = float(got(values, "task2.triple", "kl_sparsity(h, 0.05, 3 β)"))
    assert once > 0, (
        f"Mean activations far from the target (0.05) must give a positive penalty; got {once:.4g}"
    )
    assert _close(triple, 3 * once, 1e-6), (
        f"The penalty must be proportional to the strength β: with 3 β expected {3 * once:.4f} (3 × {once:.4f}), "
        f"got {triple:.4f}"
    )
    pair, rho = inputs["task2.pair"], float(inputs["task2.pair_target"])
    value = float(got(values, "task2.pair", "kl_sparsity(h, ρ, 1.0) for one unit"))
    expected, reversed_ = _kl(rho, 0.5), _kl(0.5, rho)
    assert _close(value, expected, 1e-6), (
        f"One unit with activations {pair[0, 0]:.3f} and {pair[1, 0]:.3f} (ρ̂ = 0.5), target ρ = {rho:.3f}, β = 1: "
        f"expected KL(ρ ‖ ρ̂) = {expected:.4f}; got {value:.4f}"
        + (" = KL(ρ̂ ‖ ρ): the arguments are swapped" if _close(value, reversed_, 1e-6) else "")
    )


def check_task2_kl_matches_library(values, inputs):
    import aekeras

    for i in range(4):
        h, target, strength = (inputs[f"task2.{k}{i}"] for k in ("h", "t", "b"))
        target, strength = float(target), float(strength)
        call = f"kl_sparsity(h of shape {h.shape}, target={target:.4g}, strength={strength:.4g})"
        value = float(got(values, f"task2.kl_{i}", call))
        with _LOCK:
            expected = float(aekeras.KLSparsity(target=target, strength=strength)(h))
        assert np.isclose(value, expected, rtol=1e-4), (
            f"{call}: expected {expected:.6f}, got {value:.6f}. Check that ρ̂_j is the mean of unit j over the "
            "examples (axis 0), that the KL terms are summed over the units, and that the sum is multiplied by β."
        )


# ----------------------------------------------------------------- Task 3
def task3_inputs(rng):
    return {
        "z0": rng.normal(0.0, 2.0, size=(4, 3)),
        "t0": np.asarray(rng.uniform(0.05, 0.3)),
        "b0": np.asarray(rng.uniform(0.5, 3.0)),
        "z1": rng.normal(-1.0, 1.5, size=(16, 5)) + rng.normal(0.0, 1.0, size=5),
        "t1": rng.uniform(0.02, 0.5, size=5),  # one target per unit
        "b1": np.asarray(rng.uniform(0.1, 1.0)),
        "z2": rng.normal(0.0, 3.0, size=(7, 4)),
        "t2": np.asarray(0.05),
        "b2": np.asarray(rng.uniform(1.0, 5.0)),
        "at_target": np.asarray(rng.uniform(0.02, 0.5, size=3)),
        "busy": np.column_stack([rng.uniform(1.0, 3.0, 5), rng.uniform(-5.0, -3.0, 5)]),
    }


TASK3_PROBE = """
for i in range(3):
    attempt(f"grad{i}", kl_gradient, inputs[f"z{i}"], inputs[f"t{i}"] if inputs[f"t{i}"].ndim else
            float(inputs[f"t{i}"]), float(inputs[f"b{i}"]))
rho = inputs["at_target"]
attempt("at_target", kl_gradient, np.tile(np.log(rho / (1 - rho)), (6, 1)), rho, 1.0)
attempt("busy", kl_gradient, inputs["busy"], 0.1, 1.0)
"""


def task3_large_inputs(rng):
    m, s = LARGE
    return {"z": rng.normal(-2.0, 2.0, size=(m, s)), "t": rng.uniform(0.02, 0.3, size=s)}


TASK3_LARGE_PROBE = """
attempt("grad", kl_gradient, inputs["z"], inputs["t"], 0.5)
"""


def library_gradient(z, target, strength):
    """∂Ω/∂z of Ω(z) = Σ_j aekeras.KLSparsity(ρ_j, β)(σ(z[:, j])), by the backend's automatic differentiation."""
    import keras

    import aekeras

    targets = np.broadcast_to(np.asarray(target, dtype=np.float64), z.shape[1:])
    groups = {float(t): np.flatnonzero(targets == t) for t in np.unique(targets)}

    def penalty(variable):
        h = keras.ops.sigmoid(variable)
        return sum(
            aekeras.KLSparsity(target=t, strength=strength)(keras.ops.take(h, columns, axis=1))
            for t, columns in groups.items()
        )

    backend = keras.backend.backend()
    with _LOCK:
        if backend == "tensorflow":
            import tensorflow as tf

            variable = tf.constant(z, dtype=tf.float64)
            with tf.GradientTape() as tape:
                tape.watch(variable)
                value = penalty(variable)
            return tape.gradient(value, variable).numpy()
        if backend == "torch":
            import torch

            variable = torch.tensor(z, dtype=torch.float64, requires_grad=True)
            penalty(variable).backward()
            return variable.grad.numpy()
        if backend == "jax":
            import jax

            # float32 unless JAX runs with x64 (a relative error of about 1e-7, far below the tolerance)
            return np.asarray(jax.grad(penalty)(jax.numpy.asarray(z)), dtype=np.float64)
    raise RuntimeError(f"no automatic differentiation for the Keras backend {backend!r}")


def _compare_gradient(call, z, value, expected):
    """Passes if `value` is `expected`, else an AssertionError that names the usual slip."""
    value = np.asarray(value, dtype=np.float64)
    assert value.shape == z.shape, (
        f"{call} must return one value per entry of z, shape {z.shape}; got shape {value.shape}"
    )
    if np.allclose(value, expected, rtol=1e-4, atol=1e-7 * np.abs(expected).max()):
        return
    assert not np.allclose(value, value[:1]), (
        f"{call}: your values are the same for every example of a unit, but z_ij reaches Ω through the "
        "activation of example i: did you return the derivative with respect to ρ̂_j? Continue the chain rule "
        "through the mean over the examples and the sigmoid."
    )
    ratio = np.median(value / expected)
    assert not np.isclose(ratio, -1, rtol=1e-3), (
        f"{call}: your values have the opposite sign of the derivative"
    )
    assert not np.isclose(ratio, len(z), rtol=1e-3), (
        f"{call}: your values are m = {len(z)} times too large: ρ̂_j is the mean over the m examples of the batch"
    )
    worst = np.unravel_index(np.argmax(np.abs(value - expected)), z.shape)
    raise AssertionError(
        f"{call}: differs from the derivative of aekeras.KLSparsity through the sigmoid by up to "
        f"{float(np.abs(value - expected)[worst]):.3g}; at entry {tuple(int(i) for i in worst)} expected "
        f"{float(expected[worst]):.6g}, got {float(value[worst]):.6g}"
    )


def check_task3_kl_gradient(values, inputs):
    for i in range(3):
        z, target, strength = (inputs[f"task3.{k}{i}"] for k in ("z", "t", "b"))
        call = (
            f"kl_gradient(z of shape {z.shape}, target={np.round(target, 3).tolist()}, "
            f"strength={float(strength):.3g})"
        )
        value = got(values, f"task3.grad{i}", call)
        _compare_gradient(call, z, value, library_gradient(z, target, float(strength)))
    rho = inputs["task3.at_target"]
    value = np.asarray(got(values, "task3.at_target", "kl_gradient(z at the targets, ...)"))
    assert value.shape == (6, rho.size) and np.abs(value).max() < 1e-9, (
        f"When every unit's mean activation equals its target ({np.round(rho, 3).tolist()}), the derivative must be "
        f"0; got values up to {np.abs(value).max() if value.size else float('nan'):.3g} (shape {value.shape})"
    )
    busy = inputs["task3.busy"]
    value = np.asarray(got(values, "task3.busy", "kl_gradient(z, 0.1, 1.0)"))
    assert value.shape == busy.shape and np.all(value[:, 0] > 0) and np.all(value[:, 1] < 0), (
        "Above its target a unit's derivatives must be positive (descent lowers its pre-activations), below its "
        f"target negative; got {np.round(value, 5).tolist()} for a unit with mean activation "
        f"{float(np.mean(1 / (1 + np.exp(-busy[:, 0])))):.2f} and one with "
        f"{float(np.mean(1 / (1 + np.exp(-busy[:, 1])))):.2f}, target 0.1"
    )
    z, target = inputs["task3_large.z"], inputs["task3_large.t"]
    call = f"kl_gradient(z of shape {z.shape}, target of shape {target.shape}, strength=0.5)"
    if "task3_large.grad" not in values and "task3_large.grad.error" not in values:
        raise AssertionError(
            f"{call} did not return within the time limit. The formula you derived takes milliseconds on this "
            "batch; a numerical derivative (one forward pass per entry) does not finish: write the formula."
        )
    value = got(values, "task3_large.grad", call)
    _compare_gradient(call, z, value, library_gradient(z, target, 0.5))


# ----------------------------------------------------------------- Task 4
@functools.cache
def mnist():
    """(x_train[:3000], x_test[:10000]) as the notebook loads them (the grader's copy)."""
    import aekeras

    with _LOCK:
        x_train = aekeras.datasets.load_mnist("train", n=N_TRAIN)[0]
        x_test = aekeras.datasets.load_mnist("test")[0]
    return x_train, x_test


def evaluate_inputs(rng):
    x_train, x_test = mnist()
    other = N_TEST + rng.choice(len(x_test) - N_TEST, 1000, replace=False)
    return {"x_train": x_train, "x_test": x_test[:N_TEST], "x_other": x_test[np.sort(other)]}


SAVE_PROBE = """
if sparse_ae is not None:
    sparse_ae.save("out/sparse_ae.keras")
"""


def trained(x_train, sparsity, code_dim=CODE_DIM, epochs=EPOCHS):
    """The dense model of the notebook's given cell (784-100, sigmoid code), with `sparsity`, trained
    with its recipe from a fixed seed. Self-contained: its source also runs in the evaluate step."""
    import keras

    import aekeras

    keras.utils.set_random_seed(0)
    model = aekeras.models.DenseAutoencoder(
        (28, 28, 1),
        hidden_units=(),
        code_dim=code_dim,
        code_activation="sigmoid",
        sparsity=sparsity,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    model.fit(x_train, epochs=epochs, batch_size=64, verbose=0)
    return model


@functools.cache
def dense_baseline():
    """The dense model without a penalty, trained once by the grader with the recipe."""
    with _LOCK:
        return trained(mnist()[0], None)


def dense_reconstructions(images):
    model = dense_baseline()
    with _LOCK:
        return np.asarray(model.reconstruct(images))


EVALUATE_PROBE = (
    f"CODE_DIM, EPOCHS = {CODE_DIM}, {EPOCHS}\n"
    + inspect.getsource(trained)
    + """
import math

import keras
import numpy as np

import aekeras

model = keras.models.load_model("sparse_ae.keras", safe_mode=True, compile=False)
export("is_dense", isinstance(model, aekeras.models.DenseAutoencoder))
export("layer_sizes", str(getattr(model, "layer_sizes", type(model).__name__)))
try:
    export("code_activation", model.encoder.get_layer("code").activation.__name__)
except (AttributeError, ValueError):
    export("code_activation", "none")
penalties = [
    (layer.regularizer, layer.get_level()) for layer in getattr(model, "sparsity_layers", ())
]
kl = [(p.target, level) for p, level in penalties if isinstance(p, aekeras.KLSparsity)]
export("penalties", ", ".join(f"{type(p).__name__}(strength={level:.4g})" for p, level in penalties))
target, strength = kl[0] if kl else (-1.0, -1.0)
export("kl_target", target)
export("kl_strength", strength)
for key in ("x_test", "x_other"):
    export(f"codes_{key}", np.mean(model.encode(inputs[key])))
    export(f"rec_{key}", model.reconstruct(inputs[key]).astype("float32"))
if kl and math.isfinite(strength) and 0 < strength <= 100:
    again = trained(inputs["x_train"], aekeras.KLSparsity(target=target, strength=strength))
    for key in ("x_test", "x_other"):
        export(f"again_codes_{key}", np.mean(again.encode(inputs[key])))
        export(f"again_rec_{key}", again.reconstruct(inputs[key]).astype("float32"))
"""
)
IMAGES = (("x_test", "the test images x_test"), ("x_other", "1000 other test images"))


def _architecture(values):
    """The architecture and penalty checks of Task 4, with the messages of the notebook's tests."""
    if "evaluate.is_dense" not in values:
        raise AssertionError(
            "`sparse_ae` could not be evaluated: it is None, or the notebook failed before it was trained, or it "
            "is not a model that loads with keras.models.load_model(..., safe_mode=True) (an "
            "aekeras.models.DenseAutoencoder does; Lambda layers and classes of your own do not)."
        )
    sizes = str(values["evaluate.layer_sizes"])
    assert bool(values["evaluate.is_dense"]) and sizes == f"784-{CODE_DIM}", (
        f"Expected the dense model's architecture, an aekeras.models.DenseAutoencoder 784-{CODE_DIM} (no hidden "
        f"layer); got {sizes}"
    )
    activation = str(values["evaluate.code_activation"])
    assert activation == "sigmoid", (
        f"The KL penalty needs sigmoid code units (code_activation='sigmoid'); got {activation}"
    )
    target, strength = float(values["evaluate.kl_target"]), float(values["evaluate.kl_strength"])
    assert target == TARGET and 0 < strength <= 100, (
        f"Expected the KL penalty with target ρ = {TARGET} and a strength 0 < β <= 100 on the code "
        f"(sparsity=aekeras.KLSparsity(target={TARGET}, strength=...)); got "
        f"{str(values['evaluate.penalties']) or 'no sparsity penalty'}"
    )
    return strength


def _retrained(values, strength):
    if "evaluate.again_codes_x_other" not in values:
        raise AssertionError(
            f"The grader could not train your configuration (β = {strength:.4g}) again; see the error below."
        )


def check_task4_sparse_codes(values, inputs):
    strength = _architecture(values)
    for key, what in IMAGES:
        mean = float(values[f"evaluate.codes_{key}"])
        assert mean <= 0.1, (
            f"On {what}, expected a mean code activation of at most 0.1 (target ρ = {TARGET}); got {mean:.3f}. "
            "Increase the strength β of the penalty."
        )
    _retrained(values, strength)
    for key, what in IMAGES:
        mean = float(values[f"evaluate.again_codes_{key}"])
        assert mean <= 0.1, (
            f"Your configuration (β = {strength:.4g}), trained by the grader as the dense model is trained "
            f"({EPOCHS} epochs on x_train), has a mean code activation of {mean:.3f} on {what}; expected at most "
            "0.1. Your own model's codes are sparser: was it trained longer, or on other images than x_train? "
            "Choose a β that works within the budget."
        )


def check_task4_reconstruction(values, inputs):
    import aekeras

    strength = _architecture(values)
    for key, what in IMAGES:
        images = inputs[f"evaluate.{key}"]
        dense = aekeras.metrics.reconstruction_error(images, dense_reconstructions(images))
        error = aekeras.metrics.reconstruction_error(
            images, values[f"evaluate.rec_{key}"].reshape(images.shape)
        )
        assert error <= 1.5 * dense, (
            f"On {what}, expected a reconstruction error of at most 1.5 × {dense:.1f} (the dense model, retrained "
            f"by the grader) = {1.5 * dense:.1f}; got {error:.1f}. The penalty is too strong (decrease β) or the "
            "training too short."
        )
    _retrained(values, strength)
    for key, what in IMAGES:
        images = inputs[f"evaluate.{key}"]
        dense = aekeras.metrics.reconstruction_error(images, dense_reconstructions(images))
        error = aekeras.metrics.reconstruction_error(
            images, values[f"evaluate.again_rec_{key}"].reshape(images.shape)
        )
        assert error <= 1.5 * dense, (
            f"Your configuration (β = {strength:.4g}), trained by the grader as the dense model is trained "
            f"({EPOCHS} epochs on x_train), reconstructs {what} with an error of {error:.1f}; expected at most "
            f"1.5 × {dense:.1f} (the dense model, retrained by the grader) = {1.5 * dense:.1f}. Your own model "
            "does better: was it trained longer, or on other images than x_train? Choose a β that works within "
            "the budget."
        )


STEPS = [
    numpy_step("task1", TASK1_PROBE, "task1_l1_sparsity", task1_inputs),
    numpy_step("task2", TASK2_PROBE, "task2_kl_sparsity", task2_inputs),
    numpy_step("task3", TASK3_PROBE, "task3_kl_gradient_solution", task3_inputs),
    numpy_step(
        "task3_large",
        TASK3_LARGE_PROBE,
        "task3_kl_gradient_solution",
        task3_large_inputs,
        wall_s=20,
        memory_bytes=4 * 2**30,
    ),
    Step(
        "notebook",
        SAVE_PROBE,
        preload=PRELOAD,
        cells=None,
        keep=["sparse_ae.keras"],
        data=["mnist"],
        wall_s=300,
    ),
    # No student code: the saved model loaded safely, and its configuration trained by the grader.
    Step(
        "evaluate",
        EVALUATE_PROBE,
        preload=PRELOAD,
        cells=[],
        carry=["sparse_ae.keras"],
        inputs=evaluate_inputs,
        wall_s=300,
    ),
]
check_task1_l1_properties.steps = check_task1_l1_matches_library.steps = ["task1"]
check_task2_kl_properties.steps = check_task2_kl_matches_library.steps = ["task2"]
check_task3_kl_gradient.steps = ["task3", "task3_large"]
check_task4_sparse_codes.steps = check_task4_reconstruction.steps = ["notebook", "evaluate"]
CHECKS = {
    "task1_l1_properties": check_task1_l1_properties,
    "task1_l1_matches_library": check_task1_l1_matches_library,
    "task2_kl_properties": check_task2_kl_properties,
    "task2_kl_matches_library": check_task2_kl_matches_library,
    "task3_kl_gradient": check_task3_kl_gradient,
    "task4_sparse_codes": check_task4_sparse_codes,
    "task4_reconstruction": check_task4_reconstruction,
}
