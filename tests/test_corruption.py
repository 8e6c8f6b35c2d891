import keras
import numpy as np
import pytest

from aekeras import corruption

X = np.full((200, 50), 0.5, "float32")


@pytest.mark.parametrize(
    "make",
    [
        lambda: corruption.AdditiveGaussianNoise(0.2),
        lambda: corruption.MaskingNoise(0.3),
        lambda: corruption.SaltAndPepperNoise(0.3),
    ],
    ids=["AdditiveGaussianNoise", "MaskingNoise", "SaltAndPepperNoise"],
)
def test_identity_at_inference_and_noisy_in_training(make):
    layer = make()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(X)), X)
    noisy = keras.ops.convert_to_numpy(layer(X, training=True))
    assert noisy.shape == X.shape and not np.array_equal(noisy, X)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_draw_noise_equals_keras_random_outside_xla(distribution):
    # Guards the Keras behaviour that draw_noise copies on TensorFlow (the seed
    # a SeedGenerator yields, reduced to int32, and the Philox algorithm that
    # "auto_select" picks outside XLA): eager draws equal keras.random's, draw
    # after draw. On JAX and PyTorch draw_noise is keras.random itself.
    keras_sample = keras.random.normal if distribution == "normal" else keras.random.uniform
    ours, theirs = keras.random.SeedGenerator(7), keras.random.SeedGenerator(7)
    for _ in range(2):
        expected = keras.ops.convert_to_numpy(keras_sample((64, 32), dtype="float32", seed=theirs))
        got = keras.ops.convert_to_numpy(
            corruption.draw_noise(distribution, (64, 32), "float32", ours)
        )
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="Received: distribution='poisson'"):
        corruption.draw_noise("poisson", (2,), "float32", ours)


def test_gaussian_noise_statistics_and_clipping():
    x = np.full((400, 100), 0.5, "float32")
    noisy = corruption.AdditiveGaussianNoise(0.1, seed=0).corrupt(x, seed=1)
    assert abs((noisy - x).mean()) < 0.005
    assert (noisy - x).std() == pytest.approx(0.1, rel=0.03)
    clipped = corruption.AdditiveGaussianNoise(1.0, clip=(0.0, 1.0)).corrupt(x, seed=1)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


@pytest.mark.parametrize("jit_compile", [False, True])
def test_noise_in_a_compiled_function_has_the_right_statistics_and_changes_each_batch(jit_compile):
    # In training the noise is drawn inside the compiled step (XLA with jit_compile=True),
    # where the TensorFlow backend takes its own sampling path (corruption.draw_noise).
    class AlwaysNoisy(keras.Model):
        def __init__(self):
            super().__init__()
            self.noise = corruption.AdditiveGaussianNoise(0.1, seed=0)

        def call(self, x):
            return self.noise(x, training=True)

    model = AlwaysNoisy()
    model.compile(jit_compile=jit_compile)
    x = np.full((512, 100), 0.5, "float32")
    noise = model.predict(x, batch_size=256, verbose=0) - x
    assert abs(noise.mean()) < 0.003
    assert noise.std() == pytest.approx(0.1, rel=0.03)
    assert not np.allclose(noise[:256], noise[256:])  # a new draw per batch


def test_masking_noise_zeroes_fraction_without_rescaling():
    noisy = corruption.MaskingNoise(0.25).corrupt(np.ones((400, 100), "float32"), seed=3)
    assert (noisy == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert set(np.unique(noisy)) == {0.0, 1.0}


def test_salt_and_pepper_sets_fraction_to_extremes_half_each():
    noisy = corruption.SaltAndPepperNoise(0.4, low=-1.0, high=2.0).corrupt(
        np.zeros((400, 100), "float32"), seed=5
    )
    assert (noisy != 0).mean() == pytest.approx(0.4, abs=0.01)
    assert (noisy == 2.0).mean() == pytest.approx(0.2, abs=0.01)
    assert (noisy == -1.0).mean() == pytest.approx(0.2, abs=0.01)


def test_corrupt_is_reproducible_with_a_seed():
    layer = corruption.MaskingNoise(0.5)
    a, b = layer.corrupt(X, seed=7), layer.corrupt(X, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, layer.corrupt(X, seed=8))


def test_level_is_schedulable_and_validated():
    layer = corruption.MaskingNoise(0.5)
    layer.set_level(0.0)
    np.testing.assert_array_equal(layer.corrupt(X, seed=1), X)
    with pytest.raises(ValueError, match="Received: rate=1.0"):
        layer.set_level(1.0)
    gauss = corruption.AdditiveGaussianNoise(0.1)
    gauss.set_level(0.0)
    np.testing.assert_array_equal(gauss.corrupt(X, seed=1), X)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: corruption.MaskingNoise(1.5), "Received: rate=1.5"),
        (lambda: corruption.MaskingNoise(-0.1), "Received: rate=-0.1"),
        (lambda: corruption.SaltAndPepperNoise(1.0), "Received: rate=1.0"),
        (lambda: corruption.SaltAndPepperNoise(0.1, low=1, high=0), "Received: low=1, high=0"),
        (lambda: corruption.AdditiveGaussianNoise(-1.0), "Received: stddev=-1.0"),
        (lambda: corruption.AdditiveGaussianNoise(0.1, clip=(1, 0)), r"Received: clip=\(1, 0\)"),
        (lambda: corruption.AdditiveGaussianNoise(float("inf")), "Received: stddev=inf"),
        (lambda: corruption.MaskingNoise(True), "Received: rate=True"),
        (lambda: corruption.get("gauss"), "Received: identifier='gauss'"),
    ],
)
def test_bad_arguments_name_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: corruption.AdditiveGaussianNoise(0.2, clip=(0.0, 1.0), seed=1),
        lambda: corruption.MaskingNoise(0.3, seed=2),
        lambda: corruption.SaltAndPepperNoise(0.1, low=0.0, high=1.0, seed=3),
    ],
    ids=["AdditiveGaussianNoise", "MaskingNoise", "SaltAndPepperNoise"],
)
def test_round_trip_in_saved_model(make, save_and_load):
    layer = make()
    model = keras.Sequential([keras.Input((50,)), layer, keras.layers.Dense(2)])
    layer.set_level(0.05)
    loaded = save_and_load(model)
    restored = loaded.layers[0]
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
    assert restored.get_level() == pytest.approx(0.05)
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))
