"""The MNIST family: `load_mnist` and `load_fashion_mnist`.

A reader following a loader meets three modules: this one (arguments,
caches, standardisation, and the NumPy path `source="raw"`), `files` (the
raw files: checksums, URLs, where they are, downloads) and, for
`source="tfds"`, `tfds` (tensorflow-datasets).

The raw path reads the four official IDX files that `files.fetch` returns
verified, parses them with NumPy (`read_idx`) and saves the arrays of both
splits once to `<data home>/arrays/<name>.npz`, written to a temporary file
first and then renamed, so a failure leaves nothing half-prepared. The
examples are put in the order in which tensorflow-datasets stores them
(sorted by the md5 of the split name followed by the example's index, see
`tensorflow_datasets/core/hashing.py`), so both paths return the same arrays
and `n=` selects the same examples.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import zlib

import numpy as np

from aekeras.datasets import _checks
from aekeras.datasets import files
from aekeras.datasets import tfds
from aekeras.datasets.errors import DatasetCorruptedError

NUM_EXAMPLES = {"train": 60000, "test": 10000}
_IMAGE_SIDE = 28

# In-process caches of the uint8 arrays and the train statistics, so that a
# notebook calling a loader twice does not read the files again. Loaders
# return copies.
_CACHE = {}
_STATS_CACHE = {}


def split_files(split):
    """The `(images, labels)` IDX file names of `split`."""
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


def _read(dataset, split, data_dir, raw_dir, source):
    """Returns the cached read-only uint8 images (N, 28, 28, 1) and int64 labels of a split."""
    home_dir = files.resolve_home(data_dir)
    if source is None:
        source = _checks.default_source(files.SOURCE_ENV, os.environ.get(files.SOURCE_ENV, ""))
    if source is None:
        source = "tfds" if tfds.available() else "raw"
        fallback = True
    else:
        fallback = False
    key = (source, dataset.name, split, str(home_dir))
    if key not in _CACHE:
        try:
            if source == "tfds":
                images, labels = tfds.read_split(dataset, split, home_dir, raw_dir)
            else:
                images, labels = _read_raw_split(dataset, split, home_dir, raw_dir)
        except tfds.TfdsUnavailableError:
            if not fallback:
                raise
            # Installed but not importable: the same files, without TensorFlow.
            return _read(dataset, split, data_dir, raw_dir, "raw")
        images.setflags(write=False)
        labels.setflags(write=False)
        _CACHE[key] = (images, labels)
    return _CACHE[key]


# ---------------------------------------------------------------- the raw path


def arrays_path(dataset, home_dir):
    """Where the arrays prepared from the raw files of `dataset` are stored."""
    return home_dir / "arrays" / f"{dataset.name}.npz"


def _read_raw_split(dataset, split, home_dir, raw_dir):
    """Returns uint8 images `(N, 28, 28, 1)` and int64 labels `(N,)` of one split."""
    target = arrays_path(dataset, home_dir)
    if not target.is_file():
        _prepare_arrays(dataset, home_dir, raw_dir)
    with np.load(target) as arrays:
        return arrays[f"x_{split}"], arrays[f"y_{split}"]


def _prepare_arrays(dataset, home_dir, raw_dir):
    """Parses the verified raw files of `dataset`; saves the arrays of both splits."""
    target = arrays_path(dataset, home_dir)
    # Downloads go to a folder of their own, removed afterwards (the arrays
    # are the cache); MNIST and Fashion-MNIST share their file names.
    scratch = home_dir / "downloads" / dataset.name
    try:
        paths = files.fetch(dataset, target, raw_dir, scratch)
        arrays = {}
        for split in _checks.SPLITS:
            arrays[f"x_{split}"], arrays[f"y_{split}"] = _parse_split(split, paths)
        _save_atomically(target, arrays)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
            try:
                scratch.parent.rmdir()  # "downloads", when nothing else uses it
            except OSError:
                pass


def _parse_split(split, paths):
    n = NUM_EXAMPLES[split]
    images_file, labels_file = split_files(split)
    images = read_idx(paths[images_file])
    labels = read_idx(paths[labels_file])
    for file_name, array, shape in (
        (images_file, images, (n, _IMAGE_SIDE, _IMAGE_SIDE)),
        (labels_file, labels, (n,)),
    ):
        if array.shape != shape or array.dtype != np.uint8:
            raise DatasetCorruptedError(
                f"{paths[file_name]} holds a {array.dtype} array of shape "
                f"{array.shape}, expected uint8 of shape {shape}."
            )
    order = tfds_order(split, n)
    return images[order][..., None], labels[order].astype(np.int64)


def tfds_order(split, n):
    """The order in which tensorflow-datasets stores the `n` examples of `split`."""
    salt = hashlib.md5(split.encode("utf-8"))

    def key(index):
        md5 = salt.copy()
        md5.update(str(index).encode("utf-8"))
        return md5.digest()  # bytes compare like TFDS's 128-bit integers

    return np.array(sorted(range(n), key=key), dtype=np.int64)


def _save_atomically(target, arrays):
    """Writes `arrays` to the .npz `target` through a temporary file in the same folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}-", suffix=".npz.tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp's file is private (0600): give it the permissions of a file made with open(),
        # so that prepared data can be shared as any other (e.g. read-only with a grading sandbox).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# The element type codes of the IDX format.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Returns the array stored in the gzipped IDX file `path`.

    An IDX file (the format of MNIST and Fashion-MNIST) is a header, then the
    array in C order, big-endian: two zero bytes, one byte for the element
    type, one byte for the number of dimensions `d`, then `d` unsigned 32-bit
    sizes.

    Raises:
        DatasetCorruptedError: Naming the file, when it is not a valid
            gzip stream or not a valid IDX array (bad magic number, unknown
            element type, or a size that does not match the header).
    """

    def corrupted(reason):
        return DatasetCorruptedError(f"{path} is not a valid gzipped IDX file: {reason}.")

    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise corrupted(f"{type(error).__name__}: {error}") from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise corrupted(f"bad magic number {data[:4].hex() or 'none'}")
    if data[2] not in _IDX_DTYPES:
        raise corrupted(f"unknown element type 0x{data[2]:02x}")
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise corrupted(f"the header of {ndim} dimensions is cut short")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise corrupted(
            f"the header announces shape {shape} of {dtype} ({expected} bytes in "
            f"all), the file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


# ---------------------------------------------------------------- the loaders


def _train_statistics(dataset, data_dir, raw_dir, source):
    """Per-pixel train mean (in [0, 1] units) and the scale sqrt(mean per-pixel variance)."""
    key = (source, dataset.name, str(files.resolve_home(data_dir)))
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
    dataset = files.DATASETS[name]
    _checks.check_split(split)
    _checks.check_source(source)
    if n is not None:
        _checks.check_count(n, "n", maximum=NUM_EXAMPLES[split])
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
        source: `"tfds"`, `"raw"`, or `None` (the default): the path the
            environment variable `AEKERAS_DATASET_SOURCE` names, if set, else
            `"tfds"` when tensorflow-datasets and TensorFlow are installed, and
            `"raw"` otherwise.

    Returns:
        `(x, y)`: `x` float32 of shape `(N, 28, 28, 1)` (or `(N, 784)`), in
        `[0, 1]` unless standardised; `y` int64 labels 0-9 of shape `(N,)`.

    Raises:
        ValueError: For an unknown `split` or `source` (or value of
            `AEKERAS_DATASET_SOURCE`), or an invalid `n`.
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
