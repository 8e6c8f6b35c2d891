"""MNIST and Fashion-MNIST through tensorflow-datasets (optional: needs TensorFlow)."""

import contextlib
import importlib.util
import io
import shutil

import numpy as np

from aekeras.datasets import files


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
        raw_files = files.locate(dataset, tfds_dir, raw_dir)

    tfds = _import_tfds()
    with _quiet_tfds(tfds):
        prepared = tfds.builder(dataset.name, data_dir=str(tfds_dir)).is_prepared()
    load_kwargs = {}
    scratch = None
    if not prepared:
        folder, missing = raw_files or files.locate(dataset, tfds_dir, raw_dir)
        # A download folder of its own: TFDS names extracted files after the
        # archive only, and MNIST and Fashion-MNIST share their file names, so
        # in a shared folder one dataset would be prepared from the other's
        # files. It is scratch space, removed once the dataset is prepared.
        scratch = tfds_dir / "downloads" / dataset.name
        prepare = {"download_dir": str(scratch)}
        if not missing:
            # TFDS takes the files from manual_dir instead of downloading
            # them, and verifies their registered checksums.
            prepare["download_config"] = tfds.download.DownloadConfig(manual_dir=str(folder))
        load_kwargs["download_and_prepare_kwargs"] = prepare
    if scratch is not None:
        print(
            f"Preparing {dataset.title} with tensorflow-datasets into {tfds_dir} (once)", flush=True
        )
    with _quiet_tfds(tfds):
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


@contextlib.contextmanager
def _quiet_tfds(tfds):
    """While TFDS prepares and reads a dataset: no progress bars, no absl notices
    ("Variant folder ... has no dataset_info.json") and none of its printed
    "Downloading and preparing" lines. In a lecture they fill a screen; the
    loader says in one line what it prepares. Errors still raise."""
    from absl import logging as absl_logging  # a dependency of TensorFlow and TFDS

    tfds.disable_progress_bar()
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        absl_logging.set_verbosity(verbosity)
