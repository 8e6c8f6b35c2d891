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


def test_aekeras_seed_overrides_the_lectures_seed(capsys, monkeypatch, _restore_determinism):
    # The claims audit reruns a lecture with other seeds through this variable alone.
    monkeypatch.setenv(notebook.SEED_VARIABLE, "7")
    info = notebook.setup(seed=0)
    overridden = np.random.rand(3)  # noqa: NPY002
    assert info["seed"] == 7 and "Seed 7" in capsys.readouterr().out
    monkeypatch.delenv(notebook.SEED_VARIABLE)
    assert notebook.setup(seed=7)["seed"] == 7
    np.testing.assert_array_equal(np.random.rand(3), overridden)  # noqa: NPY002
    assert notebook.setup(seed=0)["seed"] == 0


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_aekeras_seed_must_be_a_non_negative_integer(value, monkeypatch):
    monkeypatch.setenv(notebook.SEED_VARIABLE, value)
    with pytest.raises(ValueError, match=rf"AEKERAS_SEED must be a non-negative integer.*{value}"):
        notebook.setup(seed=0)


def test_setup_names_the_accelerator(capsys, monkeypatch, _restore_determinism):
    monkeypatch.setattr(notebook, "devices", lambda: ["NVIDIA H200"])
    info = notebook.setup(seed=0)
    assert info["device"] == "NVIDIA H200"
    assert "device: NVIDIA H200\n" in capsys.readouterr().out


def test_setup_shows_a_record_of_what_it_runs_on_in_a_kernel(
    capsys, monkeypatch, _restore_determinism
):
    # The course tooling reads this record (aekeras_tools.site, .jupyterlab, .lecture_claims).
    shown = []
    monkeypatch.setattr(notebook, "_in_kernel", lambda: True)
    monkeypatch.setattr(notebook, "_inline_figures", lambda: None)
    monkeypatch.setattr(notebook, "_display", shown.append)
    monkeypatch.setattr(notebook, "devices", lambda: ["NVIDIA H200"])
    monkeypatch.setenv(notebook.FULL_RUN_VARIABLE, "1")
    info = notebook.setup(seed=5)
    ((bundle,),) = [shown]
    assert capsys.readouterr().out == ""  # shown once, as the bundle
    assert bundle["text/plain"].startswith(
        f"Backend {keras.backend.backend()}, device: NVIDIA H200\n"
    )
    assert "Seed 5, settings: FULL" in bundle["text/plain"]
    assert bundle[notebook.SETUP_MIMETYPE] == {
        "seed": 5,
        "backend": keras.backend.backend(),
        "devices": ["NVIDIA H200"],
        "device": "NVIDIA H200",
        "versions": notebook.versions(),
        "full_run": True,
    }
    assert info["versions"] == bundle[notebook.SETUP_MIMETYPE]["versions"]


def test_versions_name_the_backend_framework():
    import importlib

    backend = keras.backend.backend()
    assert notebook.versions()[backend] == importlib.import_module(backend).__version__


@pytest.mark.parametrize(
    "comparison, value, threshold, margin",
    [("<", 0.31, 0.65, 0.34), ("<=", 2.0, 2.0, 0.0), (">", 5.0, 3.0, 2.0), (">=", 3.0, 3.0, 0.0)],
)
def test_claim_returns_the_value_and_prints_its_margin(
    capsys, comparison, value, threshold, margin
):
    assert notebook.claim("ratio", value, comparison, threshold) == value
    out = capsys.readouterr().out
    assert out.startswith(f"claim holds: ratio = {value:.4g} {comparison} {threshold:.4g}")
    assert f"(margin {margin:.4g})" in out


@pytest.mark.parametrize(
    "comparison, value", [("<", 0.65), ("<", 0.7), (">", 3.0), (">=", 2.9), ("<", float("nan"))]
)
def test_claim_fails_when_it_does_not_hold(comparison, value):
    with pytest.raises(AssertionError, match=r"claim FAILED: ratio = .* \(margin"):
        notebook.claim("ratio", value, comparison, 0.65 if comparison == "<" else 3.0)


def test_claim_rejects_bad_arguments():
    with pytest.raises(ValueError, match="comparison"):
        notebook.claim("ratio", 0.1, "==", 0.2)
    with pytest.raises(ValueError, match="description"):
        notebook.claim("", 0.1, "<", 0.2)


def test_claim_in_a_kernel_displays_a_record(monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "_in_kernel", lambda: True)
    monkeypatch.setattr(notebook, "_display", shown.append)
    monkeypatch.setenv("AEKERAS_FULL_RUN", "1")
    notebook.claim("AE / PCA", 0.3, "<", 0.5)
    (bundle,) = shown
    record = bundle[notebook.CLAIM_MIMETYPE]
    assert record["description"] == "AE / PCA" and record["full_run"] is True
    assert record["margin"] == pytest.approx(0.2) and record["relative_margin"] == pytest.approx(
        0.4
    )
    assert bundle["text/plain"].startswith("claim holds: AE / PCA")
    assert record["holds"] is True


def test_a_failed_claim_is_on_record_before_it_raises(monkeypatch):
    # The claims audit reads the value of a claim that failed for one seed from this record.
    shown = []
    monkeypatch.setattr(notebook, "_in_kernel", lambda: True)
    monkeypatch.setattr(notebook, "_display", shown.append)
    with pytest.raises(AssertionError, match="claim FAILED: AE / PCA = 0.7 < 0.5"):
        notebook.claim("AE / PCA", 0.7, "<", 0.5)
    (bundle,) = shown
    record = bundle[notebook.CLAIM_MIMETYPE]
    assert record["holds"] is False and record["value"] == pytest.approx(0.7)
    assert record["margin"] == pytest.approx(-0.2)
    assert bundle["text/plain"].startswith("claim FAILED: AE / PCA")
