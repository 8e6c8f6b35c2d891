"""Principal component analysis with the encode/decode interface of an autoencoder."""

import math

import numpy as np

from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_finite_array
from aekeras.validation import validate_int_arg


class PCA:
    """Principal component analysis, the linear baseline for autoencoders.

    PCA projects centred data on the `n_components` directions of largest
    variance. It is the optimum of a linear autoencoder with a squared-error
    loss, so it is the baseline every autoencoder in the course is compared
    with. The object offers the same `encode`, `decode` and `reconstruct`
    methods as `aekeras.models.Autoencoder`, and the same `code_dim` and
    `input_shape_` attributes, so the two can be swapped in an experiment.

    The components are computed exactly in float64: from the eigenvectors of
    the `(D, D)` covariance matrix when there are more samples than features
    (60,000 MNIST images take about a second), otherwise from the SVD of the
    centred data. Each component's sign is fixed so that its entry of largest
    magnitude is positive, which makes results reproducible. Codes and
    reconstructions are returned as float32.

    Args:
        n_components: Integer, the number of principal components kept (the code
            dimension). Must be at least 1 and, when fitting, at most
            `min(n_samples, n_features)`.

    Attributes:
        components_: Float64 array `(n_components, n_features)`, the
            principal axes (orthonormal rows), by decreasing variance.
        mean_: Float64 array `(n_features,)`, the mean of the training data.
        explained_variance_: Float64 array `(n_components,)`, the variance of
            the training data along each component (the eigenvalues of the
            sample covariance, which divides by `n_samples - 1`).
        explained_variance_ratio_: Float64 array `(n_components,)`, the
            fraction of the total variance carried by each component.
        input_shape_: Tuple, the shape of one example seen by `fit`
            (without the batch axis); `decode` returns this shape.
        n_features_: Integer, the number of features, `prod(input_shape_)`.
        n_samples_: Integer, the number of examples seen by `fit`.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.random.default_rng(0).random((100, 8, 8)).astype("float32")
    >>> pca = aekeras.pca.PCA(n_components=5).fit(x)
    >>> pca.encode(x).shape
    (100, 5)
    >>> pca.reconstruct(x).shape
    (100, 8, 8)

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647)
    - [Baldi & Hornik, 1989](https://doi.org/10.1016/0893-6080(89)90014-2)
    """

    def __init__(self, n_components):
        self.n_components = validate_int_arg(n_components, "n_components", min_value=1)

    @property
    def code_dim(self):
        """The dimension of the codes returned by `encode`."""
        return self.n_components

    def __repr__(self):
        return f"PCA(n_components={self.n_components})"

    def fit(self, x):
        """Computes the principal components of a data set.

        Args:
            x: Array of shape `(n_samples, ...)`; every example is flattened
                to a vector of `prod(x.shape[1:])` features.

        Returns:
            The fitted `PCA` instance itself.

        Raises:
            ValueError: If `x` has fewer than 2 examples, contains NaN or
                infinity, or if `n_components > min(n_samples, n_features)`.
        """
        x = validate_batch_arg(x, "x", min_examples=2)
        n_samples = x.shape[0]
        input_shape = tuple(int(d) for d in x.shape[1:])
        n_features = math.prod(input_shape)
        if self.n_components > min(n_samples, n_features):
            raise ValueError(
                "`n_components` must be at most min(n_samples, n_features) = "
                f"min({n_samples}, {n_features}) for inputs of shape "
                f"{x.shape}. Received: n_components={self.n_components}"
            )
        data = validate_finite_array(x.reshape(n_samples, n_features).astype(np.float64), "x")
        mean = data.mean(axis=0)
        data -= mean

        if n_samples > n_features:
            # Eigen-decomposition of the (D, D) scatter matrix: O(N D^2) with a
            # small constant, much faster than the SVD of a tall matrix.
            scatter = data.T @ data
            eigenvalues, eigenvectors = np.linalg.eigh(scatter)
            order = np.argsort(eigenvalues)[::-1]
            eigenvalues = np.clip(eigenvalues[order], 0.0, None)
            axes = eigenvectors[:, order].T
        else:
            _, singular_values, axes = np.linalg.svd(data, full_matrices=False)
            eigenvalues = singular_values**2
        del data

        # Deterministic signs: the largest-magnitude entry of each axis is > 0.
        largest = np.argmax(np.abs(axes), axis=1)
        signs = np.sign(axes[np.arange(axes.shape[0]), largest])
        signs[signs == 0] = 1.0
        axes *= signs[:, None]

        variances = eigenvalues / (n_samples - 1)
        total_variance = variances.sum()
        k = self.n_components
        self.components_ = axes[:k].copy()
        self.mean_ = mean
        self.explained_variance_ = variances[:k].copy()
        if total_variance > 0:
            self.explained_variance_ratio_ = variances[:k] / total_variance
        else:
            self.explained_variance_ratio_ = np.zeros(k)
        self.input_shape_ = input_shape
        self.n_features_ = n_features
        self.n_samples_ = n_samples
        return self

    def encode(self, x, batch_size=None):
        """Projects examples on the principal components.

        Args:
            x: Array of shape `(n, *input_shape_)`, with the feature shape
                seen by `fit`.
            batch_size: Optional int; when given, `x` is projected in chunks
                of this many examples to bound the float64 memory. Accepted
                for interface compatibility with `Autoencoder.encode`.

        Returns:
            Float32 array of shape `(n, n_components)`, the codes.

        Raises:
            RuntimeError: If the instance has not been fitted.
            ValueError: If the feature shape of `x` differs from the one seen
                by `fit`.
        """
        self._check_fitted("encode")
        x = validate_batch_arg(x, "x", self.input_shape_)
        flat = x.reshape(x.shape[0], self.n_features_)
        return self._batched(flat, batch_size, self._project)

    def decode(self, z, batch_size=None):
        """Maps codes back to the input space.

        Args:
            z: Array of shape `(n, n_components)`.
            batch_size: Optional int; when given, `z` is decoded in chunks of
                this many codes. Accepted for interface compatibility with
                `Autoencoder.decode`.

        Returns:
            Float32 array of shape `(n, *input_shape_)`.

        Raises:
            RuntimeError: If the instance has not been fitted.
            ValueError: If `z` is not of shape `(n, n_components)`.
        """
        self._check_fitted("decode")
        z = validate_batch_arg(z, "z", (self.n_components,))
        flat = self._batched(z, batch_size, self._back_project)
        return flat.reshape((z.shape[0],) + self.input_shape_)

    def reconstruct(self, x, batch_size=None):
        """Encodes and decodes examples: the rank-`n_components` approximation.

        Args:
            x: Array of shape `(n, *input_shape_)`.
            batch_size: Optional int, as in `encode`.

        Returns:
            Float32 array with the shape of `x`.

        Raises:
            RuntimeError: If the instance has not been fitted.
            ValueError: If the feature shape of `x` differs from the one seen
                by `fit`.
        """
        return self.decode(self.encode(x, batch_size=batch_size), batch_size=batch_size)

    def _project(self, flat):
        return (flat.astype(np.float64) - self.mean_) @ self.components_.T

    def _back_project(self, codes):
        return codes.astype(np.float64) @ self.components_ + self.mean_

    @staticmethod
    def _batched(array, batch_size, fn):
        batch_size = validate_int_arg(batch_size, "batch_size", min_value=1, allow_none=True)
        n = array.shape[0]
        step = n if batch_size is None else batch_size
        parts = [
            fn(array[start : start + step]).astype(np.float32)
            for start in range(0, n, max(step, 1))
        ]
        if not parts:
            return fn(array).astype(np.float32)
        return np.concatenate(parts, axis=0)

    def _check_fitted(self, method):
        if not hasattr(self, "components_"):
            raise RuntimeError(
                f"This PCA instance is not fitted yet: call `fit(x)` before `{method}`."
            )
