"""Tests for aekeras.sparse_coding."""

import keras
import numpy as np
import pytest

from aekeras.regularizers import L1Sparsity
from aekeras.sparse_coding import ista
from aekeras.sparse_coding import objective
from aekeras.sparse_coding import soft_threshold


def _problem(n=8, d=12, k=20, seed=0):
    """An overcomplete dictionary and inputs in [0, 1]."""
    rng = np.random.default_rng(seed)
    dictionary = rng.normal(size=(d, k))
    x = rng.random((n, d))
    bias = rng.normal(size=d) * 0.1
    return x, dictionary, bias


def test_soft_threshold():
    v = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(soft_threshold(v, 1.0), [-1.0, 0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(soft_threshold(v, 1.0, nonnegative=True), [0, 0, 0, 0, 2.0])
    np.testing.assert_array_equal(soft_threshold(v, 0.0), v)


def test_orthonormal_dictionary_gives_the_closed_form():
    # (1/d) ||x - D h||^2 + λ ||h||_1 with D^T D = I is minimised by soft_threshold(D^T x, λ d / 2).
    rng = np.random.default_rng(1)
    d, strength = 6, 0.05
    dictionary, _ = np.linalg.qr(rng.normal(size=(d, d)))
    x = rng.normal(size=(5, d))
    expected = soft_threshold(x @ dictionary, strength * d / 2)
    for accelerated in [False, True]:
        codes = ista(x, dictionary, strength, steps=20, accelerated=accelerated)
        np.testing.assert_allclose(codes, expected, atol=1e-10)
    assert np.mean(expected == 0) > 0  # the threshold did set some codes to zero


@pytest.mark.parametrize("loss", ["mean_squared_error", "binary_crossentropy"])
@pytest.mark.parametrize("nonnegative", [False, True])
def test_ista_never_increases_the_objective(loss, nonnegative):
    x, dictionary, bias = _problem()
    _, objectives = ista(
        x, dictionary, 1e-3, bias, loss, steps=200, nonnegative=nonnegative, return_objectives=True
    )
    assert objectives.shape == (201, len(x))
    assert np.all(np.diff(objectives, axis=0) <= 1e-12)
    assert np.all(objectives[-1] < objectives[0])


def test_fista_reaches_the_optimum_of_the_sigmoid_decoder():
    # Optimality of the nonnegative problem: the gradient g of the loss satisfies g + λ = 0 where
    # h > 0 and g + λ >= 0 where h = 0.
    x, dictionary, bias = _problem()
    strength = 1e-2
    codes, objectives = ista(
        x, dictionary, strength, bias, "binary_crossentropy", steps=3000, nonnegative=True,
        accelerated=True, return_objectives=True,
    )  # fmt: skip
    z = codes @ dictionary.T + bias
    gradient = ((1 / (1 + np.exp(-z)) - x) / x.shape[1]) @ dictionary
    active = codes > 0
    assert 0 < active.mean() < 1
    np.testing.assert_allclose(gradient[active] + strength, 0, atol=1e-6)
    assert np.all(gradient[~active] + strength >= -1e-6)
    ista_objectives = ista(
        x, dictionary, strength, bias, "binary_crossentropy", steps=100, nonnegative=True,
        return_objectives=True,
    )[1]  # fmt: skip
    assert objectives[100].mean() < ista_objectives[100].mean()  # FISTA is faster


def test_initial_codes_at_the_optimum_stay_there():
    x, dictionary, bias = _problem()
    optimum = ista(x, dictionary, 1e-2, bias, steps=3000, accelerated=True)
    again = ista(x, dictionary, 1e-2, bias, steps=10, initial_codes=optimum)
    np.testing.assert_allclose(again, optimum, atol=1e-6)


def test_objective_is_the_autoencoder_loss():
    # Keras' binary cross-entropy (averaged over the features) plus L1Sparsity, per example.
    x, dictionary, bias = _problem()
    codes = np.abs(np.random.default_rng(2).normal(size=(len(x), dictionary.shape[1])))
    z = codes @ dictionary.T + bias
    keras_loss = keras.losses.binary_crossentropy(x, 1 / (1 + np.exp(-z)))
    expected = np.mean(keras.ops.convert_to_numpy(keras_loss)) + float(L1Sparsity(0.1)(codes))
    value = objective(x, codes, dictionary, 0.1, bias, "binary_crossentropy")
    assert value.shape == (len(x),)
    np.testing.assert_allclose(value.mean(), expected, rtol=1e-5)


def test_errors_name_the_bad_argument():
    x, dictionary, bias = _problem()
    with pytest.raises(ValueError, match=r"one atom per column.*dictionary.shape=\(12,\)"):
        ista(x, dictionary[:, 0], 0.1)
    with pytest.raises(ValueError, match="as many features as the dictionary has rows"):
        ista(x[:, :5], dictionary, 0.1)
    with pytest.raises(ValueError, match="Received: loss='mse'"):
        ista(x, dictionary, 0.1, loss="mse")
    with pytest.raises(ValueError, match="Received: strength=-1"):
        ista(x, dictionary, -1)
    with pytest.raises(ValueError, match=r"one code per example.*codes.shape=\(3, 20\)"):
        ista(x, dictionary, 0.1, initial_codes=np.zeros((3, 20)))
    with pytest.raises(ValueError, match=r"bias.shape=\(5,\)"):
        objective(x, np.zeros((8, 20)), dictionary, 0.1, bias[:5])
    with pytest.raises(ValueError, match="Received: steps=-1"):
        ista(x, dictionary, 0.1, steps=-1)
