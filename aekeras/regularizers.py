"""Sparsity penalties Ω(h) on hidden activations (sparse autoencoders)."""

import keras
from keras import ops

from aekeras.validation import validate_float_arg

_EPSILON = 1e-7


class SparsityRegularizer(keras.regularizers.Regularizer):
    """Base class of the sparsity penalties: `strength * penalty(h)`.

    Subclasses implement `penalty(h)`, the unscaled penalty of a batch of
    activations `h` of shape `(batch, units)`. Keeping the strength separate
    lets `aekeras.layers.SparsityPenalty` hold it in a backend variable, so
    that a callback can change it during training.

    Once a `SparsityPenalty` layer uses the regularizer, that variable is the
    one source of truth of the strength: the `strength` property,
    `get_config()` (so a model's config and its saved `.keras` file) and the
    loss all read its current value, and assigning `strength` assigns the
    variable.

    Args:
        strength: Non-negative float, the weight of the penalty in the loss
            (λ for the L1 penalty, β for the KL penalty); 0 switches it off.
    """

    def __init__(self, strength):
        self._strength = validate_float_arg(strength, "strength", min_value=0)
        self._strength_variable = None

    @property
    def strength(self):
        """The current strength, a float (the variable's value once bound to a layer)."""
        if self._strength_variable is not None:
            return float(ops.convert_to_numpy(self._strength_variable))
        return self._strength

    @strength.setter
    def strength(self, value):
        value = validate_float_arg(value, "strength", min_value=0)
        if self._strength_variable is not None:
            self._strength_variable.assign(value)
        else:
            self._strength = value

    @property
    def strength_variable(self):
        """The backend variable holding the strength, or `None` before a layer uses it."""
        return self._strength_variable

    def bind_strength(self, variable):
        """Makes the scalar backend `variable` hold the strength from now on.

        Called by `aekeras.layers.SparsityPenalty`; the variable must already
        hold the current strength.

        Raises:
            ValueError: If the regularizer is already bound to another variable.
        """
        if self._strength_variable is not None and self._strength_variable is not variable:
            raise ValueError(
                "This regularizer's strength is already held by another layer's "
                "variable; give each `SparsityPenalty` a regularizer of its own "
                "(e.g. `type(reg).from_config(reg.get_config())`). "
                f"Received: variable={variable.path!r}"
            )
        self._strength_variable = variable

    def penalty(self, h):
        raise NotImplementedError

    def __call__(self, h):
        penalty = self.penalty(h)
        if self._strength_variable is not None:
            return ops.cast(self._strength_variable, penalty.dtype) * penalty
        return self._strength * penalty

    def get_config(self):
        return {"strength": self.strength}


@keras.saving.register_keras_serializable(package="aekeras")
class L1Sparsity(SparsityRegularizer):
    """L1 activity penalty Ω(h) = λ Σ_i |h_i|.

    Normalisation: the sum over units is taken per example and averaged over
    the examples of the batch, `λ · mean_n Σ_i |h_ni|`, so that the penalty
    is on the same per-example scale as a reconstruction loss averaged over
    the batch, and does not depend on the batch size. This is pinned by the
    tests and does not depend on the Keras version as long as the penalty is
    added through `aekeras.layers.SparsityPenalty` (which the model builders
    use). If you pass it as `activity_regularizer=` to a plain Keras layer
    instead, Keras 3.x may divide it once more by the batch size.

    Args:
        strength: Non-negative float, λ.

    Example:

    >>> import aekeras, numpy as np
    >>> reg = aekeras.regularizers.L1Sparsity(0.1)
    >>> round(float(reg(np.array([[1.0, -2.0], [0.0, 3.0]], "float32"))), 6)
    0.3

    Reference:
    - [Goodfellow et al., 2016](https://www.deeplearningbook.org/contents/autoencoders.html),
      section 14.2.1.
    """

    def penalty(self, h):
        h = ops.convert_to_tensor(h)
        flat = ops.reshape(h, (ops.shape(h)[0], -1))
        return ops.mean(ops.sum(ops.abs(flat), axis=-1))


@keras.saving.register_keras_serializable(package="aekeras")
class KLSparsity(SparsityRegularizer):
    """KL-divergence sparsity penalty β Σ_j KL(ρ ‖ ρ̂_j) for sigmoid units.

    ρ̂_j is the mean activation of unit j over the batch and ρ the target
    activation; KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1-ρ) log((1-ρ)/(1-ρ̂)) is the
    divergence between Bernoulli variables with these means.

    Normalisation: the penalty is a function of batch statistics: it is
    computed once per batch (not per example) and is not divided by the
    batch size. Activations must lie in (0, 1) (sigmoid units); ρ̂ is
    clipped to [1e-7, 1 - 1e-7] for numerical safety.

    Args:
        target: Float in (0, 1), the target mean activation ρ (e.g. 0.05).
        strength: Non-negative float, β.

    Example:

    >>> import aekeras, numpy as np
    >>> reg = aekeras.regularizers.KLSparsity(target=0.5, strength=1.0)
    >>> float(reg(np.full((4, 3), 0.5, "float32")))
    0.0

    Reference:
    - [Ng, 2011](https://web.stanford.edu/class/cs294a/sparseAutoencoder.pdf)
    """

    def __init__(self, target=0.05, strength=1.0):
        super().__init__(strength)
        self.target = validate_float_arg(
            target, "target", min_value=0, max_value=1, min_inclusive=False, max_inclusive=False
        )

    def penalty(self, h):
        h = ops.convert_to_tensor(h)
        flat = ops.reshape(h, (ops.shape(h)[0], -1))
        rho_hat = ops.clip(ops.mean(flat, axis=0), _EPSILON, 1.0 - _EPSILON)
        rho = self.target
        kl = rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
        return ops.sum(kl)

    def get_config(self):
        return {**super().get_config(), "target": self.target}


def get(identifier):
    """Returns a sparsity regularizer from an instance, a config or a name.

    Args:
        identifier: `None`, a `SparsityRegularizer`, a serialized config dict,
            or one of the names `"l1"` (λ=1e-3) and `"kl"` (ρ=0.05, β=1).

    Returns:
        A `SparsityRegularizer`, or `None`.

    Raises:
        ValueError: For anything else.
    """
    if identifier is None or isinstance(identifier, SparsityRegularizer):
        return identifier
    if isinstance(identifier, dict):
        obj = keras.saving.deserialize_keras_object(identifier)
        if isinstance(obj, SparsityRegularizer):
            return obj
    if isinstance(identifier, str):
        defaults = {"l1": lambda: L1Sparsity(1e-3), "kl": lambda: KLSparsity()}
        if identifier.lower() in defaults:
            return defaults[identifier.lower()]()
    raise ValueError(
        "Could not interpret sparsity regularizer identifier: expected an "
        "`aekeras.regularizers.L1Sparsity` or `KLSparsity` instance, its config, "
        f"'l1', 'kl' or None. Received: identifier={identifier!r}"
    )
