"""Which Keras backend `import aekeras` brings up when none is chosen.

Keras uses `KERAS_BACKEND`, else the `"backend"` of its `keras.json`, else
TensorFlow. A student who installed `aekeras[course,jax]` (or `torch`) has no
TensorFlow, and `import keras` would fail there. So, before Keras is
imported: when `KERAS_BACKEND` is unset and the backend Keras would use is not
installed, aekeras sets `KERAS_BACKEND` to the first installed of TensorFlow,
JAX and PyTorch. With none installed it raises an `ImportError` that names
the extras. A backend that is set or configured and installed is never
changed.
"""

import importlib.util
import json
import os
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")
# The module each backend's framework is imported as.
FRAMEWORK = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def configured_backend(environ=None):
    """The backend Keras would pick by itself: `KERAS_BACKEND`, its keras.json, or TensorFlow."""
    environ = os.environ if environ is None else environ
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"]
    home = environ.get("KERAS_HOME") or Path(environ.get("HOME", Path.home())) / ".keras"
    try:
        return json.loads((Path(home) / "keras.json").read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def choose_backend(environ=None, installed=None):
    """Sets `KERAS_BACKEND` in `environ` when Keras' own choice is not installed.

    Args:
        environ: The environment to read and update; default `os.environ`.
        installed: A function telling whether a module is installed; default
            `importlib.util.find_spec(name) is not None`.

    Returns:
        The backend Keras will use.

    Raises:
        ImportError: If no backend is installed at all.
    """
    environ = os.environ if environ is None else environ
    installed = installed or (lambda name: importlib.util.find_spec(name) is not None)
    wanted = configured_backend(environ)
    if environ.get("KERAS_BACKEND") or wanted not in FRAMEWORK or installed(FRAMEWORK[wanted]):
        return wanted  # chosen by the user, a backend we do not know, or available
    for backend in BACKENDS:
        if installed(FRAMEWORK[backend]):
            environ["KERAS_BACKEND"] = backend
            return backend
    raise ImportError(
        "aekeras needs a Keras backend, and none of TensorFlow, JAX and PyTorch is installed. "
        'Install aekeras with one: pip install "aekeras[jax]" (or [tensorflow], [torch]; add '
        '"course" for the lectures, e.g. "aekeras[course,jax]").'
    )
