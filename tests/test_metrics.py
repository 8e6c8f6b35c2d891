"""Tests for aekeras.metrics (run under each KERAS_BACKEND)."""

import math

import keras
import numpy as np
import pytest

from aekeras.metrics import ReconstructionError
from aekeras.metrics import grey_fraction
from aekeras.metrics import linear_probe
from aekeras.metrics import mse
from aekeras.metrics import psnr
from aekeras.metrics import reconstruction_error
from aekeras.metrics import sparsity_statistics


def _pair(shape=(5, 4, 3), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(shape).astype(np.float32)
    x_hat = np.clip(x + rng.normal(0.0, 0.1, shape), 0.0, 1.0).astype(np.float32)
    return x, x_hat


def _hand_sse(x, x_hat):
    """Per-image sums of squared errors, by explicit loops."""
    sums = []
    for image, recon in zip(x, x_hat):
        total = 0.0
        for a, b in zip(np.ravel(image), np.ravel(recon)):
            total += (float(a) - float(b)) ** 2
        sums.append(total)
    return sums


def test_reconstruction_error_is_mean_per_image_sum_of_squares():
    x, x_hat = _pair()
    sums = _hand_sse(x, x_hat)
    assert reconstruction_error(x, x_hat) == pytest.approx(sum(sums) / len(sums), rel=1e-9)
    # Flattening the images does not change it; it is mse times the pixel count.
    assert reconstruction_error(x.reshape(5, -1), x_hat.reshape(5, -1)) == pytest.approx(
        reconstruction_error(x, x_hat), rel=1e-12
    )
    assert reconstruction_error(x, x_hat) == pytest.approx(12 * mse(x, x_hat), rel=1e-9)
    assert reconstruction_error(x, x) == 0.0


def test_mse_by_hand():
    x, x_hat = _pair(shape=(3, 7))
    hand = sum((float(a) - float(b)) ** 2 for a, b in zip(x.ravel(), x_hat.ravel())) / 21
    assert mse(x, x_hat) == pytest.approx(hand, rel=1e-9)
    assert isinstance(mse(x, x_hat), float)


def test_psnr_is_mean_of_per_image_values():
    x, x_hat = _pair(shape=(4, 6, 6))
    per_image = [10 * math.log10(1.0 / (s / 36)) for s in _hand_sse(x, x_hat)]
    assert psnr(x, x_hat) == pytest.approx(sum(per_image) / 4, rel=1e-9)
    # Scaling the data and the range together leaves the PSNR unchanged.
    assert psnr(255 * x, 255 * x_hat, data_range=255.0) == pytest.approx(psnr(x, x_hat), rel=1e-6)
    # A constant error of 0.1 on [0, 1] data is 20 dB.
    assert psnr(x, x + 0.1) == pytest.approx(20.0, rel=1e-5)


def test_psnr_of_identical_images_is_capped_at_100_db():
    x, x_hat = _pair(shape=(2, 8))
    assert psnr(x, x) == pytest.approx(100.0)
    assert psnr(255 * x, 255 * x, data_range=255.0) == pytest.approx(100.0)
    mixed = np.stack([x[0], x_hat[1]])
    other = 10 * math.log10(1.0 / (_hand_sse(x[1:], x_hat[1:])[0] / 8))
    assert psnr(x, mixed) == pytest.approx((100.0 + other) / 2, rel=1e-9)


@pytest.mark.parametrize("fn", [reconstruction_error, mse, psnr])
def test_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"x.shape=\(2, 3\), x_hat.shape=\(2, 4\)"):
        fn(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("fn", [reconstruction_error, psnr])
def test_batch_axis_required(fn):
    with pytest.raises(ValueError, match=r"Received: x.shape=\(3,\)"):
        fn(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"Received: x.shape=\(0, 3\)"):
        fn(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_psnr_invalid_data_range(bad):
    with pytest.raises(ValueError, match="Received: data_range="):
        psnr(np.zeros((1, 2)), np.zeros((1, 2)), data_range=bad)


def test_sparsity_statistics_by_hand():
    h = np.array(
        [
            [0.0, 0.5, -0.2, 0.005],
            [0.0, 0.0, 0.3, -0.004],
            [0.0, 1.0, 0.0, 0.0],
        ]
    )
    stats = sparsity_statistics(h, threshold=0.01)
    assert stats == pytest.approx(
        {
            "mean_abs": (0.5 + 0.2 + 0.005 + 0.3 + 0.004 + 1.0) / 12,
            "mean_activation": (0.5 - 0.2 + 0.005 + 0.3 - 0.004 + 1.0) / 12,
            "active_fraction": 4 / 12,  # |h| > 0.01: 0.5, -0.2, 0.3, 1.0
            "dead_fraction": 2 / 4,  # units 0 and 3 never exceed the threshold
        },
        rel=1e-12,
    )
    assert all(type(v) is float for v in stats.values())
    # Spatial activations are flattened to units; a higher threshold kills more units.
    assert sparsity_statistics(h.reshape(3, 2, 2)) == stats
    assert sparsity_statistics(h, threshold=0.4)["dead_fraction"] == 3 / 4


def test_sparsity_statistics_errors():
    with pytest.raises(ValueError, match=r"Received: h.shape=\(4,\)"):
        sparsity_statistics(np.zeros(4))
    with pytest.raises(ValueError, match=r"Received: h.shape=\(0, 3\)"):
        sparsity_statistics(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="Received: threshold=-0.1"):
        sparsity_statistics(np.zeros((2, 3)), threshold=-0.1)


def _codes(n, seed, informative=True):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    z = rng.normal(size=(n, 4))
    if informative:
        z[:, 0] += 4.0 * y  # classes separated along the first feature
    return z, y


def test_linear_probe_measures_linear_separability():
    z_train, y_train = _codes(300, seed=0)
    z_test, y_test = _codes(150, seed=1)
    assert linear_probe(z_train, y_train, z_test, y_test) > 0.95
    noise_train, _ = _codes(300, seed=2, informative=False)
    noise_test, _ = _codes(150, seed=3, informative=False)
    assert linear_probe(noise_train, y_train, noise_test, y_test) < 0.5


def test_linear_probe_standardises_and_is_deterministic():
    z_train, y_train = _codes(200, seed=0)
    z_test, y_test = _codes(100, seed=1)
    base = linear_probe(z_train, y_train, z_test, y_test, C=0.01)
    assert linear_probe(z_train, y_train, z_test, y_test, C=0.01) == base
    # Per-feature affine changes of the codes are undone by the standardisation.
    scale, shift = np.array([1e3, 1e-3, 5.0, 1.0]), np.array([7.0, -3.0, 0.0, 1e3])
    scaled = linear_probe(z_train * scale + shift, y_train, z_test * scale + shift, y_test, C=0.01)
    assert scaled == base
    # Spatial codes are flattened.
    assert (
        linear_probe(z_train.reshape(200, 2, 2), y_train, z_test.reshape(100, 2, 2), y_test, C=0.01)
        == base
    )


def test_linear_probe_errors():
    z, y = _codes(20, seed=0)
    with pytest.raises(ValueError, match=r"z_train.shape=\(20, 4\), y_train.shape=\(19,\)"):
        linear_probe(z, y[:19], z, y)
    with pytest.raises(ValueError, match=r"z_train.shape=\(20, 4\), z_test.shape=\(20, 3\)"):
        linear_probe(z, y, z[:, :3], y)
    with pytest.raises(ValueError, match="Received: C=0"):
        linear_probe(z, y, z, y, C=0)
    with pytest.raises(ValueError, match="Received: max_iter=0"):
        linear_probe(z, y, z, y, max_iter=0)


def test_keras_metric_accumulates_over_batches():
    x, x_hat = _pair(shape=(7, 4, 3))
    metric = ReconstructionError()
    assert metric.name == "reconstruction_error"
    for start in range(0, 7, 3):  # batches of 3, 3, 1
        metric.update_state(x[start : start + 3], x_hat[start : start + 3])
    sums = _hand_sse(x, x_hat)
    assert float(metric.result()) == pytest.approx(sum(sums) / 7, rel=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_keras_metric_sample_weight():
    x, x_hat = _pair(shape=(4, 5))
    weights = np.array([1.0, 0.0, 2.0, 0.5], dtype=np.float32)
    metric = ReconstructionError()
    metric.update_state(x, x_hat, sample_weight=weights)
    sums = _hand_sse(x, x_hat)
    expected = sum(w * s for w, s in zip(weights, sums)) / weights.sum()
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_keras_metric_shape_mismatch():
    metric = ReconstructionError()
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\), y_pred.shape=\(2, 4\)"):
        metric.update_state(np.zeros((2, 3)), np.zeros((2, 4)))


def _tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3, 4)),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
            keras.layers.Dense(12, activation="sigmoid"),
            keras.layers.Reshape((3, 4)),
        ]
    )
    model.compile(optimizer="adam", loss="mse", metrics=[ReconstructionError()])
    return model


def test_keras_metric_in_compile_evaluate_and_fit():
    x, _ = _pair(shape=(7, 3, 4))
    model = _tiny_model()
    logs = model.evaluate(x, x, batch_size=3, verbose=0, return_dict=True)
    expected = reconstruction_error(x, model.predict(x, verbose=0))
    assert logs["reconstruction_error"] == pytest.approx(expected, rel=1e-4)
    history = model.fit(x, x, batch_size=4, epochs=1, verbose=0)
    assert len(history.history["reconstruction_error"]) == 1


def test_keras_metric_serialization(tmp_path):
    assert keras.saving.get_registered_object("aekeras>ReconstructionError") is (
        ReconstructionError
    )
    metric = ReconstructionError(name="sse")
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(restored, ReconstructionError) and restored.name == "sse"
    # A compiled model reloads without custom_objects and gives the same value.
    x, _ = _pair(shape=(5, 3, 4))
    model = _tiny_model()
    model.fit(x, x, epochs=1, verbose=0)  # builds the optimizer's variables
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    before = model.evaluate(x, x, verbose=0, return_dict=True)
    after = loaded.evaluate(x, x, verbose=0, return_dict=True)
    assert after["reconstruction_error"] == pytest.approx(before["reconstruction_error"])


def test_grey_fraction_counts_values_strictly_inside_the_band():
    x = np.array([[0.0, 0.1, 0.1001, 0.5], [0.8999, 0.9, 1.0, 1.3]])
    assert grey_fraction(x) == pytest.approx(3 / 8)  # the ends and out-of-range values are not grey
    assert grey_fraction(x, grey=(0.0, 1.0)) == pytest.approx(5 / 8)
    # Blurring a binary image (averaging it with a shifted copy) makes its edges grey.
    binary = (np.random.default_rng(0).random((20, 28, 28)) > 0.8).astype(np.float32)
    assert grey_fraction(binary) == 0.0
    assert grey_fraction((binary + np.roll(binary, 1, axis=2)) / 2) > 0.2


def test_grey_fraction_errors():
    with pytest.raises(ValueError, match=r"Received: grey=\(0.9, 0.1\)"):
        grey_fraction([0.5], grey=(0.9, 0.1))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        grey_fraction([0.5], grey=(0.1, 2.0))
    with pytest.raises(ValueError, match=r"Received: x.shape=\(0,\)"):
        grey_fraction([])
    with pytest.raises(ValueError, match="NaN values: 1"):
        grey_fraction([0.5, np.nan])
