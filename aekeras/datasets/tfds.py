"""MNIST and Fashion-MNIST through tensorflow-datasets (optional: needs TensorFlow)."""

import importlib.util
import shutil

import numpy as np

from aekeras.datasets import raw


class TfdsUnavailableError(ImportError):
    """tensorflow-datasets or TensorFlow cannot be imported."""


def available():
    """Whether tensorflow-datasets and TensorFlow are installed (found, not imported)."""
    for name in ("tensorflow_datasets", "tensorflow"):
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def _import_tfds():
    try:
        import tensorflow  # noqa: F401  (TFDS imports it lazily, and needs it)
        import tensorflow_datasets
    except ImportError as error:
        raise TfdsUnavailableError(
            f"source='tfds' needs tensorflow and tensorflow-datasets ({error}). "
            f"Install them (`pip install aekeras[tensorflow]`), or use "
            f"source='raw', which reads the same files without TensorFlow."
        ) from error
    return tensorflow_datasets


def read_split(dataset, split, home_dir, raw_dir):
    """Returns uint8 images `(N, 28, 28, 1)` and int64 labels `(N,)` of one split.

    The dataset is prepared once into `<home_dir>/tfds`: from the raw files
    when all four are in the raw-data folder (TFDS verifies their
    checksums), otherwise downloaded by TFDS.
    """
    tfds_dir = home_dir / "tfds"
    raw_files = None
    if not any((tfds_dir / dataset.name).glob("*/dataset_info.json")):
        # Surely not prepared: decide before the seconds-long TensorFlow import.
        raw_files = raw.locate(dataset, tfds_dir, raw_dir)

    tfds = _import_tfds()
    builder = tfds.builder(dataset.name, data_dir=str(tfds_dir))
    load_kwargs = {}
    scratch = None
    if not builder.is_prepared():
        folder, missing = raw_files or raw.locate(dataset, tfds_dir, raw_dir)
        # A download folder of its own: TFDS names extracted files after the
        # archive only, and MNIST and Fashion-MNIST share their file names, so
        # in a shared folder one dataset would be prepared from the other's
        # files. It is scratch space, removed once the dataset is prepared.
        scratch = tfds_dir / "downloads" / dataset.name
        prepare = {"download_dir": str(scratch)}
        if not missing:
            # TFDS takes the files from manual_dir instead of downloading
            # them, and verifies their registered checksums.
            prepare["download_config"] = tfds.download.DownloadConfig(
                manual_dir=str(folder)
            )
        load_kwargs["download_and_prepare_kwargs"] = prepare
    loaded = tfds.load(
        dataset.name,
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
    images, labels = tfds.as_numpy(loaded)
    return np.ascontiguousarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.int64)
