import keras
import numpy as np
import pytest

from aekeras import notebook


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False)])
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
    first = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    notebook.setup(seed=3)
    second = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    out = capsys.readouterr().out
    assert f"backend {keras.backend.backend()}" in out and "seed 3" in out
    assert info["backend"] == keras.backend.backend() and info["full_run"] is False
    assert notebook.elapsed(info).endswith(" s")
