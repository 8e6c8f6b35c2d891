"""The MNIST family: `load_mnist` and `load_fashion_mnist`."""

import numpy as np

from aekeras.datasets import _checks
from aekeras.datasets import home
from aekeras.datasets import raw
from aekeras.datasets import sources
from aekeras.datasets import tfds

# In-process caches of the uint8 arrays and the train statistics, so that a
# notebook calling a loader twice does not read the files again. Loaders
# return copies.
_CACHE = {}
_STATS_CACHE = {}


def _read(dataset, split, data_dir, raw_dir, source):
    """Returns the cached read-only uint8 images (N, 28, 28, 1) and int64 labels of a split."""
    home_dir = home.resolve_home(data_dir)
    if source is None:
        source = "tfds" if tfds.available() else "raw"
        fallback = True
    else:
        fallback = False
    key = (source, dataset.name, split, str(home_dir))
    if key not in _CACHE:
        try:
            reader = tfds.read_split if source == "tfds" else raw.read_split
            images, labels = reader(dataset, split, home_dir, raw_dir)
        except tfds.TfdsUnavailableError:
            if not fallback:
                raise
            # Installed but not importable: the same files, without TensorFlow.
            return _read(dataset, split, data_dir, raw_dir, "raw")
        images.setflags(write=False)
        labels.setflags(write=False)
        _CACHE[key] = (images, labels)
    return _CACHE[key]


def _train_statistics(dataset, data_dir, raw_dir, source):
    """Per-pixel train mean (in [0, 1] units) and the scale sqrt(mean per-pixel variance)."""
    key = (source, dataset.name, str(home.resolve_home(data_dir)))
    if key not in _STATS_CACHE:
        images, _ = _read(dataset, "train", data_dir, raw_dir, source)
        total = np.zeros(images.shape[1:])
        total_sq = np.zeros(images.shape[1:])
        for start in range(0, len(images), 10000):
            chunk = images[start : start + 10000].astype(np.float64) / 255.0
            total += chunk.sum(axis=0)
            total_sq += np.square(chunk).sum(axis=0)
        mean = total / len(images)
        variance = np.maximum(total_sq / len(images) - np.square(mean), 0.0)
        _STATS_CACHE[key] = (mean.astype(np.float32), float(np.sqrt(variance.mean())))
    return _STATS_CACHE[key]


def _load(name, split, standardize, flatten, n, data_dir, raw_dir, source):
    dataset = sources.DATASETS[name]
    _checks.check_split(split)
    _checks.check_source(source)
    if n is not None:
        _checks.check_count(n, "n", maximum=dataset.num_examples[split])
    images, labels = _read(dataset, split, data_dir, raw_dir, source)
    if n is not None:
        images, labels = images[:n], labels[:n]
    x = images.astype(np.float32) / np.float32(255.0)
    if standardize:
        mean, scale = _train_statistics(dataset, data_dir, raw_dir, source)
        x -= mean
        x /= np.float32(scale)
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.copy()


def load_mnist(
    split="train",
    *,
    standardize=False,
    flatten=False,
    n=None,
    data_dir=None,
    raw_dir=None,
    source=None,
):
    """Loads one split of MNIST (handwritten digits, 28x28 grey levels).

    The data comes from the official IDX files, by one of two paths that
    return identical arrays:

    - `"tfds"` (needs TensorFlow and tensorflow-datasets): prepared once
      into `<data_home()>/tfds` by tensorflow-datasets.
    - `"raw"` (no TensorFlow): the files are parsed with NumPy and the
      arrays saved once to `<data_home()>/arrays/mnist.npz`.

    Either path prepares the dataset from the raw files in
    `<raw folder>/mnist/` (see `raw_data_dir()`), checksums verified, without
    network access; otherwise it downloads them. When neither is possible
    the loader fails within a few seconds. Arrays are cached in the
    process; every call returns fresh copies.

    Args:
        split: `"train"` (60000 images) or `"test"` (10000 images).
        standardize: If `True`, subtract the per-pixel mean of the train split
            and divide by one global number, the square root of the average
            per-pixel variance of the train split, so the train split has zero
            mean per pixel and average variance 1. The test split uses the same
            train statistics. Constant border pixels become 0.
        flatten: If `True`, return images of shape `(N, 784)`.
        n: If given, only the first `n` examples (standardisation statistics
            still come from the whole train split).
        data_dir: Overrides `data_home()` (where prepared data is stored).
        raw_dir: Overrides the `AEKERAS_RAW_DATA` folder.
        source: `"tfds"`, `"raw"`, or `None` (the default) for `"tfds"` when
            tensorflow-datasets and TensorFlow are installed, else `"raw"`.

    Returns:
        `(x, y)`: `x` float32 of shape `(N, 28, 28, 1)` (or `(N, 784)`), in
        `[0, 1]` unless standardised; `y` int64 labels 0-9 of shape `(N,)`.

    Raises:
        ValueError: For an unknown `split` or `source`, or an invalid `n`.
        DatasetNotFoundError: When the data is neither prepared, nor given as
            raw files, nor downloadable.
        DatasetCorruptedError: When a raw file (given or downloaded) does not
            have its registered sha256 (`source="raw"`).
        ImportError: For `source="tfds"` without tensorflow-datasets.

    Example:

    >>> import aekeras
    >>> x_train, y_train = aekeras.datasets.load_mnist("train", n=1000)
    >>> x_train.shape, x_train.dtype
    ((1000, 28, 28, 1), dtype('float32'))

    Reference:
    - [LeCun et al., 1998](https://doi.org/10.1109/5.726791), "Gradient-based
      learning applied to document recognition".
    """
    return _load("mnist", split, standardize, flatten, n, data_dir, raw_dir, source)


def load_fashion_mnist(
    split="train",
    *,
    standardize=False,
    flatten=False,
    n=None,
    data_dir=None,
    raw_dir=None,
    source=None,
):
    """Loads one split of Fashion-MNIST (clothing, 28x28 grey levels, 10 classes).

    Same interface and data handling as `load_mnist`; the raw files go into
    `<raw folder>/fashion_mnist/`.

    Args:
        split: `"train"` (60000 images) or `"test"` (10000 images).
        standardize: If `True`, per-pixel zero mean and unit average variance
            using the train split's statistics (see `load_mnist`).
        flatten: If `True`, return images of shape `(N, 784)`.
        n: If given, only the first `n` examples.
        data_dir: Overrides `data_home()`.
        raw_dir: Overrides the `AEKERAS_RAW_DATA` folder.
        source: `"tfds"`, `"raw"` or `None` (automatic), see `load_mnist`.

    Returns:
        `(x, y)`: `x` float32 of shape `(N, 28, 28, 1)` (or `(N, 784)`), in
        `[0, 1]` unless standardised; `y` int64 labels 0-9 of shape `(N,)`.

    Raises:
        ValueError: For an unknown `split` or `source`, or an invalid `n`.
        DatasetNotFoundError: When the data is neither prepared, nor given as
            raw files, nor downloadable.
        DatasetCorruptedError: When a raw file does not have its registered
            sha256 (`source="raw"`).
        ImportError: For `source="tfds"` without tensorflow-datasets.

    Example:

    >>> import aekeras
    >>> x_test, y_test = aekeras.datasets.load_fashion_mnist("test", flatten=True)
    >>> x_test.shape
    (10000, 784)

    Reference:
    - [Xiao et al., 2017](https://arxiv.org/abs/1708.07747), "Fashion-MNIST: a
      novel image dataset for benchmarking machine learning algorithms".
    """
    return _load("fashion_mnist", split, standardize, flatten, n, data_dir, raw_dir, source)
