import keras
import numpy as np
import pytest

from aekeras import layers
from aekeras import regularizers


def _penalised_model(reg):
    inputs = keras.Input((6,))
    h = keras.layers.Dense(4, activation="sigmoid", name="code")(inputs)
    h = layers.SparsityPenalty(reg, name="sparsity")(h)
    outputs = keras.layers.Dense(6, name="out")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("batch_size", [1, 5, 20])
@pytest.mark.parametrize(
    "reg", [regularizers.L1Sparsity(0.7), regularizers.KLSparsity(0.1, 0.7)], ids=["l1", "kl"]
)
def test_penalty_in_training_loss_has_documented_normalisation(reg, batch_size):
    # The loss Keras reports is the reconstruction loss plus exactly the
    # regularizer's value on each batch (mean of per-example sums for L1,
    # once per batch for KL): no extra division by the batch size.
    x = np.random.default_rng(0).random((20, 6)).astype("float32")
    model = _penalised_model(reg)
    code = keras.Model(model.input, model.get_layer("code").output)
    h = code.predict(x, verbose=0)
    y = model.predict(x, verbose=0)
    batches = range(0, 20, batch_size)
    expected = np.mean(
        [
            np.mean((y[i : i + batch_size] - x[i : i + batch_size]) ** 2)
            + float(reg(h[i : i + batch_size]))
            for i in batches
        ]
    )
    loss = model.evaluate(x, x, batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_penalty_is_identity_and_level_is_the_strength():
    layer = layers.SparsityPenalty(regularizers.L1Sparsity(0.3))
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x)
    assert layer.get_level() == pytest.approx(0.3)
    layer.set_level(0.0)
    assert layer.get_level() == 0.0
    with pytest.raises(ValueError, match="Received: strength=-1"):
        layer.set_level(-1)
    with pytest.raises(ValueError, match="Received: strength=nan"):
        layer.set_level(float("nan"))


def test_penalty_layer_and_regularizer_share_one_strength():
    reg = regularizers.L1Sparsity(0.3)
    layer = layers.SparsityPenalty(reg)
    assert layer.regularizer is reg and reg.strength_variable is layer.level
    layer.set_level(0.1)
    assert reg.strength == pytest.approx(0.1)
    assert layer.get_config()["regularizer"]["config"] == {"strength": pytest.approx(0.1)}
    reg.strength = 0.2
    assert layer.get_level() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="Received: strength=-1"):
        reg.strength = -1
    # A second layer given the same regularizer gets a copy: strengths of their own.
    other = layers.SparsityPenalty(reg)
    assert other.regularizer is not reg and other.get_level() == pytest.approx(0.2)
    other.set_level(0.5)
    assert reg.strength == pytest.approx(0.2) and other.regularizer.strength == pytest.approx(0.5)
    with pytest.raises(ValueError, match="already held by another layer's variable"):
        reg.bind_strength(other.level)


def test_penalty_layer_requires_regularizer():
    with pytest.raises(ValueError, match="Received: regularizer=None"):
        layers.SparsityPenalty(None)


def test_penalty_layer_round_trips_through_keras_file(save_and_load):
    model = _penalised_model(regularizers.KLSparsity(0.05, 3.0))
    model.get_layer("sparsity").set_level(0.5)
    loaded = save_and_load(model)
    assert isinstance(loaded.get_layer("sparsity").regularizer, regularizers.KLSparsity)
    assert loaded.get_layer("sparsity").get_level() == pytest.approx(0.5)
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_dense_transpose_uses_transposed_kernel_of_tied_layer():
    dense = keras.layers.Dense(3)
    x = np.random.default_rng(0).random((2, 5)).astype("float32")
    z = dense(x)
    tied = layers.DenseTranspose(dense, activation=None)
    out = keras.ops.convert_to_numpy(tied(z))
    w = keras.ops.convert_to_numpy(dense.kernel)
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(z) @ w.T, rtol=1e-5, atol=1e-5)
    assert [v.path.split("/")[-1] for v in tied.weights] == ["bias"]
    # Sharing: changing the encoder kernel changes the decoder.
    dense.kernel.assign(np.zeros((5, 3), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tied(z)), 0.0)


def test_dense_transpose_errors():
    with pytest.raises(ValueError, match="Received: tied_to="):
        layers.DenseTranspose("not a layer")
    dense = keras.layers.Dense(3)
    with pytest.raises(ValueError, match="built"):
        layers.DenseTranspose(dense)(np.zeros((1, 3), "float32"))
    dense.build((None, 5))
    with pytest.raises(ValueError, match="Received: input_shape"):
        layers.DenseTranspose(dense)(np.zeros((1, 4), "float32"))
