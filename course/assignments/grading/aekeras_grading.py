"""Grading helpers of the aekeras assignments, used by their hidden tests (never released to students).

`nbgrader_config.py` puts this folder on the `PYTHONPATH` of the kernels that nbgrader starts, so a
hidden test imports it with `import aekeras_grading as grading`. Two checks prove that the student's
code did the work, not a library or a shortcut:

- `numpy_only(function, *args)` runs a student's function with every library but NumPy made
  unavailable: a profile hook refuses any call into aekeras, scikit-learn, Keras, TensorFlow,
  PyTorch, JAX, SciPy, scikit-image or SymPy while the function runs, whatever name the student bound
  them to (`from aekeras.metrics import psnr as p` is caught too).
- `record_training(...)`, installed by a hidden test before the cell that trains a model, records
  every call of `fit` and `train_on_batch`; `check_training(model, ...)` then checks that the model
  was trained there, with `fit`, on the training images only and within the epoch budget.
- `record_corruption(function)` wraps a student's corruption so that `check_training(...,
  inputs_from=...)` can check that a denoising model was trained on inputs that function made from
  the training images (the targets).

A task that grades a *design* (A1 Task 3) does not trust the student's training at all:
`design_problems(config)` says why a saved model configuration cannot be rebuilt safely (a class
that is neither Keras' nor aekeras', a Lambda layer, arrays such as weights carried in the config),
and `retrain(config, x_train, ...)` rebuilds the model from it, freshly initialised from a fixed seed,
and trains it with the grader's budget. The class grader runs the source of `retrain` in a sandbox
that holds no student code (grading/checks_a1_autoencoders.py).
"""

import functools
import importlib.util
import inspect
import math
import os
import sys
import threading

import numpy as np

# Libraries that implement what the NumPy tasks ask for (or could): refused while a student's function runs.
FORBIDDEN = (
    "aekeras",
    "sklearn",
    "keras",
    "tensorflow",
    "torch",
    "jax",
    "jaxlib",
    "scipy",
    "skimage",
    "sympy",
)


class LibraryUnavailable(RuntimeError):
    """Raised inside a student's function when it calls a library that the task asks not to use."""


def _package_roots():
    roots = []
    for name in FORBIDDEN:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec and spec.submodule_search_locations) or ():
            roots.append((os.path.join(os.path.realpath(location), ""), name))
    return roots


_ROOTS = _package_roots()
_PACKAGE_OF_FILE = {}


def _package_of_file(filename):
    if filename not in _PACKAGE_OF_FILE:
        path = os.path.realpath(filename) if os.path.isabs(filename) else ""
        _PACKAGE_OF_FILE[filename] = next(
            (name for root, name in _ROOTS if path.startswith(root)), None
        )
    return _PACKAGE_OF_FILE[filename]


def numpy_only(function, *args, convert=np.asarray, **kwargs):
    """Returns `convert(function(*args, **kwargs))`, computed with every library but NumPy unavailable.

    Any call into a library of `FORBIDDEN` while the function runs (and while its result is converted,
    so a lazy result cannot call one later) raises `LibraryUnavailable` inside the function; this
    function then fails with an AssertionError that names the call.

    Args:
        function: the student's function.
        *args, **kwargs: its arguments.
        convert: applied to the result under the same guard, e.g. `np.asarray` or `float`.

    Returns:
        The converted result.
    """
    name = getattr(function, "__name__", repr(function))
    refused = []

    def hook(frame, event, arg):
        if event == "call":
            package = _package_of_file(frame.f_code.co_filename)
            if package is None:
                return
            module, qualname = frame.f_globals.get("__name__", package), frame.f_code.co_qualname
            what = f"import {module}" if qualname == "<module>" else f"{module}.{qualname}"
            if frame.f_code.co_name in ("__new__", "__init__") and frame.f_code.co_varnames:
                first = frame.f_locals.get(
                    frame.f_code.co_varnames[0]
                )  # name the class made, not a base class
                cls = first if isinstance(first, type) else type(first)
                what = f"{cls.__module__}.{cls.__qualname__}"
        elif event == "c_call":
            package = (getattr(arg, "__module__", None) or "").split(".")[0]
            if package not in FORBIDDEN:
                return
            what = f"{arg.__module__}.{getattr(arg, '__qualname__', arg)}"
        else:
            return
        refused.append(what)
        raise LibraryUnavailable(
            f"{package} is not available in this task: write the computation with NumPy"
        )

    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        result = convert(function(*args, **kwargs))
        intact = sys.getprofile() is hook
    except Exception:
        if not refused:
            raise  # the student's own error
        result, intact = None, True  # the refusal, or an error it led to
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert not refused, (
        f"`{name}` called `{refused[0]}` while the grader ran it. This task asks you to write the "
        "computation yourself with NumPy: the grader makes aekeras, scikit-learn, Keras, TensorFlow, SciPy "
        "and the like unavailable to your function."
    )
    assert intact, (
        f"`{name}` switched off the grader's check of the libraries it calls (sys.setprofile)"
    )
    return result


# ----------------------------------------------------------------- training records
def _row_keys(x):
    rows = np.ascontiguousarray(np.asarray(x, dtype=np.float32)).reshape(len(x), -1)
    return [row.tobytes() for row in rows]


# Hashes of the rows that the recorded corruption returned (`record_corruption`).
_CORRUPTED_ROWS = set()


def record_corruption(function):
    """`function` (a student's corruption) that records the rows it returns, for `check_training`.

    Args:
        function: the student's corruption, called with the training images first.

    Returns:
        A function with the same arguments and results.
    """

    @functools.wraps(function)
    def recorded(*args, **kwargs):
        result = function(*args, **kwargs)
        if isinstance(result, np.ndarray) and result.ndim >= 2:
            _CORRUPTED_ROWS.update(hash(key) for key in _row_keys(result))
        return result

    return recorded


class _Recorder:
    """The fit and train_on_batch calls of every Keras model, with what they were trained on."""

    def __init__(self, x_train, x_test):
        self.train_rows = set(_row_keys(x_train))
        self.test_rows = set(_row_keys(x_test))
        self.n_train = len(x_train)
        self.calls = {}  # id(model) -> list of dicts

    def _describe(self, x, y):
        """(rows, rows not in x_train, of which in x_test) of the inputs and targets, or None if not arrays."""
        arrays = [a for a in (x, y) if a is not None]
        if not all(isinstance(a, (np.ndarray, list)) for a in arrays):
            return None
        rows, outside, test = len(arrays[0]), 0, 0
        for a in arrays:
            keys = _row_keys(a)
            foreign = [k for k in keys if k not in self.train_rows]
            outside = max(outside, len(foreign))
            test = max(test, sum(k in self.test_rows for k in foreign))
        return rows, outside, test

    def describe_corrupted(self, x, y):
        """(input rows not returned by the recorded corruption, target rows not in x_train, of which in x_test),
        or None if the inputs or targets are not arrays."""
        if not all(isinstance(a, (np.ndarray, list)) for a in (x, y)):
            return None
        made = sum(hash(k) not in _CORRUPTED_ROWS for k in _row_keys(x))
        foreign = [k for k in _row_keys(y) if k not in self.train_rows]
        return made, len(foreign), sum(k in self.test_rows for k in foreign)

    def add(self, model, **record):
        self.calls.setdefault(id(model), (model, []))[1].append(record)


_RECORDER = None


def record_training(x_train, x_test):
    """Records, from now on, every call of `fit` and `train_on_batch` of every Keras model.

    Args:
        x_train: the training images the models may be trained on (reloaded from disk by the test).
        x_test: the test images, to name them in the failure message when a model was trained on them.
    """
    global _RECORDER
    import keras

    recorder = _Recorder(x_train, x_test)
    if _RECORDER is None:
        # aekeras' Autoencoder.fit checks the data and then calls keras.Model.fit, on TensorFlow
        # with a reshuffling tf.data pipeline made from the arrays: both are recorded, and only the
        # outermost call of a nest counts, with the arguments the student gave.
        owners = [keras.Model]
        if importlib.util.find_spec("aekeras") is not None:
            from aekeras.models import Autoencoder

            owners.append(Autoencoder)
        for owner in owners:
            # None: the method was inherited (keras.Model's come from its backend's trainer).
            _ORIGINALS[(owner, "fit")] = owner.__dict__.get("fit")
            owner.fit = _recorded_fit(owner.fit)
        train_on_batch = keras.Model.train_on_batch
        _ORIGINALS[(keras.Model, "train_on_batch")] = keras.Model.__dict__.get("train_on_batch")

        def recorded_train_on_batch(self, x, y=None, *args, **kwargs):
            result = train_on_batch(self, x, y, *args, **kwargs)
            data = _RECORDER._describe(x, y)
            _RECORDER.add(
                self,
                data=data,
                corrupted=_RECORDER.describe_corrupted(x, y),
                steps=1,
                examples=data[0] if data else 0,
            )
            return result

        keras.Model.train_on_batch = recorded_train_on_batch
    _RECORDER = recorder


_FIT_DEPTH = threading.local()


def _recorded_fit(fit):
    """`fit` that records its call in `_RECORDER`, unless it runs inside another recorded fit."""
    signature = inspect.signature(fit)

    def recorded_fit(self, *args, **kwargs):
        depth = getattr(_FIT_DEPTH, "value", 0)
        _FIT_DEPTH.value = depth + 1
        try:
            history = fit(self, *args, **kwargs)
        finally:
            _FIT_DEPTH.value = depth
        if depth:
            return history
        bound = signature.bind(self, *args, **kwargs).arguments
        arguments = {**bound.pop("kwargs", {}), **bound}
        data = _RECORDER._describe(arguments.get("x"), arguments.get("y"))
        steps = int(history.params.get("steps") or 0) * len(history.epoch)
        per_epoch = data[0] if data else 0
        if arguments.get("validation_split"):
            per_epoch = math.ceil(per_epoch * (1 - arguments["validation_split"]))
        if arguments.get("steps_per_epoch"):
            per_epoch = min(
                per_epoch, arguments["steps_per_epoch"] * (arguments.get("batch_size") or 32)
            )
        corrupted = _RECORDER.describe_corrupted(arguments.get("x"), arguments.get("y"))
        _RECORDER.add(
            self,
            data=data,
            corrupted=corrupted,
            steps=steps,
            examples=per_epoch * len(history.epoch),
        )
        return history

    return recorded_fit


_ORIGINALS = {}


def stop_recording():
    """Puts back Keras' own `fit` and `train_on_batch` and forgets the records, those of
    `record_corruption` too (for tests of this module)."""
    global _RECORDER
    for (owner, name), method in _ORIGINALS.items():
        if method is None:
            delattr(owner, name)
        else:
            setattr(owner, name, method)
    _ORIGINALS.clear()
    _CORRUPTED_ROWS.clear()
    _RECORDER = None


def check_training(model, name, epochs, cell, inputs_from=None):
    """Asserts that `model` was trained with fit, in `cell`, on x_train only, for at most `epochs` epochs.

    Args:
        model: the student's trained model.
        name: its variable name, for the messages.
        epochs: the budget, in passes over x_train (all calls of fit together).
        cell: where the student was asked to train it, for the messages.
        inputs_from: the name of the student's corruption, wrapped by `record_corruption`: the model
            must be trained on inputs that it returned, with targets from x_train (a denoising
            autoencoder); None: on x_train itself (inputs and targets).
    """
    import keras

    assert _RECORDER is not None, (
        "grading error: record_training() was not called before the training cell"
    )
    _, calls = _RECORDER.calls.get(id(model), (model, []))
    assert calls, (
        f"`{name}` was not trained with fit in {cell}: train it there with `{name}.fit(x_train, ...)`"
    )
    for call in calls:
        if inputs_from is not None:
            _check_corrupted_inputs(call, name, inputs_from)
            continue
        assert call["data"] is not None, (
            f"`{name}` was trained on something other than NumPy arrays; train it with `{name}.fit(x_train, ...)`"
        )
        rows, outside, test = call["data"]
        assert outside == 0, (
            f"`{name}` was trained on {outside} images that are not in x_train"
            + (f", {test} of them test images (x_test)" if test else "")
            + ". Train on x_train only: the test images must stay unseen to measure the error honestly."
        )
    examples = sum(call["examples"] for call in calls)
    budget = epochs * _RECORDER.n_train
    assert examples <= budget, (
        f"`{name}` was trained on {examples} examples in all ({examples / _RECORDER.n_train:.1f} epochs of "
        f"x_train, counting every call of fit); the budget is {epochs} epochs ({budget} examples)."
    )
    # Steps outside the recorded calls of fit (an earlier cell, a custom loop) add optimizer iterations;
    # compiling again between calls of fit only resets them.
    steps = sum(call["steps"] for call in calls)
    optimizer = getattr(model, "optimizer", None)
    iterations = (
        int(keras.ops.convert_to_numpy(optimizer.iterations)) if optimizer is not None else 0
    )
    assert iterations <= steps, (
        f"`{name}`'s optimizer made {iterations} training steps, but its calls of fit in {cell} made only "
        f"{steps}: train it only there, and only with fit."
    )


def _check_corrupted_inputs(call, name, inputs_from):
    """Asserts that one recorded training call had inputs made by `inputs_from` and targets from x_train."""
    assert call["corrupted"] is not None, (
        f"`{name}` was trained without targets, or on something other than NumPy arrays: train it with "
        f"`{name}.fit(inputs, targets, ...)`, the inputs made by your {inputs_from}, the targets from x_train"
    )
    made, outside, test = call["corrupted"]
    assert made == 0, (
        f"{made} of the inputs `{name}` was trained on were not made by your {inputs_from}: train it on "
        f"images corrupted by your {inputs_from} from Task 1 (not by the library, not the clean images)"
    )
    assert outside == 0, (
        f"`{name}` was trained with {outside} targets that are not images of x_train"
        + (f", {test} of them test images (x_test)" if test else "")
        + ". Train on x_train only: the test images must stay unseen to measure the gain honestly."
    )


# ----------------------------------------------------------------- designs
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
