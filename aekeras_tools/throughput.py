"""Training throughput of the deep autoencoder: aekeras against plain Keras, and the FLOP rate.

(One module of over 400 lines: a benchmark script whose parts, the two models, the timing rounds, the
matmul ceilings and the report, only make sense together and are read top to bottom.)

Usage: python -m aekeras_tools.throughput [--repeats 7] [--examples 30000]
       KERAS_BACKEND=jax python -m aekeras_tools.throughput
       python -m aekeras_tools.throughput --backend tensorflow jax torch   # side by side

With `--backend`, each backend runs in its own process, one after the other
in one run, and one table compares them (`results/throughput_backends.md`):
training examples per second of the plain-Keras and the aekeras autoencoder at
the lectures' batch size (128) and at 256, compiled as `compile()` does by
default (`jit_compile="auto"`: XLA on TensorFlow and JAX, eager on PyTorch),
the ratio aekeras / plain Keras (median of per-round ratios), and the FLOP
rate as a fraction of the machine's best float32 matmul rate: the fastest of
NumPy's BLAS and each backend's own 2048x2048 product, measured in the same
run. A last column gives the ceiling set by the model's own matrix shapes:
NumPy's time for the 24 products of one training step (forward, and the two
backward products of each of the 8 layers) at that batch size, which is what
the small 250-30 layers allow; the gap between it and the measured rate is
the rest of the step (activations, loss, the optimizer update, the input
pipeline and the framework's overhead).

Part 1 trains the 784-1000-500-250-30 autoencoder built with aekeras and the
same architecture written in plain Keras, one epoch each, in rounds: every
round trains each variant once, in an order that reverses from one round to
the next (so a slow drift of the machine's speed hits all variants alike).
It reports each variant's median examples per second and its ratio to plain
Keras, both as the ratio of the medians and as the median of the per-round
ratios (the robust one on a shared machine: both epochs of a pair ran within
seconds of each other). Variants: aekeras alone; with the L1 sparsity penalty;
with the penalty, a `SparsityMonitor` on 1000 examples and a masking-noise
corruption layer.

Part 2 converts throughput to a float32 FLOP rate (6 FLOPs per kernel weight
per example: the forward product and the two products of the backward pass)
and compares it with this machine's float32 matrix-multiply rate, measured in
the same run (best of several 2048x2048 products: the practical ceiling of
this hardware and backend), for several batch sizes, with and without
`jit_compile`, and with `steps_per_execution` (several training steps per
call from Python). Results go to benchmarks/results/throughput_<backend>.md.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

# aekeras first: it imports Keras with TensorFlow's start-up log lines filtered out.
import aekeras  # isort: split

import keras
import numpy as np

from aekeras_tools.paths import ROOT
from aekeras_tools.results import table
from aekeras_tools.results import write_result

SIZES = [784, 1000, 500, 250, 30]


def plain_keras():
    """The same autoencoder in plain Keras: Dense layers, ReLU, linear code, sigmoid output."""
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for units in SIZES[1:-1]:
        layers.append(keras.layers.Dense(units, activation="relu"))
    layers.append(keras.layers.Dense(SIZES[-1]))
    for units in SIZES[-2:0:-1]:
        layers.append(keras.layers.Dense(units, activation="relu"))
    layers += [
        keras.layers.Dense(SIZES[0], activation="sigmoid"),
        keras.layers.Reshape((28, 28, 1)),
    ]
    return keras.Sequential(layers)


def aekeras_model(sparsity=False, corruption=None):
    return aekeras.deep_autoencoder(
        "784-1000-500-250-30",
        input_shape=(28, 28, 1),
        sparsity=aekeras.L1Sparsity(1e-4) if sparsity else None,
        corruption=corruption,
    )


def kernel_weights(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) == 2)


class Variant:
    def __init__(
        self, name, make, x, batch_size, jit_compile=True, monitor=False, steps_per_execution=1
    ):
        self.name, self.x, self.batch_size = name, x, batch_size
        self.model = make()
        self.model.compile(
            optimizer="adam",
            loss="binary_crossentropy",
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
        self.callbacks = [aekeras.SparsityMonitor(x[:1000])] if monitor else []
        self.rates = []
        self.epoch(warmup=True)

    def epoch(self, warmup=False):
        start = time.perf_counter()
        self.model.fit(
            self.x,
            self.x,
            batch_size=self.batch_size,
            epochs=1,
            verbose=0,
            callbacks=self.callbacks,
        )
        seconds = time.perf_counter() - start
        if not warmup:
            self.rates.append(len(self.x) / seconds)

    @property
    def median(self):
        return statistics.median(self.rates)

    def ratio_to(self, base):
        """(ratio of the medians, median of the per-round ratios) against `base`."""
        paired = [a / b for a, b in zip(self.rates, base.rates)]
        return self.median / base.median, statistics.median(paired)


def run_alternately(variants, repeats):
    """Trains each variant one epoch per round; the order reverses every round."""
    for i in range(repeats):
        for v in variants if i % 2 == 0 else variants[::-1]:
            v.epoch()


def matmul_rate(n=2048, calls=10):
    """float32 FLOP/s of an n x n matrix product on the current backend (best of 3)."""
    a = keras.random.uniform((n, n), seed=0)
    b = keras.random.uniform((n, n), seed=1)
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b)[0, 0])
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            c = keras.ops.matmul(a, b)
        keras.ops.convert_to_numpy(c[0, 0])
        best = max(best, 2 * n**3 * calls / (time.perf_counter() - start))
    return best


def numpy_matmul_rate(n=2048, calls=10):
    """float32 FLOP/s of an n x n product with NumPy's BLAS (best of 3)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            a @ b
        best = max(best, 2 * n**3 * calls / (time.perf_counter() - start))
    return best


def layer_shape_ceiling(batch_size, sizes=None, repeats=5):
    """Examples/s if a training step were only its matrix products, timed with NumPy.

    One step of the dense autoencoder multiplies, for each layer with `n_in`
    inputs and `n_out` outputs: X (batch x n_in) by W (forward), dY by W^T
    (the gradient of the input) and X^T by dY (the gradient of the weights).
    Returns (examples per second, FLOP/s) of the fastest of `repeats` steps.
    """
    sizes = SIZES + SIZES[-2::-1] if sizes is None else sizes
    rng = np.random.default_rng(0)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    x = [rng.random((batch_size, n_in), dtype=np.float32) for n_in, _ in shapes]
    w = [rng.random((n_in, n_out), dtype=np.float32) for n_in, n_out in shapes]
    dy = [rng.random((batch_size, n_out), dtype=np.float32) for _, n_out in shapes]
    best = math.inf
    for _ in range(repeats + 1):  # the first round warms up
        start = time.perf_counter()
        for xi, wi, dyi in zip(x, w, dy):
            xi @ wi
            dyi @ wi.T
            xi.T @ dyi
        best = min(best, time.perf_counter() - start)
    flops = 6 * batch_size * sum(n_in * n_out for n_in, n_out in shapes)
    return batch_size / best, flops / best


def sampling_times(shape=(256, 28, 28, 1), calls=20):
    """ms per draw of `shape` normal and uniform samples under jit_compile: Keras's samplers and aekeras's."""
    draw_noise = aekeras.corruption.draw_noise
    rows = []
    for name, draw in [
        ("keras.random.normal", lambda g: keras.random.normal(shape, seed=g)),
        (
            "aekeras.corruption.draw_noise (normal)",
            lambda g: draw_noise("normal", shape, "float32", g),
        ),
        ("keras.random.uniform", lambda g: keras.random.uniform(shape, seed=g)),
        (
            "aekeras.corruption.draw_noise (uniform)",
            lambda g: draw_noise("uniform", shape, "float32", g),
        ),
    ]:
        layer = _Sampler(draw)
        model = keras.Sequential([keras.Input(shape[1:]), layer])
        model.compile(jit_compile=True)
        x = np.zeros(shape, "float32")
        model.predict_on_batch(x)
        start = time.perf_counter()
        for _ in range(calls):
            model.predict_on_batch(x)
        rows.append([name, f"{1000 * (time.perf_counter() - start) / calls:.2f}"])
    return rows


class _Sampler(keras.layers.Layer):
    """Adds noise drawn by `draw(seed_generator)` to its input (always, not just in training)."""

    def __init__(self, draw):
        super().__init__()
        self.draw = draw
        self.generator = keras.random.SeedGenerator(0)

    def call(self, x):
        return x + self.draw(self.generator)


def single_backend(args):
    """The full report of the current backend: variants, FLOP rates by setting, samplers."""
    keras.utils.set_random_seed(0)
    # Random pixels: the speed of a dense network does not depend on the data.
    x = np.random.default_rng(0).random((args.examples, 28, 28, 1), dtype=np.float32)

    # Part 1: aekeras against plain Keras, alternately.
    variants = [
        Variant("plain Keras", plain_keras, x, 256),
        Variant("aekeras", aekeras_model, x, 256),
        Variant("aekeras + L1 penalty", lambda: aekeras_model(sparsity=True), x, 256),
        Variant(
            "aekeras + penalty + monitor + masking noise",
            lambda: aekeras_model(sparsity=True, corruption=aekeras.MaskingNoise(0.25, seed=0)),
            x,
            256,
            monitor=True,
        ),
        Variant(
            "aekeras + Gaussian noise",
            lambda: aekeras_model(
                corruption=aekeras.AdditiveGaussianNoise(0.1, clip=(0.0, 1.0), seed=0)
            ),
            x,
            256,
        ),
    ]
    run_alternately(variants, args.repeats)
    base = variants[0]
    rows1 = []
    for v in variants:
        of_medians, paired = v.ratio_to(base)
        rows1.append(
            [
                v.name,
                f"{v.median:,.0f}",
                f"{min(v.rates):,.0f}-{max(v.rates):,.0f}",
                f"{of_medians:.3f}",
                f"{paired:.3f}",
            ]
        )

    # Part 2: FLOP rate against the matmul ceiling, by batch size, jit_compile and steps_per_execution.
    flops_per_example = 6 * kernel_weights(variants[1].model)
    settings = [
        (128, False, 1),
        (128, True, 1),
        (256, False, 1),
        (256, True, 1),
        (256, True, 16),
        (1024, False, 1),
        (1024, True, 1),
    ]
    configs = [
        Variant(
            f"batch {bs}, jit_compile={jit}, steps_per_execution={spe}",
            aekeras_model,
            x,
            bs,
            jit_compile=jit,
            steps_per_execution=spe,
        )
        for bs, jit, spe in settings
    ]
    peak = matmul_rate()
    run_alternately(configs, max(2, args.repeats // 2))
    peak = max(peak, matmul_rate())
    rows2 = [
        [
            c.name,
            f"{c.median:,.0f}",
            f"{c.median * flops_per_example / 1e9:.1f}",
            f"{100 * c.median * flops_per_example / peak:.0f}%",
        ]
        for c in configs
    ]

    # Part 3: the noise samplers alone, jit-compiled (a full forward pass of predict_on_batch).
    rows3 = sampling_times()

    body = (
        f"Model 784-1000-500-250-30 (Adam, binary cross-entropy), {args.examples:,} examples per epoch, "
        f"{args.repeats} rounds after a warm-up epoch of each variant.\n\n"
        + table(
            [
                "variant (batch 256, jit_compile=True)",
                "examples/s (median)",
                "range",
                "ratio of medians",
                "median of paired ratios",
            ],
            rows1,
        )
        + f"\n\nTraining FLOPs per example: 6 x {kernel_weights(variants[1].model):,} kernel weights = "
        f"{flops_per_example / 1e6:.1f} MFLOP. float32 matmul rate (2048x2048, same backend, best of 6): "
        f"{peak / 1e9:.1f} GFLOP/s.\n\n"
        + table(
            ["aekeras training", "examples/s (median)", "GFLOP/s", "fraction of matmul rate"], rows2
        )
        + "\n\nDrawing the noise of one 256x28x28x1 batch with jit_compile=True (a model that only adds "
        "the noise, predict_on_batch):\n\n" + table(["sampler", "ms per batch"], rows3)
    )
    write_result(args.name or f"throughput_{keras.backend.backend()}", "Training throughput", body)


BACKENDS = ("tensorflow", "jax", "torch")
SIDE_BY_SIDE_BATCHES = (128, 256)  # the lectures' batch size, and the benchmark's


def backend_measurements(args):
    """What one backend contributes to the side-by-side table, as a JSON-able dict."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((args.examples, 28, 28, 1), dtype=np.float32)
    variants = {}
    for batch_size in SIDE_BY_SIDE_BATCHES:
        for name, make in (("plain Keras", plain_keras), ("aekeras", aekeras_model)):
            variants[name, batch_size] = Variant(name, make, x, batch_size, jit_compile="auto")
    matmul = matmul_rate()
    run_alternately(list(variants.values()), args.repeats)
    matmul = max(matmul, matmul_rate())
    return {
        "backend": keras.backend.backend(),
        "versions": aekeras.notebook.versions(),
        "device": aekeras.notebook.devices() or ["CPU"],
        "matmul": matmul,
        "flops_per_example": 6 * kernel_weights(variants["aekeras", 128].model),
        "rates": {f"{name}|{bs}": v.rates for (name, bs), v in variants.items()},
    }


def run_backend(backend, args):
    """Runs `backend_measurements` in a new process with KERAS_BACKEND=backend.

    Returns its dict, or {"backend": backend, "error": last line of its output}.
    """
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "result.json")
        command = [sys.executable, "-m", __spec__.name, "--child-json", out]
        command += ["--repeats", str(args.repeats), "--examples", str(args.examples)]
        env = {**os.environ, "KERAS_BACKEND": backend}
        print(f"{backend}: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0 or not os.path.exists(out):
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            return {"backend": backend, "error": lines[-1]}
        with open(out) as f:
            return json.load(f)


def side_by_side_report(results, numpy_rate, ceilings):
    """The Markdown body comparing the backends' measurements (dicts of `backend_measurements`)."""
    measured = [r for r in results if "error" not in r]
    rates = {"NumPy BLAS": numpy_rate} | {r["backend"]: r["matmul"] for r in measured}
    best_name = max(rates, key=rates.get)
    best = rates[best_name]
    rows = []
    for r in measured:
        for bs in SIDE_BY_SIDE_BATCHES:
            plain, ours = r["rates"][f"plain Keras|{bs}"], r["rates"][f"aekeras|{bs}"]
            speed = statistics.median(ours)
            flops = speed * r["flops_per_example"]
            rows.append(
                [
                    r["backend"],
                    bs,
                    f"{statistics.median(plain):,.0f}",
                    f"{speed:,.0f}",
                    f"{statistics.median(a / b for a, b in zip(ours, plain)):.3f}",
                    f"{flops / 1e9:.1f}",
                    f"{100 * flops / best:.0f}%",
                    f"{100 * flops / r['matmul']:.0f}%",
                    f"{100 * speed / ceilings[bs][0]:.0f}%",
                ]
            )
    fastest = {
        bs: max(measured, key=lambda r: statistics.median(r["rates"][f"aekeras|{bs}"]))
        for bs in SIDE_BY_SIDE_BATCHES
    }
    text = table(
        [
            "backend",
            "batch",
            "plain Keras examples/s",
            "aekeras examples/s",
            "aekeras / plain (median of paired ratios)",
            "aekeras GFLOP/s",
            "of the best matmul rate",
            "of its own matmul rate",
            "of the layer-shape ceiling",
        ],
        rows,
    )
    text += "\n\nfloat32 matmul rates (2048x2048, best of 6, same run):\n\n" + table(
        ["engine", "GFLOP/s"],
        [
            [name + (" (best)" if name == best_name else ""), f"{v / 1e9:.1f}"]
            for name, v in rates.items()
        ],
    )
    text += (
        "\n\nLayer-shape ceiling (NumPy BLAS, the 24 products of one training step of "
        "784-1000-500-250-30 and back, nothing else):\n\n"
        + table(
            ["batch", "examples/s", "GFLOP/s", "of the best matmul rate"],
            [
                [bs, f"{c[0]:,.0f}", f"{c[1] / 1e9:.1f}", f"{100 * c[1] / best:.0f}%"]
                for bs, c in ceilings.items()
            ],
        )
    )
    text += "\n\n" + "\n".join(
        f"Fastest at batch {bs}: {r['backend']}." for bs, r in fastest.items()
    )
    for r in results:
        if "error" in r:
            text += f"\n\n{r['backend']}: not measured ({r['error']})."
        else:
            versions = ", ".join(f"{k} {v}" for k, v in r["versions"].items())
            text += f"\n\n{r['backend']}: {versions}; device {', '.join(r['device'])}."
    return text


def side_by_side(args):
    numpy_rate = numpy_matmul_rate()
    ceilings = {bs: layer_shape_ceiling(bs) for bs in SIDE_BY_SIDE_BATCHES}
    results = [run_backend(backend, args) for backend in args.backend]
    numpy_rate = max(numpy_rate, numpy_matmul_rate())
    for bs in SIDE_BY_SIDE_BATCHES:
        again = layer_shape_ceiling(bs)
        ceilings[bs] = max(ceilings[bs], again)
    body = (
        f"Model 784-1000-500-250-30 (Adam, binary cross-entropy), {args.examples:,} random examples "
        f"per epoch, {args.repeats} rounds after a warm-up epoch; each backend in its own process, "
        "one after the other; within a backend the four variants alternate.\n\n"
        + side_by_side_report(results, numpy_rate, ceilings)
    )
    write_result(
        args.name or "throughput_backends",
        "Training throughput of the backends side by side",
        body,
        backend=", ".join(args.backend) + " (one process each)",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, default=7, help="rounds of part 1 (part 2: half as many)"
    )
    parser.add_argument("--examples", type=int, default=30000, help="examples per timed epoch")
    parser.add_argument(
        "--backend",
        nargs="+",
        choices=BACKENDS,
        help="measure these backends side by side, each in its own process",
    )
    parser.add_argument("--name", help="result file name (default throughput_<backend(s)>)")
    parser.add_argument("--child-json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.examples < 1024:
        parser.error(
            f"need --repeats >= 1 and --examples >= 1024; got {args.repeats} and {args.examples}"
        )
    if args.child_json:
        with open(args.child_json, "w") as f:
            json.dump(backend_measurements(args), f)
    elif args.backend:
        side_by_side(args)
    else:
        single_backend(args)


if __name__ == "__main__":
    main()
