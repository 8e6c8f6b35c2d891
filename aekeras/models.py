"""Autoencoder models: deep dense and convolutional, with encoder and decoder access."""

import math

import keras
import numpy as np

from aekeras import corruption as corruption_lib
from aekeras import regularizers as regularizers_lib
from aekeras.layers import DenseTranspose
from aekeras.layers import SparsityPenalty
from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_finite_array
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_int_sequence_arg
from aekeras.validation import validate_range_arg

_OUTPUT_RANGES = {"sigmoid": (0.0, 1.0)}


@keras.saving.register_keras_serializable(package="aekeras")
class Autoencoder(keras.Model):
    """An encoder f, a decoder g and an optional corruption q: x ↦ g(f(x̃)).

    The model is trained to reconstruct its (clean) input,
    L(η, θ) = 1/N Σ_n L(x_n, D_θ(E_η(x̃_n))), where x̃ = x unless a corruption
    layer is given (denoising autoencoder); the corruption is active only in
    training. `fit(x)` uses `x` as its own target.

    Args:
        encoder: A `keras.Model` mapping inputs to codes, E_η.
        decoder: A `keras.Model` mapping codes to reconstructions, D_θ.
        corruption: Optional corruption layer from `aekeras.corruption`.
        output_range: Optional `(low, high)` the decoder's outputs are confined
            to (e.g. `(0, 1)` for a sigmoid output); `fit` then rejects data
            outside it.
        **kwargs: Standard model keyword arguments (`name`, ...).

    Call arguments:
        inputs: A batch of inputs, shape `(batch, *encoder.input.shape[1:])`.
        training: Python bool; corruption (and dropout) only when `True`.

    Returns:
        Reconstructions of the same shape as the inputs.

    Example:

    >>> import aekeras, keras
    >>> enc = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    >>> dec = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8)])
    >>> ae = aekeras.models.Autoencoder(enc, dec)
    >>> ae.code_dim
    2
    """

    def __init__(self, encoder, decoder, corruption=None, output_range=None, **kwargs):
        super().__init__(**kwargs)
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, keras.Model):
                raise ValueError(f"`{name}` must be a keras.Model. Received: {name}={part!r}")
        code_shape = tuple(encoder.output_shape[1:])
        decoder_in = tuple(decoder.input_shape[1:])
        if code_shape != decoder_in:
            raise ValueError(
                "The decoder must accept the encoder's codes: encoder output "
                f"shape {code_shape} != decoder input shape {decoder_in}. "
                f"Received: decoder.input_shape={decoder.input_shape}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.corruption = corruption_lib.get(corruption)
        self.output_range = validate_range_arg(output_range, "output_range", allow_none=True)
        self.build((None, *self.input_shape_))

    @property
    def input_shape_(self):
        """Shape of one input example (without the batch axis)."""
        return tuple(self.encoder.input_shape[1:])

    @property
    def code_dim(self):
        """Number of code units (size of the flattened code)."""
        return math.prod(self.encoder.output_shape[1:])

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False):
        x = inputs
        if self.corruption is not None:
            x = self.corruption(x, training=training)
        return self.decoder(self.encoder(x, training=training), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    # ------------------------------------------------------------------ data
    def check_inputs(self, x, name="x"):
        """Raises a ValueError if `x` does not fit the model's input shape or range.

        The data must have the model's input shape, hold no NaN or infinity
        and, for a model with an `output_range` (a sigmoid output), lie in
        that range.

        Args:
            x: A NumPy-convertible array of inputs.
            name: The argument name used in the error message.

        Returns:
            `x` as a float32 NumPy array.

        Raises:
            ValueError: If `x` has the wrong shape, holds NaN or infinite
                values (the message gives their numbers and examples), or
                lies outside `output_range`.
        """
        x = validate_batch_arg(x, name, self.input_shape_, dtype="float32")
        validate_finite_array(x, name)
        if self.output_range is not None and x.size:
            lo, hi = self.output_range
            x_min, x_max = float(x.min()), float(x.max())
            if x_min < lo or x_max > hi:
                raise ValueError(
                    f"The model's sigmoid output can only reconstruct values in "
                    f"[{lo}, {hi}]; scale the data to that range or build the "
                    "model with output_activation=None for standardised data. "
                    f"Received: {name} with min={x_min:.4g}, max={x_max:.4g}"
                )
        return x

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        """Trains the autoencoder; `y` defaults to `x` (reconstruct the input).

        NumPy inputs are checked against the model's input shape and, for a
        sigmoid output, the data range [0, 1]. `validation_data` may be a
        single array, used as its own target. Other arguments are those of
        `keras.Model.fit`.

        Every epoch sees the examples in a new order (`shuffle=True`, the
        default), on every backend. On TensorFlow, Keras' own shuffling of
        NumPy arrays repeats the first epoch's order in every later epoch
        once a global seed is set (`keras.utils.set_random_seed`, as
        `aekeras.notebook.setup` does; tensorflow/tensorflow#35682), so
        there NumPy inputs are fed through a `tf.data` pipeline that draws a
        new permutation each epoch; the orders are reproducible under the
        seed.
        """
        if isinstance(x, (np.ndarray, list)):
            x = self.check_inputs(x)
            y = x if y is None else self.check_inputs(y, "y")
        if isinstance(validation_data, (np.ndarray, list)):
            x_val = self.check_inputs(validation_data, "validation_data")
            validation_data = (x_val, x_val)
        if _reshuffle_needed(x, kwargs):
            x, y, kwargs = _reshuffled_dataset(x, y, kwargs)
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """Evaluates the reconstruction loss and metrics; `y` defaults to `x`."""
        if isinstance(x, (np.ndarray, list)):
            x = self.check_inputs(x)
            y = x if y is None else self.check_inputs(y, "y")
        return super().evaluate(x, y, **kwargs)

    def encode(self, x, batch_size=256):
        """Returns the codes z = f(x) of `x` as a NumPy array."""
        x = self.check_inputs(x)
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)

    def decode(self, z, batch_size=256):
        """Returns the reconstructions g(z) of codes `z` as a NumPy array."""
        z = validate_batch_arg(z, "z", self.decoder.input_shape[1:], dtype="float32")
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    def reconstruct(self, x, batch_size=256):
        """Returns g(f(x)) for clean inputs `x` (no corruption) as a NumPy array."""
        return self.predict(self.check_inputs(x), batch_size=batch_size, verbose=0)

    # ---------------------------------------------------------- layers found
    @property
    def sparsity_layers(self):
        """The `aekeras.layers.SparsityPenalty` layers of the model, at any depth."""
        return [layer for layer in _all_layers(self) if isinstance(layer, SparsityPenalty)]

    @property
    def corruption_layers(self):
        """The corruption layers (`aekeras.corruption`) of the model, at any depth."""
        return [
            layer for layer in _all_layers(self) if isinstance(layer, corruption_lib.Corruption)
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "corruption": keras.saving.serialize_keras_object(self.corruption),
            "output_range": None if self.output_range is None else list(self.output_range),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "corruption"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _reshuffle_needed(x, fit_kwargs):
    """Whether `fit` must shuffle NumPy `x` itself (TensorFlow; see `Autoencoder.fit`).

    Only for the plain case: `shuffle=True`, no `validation_split` (which
    needs arrays) and no `steps_per_epoch` (which lets epochs span the data).
    """
    return (
        keras.backend.backend() == "tensorflow"
        and isinstance(x, np.ndarray)
        and fit_kwargs.get("shuffle", True) is True
        and not fit_kwargs.get("validation_split")
        and fit_kwargs.get("steps_per_epoch") is None
    )


def _reshuffled_dataset(x, y, fit_kwargs):
    """`fit`'s (x, y, kwargs) with the arrays as a `tf.data.Dataset` reshuffled every epoch.

    A shuffled, batched range of indices gathers each batch from the arrays
    (`x`, `y` and `sample_weight`), as Keras' own array adapter
    does; `Dataset.shuffle(reshuffle_each_iteration=True)` gives each epoch
    (each new iterator) a new order. Its seed comes from Python's `random`,
    which `keras.utils.set_random_seed` seeds.
    """
    import random

    import tensorflow as tf

    kwargs = dict(fit_kwargs)
    batch_size = kwargs.pop("batch_size", None) or 32
    arrays = [x, y]
    if kwargs.get("sample_weight") is not None:
        arrays.append(np.asarray(kwargs.pop("sample_weight"), dtype="float32"))
    n = len(x)
    order = (
        tf.data.Dataset.range(n)
        .shuffle(max(n, 1), seed=random.randrange(2**31), reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    data = tf.data.Dataset.from_tensors(tuple(arrays)).repeat()

    @tf.autograph.experimental.do_not_convert
    def gather(indices, tensors):
        return tuple(tf.gather(t, indices) for t in tensors)

    dataset = tf.data.Dataset.zip((order, data)).map(gather).prefetch(tf.data.AUTOTUNE)
    kwargs["shuffle"] = False
    return dataset, None, kwargs


def _all_layers(model):
    """The layers of `model` and, recursively, of the models among them."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _as_shape(input_shape):
    """An input shape from a positive int or a sequence of positive ints."""
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    return validate_int_sequence_arg(input_shape, "input_shape", allow_empty=False)


def _sparsity_position(sparsity_layer, n_hidden):
    """Index of the layer (0..n_hidden-1 hidden, n_hidden = code) penalised."""
    if sparsity_layer == "code":
        return n_hidden
    if n_hidden == 0:  # no hidden layer to choose
        raise ValueError(
            "`sparsity_layer` must be 'code' for an autoencoder without hidden "
            f"layers. Received: sparsity_layer={sparsity_layer!r}"
        )
    return validate_int_arg(sparsity_layer, "sparsity_layer", min_value=0, max_value=n_hidden - 1)


class _BuiltAutoencoder(Autoencoder):
    """An autoencoder made by a builder: its config is the builder's arguments.

    Rebuilding from these arguments recreates links that a layer config
    cannot hold (tied weights), and keeps saved configs short and readable.
    """

    def __init__(self, encoder, decoder, corruption, output_activation, builder_config, **kwargs):
        output_activation = _serialize_activation(output_activation)
        super().__init__(
            encoder,
            decoder,
            corruption=corruption,
            output_range=_OUTPUT_RANGES.get(output_activation),
            **kwargs,
        )
        self._builder_config = {**builder_config, "output_activation": output_activation}

    def get_config(self):
        config = super().get_config()
        for key in ("encoder", "decoder", "output_range"):  # rebuilt from the builder's arguments
            del config[key]
        builder_config = dict(self._builder_config)
        if builder_config.get("sparsity") is not None:
            # The penalty layer's regularizer: its strength is the current (scheduled) one.
            builder_config["sparsity"] = keras.saving.serialize_keras_object(
                builder_config["sparsity"]
            )
        return {**config, **builder_config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("corruption"), dict):
            config["corruption"] = keras.saving.deserialize_keras_object(config["corruption"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="aekeras")
class DenseAutoencoder(_BuiltAutoencoder):
    """Deep fully connected autoencoder, e.g. 784-1000-500-250-30.

    The encoder maps the (flattened) input through `hidden_units` to a code of
    `code_dim` units; the decoder mirrors it. Vanilla, sparse and denoising
    autoencoders are one argument apart: `sparsity=` adds Ω(h) on the code
    (or a hidden layer), `corruption=` corrupts the input in training.

    Args:
        input_shape: Shape of one example, e.g. `784` or `(28, 28, 1)`; inputs
            of several axes are flattened and reconstructions reshaped back.
        hidden_units: Widths of the encoder's hidden layers, e.g.
            `(1000, 500, 250)`. May be empty (a shallow autoencoder).
        code_dim: Number of code units, e.g. 30.
        activation: Activation of the hidden layers.
        code_activation: Activation of the code layer; `None` (linear, the
            default, as in Hinton & Salakhutdinov 2006) or e.g. `"sigmoid"`
            for the KL sparsity penalty.
        output_activation: `"sigmoid"` for data in [0, 1] (pair with binary
            cross-entropy) or `None` (linear) for standardised data.
        tied_weights: If `True`, each decoder layer uses the transposed kernel
            of its mirror encoder layer (`aekeras.layers.DenseTranspose`).
        sparsity: Optional sparsity penalty (`aekeras.regularizers.L1Sparsity`
            or `KLSparsity`), added by a `SparsityPenalty` layer.
        sparsity_layer: `"code"` or the index of the hidden layer penalised.
        corruption: Optional corruption layer (`aekeras.corruption`) applied to
            the input in training: a denoising autoencoder.
        kernel_initializer: Initializer of the kernels.
        **kwargs: Standard model keyword arguments (`name`, ...).

    Example:

    >>> import aekeras
    >>> ae = aekeras.models.DenseAutoencoder((28, 28, 1), [64], code_dim=8,
    ...     sparsity=aekeras.regularizers.L1Sparsity(1e-3),
    ...     corruption=aekeras.corruption.MaskingNoise(0.25, seed=0))
    >>> ae.compile(optimizer="adam", loss="binary_crossentropy")
    >>> ae.encoder.output.shape
    (None, 8)

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647)
    """

    def __init__(
        self,
        input_shape,
        hidden_units=(1000, 500, 250),
        code_dim=30,
        activation="relu",
        code_activation=None,
        output_activation="sigmoid",
        tied_weights=False,
        sparsity=None,
        sparsity_layer="code",
        corruption=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        input_shape = _as_shape(input_shape)
        hidden_units = validate_int_sequence_arg(hidden_units, "hidden_units")
        code_dim = validate_int_arg(code_dim, "code_dim", min_value=1)
        kernel_initializer = keras.initializers.get(kernel_initializer)
        sparsity = regularizers_lib.get(sparsity)
        position = _sparsity_position(sparsity_layer, len(hidden_units))
        n_inputs = math.prod(input_shape)

        inputs = keras.Input(input_shape, name="x")
        h = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
        widths = [*hidden_units, code_dim]
        encoder_layers = []
        for i, units in enumerate(widths):
            is_code = i == len(hidden_units)
            layer = keras.layers.Dense(
                units,
                activation=code_activation if is_code else activation,
                kernel_initializer=kernel_initializer,
                name="code" if is_code else f"encoder_{i}",
            )
            encoder_layers.append(layer)
            h = layer(h)
            if sparsity is not None and i == position:
                penalty = SparsityPenalty(sparsity, name="sparsity")
                sparsity = penalty.regularizer  # bound to the layer's strength variable
                h = penalty(h)
        encoder = keras.Model(inputs, h, name="encoder")

        codes = keras.Input((code_dim,), name="z")
        h = codes
        out_widths = [*reversed(hidden_units), n_inputs]
        for i, units in enumerate(out_widths):
            is_output = i == len(out_widths) - 1
            act = output_activation if is_output else activation
            name = "reconstruction" if is_output else f"decoder_{i}"
            if tied_weights:
                h = DenseTranspose(encoder_layers[-1 - i], activation=act, name=name)(h)
            else:
                h = keras.layers.Dense(
                    units, activation=act, kernel_initializer=kernel_initializer, name=name
                )(h)
        if len(input_shape) > 1:
            h = keras.layers.Reshape(input_shape, name="unflatten")(h)
        decoder = keras.Model(codes, h, name="decoder")

        builder_config = {
            "input_shape": list(input_shape),
            "hidden_units": list(hidden_units),
            "code_dim": code_dim,
            "activation": _serialize_activation(activation),
            "code_activation": _serialize_activation(code_activation),
            "tied_weights": bool(tied_weights),
            "sparsity": sparsity,  # serialised by get_config, with its current strength
            "sparsity_layer": sparsity_layer,
            "kernel_initializer": keras.initializers.serialize(kernel_initializer),
        }
        super().__init__(encoder, decoder, corruption, output_activation, builder_config, **kwargs)

    @property
    def layer_sizes(self):
        """The architecture in the paper's notation, e.g. '784-1000-500-250-30'."""
        cfg = self._builder_config
        return "-".join(
            str(n) for n in [math.prod(cfg["input_shape"]), *cfg["hidden_units"], cfg["code_dim"]]
        )


@keras.saving.register_keras_serializable(package="aekeras")
class ConvAutoencoder(_BuiltAutoencoder):
    """Convolutional autoencoder for images of shape (height, width, channels).

    The encoder is a stack of strided `Conv2D` layers (each halves the
    resolution), optionally followed by a dense code of `code_dim` units;
    the decoder mirrors it with `Conv2DTranspose` layers and ends in a
    `Conv2D` with the output activation.

    Args:
        input_shape: Image shape `(height, width, channels)`; height and width
            must be divisible by `2 ** len(filters)`.
        filters: Filters of the encoder's convolutions, e.g. `(32, 64)`.
        kernel_size: Convolution kernel size.
        code_dim: `None` for a convolutional code (feature maps), or the
            number of units of a dense code.
        activation: Activation of the hidden layers.
        code_activation: Activation of the dense code (if `code_dim`).
        output_activation: `"sigmoid"` for images in [0, 1] or `None`.
        sparsity: Optional sparsity penalty on the code.
        corruption: Optional corruption layer applied in training.
        **kwargs: Standard model keyword arguments.

    Example:

    >>> import aekeras
    >>> ae = aekeras.models.ConvAutoencoder((28, 28, 1), filters=(16, 32), code_dim=16)
    >>> ae.decoder.output.shape
    (None, 28, 28, 1)
    """

    def __init__(
        self,
        input_shape,
        filters=(32, 64),
        kernel_size=3,
        code_dim=None,
        activation="relu",
        code_activation=None,
        output_activation="sigmoid",
        sparsity=None,
        corruption=None,
        **kwargs,
    ):
        input_shape = _as_shape(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be (height, width, channels) for a "
                f"convolutional autoencoder. Received: input_shape={input_shape}"
            )
        filters = validate_int_sequence_arg(filters, "filters", allow_empty=False)
        kernel_size = validate_int_arg(kernel_size, "kernel_size", min_value=1)
        code_dim = validate_int_arg(code_dim, "code_dim", min_value=1, allow_none=True)
        factor = 2 ** len(filters)
        height, width, channels = input_shape
        if height % factor or width % factor:
            raise ValueError(
                f"With {len(filters)} strided convolutions, height and width must "
                f"be divisible by {factor}. Received: input_shape={input_shape}"
            )
        sparsity = regularizers_lib.get(sparsity)

        inputs = keras.Input(input_shape, name="x")
        h = inputs
        for i, f in enumerate(filters):
            h = keras.layers.Conv2D(
                f,
                kernel_size,
                strides=2,
                padding="same",
                activation=activation,
                name=f"encoder_conv_{i}",
            )(h)
        feature_shape = tuple(h.shape[1:])
        if code_dim is not None:
            h = keras.layers.Flatten(name="flatten")(h)
            h = keras.layers.Dense(code_dim, activation=code_activation, name="code")(h)
        if sparsity is not None:
            penalty = SparsityPenalty(sparsity, name="sparsity")
            sparsity = penalty.regularizer  # bound to the layer's strength variable
            h = penalty(h)
        encoder = keras.Model(inputs, h, name="encoder")

        codes = keras.Input(tuple(encoder.output.shape[1:]), name="z")
        h = codes
        if code_dim is not None:
            h = keras.layers.Dense(
                math.prod(feature_shape), activation=activation, name="decoder_dense"
            )(h)
            h = keras.layers.Reshape(feature_shape, name="unflatten")(h)
        for i, f in enumerate(reversed(filters)):
            h = keras.layers.Conv2DTranspose(
                f,
                kernel_size,
                strides=2,
                padding="same",
                activation=activation,
                name=f"decoder_deconv_{i}",
            )(h)
        h = keras.layers.Conv2D(
            channels,
            kernel_size,
            padding="same",
            activation=output_activation,
            name="reconstruction",
        )(h)
        decoder = keras.Model(codes, h, name="decoder")

        builder_config = {
            "input_shape": list(input_shape),
            "filters": list(filters),
            "kernel_size": kernel_size,
            "code_dim": code_dim,
            "activation": _serialize_activation(activation),
            "code_activation": _serialize_activation(code_activation),
            "sparsity": sparsity,  # serialised by get_config, with its current strength
        }
        super().__init__(encoder, decoder, corruption, output_activation, builder_config, **kwargs)


def deep_autoencoder(layer_sizes, input_shape=None, **kwargs):
    """Builds a `DenseAutoencoder` from the paper's notation, e.g. "784-1000-500-250-30".

    Args:
        layer_sizes: A string "784-1000-500-250-30" or a sequence of ints: the
            input size, the hidden widths and the code size.
        input_shape: Optional shape of one example (e.g. `(28, 28, 1)`) whose
            size must equal the first number; defaults to `(layer_sizes[0],)`.
        **kwargs: Other arguments of `DenseAutoencoder` (activations,
            `tied_weights`, `sparsity`, `corruption`, ...).

    Returns:
        A `DenseAutoencoder`.

    Example:

    >>> import aekeras
    >>> ae = aekeras.models.deep_autoencoder("784-1000-500-250-30", input_shape=(28, 28, 1))
    >>> ae.layer_sizes
    '784-1000-500-250-30'
    """
    sizes = layer_sizes
    if isinstance(layer_sizes, str):
        try:
            sizes = [int(s) for s in layer_sizes.split("-")]
        except ValueError:
            sizes = None
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(
            "`layer_sizes` must list at least the input and code sizes, e.g. "
            f"'784-1000-500-250-30'. Received: layer_sizes={layer_sizes!r}"
        )
    sizes = validate_int_sequence_arg(sizes, "layer_sizes")
    if input_shape is None:
        input_shape = (sizes[0],)
    input_shape = _as_shape(input_shape)
    if math.prod(input_shape) != sizes[0]:
        raise ValueError(
            f"`input_shape` has {math.prod(input_shape)} values but layer_sizes "
            f"starts with {sizes[0]}. Received: input_shape={input_shape}"
        )
    return DenseAutoencoder(input_shape, hidden_units=sizes[1:-1], code_dim=sizes[-1], **kwargs)


def _serialize_activation(activation):
    """An activation's config as Keras layers save it ("relu", "linear" for None, ...)."""
    return keras.activations.serialize(keras.activations.get(activation))
