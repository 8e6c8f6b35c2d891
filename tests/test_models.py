import json

import keras
import numpy as np
import pytest

from aekeras import corruption, models, regularizers
from conftest import random_images, save_and_load

X = random_images(64)


def _dense_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.mark.parametrize("sizes", ["784-1000-500-250-30", "625-2000-1000-500-30"])
def test_paper_architectures_have_the_paper_shapes(sizes):
    ae = models.deep_autoencoder(sizes)
    widths = [int(s) for s in sizes.split("-")]
    assert ae.layer_sizes == sizes
    assert ae.code_dim == widths[-1]
    assert [l.units for l in ae.encoder.layers if isinstance(l, keras.layers.Dense)] == widths[1:]
    assert [l.units for l in ae.decoder.layers if isinstance(l, keras.layers.Dense)] == widths[-2::-1]
    assert ae.count_params() == _dense_params(widths) + _dense_params(widths[::-1])


def test_defaults_linear_code_and_sigmoid_output():
    ae = models.deep_autoencoder("784-64-8", input_shape=(28, 28, 1))
    assert ae.encoder.get_layer("code").activation is keras.activations.linear
    assert ae.decoder.get_layer("reconstruction").activation is keras.activations.sigmoid
    assert ae.output_range == (0.0, 1.0)


def test_encoder_and_decoder_work_on_their_own():
    ae = models.DenseAutoencoder((28, 28, 1), [32], code_dim=5)
    z = ae.encode(X)
    assert z.shape == (64, 5)
    x_hat = ae.decode(z)
    assert x_hat.shape == X.shape
    # Different call paths (batch sizes, fused kernels) round float32 differently, and by
    # different amounts on different CPUs: compare with a tolerance rounding cannot break.
    np.testing.assert_allclose(x_hat, ae.reconstruct(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ae.reconstruct(X), ae.predict(X, verbose=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ae.encoder.predict(X, verbose=0), z, rtol=1e-5, atol=1e-5)


def test_training_reduces_reconstruction_loss():
    ae = models.DenseAutoencoder((28, 28, 1), [64], code_dim=8)
    ae.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    before = ae.evaluate(X, verbose=0)
    history = ae.fit(X, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert ae.evaluate(X, verbose=0) < 0.9 * before


def test_tied_weights_share_the_encoder_kernels():
    untied = models.deep_autoencoder("784-64-8")
    tied = models.deep_autoencoder("784-64-8", tied_weights=True)
    assert tied.count_params() == untied.count_params() - (784 * 64 + 64 * 8)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    w0 = keras.ops.convert_to_numpy(tied.encoder.get_layer("encoder_0").kernel)
    w1 = keras.ops.convert_to_numpy(tied.encoder.get_layer("code").kernel)
    relu = lambda a: np.maximum(a, 0)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    expected = sigmoid(relu(z @ w1.T) @ w0.T)  # biases start at zero
    np.testing.assert_allclose(tied.decode(z), expected, rtol=1e-4, atol=1e-5)


def test_sparsity_on_code_or_hidden_layer_adds_a_loss():
    for where in ("code", 0):
        ae = models.deep_autoencoder(
            "784-32-8", sparsity=regularizers.L1Sparsity(1.0), sparsity_layer=where
        )
        penalised = ae.encoder.get_layer("sparsity")
        source = ae.encoder.layers[ae.encoder.layers.index(penalised) - 1]
        assert source.name == ("code" if where == "code" else "encoder_0")
        ae(X.reshape(64, -1))
        assert len(ae.losses) == 1 and keras.ops.convert_to_numpy(ae.losses[0]) > 0


def test_corruption_is_applied_only_in_training():
    ae = models.DenseAutoencoder((28, 28, 1), [16], code_dim=4, corruption=corruption.MaskingNoise(0.5, seed=0))
    clean = keras.ops.convert_to_numpy(ae(X))
    noisy = keras.ops.convert_to_numpy(ae(X, training=True))
    np.testing.assert_allclose(clean, ae.predict(X, verbose=0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(clean, noisy)


def test_conv_autoencoder_shapes_and_dense_code():
    ae = models.ConvAutoencoder((28, 28, 1), filters=(8, 16), code_dim=10)
    assert ae.encode(X).shape == (64, 10)
    assert ae.reconstruct(X).shape == X.shape
    conv_code = models.ConvAutoencoder((28, 28, 1), filters=(8,))
    assert conv_code.encode(X).shape == (64, 14, 14, 8)


def test_standardised_data_needs_linear_output():
    x = np.random.default_rng(0).standard_normal((32, 20)).astype("float32")
    ae = models.DenseAutoencoder(20, [8], code_dim=2)
    ae.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"Received: x with min=-?\d"):
        ae.fit(x, epochs=1, verbose=0)
    linear = models.DenseAutoencoder(20, [8], code_dim=2, output_activation=None)
    linear.compile("adam", "mse")
    linear.fit(x, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), verbose=0), r"Received: x.shape=\(4, 784\)"),
        (lambda ae: ae.encode(np.zeros((4, 28, 28), "float32")), r"Received: x.shape=\(4, 28, 28\)"),
        (lambda ae: ae.decode(np.zeros((4, 3), "float32")), r"Received: z.shape=\(4, 3\)"),
        (lambda ae: ae.fit(X, validation_data=X * 2, verbose=0), "Received: validation_data with min"),
    ],
)
def test_mismatched_inputs_get_clear_errors(call, message):
    ae = models.DenseAutoencoder((28, 28, 1), [8], code_dim=4)
    ae.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=message):
        call(ae)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: models.deep_autoencoder("784-x-30"), "Received: layer_sizes='784-x-30'"),
        (lambda: models.deep_autoencoder("784"), "Received: layer_sizes='784'"),
        (lambda: models.deep_autoencoder("784-0-30"), r"Received: layer_sizes=\[784, 0, 30\]"),
        (lambda: models.deep_autoencoder("625-30", input_shape=(28, 28)), r"Received: input_shape=\(28, 28\)"),
        (lambda: models.DenseAutoencoder(784, [10], code_dim=4, sparsity_layer=3), "Received: sparsity_layer=3"),
        (lambda: models.DenseAutoencoder(784, [10], code_dim=4, sparsity="l3"), "Received: sparsity='l3'"),
        (lambda: models.DenseAutoencoder(-1), r"Received: input_shape=\(-1,\)"),
        (lambda: models.ConvAutoencoder((28, 28, 1), filters=(8, 8, 8)), r"Received: input_shape=\(28, 28, 1\)"),
        (lambda: models.ConvAutoencoder((28, 28)), r"Received: input_shape=\(28, 28\)"),
    ],
)
def test_bad_builder_arguments_name_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_decoder_must_accept_encoder_codes():
    enc = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    dec = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8)])
    with pytest.raises(ValueError, match=r"Received: decoder input shape=\(3,\)"):
        models.Autoencoder(enc, dec)


@pytest.mark.parametrize(
    "make",
    [
        lambda: models.deep_autoencoder(
            "784-32-16-8", input_shape=(28, 28, 1), tied_weights=True, code_activation="sigmoid",
            sparsity=regularizers.KLSparsity(0.05, 0.5), corruption=corruption.MaskingNoise(0.3, seed=1),
        ),
        lambda: models.ConvAutoencoder(
            (28, 28, 1), filters=(4, 8), code_dim=6, sparsity=regularizers.L1Sparsity(1e-3),
            corruption=corruption.AdditiveGaussianNoise(0.2, clip=(0.0, 1.0), seed=2),
        ),
        lambda: models.Autoencoder(
            keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(4)]),
            keras.Sequential([keras.Input((4,)), keras.layers.Dense(784), keras.layers.Reshape((28, 28, 1))]),
            corruption=corruption.SaltAndPepperNoise(0.1, seed=3),
        ),
    ],
    ids=["dense", "conv", "generic"],
)
def test_trained_model_saves_and_loads_to_identical_outputs(make, tmp_path):
    ae = make()
    ae.compile("adam", "mse")
    ae.fit(X, epochs=1, batch_size=16, verbose=0)
    loaded = save_and_load(ae, tmp_path)
    assert type(loaded) is type(ae)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), ae.predict(X, verbose=0))
    np.testing.assert_array_equal(loaded.encode(X), ae.encode(X))
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(ae.get_config(), sort_keys=True)
    # Training continues from the loaded optimizer state.
    loaded.fit(X, epochs=1, batch_size=16, verbose=0)
