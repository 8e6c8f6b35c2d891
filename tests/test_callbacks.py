import keras
import numpy as np
import pytest

from aekeras import callbacks
from aekeras import corruption
from aekeras import models
from aekeras import regularizers


@pytest.fixture
def x(random_images):
    return random_images(64, shape=(8, 8, 1))


def _frozen(ae, jit_compile):
    # learning_rate=0 keeps the weights fixed, so loss changes come only
    # from the scheduled variables.
    ae.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", jit_compile=jit_compile)
    assert ae.jit_compile == jit_compile  # Keras falls back silently where XLA is unsupported
    return ae


def test_schedules():
    assert [callbacks.warmup(1.0, 4)(e) for e in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    cos = callbacks.anneal(1.0, 0.0, 4)
    assert (
        cos(0) == 1.0
        and cos(2) == pytest.approx(0.5)
        and cos(4) == pytest.approx(0.0)
        and cos(9) == pytest.approx(0.0)
    )
    assert [callbacks.anneal(2.0, 1.0, 2, kind="linear")(e) for e in range(3)] == [2.0, 1.5, 1.0]
    assert callbacks.constant(0.3)(17) == 0.3
    with pytest.raises(ValueError, match="Received: epochs=0"):
        callbacks.warmup(1.0, 0)
    with pytest.raises(ValueError, match="Received: kind='step'"):
        callbacks.anneal(1.0, 0.0, 3, kind="step")
    with pytest.raises(ValueError, match="Received: epochs=2.0"):
        callbacks.anneal(1.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="Received: value=nan"):
        callbacks.constant(float("nan"))


@pytest.mark.parametrize("jit_compile", [True, False])
def test_strength_set_to_zero_removes_penalty_from_next_epoch(jit_compile, x):
    ae = _frozen(
        models.DenseAutoencoder(
            (8, 8, 1),
            [16],
            code_dim=4,
            code_activation="sigmoid",
            sparsity=regularizers.KLSparsity(0.05, strength=5.0),
        ),
        jit_compile,
    )

    def schedule(epoch):
        return 5.0 if epoch == 0 else 0.0

    history = ae.fit(
        x, epochs=2, batch_size=64, verbose=0, callbacks=[callbacks.SparsityScheduler(schedule)]
    )
    penalised, unpenalised = history.history["loss"]
    reconstruction = float(np.mean((ae.predict(x, verbose=0) - x) ** 2))
    h = ae.encode(x)
    assert penalised == pytest.approx(
        reconstruction + float(regularizers.KLSparsity(0.05, 5.0)(h)), rel=1e-4
    )
    assert unpenalised == pytest.approx(reconstruction, rel=1e-4)
    assert history.history["sparsity_strength"] == [5.0, 0.0]
    assert ae.sparsity_layers[0].get_level() == 0.0


@pytest.mark.parametrize("jit_compile", [True, False])
def test_noise_scheduler_changes_training_corruption(jit_compile, x):
    ae = _frozen(
        models.DenseAutoencoder(
            (8, 8, 1), [16], code_dim=4, corruption=corruption.MaskingNoise(0.0, seed=0)
        ),
        jit_compile,
    )

    def schedule(epoch):
        return [0.0, 0.9][epoch]

    history = ae.fit(
        x, epochs=2, batch_size=64, verbose=0, callbacks=[callbacks.NoiseScheduler(schedule)]
    )
    clean = float(np.mean((ae.predict(x, verbose=0) - x) ** 2))
    assert history.history["loss"][0] == pytest.approx(clean, rel=1e-4)
    assert abs(history.history["loss"][1] - clean) > 1e-3
    assert history.history["noise_level"] == [0.0, 0.9]


def test_scheduler_rejects_out_of_range_values_and_missing_layers(x):
    ae = _frozen(
        models.DenseAutoencoder(
            (8, 8, 1), [16], code_dim=4, corruption=corruption.MaskingNoise(0.1)
        ),
        False,
    )
    with pytest.raises(ValueError, match="Received: rate=1.5"):
        ae.fit(
            x, epochs=1, verbose=0, callbacks=[callbacks.NoiseScheduler(callbacks.constant(1.5))]
        )
    no_penalty = (
        r"no `aekeras.layers.SparsityPenalty` layer to schedule.*"
        r"sparsity=aekeras.regularizers.L1Sparsity\(1e-3\).*Received: layer=None"
    )
    with pytest.raises(ValueError, match=no_penalty):
        ae.fit(
            x, epochs=1, verbose=0, callbacks=[callbacks.SparsityScheduler(callbacks.constant(0.1))]
        )
    with pytest.raises(ValueError, match="Received: layer='noise'"):
        ae.fit(
            x,
            epochs=1,
            verbose=0,
            callbacks=[callbacks.NoiseScheduler(callbacks.constant(0.1), layer="noise")],
        )
    with pytest.raises(ValueError, match="Received: schedule=0.1"):
        callbacks.SparsityScheduler(0.1)


def test_scheduled_strength_is_the_one_saved_configured_and_reported(x, save_and_load):
    reg = regularizers.KLSparsity(0.1, strength=5.0)
    ae = _frozen(
        models.DenseAutoencoder(
            (8, 8, 1), [16], code_dim=4, code_activation="sigmoid", sparsity=reg
        ),
        False,
    )
    ae.fit(
        x,
        epochs=3,
        batch_size=64,
        verbose=0,
        callbacks=[callbacks.SparsityScheduler(callbacks.anneal(5.0, 0.0, 4, kind="linear"))],
    )
    penalty = ae.sparsity_layers[0]
    # One value, wherever it is read: the layer's variable, the regularizer, the configs.
    assert penalty.get_level() == pytest.approx(2.5)
    assert penalty.regularizer is reg and reg.strength == pytest.approx(2.5)
    assert ae.get_config()["sparsity"]["config"] == {"strength": pytest.approx(2.5), "target": 0.1}
    assert penalty.get_config()["regularizer"]["config"]["strength"] == pytest.approx(2.5)
    loaded = save_and_load(ae)
    loaded_penalty = loaded.sparsity_layers[0]
    assert loaded_penalty.get_level() == pytest.approx(2.5)
    assert loaded_penalty.regularizer.strength == pytest.approx(2.5)
    assert loaded.get_config()["sparsity"]["config"]["strength"] == pytest.approx(2.5)
    h = ae.encode(x)
    loss = float(ae.evaluate(x, batch_size=64, verbose=0))
    reconstruction = float(np.mean((ae.predict(x, verbose=0) - x) ** 2))
    expected = reconstruction + float(regularizers.KLSparsity(0.1, 2.5)(h))
    assert loss == pytest.approx(expected, rel=1e-4)
    assert float(loaded.evaluate(x, batch_size=64, verbose=0)) == pytest.approx(loss, rel=1e-5)
    # Setting the regularizer's strength sets the variable the loss reads.
    reg.strength = 0.0
    assert penalty.get_level() == 0.0
    assert float(ae.evaluate(x, batch_size=64, verbose=0)) == pytest.approx(
        reconstruction, rel=1e-4
    )


def test_monitor_reads_the_target_from_the_kl_regularizer(x):
    kl = models.DenseAutoencoder(
        (8, 8, 1),
        [16],
        code_dim=4,
        code_activation="sigmoid",
        sparsity=regularizers.KLSparsity(target=0.07),
    )
    kl.compile("adam", "mse")
    monitor = callbacks.SparsityMonitor(x)
    assert monitor.target_ is None
    kl.fit(x, epochs=1, verbose=0, callbacks=[monitor])
    assert monitor.target_ == 0.07
    # The target belongs to the penalised activations: the code, not encoder_0.
    hidden = callbacks.SparsityMonitor(x, layer="encoder_0")
    hidden.measure(kl)
    assert hidden.target_ is None
    inner = models.DenseAutoencoder(
        (8, 8, 1), [16], code_dim=4, sparsity=regularizers.KLSparsity(0.2), sparsity_layer=0
    )
    on_inner = callbacks.SparsityMonitor(x, layer="encoder_0")
    on_inner.measure(inner)
    assert on_inner.target_ == 0.2
    # L1 has no target.
    l1 = models.DenseAutoencoder((8, 8, 1), [16], code_dim=4, sparsity=regularizers.L1Sparsity(0.1))
    plain = callbacks.SparsityMonitor(x)
    plain.measure(l1)
    assert plain.target_ is None


def test_monitor_records_statistics_of_the_code_each_epoch(x):
    ae = models.DenseAutoencoder((8, 8, 1), [16], code_dim=6, code_activation="relu")
    ae.compile("adam", "mse")
    # Make code unit 0 dead: a large negative bias keeps its ReLU at zero.
    code = ae.encoder.get_layer("code")
    bias = keras.ops.convert_to_numpy(code.bias).copy()
    bias[0] = -1e4
    code.bias.assign(bias)
    monitor = callbacks.SparsityMonitor(x[:32], threshold=0.01)
    history = ae.fit(x, epochs=3, batch_size=16, verbose=0, callbacks=[monitor])
    keys = ["code_mean_abs", "code_mean_activation", "code_active_fraction", "code_dead_fraction"]
    assert all(len(history.history[k]) == 3 for k in keys)
    h = ae.encode(x[:32])
    assert history.history["code_mean_abs"][-1] == pytest.approx(np.abs(h).mean(), rel=1e-5)
    assert history.history["code_mean_activation"][-1] == pytest.approx(h.mean(), rel=1e-5)
    assert history.history["code_active_fraction"][-1] == pytest.approx((np.abs(h) > 0.01).mean())
    assert history.history["code_dead_fraction"][-1] >= 1 / 6
    np.testing.assert_allclose(monitor.unit_activation_, h.mean(axis=0), rtol=1e-5, atol=1e-6)
    # Also usable outside fit, on any trained autoencoder.
    fresh = callbacks.SparsityMonitor(x[:32], threshold=0.01)
    assert fresh.measure(ae)["code_mean_abs"] == pytest.approx(
        history.history["code_mean_abs"][-1], rel=1e-5
    )
    with pytest.raises(ValueError, match="Received: model=None"):
        callbacks.SparsityMonitor(x[:32]).measure()
    # Reusable: a second fit starts a fresh record.
    again = ae.fit(x, epochs=1, verbose=0, callbacks=[monitor])
    assert len(again.history["code_mean_abs"]) == 1


def test_monitor_on_hidden_layer_and_errors(x):
    ae = models.DenseAutoencoder((8, 8, 1), [16], code_dim=4)
    ae.compile("adam", "mse")
    history = ae.fit(
        x, epochs=1, verbose=0, callbacks=[callbacks.SparsityMonitor(x, layer="encoder_0")]
    )
    assert "encoder_0_active_fraction" in history.history
    with pytest.raises(ValueError, match="Received: layer='nope'"):
        ae.fit(x, epochs=1, verbose=0, callbacks=[callbacks.SparsityMonitor(x, layer="nope")])
    with pytest.raises(ValueError, match=r"Received: x.shape=\(0,"):
        callbacks.SparsityMonitor(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="Received: threshold=-1"):
        callbacks.SparsityMonitor(x, threshold=-1)


def test_schedulers_need_an_autoencoder(x):
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), corruption.MaskingNoise(0.1), keras.layers.Reshape((8, 8, 1))]
    )
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="needs an aekeras autoencoder.*Received: model="):
        model.fit(
            x, x, epochs=1, verbose=0, callbacks=[callbacks.NoiseScheduler(callbacks.constant(0.0))]
        )


def test_noise_scheduler_reaches_corruption_inside_the_encoder(x):
    encoder = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            corruption.MaskingNoise(0.5, name="inner_noise"),
            keras.layers.Flatten(),
            keras.layers.Dense(4),
        ]
    )
    decoder = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(64), keras.layers.Reshape((8, 8, 1))]
    )
    ae = _frozen(models.Autoencoder(encoder, decoder), False)
    history = ae.fit(
        x, epochs=1, verbose=0, callbacks=[callbacks.NoiseScheduler(callbacks.constant(0.0))]
    )
    assert history.history["noise_level"] == [0.0]
    assert encoder.get_layer("inner_noise").get_level() == 0.0
