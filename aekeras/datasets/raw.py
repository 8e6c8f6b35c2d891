"""MNIST and Fashion-MNIST without TensorFlow: the official IDX files, verified, as arrays.

The four IDX files of a dataset come from the raw-data folder
(`AEKERAS_RAW_DATA` or `raw_dir=`) or are downloaded by
`keras.utils.get_file` from the URL tensorflow-datasets uses; every file's
sha256 is checked against the value TFDS registers. The files are parsed
with NumPy and the arrays of both splits saved once to
`<data home>/arrays/<name>.npz`, written to a temporary file first and then
renamed, so a failure leaves nothing half-prepared.

The examples are put in the order in which tensorflow-datasets stores them
(sorted by the md5 of the split name followed by the example's index, see
`tensorflow_datasets/core/hashing.py`), so both paths return the same
arrays and `n=` selects the same examples.
"""

import hashlib
import os
import shutil
import tempfile

import numpy as np

from aekeras.datasets import home
from aekeras.datasets import probe
from aekeras.datasets._checks import SPLITS
from aekeras.datasets.errors import DatasetCorruptedError
from aekeras.datasets.errors import DatasetNotFoundError
from aekeras.datasets.idx import read_idx

_IMAGE_SIDE = 28


def arrays_path(dataset, home_dir):
    """Where the arrays prepared from the raw files of `dataset` are stored."""
    return home_dir / "arrays" / f"{dataset.name}.npz"


def locate(dataset, where_looked, raw_dir):
    """Returns the raw folder of `dataset` (or `None`) and the files missing from it.

    Fails fast, with a `DatasetNotFoundError` naming the files, the folder
    and `AEKERAS_RAW_DATA`, when files are missing and the download host does
    not answer.
    """
    raw = home.resolve_raw(raw_dir)
    folder = raw / dataset.name if raw is not None else None
    missing = [f for f in dataset.files if folder is None or not (folder / f).is_file()]
    if missing and not probe.host_reachable(dataset.url):
        message = home.not_found_message(
            dataset.title, dataset.name, tuple(dataset.files), where_looked, dataset.url
        )
        if folder is not None:
            message += f" Missing from {folder}: {', '.join(missing)}."
        raise DatasetNotFoundError(message)
    return folder, missing


def sha256(path):
    """The sha256 hex digest of the file `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksum_error(dataset, file_name, path, origin):
    expected, size = dataset.files[file_name]
    received = f"{sha256(path)} ({os.path.getsize(path)} bytes)" if path.is_file() else "no file"
    return DatasetCorruptedError(
        f"{origin} is damaged (truncated or altered): expected sha256 {expected} "
        f"({size} bytes), received sha256 {received}. Nothing was prepared from it; "
        f"replace the file (the checksums are listed in data/SHA256SUMS)."
    )


def _verify(dataset, file_name, path):
    if sha256(path) != dataset.files[file_name][0]:
        raise _checksum_error(dataset, file_name, path, path)


def _download(dataset, file_name, scratch):
    """Downloads one file into `scratch` with `keras.utils.get_file`, checking its sha256."""
    import keras

    url = dataset.url + file_name
    try:
        path = keras.utils.get_file(
            fname=file_name,
            origin=url,
            file_hash=dataset.files[file_name][0],
            hash_algorithm="sha256",
            cache_dir=str(scratch),
            cache_subdir=".",
        )
    except ValueError as error:  # what get_file raises for a wrong checksum
        raise _checksum_error(dataset, file_name, scratch / file_name, url) from error
    except Exception as error:  # get_file turns HTTP and URL errors into Exception
        raise DatasetNotFoundError(
            f"Downloading {url} failed ({error}). Put the files "
            f"{', '.join(dataset.files)} into <folder>/{dataset.name}/ and set "
            f"{home.RAW_DATA_ENV}=<folder> instead (see data/README.md)."
        ) from error
    return scratch / os.path.basename(path)


def tfds_order(split, n):
    """The order in which tensorflow-datasets stores the `n` examples of `split`."""
    salt = hashlib.md5(split.encode("utf-8"))

    def key(index):
        md5 = salt.copy()
        md5.update(str(index).encode("utf-8"))
        return md5.digest()  # bytes compare like TFDS's 128-bit integers

    return np.array(sorted(range(n), key=key), dtype=np.int64)


def _read_split(dataset, split, paths):
    n = dataset.num_examples[split]
    images_file, labels_file = dataset.split_files(split)
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
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def prepare(dataset, home_dir, raw_dir):
    """Verifies and parses the raw files of `dataset`; saves the arrays of both splits."""
    target = arrays_path(dataset, home_dir)
    folder, missing = locate(dataset, target, raw_dir)
    # Downloads go to a folder of their own, removed afterwards (the arrays
    # are the cache); MNIST and Fashion-MNIST share their file names.
    scratch = home_dir / "downloads" / dataset.name
    try:
        paths = {}
        for file_name in dataset.files:
            if file_name in missing:
                scratch.mkdir(parents=True, exist_ok=True)
                paths[file_name] = _download(dataset, file_name, scratch)
            else:
                paths[file_name] = folder / file_name
                _verify(dataset, file_name, paths[file_name])
        arrays = {}
        for split in SPLITS:
            arrays[f"x_{split}"], arrays[f"y_{split}"] = _read_split(dataset, split, paths)
        _save_atomically(target, arrays)
    finally:
        if missing:
            shutil.rmtree(scratch, ignore_errors=True)
            try:
                scratch.parent.rmdir()  # "downloads", when nothing else uses it
            except OSError:
                pass
    return target


def read_split(dataset, split, home_dir, raw_dir):
    """Returns uint8 images `(N, 28, 28, 1)` and int64 labels `(N,)` of one split."""
    target = arrays_path(dataset, home_dir)
    if not target.is_file():
        prepare(dataset, home_dir, raw_dir)
    with np.load(target) as arrays:
        return arrays[f"x_{split}"], arrays[f"y_{split}"]
