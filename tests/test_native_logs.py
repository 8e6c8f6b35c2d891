"""`import aekeras` brings up the Keras backend without native log noise, and hides nothing else."""

import os
import subprocess
import sys

import keras
import pytest

from aekeras import _native_logs

ONEDNN = (
    "I0000 00:00:1795766328.716918    8591 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors."
)
CUDA = "I0000 00:00:1795766328.717372    8591 cudart_stub.cc:31] Could not find cuda drivers on your machine."
ABSL = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
ERROR = "E0000 00:00:1795766333.166344    8591 cuda_platform.cc:52] failed call to cuInit: INTERNAL"


@pytest.mark.parametrize(
    "line", [ONEDNN, CUDA, ABSL, ABSL + "\n", "W1127 08:01:02.123456  77 a_b.cc:9] w"]
)
def test_start_up_lines_are_noise(line):
    assert _native_logs.is_noise(line)


@pytest.mark.parametrize(
    "line",
    [
        ERROR,
        "UserWarning: a warning a student must see",
        "Traceback (most recent call last):",
        "",
        "I0000 plain",
    ],
)
def test_errors_warnings_and_other_text_are_not_noise(line):
    assert not _native_logs.is_noise(line)


def test_quiet_start_up_drops_noise_and_passes_the_rest_on(monkeypatch, capfd):
    monkeypatch.delenv(_native_logs.LOG_LEVEL_VARIABLE, raising=False)
    with _native_logs.quiet_start_up():
        os.write(2, f"{ABSL}\n{ONEDNN}\nkept line\n{ERROR}\n{CUDA}\n".encode())
    assert capfd.readouterr().err == f"kept line\n{ERROR}\n"
    assert os.environ[_native_logs.LOG_LEVEL_VARIABLE] == "3"


def test_quiet_start_up_respects_a_log_level_set_by_the_user(monkeypatch, capfd):
    monkeypatch.setenv(_native_logs.LOG_LEVEL_VARIABLE, "0")
    with _native_logs.quiet_start_up():
        os.write(2, f"{ONEDNN}\n".encode())
    assert capfd.readouterr().err == f"{ONEDNN}\n"
    assert os.environ[_native_logs.LOG_LEVEL_VARIABLE] == "0"


def test_import_aekeras_is_silent_and_keeps_python_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != _native_logs.LOG_LEVEL_VARIABLE}
    env["KERAS_BACKEND"] = keras.backend.backend()
    code = (
        "import warnings, aekeras, keras\n"
        "keras.ops.convert_to_numpy(keras.ops.ones((2, 2)) @ keras.ops.ones((2, 2)))\n"
        "warnings.warn('a warning a student must see')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # Python shows no source line for `-c` code: the warning is all there is.
    assert result.stderr == "<string>:3: UserWarning: a warning a student must see\n"
