import os

import keras
import numpy as np
import pytest

from aekeras import notebook


@pytest.mark.parametrize(
    "value, expected", [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_full_run_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(notebook.FULL_RUN_VARIABLE, value)
    assert notebook.full_run() is expected


def test_full_run_rejects_other_values(monkeypatch):
    monkeypatch.setenv(notebook.FULL_RUN_VARIABLE, "yes please")
    with pytest.raises(ValueError, match="Received: AEKERAS_FULL_RUN='yes please'"):
        notebook.full_run()


@pytest.fixture
def _restore_determinism():
    yield
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config  # no public API to undo it

        # setup() turns on op determinism for the whole process, which also
        # makes Keras fall back from XLA; later tests must not inherit it.
        config.disable_op_determinism()


def test_setup_reports_backend_and_makes_runs_repeatable(capsys, monkeypatch, _restore_determinism):
    monkeypatch.delenv(notebook.FULL_RUN_VARIABLE, raising=False)
    info = notebook.setup(seed=3)
    # NumPy's legacy global generator is what setup() seeds for code that uses it.
    first = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))  # noqa: NPY002
    notebook.setup(seed=3)
    second = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))  # noqa: NPY002
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    out = capsys.readouterr().out
    backend = keras.backend.backend()
    expected_device = ", ".join(notebook.devices()) or f"CPU ({os.cpu_count()} cores)"
    assert info["device"] == expected_device
    assert f"Backend {backend}, device: {expected_device}\n" in out and "Seed 3" in out
    assert f"Keras {keras.__version__}" in out and f"{backend} {info['versions'][backend]}" in out
    assert info["backend"] == backend and info["full_run"] is False
    assert notebook.elapsed(info).endswith(" s")


def test_setup_names_the_accelerator(capsys, monkeypatch, _restore_determinism):
    monkeypatch.setattr(notebook, "devices", lambda: ["NVIDIA H200"])
    info = notebook.setup(seed=0)
    assert info["device"] == "NVIDIA H200"
    assert "device: NVIDIA H200\n" in capsys.readouterr().out


def test_versions_name_the_backend_framework():
    import importlib

    backend = keras.backend.backend()
    assert notebook.versions()[backend] == importlib.import_module(backend).__version__
