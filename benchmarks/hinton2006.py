"""Reproduce the deep-autoencoder results of Hinton & Salakhutdinov (Science 2006) with aekeras.

Usage:
    python benchmarks/hinton2006.py                 # both datasets, default budgets
    python benchmarks/hinton2006.py --only faces --epochs-faces 30
    python benchmarks/hinton2006.py --only mnist --epochs-mnist 5   # quick check

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

Recipe (MNIST): ReLU hidden layers, linear 30-unit code, sigmoid output,
binary cross-entropy, Adam with a short linear warm-up and a cosine decay of
the learning rate to zero, small batches (more updates per epoch), and an
exponential moving average (EMA) of the weights used for evaluation. Faces:
the same with a linear output and mean squared error (standardised data).
Results go to benchmarks/results/hinton2006.md.
"""

import argparse
import math
import time

import keras
import numpy as np

import aekeras
from common import table, write_result

PAPER = {"mnist": (3.00, 13.87), "faces": (126.0, 135.0)}


def schedule(peak, epochs, steps_per_epoch, warmup_epochs=2):
    """Linear warm-up then cosine decay to zero, per step."""
    warmup = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, (epochs - warmup_epochs) * steps_per_epoch),
        warmup_target=peak,
        warmup_steps=warmup_epochs * steps_per_epoch,
        alpha=0.0,
    )
    return warmup


def train(ae, x_train, epochs, batch_size, lr, loss, ema, weight_decay=0.0):
    """Trains `ae`; returns (wall seconds, CPU seconds of this process)."""
    steps = math.ceil(len(x_train) / batch_size)
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule(lr, epochs, steps),
        weight_decay=weight_decay,
        use_ema=ema > 0,
        ema_momentum=ema or 0.99,
    )
    ae.compile(optimizer=optimizer, loss=loss, jit_compile=True)
    start, cpu = time.perf_counter(), time.process_time()
    ae.fit(x_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return time.perf_counter() - start, time.process_time() - cpu


def mnist(args):
    x_train, _ = aekeras.datasets.load_mnist("train")
    x_test, _ = aekeras.datasets.load_mnist("test")
    pca = aekeras.PCA(30).fit(x_train)
    pca_error = aekeras.metrics.reconstruction_error(x_test, pca.reconstruct(x_test))
    noise = aekeras.AdditiveGaussianNoise(args.noise, clip=(0.0, 1.0), seed=0) if args.noise else None
    ae = aekeras.deep_autoencoder("784-1000-500-250-30", input_shape=(28, 28, 1), corruption=noise)
    seconds = train(
        ae, x_train, args.epochs_mnist, args.batch_mnist, args.lr_mnist, "binary_crossentropy",
        args.ema, args.weight_decay,
    )
    ae_error = aekeras.metrics.reconstruction_error(x_test, ae.reconstruct(x_test))
    train_error = aekeras.metrics.reconstruction_error(x_train[:10000], ae.reconstruct(x_train[:10000]))
    settings = (
        f"{args.epochs_mnist} epochs, batch {args.batch_mnist}, Adam peak lr {args.lr_mnist} "
        f"(warm-up + cosine), weight decay {args.weight_decay}, BCE, EMA {args.ema}, "
        f"training noise σ={args.noise}; train error (10k) {train_error:.2f}"
    )
    return ["MNIST 784-1000-500-250-30", *PAPER["mnist"], ae_error, pca_error, seconds, settings]


def faces(args):
    patches = aekeras.datasets.load_face_patches(n_train=args.patches, n_test=10000, seed=0)
    pca = aekeras.PCA(30).fit(patches.x_train)
    pca_error = aekeras.metrics.reconstruction_error(patches.x_test, pca.reconstruct(patches.x_test))
    ae = aekeras.deep_autoencoder("625-2000-1000-500-30", output_activation=None)
    seconds = train(
        ae, patches.x_train, args.epochs_faces, args.batch_faces, args.lr_faces, "mse", args.ema, args.weight_decay
    )
    ae_error = aekeras.metrics.reconstruction_error(patches.x_test, ae.reconstruct(patches.x_test))
    settings = (
        f"{args.patches} patches of people 0-29, test: 10000 of people 30-39; {args.epochs_faces} epochs, "
        f"batch {args.batch_faces}, Adam peak lr {args.lr_faces} (warm-up + cosine), MSE, EMA {args.ema}"
    )
    return ["Faces 625-2000-1000-500-30", *PAPER["faces"], ae_error, pca_error, seconds, settings]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["mnist", "faces"])
    parser.add_argument("--name", help="result file name (default hinton2006[_only])")
    parser.add_argument("--epochs-mnist", type=int, default=150)
    parser.add_argument("--batch-mnist", type=int, default=128)
    parser.add_argument("--lr-mnist", type=float, default=1e-3)
    parser.add_argument("--epochs-faces", type=int, default=30)
    parser.add_argument("--batch-faces", type=int, default=128)
    parser.add_argument("--lr-faces", type=float, default=1e-3)
    parser.add_argument("--patches", type=int, default=40000)
    parser.add_argument("--ema", type=float, default=0.999, help="EMA momentum of the weights; 0 disables")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="AdamW decoupled weight decay")
    parser.add_argument("--noise", type=float, default=0.0, help="MNIST: σ of Gaussian input noise in training")
    args = parser.parse_args()
    # Seeds only: TensorFlow's op determinism (aekeras.notebook.setup) would turn XLA off.
    keras.utils.set_random_seed(0)
    rows = []
    for name, fn in (("mnist", mnist), ("faces", faces)):
        if args.only in (None, name):
            row = fn(args)
            print(row, flush=True)
            rows.append(row)
    formatted = [
        [r[0], f"{r[1]:g}", f"{r[2]:g}", f"{r[3]:.2f}", f"{r[4]:.2f}", f"{r[3] / r[4]:.3f}",
         f"{r[1] / r[2]:.3f}", f"{r[5][0] / 60:.1f} min (CPU {r[5][1] / 60:.1f} min)", r[6]]
        for r in rows
    ]
    body = table(
        ["dataset", "paper AE", "paper PCA", "our AE", "our PCA", "our AE/PCA", "paper AE/PCA",
         "training wall time", "settings"],
        formatted,
    )
    name = args.name or ("hinton2006" if args.only is None else f"hinton2006_{args.only}")
    write_result(name, "Hinton & Salakhutdinov (2006): squared reconstruction error per test image", body)


if __name__ == "__main__":
    main()
