"""Why PyTorch slowed down beside TensorFlow in `tasks.py test`: threads that spin on a shared CPU.

Usage (from the repository root, after `python3 tasks.py setup` and `python3 tasks.py setup --backend jax`):

    python -m aekeras_tools.stream_threads [--seconds 30]

`python3 tasks.py test` runs the TensorFlow suite beside the JAX and PyTorch ones: two streams on a
machine of few cores. PyTorch's CPU kernels run on OpenMP (GNU libgomp), whose threads spin at a
barrier while they wait for each other; when the other stream holds a core, a spinning thread burns
the time slice the thread it waits for needs, and every parallel operation stalls. (In CI the PyTorch
suite took 806 s alone and 2,222 s beside TensorFlow's.) This measures it: the same small dense
autoencoder trained on PyTorch for `--seconds`, alone and beside a TensorFlow process training the
same model, with PyTorch's default threads, with `OMP_WAIT_POLICY=PASSIVE` (threads that sleep
instead of spinning) and with one thread (`OMP_NUM_THREADS=1`). It prints examples per second and
writes benchmarks/results/stream_threads.md. `tasks.py test` sets `OMP_WAIT_POLICY=PASSIVE` in
both streams when it runs two.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from aekeras_tools.paths import ROOT
from aekeras_tools.results import table
from aekeras_tools.results import write_result

TRAIN = """
import sys, time
import numpy as np
import keras
x = np.random.default_rng(0).random((4096, 784)).astype("float32")
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(32), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(784, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x, x, epochs=1, batch_size=128, verbose=0)
start, epochs = time.time(), 0
while time.time() - start < float(sys.argv[1]):
    model.fit(x, x, epochs=1, batch_size=128, verbose=0)
    epochs += 1
print(epochs * len(x) / (time.time() - start))
"""
SETTINGS = {
    "default threads": {},
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"},
}


def python_of(variable, default):
    return Path(os.environ.get(variable, ROOT / default)) / "bin" / "python"


def train(python, backend, seconds, extra, script):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}
    return subprocess.Popen(
        [str(python), str(script), str(seconds)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def rate(process):
    out, _ = process.communicate()
    return float(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    tf_python = python_of("AEKERAS_VENV", ".venv")
    torch_python = python_of("AEKERAS_VENV_NO_TF", ".venv-no-tf")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "train.py"
        script.write_text(TRAIN)
        for name, extra in SETTINGS.items():
            alone = rate(train(torch_python, "torch", args.seconds, extra, script))
            beside = train(tf_python, "tensorflow", args.seconds, {}, script)
            torch = rate(train(torch_python, "torch", args.seconds, extra, script))
            rows.append([name, f"{alone:,.0f}", f"{torch:,.0f}", f"{rate(beside):,.0f}"])
            print(rows[-1], flush=True)
    write_result(
        "stream_threads",
        "PyTorch beside TensorFlow on a shared CPU: OpenMP's spinning threads",
        table(
            ["PyTorch's threads", "PyTorch alone (ex/s)", "PyTorch beside TF (ex/s)", "TF (ex/s)"],
            rows,
        ),
        notes=[
            f"A 784-256-32-256-784 dense autoencoder, batches of 128, {args.seconds:.0f} s per "
            "measurement; TensorFlow with its default threads in every row."
        ],
        backend="torch, tensorflow",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
