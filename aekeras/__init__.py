"""aekeras: autoencoders in Keras 3 (deep, sparse, denoising), for teaching.

Modules, named by what they hold:

- `aekeras.models`: `DenseAutoencoder`, `ConvAutoencoder`, `deep_autoencoder`.
- `aekeras.regularizers`: the sparsity penalties `L1Sparsity`, `KLSparsity`.
- `aekeras.layers`: `SparsityPenalty`, `DenseTranspose` (tied weights).
- `aekeras.corruption`: `AdditiveGaussianNoise`, `MaskingNoise`,
  `SaltAndPepperNoise` for denoising autoencoders.
- `aekeras.callbacks`: `SparsityMonitor`, `SparsityScheduler`,
  `NoiseScheduler` and the schedules `warmup`, `anneal`, `constant`.
- `aekeras.optimizers`: the long runs' recipe (AdamW, warm-up, cosine decay).
- `aekeras.pca`: the `PCA` baseline with the same encode/decode interface.
- `aekeras.sparse_coding`: sparse coding without an encoder, codes found by
  ISTA/FISTA (`ista`, `objective`, `soft_threshold`).
- `aekeras.metrics`: reconstruction error, MSE, PSNR, grey fraction,
  linear probe.
- `aekeras.plots`: figures (reconstruction grids, filters, codes, curves).
- `aekeras.datasets`: MNIST, Fashion-MNIST, Olivetti faces and face patches.
- `aekeras.validation`: the argument checks every module shares.
- `aekeras.course`: the lectures and assignments a wheel carries, and the
  `aekeras-course get` command that copies them into a student's folder.

`import aekeras` imports Keras, and so its backend, with TensorFlow's native
start-up log lines filtered out (see `aekeras/_native_logs.py`). When no
backend is chosen and TensorFlow, Keras' default, is not installed, it takes
the installed one, JAX or PyTorch (see `aekeras/_backend.py`).
"""

import sys

from aekeras._backend import choose_backend
from aekeras._native_logs import quiet_start_up

if "keras" not in sys.modules:
    choose_backend()  # TensorFlow, Keras' default, may be missing: take the installed backend
with quiet_start_up():
    import keras  # noqa: F401

from aekeras import callbacks
from aekeras import corruption
from aekeras import course
from aekeras import datasets
from aekeras import layers
from aekeras import metrics
from aekeras import models
from aekeras import notebook
from aekeras import optimizers
from aekeras import pca
from aekeras import plots
from aekeras import regularizers
from aekeras import sparse_coding
from aekeras import validation
from aekeras.callbacks import NoiseScheduler
from aekeras.callbacks import SparsityMonitor
from aekeras.callbacks import SparsityScheduler
from aekeras.corruption import AdditiveGaussianNoise
from aekeras.corruption import MaskingNoise
from aekeras.corruption import SaltAndPepperNoise
from aekeras.layers import DenseTranspose
from aekeras.layers import SparsityPenalty
from aekeras.models import Autoencoder
from aekeras.models import ConvAutoencoder
from aekeras.models import DenseAutoencoder
from aekeras.models import deep_autoencoder
from aekeras.pca import PCA
from aekeras.regularizers import KLSparsity
from aekeras.regularizers import L1Sparsity
from aekeras.version import __version__

__all__ = [
    "callbacks",
    "corruption",
    "course",
    "datasets",
    "layers",
    "metrics",
    "models",
    "notebook",
    "optimizers",
    "pca",
    "plots",
    "regularizers",
    "sparse_coding",
    "validation",
    "AdditiveGaussianNoise",
    "Autoencoder",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "DenseTranspose",
    "KLSparsity",
    "L1Sparsity",
    "MaskingNoise",
    "NoiseScheduler",
    "PCA",
    "SaltAndPepperNoise",
    "SparsityMonitor",
    "SparsityPenalty",
    "SparsityScheduler",
    "deep_autoencoder",
    "__version__",
]
