"""Course datasets (MNIST, Fashion-MNIST, Olivetti faces, face patches), offline first.

Loaders fail fast, with instructions, when the data cannot be had.

Modules, named by what they hold:

- `mnist`: `load_mnist`, `load_fashion_mnist`, which read the official IDX
  files through one of two paths returning identical arrays:
  `source="tfds"` (tensorflow-datasets, optional, in `tfds`) and
  `source="raw"` (NumPy only, in `mnist` itself).
- `olivetti`: `load_olivetti`, through scikit-learn.
- `face_patches`: `load_face_patches` and its result, `FacePatches`.
- `toy`: `GaussianMixture` and `ring_mixture`, 2-D toy densities whose
  density, score and optimal denoiser are known in closed form.
- `files`: the raw files, in one table (`files.DATASETS`: names, sha256,
  sizes, URLs; `data/SHA256SUMS` is generated from it), where data is stored
  (`data_home`) and found (`raw_data_dir`), the bounded reachability check
  behind failing fast, and verified downloads.
- `errors`: `DatasetNotFoundError`, `DatasetCorruptedError`.
"""

from aekeras.datasets.errors import DatasetCorruptedError
from aekeras.datasets.errors import DatasetNotFoundError
from aekeras.datasets.face_patches import FacePatches
from aekeras.datasets.face_patches import load_face_patches
from aekeras.datasets.files import DATA_HOME_ENV
from aekeras.datasets.files import PROBE_TIMEOUT
from aekeras.datasets.files import RAW_DATA_ENV
from aekeras.datasets.files import SOURCE_ENV
from aekeras.datasets.files import data_home
from aekeras.datasets.files import raw_data_dir
from aekeras.datasets.mnist import load_fashion_mnist
from aekeras.datasets.mnist import load_mnist
from aekeras.datasets.olivetti import load_olivetti
from aekeras.datasets.toy import GaussianMixture
from aekeras.datasets.toy import ring_mixture

__all__ = [
    "DATA_HOME_ENV",
    "PROBE_TIMEOUT",
    "RAW_DATA_ENV",
    "SOURCE_ENV",
    "DatasetCorruptedError",
    "DatasetNotFoundError",
    "FacePatches",
    "GaussianMixture",
    "data_home",
    "load_face_patches",
    "load_fashion_mnist",
    "load_mnist",
    "load_olivetti",
    "raw_data_dir",
    "ring_mixture",
]
