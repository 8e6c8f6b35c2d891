"""Tests for aekeras.datasets.toy (Gaussian mixtures whose density and score are exact)."""

import numpy as np
import pytest

from aekeras import datasets


@pytest.fixture
def ring():
    return datasets.ring_mixture(n_modes=8, radius=2.0, stddev=0.1)


def test_ring_means_lie_evenly_on_the_circle(ring):
    assert ring.means.shape == (8, 2) and ring.dim == 2
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 2.0)
    np.testing.assert_allclose(ring.means[0], [2.0, 0.0])
    gaps = np.linalg.norm(np.diff(ring.means, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8))
    np.testing.assert_allclose(ring.weights, 1 / 8)


def test_sample_is_seeded_and_has_the_mixture_statistics(ring):
    x = ring.sample(20000, seed=0)
    assert x.shape == (20000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, ring.sample(20000, seed=0))
    assert not np.array_equal(x, ring.sample(20000, seed=1))
    # Every point lies near one mode: distance to the nearest mean ~ 0.1 * chi(2), below 0.6.
    nearest = np.linalg.norm(x[:, None] - ring.means[None], axis=-1).min(axis=1)
    assert nearest.max() < 0.6
    assert np.mean(nearest**2) == pytest.approx(2 * 0.1**2, rel=0.05)
    # Equal weights: each mode gets about 1/8 of the points, and the mean is the centre.
    counts = np.bincount(np.linalg.norm(x[:, None] - ring.means[None], axis=-1).argmin(axis=1))
    np.testing.assert_allclose(counts / len(x), 1 / 8, atol=0.01)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.05)


@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
def test_density_integrates_to_one_and_score_is_its_log_gradient(ring, noise):
    ticks = np.linspace(-5, 5, 401)
    grid = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    density = np.exp(ring.log_density(grid, noise=noise))
    assert density.sum() * (ticks[1] - ticks[0]) ** 2 == pytest.approx(1.0, abs=1e-3)
    points = ring.sample(50, seed=3) + np.float32(noise) * np.random.default_rng(4).standard_normal(
        (50, 2)
    ).astype(np.float32)
    h = 1e-5
    numeric = np.stack(
        [
            (ring.log_density(points + h * e, noise) - ring.log_density(points - h * e, noise))
            / (2 * h)
            for e in np.eye(2)
        ],
        axis=1,
    )
    np.testing.assert_allclose(ring.score(points, noise), numeric, rtol=1e-4, atol=1e-4)


def test_denoise_of_one_gaussian_is_the_shrinkage_estimator():
    # One component N(mu, s^2 I): E[x | x_tilde] = mu + s^2 / (s^2 + noise^2) (x_tilde - mu).
    mu, s, noise = np.array([1.0, -2.0]), 0.5, 0.3
    p = datasets.GaussianMixture([mu], stddev=s)
    x_tilde = np.random.default_rng(0).standard_normal((10, 2))
    expected = mu + s**2 / (s**2 + noise**2) * (x_tilde - mu)
    np.testing.assert_allclose(p.denoise(x_tilde, noise), expected)


def test_denoise_has_the_smallest_squared_error(ring):
    # The posterior mean beats the identity and any shrinkage of it toward the modes.
    x = ring.sample(20000, seed=0).astype(np.float64)
    x_tilde = x + 0.3 * np.random.default_rng(1).standard_normal(x.shape)
    best = ring.denoise(x_tilde, 0.3)

    def error(r):
        return np.sum((x - r) ** 2, axis=1).mean()

    assert error(best) < 0.3 * error(x_tilde)
    for factor in (0.8, 1.2):  # a step shorter or longer along the score is worse
        assert error(x_tilde + factor * (best - x_tilde)) > error(best)


def test_weights_are_normalised_and_shift_the_score():
    p = datasets.GaussianMixture([[-1.0, 0.0], [1.0, 0.0]], stddev=0.5, weights=[1.0, 3.0])
    np.testing.assert_allclose(p.weights, [0.25, 0.75])
    # Midway, the heavier component at (1, 0) pulls harder.
    assert p.score([[0.0, 0.0]])[0, 0] > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"means": [1.0, 2.0], "stddev": 0.1}, r"Received: means.shape=\(2,\)"),
        ({"means": [[0.0, np.nan]], "stddev": 0.1}, "finite"),
        ({"means": [[0.0, 0.0]], "stddev": 0.0}, r"Received: stddev=0.0"),
        ({"means": [[0.0, 0.0]], "stddev": 0.1, "weights": [1.0, 1.0]}, r"1 positive finite"),
        (
            {"means": [[0.0], [1.0]], "stddev": 0.1, "weights": [1.0, -1.0]},
            r"weights=\[1.0, -1.0\]",
        ),
    ],
)
def test_bad_mixture_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.GaussianMixture(**kwargs)


def test_bad_call_arguments_are_value_errors(ring):
    with pytest.raises(ValueError, match=r"Received: x.shape=\(3, 3\)"):
        ring.score(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"Received: noise=-0.1"):
        ring.score(np.zeros((3, 2)), noise=-0.1)
    with pytest.raises(ValueError, match=r"Received: n=0"):
        ring.sample(0)
    with pytest.raises(ValueError, match=r"Received: n_modes=0"):
        datasets.ring_mixture(n_modes=0)
    with pytest.raises(ValueError, match=r"Received: radius=-1"):
        datasets.ring_mixture(radius=-1)
