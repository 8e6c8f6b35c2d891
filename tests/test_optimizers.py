import keras
import numpy as np
import pytest

from aekeras import optimizers


def _rates(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_warmup_cosine_rises_linearly_then_decays_to_zero():
    lr = optimizers.warmup_cosine(2e-3, total_steps=110, warmup_steps=10)
    np.testing.assert_allclose(_rates(lr, [0, 5, 10]), [0.0, 1e-3, 2e-3], rtol=1e-5, atol=1e-9)
    decay = _rates(lr, range(10, 111))
    assert np.all(np.diff(decay) <= 1e-9)  # never rises after the warm-up
    np.testing.assert_allclose(decay[50], 1e-3, rtol=1e-4)  # half-way down the cosine
    assert decay[-1] == pytest.approx(0.0, abs=1e-9)


def test_warmup_cosine_without_warmup_is_keras_cosine_decay():
    ours = optimizers.warmup_cosine(1e-3, total_steps=50)
    keras_own = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=50)
    steps = [0, 7, 25, 49, 50]
    np.testing.assert_allclose(_rates(ours, steps), _rates(keras_own, steps), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"total_steps": 0}, "total_steps"),
        ({"warmup_steps": 100}, "warmup_steps"),
        ({"warmup_steps": -1}, "warmup_steps"),
    ],
)
def test_warmup_cosine_rejects_bad_arguments(kwargs, match):
    args = {"learning_rate": 1e-3, "total_steps": 100, "warmup_steps": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        optimizers.warmup_cosine(**args)


def test_adamw_recipe_warms_up_for_two_epochs_at_most_a_tenth():
    short = optimizers.adamw_recipe(epochs=5, steps_per_epoch=100)  # a tenth: 50 steps
    long = optimizers.adamw_recipe(epochs=100, steps_per_epoch=100)  # two epochs: 200 steps
    for opt, warmup in ((short, 50), (long, 200)):
        schedule = opt._learning_rate
        assert float(schedule(warmup)) == pytest.approx(1e-3)
        assert float(schedule(warmup // 2)) == pytest.approx(5e-4)
    assert short.weight_decay == 0.1 and not short.use_ema


def test_adamw_recipe_decays_weights_and_averages_them():
    opt = optimizers.adamw_recipe(epochs=1, steps_per_epoch=10, weight_decay=0.5, ema_momentum=0.9)
    assert opt.use_ema and opt.ema_momentum == 0.9
    w = keras.Variable(np.ones(3, "float32"))
    opt.build([w])
    opt.apply_gradients([(keras.ops.zeros(3), w)])  # step 0: warm-up starts at rate 0
    opt.apply_gradients([(keras.ops.zeros(3), w)])
    # With a zero gradient, only the decay moves w: w *= 1 - lr(1) * 0.5, lr(1) = 1e-3.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(w), 1 - 1e-3 * 0.5, rtol=1e-6)


def test_adamw_recipe_rejects_bad_arguments():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.adamw_recipe(epochs=1, steps_per_epoch=1, ema_momentum=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.adamw_recipe(epochs=1, steps_per_epoch=1, weight_decay=-0.1)
    with pytest.raises(ValueError, match="epochs"):
        optimizers.adamw_recipe(epochs=0, steps_per_epoch=1)
