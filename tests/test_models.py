import json

import keras
import numpy as np
import pytest

from aekeras import corruption
from aekeras import layers
from aekeras import models
from aekeras import regularizers


@pytest.fixture
def x(random_images):
    return random_images(64)


def _dense_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.mark.parametrize("sizes", ["784-1000-500-250-30", "625-2000-1000-500-30"])
def test_paper_architectures_have_the_paper_shapes(sizes):
    ae = models.deep_autoencoder(sizes)
    widths = [int(s) for s in sizes.split("-")]
    assert ae.layer_sizes == sizes
    assert ae.code_dim == widths[-1]

    def dense_units(model):
        return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]

    assert dense_units(ae.encoder) == widths[1:]
    assert dense_units(ae.decoder) == widths[-2::-1]
    assert ae.count_params() == _dense_params(widths) + _dense_params(widths[::-1])


def test_defaults_linear_code_and_sigmoid_output():
    ae = models.deep_autoencoder("784-64-8", input_shape=(28, 28, 1))
    assert ae.encoder.get_layer("code").activation is keras.activations.linear
    assert ae.decoder.get_layer("reconstruction").activation is keras.activations.sigmoid
    assert ae.output_range == (0.0, 1.0)


def test_encoder_and_decoder_work_on_their_own(x):
    ae = models.DenseAutoencoder((28, 28, 1), [32], code_dim=5)
    z = ae.encode(x)
    assert z.shape == (64, 5)
    x_hat = ae.decode(z)
    assert x_hat.shape == x.shape
    # Different batch sizes, so float32 sums may round differently: compare
    # with tolerances relative to the values' scale (sigmoid outputs ~1).
    np.testing.assert_allclose(x_hat, ae.reconstruct(x), rtol=1e-5, atol=1e-5)  # decoder on its own
    np.testing.assert_allclose(ae.reconstruct(x), ae.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    scale = np.abs(z).max()
    np.testing.assert_allclose(ae.encoder.predict(x, verbose=0), z, rtol=1e-5, atol=1e-5 * scale)


def test_training_reduces_reconstruction_loss(x):
    ae = models.DenseAutoencoder((28, 28, 1), [64], code_dim=8)
    ae.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    before = ae.evaluate(x, verbose=0)
    history = ae.fit(x, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert ae.evaluate(x, verbose=0) < 0.9 * before


class _FirstBatchLoss(keras.callbacks.Callback):
    """Records the loss of each epoch's first batch (Keras logs a running mean)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.losses.append(float(logs["loss"]))


def _frozen_fit(x, seed, **fit_kwargs):
    """Fits a small autoencoder with a zero learning rate; returns (model, first-batch losses, history).

    The weights never change, so a batch's loss depends only on which
    examples it holds: equal first-batch losses mean equal first batches.
    """
    keras.utils.set_random_seed(seed)
    ae = models.DenseAutoencoder(x.shape[1:], [16], code_dim=4)
    ae.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    first = _FirstBatchLoss()
    history = ae.fit(x, epochs=4, batch_size=16, verbose=0, callbacks=[first], **fit_kwargs)
    return ae, first.losses, history


def test_fit_draws_a_new_order_every_epoch_reproducibly_under_the_seed(random_images):
    # 256 distinct examples: 16 first batches out of 16 are all different.
    x = random_images(256, seed=1)
    _, losses, _ = _frozen_fit(x, seed=0)
    assert len(set(np.round(losses, 7))) == 4, f"an order repeated across epochs: {losses}"
    _, again, _ = _frozen_fit(x, seed=0)
    np.testing.assert_allclose(again, losses, rtol=1e-5)
    _, other_seed, _ = _frozen_fit(x, seed=1)
    assert not np.allclose(other_seed, losses, rtol=1e-5)


def test_fit_without_shuffle_keeps_the_order(random_images):
    _, losses, _ = _frozen_fit(random_images(256, seed=1), seed=0, shuffle=False)
    np.testing.assert_allclose(losses, losses[0], rtol=1e-5)


def test_fit_visits_every_example_once_per_epoch_with_its_sample_weight(random_images):
    x = random_images(200, shape=(32,), seed=2)  # 12 batches of 16 and one of 8
    weights = np.random.default_rng(0).integers(0, 3, len(x)).astype("float32")
    ae, _, history = _frozen_fit(x, seed=0, sample_weight=weights)
    per_example = np.mean((ae.reconstruct(x) - x) ** 2, axis=1)
    # Keras averages the batches' sum(w * loss) / batch size over the examples.
    expected = np.mean(weights * per_example)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-4)


def test_tied_weights_share_the_encoder_kernels():
    untied = models.deep_autoencoder("784-64-8")
    tied = models.deep_autoencoder("784-64-8", tied_weights=True)
    assert tied.count_params() == untied.count_params() - (784 * 64 + 64 * 8)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    w0 = keras.ops.convert_to_numpy(tied.encoder.get_layer("encoder_0").kernel)
    w1 = keras.ops.convert_to_numpy(tied.encoder.get_layer("code").kernel)
    hidden = np.maximum(z @ w1.T, 0)  # ReLU; biases start at zero
    expected = 1 / (1 + np.exp(-(hidden @ w0.T)))  # sigmoid
    np.testing.assert_allclose(tied.decode(z), expected, rtol=1e-4, atol=1e-5)


def test_sparsity_on_code_or_hidden_layer_adds_a_loss(x):
    for where in ("code", 0):
        ae = models.deep_autoencoder(
            "784-32-8", sparsity=regularizers.L1Sparsity(1.0), sparsity_layer=where
        )
        penalised = ae.encoder.get_layer("sparsity")
        source = ae.encoder.layers[ae.encoder.layers.index(penalised) - 1]
        assert source.name == ("code" if where == "code" else "encoder_0")
        ae(x.reshape(64, -1))
        assert len(ae.losses) == 1 and keras.ops.convert_to_numpy(ae.losses[0]) > 0


def test_corruption_is_applied_only_in_training(x):
    ae = models.DenseAutoencoder(
        (28, 28, 1), [16], code_dim=4, corruption=corruption.MaskingNoise(0.5, seed=0)
    )
    clean = keras.ops.convert_to_numpy(ae(x))
    noisy = keras.ops.convert_to_numpy(ae(x, training=True))
    # Eager call and compiled predict: equal up to float32 rounding (outputs in [0, 1]).
    np.testing.assert_allclose(clean, ae.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(clean, noisy)


def test_conv_autoencoder_shapes_and_dense_code(x):
    ae = models.ConvAutoencoder((28, 28, 1), filters=(8, 16), code_dim=10)
    assert ae.encode(x).shape == (64, 10)
    assert ae.reconstruct(x).shape == x.shape
    conv_code = models.ConvAutoencoder((28, 28, 1), filters=(8,))
    assert conv_code.encode(x).shape == (64, 14, 14, 8)


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
        (
            lambda ae, x: ae.fit(np.zeros((4, 784), "float32"), verbose=0),
            r"Received: x.shape=\(4, 784\)",
        ),
        (
            lambda ae, x: ae.encode(np.zeros((4, 28, 28), "float32")),
            r"Received: x.shape=\(4, 28, 28\)",
        ),
        (lambda ae, x: ae.decode(np.zeros((4, 3), "float32")), r"Received: z.shape=\(4, 3\)"),
        (
            lambda ae, x: ae.fit(x, validation_data=x * 2, verbose=0),
            "Received: validation_data with min",
        ),
    ],
)
def test_mismatched_inputs_get_clear_errors(call, message, x):
    ae = models.DenseAutoencoder((28, 28, 1), [8], code_dim=4)
    ae.compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=message):
        call(ae, x)


@pytest.mark.parametrize("method", ["fit", "evaluate", "encode", "reconstruct"])
def test_nan_and_infinite_inputs_are_rejected_with_count_and_examples(method, x):
    ae = models.DenseAutoencoder((28, 28, 1), [8], code_dim=4, output_activation=None)
    ae.compile("adam", "mse")
    x = x.copy()
    x[3, 0, 0, 0] = np.nan
    x[3, 5, 5, 0] = np.nan
    x[40, 1, 2, 0] = -np.inf
    with pytest.raises(
        ValueError, match=r"Received: x with 2 NaN and 1 infinite values, in examples \[3, 40\]"
    ):
        getattr(ae, method)(x)


def test_nan_in_validation_data_is_rejected(x):
    ae = models.DenseAutoencoder((28, 28, 1), [8], code_dim=4)
    ae.compile("adam", "binary_crossentropy")
    x_val = x[:8].copy()
    x_val[7] = np.inf
    with pytest.raises(ValueError, match=r"Received: validation_data with 0 NaN and 784 infinite"):
        ae.fit(x, validation_data=x_val, verbose=0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: models.deep_autoencoder("784-x-30"), "Received: layer_sizes='784-x-30'"),
        (lambda: models.deep_autoencoder("784"), "Received: layer_sizes='784'"),
        (lambda: models.deep_autoencoder("784-0-30"), r"Received: layer_sizes=\[784, 0, 30\]"),
        (
            lambda: models.deep_autoencoder("625-30", input_shape=(28, 28)),
            r"Received: input_shape=\(28, 28\)",
        ),
        (
            lambda: models.DenseAutoencoder(784, [10], code_dim=4, sparsity_layer=3),
            "Received: sparsity_layer=3",
        ),
        (
            lambda: models.DenseAutoencoder(784, [10], code_dim=4, sparsity="l3"),
            "Received: identifier='l3'",
        ),
        (lambda: models.DenseAutoencoder(784, [10], code_dim=0), "Received: code_dim=0"),
        (
            lambda: models.DenseAutoencoder(784, [10, True], code_dim=4),
            r"Received: hidden_units=\[10, True\]",
        ),
        (lambda: models.ConvAutoencoder((28, 28, 1), filters=()), r"Received: filters=\(\)"),
        (lambda: models.ConvAutoencoder((28, 28, 1), kernel_size=2.5), "Received: kernel_size=2.5"),
        (lambda: models.DenseAutoencoder(-1), r"Received: input_shape=\(-1,\)"),
        (
            lambda: models.ConvAutoencoder((28, 28, 1), filters=(8, 8, 8)),
            r"Received: input_shape=\(28, 28, 1\)",
        ),
        (lambda: models.ConvAutoencoder((28, 28)), r"Received: input_shape=\(28, 28\)"),
    ],
)
def test_bad_builder_arguments_name_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_decoder_must_accept_encoder_codes():
    enc = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    dec = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8)])
    with pytest.raises(ValueError, match=r"Received: decoder.input_shape=\(None, 3\)"):
        models.Autoencoder(enc, dec)


@pytest.mark.parametrize(
    "make",
    [
        lambda: models.deep_autoencoder(
            "784-32-16-8",
            input_shape=(28, 28, 1),
            tied_weights=True,
            code_activation="sigmoid",
            sparsity=regularizers.KLSparsity(0.05, 0.5),
            corruption=corruption.MaskingNoise(0.3, seed=1),
        ),
        lambda: models.ConvAutoencoder(
            (28, 28, 1),
            filters=(4, 8),
            code_dim=6,
            sparsity=regularizers.L1Sparsity(1e-3),
            corruption=corruption.AdditiveGaussianNoise(0.2, clip=(0.0, 1.0), seed=2),
        ),
        lambda: models.Autoencoder(
            keras.Sequential(
                [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(4)]
            ),
            keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(784), keras.layers.Reshape((28, 28, 1))]
            ),
            corruption=corruption.SaltAndPepperNoise(0.1, seed=3),
        ),
    ],
    ids=["dense", "conv", "generic"],
)
def test_trained_model_saves_and_loads_to_identical_outputs(make, x, save_and_load):
    ae = make()
    ae.compile("adam", "mse")
    ae.fit(x, epochs=1, batch_size=16, verbose=0)
    loaded = save_and_load(ae)
    assert type(loaded) is type(ae)
    # The same computation on the same machine: exactly equal.
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ae.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.encode(x), ae.encode(x))
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(
        ae.get_config(), sort_keys=True
    )
    # Training continues from the loaded optimizer state: the step counter and
    # Adam's moments are restored, so one more epoch on the same batches moves
    # both models to the same weights. A fresh optimizer would start with zero
    # moments and take different first steps. (The noise is switched off: the
    # state of a seed generator is not saved, so the draws would differ.)
    assert int(loaded.optimizer.iterations) == int(ae.optimizer.iterations) == 4
    for a, b in zip(loaded.optimizer.variables, ae.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    for model in (ae, loaded):
        for layer in model.corruption_layers:
            layer.set_level(0.0)
        model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert int(loaded.optimizer.iterations) == 8
    for a, b in zip(loaded.weights, ae.weights):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6
        )


def test_get_config_chains_to_the_parent_classes():
    ae = models.DenseAutoencoder(
        16, [8], code_dim=2, corruption=corruption.MaskingNoise(0.1), name="ae"
    )
    config = ae.get_config()
    assert config["name"] == "ae" and config["trainable"] is True  # from keras.Model
    assert config["corruption"]["class_name"] == "MaskingNoise"  # from models.Autoencoder
    assert config["hidden_units"] == [8] and config["output_activation"] == "sigmoid"
    assert (
        "encoder" not in config and "decoder" not in config
    )  # rebuilt from the builder's arguments


def test_initializer_and_activation_objects_are_serialised_like_keras(x, save_and_load):
    ae = models.DenseAutoencoder(
        (28, 28, 1),
        [16],
        code_dim=4,
        activation=keras.activations.relu,
        code_activation=None,
        output_activation=keras.activations.sigmoid,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01, seed=3),
    )
    config = ae.get_config()
    assert config["activation"] == "relu" and config["code_activation"] == "linear"
    assert config["output_activation"] == "sigmoid" and ae.output_range == (0.0, 1.0)
    assert config["kernel_initializer"] == keras.initializers.serialize(
        keras.initializers.RandomNormal(stddev=0.01, seed=3)
    )
    kernel = keras.ops.convert_to_numpy(ae.encoder.get_layer("encoder_0").kernel)
    assert kernel.std() == pytest.approx(0.01, rel=0.05)
    loaded = save_and_load(ae)
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ae.predict(x, verbose=0))


def test_sparsity_and_corruption_layers_are_found_at_any_depth():
    inner = keras.Sequential(
        [
            keras.Input((4,)),
            layers.SparsityPenalty(regularizers.L1Sparsity(0.1), name="inner_sparsity"),
        ],
        name="inner",
    )
    encoder = keras.Sequential(
        [
            keras.Input((8,)),
            corruption.MaskingNoise(0.2, name="input_noise"),
            keras.layers.Dense(4),
            inner,
        ]
    )
    decoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
    ae = models.Autoencoder(
        encoder, decoder, corruption=corruption.AdditiveGaussianNoise(0.1, name="noise")
    )
    assert [layer.name for layer in ae.sparsity_layers] == ["inner_sparsity"]
    assert sorted(layer.name for layer in ae.corruption_layers) == ["input_noise", "noise"]
    plain = models.DenseAutoencoder(8, [4], code_dim=2)
    assert plain.sparsity_layers == [] and plain.corruption_layers == []
