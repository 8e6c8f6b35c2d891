"""The judges of a1_autoencoders (instructor-only): the class grader (`python3 tasks.py grade`) and the
instructor notebook's hidden tests (plain `nbgrader autograde`) both decide with the functions of `CHECKS`.

- Tasks 1 and 2 run in NumPy-only steps: only the answer cell, with NumPy the only importable package
  (in a kernel: every other library refused while the function runs), called on inputs the grader
  draws afresh for every submission, and compared with the library's results.
- Task 3 grades a design, not a training run, within a budget of parameters that the lecture's models
  exceed (the lecture's 784-256-8 has about 407,000; the budget is 80,000) and against a margin over
  PCA (an error at most 0.8 times PCA's): a choice the lecture did not make. The step `design` runs the
  notebook's set-up and the student's `build_autoencoder()`, and saves the model's configuration (no
  weights). The step `train`, with no student code at all, rebuilds the model from that configuration
  in Keras' safe mode, initialises it from the grader's seed and trains it with the grader's budget
  (`retrain`: Adam, binary cross-entropy, 10 epochs of batches of 64 over the grader's copy of
  x_train); it then reconstructs the test images and 1000 others the notebook never had. The judges
  refuse a configuration that holds code or arrays (`design_problems`), count its parameters and
  compare the errors with PCA's. Training longer, or on test images, in the notebook changes nothing a
  judge sees.
"""

import functools
import inspect
import json
import threading

import numpy as np

from aekeras_tools.grading.probe import got
from aekeras_tools.grading.steps import Step
from aekeras_tools.grading.steps import numpy_step

PRELOAD = ("keras", "aekeras")  # what the training steps import: loaded while the step before runs

NOTEBOOK = "a1_autoencoders"
DATASETS = ("mnist",)
CODE_DIM, N_TRAIN = 8, 5000
MAX_PARAMETERS, MAX_RATIO = 80_000, 0.8  # Task 3's budget, and the error to reach relative to PCA's
# The grader's training budget of Task 3 (the notebook's set-up cell states the same).
EPOCHS, BATCH_SIZE, LEARNING_RATE, SEED = 10, 64, 2e-3, 0
MAX_DESIGN_BYTES = 2**20

_LOCK = threading.Lock()


@functools.cache
def mnist():
    """(x_train[:5000], x_test[:2000]) as the notebook loads them (the grader's copy)."""
    import aekeras

    with _LOCK:
        x_train = aekeras.datasets.load_mnist("train", n=N_TRAIN)[0]
        x_test = aekeras.datasets.load_mnist("test", n=2000)[0]
    return x_train, x_test


# ----------------------------------------------------------------- Task 1
TASK1_CASES = 4


def task1_inputs(rng):
    x_train, x_test = mnist()
    fit = x_train[rng.choice(N_TRAIN, 1000, replace=False)]
    inputs = {
        "shape_fit": x_train[rng.choice(N_TRAIN, 200, replace=False)],
        "shape_x": x_test[rng.choice(1000, 50, replace=False)],
        "few": rng.random((10, 6, 6)),
        "far": rng.random((12, 5, 3)) + 2.0,
        "fit0": fit,
        "x0": x_test[rng.choice(1000, 200, replace=False)],
        "k0": np.asarray(int(rng.integers(5, 15))),
        "fit1": fit[:500].reshape(500, -1),
        "x1": x_test[1000 + rng.choice(1000, 100, replace=False)].reshape(100, -1),
        "k1": np.asarray(3),
        "fit2": fit[:400],
        "x2": fit[:400],
        "k2": np.asarray(20),
        "fit3": rng.normal(5.0, 2.0, (60, 12)),
        "x3": rng.normal(5.0, 2.0, (9, 12)),
        "k3": np.asarray(4),
    }
    return inputs


TASK1_PROBE = """
attempt("shape", pca_reconstruct, inputs["shape_fit"], inputs["shape_x"], 5)
attempt("few", pca_reconstruct, inputs["few"], inputs["few"], 9)
attempt("far", pca_reconstruct, inputs["far"], inputs["far"], 11)
for i in range(4):
    attempt(f"rec{i}", pca_reconstruct, inputs[f"fit{i}"], inputs[f"x{i}"], int(inputs[f"k{i}"]))
"""


def check_task1_shape_exact(values, inputs):
    x = inputs["task1.shape_x"]
    rec = got(values, "task1.shape", "pca_reconstruct(x_fit, x, 5)")
    assert rec.shape == x.shape, (
        f"pca_reconstruct must return an array with the shape of x, {x.shape}; got shape {rec.shape}"
    )
    for key, k, n, what in (
        ("few", 9, 10, "values in [0, 1]"),
        ("far", 11, 12, "values in [2, 3]"),
    ):
        x = inputs[f"task1.{key}"]
        rec = got(values, f"task1.{key}", f"pca_reconstruct(x, x, {k})")
        gap = float(np.abs(rec.reshape(x.shape) - x).max()) if rec.size == x.size else np.inf
        assert gap < 1e-6, (
            f"With k = {k} components, {n} examples ({what}) must be reconstructed exactly (centred, "
            f"they span {k} directions); got a largest error of {gap:.3g}. Did you centre with the mean "
            "of x_fit and add the mean back?"
        )


def check_task1_matches_library(values, inputs):
    import aekeras

    for i in range(TASK1_CASES):
        x_fit, x, k = (inputs[f"task1.{name}{i}"] for name in ("fit", "x", "k"))
        k = int(k)
        expected = aekeras.PCA(k).fit(x_fit).reconstruct(x).astype(np.float64)
        rec = got(values, f"task1.rec{i}", f"pca_reconstruct(x_fit of shape {x_fit.shape}, x, {k})")
        assert rec.size == expected.size, (
            f"pca_reconstruct(x_fit of shape {x_fit.shape}, x of shape {x.shape}, k={k}) must return "
            f"the shape of x; got shape {rec.shape}"
        )
        gap = float(np.abs(rec.reshape(expected.shape) - expected).max())
        assert gap < 1e-4, (
            f"pca_reconstruct(x_fit of shape {x_fit.shape}, x of shape {x.shape}, k={k}) differs from "
            f"aekeras.PCA({k}) by up to {gap:.3g} per pixel (expected < 1e-4). Check that the components "
            "are the k directions of largest variance (largest singular values) and that x is centred "
            "with the mean of x_fit."
        )


# ----------------------------------------------------------------- Task 2
TASK2_CASES = (
    ((784, 1000, 500, 250, 30), False),
    ((784, 1000, 500, 250, 30), True),
    ((10, 4), False),
    ((10, 4), True),
    ((784, 64, 8), True),
    ((100, 50, 20, 5), False),
    ((7, 6, 5, 4, 3), True),
)


def task2_inputs(rng):
    # Two architectures drawn afresh, so that no table of answers fits.
    drawn = [
        (tuple(int(n) for n in sorted(rng.integers(2, 300, size=depth), reverse=True)), bool(tied))
        for depth, tied in ((3, True), (4, False))
    ]
    sizes = [*TASK2_CASES, *drawn]
    return {f"sizes{i}": np.asarray(s, dtype=np.int64) for i, (s, _) in enumerate(sizes)} | {
        f"tied{i}": np.asarray(t) for i, (_, t) in enumerate(sizes)
    }


TASK2_PROBE = """
i = 0
while f"sizes{i}" in inputs:
    attempt(f"count{i}", n_parameters, [int(n) for n in inputs[f"sizes{i}"]],
            tied_weights=bool(inputs[f"tied{i}"]))
    i += 1
"""


@functools.cache
def library_count(sizes, tied):
    import aekeras

    with _LOCK:
        model = aekeras.models.deep_autoencoder(list(sizes), tied_weights=tied)
        return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def check_task2_n_parameters(values, inputs):
    assert "task2.sizes0" in inputs, "grading error: no inputs for task 2"  # never a vacuous pass
    i = 0
    while f"task2.sizes{i}" in inputs:
        sizes = tuple(int(n) for n in inputs[f"task2.sizes{i}"])
        tied = bool(inputs[f"task2.tied{i}"])
        call = f"n_parameters({list(sizes)}, tied_weights={tied})"
        count = float(got(values, f"task2.count{i}", call))
        expected = library_count(sizes, tied)
        assert count == expected, f"{call}: expected {expected}, got {count:g}"
        i += 1


# ----------------------------------------------------------------- Task 3: designs
# Classes a design is built from: Keras' own and aekeras' models and layers.
DESIGN_PACKAGES = ("keras", "aekeras")
# Keras' serialized forms of values a design needs none of: code (Lambda layers, lambdas) and arrays
# (weights smuggled into a config, e.g. as the value of a Constant initializer).
DESIGN_REFUSED = ("Lambda", "__lambda__", "__numpy__", "__tensor__", "__bytes__", "__typespec__")
MAX_DESIGN_NUMBERS = 64  # a longer list of numbers in a config is data, not a design


def design_problems(config):
    """Why the saved design `config` cannot be rebuilt and trained by the grader: a list of reasons
    (empty if it can).

    Args:
        config: a model's configuration, `keras.saving.serialize_keras_object(model)` (a dict, as
            JSON would hold it). Its `compile_config` is ignored: the grader compiles the model itself.
    """
    if not isinstance(config, dict):
        return [f"the design is not a model configuration (got {type(config).__name__})"]
    problems = []

    def walk(node):
        if isinstance(node, dict):
            name, module = node.get("class_name"), node.get("module")
            if name in ("Lambda", "__lambda__"):
                problems.append(
                    "it has a Lambda layer, code that the grader does not run: build it from Keras' own "
                    "layers and aekeras' models"
                )
            elif name in DESIGN_REFUSED:
                problems.append(
                    f"it carries a value of type `{name}`: a design holds no arrays (the grader trains the "
                    "weights)"
                )
            elif isinstance(module, str) and module.split(".")[0] not in DESIGN_PACKAGES:
                problems.append(
                    f"it uses `{module}.{name}`, a class of neither Keras nor aekeras: "
                    "build it from Keras' own layers and aekeras' models"
                )
            for key, value in node.items():
                if key != "compile_config":
                    walk(value)
        elif isinstance(node, list):
            if sum(isinstance(v, (int, float)) for v in node) > MAX_DESIGN_NUMBERS:
                problems.append(
                    f"it carries a list of {len(node)} numbers: a design holds no arrays (the grader "
                    "trains the weights)"
                )
            for value in node:
                walk(value)

    walk(config)
    return sorted(set(problems))


def retrain(config, x_train, epochs, batch_size, learning_rate, seed=0):
    """The model of the design `config`, rebuilt and trained with a fixed budget; returns it.

    The model is rebuilt in Keras' safe mode (no Lambda layers, no classes but Keras' and those
    registered by aekeras), initialised afresh from `seed` (nothing the student trained survives),
    compiled with Adam(`learning_rate`) and binary cross-entropy, and trained for `epochs` passes over
    `x_train` in batches of `batch_size`. Self-contained (its imports are inside): the class grader
    runs this function's source in a sandbox.
    """
    import keras

    import aekeras  # noqa: F401 (registers aekeras' models for deserialization)

    config = {key: value for key, value in config.items() if key != "compile_config"}
    keras.utils.set_random_seed(seed)
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    model.fit(x_train, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def train_inputs(rng):
    x_train, x_test = mnist()
    return {"x_train": x_train, "x_test": x_test[:1000], "x_other": x_test[1000:]}


DESIGN_PROBE = f"""
import json
import keras

design = build_autoencoder()
text = json.dumps(keras.saving.serialize_keras_object(design))
if len(text) <= {MAX_DESIGN_BYTES}:
    with open("out/design.json", "w", encoding="utf-8") as file:
        file.write(text)
"""
TRAIN_PROBE = (
    inspect.getsource(retrain)
    + f"""
import json

import numpy as np

import aekeras

with open("design.json", encoding="utf-8") as file:
    text = file.read()
export("design", text)
model = retrain(json.loads(text), inputs["x_train"], {EPOCHS}, {BATCH_SIZE}, {LEARNING_RATE}, seed={SEED})
export("is_autoencoder", isinstance(model, aekeras.models.Autoencoder))
export("code_units", int(np.prod(model.encode(inputs["x_test"][:5]).shape[1:])))
export("encoder_layers", sum(1 for layer in model.encoder.layers if layer.trainable_weights))
export("n_params", sum(int(np.prod(w.shape)) for w in model.trainable_weights))
export("rec_test", model.reconstruct(inputs["x_test"]))
export("rec_other", model.reconstruct(inputs["x_other"]))
"""
)


def _design(values):
    """The design the grader trained (a configuration), or an AssertionError that says why there is none."""
    text = values.get("train.design")
    if text is None:
        raise AssertionError(
            "Your design could not be saved: build_autoencoder() is missing or failed, or its model has no "
            "configuration Keras can save (keras.saving.serialize_keras_object)."
        )
    text = str(text)
    if len(text) > MAX_DESIGN_BYTES:
        raise AssertionError(
            f"Your design's configuration is {len(text)} characters long: a design holds no data"
        )
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    problems = design_problems(config)
    if problems:
        raise AssertionError(
            "The grader cannot rebuild your design from its configuration: " + "; ".join(problems)
        )
    if "train.is_autoencoder" not in values:
        raise AssertionError(
            "The grader could not rebuild and train your design from its configuration: use Keras' own "
            "layers and aekeras' models (no classes of your own)."
        )
    return config


def check_task3_architecture(values, inputs):
    _design(values)
    assert bool(values["train.is_autoencoder"]), (
        "build_autoencoder() must return an aekeras autoencoder (e.g. aekeras.models.DenseAutoencoder)"
    )
    units = int(values["train.code_units"])
    assert units == CODE_DIM, (
        f"The code must have CODE_DIM = {CODE_DIM} units, like PCA's; got {units}"
    )
    layers = int(values["train.encoder_layers"])
    assert layers >= 2, (
        "A deep autoencoder has at least one hidden layer between the input and the code; "
        f"your encoder has {layers} layer(s) with weights"
    )
    n_params = int(values["train.n_params"])
    assert n_params <= MAX_PARAMETERS, (
        f"Your design has {n_params} trainable parameters; the budget is MAX_PARAMETERS = {MAX_PARAMETERS}"
    )


@functools.cache
def pca_errors():
    import aekeras

    x_train, x_test = mnist()
    with _LOCK:
        pca = aekeras.PCA(CODE_DIM).fit(x_train)
    return {
        key: aekeras.metrics.reconstruction_error(images, pca.reconstruct(images))
        for key, images in (("test", x_test[:1000]), ("other", x_test[1000:]))
    }


def check_task3_beats_pca(values, inputs):
    import aekeras

    _design(values)
    for key, what in (("test", "the test images x_test"), ("other", "1000 other test images")):
        images = inputs[f"train.x_{key}"]
        rec = values[f"train.rec_{key}"].reshape(images.shape)
        error_ae = aekeras.metrics.reconstruction_error(images, rec)
        error_pca = pca_errors()[key]
        assert error_ae <= MAX_RATIO * error_pca, (
            f"On {what}, expected your design, retrained by the grader (fresh start, {EPOCHS} epochs), "
            f"to reconstruct with at most {MAX_RATIO} times the error of PCA with {CODE_DIM} components "
            f"fitted on x_train ({error_pca:.2f}), i.e. <= {MAX_RATIO * error_pca:.2f}; got {error_ae:.2f} "
            f"(ratio {error_ae / error_pca:.3f})"
        )


STEPS = [
    numpy_step("task1", TASK1_PROBE, "task1_pca_reconstruct", task1_inputs, wall_s=60),
    numpy_step("task2", TASK2_PROBE, "task2_n_parameters_solution", task2_inputs),
    Step(
        "design",
        DESIGN_PROBE,
        preload=PRELOAD,
        cells=["task3_autoencoder"],
        given=["launch", "setup"],
        keep=["design.json"],
        data=["mnist"],
        wall_s=120,
    ),
    # No student code: the grader's own `retrain`, on the configuration the design step saved.
    Step(
        "train",
        TRAIN_PROBE,
        preload=PRELOAD,
        cells=[],
        carry=["design.json"],
        inputs=train_inputs,
        wall_s=300,
    ),
]
check_task1_shape_exact.steps = check_task1_matches_library.steps = ["task1"]
check_task2_n_parameters.steps = ["task2"]
check_task3_architecture.steps = check_task3_beats_pca.steps = ["design", "train"]
CHECKS = {
    "task1_shape_exact": check_task1_shape_exact,
    "task1_matches_library": check_task1_matches_library,
    "task2_n_parameters": check_task2_n_parameters,
    "task3_architecture": check_task3_architecture,
    "task3_beats_pca": check_task3_beats_pca,
}
