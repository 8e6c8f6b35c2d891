"""Data-parallel training of the benchmark models: `python -m aekeras_tools.hinton2006 --data-parallel`."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from aekeras_tools import hinton2006
from aekeras_tools.paths import ROOT

DEVICES = 4

# Trains the same small autoencoder for one epoch twice in one JAX process with
# 4 simulated CPU devices: first on one device, then after hinton2006's
# --data-parallel setup. Same seed, data, batch size (a multiple of 4), no shuffle.
CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import jax
    import keras
    import aekeras
    from aekeras_tools import hinton2006

    x = np.random.default_rng(0).random((256, 64), dtype=np.float32)
    result = {"jax_devices": len(jax.devices())}

    def run(data_parallel):
        keras.utils.set_random_seed(0)
        if data_parallel:
            result["devices"] = hinton2006.use_data_parallel()
            distribution = keras.distribution.distribution()
            result["distribution"] = type(distribution).__name__
            result["replicas"] = distribution.num_model_replicas
        ae = aekeras.deep_autoencoder("64-32-8")
        initial = [np.array(w) for w in ae.get_weights()]
        hinton2006.train(
            ae, x, x, epochs=1, batch_size=32, lr=1e-3, loss="binary_crossentropy",
            ema=0.0, weight_decay=0.1, shuffle=False,
        )
        if data_parallel:
            result["variable_devices"] = sorted(
                {len(v.value.sharding.device_set) for v in ae.variables}
            )
            result["replicated"] = all(v.value.sharding.is_fully_replicated for v in ae.variables)
        error = aekeras.metrics.reconstruction_error(x, ae.reconstruct(x, batch_size=32))
        return initial, [np.array(w) for w in ae.get_weights()], float(error)

    for mode in ("single", "parallel"):
        initial, trained, error = run(mode == "parallel")
        np.savez(f"{sys.argv[1]}/{mode}_initial.npz", *initial)
        np.savez(f"{sys.argv[1]}/{mode}_trained.npz", *trained)
        result[f"{mode}_error"] = error
    print(json.dumps(result))
    """
)


def _weights(path):
    with np.load(path) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


@pytest.fixture(scope="module")
def epochs(tmp_path_factory):
    """Runs CHILD under JAX with 4 host devices; returns its JSON result and output folder."""
    if keras.backend.backend() != "jax":
        pytest.skip(
            "runs JAX in a subprocess, the same on every backend: once, in the JAX run of the suite"
        )
    out = tmp_path_factory.mktemp("data_parallel")
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        # Must be set before jax is imported: hence a fresh process.
        XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}",
        JAX_PLATFORMS="cpu",
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(out)],
        env=env,
        cwd=ROOT,  # `python -c` puts the working directory on the path: aekeras_tools
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), out


def test_data_parallel_uses_every_device(epochs):
    result, _ = epochs
    assert result["jax_devices"] == DEVICES
    assert result["devices"] == [f"cpu:{i}" for i in range(DEVICES)]
    assert result["distribution"] == "DataParallel"
    assert result["replicas"] == DEVICES
    # Every variable (weights, optimizer state) lives on all 4 devices, replicated.
    assert result["variable_devices"] == [DEVICES]
    assert result["replicated"]


def test_data_parallel_epoch_matches_the_single_device_epoch(epochs):
    result, out = epochs
    single_initial = _weights(out / "single_initial.npz")
    for a, b in zip(single_initial, _weights(out / "parallel_initial.npz"), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed: the same starting point
    single, parallel = _weights(out / "single_trained.npz"), _weights(out / "parallel_trained.npz")
    # The epoch moved the weights far beyond the tolerance below (8 AdamW steps of
    # up to lr=1e-3 each), so equal weights are not merely two untrained models.
    moved = max(np.abs(t - i).max() for t, i in zip(single, single_initial, strict=True))
    assert moved > 1e-3
    # The 4 devices sum their quarter-batch gradients in another order than one
    # device does: float32 rounding (relative 6e-8 per operation) then differs,
    # and 8 steps keep that far below rtol=1e-4 / atol=1e-5, while a wrong
    # gradient (e.g. one device's quarter only) changes each update by ~lr=1e-3.
    for a, b in zip(single, parallel, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result["parallel_error"], result["single_error"], rtol=1e-4)


def test_data_parallel_refuses_other_backends():
    with pytest.raises(ValueError, match="needs the JAX backend.*Received: backend=torch"):
        hinton2006.use_data_parallel(backend="torch")


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX supports --data-parallel")
def test_data_parallel_flag_is_refused_before_any_training(capsys):
    with pytest.raises(SystemExit) as exit_info:
        hinton2006.main(["--only", "mnist", "--data-parallel"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "needs the JAX backend" in err
    assert f"Received: backend={keras.backend.backend()}" in err


def test_even_split_accepts_batches_every_device_gets_equal_parts_of():
    hinton2006.check_even_split(4, 32, 256)
    # The paper's MNIST on 8 devices: 60,000 = 468 * 128 + 96, 10,000 = 39 * 256 + 16.
    hinton2006.check_even_split(8, 128, 60000)
    hinton2006.check_even_split(8, 256, 10000, 10000)


@pytest.mark.parametrize(
    "n_devices, batch_size, sizes, last",
    [
        (4, 30, (240,), 30),  # the batch size itself is not a multiple of 4
        (4, 32, (250,), 26),  # the last batch is not
        (32, 256, (512, 10000), 16),  # the second array's last batch is not
    ],
)
def test_even_split_refuses_a_batch_the_devices_cannot_share(n_devices, batch_size, sizes, last):
    with pytest.raises(ValueError, match=f"{sizes[-1]:,} rows") as error:
        hinton2006.check_even_split(n_devices, batch_size, *sizes, what="--batch-mnist")
    message = str(error.value)
    assert f"over the {n_devices} devices" in message
    assert f"batches of {batch_size} and {last} (--batch-mnist)" in message
    assert message.endswith(f"Received: batch_size={batch_size}")


def _fake_mnist(built_under):
    def mnist(args):
        # What the real mnist() sees when it builds its model.
        built_under.append(keras.distribution.distribution())
        return {}

    return mnist


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="--data-parallel needs JAX")
def test_data_parallel_flag_sets_the_distribution_before_the_models_and_records_it(monkeypatch):
    built_under, written = [], {}
    monkeypatch.setattr(hinton2006, "mnist", _fake_mnist(built_under))
    monkeypatch.setattr(hinton2006, "report", lambda results, budget: "table")
    monkeypatch.setattr(
        hinton2006, "write_result", lambda name, title, body, notes: written.update(notes=notes)
    )
    try:
        hinton2006.main(["--only", "mnist", "--data-parallel", "--name", "dp"])
        assert isinstance(built_under[0], keras.distribution.DataParallel)
    finally:
        keras.distribution.set_distribution(None)
    devices = keras.distribution.list_devices()
    assert written["notes"] == [
        f"Data parallel: keras.distribution.DataParallel over {len(devices)} devices "
        f"({', '.join(devices)})"
    ]


def test_without_the_flag_training_stays_on_one_device_and_says_so(monkeypatch):
    built_under, written = [], {}
    monkeypatch.setattr(hinton2006, "mnist", _fake_mnist(built_under))
    monkeypatch.setattr(hinton2006, "report", lambda results, budget: "table")
    monkeypatch.setattr(
        hinton2006, "write_result", lambda name, title, body, notes: written.update(notes=notes)
    )
    hinton2006.main(["--only", "mnist", "--name", "one"])
    assert built_under == [None]
    assert written["notes"] == ["Data parallel: no (one device, the backend's default placement)"]
