"""Set-up for the lecture notebooks: seeds, backend and device report, run size."""

import importlib
import operator
import os
import platform
import time

import keras
import numpy as np

FULL_RUN_VARIABLE = "AEKERAS_FULL_RUN"
# Overrides the seed a lecture passes to `setup`: the claims audit reruns each
# lecture with several seeds (python -m aekeras_tools.claims_audit).
SEED_VARIABLE = "AEKERAS_SEED"
# MIME types of the records `setup` and `claim` display in a notebook: the course
# tooling (aekeras_tools) reads the lecture's facts from these, never from printed text.
SETUP_MIMETYPE = "application/vnd.aekeras.setup+json"
CLAIM_MIMETYPE = "application/vnd.aekeras.claim+json"
_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def full_run():
    """Whether the long, paper-scale settings are requested.

    The lectures run small, CPU-friendly settings by default (what students
    and CI run). Setting the environment variable `AEKERAS_FULL_RUN=1`
    selects the longer settings marked in each notebook.
    """
    value = os.environ.get(FULL_RUN_VARIABLE, "0").strip().lower()
    if value not in ("0", "1", "true", "false", ""):
        raise ValueError(
            f"{FULL_RUN_VARIABLE} must be 0 or 1. Received: {FULL_RUN_VARIABLE}={value!r}"
        )
    return value in ("1", "true")


def devices():
    """Names of the accelerators the current Keras backend sees (empty on CPU).

    Returns:
        A list of device names such as `["NVIDIA H200"]` (GPUs and TPUs), in
        the order the backend numbers them.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return [
            tf.config.experimental.get_device_details(d).get("device_name", d.name) for d in gpus
        ]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if torch.backends.mps.is_available():
            return ["Apple MPS"]
    return []


def versions():
    """Versions of Python, NumPy, Keras and the backend's framework, as a dict of strings."""
    backend = keras.backend.backend()  # also the name of the framework's module
    found = {
        "Python": platform.python_version(),
        "NumPy": np.__version__,
        "Keras": keras.__version__,
    }
    if backend in ("tensorflow", "jax", "torch"):
        found[backend] = importlib.import_module(backend).__version__
    return found


def _inline_figures():
    """Shows matplotlib Figures inline when running under IPython (Jupyter, nbval, nbconvert).

    `aekeras.plots` builds figures without pyplot; IPython renders a Figure
    that ends a cell once its inline backend is active.
    """
    if _in_kernel():
        from IPython import get_ipython

        get_ipython().run_line_magic("matplotlib", "inline")


def seed_override(seed):
    """The seed to use: `seed`, unless the environment variable `AEKERAS_SEED` sets one.

    Raises:
        ValueError: `AEKERAS_SEED` is set but not a non-negative integer.
    """
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return seed
    if not value.isdigit():
        raise ValueError(
            f"{SEED_VARIABLE} must be a non-negative integer (the seed of every random "
            f"generator of the lecture), or unset. Received: {SEED_VARIABLE}={value!r}"
        )
    return int(value)


def setup(seed=0):
    """Seeds every random generator and reports what the lecture runs on.

    Seeds Python, NumPy and the Keras backend (TensorFlow, JAX or PyTorch,
    GPU included) through `keras.utils.set_random_seed`, and reports the
    backend, the device (CPU or the accelerator's name) and the versions: in a
    Jupyter kernel as a line of text that also carries a machine-readable
    record (MIME type `SETUP_MIMETYPE`: `seed`, `backend`, `devices`,
    `device`, `versions`, `full_run`), which the course tooling reads;
    elsewhere the text is printed. In a Jupyter kernel it also turns on
    inline figures, so that a Figure returned by `aekeras.plots` is shown
    when it ends a cell. On TensorFlow it enables
    op determinism (reruns give identical numbers), which makes Keras train
    without XLA (`jit_compile` falls back to `False`); on PyTorch with CUDA
    it makes cuDNN pick deterministic algorithms.

    Args:
        seed: Int seed for Python, NumPy and the Keras backend. The
            environment variable `AEKERAS_SEED` overrides it (the lectures
            derive every other seed they use from `info["seed"]`, so one
            variable reruns a whole lecture with another seed).

    Returns:
        A dict with `seed` (the seed used), `backend`, `devices`, `device` (a one-line
        description), `versions`, `full_run` and `start` (a
        `time.perf_counter()` stamp to report the notebook's run time).
    """
    _inline_figures()
    seed = seed_override(seed)
    keras.utils.set_random_seed(seed)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        # Keep notebook outputs readable: no tf.function retracing notices.
        tf.get_logger().setLevel("ERROR")
    elif backend == "torch":
        import torch

        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    found = devices()
    info = {
        "seed": seed,
        "backend": backend,
        "devices": found,
        "device": ", ".join(found) if found else f"CPU ({os.cpu_count()} cores)",
        "versions": versions(),
        "full_run": full_run(),
        "start": time.perf_counter(),
    }
    text = (
        f"Backend {backend}, device: {info['device']}\n"
        + ", ".join(f"{name} {version}" for name, version in info["versions"].items())
        + f"\nSeed {seed}, settings: "
        + ("FULL (paper-scale)" if info["full_run"] else "default (CPU-friendly)")
    )
    record = {key: info[key] for key in ("seed", "backend", "devices", "device", "versions")}
    record["full_run"] = info["full_run"]
    _show({"text/plain": text, SETUP_MIMETYPE: record})
    return info


def elapsed(info):
    """Returns a short text with the minutes and seconds since `setup`."""
    seconds = time.perf_counter() - info["start"]
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def claim(description, value, comparison, threshold):
    """Asserts one of a lecture's claims, and shows it with its margin.

    Every quantity a lecture asserts goes through `claim`, so that the
    executed notebook says what was checked, and by how much it held:
    `python -m aekeras_tools.lecture_claims` reads these records from
    executed notebooks into `benchmarks/results/lecture_claims.md`. In a Jupyter
    kernel the claim is displayed as a line of text that also carries a
    machine-readable record (MIME type `CLAIM_MIMETYPE`); elsewhere it is
    printed.

    The margin is how far the value is from failing, in the threshold's
    units: `threshold - value` for `<` and `<=`, `value - threshold` for
    `>` and `>=`. It is positive when the claim holds.

    Args:
        description: String naming the quantity, e.g.
            `"deep AE / PCA test error (MNIST)"`.
        value: Real number, the measured quantity.
        comparison: One of `"<"`, `"<="`, `">"`, `">="`.
        threshold: Real number.

    Returns:
        The value, as a float.

    Raises:
        AssertionError: If the claim does not hold (or the value is NaN),
            with the same text. In a kernel the record (with `holds: False`)
            is displayed first, so that a failed value is on record too.
        ValueError: If `comparison` is not one of the four above, or the
            description is not a non-empty string.

    Example:

    >>> import aekeras
    >>> aekeras.notebook.claim("AE / PCA test error", 0.31, "<", 0.65)
    claim holds: AE / PCA test error = 0.31 < 0.65 (margin 0.34)
    0.31
    """
    if not isinstance(description, str) or not description.strip():
        raise ValueError(
            f"`description` must be a non-empty string. Received: description={description!r}"
        )
    if comparison not in _COMPARISONS:
        raise ValueError(
            f"`comparison` must be one of {sorted(_COMPARISONS)}. Received: comparison={comparison!r}"
        )
    value, threshold = float(value), float(threshold)
    holds = _COMPARISONS[comparison](value, threshold)  # False for NaN
    margin = threshold - value if comparison.startswith("<") else value - threshold
    text = f"{description} = {value:.4g} {comparison} {threshold:.4g} (margin {margin:.4g})"
    record = {
        "description": description,
        "value": value,
        "comparison": comparison,
        "threshold": threshold,
        "margin": margin,
        "relative_margin": margin / abs(threshold) if threshold else None,
        "full_run": full_run(),
        "holds": holds,
    }
    if not holds:
        # Recorded before it raises, so that the claims audit sees the value that failed.
        if _in_kernel():
            _display({"text/plain": f"claim FAILED: {text}", CLAIM_MIMETYPE: record})
        raise AssertionError(f"claim FAILED: {text}")
    _show({"text/plain": f"claim holds: {text}", CLAIM_MIMETYPE: record})
    return value


def _in_kernel():
    """Whether the code runs in a Jupyter kernel (IPython with a kernel attached)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _display(bundle):
    from IPython.display import display

    display(bundle, raw=True)


def _show(bundle):
    """Displays a MIME bundle in a Jupyter kernel, or prints its text elsewhere."""
    if _in_kernel():
        _display(bundle)
    else:
        print(bundle["text/plain"])
