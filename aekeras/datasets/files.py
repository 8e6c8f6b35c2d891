"""The raw data files: what they are, where they are stored and found, how they are fetched.

`DATASETS` is the one table of the raw files the loaders use: for each
dataset its folder, download URL and every file's sha256 and size.
`data/SHA256SUMS` is generated from it (`sha256sums()`; a test checks that
the two agree). The rest of the module answers the loaders' questions about
files: where prepared data goes (`data_home`), where local raw files are
(`raw_data_dir`), which files are there or can be downloaded (`locate`, which
fails fast offline), and the verified files themselves (`fetch`).
"""

import dataclasses
import hashlib
import os
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path

from aekeras.datasets.errors import DatasetCorruptedError
from aekeras.datasets.errors import DatasetNotFoundError

RAW_DATA_ENV = "AEKERAS_RAW_DATA"
DATA_HOME_ENV = "AEKERAS_DATA_HOME"
# The loaders' path when `source=None`: "tfds" or "raw" (unset: TFDS when installed).
SOURCE_ENV = "AEKERAS_DATASET_SOURCE"

# Seconds to wait for a TCP connection to a download host before calling it unreachable.
PROBE_TIMEOUT = 3.0

# The repository root when the package runs from a source checkout.
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the table


@dataclasses.dataclass(frozen=True)
class RawFiles:
    """The raw files of one dataset.

    Attributes:
        name: The dataset's name (the TFDS name for the MNIST family).
        title: The name shown in messages.
        folder: Its sub-folder of the raw-data folder.
        url: The download location of the files, ending in `/` (for the
            MNIST family, the one tensorflow-datasets uses); for a single
            file, its own URL.
        files: `{file name: (sha256, size in bytes)}`.
    """

    name: str
    title: str
    folder: str
    url: str
    files: dict


MNIST = RawFiles(
    name="mnist",
    title="MNIST",
    folder="mnist",
    url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    files={
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    },
)

FASHION_MNIST = RawFiles(
    name="fashion_mnist",
    title="Fashion-MNIST",
    folder="fashion_mnist",
    url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    files={
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            26421880,
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            29515,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            4422102,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            5148,
        ),
    },
)

# scikit-learn's cache of the Olivetti faces. scikit-learn does not checksum
# it and its bytes depend on the scikit-learn/joblib version that wrote it:
# the sha256 is that of the course's offline copy, listed for `sha256sum -c`,
# not checked by the loader.
OLIVETTI = RawFiles(
    name="olivetti",
    title="The Olivetti faces dataset",
    folder="scikit_learn_data",
    url="https://ndownloader.figshare.com/files/5976027",
    files={
        "olivetti_py3.pkz": (
            "47398b319d88c78459514b30b87c562313aad345b5c6a387b678d7f8177be4ba",
            1405393,
        ),
    },
)

# Looked up at each call, so that tests can point a dataset at a local server.
DATASETS = {dataset.name: dataset for dataset in (MNIST, FASHION_MNIST, OLIVETTI)}


def sha256sums():
    """The text of `data/SHA256SUMS`: one `<sha256>  <folder>/<file>` line per raw file."""
    lines = [
        f"{digest}  {dataset.folder}/{file_name}"
        for dataset in DATASETS.values()
        for file_name, (digest, _) in sorted(dataset.files.items())
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- where


def data_home():
    """Returns the folder where prepared datasets are stored.

    The folder is, in order of precedence: the environment variable
    `AEKERAS_DATA_HOME`; the repository's `data/` folder when the package runs
    from a source checkout (the folder above the package holds
    `pyproject.toml` and `data/README.md`); otherwise `~/.aekeras/data`, in
    the user's home like Keras' own `~/.keras/datasets`. It never depends on
    the current folder. TFDS records go to `<data_home>/tfds`, the arrays
    prepared from the raw files without TensorFlow to `<data_home>/arrays`,
    the scikit-learn cache to `<data_home>/scikit_learn_data`. The folder is
    not created by this function.

    Returns:
        A `pathlib.Path`.

    Example:

    >>> aekeras.datasets.data_home()  # doctest: +SKIP
    PosixPath('/home/student/.aekeras/data')
    """
    value = os.environ.get(DATA_HOME_ENV)
    if value:
        return Path(value).expanduser()
    checkout_data = _CHECKOUT_ROOT / "data"
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file() and (checkout_data / "README.md").is_file():
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


# ---------------------------------------------------------------- found, or failing fast


def host_reachable(url, timeout=PROBE_TIMEOUT):
    """Whether a TCP connection to the host of `url` (or its proxy) opens within `timeout`.

    Loaders call it before downloading, so that neither tensorflow-datasets,
    `keras.utils.get_file` nor scikit-learn is left retrying an unreachable
    host.
    """
    result = []

    def connect():
        try:
            parts = urllib.parse.urlsplit(url)
            host = parts.hostname
            port = parts.port or (443 if parts.scheme == "https" else 80)
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(host):
                proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
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


def not_found_message(dataset, where_looked):
    """The message of a `DatasetNotFoundError`: what is missing and how to provide it."""
    noun = "the file" if len(dataset.files) == 1 else "the files"
    return (
        f"{dataset.title} is not available: it is not prepared in {where_looked}, its "
        f"raw files were not found, and its download host ({dataset.url}) cannot be "
        f"reached. To use a local copy, put {noun} {', '.join(dataset.files)} into "
        f"<folder>/{dataset.folder}/ and set the environment variable "
        f"{RAW_DATA_ENV}=<folder> (e.g. `export {RAW_DATA_ENV}=/path/to/datasets`), "
        f"or pass raw_dir=<folder>. The sha256 checksums of the files are listed "
        f"in data/SHA256SUMS of the aekeras repository."
    )


def locate(dataset, where_looked, raw_dir):
    """Returns the raw folder of `dataset` (or `None`) and the files missing from it.

    Fails fast, with a `DatasetNotFoundError` naming the files, the folder
    and `AEKERAS_RAW_DATA`, when files are missing and the download host does
    not answer (one bounded probe, `host_reachable`).
    """
    raw = resolve_raw(raw_dir)
    folder = raw / dataset.folder if raw is not None else None
    missing = [f for f in dataset.files if folder is None or not (folder / f).is_file()]
    if missing and not host_reachable(dataset.url):
        message = not_found_message(dataset, where_looked)
        if folder is not None:
            message += f" Missing from {folder}: {', '.join(missing)}."
        raise DatasetNotFoundError(message)
    return folder, missing


# ---------------------------------------------------------------- verified files


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


def _download(dataset, file_name, scratch):
    """Downloads one file into `scratch` with `keras.utils.get_file`.

    `get_file` shows a progress bar and checks the sha256.
    """
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
            f"{', '.join(dataset.files)} into <folder>/{dataset.folder}/ and set "
            f"{RAW_DATA_ENV}=<folder> instead (see data/README.md)."
        ) from error
    return scratch / os.path.basename(path)


def fetch(dataset, where_looked, raw_dir, scratch):
    """Returns `{file name: path}` of the raw files of `dataset`, every sha256 checked.

    Files in the raw-data folder are used in place; the missing ones are
    downloaded into `scratch` (created if needed; the caller removes it).

    Raises:
        DatasetNotFoundError: See `locate`, or when a download fails.
        DatasetCorruptedError: Naming the file (or URL), the expected and the
            received sha256, when a file is damaged.
    """
    folder, missing = locate(dataset, where_looked, raw_dir)
    paths = {}
    for file_name in dataset.files:
        if file_name in missing:
            scratch.mkdir(parents=True, exist_ok=True)
            paths[file_name] = _download(dataset, file_name, scratch)
        else:
            path = folder / file_name
            if sha256(path) != dataset.files[file_name][0]:
                raise _checksum_error(dataset, file_name, path, path)
            paths[file_name] = path
    return paths
