"""Training throughput of the deep autoencoder: aekeras against plain Keras, and the FLOP rate.

Usage: python benchmarks/throughput.py [--repeats 7] [--examples 30000]
       KERAS_BACKEND=jax python benchmarks/throughput.py

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
import statistics
import time

import keras
import numpy as np

import aekeras

from common import table
from common import write_result

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


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, default=7, help="rounds of part 1 (part 2: half as many)"
    )
    parser.add_argument("--examples", type=int, default=30000, help="examples per timed epoch")
    args = parser.parse_args()
    if args.repeats < 1 or args.examples < 1024:
        parser.error(
            f"need --repeats >= 1 and --examples >= 1024; got {args.repeats} and {args.examples}"
        )
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
    write_result(f"throughput_{keras.backend.backend()}", "Training throughput", body)


if __name__ == "__main__":
    main()
