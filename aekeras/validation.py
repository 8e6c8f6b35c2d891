"""Argument validation shared by every module: one check per kind of argument.

Each `validate_*` function checks one argument, returns it in its standard
form (a Python `int`, `float`, `tuple` or NumPy array) and otherwise raises a
`ValueError` that says what was expected and ends with Keras' form
`Received: name=value`, using the caller's argument name.

Example:

>>> import aekeras
>>> aekeras.validation.validate_int_arg(3, "epochs", min_value=1)
3
>>> aekeras.validation.validate_rate_arg(1.5, "rate")
Traceback (most recent call last):
    ...
ValueError: `rate` must be a float in [0, 1). Received: rate=1.5
"""

import math
import numbers

import numpy as np


def format_value(value):
    """Returns `repr(value)`, with NumPy scalars shown as Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _bounds_text(min_value, max_value, min_inclusive=True, max_inclusive=True):
    if min_value is not None and max_value is not None:
        low = "[" if min_inclusive else "("
        high = "]" if max_inclusive else ")"
        return f" in {low}{min_value}, {max_value}{high}"
    if min_value is not None:
        return f" {'>=' if min_inclusive else '>'} {min_value}"
    if max_value is not None:
        return f" {'<=' if max_inclusive else '<'} {max_value}"
    return ""


def _in_bounds(value, min_value, max_value, min_inclusive, max_inclusive):
    if min_value is not None and not (value >= min_value if min_inclusive else value > min_value):
        return False
    if max_value is not None and not (value <= max_value if max_inclusive else value < max_value):
        return False
    return True


def validate_int_arg(value, name, min_value=None, max_value=None, allow_none=False):
    """Checks an integer argument (a count, a size, a seed) and its bounds.

    Python and NumPy integers are accepted; `bool`, floats (even `2.0`) and
    strings are not.

    Args:
        value: The argument to check.
        name: String, the argument's name, used in the error message.
        min_value: Optional smallest allowed value (inclusive).
        max_value: Optional largest allowed value (inclusive).
        allow_none: Whether `None` is accepted (and returned as is).

    Returns:
        `value` as a Python `int` (or `None`).

    Raises:
        ValueError: If `value` is not an integer or is out of bounds.

    Example:

    >>> import aekeras
    >>> aekeras.validation.validate_int_arg(0, "n", min_value=1)
    Traceback (most recent call last):
        ...
    ValueError: `n` must be an integer >= 1. Received: n=0
    """
    if value is None and allow_none:
        return None
    expected = f"an integer{_bounds_text(min_value, max_value)}"
    if allow_none:
        expected = f"None or {expected}"
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or not _in_bounds(value, min_value, max_value, True, True)
    ):
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={format_value(value)}")
    return int(value)


def validate_float_arg(
    value,
    name,
    min_value=None,
    max_value=None,
    min_inclusive=True,
    max_inclusive=True,
    allow_none=False,
):
    """Checks a real-valued argument (a strength, a standard deviation, ...).

    Python and NumPy numbers are accepted; `bool`, strings, NaN and infinity
    are not. Like Keras' `validate_float_arg` for regularizers, but with
    optional bounds.

    Args:
        value: The argument to check.
        name: String, the argument's name, used in the error message.
        min_value: Optional lower bound.
        max_value: Optional upper bound.
        min_inclusive: Whether `min_value` itself is allowed.
        max_inclusive: Whether `max_value` itself is allowed.
        allow_none: Whether `None` is accepted (and returned as is).

    Returns:
        `value` as a Python `float` (or `None`).

    Raises:
        ValueError: If `value` is not a finite number or is out of bounds.

    Example:

    >>> import aekeras
    >>> aekeras.validation.validate_float_arg(-0.1, "strength", min_value=0)
    Traceback (most recent call last):
        ...
    ValueError: `strength` must be a finite float >= 0. Received: strength=-0.1
    """
    if value is None and allow_none:
        return None
    bounds = _bounds_text(min_value, max_value, min_inclusive, max_inclusive)
    expected = f"a finite float{bounds}"
    if allow_none:
        expected = f"None or {expected}"
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not _in_bounds(value, min_value, max_value, min_inclusive, max_inclusive)
    ):
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={format_value(value)}")
    return float(value)


def validate_rate_arg(value, name):
    """Checks a fraction in [0, 1), such as a corruption or dropout rate.

    Args:
        value: The argument to check.
        name: String, the argument's name, used in the error message.

    Returns:
        `value` as a Python `float`.

    Raises:
        ValueError: If `value` is not a number in [0, 1).
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not 0.0 <= value < 1.0  # also rejects NaN
    ):
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={format_value(value)}"
        )
    return float(value)


def validate_int_sequence_arg(value, name, min_value=1, allow_empty=True):
    """Checks a sequence of integers (layer widths, filters, an input shape).

    Args:
        value: The argument to check: a list or tuple of integers.
        name: String, the argument's name, used in the error message.
        min_value: Smallest allowed element (inclusive).
        allow_empty: Whether an empty sequence is accepted.

    Returns:
        A tuple of Python `int`s.

    Raises:
        ValueError: If `value` is not a sequence of integers >= `min_value`,
            or is empty while `allow_empty` is `False`.
    """
    expected = f"a {'' if allow_empty else 'non-empty '}list or tuple of integers >= {min_value}"
    if (
        not isinstance(value, (list, tuple))
        or (not value and not allow_empty)
        or any(
            isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < min_value
            for v in value
        )
    ):
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={format_value(value)}")
    return tuple(int(v) for v in value)


def validate_range_arg(
    value, name, min_value=None, max_value=None, allow_equal=False, allow_none=False
):
    """Checks an interval `(low, high)` of finite numbers with `low < high`.

    Args:
        value: The argument to check: a pair of numbers.
        name: String, the argument's name, used in the error message.
        min_value: Optional smallest allowed `low` (inclusive).
        max_value: Optional largest allowed `high` (inclusive).
        allow_equal: Whether `low == high` is accepted (a range of one value).
        allow_none: Whether `None` is accepted (and returned as is).

    Returns:
        A tuple `(low, high)` of Python `float`s (or `None`).

    Raises:
        ValueError: If `value` is not such a pair.

    Example:

    >>> import aekeras
    >>> aekeras.validation.validate_range_arg((0, 2), "r", 0, 1)
    Traceback (most recent call last):
        ...
    ValueError: `r` must be a pair (low, high) of finite numbers with low < high, in [0, 1]. Received: r=(0, 2)
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, (list, tuple)) and len(value) == 2
    ok = ok and all(
        not isinstance(v, (bool, np.bool_)) and isinstance(v, numbers.Real) and math.isfinite(v)
        for v in value
    )
    ok = ok and (value[0] <= value[1] if allow_equal else value[0] < value[1])
    ok = ok and _in_bounds(value[0], min_value, None, True, True)
    ok = ok and _in_bounds(value[1], None, max_value, True, True)
    if not ok:
        expected = (
            f"a pair (low, high) of finite numbers with low {'<=' if allow_equal else '<'} high"
        )
        bounds = _bounds_text(min_value, max_value)
        if bounds:
            expected += "," + bounds
        if allow_none:
            expected = f"None or {expected}"
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={format_value(value)}")
    return (float(value[0]), float(value[1]))


def validate_string_arg(value, name, allowed):
    """Checks that an argument is one of a few allowed strings.

    Args:
        value: The argument to check.
        name: String, the argument's name, used in the error message.
        allowed: The allowed strings.

    Returns:
        `value`.

    Raises:
        ValueError: If `value` is not one of `allowed`.
    """
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"`{name}` must be one of {choices}. Received: {name}={format_value(value)}"
        )
    return value


def validate_batch_arg(x, name, example_shape=None, min_examples=0, dtype=None):
    """Checks that an array is a batch of examples, shape `(n, *example_shape)`.

    Args:
        x: The argument to check, an array-like.
        name: String, the argument's name, used in the error message.
        example_shape: Optional shape of one example; `None` accepts any
            shape with at least one axis besides the batch axis.
        min_examples: The smallest allowed number of examples `n`.
        dtype: Optional dtype to convert `x` to.

    Returns:
        `x` as a NumPy array.

    Raises:
        ValueError: If `x` does not have that shape or has fewer than
            `min_examples` examples.

    Example:

    >>> import aekeras, numpy as np
    >>> aekeras.validation.validate_batch_arg(np.zeros((4, 784)), "x", (28, 28, 1))
    Traceback (most recent call last):
        ...
    ValueError: `x` must be a batch of shape (n, 28, 28, 1). Received: x.shape=(4, 784)
    """
    x = np.asarray(x, dtype=dtype)
    if example_shape is None:
        ok = x.ndim >= 2
        expected = "(n, ...)"
    else:
        example_shape = tuple(example_shape)
        ok = x.ndim == len(example_shape) + 1 and tuple(x.shape[1:]) == example_shape
        expected = "(" + ", ".join(["n", *map(str, example_shape)]) + ")"
    if not ok or len(x) < min_examples:
        minimum = f" with n >= {min_examples}" if min_examples else ""
        raise ValueError(
            f"`{name}` must be a batch of shape {expected}{minimum}. "
            f"Received: {name}.shape={x.shape}"
        )
    return x


def validate_finite_array(x, name):
    """Checks that an array holds no NaN or infinity, naming how many and where.

    Args:
        x: A NumPy array with a batch axis (examples first).
        name: String, the argument's name, used in the error message.

    Returns:
        `x`, unchanged.

    Raises:
        ValueError: If `x` holds NaN or infinite values; the message gives
            their numbers and the first examples that hold them.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.zeros((4, 3))
    >>> x[2, 1] = np.nan
    >>> aekeras.validation.validate_finite_array(x, "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: `x` must hold finite values only. Received: x with 1 NaN ... in examples [2]
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return x
    finite = np.isfinite(x)
    if finite.all():
        return x
    n_nan = int(np.count_nonzero(np.isnan(x)))
    n_inf = int(x.size - np.count_nonzero(finite)) - n_nan
    bad = ~finite.reshape(len(x), -1).all(axis=1) if x.ndim > 1 else ~finite
    examples = np.flatnonzero(bad)
    where = ", ".join(str(i) for i in examples[:5]) + (", ..." if len(examples) > 5 else "")
    raise ValueError(
        f"`{name}` must hold finite values only. Received: {name} with {n_nan} NaN "
        f"and {n_inf} infinite values, in examples [{where}]"
    )
