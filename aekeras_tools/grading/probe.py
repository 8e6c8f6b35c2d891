"""What a probe calls where the student's code runs (`Exports`), and what a judge calls on what came back (`got`).

A probe is a few lines of a checks module (`Step.probe`) that call the student's functions on the
grader's inputs and export plain values. It runs in a sandbox (`runner.py`, which imports this file
from a read-only folder) or, for plain `nbgrader autograde`, in the student's kernel (`hidden.py`).
Either way it finds there:

- `export(name, value)`: stores `np.array(value)`, a copy (a probe may change the result later);
- `attempt(name, function, *args, **kwargs)`: calls `function`, exports its result as `name` and
  its type's name as `name.type`, and returns it; if the call raises, exports the error's type and
  message as `name.error` (and returns None), so one failing call does not stop the others;
- `inputs`: the grader's input arrays of the step.

The judges (`checks_<assignment>.py`) read each value with `got(values, key, call)`.

Stdlib and NumPy only: this file runs in NumPy-only sandboxes too.
"""

import numpy as np

MAX_ERROR = 500  # characters of a student's error that a message may quote
# Libraries that implement what the NumPy-only tasks ask for (or could): unavailable while they run,
# absent from their sandboxes and refused by the guard of `hidden.numpy_only` in a kernel.
NOT_NUMPY = (
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


def unavailable(package):
    """The message of a NumPy-only task's refusal of `package` (sandbox and kernel alike)."""
    return f"{package} is not available in this task: it is graded with NumPy only"


class Exports:
    """The values a probe exports: `export` and `attempt` (see the module docstring).

    Args:
        guard: a function `guard(function, *args, **kwargs)` that makes each call of `attempt`
            (e.g. refuses libraries in a kernel), or None to call the function directly.
    """

    def __init__(self, guard=None):
        self.values = {}
        self.guard = guard

    def export(self, name, value):
        self.values[str(name)] = np.array(value)

    def attempt(self, name, function, *args, **kwargs):
        try:
            if self.guard is None:
                result = function(*args, **kwargs)
            else:
                result = self.guard(function, *args, **kwargs)
            self.export(name + ".type", type(result).__name__)
            self.export(name, result)
            return result
        except Exception as error:
            self.export(name + ".error", f"{type(error).__name__}: {error}"[:MAX_ERROR])
            return None

    def names(self):
        """The names a probe finds besides `inputs`."""
        return {"export": self.export, "attempt": self.attempt, "np": np}

    def arrays(self):
        """The exported values NumPy can store without pickle (objects are dropped)."""
        return {k: v for k, v in self.values.items() if v.dtype != object}


def got(values, key, call):
    """The value exported as `key`, or an AssertionError that quotes the student's error.

    Args:
        values: the exported values ({"<step>.<name>": array}).
        key: the value's key.
        call: how the student's function was called, for the message (e.g. "psnr(x, x_hat)").
    """
    error = values.get(key + ".error")
    if error is not None:
        raise AssertionError(f"{call} raised {str(error)[:MAX_ERROR]}")
    if key not in values:
        raise AssertionError(f"{call} returned nothing the grader could read")
    return values[key]
