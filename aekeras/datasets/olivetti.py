"""The Olivetti faces, read through scikit-learn: `load_olivetti`."""

import numpy as np

from aekeras.datasets import files
from aekeras.datasets.errors import DatasetNotFoundError

_OLIVETTI_FILE = next(iter(files.OLIVETTI.files))  # "olivetti_py3.pkz"

# In-process cache of the arrays; the loader returns copies.
_CACHE = {}


def read_olivetti(data_dir, raw_dir):
    """Returns the cached Olivetti images (400, 64, 64) float32 and person ids (400,)."""
    dataset = files.DATASETS["olivetti"]
    cache_dir = files.resolve_home(data_dir) / "scikit_learn_data"
    key = str(cache_dir)
    if key in _CACHE:
        return _CACHE[key]
    if (cache_dir / _OLIVETTI_FILE).is_file():
        sklearn_home, download = cache_dir, False
    else:
        raw = files.resolve_raw(raw_dir)
        raw_home = raw / dataset.folder if raw is not None else None
        if raw_home is not None and (raw_home / _OLIVETTI_FILE).is_file():
            sklearn_home, download = raw_home, False
        elif files.host_reachable(dataset.url):
            cache_dir.mkdir(parents=True, exist_ok=True)
            sklearn_home, download = cache_dir, True
        else:
            message = files.not_found_message(dataset, cache_dir)
            if raw_home is not None:
                message += f" Missing from {raw_home}: {_OLIVETTI_FILE}."
            raise DatasetNotFoundError(message)

    from sklearn.datasets import fetch_olivetti_faces

    bunch = fetch_olivetti_faces(data_home=str(sklearn_home), download_if_missing=download)
    images = np.ascontiguousarray(bunch.images, dtype=np.float32)
    ids = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    ids.setflags(write=False)
    _CACHE[key] = (images, ids)
    return images, ids


def load_olivetti(*, data_dir=None, raw_dir=None):
    """Loads the Olivetti faces: 400 upright 64x64 faces of 40 people, 10 each.

    Read through scikit-learn's `fetch_olivetti_faces` from
    `<data_home()>/scikit_learn_data`, else from
    `<raw folder>/scikit_learn_data/olivetti_py3.pkz`, else downloaded (into
    `<data_home()>/scikit_learn_data`). Fails fast when none is possible.

    Args:
        data_dir: Overrides `data_home()`.
        raw_dir: Overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        `(images, person_ids)`: Float32 `(400, 64, 64)` in `[0, 1]`, and int64
        `(400,)` ids 0-39, images of one person being contiguous.

    Raises:
        DatasetNotFoundError: When the data is neither cached, nor given as a
            raw file, nor downloadable.

    Example:

    >>> import aekeras
    >>> faces, ids = aekeras.datasets.load_olivetti()
    >>> faces.shape, ids[:12]
    ((400, 64, 64), array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]))

    Reference:
    - [Samaria & Harter, 1994](https://doi.org/10.1109/ACV.1994.341300),
      "Parameterisation of a stochastic model for human face identification".
    """
    images, ids = read_olivetti(data_dir, raw_dir)
    return images.copy(), ids.copy()
