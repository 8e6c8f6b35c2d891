"""Shared pytest configuration: backend report, seeds, test data and a save/load helper."""

import os
import re
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture
def save_and_load(tmp_path):
    """Saves a model as `.keras` and loads it back (safe_mode on, no custom_objects)."""

    def round_trip(model, name="model.keras"):
        path = tmp_path / name
        model.save(path)
        return keras.models.load_model(path)

    return round_trip


def _random_images(n=64, shape=(28, 28, 1), seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((4, *shape))
    noisy = base[rng.integers(0, 4, n)] + 0.1 * rng.standard_normal((n, *shape))
    return np.clip(noisy, 0, 1).astype("float32")


@pytest.fixture
def random_images():
    """Makes float32 images in [0, 1], four prototypes plus noise: `random_images(n, shape, seed)`."""
    return _random_images


@pytest.fixture
def readme_example():
    """The README's "Example" code (`.code`) and the check of what it prints and writes (`.check`)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Example", 1)[1]

    def check(stdout, folder):
        assert "'sparsity_strength': [0.1, 0.0]" in stdout, stdout
        assert "per-image squared error:" in stdout
        assert (folder / "ae.keras").exists()

    return SimpleNamespace(
        code=re.search(r"```python\n(.*?)```", section, re.S).group(1), check=check
    )
