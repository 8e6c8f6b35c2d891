"""Tests for aekeras.datasets: loaders, standardisation, face patches, fail-fast errors."""

import os
import time
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl

from aekeras import datasets

# The offline copy of the raw files on the course's build machines. Used when
# AEKERAS_RAW_DATA is not already set; prepared data goes to the default data
# home (the repository's data/ folder), so TFDS prepares each dataset once
# (about 20 s) and later runs reuse it.
SHARED_RAW_DATA = Path("/work/shared/datasets")

IDX_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


@pytest.fixture(scope="module", autouse=True)
def _raw_data():
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get(datasets.RAW_DATA_ENV) and SHARED_RAW_DATA.is_dir():
            mp.setenv(datasets.RAW_DATA_ENV, str(SHARED_RAW_DATA))
        yield


@pytest.fixture(scope="module")
def mnist_train():
    return datasets.load_mnist("train")


@pytest.fixture(scope="module")
def patches():
    return datasets.load_face_patches(n_train=6000, n_test=2000, seed=0)


def pca_test_error(x_train, x_test, k=30):
    """Mean per-patch sum of squared error of a k-component PCA fitted on x_train."""
    # One BLAS thread: on a small shared machine, OpenBLAS threads competing
    # with TensorFlow's make these products several times slower.
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        mean = x_train.mean(axis=0)
        centred = x_train - mean
        _, vectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
        top = vectors[:, -k:].astype(np.float32)  # eigenvectors of the k largest eigenvalues
        centred = x_test - mean
        residual = (centred - centred @ top @ top.T).astype(np.float64)
    return float(np.sum(residual**2, axis=1).mean())


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


@pytest.mark.parametrize("n", [0, -5, 1.5, True, 60001])
def test_bad_n_is_a_value_error(n):
    with pytest.raises(ValueError, match=rf"Received: n={n!r}"):
        datasets.load_mnist("train", n=n)


def test_n_larger_than_test_split_names_the_limit():
    with pytest.raises(ValueError, match=r"at most 10000.*Received: n=10001"):
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


# ---------------------------------------------------------------- face patches


def test_face_patch_shapes_and_person_split(patches):
    assert patches.x_train.shape == (6000, 625) and patches.x_train.dtype == np.float32
    assert patches.x_test.shape == (2000, 625) and patches.x_test.dtype == np.float32
    assert set(np.unique(patches.person_train)) == set(range(30))
    assert set(np.unique(patches.person_test)) == set(range(30, 40))
    # Every face is used equally often (within one).
    counts = np.bincount(patches.params_train["image"], minlength=300)[:300]
    assert counts.min() == 6000 // 300 and counts.max() == 6000 // 300


def test_face_patch_standardisation(patches):
    x = patches.x_train.astype(np.float64)
    assert np.abs(x.mean(axis=0)).max() < 1e-4
    assert x.var(axis=0).mean() == pytest.approx(1.0, abs=1e-4)
    # Test patches use the train statistics: close to, not exactly, standard.
    assert 0.7 < patches.x_test.var(axis=0).mean() < 1.3
    images = patches.unstandardize(patches.x_test)
    assert images.shape == (2000, 25, 25)
    assert images.min() > -1e-4 and images.max() < 1 + 1e-4


def test_face_patch_geometry_ranges(patches):
    params = patches.params_train
    angle, scale, center = params["angle"], params["scale"], params["center"]
    assert -90 <= angle.min() < -85 and 85 < angle.max() <= 90
    assert angle.std() == pytest.approx(180 / np.sqrt(12), rel=0.05)  # uniform
    assert 1.4 <= scale.min() < 1.42 and 1.78 < scale.max() <= 1.8
    # The rotated square of sample points lies inside the 64x64 image.
    radians = np.deg2rad(angle)
    half = 0.5 * 25 * scale * (24 / 25) * (np.abs(np.cos(radians)) + np.abs(np.sin(radians)))
    assert np.all(center - half[:, None] >= -1e-9)
    assert np.all(center + half[:, None] <= 63 + 1e-9)


def test_face_patch_rotation_is_exact():
    faces = np.random.default_rng(0).random((1, 64, 64)).astype(np.float32)

    def patch(angle):
        params = {
            "image": np.array([0]),
            "angle": np.array([angle]),
            "scale": np.array([1.6]),
            "center": np.array([[31.5, 30.0]]),
        }
        return datasets._extract_patches(faces, params, size=25)[0]

    np.testing.assert_allclose(patch(90.0), np.rot90(patch(0.0)), atol=1e-5)
    np.testing.assert_allclose(patch(-90.0), np.rot90(patch(0.0), -1), atol=1e-5)


def test_face_patches_are_deterministic(patches):
    again = datasets.load_face_patches(n_train=6000, n_test=2000, seed=0)
    np.testing.assert_array_equal(again.x_train, patches.x_train)
    np.testing.assert_array_equal(again.x_test, patches.x_test)
    other = datasets.load_face_patches(n_train=6000, n_test=2000, seed=1)
    assert not np.allclose(other.x_train, patches.x_train)
    # The test patches of a seed do not depend on the number of train patches.
    fewer = datasets.load_face_patches(n_train=3000, n_test=2000, seed=0)
    np.testing.assert_allclose(
        fewer.unstandardize(fewer.x_test), patches.unstandardize(patches.x_test), atol=1e-5
    )


def test_pca_error_on_held_out_people_matches_the_paper_setting(patches):
    # Hinton & Salakhutdinov report 135 for 30-component PCA; this
    # construction gives about 148 with 30000 training patches.
    error = pca_test_error(patches.x_train, patches.x_test)
    assert 135 < error < 160
    aligned = datasets.load_face_patches(
        n_train=6000, n_test=2000, seed=0, angle_range=(0.0, 0.0)
    )
    # Without rotation the set is far easier for PCA.
    assert pca_test_error(aligned.x_train, aligned.x_test) < error - 10


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"n_train": 0}, r"Received: n_train=0"),
        ({"n_test": 2.5}, r"Received: n_test=2.5"),
        ({"size": 1}, r"Received: size=1"),
        ({"seed": "zero"}, r"Received: seed='zero'"),
        ({"angle_range": (90, -90)}, r"Received: angle_range=\(90, -90\)"),
        ({"scale_range": (1.4, 3.0)}, r"Received: scale_range=\(1.4, 3.0\)"),
        ({"scale_range": (0.0, 1.0)}, r"Received: scale_range=\(0.0, 1.0\)"),
    ],
)
def test_face_patch_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        datasets.load_face_patches(**kwargs)


# ---------------------------------------------------------------- configuration


def test_data_home_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv(datasets.DATA_HOME_ENV, raising=False)
    repo_data = Path(datasets.__file__).resolve().parents[1] / "data"
    assert datasets.data_home() == repo_data  # a source checkout with data/README.md
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path))
    assert datasets.data_home() == tmp_path


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
    """An empty raw folder, an empty data home, and no network."""
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv(datasets.RAW_DATA_ENV, str(raw))
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setattr(datasets, "_host_reachable", lambda url, timeout=None: False)
    return raw


@pytest.mark.parametrize(
    "load, files",
    [
        (datasets.load_mnist, IDX_FILES),
        (datasets.load_fashion_mnist, IDX_FILES),
        (datasets.load_olivetti, ["olivetti_py3.pkz"]),
        (datasets.load_face_patches, ["olivetti_py3.pkz"]),
    ],
)
def test_missing_data_fails_fast_with_instructions(nothing_available, load, files):
    start = time.perf_counter()
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        load()
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "AEKERAS_RAW_DATA=" in message
    for name in files:
        assert name in message
    assert isinstance(info.value, FileNotFoundError)


def test_partial_raw_folder_lists_the_missing_files(nothing_available):
    (nothing_available / "mnist").mkdir()
    (nothing_available / "mnist" / IDX_FILES[0]).write_bytes(b"")
    with pytest.raises(datasets.DatasetNotFoundError, match="Missing from .*mnist") as info:
        datasets.load_mnist()
    missing_part = str(info.value).split("Missing from")[1]
    assert IDX_FILES[0] not in missing_part
    assert all(name in missing_part for name in IDX_FILES[1:])


def test_explicit_missing_raw_dir_is_named(nothing_available, tmp_path):
    missing = str(tmp_path / "nowhere")
    with pytest.raises(datasets.DatasetNotFoundError, match=rf"Received: raw_dir='{missing}'"):
        datasets.load_olivetti(raw_dir=missing)


def test_probe_gives_up_quickly(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    start = time.perf_counter()
    # A closed local port and a non-routable documentation address (TEST-NET-1).
    assert not datasets._host_reachable("http://127.0.0.1:9/", timeout=0.5)
    assert not datasets._host_reachable("http://192.0.2.1/", timeout=0.5)
    assert time.perf_counter() - start < 4
