"""Sparse coding: each input's code found by optimisation (ISTA, FISTA), with no encoder."""

import numpy as np

from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_finite_array
from aekeras.validation import validate_float_arg
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_string_arg

LOSSES = ("mean_squared_error", "binary_crossentropy")


def soft_threshold(v, threshold, nonnegative=False):
    """The proximal operator of `threshold * ||h||_1`: shrinks every entry towards 0.

    `sign(v) * max(|v| - threshold, 0)`; with `nonnegative=True`, the proximal
    operator of the L1 norm restricted to `h >= 0`: `max(v - threshold, 0)`.

    Args:
        v: Array-like.
        threshold: Non-negative float.
        nonnegative: Whether the codes are constrained to be `>= 0` (ReLU codes).

    Returns:
        A NumPy array of the shape of `v`.

    Raises:
        ValueError: If `threshold` is negative or not a finite number.

    Example:

    >>> import aekeras
    >>> aekeras.sparse_coding.soft_threshold([-2.0, 0.5, 3.0], 1.0).tolist()
    [-1.0, 0.0, 2.0]
    """
    threshold = validate_float_arg(threshold, "threshold", min_value=0)
    v = np.asarray(v)
    if nonnegative:
        return np.maximum(v - threshold, 0)
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0)


def _check(x, dictionary, codes, bias, loss):
    dictionary = validate_finite_array(np.asarray(dictionary), "dictionary")
    if dictionary.ndim != 2:
        raise ValueError(
            "`dictionary` must be a matrix of shape (n_features, n_atoms), one atom per "
            f"column (the encoder kernel of a tied autoencoder). Received: "
            f"dictionary.shape={dictionary.shape}"
        )
    dtype = np.result_type(dictionary.dtype, np.float32)
    x = validate_finite_array(validate_batch_arg(x, "x", dtype=dtype), "x")
    x = x.reshape(len(x), -1)
    if x.shape[1] != dictionary.shape[0]:
        raise ValueError(
            f"`x` must have as many features as the dictionary has rows ({dictionary.shape[0]}). "
            f"Received: x with {x.shape[1]} features"
        )
    if codes is not None:
        codes = validate_batch_arg(codes, "codes", (dictionary.shape[1],), dtype=dtype)
        if len(codes) != len(x):
            raise ValueError(
                f"`codes` must hold one code per example of `x` ({len(x)}). "
                f"Received: codes.shape={codes.shape}"
            )
    bias = np.zeros(dictionary.shape[0], dtype) if bias is None else np.asarray(bias, dtype)
    if bias.shape != (dictionary.shape[0],):
        raise ValueError(
            f"`bias` must have shape ({dictionary.shape[0]},), one value per feature. "
            f"Received: bias.shape={bias.shape}"
        )
    validate_string_arg(loss, "loss", LOSSES)
    return x, dictionary.astype(dtype), codes, bias


def _loss_and_residual(x, z, loss):
    # Per-example loss averaged over the features, and d(loss)/dz times n_features.
    if loss == "mean_squared_error":
        residual = z - x
        return np.mean(residual**2, axis=1), 2 * residual
    # Binary cross-entropy of sigmoid(z) against x, written stably: softplus(z) - x z.
    return np.mean(np.logaddexp(0, z) - x * z, axis=1), 1 / (1 + np.exp(-z)) - x


def objective(x, codes, dictionary, strength, bias=None, loss="mean_squared_error"):
    """The sparse-coding objective of each example, the per-example loss of an L1-sparse autoencoder.

    E(h) = loss(x, a(D h + c)) + λ ||h||_1, with the loss averaged over the
    features as Keras does: `"mean_squared_error"` (a = identity) or
    `"binary_crossentropy"` (a = sigmoid, the decoder of the lectures).

    Args:
        x: Array `(n, ...)` of inputs; each example is flattened.
        codes: Array `(n, n_atoms)`, one code h per example.
        dictionary: Array `(n_features, n_atoms)`, D, one atom per column.
        strength: Non-negative float, λ.
        bias: Optional array `(n_features,)`, the decoder's bias c.
        loss: `"mean_squared_error"` or `"binary_crossentropy"`.

    Returns:
        A NumPy array `(n,)`, the objective of each example.

    Raises:
        ValueError: If the shapes do not match, an array holds NaN or
            infinity, `strength` is negative or `loss` is unknown.

    Example:

    >>> import aekeras, numpy as np
    >>> D = np.eye(2)
    >>> aekeras.sparse_coding.objective([[1.0, 0.0]], [[0.5, 0.0]], D, 0.1).tolist()
    [0.175]
    """
    strength = validate_float_arg(strength, "strength", min_value=0)
    x, dictionary, codes, bias = _check(x, dictionary, codes, bias, loss)
    value, _ = _loss_and_residual(x, codes @ dictionary.T + bias, loss)
    return value + strength * np.abs(codes).sum(axis=1)


def ista(
    x,
    dictionary,
    strength,
    bias=None,
    loss="mean_squared_error",
    steps=100,
    initial_codes=None,
    nonnegative=False,
    accelerated=False,
    return_objectives=False,
):
    """Finds each example's sparse code by proximal gradient descent (ISTA or FISTA).

    Minimises `objective(x, h, dictionary, strength, bias, loss)` over the
    codes h, each example on its own (sparse coding: there is no encoder).
    One ISTA step is a gradient step on the loss followed by the soft
    threshold:

        h <- soft_threshold(h - (1/L) D^T r(h), λ/L),

    where r(h) is the gradient of the loss with respect to `D h + c`: for the
    mean squared error `2 (D h + c - x) / n_features`, and for the binary
    cross-entropy of a sigmoid output `(sigmoid(D h + c) - x) / n_features`.
    L bounds the curvature of the loss, `2 ||D||_2^2 / n_features` and
    `||D||_2^2 / (4 n_features)` respectively, so the step 1/L never
    increases the objective (ISTA is a descent method). FISTA
    (`accelerated=True`) adds Nesterov momentum: much faster, but its
    objective may rise on some steps.

    Args:
        x: Array `(n, ...)` of inputs; each example is flattened.
        dictionary: Array `(n_features, n_atoms)`, D, one atom per column.
            For an autoencoder with tied weights, the encoder's kernel.
        strength: Non-negative float, λ.
        bias: Optional array `(n_features,)`, the decoder's bias c.
        loss: `"mean_squared_error"` (linear decoder) or `"binary_crossentropy"`
            (sigmoid decoder), averaged over the features as in Keras.
        steps: Integer >= 0, the number of iterations.
        initial_codes: Optional array `(n, n_atoms)` to start from (e.g. an
            encoder's codes); zeros by default.
        nonnegative: Whether to constrain the codes to `h >= 0`, like the
            codes of ReLU units.
        accelerated: `False` for ISTA, `True` for FISTA.
        return_objectives: Whether to also return the objective of every
            example after each step.

    Returns:
        The codes, an array `(n, n_atoms)`; with `return_objectives=True`, the
        pair `(codes, objectives)`, where `objectives[t]` holds each example's
        objective after `t` steps, shape `(steps + 1, n)`.

    Raises:
        ValueError: If the shapes do not match, an array holds NaN or
            infinity, or an argument is out of range.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.array([[1.0, 0.1]])  # orthonormal D: h* = soft_threshold(x, λ n_features / 2)
    >>> aekeras.sparse_coding.ista(x, np.eye(2), 0.2, steps=50).round(6).tolist()
    [[0.8, 0.0]]

    Reference:
    - [Olshausen & Field, 1996](https://doi.org/10.1038/381607a0) (sparse coding)
    - [Daubechies et al., 2004](https://doi.org/10.1002/cpa.20042) (ISTA)
    - [Beck & Teboulle, 2009](https://doi.org/10.1137/080716542) (FISTA)
    """
    strength = validate_float_arg(strength, "strength", min_value=0)
    steps = validate_int_arg(steps, "steps", min_value=0)
    x, dictionary, codes, bias = _check(x, dictionary, initial_codes, bias, loss)
    n_features = dictionary.shape[0]
    curvature = 2.0 if loss == "mean_squared_error" else 0.25
    lipschitz = curvature * np.linalg.norm(dictionary, 2) ** 2 / n_features
    if lipschitz == 0:
        raise ValueError(f"`dictionary` must not be all zeros. Received: {dictionary!r}")
    if codes is None:
        codes = np.zeros((len(x), dictionary.shape[1]), dictionary.dtype)
    codes = soft_threshold(codes, 0.0, nonnegative) if nonnegative else codes.copy()
    point, momentum = codes, 1.0
    objectives = []
    for _ in range(steps):
        value, residual = _loss_and_residual(x, point @ dictionary.T + bias, loss)
        if return_objectives and not accelerated:
            objectives.append(value + strength * np.abs(point).sum(axis=1))
        gradient = (residual / n_features) @ dictionary
        new = soft_threshold(point - gradient / lipschitz, strength / lipschitz, nonnegative)
        if accelerated:
            next_momentum = (1 + np.sqrt(1 + 4 * momentum**2)) / 2
            point = new + (momentum - 1) / next_momentum * (new - codes)
            momentum = next_momentum
            if return_objectives:
                objectives.append(objective(x, codes, dictionary, strength, bias, loss))
        else:
            point = new
        codes = new.astype(dictionary.dtype)
        point = point.astype(dictionary.dtype)
    if not return_objectives:
        return codes
    objectives.append(objective(x, codes, dictionary, strength, bias, loss))
    return codes, np.stack(objectives)
