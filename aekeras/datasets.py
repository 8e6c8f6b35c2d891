"""Course datasets (MNIST, Fashion-MNIST, Olivetti faces, face patches), offline first and failing fast."""

import dataclasses
import math
import os
import shutil
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

RAW_DATA_ENV = "AEKERAS_RAW_DATA"
DATA_HOME_ENV = "AEKERAS_DATA_HOME"

# Seconds to wait for a TCP connection to a download host before calling it unreachable.
PROBE_TIMEOUT = 3.0

_SPLITS = ("train", "test")
_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@dataclasses.dataclass(frozen=True)
class _TfdsSource:
    name: str  # the TFDS name, also the sub-folder of the raw-data folder
    title: str
    url: str  # the download location TFDS uses
    files: tuple
    num_examples: dict


_TFDS_SOURCES = {
    "mnist": _TfdsSource(
        "mnist",
        "MNIST",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        _IDX_FILES,
        {"train": 60000, "test": 10000},
    ),
    "fashion_mnist": _TfdsSource(
        "fashion_mnist",
        "Fashion-MNIST",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        _IDX_FILES,
        {"train": 60000, "test": 10000},
    ),
}

_OLIVETTI_FILE = "olivetti_py3.pkz"
_OLIVETTI_URL = "https://ndownloader.figshare.com/files/5976027"

# In-process caches of raw arrays, so that a notebook calling a loader twice
# does not read the files again. Loaders return copies.
_TFDS_CACHE = {}
_STATS_CACHE = {}
_OLIVETTI_CACHE = {}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is not on disk and cannot be downloaded.

    A subclass of `FileNotFoundError` (so `except OSError` catches it too).
    The message names the files needed, the folder to put them in and the
    environment variable to set (`AEKERAS_RAW_DATA`). It is also raised when
    `AEKERAS_RAW_DATA` or `raw_dir=` names a folder that does not exist.
    """


def data_home():
    """Returns the folder where prepared datasets are stored.

    The folder is, in order of precedence: the environment variable
    `AEKERAS_DATA_HOME`; the repository's `data/` folder when the package runs
    from a source checkout (that folder exists and holds `README.md`);
    otherwise `~/.aekeras/data`. TFDS records go to `<data_home>/tfds`, the
    scikit-learn cache to `<data_home>/scikit_learn_data`. The folder is not
    created by this function.

    Returns:
        A `pathlib.Path`.

    Example:

    >>> data_home()  # doctest: +SKIP
    PosixPath('/work/main/data')
    """
    value = os.environ.get(DATA_HOME_ENV)
    if value:
        return Path(value).expanduser()
    checkout_data = Path(__file__).resolve().parents[1] / "data"
    if (checkout_data / "README.md").is_file():
        return checkout_data
    return Path.home() / ".aekeras" / "data"


def raw_data_dir():
    """Returns the folder of raw dataset files named by `AEKERAS_RAW_DATA`.

    The folder holds `mnist/` and `fashion_mnist/` (the four official IDX
    `.gz` files each) and `scikit_learn_data/olivetti_py3.pkz`, as listed in
    `data/SHA256SUMS`. Loaders prepare datasets from it without network access.

    Returns:
        A `pathlib.Path`, or `None` when the variable is unset or empty.

    Raises:
        DatasetNotFoundError: if the variable names a folder that does not exist.

    Example:

    >>> os.environ["AEKERAS_RAW_DATA"] = "/work/shared/datasets"  # doctest: +SKIP
    >>> raw_data_dir()  # doctest: +SKIP
    PosixPath('/work/shared/datasets')
    """
    value = os.environ.get(RAW_DATA_ENV)
    if not value:
        return None
    return _existing_raw_dir(value, RAW_DATA_ENV)


def _existing_raw_dir(value, name):
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(
            f"{name} must name an existing folder holding mnist/, fashion_mnist/ "
            f"and scikit_learn_data/ (see data/README.md). That folder does not "
            f"exist. Received: {name}={str(value)!r}"
        )
    return path


def _resolve_home(data_dir):
    return Path(data_dir).expanduser() if data_dir is not None else data_home()


def _resolve_raw(raw_dir):
    if raw_dir is not None:
        return _existing_raw_dir(raw_dir, "raw_dir")
    return raw_data_dir()


def _host_reachable(url, timeout=PROBE_TIMEOUT):
    """Whether a TCP connection to the host of `url` (or its proxy) opens within `timeout`."""
    result = []

    def connect():
        try:
            parts = urllib.parse.urlsplit(url)
            host = parts.hostname
            port = parts.port or (443 if parts.scheme == "https" else 80)
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(host):
                proxy_parts = urllib.parse.urlsplit(
                    proxy if "://" in proxy else "http://" + proxy
                )
                host, port = proxy_parts.hostname, proxy_parts.port or 80
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except (OSError, ValueError):
            pass

    # A thread bounds the whole probe, name resolution included, which the
    # socket timeout alone does not.
    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result)


def _not_found_message(title, subfolder, files, where_looked, url):
    noun = "the file" if len(files) == 1 else "the files"
    return (
        f"{title} is not available: it is not prepared in {where_looked}, its "
        f"raw files were not found, and its download host ({url}) cannot be "
        f"reached. To use a local copy, put {noun} {', '.join(files)} into "
        f"<folder>/{subfolder}/ and set the environment variable "
        f"{RAW_DATA_ENV}=<folder> (e.g. `export {RAW_DATA_ENV}=/path/to/datasets`), "
        f"or pass raw_dir=<folder>. The sha256 checksums of the files are listed "
        f"in data/SHA256SUMS of the aekeras repository."
    )


def _tfds_raw_files(source, tfds_dir, raw_dir):
    """Returns the raw folder and the files missing from it; fails fast if nothing can work."""
    raw = _resolve_raw(raw_dir)
    folder = raw / source.name if raw is not None else None
    missing = [f for f in source.files if folder is None or not (folder / f).is_file()]
    if missing and not _host_reachable(source.url):
        message = _not_found_message(
            source.title, source.name, source.files, tfds_dir, source.url
        )
        if folder is not None:
            message += f" Missing from {folder}: {', '.join(missing)}."
        raise DatasetNotFoundError(message)
    return folder, missing


def _read_tfds(source, split, data_dir, raw_dir):
    """Returns the cached uint8 images (N, 28, 28, 1) and int64 labels of a TFDS split."""
    tfds_dir = _resolve_home(data_dir) / "tfds"
    key = (source.name, split, str(tfds_dir))
    if key in _TFDS_CACHE:
        return _TFDS_CACHE[key]

    raw_files = None
    if not any((tfds_dir / source.name).glob("*/dataset_info.json")):
        # Surely not prepared: decide before the seconds-long TensorFlow import.
        raw_files = _tfds_raw_files(source, tfds_dir, raw_dir)

    import tensorflow_datasets as tfds

    builder = tfds.builder(source.name, data_dir=str(tfds_dir))
    load_kwargs = {}
    scratch = None
    if not builder.is_prepared():
        folder, missing = raw_files or _tfds_raw_files(source, tfds_dir, raw_dir)
        # A download folder of its own: TFDS names extracted files after the
        # archive only, and MNIST and Fashion-MNIST share their file names, so
        # in a shared folder one dataset would be prepared from the other's
        # files. It is scratch space, removed once the dataset is prepared.
        scratch = tfds_dir / "downloads" / source.name
        prepare = {"download_dir": str(scratch)}
        if not missing:
            # TFDS takes the files from manual_dir instead of downloading
            # them, and verifies their registered checksums.
            prepare["download_config"] = tfds.download.DownloadConfig(
                manual_dir=str(folder)
            )
        load_kwargs["download_and_prepare_kwargs"] = prepare
    dataset = tfds.load(
        source.name,
        split=split,
        batch_size=-1,
        as_supervised=True,
        data_dir=str(tfds_dir),
        **load_kwargs,
    )
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            scratch.parent.rmdir()  # "downloads", when no other dataset uses it
        except OSError:
            pass
    images, labels = tfds.as_numpy(dataset)
    images = np.ascontiguousarray(images, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    _TFDS_CACHE[key] = (images, labels)
    return images, labels


def _train_statistics(source, data_dir, raw_dir):
    """Per-pixel train mean (in [0, 1] units) and the global scale sqrt(mean per-pixel variance)."""
    key = (source.name, str(_resolve_home(data_dir)))
    if key not in _STATS_CACHE:
        images, _ = _read_tfds(source, "train", data_dir, raw_dir)
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


def _check_split(split):
    if split not in _SPLITS:
        raise ValueError(
            f"Unknown split: expected one of {list(_SPLITS)}. Received: split={split!r}"
        )


def _check_count(value, name, maximum=None):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum}, the number of examples "
            f"available. Received: {name}={value!r}"
        )


def _load_tfds_images(name, split, standardize, flatten, n, data_dir, raw_dir):
    source = _TFDS_SOURCES[name]
    _check_split(split)
    if n is not None:
        _check_count(n, "n", source.num_examples[split])
    images, labels = _read_tfds(source, split, data_dir, raw_dir)
    if n is not None:
        images, labels = images[:n], labels[:n]
    x = images.astype(np.float32) / np.float32(255.0)
    if standardize:
        mean, scale = _train_statistics(source, data_dir, raw_dir)
        x -= mean
        x /= np.float32(scale)
    if flatten:
        x = x.reshape(len(x), -1)
    return x, labels.copy()


def load_mnist(
    split="train", *, standardize=False, flatten=False, n=None, data_dir=None, raw_dir=None
):
    """Loads one split of MNIST (handwritten digits, 28x28 grey levels).

    The data comes through tensorflow-datasets, prepared once into
    `<data_home()>/tfds`. When it is not prepared yet, it is prepared from the
    raw IDX files in `<raw folder>/mnist/` (see `raw_data_dir()`), checksums
    verified, without network access; otherwise it is downloaded. When neither
    is possible the loader fails within a few seconds. Arrays are cached in
    the process; every call returns fresh copies.

    Args:
        split: `"train"` (60000 images) or `"test"` (10000 images).
        standardize: if `True`, subtract the per-pixel mean of the train split
            and divide by one global number, the square root of the average
            per-pixel variance of the train split, so the train split has zero
            mean per pixel and average variance 1. The test split uses the same
            train statistics. Constant border pixels become 0.
        flatten: if `True`, return images of shape `(N, 784)`.
        n: if given, only the first `n` examples (standardisation statistics
            still come from the whole train split).
        data_dir: overrides `data_home()` (where prepared data is stored).
        raw_dir: overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        `(x, y)`: `x` float32 of shape `(N, 28, 28, 1)` (or `(N, 784)`), in
        `[0, 1]` unless standardised; `y` int64 labels 0-9 of shape `(N,)`.

    Raises:
        ValueError: for an unknown `split` or an invalid `n`.
        DatasetNotFoundError: when the data is neither prepared, nor given as
            raw files, nor downloadable.

    Example:

    >>> x_train, y_train = load_mnist("train", n=1000)
    >>> x_train.shape, x_train.dtype
    ((1000, 28, 28, 1), dtype('float32'))

    Reference:
        LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to
        document recognition", Proc. IEEE 86 (1998).
    """
    return _load_tfds_images("mnist", split, standardize, flatten, n, data_dir, raw_dir)


def load_fashion_mnist(
    split="train", *, standardize=False, flatten=False, n=None, data_dir=None, raw_dir=None
):
    """Loads one split of Fashion-MNIST (clothing, 28x28 grey levels, 10 classes).

    Same interface and data handling as `load_mnist`; the raw files go into
    `<raw folder>/fashion_mnist/`.

    Args:
        split: `"train"` (60000 images) or `"test"` (10000 images).
        standardize: if `True`, per-pixel zero mean and unit average variance
            using the train split's statistics (see `load_mnist`).
        flatten: if `True`, return images of shape `(N, 784)`.
        n: if given, only the first `n` examples.
        data_dir: overrides `data_home()`.
        raw_dir: overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        `(x, y)`: `x` float32 of shape `(N, 28, 28, 1)` (or `(N, 784)`), in
        `[0, 1]` unless standardised; `y` int64 labels 0-9 of shape `(N,)`.

    Raises:
        ValueError: for an unknown `split` or an invalid `n`.
        DatasetNotFoundError: when the data is neither prepared, nor given as
            raw files, nor downloadable.

    Example:

    >>> x_test, y_test = load_fashion_mnist("test", flatten=True)
    >>> x_test.shape
    (10000, 784)

    Reference:
        Xiao, Rasul and Vollgraf, "Fashion-MNIST: a novel image dataset for
        benchmarking machine learning algorithms", arXiv:1708.07747 (2017).
    """
    return _load_tfds_images(
        "fashion_mnist", split, standardize, flatten, n, data_dir, raw_dir
    )


def _read_olivetti(data_dir, raw_dir):
    """Returns the cached Olivetti images (400, 64, 64) float32 and person ids (400,)."""
    home = _resolve_home(data_dir) / "scikit_learn_data"
    key = str(home)
    if key in _OLIVETTI_CACHE:
        return _OLIVETTI_CACHE[key]
    if (home / _OLIVETTI_FILE).is_file():
        sklearn_home, download = home, False
    else:
        raw = _resolve_raw(raw_dir)
        raw_home = raw / "scikit_learn_data" if raw is not None else None
        if raw_home is not None and (raw_home / _OLIVETTI_FILE).is_file():
            sklearn_home, download = raw_home, False
        elif _host_reachable(_OLIVETTI_URL):
            home.mkdir(parents=True, exist_ok=True)
            sklearn_home, download = home, True
        else:
            message = _not_found_message(
                "The Olivetti faces dataset",
                "scikit_learn_data",
                (_OLIVETTI_FILE,),
                home,
                _OLIVETTI_URL,
            )
            if raw_home is not None:
                message += f" Missing from {raw_home}: {_OLIVETTI_FILE}."
            raise DatasetNotFoundError(message)

    from sklearn.datasets import fetch_olivetti_faces

    bunch = fetch_olivetti_faces(data_home=str(sklearn_home), download_if_missing=download)
    images = np.ascontiguousarray(bunch.images, dtype=np.float32)
    ids = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    ids.setflags(write=False)
    _OLIVETTI_CACHE[key] = (images, ids)
    return images, ids


def load_olivetti(*, data_dir=None, raw_dir=None):
    """Loads the Olivetti faces: 400 upright 64x64 faces of 40 people, 10 each.

    Read through scikit-learn's `fetch_olivetti_faces` from
    `<data_home()>/scikit_learn_data`, else from
    `<raw folder>/scikit_learn_data/olivetti_py3.pkz`, else downloaded (into
    `<data_home()>/scikit_learn_data`). Fails fast when none is possible.

    Args:
        data_dir: overrides `data_home()`.
        raw_dir: overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        `(images, person_ids)`: float32 `(400, 64, 64)` in `[0, 1]`, and int64
        `(400,)` ids 0-39, images of one person being contiguous.

    Raises:
        DatasetNotFoundError: when the data is neither cached, nor given as a
            raw file, nor downloadable.

    Example:

    >>> faces, ids = load_olivetti()
    >>> faces.shape, ids[:12]
    ((400, 64, 64), array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]))

    Reference:
        Samaria and Harter, "Parameterisation of a stochastic model for human
        face identification", IEEE Workshop on Applications of Computer
        Vision (1994).
    """
    images, ids = _read_olivetti(data_dir, raw_dir)
    return images.copy(), ids.copy()


@dataclasses.dataclass(frozen=True, eq=False)
class FacePatches:
    """Standardised face patches returned by `load_face_patches`.

    Attributes:
        x_train: float32 `(n_train, size * size)`, patches of people 0-29.
        x_test: float32 `(n_test, size * size)`, patches of people 30-39.
        person_train: int64 `(n_train,)`, the person each train patch shows.
        person_test: int64 `(n_test,)`, the person each test patch shows.
        mean: float32 `(size * size,)`, the per-pixel train mean (grey levels
            in `[0, 1]`) that was subtracted.
        scale: the single number the centred patches were divided by.
        size: the patch side in pixels.
        params_train: dict of the sampled geometry of each train patch:
            `"image"` (Olivetti image index), `"angle"` (degrees),
            `"scale"`, `"center"` (`(n, 2)` as (row, column) in pixels).
        params_test: the same for the test patches.
    """

    x_train: np.ndarray
    x_test: np.ndarray
    person_train: np.ndarray
    person_test: np.ndarray
    mean: np.ndarray
    scale: float
    size: int
    params_train: dict
    params_test: dict

    def unstandardize(self, x):
        """Maps standardised patches back to grey levels, shaped `(N, size, size)`.

        Args:
            x: array of shape `(N, size * size)` or `(N, size, size)`, e.g.
                `x_test` or a model's reconstruction of it.

        Returns:
            float32 array `(N, size, size)`, roughly in `[0, 1]`.
        """
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.size * self.size)
        return (x * np.float32(self.scale) + self.mean).reshape(-1, self.size, self.size)


def _sample_geometry(rng, images_index, size, angle_range, scale_range, extent):
    """Draws angle, scale and a centre keeping the rotated sampling grid inside the image."""
    n = len(images_index)
    angle = rng.uniform(angle_range[0], angle_range[1], n)
    scale = rng.uniform(scale_range[0], scale_range[1], n)
    radians = np.deg2rad(angle)
    # Half the extent, along either image axis, of the rotated square of
    # sample points (side * (1 - 1 / size) from first to last sample).
    half = (
        0.5 * size * scale * (1.0 - 1.0 / size)
        * (np.abs(np.cos(radians)) + np.abs(np.sin(radians)))
    )
    row = rng.uniform(half, extent - half)
    col = rng.uniform(half, extent - half)
    return {
        "image": images_index,
        "angle": angle,
        "scale": scale,
        "center": np.stack([row, col], axis=1),
    }


def _extract_patches(images, params, size, chunk=4096):
    """Samples rotated, scaled square patches with bilinear interpolation (vectorised)."""
    n_images, height, width = images.shape
    flat = images.reshape(n_images, -1).astype(np.float32)
    # Sample offsets from the patch centre, in units of the patch side.
    offsets = (np.arange(size) + 0.5) / size - 0.5
    out = np.empty((len(params["image"]), size, size), dtype=np.float32)
    for start in range(0, len(out), chunk):
        part = slice(start, start + chunk)
        side = (size * params["scale"][part])[:, None, None]
        radians = np.deg2rad(params["angle"][part])[:, None, None]
        cos, sin = np.cos(radians), np.sin(radians)
        u = offsets[None, None, :] * side  # along patch columns
        v = offsets[None, :, None] * side  # along patch rows
        rows = params["center"][part, 0][:, None, None] + sin * u + cos * v
        cols = params["center"][part, 1][:, None, None] + cos * u - sin * v
        r0 = np.clip(np.floor(rows).astype(np.int64), 0, height - 2)
        c0 = np.clip(np.floor(cols).astype(np.int64), 0, width - 2)
        fr = (rows - r0).astype(np.float32)
        fc = (cols - c0).astype(np.float32)
        pixel = r0 * width + c0
        image = params["image"][part][:, None, None]
        top = (1 - fc) * flat[image, pixel] + fc * flat[image, pixel + 1]
        bottom = (1 - fc) * flat[image, pixel + width] + fc * flat[image, pixel + width + 1]
        out[part] = (1 - fr) * top + fr * bottom
    return out


def _check_range(value, name, low, high):
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float, np.number)) for v in value)
        and low <= value[0] <= value[1] <= high
    )
    if not ok:
        raise ValueError(
            f"`{name}` must be a pair (min, max) with {low} <= min <= max <= {high}. "
            f"Received: {name}={value!r}"
        )


def load_face_patches(
    n_train=30000,
    n_test=10000,
    size=25,
    seed=0,
    *,
    angle_range=(-90.0, 90.0),
    scale_range=(1.4, 1.8),
    data_dir=None,
    raw_dir=None,
):
    """Builds Hinton & Salakhutdinov's face-patch dataset from the Olivetti faces.

    Each patch is a square cut from one Olivetti face, rotated by an angle
    drawn uniformly from `angle_range` (degrees), of side `size * scale`
    original pixels with `scale` uniform in `scale_range` (35-45 pixels for
    the defaults), subsampled to `size x size` pixels by bilinear
    interpolation, at a random centre such that the rotated square stays
    inside the 64x64 image. Train patches come from people 0-29 and test
    patches from people 30-39, so test error measures faces never seen. Each
    face is used equally often (within one). Then every pixel is shifted to
    zero mean (train means) and all patches are divided by one number so that
    the average per-pixel variance of the train set is 1. The paper used
    124,200 train and 41,400 test patches; the defaults are smaller. Train and
    test patches come from independent random streams, so the test set for a
    `seed` does not depend on `n_train`.

    Args:
        n_train: number of training patches.
        n_test: number of test patches.
        size: patch side in pixels after subsampling.
        seed: integer seed (or `None` for a random draw).
        angle_range: `(min, max)` rotation in degrees, within [-180, 180].
        scale_range: `(min, max)` of the patch side in original pixels
            divided by `size`.
        data_dir: overrides `data_home()`.
        raw_dir: overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        A `FacePatches` with flat patches `x_train` `(n_train, size * size)`
        and `x_test` `(n_test, size * size)` (float32, standardised), the
        person of each patch, the statistics `mean` and `scale` (see
        `FacePatches.unstandardize`) and the sampled geometry.

    Raises:
        ValueError: for non-positive counts or size, or ranges that are not
            ordered or do not fit in the 64x64 image.
        DatasetNotFoundError: when the Olivetti faces are not available.

    Example:

    >>> patches = load_face_patches(n_train=3000, n_test=1000)
    >>> patches.x_train.shape, patches.x_test.shape
    ((3000, 625), (1000, 625))
    >>> patches.unstandardize(patches.x_test[:5]).shape
    (5, 25, 25)

    Reference:
        Hinton and Salakhutdinov, "Reducing the dimensionality of data with
        neural networks", Science 313, 504-507 (2006), and its supporting
        online material.
    """
    _check_count(n_train, "n_train")
    _check_count(n_test, "n_test")
    _check_count(size, "size")
    if size < 2:
        raise ValueError(f"`size` must be at least 2. Received: size={size!r}")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
        raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
    _check_range(angle_range, "angle_range", -180.0, 180.0)
    _check_range(scale_range, "scale_range", 0.0, math.inf)
    if scale_range[0] <= 0:
        raise ValueError(
            f"`scale_range` must be positive. Received: scale_range={scale_range!r}"
        )
    extent = 63.0  # last pixel centre of the 64x64 Olivetti images
    # |cos| + |sin| (the extent of a rotated square) peaks at odd multiples of 45 degrees.
    angles = np.array([angle_range[0], angle_range[1], -135.0, -45.0, 45.0, 135.0])
    angles = np.deg2rad(angles[(angles >= angle_range[0]) & (angles <= angle_range[1])])
    widest = float(np.max(np.abs(np.cos(angles)) + np.abs(np.sin(angles))))
    largest = extent / (widest * (1 - 1 / size))
    if size * scale_range[1] > largest:
        raise ValueError(
            f"Patches do not fit in the 64x64 image at every angle of "
            f"angle_range={angle_range!r}: expected size * max scale <= "
            f"{largest:.1f} pixels, got {size} * {scale_range[1]}. "
            f"Received: scale_range={scale_range!r}"
        )

    faces, person = _read_olivetti(data_dir, raw_dir)
    train_images = np.flatnonzero(person < 30)
    test_images = np.flatnonzero(person >= 30)
    train_rng, test_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
    )

    def draw(rng, pool, n):
        images_index = rng.permutation(np.resize(pool, n))
        params = _sample_geometry(rng, images_index, size, angle_range, scale_range, extent)
        return _extract_patches(faces, params, size).reshape(n, -1), params

    x_train, params_train = draw(train_rng, train_images, n_train)
    x_test, params_test = draw(test_rng, test_images, n_test)

    mean = x_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    x_train -= mean
    x_test -= mean
    scale = float(np.sqrt(np.mean(np.square(x_train), dtype=np.float64)))
    x_train /= np.float32(scale)
    x_test /= np.float32(scale)
    return FacePatches(
        x_train=x_train,
        x_test=x_test,
        person_train=person[params_train["image"]],
        person_test=person[params_test["image"]],
        mean=mean,
        scale=scale,
        size=size,
        params_train=params_train,
        params_test=params_test,
    )
