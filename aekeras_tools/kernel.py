"""The course's Jupyter kernel: its spec, the same wherever it is installed (standard library only).

The kernel imports aekeras before the first cell: `import aekeras` brings up Keras' backend with
TensorFlow's native start-up log lines filtered out (aekeras/_native_logs.py), so that JupyterLab and
the rendered lectures show no C++ log noise. The kernel's own log shows errors only, not its notice
that it talks to the notebook server over TCP on this machine. Python warnings still reach the
notebook. `tasks.py setup` installs it into the project's environments, `aekeras_tools.hub` into the
users' environment of a demo class.
"""


def spec(python):
    """The kernel spec (a dict, for `kernel.json`) of the course kernel run by `python`."""
    return {
        "argv": [
            str(python),
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.exec_lines=import aekeras",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python 3 (aekeras)",
        "language": "python",
        "metadata": {"debugger": True},
    }
