"""Argument checks of the dataset loaders, in one place.

Every check raises a `ValueError` that says what was expected and ends with
`Received: name=value`.
"""

import numpy as np

SPLITS = ("train", "test")
SOURCES = ("tfds", "raw")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"Unknown split: expected one of {list(SPLITS)}. Received: split={split!r}"
        )


def check_source(source):
    if source is not None and source not in SOURCES:
        raise ValueError(
            f"Unknown source: expected one of {list(SOURCES)} or None (automatic). "
            f"Received: source={source!r}"
        )


def check_count(value, name, minimum=1, maximum=None):
    """An integer in `[minimum, maximum]`; `maximum` is the number of examples available."""
    if not _is_int(value) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum}, the number of examples "
            f"available. Received: {name}={value!r}"
        )


def check_seed(seed):
    if seed is not None and not _is_int(seed):
        raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")


def check_range(value, name, low, high, positive=False):
    """A pair `(min, max)` with `low <= min <= max <= high`, and `min > 0` if `positive`."""
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float, np.number)) for v in value)
        and low <= value[0] <= value[1] <= high
    )
    if not ok:
        raise ValueError(
            f"`{name}` must be a pair (min, max) with {low} <= min <= max <= {high}. "
            f"Received: {name}={value!r}"
        )
    if positive and value[0] <= 0:
        raise ValueError(f"`{name}` must be positive. Received: {name}={value!r}")


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
