"""Tests for aekeras.pca."""

import numpy as np
import pytest
from sklearn.decomposition import PCA as SklearnPCA

from aekeras.pca import PCA


def _data(n=200, shape=(6, 5), seed=0):
    """Correlated data with a decaying spectrum, so components are well separated."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    mixing = rng.normal(size=(d, d)) * np.geomspace(3.0, 0.05, d)[:, None]
    x = rng.normal(size=(n, d)) @ mixing + rng.normal(size=d)
    return x.reshape((n,) + shape).astype(np.float32)


@pytest.mark.parametrize("n_samples", [200, 12])  # eigh path (N > D), SVD path (N < D)
@pytest.mark.parametrize("k", [1, 5, 11])
def test_reconstruction_error_is_sum_of_discarded_eigenvalues(n_samples, k):
    x = _data(n=n_samples)
    pca = PCA(k).fit(x)
    flat = x.reshape(n_samples, -1).astype(np.float64)
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(flat, rowvar=False)))[::-1]
    # Mean per-image squared error = (N - 1) / N * sum of discarded eigenvalues.
    expected = (n_samples - 1) / n_samples * eigenvalues[k:].sum()
    residual = (x - pca.reconstruct(x)).reshape(n_samples, -1).astype(np.float64)
    error = np.mean(np.sum(residual**2, axis=1))
    # With N = 12 the centred data has rank 11, so k = 11 reconstructs exactly.
    np.testing.assert_allclose(error, expected, rtol=1e-4, atol=1e-7 * eigenvalues.sum())
    np.testing.assert_allclose(pca.explained_variance_, eigenvalues[:k], rtol=1e-8)
    np.testing.assert_allclose(
        pca.explained_variance_ratio_, eigenvalues[:k] / eigenvalues.sum(), rtol=1e-8
    )


@pytest.mark.parametrize("n_samples", [200, 12])
def test_matches_sklearn(n_samples):
    x = _data(n=n_samples)
    k = 7
    ours = PCA(k).fit(x)
    flat = x.reshape(n_samples, -1).astype(np.float64)
    theirs = SklearnPCA(n_components=k, svd_solver="full").fit(flat)
    x_test = _data(n=30, seed=1)
    np.testing.assert_allclose(
        ours.reconstruct(x_test).reshape(30, -1),
        theirs.inverse_transform(theirs.transform(x_test.reshape(30, -1).astype(np.float64))),
        atol=1e-4,
    )
    # Same subspace up to the sign of each axis; same variances and mean.
    np.testing.assert_allclose(
        np.abs(ours.components_ @ theirs.components_.T), np.eye(k), atol=1e-6
    )
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-5)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-6)


def test_full_rank_reconstruction_is_identity_and_shapes():
    x = _data(n=100, shape=(4, 4, 2))
    pca = PCA(32).fit(x)
    z = pca.encode(x)
    assert z.shape == (100, 32) and z.dtype == np.float32
    x_hat = pca.decode(z)
    assert x_hat.shape == x.shape and x_hat.dtype == np.float32
    np.testing.assert_allclose(x_hat, x, atol=1e-4)
    assert pca.input_shape_ == (4, 4, 2) and pca.code_dim == 32


def test_components_orthonormal_codes_decorrelated_and_signs_deterministic():
    x = _data(n=300)
    pca = PCA(6).fit(x)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(6), atol=1e-10)
    z = pca.encode(x).astype(np.float64)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-3)
    cov = np.cov(z, rowvar=False)
    np.testing.assert_allclose(cov, np.diag(pca.explained_variance_), rtol=1e-4, atol=1e-4)
    # Largest-magnitude entry of each axis is positive, so refits agree exactly.
    largest = pca.components_[np.arange(6), np.abs(pca.components_).argmax(axis=1)]
    assert np.all(largest > 0)
    np.testing.assert_array_equal(PCA(6).fit(x).components_, pca.components_)


def test_batch_size_gives_same_result():
    x = _data(n=50)
    pca = PCA(4).fit(x)
    # float64 products over different chunks, rounded to float32: equal up to rounding.
    z = pca.encode(x)
    np.testing.assert_allclose(
        pca.encode(x, batch_size=7), z, rtol=1e-5, atol=1e-5 * np.abs(z).max()
    )
    x_hat = pca.reconstruct(x)
    np.testing.assert_allclose(
        pca.reconstruct(x, batch_size=7), x_hat, rtol=1e-5, atol=1e-5 * np.abs(x_hat).max()
    )


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", None, True])
def test_invalid_n_components(bad):
    with pytest.raises(ValueError, match="Received: n_components="):
        PCA(bad)


def test_too_many_components():
    with pytest.raises(ValueError, match=r"min\(10, 30\).*Received: n_components=11"):
        PCA(11).fit(_data(n=10))
    with pytest.raises(ValueError, match=r"min\(200, 30\).*Received: n_components=31"):
        PCA(31).fit(_data(n=200))


def test_invalid_fit_inputs():
    with pytest.raises(ValueError, match=r"with n >= 2. Received: x.shape=\(1, 4\)"):
        PCA(1).fit(np.zeros((1, 4)))
    x = _data(n=20)
    x[3, 2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"Received: x with 1 NaN and 0 infinite values, in examples \[3\]"
    ):
        PCA(2).fit(x)


def test_not_fitted():
    pca = PCA(2)
    with pytest.raises(RuntimeError, match="not fitted.*encode"):
        pca.encode(np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="not fitted.*decode"):
        pca.decode(np.zeros((3, 2)))


def test_wrong_shapes():
    pca = PCA(3).fit(_data(n=40))  # feature shape (6, 5)
    with pytest.raises(ValueError, match=r"\(n, 6, 5\). Received: x.shape=\(4, 30\)"):
        pca.encode(np.zeros((4, 30)))
    with pytest.raises(ValueError, match=r"\(n, 3\). Received: z.shape=\(4, 2\)"):
        pca.decode(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        pca.encode(np.zeros((4, 6, 5)), batch_size=0)
