"""Reconstruction and representation metrics: NumPy functions and a Keras metric."""

import keras
import numpy as np
from keras import ops

from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_float_arg
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_range_arg


def _check_pair(x, x_hat, min_ndim):
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(
            "`x` and `x_hat` must have the same shape. "
            f"Received: x.shape={x.shape}, x_hat.shape={x_hat.shape}"
        )
    if min_ndim == 2:
        validate_batch_arg(x, "x", min_examples=1)
    if x.size == 0:
        raise ValueError(f"`x` must hold at least one value. Received: x.shape={x.shape}")
    return x, x_hat


def _per_image_sse(x, x_hat):
    diff = (x - x_hat).reshape(x.shape[0], -1)
    return np.einsum("ij,ij->i", diff, diff)


def reconstruction_error(x, x_hat):
    """Mean over images of the sum of squared pixel errors.

    This is the metric of Hinton & Salakhutdinov's table: for every image
    the squared differences are summed over all pixels (all non-batch axes),
    and these per-image sums are averaged over the images:

    `mean_i sum_j (x[i, j] - x_hat[i, j]) ** 2`

    The paper's numbers are for pixels in [0, 1] (e.g. 784 MNIST pixels per
    image), so compare with them only on data in that range.

    Args:
        x: Array of shape `(n_images, ...)`, the original images.
        x_hat: Array of the same shape, the reconstructions.

    Returns:
        Float, the mean per-image sum of squared errors.

    Raises:
        ValueError: If the shapes differ, or `x` has no batch axis or no
            element.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.zeros((2, 2, 2))
    >>> x_hat = np.full((2, 2, 2), 0.5)
    >>> aekeras.metrics.reconstruction_error(x, x_hat)
    1.0

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647)
    """
    x, x_hat = _check_pair(x, x_hat, min_ndim=2)
    return float(np.mean(_per_image_sse(x, x_hat)))


def mse(x, x_hat):
    """Mean squared error over all elements.

    Equal to `reconstruction_error(x, x_hat) / pixels_per_image` for a batch
    of images: the loss that `keras.losses.MeanSquaredError` minimises.

    Args:
        x: Array, the original data.
        x_hat: Array of the same shape, the reconstructions.

    Returns:
        Float, `mean((x - x_hat) ** 2)`.

    Raises:
        ValueError: If the shapes differ or the arrays are empty.

    Example:

    >>> import aekeras
    >>> aekeras.metrics.mse([0.0, 1.0], [0.0, 0.0])
    0.5
    """
    x, x_hat = _check_pair(x, x_hat, min_ndim=0)
    return float(np.mean(np.square(x - x_hat)))


def psnr(x, x_hat, data_range=1.0):
    """Peak signal-to-noise ratio in decibels, averaged over images.

    For every image, `10 * log10(data_range ** 2 / mse_i)` with `mse_i` the
    mean squared error over that image's pixels; the result is the mean of
    these per-image values (not the PSNR of the pooled MSE). Higher is
    better. A perfect reconstruction has `mse_i = 0`; to keep the result
    finite, `mse_i` is floored at `1e-10 * data_range ** 2`, so the PSNR of
    one image is capped at 100 dB.

    Args:
        x: Array of shape `(n_images, ...)`, the original images.
        x_hat: Array of the same shape, the reconstructions.
        data_range: Positive float, the difference between the largest and
            the smallest possible pixel value: 1.0 for pixels in [0, 1],
            255.0 for 8-bit pixels.

    Returns:
        Float, the mean per-image PSNR in dB.

    Raises:
        ValueError: If the shapes differ, `x` has no batch axis or no
            element, or `data_range` is not positive.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.zeros((1, 4))
    >>> round(aekeras.metrics.psnr(x, x + 0.1), 6)
    20.0
    """
    data_range = validate_float_arg(data_range, "data_range", min_value=0, min_inclusive=False)
    x, x_hat = _check_pair(x, x_hat, min_ndim=2)
    pixels = x[0].size
    per_image_mse = _per_image_sse(x, x_hat) / pixels
    peak = float(data_range) ** 2
    per_image_mse = np.maximum(per_image_mse, 1e-10 * peak)
    return float(np.mean(10.0 * np.log10(peak / per_image_mse)))


def grey_fraction(x, grey=(0.1, 0.9)):
    """Fraction of pixel values strictly inside a grey band, e.g. (0.1, 0.9).

    A measure of blur for images whose pixels are nearly binary, such as
    MNIST digits (ink near 1, paper near 0): only the anti-aliased edges of
    the strokes are grey. A reconstruction trained with squared error or
    binary cross-entropy outputs, where its code leaves the exact strokes
    uncertain, the mean of the images that share the code, and averaging
    sharp strokes gives grey; its grey fraction is then larger than the
    originals'. Values outside `[0, 1]` (e.g. PCA's reconstructions) count as
    not grey.

    Args:
        x: Array of pixel values in [0, 1], any shape (e.g. a batch of images).
        grey: Pair `(low, high)` with `0 <= low < high <= 1`, the band of
            values counted as grey (both ends excluded).

    Returns:
        Float in [0, 1], the fraction of values `v` of `x` with
        `low < v < high`.

    Raises:
        ValueError: If `x` is empty or holds NaN, or `grey` is not such a
            pair.

    Example:

    >>> import aekeras
    >>> aekeras.metrics.grey_fraction([0.0, 0.05, 0.5, 0.95, 1.0])
    0.2

    Reference:
    - [Mathieu, Couprie & LeCun, 2016](https://arxiv.org/abs/1511.05440)
    """
    low, high = validate_range_arg(grey, "grey", min_value=0, max_value=1)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.size == 0 or np.isnan(x).any():
        raise ValueError(
            "`x` must hold at least one pixel value and no NaN. "
            f"Received: x.shape={x.shape}, NaN values: {int(np.isnan(x).sum())}"
        )
    return float(np.count_nonzero((x > low) & (x < high)) / x.size)


def linear_probe(z_train, y_train, z_test, y_test, max_iter=1000, C=1.0, seed=0):
    """Test accuracy of a logistic-regression classifier trained on codes.

    A linear probe measures how linearly separable the classes are in a
    representation: the codes are standardised with the training set's mean
    and standard deviation, a multinomial logistic regression (scikit-learn,
    L-BFGS, L2 penalty) is fitted on the training codes, and its accuracy on
    the test codes is returned. Codes with more than one non-batch axis (e.g.
    convolutional feature maps) are flattened.

    Args:
        z_train: Array `(n_train, ...)`, codes of the training examples.
        y_train: Array `(n_train,)`, their class labels.
        z_test: Array `(n_test, ...)`, codes of the test examples.
        y_test: Array `(n_test,)`, their class labels.
        max_iter: Integer, the maximum number of L-BFGS iterations.
        C: Positive float, the inverse strength of the L2 penalty.
        seed: Integer, the classifier's `random_state`, for reproducibility.

    Returns:
        Float in [0, 1], the accuracy on the test codes.

    Raises:
        ValueError: If the numbers of codes and labels differ, the train and
            test codes have different sizes, or `C`/`max_iter` are not
            positive.

    Example:

    >>> import aekeras, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> z = y[:, None] + 0.1 * rng.normal(size=(200, 3))
    >>> aekeras.metrics.linear_probe(z[:100], y[:100], z[100:], y[100:])
    1.0

    Reference:
    - [Alain & Bengio, 2016](https://arxiv.org/abs/1610.01644)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    C = validate_float_arg(C, "C", min_value=0, min_inclusive=False)
    max_iter = validate_int_arg(max_iter, "max_iter", min_value=1)
    seed = validate_int_arg(seed, "seed", min_value=0, allow_none=True)
    z_train = _as_codes(z_train, y_train, "z_train", "y_train")
    z_test = _as_codes(z_test, y_test, "z_test", "y_test")
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(
            "`z_train` and `z_test` must have the same number of features. "
            f"Received: z_train.shape={np.shape(z_train)}, "
            f"z_test.shape={np.shape(z_test)}"
        )
    scaler = StandardScaler().fit(z_train)
    classifier = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    classifier.fit(scaler.transform(z_train), np.asarray(y_train).ravel())
    accuracy = classifier.score(scaler.transform(z_test), np.asarray(y_test).ravel())
    return float(accuracy)


def sparsity_statistics(h, threshold=0.01):
    """How sparse a batch of hidden activations is: four numbers.

    The statistics that `aekeras.callbacks.SparsityMonitor` records every
    epoch, for activations `h` of shape `(n_examples, ...)` (every example
    is flattened to its units):

    - `"mean_abs"`: mean |h| over examples and units (Ω(h)/λ per unit for
      the L1 penalty);
    - `"mean_activation"`: the mean activation ρ̂ over examples and units
      (the mean of the per-unit ρ̂_j of the KL penalty);
    - `"active_fraction"`: the fraction of (example, unit) pairs with
      |h| > `threshold`;
    - `"dead_fraction"`: the fraction of units with |h| <= `threshold` on
      every example (units that never fire).

    Args:
        h: Array `(n_examples, ...)`, e.g. `model.encode(x)`.
        threshold: Non-negative float, the activity threshold; the default
            0.01 suits ReLU and sigmoid units of data in [0, 1].

    Returns:
        A dict of four floats with the keys above.

    Raises:
        ValueError: If `h` has no batch axis or no example, or `threshold`
            is negative.

    Example:

    >>> import aekeras, numpy as np
    >>> h = np.array([[0.0, 0.5], [0.0, 0.0]])
    >>> aekeras.metrics.sparsity_statistics(h)
    {'mean_abs': 0.125, 'mean_activation': 0.125, 'active_fraction': 0.25, 'dead_fraction': 0.5}
    """
    threshold = validate_float_arg(threshold, "threshold", min_value=0)
    h = validate_batch_arg(h, "h", min_examples=1, dtype=np.float64)
    h = h.reshape(len(h), -1)
    active = np.abs(h) > threshold
    return {
        "mean_abs": float(np.abs(h).mean()),
        "mean_activation": float(h.mean()),
        "active_fraction": float(active.mean()),
        "dead_fraction": float((~active.any(axis=0)).mean()),
    }


def _as_codes(z, y, z_name, y_name):
    z = np.asarray(z)
    y = np.asarray(y)
    if z.ndim < 1 or z.shape[0] == 0 or y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise ValueError(
            f"`{z_name}` must have shape (n, ...) and `{y_name}` shape (n,) "
            f"with the same n >= 1. Received: {z_name}.shape={z.shape}, "
            f"{y_name}.shape={y.shape}"
        )
    return z.reshape(z.shape[0], -1).astype(np.float64)


@keras.saving.register_keras_serializable(package="aekeras")
class ReconstructionError(keras.metrics.Metric):
    """Keras metric: mean over images of the per-image sum of squared errors.

    The streaming version of `aekeras.metrics.reconstruction_error` (Hinton &
    Salakhutdinov's table metric), for `model.compile(metrics=[...])`. It
    accumulates the sum of the per-image sums of squared errors and the
    number of images over the batches, so the result over a data set does not
    depend on the batch size.

    Args:
        name: String name of the metric instance.
        dtype: Dtype of the metric's computations; defaults to
            `keras.backend.floatx()`.

    Call arguments (of `update_state`):
        y_true: Tensor `(batch, ...)`, the original images.
        y_pred: Tensor of the same shape, the reconstructions.
        sample_weight: Optional tensor `(batch,)` of per-image weights; the
            result is then the weighted mean.

    Example:

    >>> import aekeras, numpy as np
    >>> m = aekeras.metrics.ReconstructionError()
    >>> m.update_state(np.zeros((2, 4)), np.full((2, 4), 0.5))
    >>> float(m.result())
    1.0

    ```python
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[aekeras.metrics.ReconstructionError()])
    ```

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647)
    """

    def __init__(self, name="reconstruction_error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        true_shape = tuple(y_true.shape)
        pred_shape = tuple(y_pred.shape)
        if len(true_shape) != len(pred_shape) or any(
            a is not None and b is not None and a != b for a, b in zip(true_shape, pred_shape)
        ):
            raise ValueError(
                "`y_true` and `y_pred` must have the same shape. "
                f"Received: y_true.shape={true_shape}, y_pred.shape={pred_shape}"
            )
        squared = ops.square(y_true - y_pred)
        if len(true_shape) > 1:
            sse = ops.sum(squared, axis=tuple(range(1, len(true_shape))))
        else:
            sse = squared
        if sample_weight is None:
            self.total.assign_add(ops.sum(sse))
            self.count.assign_add(ops.cast(ops.shape(sse)[0], self.dtype))
        else:
            weight = ops.reshape(ops.convert_to_tensor(sample_weight, dtype=self.dtype), (-1,))
            self.total.assign_add(ops.sum(weight * sse))
            self.count.assign_add(ops.sum(weight))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def result(self):
        return ops.divide_no_nan(self.total, self.count)
