"""Shared pytest configuration: backend report, seeds and a save/load helper."""

import os

import keras
import numpy as np
import pytest


def pytest_report_header(config):
    raw = os.environ.get("AEKERAS_RAW_DATA", "<unset>")
    return [
        f"keras {keras.__version__}, backend: {keras.backend.backend()}",
        f"AEKERAS_RAW_DATA={raw}",
    ]


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()


def save_and_load(obj, tmp_path, name="model.keras"):
    """Saves a model as `.keras` and loads it back (safe_mode on, no custom_objects)."""
    path = tmp_path / name
    obj.save(path)
    return keras.models.load_model(path)


def random_images(n=64, shape=(28, 28, 1), seed=0):
    """Float32 images in [0, 1] with some structure (not pure noise)."""
    rng = np.random.default_rng(seed)
    base = rng.random((4, *shape))
    return np.clip(base[rng.integers(0, 4, n)] + 0.1 * rng.standard_normal((n, *shape)), 0, 1).astype("float32")
