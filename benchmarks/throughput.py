"""Training throughput of the deep autoencoder: aekeras against plain Keras, and the FLOP rate.

Usage: python benchmarks/throughput.py [--repeats 5] [--examples 16384]

Part 1 trains the 784-1000-500-250-30 autoencoder built with aekeras and the
same architecture written in plain Keras, one epoch each, alternately, and
reports the median examples per second over the repeats and the ratio
aekeras / plain (also with a sparsity penalty, and with penalty + sparsity
monitor + corruption layer). Part 2 converts throughput to a float32 FLOP rate
(6 FLOPs per kernel weight per example: forward, and the two products of the
backward pass) and compares it with this machine's float32 matrix-multiply
rate, measured in the same run, for several batch sizes and with and without
`jit_compile`. Results go to benchmarks/results/throughput_<backend>.md.
"""

import argparse
import statistics
import time

import keras
import numpy as np

import aekeras
from common import table, write_result

SIZES = [784, 1000, 500, 250, 30]


def plain_keras():
    """The same autoencoder in plain Keras: Dense layers, ReLU, linear code, sigmoid output."""
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for units in SIZES[1:-1]:
        layers.append(keras.layers.Dense(units, activation="relu"))
    layers.append(keras.layers.Dense(SIZES[-1]))
    for units in SIZES[-2:0:-1]:
        layers.append(keras.layers.Dense(units, activation="relu"))
    layers += [keras.layers.Dense(SIZES[0], activation="sigmoid"), keras.layers.Reshape((28, 28, 1))]
    return keras.Sequential(layers)


def aekeras_model(sparsity=False, corruption=False):
    return aekeras.deep_autoencoder(
        "784-1000-500-250-30",
        input_shape=(28, 28, 1),
        sparsity=aekeras.L1Sparsity(1e-4) if sparsity else None,
        corruption=aekeras.MaskingNoise(0.25, seed=0) if corruption else None,
    )


def kernel_weights(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) == 2)


class Variant:
    def __init__(self, name, make, x, batch_size, jit_compile=True, monitor=False):
        self.name, self.x, self.batch_size = name, x, batch_size
        self.model = make()
        self.model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit_compile)
        self.callbacks = [aekeras.SparsityMonitor(x[:1000])] if monitor else []
        self.rates = []
        self.epoch(warmup=True)

    def epoch(self, warmup=False):
        start = time.perf_counter()
        self.model.fit(self.x, self.x, batch_size=self.batch_size, epochs=1, verbose=0, callbacks=self.callbacks)
        seconds = time.perf_counter() - start
        if not warmup:
            self.rates.append(len(self.x) / seconds)

    @property
    def median(self):
        return statistics.median(self.rates)


def run_alternately(variants, repeats):
    for _ in range(repeats):
        for v in variants:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--examples", type=int, default=16384)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((args.examples, 28, 28, 1), dtype=np.float32)

    # Part 1: aekeras against plain Keras, alternately.
    variants = [
        Variant("plain Keras", plain_keras, x, 256),
        Variant("aekeras", aekeras_model, x, 256),
        Variant("aekeras + L1 penalty", lambda: aekeras_model(sparsity=True), x, 256),
        Variant(
            "aekeras + penalty + monitor + masking noise",
            lambda: aekeras_model(sparsity=True, corruption=True), x, 256, monitor=True,
        ),
    ]
    run_alternately(variants, args.repeats)
    base = variants[0].median
    rows1 = [
        [v.name, f"{v.median:,.0f}", f"{min(v.rates):,.0f}-{max(v.rates):,.0f}", f"{v.median / base:.3f}"]
        for v in variants
    ]

    # Part 2: FLOP rate against the matmul ceiling, by batch size and jit_compile.
    flops_per_example = 6 * kernel_weights(variants[1].model)
    configs = [
        Variant(f"batch {bs}, jit_compile={jit}", aekeras_model, x, bs, jit_compile=jit)
        for bs in (128, 256, 1024) for jit in (False, True)
    ]
    peak = matmul_rate()
    run_alternately(configs, max(2, args.repeats // 2))
    peak = max(peak, matmul_rate())
    rows2 = [
        [c.name, f"{c.median:,.0f}", f"{c.median * flops_per_example / 1e9:.1f}",
         f"{100 * c.median * flops_per_example / peak:.0f}%"]
        for c in configs
    ]

    body = (
        f"Model 784-1000-500-250-30 (Adam, binary cross-entropy), {args.examples} examples per epoch, "
        f"median of {args.repeats} alternating repeats after a warm-up epoch.\n\n"
        + table(["variant (batch 256, jit_compile=True)", "examples/s (median)", "range", "ratio to plain"], rows1)
        + f"\n\nTraining FLOPs per example: 6 x {kernel_weights(variants[1].model):,} kernel weights = "
        f"{flops_per_example / 1e6:.1f} MFLOP. float32 matmul rate (2048x2048, same backend): "
        f"{peak / 1e9:.1f} GFLOP/s.\n\n"
        + table(["aekeras training", "examples/s (median)", "GFLOP/s", "fraction of matmul rate"], rows2)
    )
    write_result(f"throughput_{keras.backend.backend()}", "Training throughput", body)


if __name__ == "__main__":
    main()
