"""Toy densities known in closed form: `GaussianMixture` and `ring_mixture`, to see what a model learns."""

import math

import numpy as np

from aekeras.datasets import _checks
from aekeras.validation import format_value
from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_finite_array
from aekeras.validation import validate_float_arg


class GaussianMixture:
    """A mixture of isotropic Gaussians whose density and score are exact.

    The density is `p(x) = sum_k w_k N(x; mu_k, s^2 I)`. Adding Gaussian
    noise of standard deviation `noise` gives again a mixture, with
    variance `s^2 + noise^2`: `p_noise = p * N(0, noise^2 I)`. So the
    smoothed density `p_noise`, its score `grad log p_noise` and the optimal
    denoiser `E[x | x + noise * eps = x_tilde]` are known exactly, which is
    what a denoising autoencoder is compared with.

    Args:
        means: Array-like `(k, d)`, the centres `mu_k` of the `k` components.
        stddev: Positive float, the standard deviation `s` of every
            component along every axis.
        weights: Optional array-like `(k,)` of positive mixing weights,
            normalised to sum to 1; `None` gives equal weights.

    Raises:
        ValueError: If `means` is not a finite `(k, d)` array, `stddev` is not
            a positive finite float, or `weights` has the wrong length or a
            weight that is not positive.

    Example:

    >>> import aekeras, numpy as np
    >>> p = aekeras.datasets.GaussianMixture([[-1.0, 0.0], [1.0, 0.0]], stddev=0.1)
    >>> p.sample(3, seed=0).shape
    (3, 2)
    >>> p.score([[0.0, 0.0]], noise=0.5)  # midway, both modes pull equally
    array([[0., 0.]])
    >>> np.round(p.denoise([[1.5, 0.0]], noise=0.3), 3)  # pulled to the mode at (1, 0)
    array([[1.05, 0.  ]])

    Reference:
    - [Vincent, 2011](https://doi.org/10.1162/NECO_a_00142)
    """

    def __init__(self, means, stddev, weights=None):
        means = validate_batch_arg(means, "means", min_examples=1, dtype=np.float64)
        if means.ndim != 2:
            raise ValueError(
                f"`means` must be an array of shape (k, d). Received: means.shape={means.shape}"
            )
        self.means = validate_finite_array(means, "means")
        self.stddev = validate_float_arg(stddev, "stddev", min_value=0, min_inclusive=False)
        k = len(means)
        if weights is None:
            weights = np.full(k, 1.0 / k)
        else:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (k,) or not np.all(np.isfinite(weights) & (weights > 0)):
                raise ValueError(
                    f"`weights` must hold {k} positive finite numbers, one per component. "
                    f"Received: weights={format_value(weights.tolist())}"
                )
            weights = weights / weights.sum()
        self.weights = weights

    @property
    def dim(self):
        """The dimension `d` of the space."""
        return self.means.shape[1]

    def sample(self, n, seed=None):
        """Draws `n` points from the mixture.

        Args:
            n: Positive integer, the number of points.
            seed: Optional integer seed of `np.random.default_rng`.

        Returns:
            float32 array `(n, d)`.
        """
        n = _checks.check_count(n, "n")
        rng = np.random.default_rng(_checks.check_seed(seed))
        component = rng.choice(len(self.means), size=n, p=self.weights)
        x = self.means[component] + self.stddev * rng.standard_normal((n, self.dim))
        return x.astype(np.float32)

    def _posterior(self, x, noise):
        """The points as float64 `(n, d)`, the component responsibilities `(n, k)` and the variance."""
        noise = validate_float_arg(noise, "noise", min_value=0)
        x = validate_batch_arg(x, "x", (self.dim,), dtype=np.float64)
        variance = self.stddev**2 + noise**2
        squared = ((x[:, None, :] - self.means[None, :, :]) ** 2).sum(axis=-1)
        logits = np.log(self.weights) - squared / (2 * variance)
        log_norm = np.logaddexp.reduce(logits, axis=1, keepdims=True)
        return x, np.exp(logits - log_norm), variance, log_norm[:, 0]

    def log_density(self, x, noise=0.0):
        """`log p_noise(x)`, the log density of the mixture smoothed by Gaussian noise.

        Args:
            x: Array-like `(n, d)`, the points.
            noise: Non-negative float, the noise standard deviation (0: the
                mixture itself).

        Returns:
            float64 array `(n,)`.
        """
        x, _, variance, log_norm = self._posterior(x, noise)
        return log_norm - 0.5 * self.dim * math.log(2 * math.pi * variance)

    def score(self, x, noise=0.0):
        """The score `grad_x log p_noise(x)` of the smoothed density, exactly.

        For a mixture with responsibilities `g_k(x)` it is
        `sum_k g_k(x) (mu_k - x) / (s^2 + noise^2)`.

        Args:
            x: Array-like `(n, d)`, the points.
            noise: Non-negative float, the noise standard deviation.

        Returns:
            float64 array `(n, d)`.
        """
        x, responsibilities, variance, _ = self._posterior(x, noise)
        return (responsibilities @ self.means - x) / variance

    def denoise(self, x_tilde, noise):
        """The optimal denoiser `E[x | x_tilde] = x_tilde + noise^2 grad log p_noise(x_tilde)`.

        This is the minimiser of the expected squared error
        `E ||x - r(x + noise * eps)||^2` over all functions `r`
        (Miyasawa 1961; Tweedie's formula).

        Args:
            x_tilde: Array-like `(n, d)`, noisy points.
            noise: Non-negative float, the standard deviation of the noise
                that was added.

        Returns:
            float64 array `(n, d)`.
        """
        x_tilde = np.asarray(x_tilde, dtype=np.float64)
        return x_tilde + noise**2 * self.score(x_tilde, noise)


def ring_mixture(n_modes=8, radius=2.0, stddev=0.1):
    """A 2-D mixture of `n_modes` equal Gaussians evenly spaced on a circle.

    Args:
        n_modes: Integer >= 1, the number of components.
        radius: Positive float, the radius of the circle of means.
        stddev: Positive float, the standard deviation of each component.

    Returns:
        A `GaussianMixture` in two dimensions, the first mean at `(radius, 0)`.

    Raises:
        ValueError: If an argument is out of range.

    Example:

    >>> import aekeras, numpy as np
    >>> p = aekeras.datasets.ring_mixture(4, radius=1.0)
    >>> np.round(p.means, 6) + 0.0
    array([[ 1.,  0.],
           [ 0.,  1.],
           [-1.,  0.],
           [ 0., -1.]])
    """
    n_modes = _checks.check_count(n_modes, "n_modes")
    radius = validate_float_arg(radius, "radius", min_value=0, min_inclusive=False)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return GaussianMixture(np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius, stddev)
