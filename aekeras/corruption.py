"""Corruption (noise) layers for denoising autoencoders, after Vincent et al. (2010)."""

import keras
from keras import ops

from aekeras.layers import ScheduledLayer
from aekeras.validation import validate_float_arg
from aekeras.validation import validate_range_arg
from aekeras.validation import validate_rate_arg
from aekeras.validation import validate_string_arg


def draw_noise(distribution, shape, dtype, seed):
    """Draws standard normal or uniform [0, 1) noise, fast under XLA on every backend.

    The same as `keras.random.normal(shape, dtype=dtype, seed=seed)` or
    `keras.random.uniform(...)`, and on the JAX and PyTorch backends exactly
    that call. On the TensorFlow backend it takes the one TensorFlow-specific
    path of the library: Keras calls TensorFlow's stateless samplers with the
    "auto_select" algorithm, whose XLA version (`jit_compile=True`) draws
    normal samples about 20 times slower on CPU than the Philox algorithm
    (65 ms against 3.4 ms for a 256x784 batch on a 2-core CPU), which made a
    denoising autoencoder train about three times slower than a plain one.
    Here the Philox algorithm is named explicitly; outside XLA, where
    "auto_select" is Philox too, the samples equal Keras' (a test checks it).
    `python -m aekeras_tools.throughput` measures both.

    Args:
        distribution: `"normal"` or `"uniform"`.
        shape: Shape of the sample.
        dtype: Float dtype of the sample.
        seed: A `keras.random.SeedGenerator`, advanced by the draw.

    Returns:
        A tensor of shape `shape`.
    """
    validate_string_arg(distribution, "distribution", ("normal", "uniform"))
    if keras.backend.backend() == "tensorflow":
        return _tensorflow_philox(distribution, shape, dtype, seed)
    sample = keras.random.normal if distribution == "normal" else keras.random.uniform
    return sample(shape, dtype=dtype, seed=seed)


def _tensorflow_philox(distribution, shape, dtype, seed):
    import tensorflow as tf

    # Keras' seed handling on TensorFlow (`keras.random.normal` with a
    # SeedGenerator): the generator's int64 state, reduced to an int32 seed.
    seed = tf.cast(tf.math.floormod(seed.next(), tf.int32.max - 1), "int32")
    if distribution == "normal":
        return tf.random.stateless_normal(shape, seed=seed, dtype=dtype, alg="philox")
    return tf.random.stateless_uniform(shape, seed=seed, dtype=dtype, alg="philox")


class Corruption(ScheduledLayer):
    """Base class of the corruption layers: x ↦ x̃ ~ q(x̃ | x).

    Like `keras.layers.Dropout`, a corruption layer is active only in training
    (`training=True`) and returns its input unchanged at inference. To corrupt
    data at inference on purpose, e.g. to build a noisy test set, call
    `layer.corrupt(x, seed=...)`.

    The noise level (standard deviation or rate) lives in the non-trainable
    variable `level`, so `aekeras.callbacks.NoiseScheduler` can change it
    during training.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _noise(self, inputs, seed):
        raise NotImplementedError

    def call(self, inputs, training=False):
        if training:
            return self._noise(inputs, self.seed_generator)
        return inputs

    def corrupt(self, x, seed=None):
        """Applies the corruption outside training, e.g. to make a noisy test set.

        Args:
            x: Array of inputs.
            seed: Optional int; with the same seed the result is the same.
                Without it, the layer's own seed generator is used (and
                advanced).

        Returns:
            A NumPy array x̃ of the same shape and dtype as `x`.
        """
        tensor = ops.convert_to_tensor(x, dtype=self.compute_dtype)
        generator = self.seed_generator if seed is None else keras.random.SeedGenerator(seed)
        return ops.convert_to_numpy(self._noise(tensor, generator)).astype(
            ops.convert_to_numpy(tensor).dtype
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="aekeras")
class AdditiveGaussianNoise(Corruption):
    """Additive isotropic Gaussian noise x̃ = x + ε, ε ~ N(0, σ²I).

    Args:
        stddev: Non-negative float σ, the initial noise standard deviation.
        clip: Optional `(low, high)` to clip x̃ to the data range, e.g.
            `(0.0, 1.0)` for images in [0, 1]. `None` leaves it unclipped.
        seed: Optional int seed.
        **kwargs: Standard layer keyword arguments.

    Call arguments:
        inputs: Tensor of any shape.
        training: Python bool; noise is added only when `True`.

    Returns:
        Tensor of the same shape as the inputs.

    Example:

    >>> import aekeras, numpy as np
    >>> layer = aekeras.corruption.AdditiveGaussianNoise(0.3, clip=(0.0, 1.0), seed=0)
    >>> x_noisy = layer.corrupt(np.full((2, 4), 0.5, "float32"), seed=1)
    >>> bool(x_noisy.min() >= 0.0 and x_noisy.max() <= 1.0)
    True

    Reference:
    - [Vincent et al., 2010](https://www.jmlr.org/papers/v11/vincent10a.html),
      section 4.2.
    """

    def __init__(self, stddev, clip=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = self.validate_level(stddev)
        self.clip = validate_range_arg(clip, "clip", allow_none=True)
        self.add_level(self.stddev, "stddev")
        self.built = True

    def validate_level(self, value):
        return validate_float_arg(value, "stddev", min_value=0)

    def _noise(self, inputs, seed):
        noise = draw_noise("normal", ops.shape(inputs), inputs.dtype, seed)
        outputs = inputs + ops.cast(self.level, inputs.dtype) * noise
        if self.clip is not None:
            outputs = ops.clip(outputs, self.clip[0], self.clip[1])
        return outputs

    def get_config(self):
        clip = None if self.clip is None else list(self.clip)
        return {**super().get_config(), "stddev": self.stddev, "clip": clip}


class _RateCorruption(Corruption):
    """A corruption that destroys a fraction `rate` (ν) of the input components."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = self.validate_level(rate)
        self.add_level(self.rate, "rate")
        self.built = True

    def validate_level(self, value):
        return validate_rate_arg(value, "rate")

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@keras.saving.register_keras_serializable(package="aekeras")
class MaskingNoise(_RateCorruption):
    """Masking noise: a random fraction ν of the inputs is set to 0.

    Each input component is independently zeroed with probability ν. Unlike
    `keras.layers.Dropout`, the remaining values are not rescaled: the
    network must infer the missing values from the others.

    Args:
        rate: Float ν in [0, 1), the initial fraction of inputs destroyed.
        seed: Optional int seed.
        **kwargs: Standard layer keyword arguments.

    Call arguments:
        inputs: Tensor of any shape.
        training: Python bool; noise is applied only when `True`.

    Returns:
        Tensor of the same shape as the inputs.

    Example:

    >>> import aekeras, numpy as np
    >>> layer = aekeras.corruption.MaskingNoise(0.5, seed=0)
    >>> x_noisy = layer.corrupt(np.ones((100, 100), "float32"), seed=1)
    >>> bool(0.45 < (x_noisy == 0).mean() < 0.55)
    True

    Reference:
    - [Vincent et al., 2010](https://www.jmlr.org/papers/v11/vincent10a.html),
      section 4.2.
    """

    def _noise(self, inputs, seed):
        u = draw_noise("uniform", ops.shape(inputs), inputs.dtype, seed)
        keep = ops.cast(u >= ops.cast(self.level, inputs.dtype), inputs.dtype)
        return inputs * keep


@keras.saving.register_keras_serializable(package="aekeras")
class SaltAndPepperNoise(_RateCorruption):
    """Salt-and-pepper noise: a fraction ν of the inputs set to the minimum or maximum.

    Each input component is independently corrupted with probability ν; a
    corrupted component is set to `low` or `high` with probability 1/2 each.

    Args:
        rate: Float ν in [0, 1), the initial fraction of inputs corrupted.
        low: Value of "pepper" (the data minimum, 0 for images in [0, 1]).
        high: Value of "salt" (the data maximum, 1 for images in [0, 1]).
        seed: Optional int seed.
        **kwargs: Standard layer keyword arguments.

    Call arguments:
        inputs: Tensor of any shape.
        training: Python bool; noise is applied only when `True`.

    Returns:
        Tensor of the same shape as the inputs.

    Example:

    >>> import aekeras, numpy as np
    >>> layer = aekeras.corruption.SaltAndPepperNoise(0.2, seed=0)
    >>> x_noisy = layer.corrupt(np.full((50, 50), 0.5, "float32"), seed=1)
    >>> sorted(set(np.unique(x_noisy).tolist()))
    [0.0, 0.5, 1.0]

    Reference:
    - [Vincent et al., 2010](https://www.jmlr.org/papers/v11/vincent10a.html),
      section 4.2.
    """

    def __init__(self, rate, low=0.0, high=1.0, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.low = validate_float_arg(low, "low")
        self.high = validate_float_arg(high, "high")
        if not self.low < self.high:
            raise ValueError(
                "`low` (pepper) must be smaller than `high` (salt). "
                f"Received: low={low!r}, high={high!r}"
            )

    def _noise(self, inputs, seed):
        shape = ops.shape(inputs)
        hit = draw_noise("uniform", shape, inputs.dtype, seed) < ops.cast(self.level, inputs.dtype)
        salt = draw_noise("uniform", shape, inputs.dtype, seed) < 0.5
        values = ops.where(salt, self.high, self.low)
        return ops.where(hit, ops.cast(values, inputs.dtype), inputs)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


def get(identifier):
    """Returns a corruption layer from an instance, a config dict or `None`.

    Args:
        identifier: `None`, a `Corruption` layer or its serialized config.

    Returns:
        A `Corruption` layer, or `None`.

    Raises:
        ValueError: If `identifier` is not one of these.
    """
    if identifier is None or isinstance(identifier, Corruption):
        return identifier
    if isinstance(identifier, dict):
        obj = keras.saving.deserialize_keras_object(identifier)
        if isinstance(obj, Corruption):
            return obj
    raise ValueError(
        "Could not interpret corruption identifier: expected a corruption layer "
        "(`aekeras.corruption.AdditiveGaussianNoise`, `MaskingNoise` or "
        f"`SaltAndPepperNoise`), its config, or None. Received: identifier={identifier!r}"
    )
