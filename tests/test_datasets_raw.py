"""Tests for the MNIST family without TensorFlow: IDX parsing, checksums, downloads, caching.

These tests read the raw files from the folder named by `AEKERAS_RAW_DATA`
(see data/README.md) and are skipped when it is unset. Damaged files and
download servers are built in `tmp_path` from copies of the real files.
"""

import dataclasses
import functools
import gzip
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import keras
import numpy as np
import pytest

import aekeras
from aekeras import datasets
from aekeras.datasets import files
from aekeras.datasets import mnist
from aekeras.datasets import tfds

REPOSITORY = Path(aekeras.__file__).resolve().parents[1]
LOADERS = {"mnist": datasets.load_mnist, "fashion_mnist": datasets.load_fashion_mnist}


@pytest.fixture(scope="module")
def raw_data():
    folder = os.environ.get(datasets.RAW_DATA_ENV)
    if not folder:
        pytest.skip(
            "AEKERAS_RAW_DATA is not set: these tests read the raw MNIST and "
            "Fashion-MNIST files from that folder (see data/README.md)"
        )
    return Path(folder)


def copy_raw(raw_data, destination, name="mnist"):
    """Copies the four IDX files of `name` into `destination/name/`; returns that folder."""
    folder = destination / name
    folder.mkdir(parents=True)
    for file_name in files.DATASETS[name].files:
        shutil.copyfile(raw_data / name / file_name, folder / file_name)
    return folder


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def flip_bytes(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(b ^ 0xFF for b in data[middle : middle + 4])
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# ---------------------------------------------------------------- checksums and URLs


def test_data_sha256sums_is_generated_from_the_one_table():
    # data/SHA256SUMS (for `sha256sum -c`) is derived from files.DATASETS, the
    # table the loaders check against; regenerate it with files.sha256sums().
    listed = (REPOSITORY / "data" / "SHA256SUMS").read_text()
    assert listed == files.sha256sums()
    names = {line.split()[1] for line in listed.splitlines()}
    assert names == {
        f"{dataset.folder}/{file_name}"
        for dataset in files.DATASETS.values()
        for file_name in dataset.files
    }
    assert "mnist/t10k-labels-idx1-ubyte.gz" in names and len(names) == 9


def test_raw_data_folder_has_the_registered_files(raw_data):
    for dataset in files.DATASETS.values():
        for file_name, (digest, size) in dataset.files.items():
            path = raw_data / dataset.folder / file_name
            assert (files.sha256(path), path.stat().st_size) == (digest, size), path


def test_urls_sizes_and_checksums_are_those_tfds_registers():
    spec = importlib.util.find_spec("tensorflow_datasets")
    if spec is None:
        pytest.skip("tensorflow-datasets is not installed")
    folder = Path(spec.submodule_search_locations[0]) / "url_checksums"
    for dataset in (files.MNIST, files.FASHION_MNIST):
        registered = {}
        for line in (folder / f"{dataset.name}.txt").read_text().splitlines():
            url, size, digest, _ = line.split("\t")
            registered[url] = (digest, int(size))
        assert registered == {dataset.url + f: v for f, v in dataset.files.items()}


# ---------------------------------------------------------------- IDX parsing


def write_idx(path, header, payload=b""):
    with gzip.open(path, "wb") as f:
        f.write(bytes(header) + payload)
    return path


def test_read_idx_round_trips_uint8_and_big_endian_arrays(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]
    path = write_idx(tmp_path / "a.gz", header, images.tobytes())
    np.testing.assert_array_equal(mnist.read_idx(path), images)
    values = np.array([-7, 1 << 20], dtype=np.int32)
    header = [0, 0, 0x0C, 1, 0, 0, 0, 2]
    path = write_idx(tmp_path / "b.gz", header, values.astype(">i4").tobytes())
    read = mnist.read_idx(path)
    np.testing.assert_array_equal(read, values)
    assert read.dtype == np.int32 and read.dtype.isnative


@pytest.mark.parametrize(
    "header, payload, reason",
    [
        ([1, 0, 0x08, 1, 0, 0, 0, 2], b"ab", "bad magic number"),
        ([0, 0, 0x07, 1, 0, 0, 0, 2], b"ab", "unknown element type 0x07"),
        ([0, 0, 0x08, 2, 0, 0, 0, 2], b"", "header of 2 dimensions is cut short"),
        ([0, 0, 0x08, 1, 0, 0, 0, 3], b"ab", r"shape \(3,\).*holds 10 bytes"),
        ([0, 0, 0x08, 1, 0, 0, 0, 1], b"ab", r"shape \(1,\).*holds 10 bytes"),
    ],
)
def test_read_idx_rejects_invalid_files_naming_them(tmp_path, header, payload, reason):
    path = write_idx(tmp_path / "bad-idx1-ubyte.gz", header, payload)
    with pytest.raises(datasets.DatasetCorruptedError, match=rf"{re.escape(str(path))}.*{reason}"):
        mnist.read_idx(path)


def test_read_idx_rejects_a_cut_gzip_stream(tmp_path):
    path = write_idx(tmp_path / "cut.gz", [0, 0, 0x08, 1, 0, 0, 3, 232], bytes(1000))
    truncate(path)
    message = rf"{re.escape(str(path))} is not a valid gzipped IDX"
    with pytest.raises(datasets.DatasetCorruptedError, match=message):
        mnist.read_idx(path)


# ---------------------------------------------------------------- both paths agree


def test_raw_order_is_the_tfds_order():
    # TFDS sorts examples by the md5 of split name + index: a fixed permutation.
    order = mnist.tfds_order("test", 10000)
    assert sorted(order.tolist()) == list(range(10000))
    assert not np.array_equal(order, np.arange(10000))
    np.testing.assert_array_equal(order, mnist.tfds_order("test", 10000))
    assert not np.array_equal(mnist.tfds_order("train", 10000), order)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_tfds_and_raw_paths_return_identical_arrays(raw_data, name):
    if not tfds.available():
        pytest.skip("tensorflow-datasets is not installed")
    load = LOADERS[name]
    for split in ("train", "test"):
        for options in ({}, {"standardize": True}, {"flatten": True, "standardize": True}):
            x_tfds, y_tfds = load(split, source="tfds", **options)
            x_raw, y_raw = load(split, source="raw", **options)
            assert x_raw.dtype == x_tfds.dtype == np.float32
            assert y_raw.dtype == y_tfds.dtype == np.int64
            np.testing.assert_array_equal(x_raw, x_tfds)
            np.testing.assert_array_equal(y_raw, y_tfds)


def test_raw_path_keeps_its_arrays_in_the_data_home(raw_data, tmp_path):
    home = tmp_path / "home"
    x, y = datasets.load_mnist("test", source="raw", data_dir=home, raw_dir=raw_data)
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0 and y.dtype == np.int64
    assert files_under(home) == ["arrays/mnist.npz"]
    # Written through a private temporary file, kept with the permissions of any file made by open().
    umask = os.umask(0)
    os.umask(umask)
    assert (home / "arrays" / "mnist.npz").stat().st_mode & 0o777 == 0o666 & ~umask
    with np.load(home / "arrays" / "mnist.npz") as arrays:
        assert {k: arrays[k].shape for k in arrays.files} == {
            "x_train": (60000, 28, 28, 1),
            "y_train": (60000,),
            "x_test": (10000, 28, 28, 1),
            "y_test": (10000,),
        }
        np.testing.assert_array_equal(arrays["y_test"], y)


def test_installed_package_prepares_into_the_user_home_not_the_current_folder(
    raw_data, tmp_path, monkeypatch
):
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    monkeypatch.setattr(files, "_CHECKOUT_ROOT", site_packages)  # not a source checkout
    monkeypatch.delenv(datasets.DATA_HOME_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    x, _ = datasets.load_mnist("test", n=10, source="raw", raw_dir=raw_data)
    assert x.shape == (10, 28, 28, 1)
    assert files_under(tmp_path / "user") == [".aekeras/data/arrays/mnist.npz"]
    assert files_under(tmp_path / "cwd") == [] and files_under(site_packages) == []


def test_auto_source_falls_back_to_raw_when_tfds_cannot_be_imported(
    raw_data, tmp_path, monkeypatch
):
    def broken():
        raise tfds.TfdsUnavailableError("No module named 'tensorflow'")

    monkeypatch.setattr(tfds, "available", lambda: True)
    monkeypatch.setattr(tfds, "_import_tfds", broken)
    home = tmp_path / "home"
    x, y = datasets.load_mnist("test", n=50, data_dir=home, raw_dir=raw_data)
    assert files_under(home) == ["arrays/mnist.npz"]  # prepared by the raw path
    # An explicit source="tfds" does not fall back.
    with pytest.raises(ImportError, match=r"No module named 'tensorflow'"):
        datasets.load_mnist("test", source="tfds", data_dir=home, raw_dir=raw_data)


def test_dataset_source_variable_picks_the_path_when_source_is_none(
    raw_data, tmp_path, monkeypatch
):
    # AEKERAS_DATASET_SOURCE=raw takes the NumPy path even where TFDS is installed (the class
    # grader's sandboxes read prepared arrays this way); an explicit `source` still wins.
    monkeypatch.setattr(tfds, "available", lambda: True)
    monkeypatch.setattr(tfds, "read_split", lambda *args: pytest.fail("took the TFDS path"))
    monkeypatch.setenv(datasets.SOURCE_ENV, "raw")
    home = tmp_path / "home"
    x, _ = datasets.load_mnist("test", n=20, data_dir=home, raw_dir=raw_data)
    assert x.shape == (20, 28, 28, 1) and files_under(home) == ["arrays/mnist.npz"]
    monkeypatch.setenv(datasets.SOURCE_ENV, "tfds")
    with pytest.raises(pytest.fail.Exception, match="took the TFDS path"):
        datasets.load_mnist("train", n=20, data_dir=home, raw_dir=raw_data)


@pytest.mark.parametrize("value", ["TFDS", "numpy", " raw"])
def test_dataset_source_variable_refuses_an_unknown_path_naming_it(value, monkeypatch):
    monkeypatch.setenv(datasets.SOURCE_ENV, value)
    with pytest.raises(
        ValueError,
        match=rf"AEKERAS_DATASET_SOURCE must be one of 'tfds', 'raw'.*"
        rf"Received: AEKERAS_DATASET_SOURCE='{value}'",
    ):
        datasets.load_mnist("test", n=5)


# ---------------------------------------------------------------- damaged raw files


@pytest.mark.parametrize("damage", [flip_bytes, truncate])
@pytest.mark.parametrize("file_name", ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"])
def test_damaged_raw_file_is_named_and_nothing_is_prepared(raw_data, tmp_path, damage, file_name):
    folder = copy_raw(raw_data, tmp_path / "raw")
    damage(folder / file_name)
    home = tmp_path / "home"
    expected, size = files.MNIST.files[file_name]
    received = files.sha256(folder / file_name)
    with pytest.raises(datasets.DatasetCorruptedError) as info:
        datasets.load_mnist("test", source="raw", data_dir=home, raw_dir=tmp_path / "raw")
    message = str(info.value)
    assert str(folder / file_name) in message
    assert f"expected sha256 {expected} ({size} bytes)" in message
    assert f"received sha256 {received}" in message
    assert files_under(home) == []
    # Repaired, the same call prepares the dataset.
    shutil.copyfile(raw_data / "mnist" / file_name, folder / file_name)
    datasets.load_mnist("test", source="raw", data_dir=home, raw_dir=tmp_path / "raw")
    assert files_under(home) == ["arrays/mnist.npz"]


def test_invalid_idx_file_with_a_registered_checksum_is_named(raw_data, tmp_path, monkeypatch):
    # A labels file announcing one label too few, registered as if it were official.
    folder = copy_raw(raw_data, tmp_path / "raw")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    labels = mnist.read_idx(path)
    write_idx(path, [0, 0, 0x08, 1, *(9999).to_bytes(4, "big")], labels[:9999].tobytes())
    registered = dict(files.MNIST.files)
    registered[path.name] = (files.sha256(path), path.stat().st_size)
    monkeypatch.setitem(files.DATASETS, "mnist", dataclasses.replace(files.MNIST, files=registered))
    home = tmp_path / "home"
    message = rf"{re.escape(str(path))} holds .*\(9999,\).*\(10000,\)"
    with pytest.raises(datasets.DatasetCorruptedError, match=message):
        datasets.load_mnist("test", source="raw", data_dir=home, raw_dir=tmp_path / "raw")
    assert files_under(home) == []


def test_interrupted_write_leaves_no_partial_file(raw_data, tmp_path, monkeypatch):
    real_savez = np.savez

    def savez_then_fail(file, **arrays):
        real_savez(file, x=arrays["x_test"])  # part of the data is written
        raise OSError("No space left on device")

    monkeypatch.setattr(mnist.np, "savez", savez_then_fail)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="No space left"):
        datasets.load_mnist("test", source="raw", data_dir=home, raw_dir=raw_data)
    assert files_under(home) == []


# ---------------------------------------------------------------- downloads


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # quiet
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server for `tmp_path/served`; yields (folder, base URL, requested paths).

    It stops at the end of the test, and by itself after two minutes.
    """
    for variable in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]:
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)
    folder = tmp_path / "served"
    folder.mkdir()
    requested = []

    class Handler(_Handler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    deadline = threading.Timer(120, httpd.shutdown)
    deadline.daemon = True
    deadline.start()
    try:
        yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/mnist/", requested
    finally:
        deadline.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture
def served_mnist(raw_data, server, monkeypatch, tmp_path):
    """MNIST served locally (its URL pointed there), and no raw-data folder."""
    folder, url, requested = server
    copy_raw(raw_data, folder)
    monkeypatch.setitem(files.DATASETS, "mnist", dataclasses.replace(files.MNIST, url=url))
    monkeypatch.delenv(datasets.RAW_DATA_ENV, raising=False)
    return folder / "mnist", url, requested


def test_download_with_keras_get_file(served_mnist, raw_data, tmp_path, monkeypatch, capsys):
    _, url, requested = served_mnist
    calls = []
    real_get_file = keras.utils.get_file

    def get_file(*args, **kwargs):
        calls.append(kwargs)
        return real_get_file(*args, **kwargs)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    home = tmp_path / "home"
    x, y = datasets.load_mnist("test", source="raw", data_dir=home)
    assert sorted(requested) == sorted(f"/mnist/{f}" for f in files.MNIST.files)
    assert {(c["origin"], c["file_hash"]) for c in calls} == {
        (url + f, digest) for f, (digest, _) in files.MNIST.files.items()
    }
    # The downloads were scratch space: only the arrays remain.
    assert files_under(home) == ["arrays/mnist.npz"]
    # get_file says what it downloads and shows a progress bar (a Keras Progbar).
    shown = capsys.readouterr().out
    assert all(f"Downloading data from {url}{f}" in shown for f in files.MNIST.files)
    assert "9912422/9912422" in shown  # the bar of the 9.9 MB file, complete
    x_local, y_local = datasets.load_mnist(
        "test", source="raw", data_dir=tmp_path / "other", raw_dir=raw_data
    )
    np.testing.assert_array_equal(x, x_local)
    np.testing.assert_array_equal(y, y_local)


def test_damaged_download_is_named_and_nothing_is_prepared(served_mnist, tmp_path):
    folder, url, _ = served_mnist
    flip_bytes(folder / "train-images-idx3-ubyte.gz")
    received = files.sha256(folder / "train-images-idx3-ubyte.gz")
    expected, size = files.MNIST.files["train-images-idx3-ubyte.gz"]
    home = tmp_path / "home"
    with pytest.raises(datasets.DatasetCorruptedError) as info:
        datasets.load_mnist("test", source="raw", data_dir=home)
    message = str(info.value)
    assert f"{url}train-images-idx3-ubyte.gz is damaged" in message
    assert f"expected sha256 {expected} ({size} bytes), received sha256 {received}" in message
    assert files_under(home) == []


def test_missing_download_is_a_dataset_not_found_error(served_mnist, tmp_path):
    folder, url, _ = served_mnist
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    home = tmp_path / "home"
    message = rf"{re.escape(url)}t10k-labels.*404.*AEKERAS_RAW_DATA"
    with pytest.raises(datasets.DatasetNotFoundError, match=message):
        datasets.load_mnist("test", source="raw", data_dir=home)
    assert files_under(home) == []


# ---------------------------------------------------------------- without TensorFlow

_WITHOUT_TENSORFLOW = """
import sys

# As if they were not installed: `import tensorflow` raises ImportError and
# importlib.util.find_spec("tensorflow") returns None.
sys.modules["tensorflow"] = sys.modules["tensorflow_datasets"] = None
import numpy as np
import aekeras

x, y = aekeras.datasets.load_mnist("test", n=100, standardize=True)
np.save(sys.argv[1], x)
np.save(sys.argv[2], y)
try:
    aekeras.datasets.load_mnist("test", source="tfds")
except ImportError as error:
    print("tfds:", error)
loaded = sorted(
    m for m, module in sys.modules.items()
    if m.split(".")[0] in ("tensorflow", "tensorflow_datasets") and module is not None
)
print("loaded:", loaded)
"""


def test_import_and_load_without_tensorflow(raw_data, tmp_path):
    backend = keras.backend.backend()
    env = dict(
        os.environ,
        KERAS_BACKEND="numpy" if backend == "tensorflow" else backend,
        AEKERAS_DATA_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
    )
    x_path, y_path = tmp_path / "x.npy", tmp_path / "y.npy"
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TENSORFLOW, str(x_path), str(y_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout
    assert "tfds: source='tfds' needs tensorflow" in result.stdout
    assert files_under(tmp_path / "home") == ["arrays/mnist.npz"]
    x, y = datasets.load_mnist("test", n=100, standardize=True, source="raw")
    np.testing.assert_array_equal(np.load(x_path), x)
    np.testing.assert_array_equal(np.load(y_path), y)
