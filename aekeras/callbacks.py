"""Callbacks that monitor sparsity and schedule penalty strengths and noise levels."""

import math

import keras
import numpy as np

from aekeras import metrics
from aekeras.corruption import Corruption
from aekeras.layers import SparsityPenalty
from aekeras.models import Autoencoder
from aekeras.regularizers import KLSparsity
from aekeras.validation import validate_batch_arg
from aekeras.validation import validate_float_arg
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_string_arg


# ---------------------------------------------------------------- schedules
def constant(value):
    """Schedule that returns `value` at every epoch.

    Args:
        value: Float, the value.

    Returns:
        A callable epoch -> `value`.
    """
    value = validate_float_arg(value, "value")
    return lambda epoch: value


def warmup(target, epochs, start=0.0):
    """Linear warm-up from `start` at epoch 0 to `target` at epoch `epochs`, then constant.

    Args:
        target: Float, the value from epoch `epochs` on.
        epochs: Positive int, the length of the warm-up.
        start: Float, the value at epoch 0.

    Returns:
        A callable epoch (0-based) -> value.

    Example:

    >>> import aekeras
    >>> s = aekeras.callbacks.warmup(1e-3, epochs=4)
    >>> [round(s(e), 6) for e in range(6)]
    [0.0, 0.00025, 0.0005, 0.00075, 0.001, 0.001]
    """
    epochs = validate_int_arg(epochs, "epochs", min_value=1)
    start = validate_float_arg(start, "start")
    target = validate_float_arg(target, "target")
    return lambda epoch: start + (target - start) * min(epoch, epochs) / epochs


def anneal(start, end, epochs, kind="cosine"):
    """Anneal from `start` at epoch 0 to `end` at epoch `epochs`, then constant.

    Args:
        start: Float, the value at epoch 0.
        end: Float, the value from epoch `epochs` on.
        epochs: Positive int, the length of the annealing phase.
        kind: `"cosine"` (half cosine) or `"linear"`.

    Returns:
        A callable epoch (0-based) -> value.

    Example:

    >>> import aekeras
    >>> s = aekeras.callbacks.anneal(0.5, 0.0, epochs=2, kind="linear")
    >>> [s(e) for e in range(4)]
    [0.5, 0.25, 0.0, 0.0]
    """
    epochs = validate_int_arg(epochs, "epochs", min_value=1)
    kind = validate_string_arg(kind, "kind", ("cosine", "linear"))
    start = validate_float_arg(start, "start")
    end = validate_float_arg(end, "end")

    def schedule(epoch):
        t = min(epoch, epochs) / epochs
        w = (1 - math.cos(math.pi * t)) / 2 if kind == "cosine" else t
        return start + (end - start) * w

    return schedule


# ---------------------------------------------------------------- schedulers
def _layers_of_type(model, layer_class):
    """The layers of `model` that are instances of `layer_class`, at any depth."""
    found = []
    for layer in model.layers:
        if isinstance(layer, layer_class):
            found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_layers_of_type(layer, layer_class))
    return found


class _LevelScheduler(keras.callbacks.Callback):
    """Sets the `level` variable of some layers at the start of every epoch.

    The layers are those of the autoencoder that are instances of
    `layer_class`, at any depth; `how_to_add` says how to build a model
    with one, for the error raised when there is none.
    """

    layer_class = None
    log_name = None
    how_to_add = None

    def __init__(self, schedule, layer=None, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                "`schedule` must be a callable epoch -> value, e.g. "
                f"aekeras.callbacks.warmup(1e-3, epochs=5). Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.layer = layer
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        self._layers = self._find_layers(self.model)

    def _find_layers(self, model):
        """The layers of `model` to schedule: all of them, or the one named `layer`."""
        if not isinstance(model, Autoencoder):
            raise ValueError(
                f"{type(self).__name__} needs an aekeras autoencoder (an "
                "`aekeras.models.Autoencoder`, e.g. `aekeras.models.DenseAutoencoder`). "
                f"Received: model={model!r}"
            )
        candidates = _layers_of_type(model, self.layer_class)
        kind = f"`{self.layer_class.__module__}.{self.layer_class.__name__}`"
        if not candidates:
            raise ValueError(
                f"The model has no {kind} layer to schedule. {self.how_to_add} "
                f"Received: layer={self.layer!r}"
            )
        found = [
            layer
            for layer in candidates
            if self.layer is None or layer is self.layer or layer.name == self.layer
        ]
        if not found:
            names = [layer.name for layer in candidates]
            raise ValueError(
                f"The model has no {kind} layer named {self.layer!r}; its {kind} "
                f"layers are {names}. Received: layer={self.layer!r}"
            )
        return found

    def on_epoch_begin(self, epoch, logs=None):
        value = float(self.schedule(epoch))
        for layer in self._layers:
            layer.set_level(value)  # validates the value
        self._value = value
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: {self.log_name} = {value:.4g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.log_name] = self._value


class SparsityScheduler(_LevelScheduler):
    """Sets the sparsity strength (λ or β) at the start of every epoch.

    The strength is a backend variable of the model's
    `aekeras.layers.SparsityPenalty` layer(s) (found by type, at any depth),
    so the new value takes effect in the next epoch's (compiled) training
    steps. It is the regularizer's strength too: after training,
    `layer.regularizer.strength`, the model's `get_config()` and a saved
    `.keras` model hold the last scheduled value. The value used in each
    epoch is recorded in the logs under `"sparsity_strength"` (so in
    `History.history`).

    Args:
        schedule: Callable epoch (0-based) -> strength, e.g.
            `aekeras.callbacks.warmup(1e-3, epochs=5)`.
        layer: Optional name of the `SparsityPenalty` layer; default: all.
        verbose: If 1, print the value at each epoch.

    Example:

    >>> import aekeras
    >>> cb = aekeras.callbacks.SparsityScheduler(aekeras.callbacks.anneal(1e-3, 0.0, 10))
    """

    log_name = "sparsity_strength"
    how_to_add = (
        "Build the autoencoder with a sparsity penalty, e.g. "
        "`aekeras.models.DenseAutoencoder(..., sparsity=aekeras.regularizers.L1Sparsity(1e-3))`, "
        "or put an `aekeras.layers.SparsityPenalty` layer after the activations to penalise."
    )
    layer_class = SparsityPenalty


class NoiseScheduler(_LevelScheduler):
    """Sets the corruption level (σ or ν) at the start of every epoch.

    Works like `SparsityScheduler`, for the model's corruption layers
    (instances of `aekeras.corruption.Corruption`). Recorded in the logs as `"noise_level"`.

    Args:
        schedule: Callable epoch (0-based) -> noise level.
        layer: Optional name of the corruption layer; default: all.
        verbose: If 1, print the value at each epoch.
    """

    log_name = "noise_level"
    how_to_add = (
        "Build the autoencoder with a corruption, e.g. "
        "`aekeras.models.DenseAutoencoder(..., corruption=aekeras.corruption.MaskingNoise(0.3))`."
    )
    layer_class = Corruption


# ---------------------------------------------------------------- monitor
class SparsityMonitor(keras.callbacks.Callback):
    """Records how sparse a hidden representation is, once per epoch.

    At the end of every epoch the monitored activations h of the examples
    `x` are computed (clean inputs, inference mode) and the four numbers of
    `aekeras.metrics.sparsity_statistics` are written into the epoch logs,
    so they appear in `History.history`:

    - `"{prefix}mean_abs"`: mean |h| over examples and units (Ω(h)/λ per unit);
    - `"{prefix}mean_activation"`: mean activation ρ̂ over examples and units;
    - `"{prefix}active_fraction"`: fraction of (example, unit) pairs with
      |h| > `threshold`;
    - `"{prefix}dead_fraction"`: fraction of units with |h| <= `threshold` on
      every example of `x` (units that never fire).

    Per-unit mean activations ρ̂_j of the last epoch are kept in
    `unit_activation_`, and the target ρ they are compared with in
    `target_`: read from the `aekeras.regularizers.KLSparsity` of the
    model's `SparsityPenalty` on the monitored activations (`None` when they
    carry no KL penalty), so ρ is given once, to the regularizer.

    Args:
        x: Examples to monitor (a few hundred to a few thousand), NumPy array.
        layer: Name of the encoder layer whose output is monitored; default:
            the code (encoder output).
        threshold: Activity threshold; default 0.01 (suits ReLU and sigmoid
            units of data in [0, 1]).
        prefix: Prefix of the log keys; default `"code_"` (or `layer + "_"`).
        batch_size: Positive int, the batch size of the forward pass.

    `measure(model)` returns the same statistics for any trained autoencoder,
    outside `fit`.

    Example:

    >>> import numpy as np, aekeras
    >>> x = np.random.default_rng(0).random((64, 16)).astype("float32")
    >>> ae = aekeras.models.DenseAutoencoder(16, [8], code_dim=4)
    >>> ae.compile("adam", "mse")
    >>> h = ae.fit(x, epochs=1, verbose=0, callbacks=[aekeras.callbacks.SparsityMonitor(x)])
    >>> sorted(k for k in h.history if k.startswith("code_"))
    ['code_active_fraction', 'code_dead_fraction', 'code_mean_abs', 'code_mean_activation']
    """

    def __init__(self, x, layer=None, threshold=0.01, prefix=None, batch_size=512):
        super().__init__()
        self.x = validate_batch_arg(x, "x", min_examples=1, dtype="float32")
        self.layer = layer
        self.threshold = validate_float_arg(threshold, "threshold", min_value=0)
        self.prefix = prefix if prefix is not None else (f"{layer}_" if layer else "code_")
        self.batch_size = validate_int_arg(batch_size, "batch_size", min_value=1)
        self.target_ = None

    def _make_probe(self, model):
        encoder = getattr(model, "encoder", None)
        if encoder is None:
            raise ValueError(
                "SparsityMonitor needs an aekeras autoencoder (a model with an "
                f"`encoder`). Received: model={model!r}"
            )
        if self.layer is None:
            return encoder
        names = [layer.name for layer in encoder.layers]
        if self.layer not in names:
            raise ValueError(
                f"The encoder has no layer named {self.layer!r}; its layers "
                f"are {names}. Received: layer={self.layer!r}"
            )
        return keras.Model(encoder.input, encoder.get_layer(self.layer).output)

    def _target(self, model, probe):
        """ρ of the KL penalty on the activations `probe` outputs, or `None`."""
        monitored = probe.output
        for layer in _layers_of_type(model, SparsityPenalty):
            penalised = monitored is layer.input or monitored is layer.output
            if penalised and isinstance(layer.regularizer, KLSparsity):
                return layer.regularizer.target
        return None

    def on_train_begin(self, logs=None):
        self._probe = self._make_probe(self.model)
        self.target_ = self._target(self.model, self._probe)
        self.unit_activation_ = None

    def measure(self, model=None):
        """Returns the four statistics (a dict) for a model's current weights.

        Args:
            model: The autoencoder to measure; default: the model being
                trained (so `measure()` also works on a trained model
                after `fit`).

        Returns:
            A dict of four floats, keyed as in the logs.
        """
        if model is not None:
            probe = self._make_probe(model)
            self.target_ = self._target(model, probe)
        elif getattr(self, "_probe", None) is not None:
            probe = self._probe
        else:
            raise ValueError(
                "`measure()` needs a model: pass `model=` or use the callback in "
                "`fit` first. Received: model=None"
            )
        h = probe.predict(self.x, batch_size=self.batch_size, verbose=0)
        h = np.asarray(h, dtype="float64").reshape(len(h), -1)
        self.unit_activation_ = h.mean(axis=0)
        statistics = metrics.sparsity_statistics(h, threshold=self.threshold)
        return {f"{self.prefix}{key}": value for key, value in statistics.items()}

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:  # Keras passes the dict that History records
            logs.update(self.measure())
