"""Argument checks of the dataset loaders, in one place, built on `aekeras.validation`.

Every check raises a `ValueError` that says what was expected and ends with
`Received: name=value`.
"""

import math

import numpy as np

from aekeras.validation import format_value
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_range_arg
from aekeras.validation import validate_string_arg

SPLITS = ("train", "test")
SOURCES = ("tfds", "raw")


def check_split(split):
    return validate_string_arg(split, "split", SPLITS)


def check_source(source):
    return None if source is None else validate_string_arg(source, "source", SOURCES)


def default_source(variable, value):
    """The path a loader takes when `source=None`, set by the environment variable `variable`
    (`value` is its value, "" when unset: None, automatic)."""
    if not value:
        return None
    if value not in SOURCES:
        choices = ", ".join(repr(s) for s in SOURCES)
        raise ValueError(
            f"The environment variable {variable} must be one of {choices} (or unset: "
            f"tensorflow-datasets when installed). Received: {variable}={value!r}"
        )
    return value


def check_count(value, name, minimum=1, maximum=None):
    """An integer in `[minimum, maximum]`; `maximum` is the number of examples available."""
    return validate_int_arg(value, name, min_value=minimum, max_value=maximum)


def check_seed(seed):
    return validate_int_arg(seed, "seed", allow_none=True)


def check_range(value, name, low, high, positive=False):
    """A pair `(min, max)` with `low <= min <= max <= high`, and `min > 0` if `positive`."""
    value = validate_range_arg(
        value, name, min_value=low, max_value=None if math.isinf(high) else high, allow_equal=True
    )
    if positive and value[0] <= 0:
        raise ValueError(f"`{name}` must be positive. Received: {name}={format_value(value)}")
    return value


def check_patches_fit(size, angle_range, scale_range, extent):
    """Rotated square patches of side `size * scale` fit in an image of `extent` pixels."""
    # |cos| + |sin| (the extent of a rotated square) peaks at odd multiples of 45 degrees.
    angles = np.array([angle_range[0], angle_range[1], -135.0, -45.0, 45.0, 135.0])
    angles = np.deg2rad(angles[(angles >= angle_range[0]) & (angles <= angle_range[1])])
    widest = float(np.max(np.abs(np.cos(angles)) + np.abs(np.sin(angles))))
    largest = extent / (widest * (1 - 1 / size))
    if size * scale_range[1] > largest:
        raise ValueError(
            f"Patches do not fit in the 64x64 image at every angle of "
            f"angle_range={angle_range!r}: expected size * max scale <= "
            f"{largest:.1f} pixels, got {size} * {scale_range[1]}. "
            f"Received: scale_range={scale_range!r}"
        )
