"""Where datasets are stored (the data home) and found (the raw-data folder)."""

import os
from pathlib import Path

from aekeras.datasets.errors import DatasetNotFoundError

RAW_DATA_ENV = "AEKERAS_RAW_DATA"
DATA_HOME_ENV = "AEKERAS_DATA_HOME"


def data_home():
    """Returns the folder where prepared datasets are stored.

    The folder is, in order of precedence: the environment variable
    `AEKERAS_DATA_HOME`; the repository's `data/` folder when the package runs
    from a source checkout (that folder exists and holds `README.md`);
    otherwise `~/.aekeras/data`. TFDS records go to `<data_home>/tfds`, the
    arrays prepared from the raw files without TensorFlow to
    `<data_home>/arrays`, the scikit-learn cache to
    `<data_home>/scikit_learn_data`. The folder is not created by this
    function.

    Returns:
        A `pathlib.Path`.

    Example:

    >>> aekeras.datasets.data_home()  # doctest: +SKIP
    PosixPath('<repository>/data')
    """
    value = os.environ.get(DATA_HOME_ENV)
    if value:
        return Path(value).expanduser()
    checkout_data = Path(__file__).resolve().parents[2] / "data"
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
        DatasetNotFoundError: If the variable names a folder that does not exist.

    Example:

    >>> os.environ["AEKERAS_RAW_DATA"] = "/path/to/datasets"  # doctest: +SKIP
    >>> aekeras.datasets.raw_data_dir()  # doctest: +SKIP
    PosixPath('/path/to/datasets')
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


def resolve_home(data_dir):
    """`data_dir` as a path, or `data_home()` when it is `None`."""
    return Path(data_dir).expanduser() if data_dir is not None else data_home()


def resolve_raw(raw_dir):
    """`raw_dir` (which must exist) as a path, or `raw_data_dir()` when it is `None`."""
    if raw_dir is not None:
        return _existing_raw_dir(raw_dir, "raw_dir")
    return raw_data_dir()


def not_found_message(title, subfolder, files, where_looked, url):
    """The message of a `DatasetNotFoundError`: what is missing and how to provide it."""
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
