"""Autoencoder building blocks: tied decoder layers and the sparsity penalty layer."""

import keras
from keras import ops

from aekeras import regularizers as regularizers_lib
from aekeras.validation import validate_float_arg


class ScheduledLayer(keras.layers.Layer):
    """A layer with one scalar hyperparameter held in a backend variable.

    The value lives in a non-trainable variable `level`, read inside `call`,
    so that a callback can change it between epochs and the change takes
    effect in compiled (`jit_compile=True`) training steps on every backend.
    Subclasses create it with `add_level` and define `validate_level(value)`,
    which checks a new value and returns it as a float.
    """

    def add_level(self, value, name):
        """Creates the `level` variable, named `name`, holding `value`."""
        self.level = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(value),
            trainable=False,
            name=name,
        )

    def validate_level(self, value):
        """Returns `value` as a float, or raises a `ValueError` if it is invalid."""
        return validate_float_arg(value, "level")

    def set_level(self, value):
        """Validates `value` and assigns it to the `level` variable."""
        self.level.assign(self.validate_level(value))

    def get_level(self):
        """Returns the current value of the `level` variable as a float."""
        return float(self.level.numpy())


@keras.saving.register_keras_serializable(package="aekeras")
class SparsityPenalty(ScheduledLayer):
    """Identity layer that adds a sparsity penalty Ω(h) on its input to the loss.

    The loss term is `strength * regularizer.penalty(h)`, where the strength
    is `level`, a non-trainable backend variable initialised to
    `regularizer.strength`. The regularizer is bound to that variable, so it
    is the only place the strength lives: `regularizer.strength`, the
    layer's and the model's `get_config()` and a saved `.keras` model all
    read its current value, which `aekeras.callbacks.SparsityScheduler`
    changes during training. The penalty is added with `add_loss`, so its
    normalisation is the regularizer's own (documented there) on every
    Keras version.

    Args:
        regularizer: An `aekeras.regularizers.L1Sparsity` or `KLSparsity`
            (or its config, or `"l1"` / `"kl"`). An instance already used by
            another `SparsityPenalty` is copied, so that each layer has a
            strength of its own.
        **kwargs: Standard layer keyword arguments (`name`, ...).

    Call arguments:
        inputs: Activations `h`, shape `(batch, ...)`.
        training: Unused; the penalty is added whenever losses are collected
            (training and `evaluate`).

    Returns:
        The inputs, unchanged.

    Example:

    >>> import keras, aekeras
    >>> h = keras.Input((30,))
    >>> z = aekeras.layers.SparsityPenalty(aekeras.regularizers.L1Sparsity(1e-3))(h)
    """

    def __init__(self, regularizer, **kwargs):
        super().__init__(**kwargs)
        self.regularizer = regularizers_lib.get(regularizer)
        if self.regularizer is None:
            raise ValueError("`SparsityPenalty` needs a regularizer. Received: regularizer=None")
        if self.regularizer.strength_variable is not None:  # another layer's: a copy of it
            self.regularizer = type(self.regularizer).from_config(self.regularizer.get_config())
        self.add_level(self.regularizer.strength, "strength")
        self.regularizer.bind_strength(self.level)
        self.built = True

    def validate_level(self, value):
        return validate_float_arg(value, "strength", min_value=0)

    def call(self, inputs, training=False):
        self.add_loss(self.regularizer(inputs))  # strength (the `level` variable) * penalty
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "regularizer": keras.saving.serialize_keras_object(self.regularizer),
        }


@keras.saving.register_keras_serializable(package="aekeras")
class DenseTranspose(keras.layers.Layer):
    """Dense layer whose kernel is the transpose of another Dense layer's kernel.

    Used for tied-weight decoders: the decoder layer mirroring encoder layer
    `W` computes `activation(x @ W.T + b)` with its own bias `b` and no kernel
    of its own, halving the number of weights.

    Args:
        tied_to: The `keras.layers.Dense` layer whose kernel is shared. It must
            be built before this layer is called.
        activation: Activation function name or callable.
        use_bias: Whether to add a bias of its own.
        **kwargs: Standard layer keyword arguments.

    Call arguments:
        inputs: Tensor of shape `(batch, tied_to.units)`.

    Returns:
        Tensor of shape `(batch, tied_to's input dim)`.

    Note: the reference to `tied_to` is not serialised; the model that owns
    both layers (e.g. `aekeras.models.DenseAutoencoder`) recreates the link
    when it is rebuilt from its config.
    """

    def __init__(self, tied_to, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(tied_to, keras.layers.Dense):
            raise ValueError(
                f"`tied_to` must be a keras.layers.Dense layer. Received: tied_to={tied_to!r}"
            )
        # Held outside Keras' attribute tracking: the kernel belongs to (and
        # is saved with) `tied_to`, not to this layer.
        object.__setattr__(self, "_tied_to", tied_to)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    @property
    def tied_to(self):
        return self._tied_to

    def build(self, input_shape):
        if not self._tied_to.built:
            raise ValueError(
                f"The tied layer '{self._tied_to.name}' must be built before "
                f"'{self.name}'. Received: tied_to.built=False"
            )
        in_units, out_units = self._tied_to.kernel.shape
        if input_shape[-1] is not None and input_shape[-1] != out_units:
            raise ValueError(
                f"'{self.name}' expects inputs with {out_units} features, the "
                f"units of '{self._tied_to.name}'. Received: input_shape={input_shape}"
            )
        if self.use_bias:
            self.bias = self.add_weight(shape=(in_units,), initializer="zeros", name="bias")

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.transpose(self._tied_to.kernel))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self._tied_to.kernel.shape[0])

    def get_config(self):
        return {
            **super().get_config(),
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    @classmethod
    def from_config(cls, config):
        raise ValueError(
            "A DenseTranspose layer cannot be rebuilt on its own: the layer "
            "it is tied to is not part of its config. Save and load the model "
            "that owns both layers (e.g. aekeras.models.DenseAutoencoder). "
            f"Received: config={config}"
        )
