"""Quiet start-up of the Keras backend: TensorFlow's native log lines, filtered at the source.

TensorFlow's C++ core writes informational lines to the process's standard
error while its shared libraries load ("oneDNN custom operations are on",
"Could not find cuda drivers on your machine", absl's "All log messages
before absl::InitializeLog() ..."), before it reads `TF_CPP_MIN_LOG_LEVEL`.
In a notebook they become red stderr boxes in every lecture. `import aekeras`
therefore imports Keras (and so the backend) inside `quiet_start_up()`, which
drops exactly those lines and passes everything else through, and sets
`TF_CPP_MIN_LOG_LEVEL=3` for the rest of the process.

Nothing is filtered when the user has set `TF_CPP_MIN_LOG_LEVEL` themselves:
then they asked for TensorFlow's own log level. Python warnings never pass
through here (they are written to `sys.stderr`), so they stay visible.
"""

import contextlib
import os
import re
import sys
import tempfile

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"

# An absl/TensorFlow native log line of severity INFO or WARNING
# ("I0000 00:00:1795766328.716918    8591 port.cc:153] ..."), and absl's notice
# that logging is not initialised yet. ERROR and FATAL lines are kept.
NOISE = re.compile(
    r"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)$"
)


def is_noise(line):
    """Whether one line of native output is start-up noise (see the module docstring)."""
    return NOISE.match(line.rstrip("\r\n")) is not None


@contextlib.contextmanager
def quiet_start_up():
    """Within the block, drops TensorFlow's native INFO/WARNING lines from file descriptor 2.

    Other output written to the descriptor is passed on when the block ends.
    Does nothing when `TF_CPP_MIN_LOG_LEVEL` is already set, or when the
    process has no file descriptor 2.
    """
    if LOG_LEVEL_VARIABLE in os.environ:
        yield
        return
    # Later native INFO, WARNING and ERROR lines (e.g. "failed call to cuInit" on a
    # machine without a GPU); errors that matter reach Python as exceptions.
    os.environ[LOG_LEVEL_VARIABLE] = "3"
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        _flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not is_noise(line))
            if kept:
                os.write(2, kept.encode("utf-8"))


def _flush():
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.flush()
