import numpy as np
import pytest

from aekeras import validation


def test_int_arg_accepts_python_and_numpy_integers_within_bounds():
    assert validation.validate_int_arg(3, "n", min_value=1) == 3
    value = validation.validate_int_arg(np.int64(5), "n", min_value=1, max_value=5)
    assert value == 5 and type(value) is int
    assert validation.validate_int_arg(None, "seed", allow_none=True) is None


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "`n` must be an integer >= 1. Received: n=0"),
        (True, "Received: n=True"),
        (2.0, "Received: n=2.0"),
        ("3", "Received: n='3'"),
        (None, "Received: n=None"),
        (np.int32(0), "Received: n=0"),
    ],
)
def test_int_arg_rejects_bools_floats_strings_and_out_of_range(value, message):
    with pytest.raises(ValueError, match=message):
        validation.validate_int_arg(value, "n", min_value=1)


def test_int_arg_upper_bound_is_inclusive_and_named():
    with pytest.raises(ValueError, match=r"in \[0, 9\]. Received: layer=10"):
        validation.validate_int_arg(10, "layer", min_value=0, max_value=9)


def test_float_arg_bounds_and_non_finite_values():
    assert validation.validate_float_arg(2, "stddev", min_value=0) == 2.0
    assert validation.validate_float_arg(np.float32(0.5), "target", 0, 1, False, False) == 0.5
    for bad in (float("nan"), float("inf"), -1.0, True, "big"):
        with pytest.raises(ValueError, match="Received: stddev="):
            validation.validate_float_arg(bad, "stddev", min_value=0)
    with pytest.raises(ValueError, match=r"in \(0, 1\). Received: target=1.0"):
        validation.validate_float_arg(1.0, "target", 0, 1, min_inclusive=False, max_inclusive=False)
    with pytest.raises(ValueError, match="> 0. Received: C=0"):
        validation.validate_float_arg(0, "C", min_value=0, min_inclusive=False)


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, float("nan"), False, "0.1"])
def test_rate_arg_is_a_fraction_in_zero_one(value):
    with pytest.raises(ValueError, match=r"`rate` must be a float in \[0, 1\). Received: rate="):
        validation.validate_rate_arg(value, "rate")


def test_rate_arg_accepts_zero():
    assert validation.validate_rate_arg(0, "rate") == 0.0


def test_int_sequence_arg():
    assert validation.validate_int_sequence_arg([3, np.int64(2)], "filters") == (3, 2)
    assert validation.validate_int_sequence_arg((), "hidden_units") == ()
    with pytest.raises(ValueError, match=r"Received: filters=\(\)"):
        validation.validate_int_sequence_arg((), "filters", allow_empty=False)
    with pytest.raises(ValueError, match=r"Received: hidden_units=\[8, 0\]"):
        validation.validate_int_sequence_arg([8, 0], "hidden_units")
    with pytest.raises(ValueError, match="Received: hidden_units=8"):
        validation.validate_int_sequence_arg(8, "hidden_units")


def test_range_arg():
    assert validation.validate_range_arg([0, 1], "clip") == (0.0, 1.0)
    assert validation.validate_range_arg(None, "clip", allow_none=True) is None
    for bad in [(1, 0), (0, 0), (0, 1, 2), (0, float("inf")), "01", None]:
        with pytest.raises(ValueError, match="Received: clip="):
            validation.validate_range_arg(bad, "clip")


def test_string_arg_lists_the_choices():
    assert validation.validate_string_arg("cosine", "kind", ("cosine", "linear")) == "cosine"
    with pytest.raises(ValueError, match="one of 'cosine', 'linear'. Received: kind='step'"):
        validation.validate_string_arg("step", "kind", ("cosine", "linear"))


def test_batch_arg_checks_the_example_shape_and_the_number_of_examples():
    x = validation.validate_batch_arg([[1, 2], [3, 4]], "x", (2,), dtype="float32")
    assert x.dtype == np.float32 and x.shape == (2, 2)
    assert validation.validate_batch_arg(np.zeros((3, 2, 2)), "h").shape == (3, 2, 2)
    with pytest.raises(
        ValueError,
        match=r"must be a batch of shape \(n, 28, 28, 1\). Received: x.shape=\(4, 784\)$",
    ):
        validation.validate_batch_arg(np.zeros((4, 784)), "x", (28, 28, 1))
    with pytest.raises(ValueError, match=r"shape \(n, \.\.\.\). Received: h.shape=\(4,\)$"):
        validation.validate_batch_arg(np.zeros(4), "h")
    with pytest.raises(ValueError, match=r"with n >= 2. Received: x.shape=\(1, 3\)$"):
        validation.validate_batch_arg(np.zeros((1, 3)), "x", min_examples=2)


def test_finite_array_names_the_counts_and_the_examples():
    x = np.zeros((8, 2, 2), "float32")
    assert validation.validate_finite_array(x, "x") is x
    x[1, 0, 0] = np.nan
    x[6, 1, 1] = np.inf
    x[6, 0, 1] = -np.inf
    with pytest.raises(
        ValueError, match=r"Received: x with 1 NaN and 2 infinite values, in examples \[1, 6\]$"
    ):
        validation.validate_finite_array(x, "x")
    many = np.full((10, 3), np.nan)
    with pytest.raises(
        ValueError, match=r"30 NaN and 0 infinite values, in examples \[0, 1, 2, 3, 4, \.\.\.\]"
    ):
        validation.validate_finite_array(many, "y")
    assert validation.validate_finite_array(np.zeros((2, 2), "uint8"), "x").dtype == np.uint8


def test_range_with_bounds_and_equal_ends():
    assert validation.validate_range_arg((0, 0), "angle_range", -180, 180, allow_equal=True) == (
        0.0,
        0.0,
    )
    assert validation.validate_range_arg((-180, 180), "angle_range", -180, 180) == (-180.0, 180.0)
    for bad in [(0, 0), (-190, 0), (0, 181)]:
        with pytest.raises(
            ValueError, match=r"low < high, in \[-180, 180\]\. Received: angle_range="
        ):
            validation.validate_range_arg(bad, "angle_range", -180, 180)
