"""Tests for aekeras.datasets.load_face_patches (Hinton & Salakhutdinov's face patches)."""

import numpy as np
import pytest
import threadpoolctl

from aekeras import datasets
from aekeras.datasets import face_patches


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
        return face_patches._extract_patches(faces, params, size=25)[0]

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
    aligned = datasets.load_face_patches(n_train=6000, n_test=2000, seed=0, angle_range=(0.0, 0.0))
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
