import keras
import numpy as np
import pytest

from aekeras import regularizers


def test_l1_is_mean_over_examples_of_sum_over_units():
    h = np.random.default_rng(0).standard_normal((7, 5)).astype("float32")
    reg = regularizers.L1Sparsity(0.3)
    expected = 0.3 * np.abs(h).sum(axis=1).mean()
    np.testing.assert_allclose(float(reg(h)), expected, rtol=1e-5)


def test_l1_does_not_depend_on_batch_size():
    h = np.random.default_rng(0).random((4, 6)).astype("float32")
    reg = regularizers.L1Sparsity(1.0)
    np.testing.assert_allclose(float(reg(np.concatenate([h] * 5))), float(reg(h)), rtol=1e-5)


def test_kl_matches_formula_on_batch_means():
    h = np.random.default_rng(1).uniform(0.01, 0.99, (16, 8)).astype("float32")
    rho, beta = 0.05, 2.0
    rho_hat = h.mean(axis=0)
    expected = beta * np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    reg = regularizers.KLSparsity(target=rho, strength=beta)
    np.testing.assert_allclose(float(reg(h)), expected, rtol=1e-4)


def test_kl_is_zero_at_target_and_positive_elsewhere():
    reg = regularizers.KLSparsity(target=0.2, strength=1.0)
    assert abs(float(reg(np.full((3, 4), 0.2, "float32")))) < 1e-6
    assert float(reg(np.full((3, 4), 0.6, "float32"))) > 0.1


def test_kl_is_finite_for_saturated_units():
    reg = regularizers.KLSparsity(target=0.05)
    value = float(reg(np.array([[0.0, 1.0]] * 4, "float32")))
    assert np.isfinite(value) and value > 0


@pytest.mark.parametrize("cls", [regularizers.L1Sparsity, regularizers.KLSparsity])
def test_config_round_trip(cls):
    reg = cls(strength=0.25)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(reg))
    assert type(restored) is cls and restored.get_config() == reg.get_config()


def test_kl_config_chains_to_the_base_class():
    assert regularizers.KLSparsity(target=0.1, strength=2.0).get_config() == {
        "strength": 2.0,
        "target": 0.1,
    }


@pytest.mark.parametrize("strength", [-0.1, float("nan"), float("inf"), "big", True])
def test_bad_strength_is_rejected_with_value(strength):
    with pytest.raises(ValueError, match="Received: strength="):
        regularizers.L1Sparsity(strength)


@pytest.mark.parametrize("target", [0.0, 1.0, -0.5, 2])
def test_bad_target_is_rejected_with_value(target):
    with pytest.raises(ValueError, match=f"Received: target={target}"):
        regularizers.KLSparsity(target=target)


def test_get_accepts_names_configs_and_rejects_others():
    assert isinstance(regularizers.get("l1"), regularizers.L1Sparsity)
    assert isinstance(regularizers.get("KL"), regularizers.KLSparsity)
    reg = regularizers.get(keras.saving.serialize_keras_object(regularizers.L1Sparsity(0.5)))
    assert reg.strength == 0.5
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="Received: identifier='l2'"):
        regularizers.get("l2")
