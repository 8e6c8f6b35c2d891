"""aekeras._backend: `import aekeras` works where Keras' default backend, TensorFlow, is missing."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from aekeras._backend import choose_backend


def _installed(*names):
    return lambda name: name in names


def test_a_chosen_backend_is_kept_even_when_it_is_missing(tmp_path):
    environ = {"KERAS_BACKEND": "torch", "HOME": str(tmp_path)}
    assert choose_backend(environ, _installed("jax")) == "torch"
    assert environ["KERAS_BACKEND"] == "torch"


def test_tensorflow_stays_the_default_where_it_is_installed(tmp_path):
    environ = {"HOME": str(tmp_path)}
    assert choose_backend(environ, _installed("tensorflow", "jax")) == "tensorflow"
    assert "KERAS_BACKEND" not in environ  # Keras decides, as without aekeras


@pytest.mark.parametrize("installed, expected", [(("jax", "torch"), "jax"), (("torch",), "torch")])
def test_without_tensorflow_the_installed_backend_is_taken(tmp_path, installed, expected):
    environ = {"HOME": str(tmp_path)}
    assert choose_backend(environ, _installed(*installed)) == expected
    assert environ["KERAS_BACKEND"] == expected


def test_keras_json_is_respected_when_its_backend_is_installed(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    environ = {"KERAS_HOME": str(tmp_path)}
    assert choose_backend(environ, _installed("jax", "torch")) == "torch"
    assert "KERAS_BACKEND" not in environ


def test_keras_json_naming_a_missing_backend_falls_back_to_an_installed_one(tmp_path):
    (tmp_path / ".keras").mkdir()
    (tmp_path / ".keras" / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    environ = {"HOME": str(tmp_path)}
    assert choose_backend(environ, _installed("torch")) == "torch"


def test_no_backend_at_all_says_which_extra_to_install(tmp_path):
    with pytest.raises(ImportError, match=r'pip install "aekeras\[jax\]"'):
        choose_backend({"HOME": str(tmp_path)}, _installed())


def test_import_aekeras_without_a_chosen_backend(tmp_path):
    # A fresh process with no KERAS_BACKEND and no keras.json: TensorFlow where it is installed
    # (the complete environment), else JAX (the environment without TensorFlow has it).
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    env["HOME"] = str(tmp_path)
    code = "import aekeras, keras; print(keras.backend.backend())"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    expected = "tensorflow" if importlib.util.find_spec("tensorflow") else "jax"
    assert result.stdout.split()[-1] == expected
