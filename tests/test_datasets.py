"""Tests for aekeras.datasets: MNIST-family and Olivetti loaders, configuration, failing fast.

The loaders find the offline raw files only through `AEKERAS_RAW_DATA`
(see data/README.md); without it they download. Prepared data goes to the
default data home (the repository's data/ folder), so each dataset is
prepared once and later runs reuse it. The raw (no TensorFlow) path is
tested in test_datasets_raw.py, face patches in test_datasets_face_patches.py.
"""

import threading
from pathlib import Path

import keras
import numpy as np
import pytest

from aekeras import datasets
from aekeras.datasets import files
from aekeras.datasets import tfds

IDX_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
PROXY_VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]


@pytest.fixture(scope="module")
def mnist_train():
    return datasets.load_mnist("train")


# ---------------------------------------------------------------- MNIST family


def test_mnist_train_shapes_dtypes_and_range(mnist_train):
    x, y = mnist_train
    assert x.shape == (60000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.shape == (60000,) and np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(y)) == set(range(10))


def test_mnist_test_split_and_flatten():
    x, y = datasets.load_mnist("test")
    flat, y_flat = datasets.load_mnist("test", flatten=True)
    assert x.shape == (10000, 28, 28, 1) and y.shape == (10000,)
    assert flat.shape == (10000, 784)
    np.testing.assert_array_equal(flat, x.reshape(10000, -1))
    np.testing.assert_array_equal(y, y_flat)


def test_fashion_mnist_shapes_and_labels():
    x, y = datasets.load_fashion_mnist("train")
    x_test, y_test = datasets.load_fashion_mnist("test")
    assert x.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))
    # Really Fashion-MNIST, not MNIST (TFDS extracts both datasets' archives,
    # which share file names, to the same names unless given separate folders).
    # Clothing covers far more of the image than digits do.
    assert x.mean() > 0.25 > datasets.load_mnist("test")[0].mean()


def test_standardize_uses_train_statistics(mnist_train):
    x_raw = mnist_train[0].astype(np.float64)
    mean = x_raw.mean(axis=0)
    scale = np.sqrt(x_raw.var(axis=0).mean())
    x_std, _ = datasets.load_mnist("train", standardize=True)
    assert np.abs(x_std.mean(axis=0)).max() < 1e-4
    assert x_std.var(axis=0, dtype=np.float64).mean() == pytest.approx(1.0, abs=1e-4)
    # The test split is shifted and scaled by the same train statistics.
    x_test, _ = datasets.load_mnist("test")
    x_test_std, _ = datasets.load_mnist("test", standardize=True, flatten=True)
    expected = ((x_test - mean) / scale).reshape(10000, -1)
    np.testing.assert_allclose(x_test_std, expected, atol=1e-4)


def test_n_takes_the_first_examples(mnist_train):
    x, y = datasets.load_mnist("train", n=100)
    np.testing.assert_array_equal(x, mnist_train[0][:100])
    np.testing.assert_array_equal(y, mnist_train[1][:100])
    # Standardisation statistics still come from the whole train split.
    x_std, _ = datasets.load_mnist("train", n=100, standardize=True)
    np.testing.assert_allclose(
        x_std, datasets.load_mnist("train", standardize=True)[0][:100], atol=1e-6
    )


def test_loader_returns_copies_of_cached_arrays():
    x, y = datasets.load_mnist("test")
    x[:] = -1.0
    y[:] = -1
    x_again, y_again = datasets.load_mnist("test")
    assert x_again.min() == 0.0 and y_again.min() == 0


@pytest.mark.parametrize("loader", [datasets.load_mnist, datasets.load_fashion_mnist])
def test_bad_split_is_a_value_error(loader):
    with pytest.raises(ValueError, match=r"'train', 'test'.*Received: split='validation'"):
        loader("validation")


@pytest.mark.parametrize("loader", [datasets.load_mnist, datasets.load_fashion_mnist])
def test_bad_source_is_a_value_error(loader):
    with pytest.raises(ValueError, match=r"'tfds', 'raw'.*Received: source='keras'"):
        loader("train", source="keras")


@pytest.mark.parametrize("n", [0, -5, 1.5, True, 60001])
def test_bad_n_is_a_value_error(n):
    with pytest.raises(ValueError, match=rf"Received: n={n!r}"):
        datasets.load_mnist("train", n=n)


def test_n_larger_than_test_split_names_the_limit():
    with pytest.raises(ValueError, match=r"in \[1, 10000\]\. Received: n=10001"):
        datasets.load_mnist("test", n=10001)


# ---------------------------------------------------------------- Olivetti


def test_olivetti_faces():
    faces, ids = datasets.load_olivetti()
    assert faces.shape == (400, 64, 64) and faces.dtype == np.float32
    assert faces.min() == 0.0 and faces.max() == 1.0
    assert ids.shape == (400,) and np.issubdtype(ids.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(ids), np.full(40, 10))
    # Upright faces: the dark eyes are in the upper half of the mean face.
    mean_face = faces.mean(axis=0)
    assert mean_face[12:20, 12:20].mean() < mean_face[44:52, 12:20].mean() - 0.08


# ---------------------------------------------------------------- configuration


def test_data_home_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv(datasets.DATA_HOME_ENV, raising=False)
    repo_data = Path(datasets.__file__).resolve().parents[2] / "data"
    assert datasets.data_home() == repo_data  # a source checkout with data/README.md
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path))
    assert datasets.data_home() == tmp_path


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """As if aekeras were installed (not a checkout), with HOME and the current folder in tmp."""
    site_packages = tmp_path / "site-packages"
    (site_packages / "data").mkdir(parents=True)
    (site_packages / "data" / "README.md").write_text("another package's data folder")
    monkeypatch.setattr(files, "_CHECKOUT_ROOT", site_packages)
    monkeypatch.delenv(datasets.DATA_HOME_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


def test_data_home_of_an_installed_package_is_in_the_user_home(installed, monkeypatch):
    assert datasets.data_home() == installed / "user" / ".aekeras" / "data"
    monkeypatch.setenv(datasets.DATA_HOME_ENV, "~/course-data")
    assert datasets.data_home() == installed / "user" / "course-data"


def test_raw_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(datasets.RAW_DATA_ENV, raising=False)
    assert datasets.raw_data_dir() is None
    monkeypatch.setenv(datasets.RAW_DATA_ENV, str(tmp_path))
    assert datasets.raw_data_dir() == tmp_path
    missing = str(tmp_path / "nowhere")
    monkeypatch.setenv(datasets.RAW_DATA_ENV, missing)
    with pytest.raises(datasets.DatasetNotFoundError, match=rf"AEKERAS_RAW_DATA='{missing}'"):
        datasets.raw_data_dir()


# ---------------------------------------------------------------- failing fast


@pytest.fixture
def nothing_available(monkeypatch, tmp_path):
    """An empty raw folder, an empty data home, no network; records the probed URLs."""
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv(datasets.RAW_DATA_ENV, str(raw))
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path / "home"))
    probed = []

    def unreachable(url, timeout=files.PROBE_TIMEOUT):
        probed.append(url)
        return False

    def must_not_run(*args, **kwargs):
        raise AssertionError("the loader went past the failed reachability check")

    monkeypatch.setattr(files, "host_reachable", unreachable)
    # Failing fast means: no download attempt, and no TensorFlow import.
    monkeypatch.setattr(keras.utils, "get_file", must_not_run)
    monkeypatch.setattr(tfds, "_import_tfds", must_not_run)
    return raw, probed


MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
OLIVETTI_URL = "https://ndownloader.figshare.com/"


@pytest.mark.parametrize(
    "load, kwargs, files, url",
    [
        *[
            (datasets.load_mnist, {"source": s}, IDX_FILES, MNIST_URL)
            for s in (None, "tfds", "raw")
        ],
        *[
            (datasets.load_fashion_mnist, {"source": s}, IDX_FILES, FASHION_URL)
            for s in (None, "tfds", "raw")
        ],
        (datasets.load_olivetti, {}, ["olivetti_py3.pkz"], OLIVETTI_URL),
        (datasets.load_face_patches, {}, ["olivetti_py3.pkz"], OLIVETTI_URL),
    ],
)
def test_missing_data_fails_fast_with_instructions(nothing_available, load, kwargs, files, url):
    _, probed = nothing_available
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        load(**kwargs)
    # One bounded probe of the download host decided it.
    assert len(probed) == 1 and probed[0].startswith(url)
    message = str(info.value)
    assert "AEKERAS_RAW_DATA=" in message and url.rstrip("/") in message
    for name in files:
        assert name in message
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("source", ["tfds", "raw"])
def test_partial_raw_folder_lists_the_missing_files(nothing_available, source):
    raw, _ = nothing_available
    (raw / "mnist").mkdir()
    (raw / "mnist" / IDX_FILES[0]).write_bytes(b"")
    with pytest.raises(datasets.DatasetNotFoundError, match="Missing from .*mnist") as info:
        datasets.load_mnist(source=source)
    missing_part = str(info.value).split("Missing from")[1]
    assert IDX_FILES[0] not in missing_part
    assert all(name in missing_part for name in IDX_FILES[1:])


def test_explicit_missing_raw_dir_is_named(nothing_available, tmp_path):
    missing = str(tmp_path / "nowhere")
    with pytest.raises(datasets.DatasetNotFoundError, match=rf"Received: raw_dir='{missing}'"):
        datasets.load_olivetti(raw_dir=missing)


@pytest.fixture
def no_proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def hanging_connection(monkeypatch):
    """Replaces socket.create_connection by one that hangs until the test ends.

    Yields the list of (address, timeout) it was called with, and an event
    set if a call ever returned (it must not, while the test runs).
    """
    calls, returned, release = [], threading.Event(), threading.Event()

    def hang(address, timeout=None, *args, **kwargs):
        calls.append((address, timeout))
        release.wait(600)
        returned.set()
        raise OSError("released")

    monkeypatch.setattr(files.socket, "create_connection", hang)
    joins = []

    class RecordingThread(threading.Thread):
        def join(self, timeout=None):
            joins.append(timeout)
            super().join(timeout)

    monkeypatch.setattr(files.threading, "Thread", RecordingThread)
    yield calls, joins, returned
    release.set()


def test_probe_gives_up_on_a_hanging_host(no_proxy, hanging_connection):
    calls, joins, returned = hanging_connection
    assert not files.host_reachable("https://data.example.org/mnist/", timeout=0.2)
    # The probe returned while the connection attempt still hangs: it does not
    # wait for it, only for its own bound, the timeout it passed to the socket
    # plus one second for name resolution.
    assert not returned.is_set()
    assert calls == [(("data.example.org", 443), 0.2)]
    assert joins == [pytest.approx(1.2)]


def test_probe_connects_to_the_proxy(no_proxy, monkeypatch, hanging_connection):
    calls, _, _ = hanging_connection
    monkeypatch.setenv("http_proxy", "http://proxy.example.org:3128")
    assert not files.host_reachable("http://data.example.org/fashion/", timeout=0.1)
    assert calls == [(("proxy.example.org", 3128), 0.1)]


def test_probe_default_timeout_is_a_few_seconds(no_proxy, hanging_connection):
    calls, joins, _ = hanging_connection
    files.host_reachable("http://data.example.org/")
    assert calls[0][1] == datasets.PROBE_TIMEOUT <= 5
    assert joins == [datasets.PROBE_TIMEOUT + 1.0]


def test_probe_on_real_sockets(no_proxy):
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert files.host_reachable(f"http://127.0.0.1:{port}/", timeout=5.0)
    # The port is closed now: refused at once.
    assert not files.host_reachable(f"http://127.0.0.1:{port}/", timeout=5.0)
