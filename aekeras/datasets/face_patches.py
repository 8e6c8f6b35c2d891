"""Hinton & Salakhutdinov's face patches, cut from the Olivetti faces: `load_face_patches`."""

import dataclasses
import math

import numpy as np

from aekeras.datasets import _checks
from aekeras.datasets.olivetti import read_olivetti


@dataclasses.dataclass(frozen=True, eq=False)
class FacePatches:
    """Standardised face patches returned by `load_face_patches`.

    Attributes:
        x_train: Float32 `(n_train, size * size)`, patches of people 0-29.
        x_test: Float32 `(n_test, size * size)`, patches of people 30-39.
        person_train: Int64 `(n_train,)`, the person each train patch shows.
        person_test: Int64 `(n_test,)`, the person each test patch shows.
        mean: Float32 `(size * size,)`, the per-pixel train mean (grey levels
            in `[0, 1]`) that was subtracted.
        scale: The single number the centred patches were divided by.
        size: The patch side in pixels.
        params_train: Dict of the sampled geometry of each train patch:
            `"image"` (Olivetti image index), `"angle"` (degrees),
            `"scale"`, `"center"` (`(n, 2)` as (row, column) in pixels).
        params_test: The same for the test patches.
    """

    x_train: np.ndarray
    x_test: np.ndarray
    person_train: np.ndarray
    person_test: np.ndarray
    mean: np.ndarray
    scale: float
    size: int
    params_train: dict
    params_test: dict

    def unstandardize(self, x):
        """Maps standardised patches back to grey levels, shaped `(N, size, size)`.

        Args:
            x: array of shape `(N, size * size)` or `(N, size, size)`, e.g.
                `x_test` or a model's reconstruction of it.

        Returns:
            float32 array `(N, size, size)`, roughly in `[0, 1]`.
        """
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.size * self.size)
        return (x * np.float32(self.scale) + self.mean).reshape(-1, self.size, self.size)


def _sample_geometry(rng, images_index, size, angle_range, scale_range, extent):
    """Draws angle, scale and a centre keeping the rotated sampling grid inside the image."""
    n = len(images_index)
    angle = rng.uniform(angle_range[0], angle_range[1], n)
    scale = rng.uniform(scale_range[0], scale_range[1], n)
    radians = np.deg2rad(angle)
    # Half the extent, along either image axis, of the rotated square of
    # sample points (side * (1 - 1 / size) from first to last sample).
    half = (
        0.5
        * size
        * scale
        * (1.0 - 1.0 / size)
        * (np.abs(np.cos(radians)) + np.abs(np.sin(radians)))
    )
    row = rng.uniform(half, extent - half)
    col = rng.uniform(half, extent - half)
    return {
        "image": images_index,
        "angle": angle,
        "scale": scale,
        "center": np.stack([row, col], axis=1),
    }


def _extract_patches(images, params, size, chunk=4096):
    """Samples rotated, scaled square patches with bilinear interpolation (vectorised)."""
    n_images, height, width = images.shape
    flat = images.reshape(n_images, -1).astype(np.float32)
    # Sample offsets from the patch centre, in units of the patch side.
    offsets = (np.arange(size) + 0.5) / size - 0.5
    out = np.empty((len(params["image"]), size, size), dtype=np.float32)
    for start in range(0, len(out), chunk):
        part = slice(start, start + chunk)
        side = (size * params["scale"][part])[:, None, None]
        radians = np.deg2rad(params["angle"][part])[:, None, None]
        cos, sin = np.cos(radians), np.sin(radians)
        u = offsets[None, None, :] * side  # along patch columns
        v = offsets[None, :, None] * side  # along patch rows
        rows = params["center"][part, 0][:, None, None] + sin * u + cos * v
        cols = params["center"][part, 1][:, None, None] + cos * u - sin * v
        r0 = np.clip(np.floor(rows).astype(np.int64), 0, height - 2)
        c0 = np.clip(np.floor(cols).astype(np.int64), 0, width - 2)
        fr = (rows - r0).astype(np.float32)
        fc = (cols - c0).astype(np.float32)
        pixel = r0 * width + c0
        image = params["image"][part][:, None, None]
        top = (1 - fc) * flat[image, pixel] + fc * flat[image, pixel + 1]
        bottom = (1 - fc) * flat[image, pixel + width] + fc * flat[image, pixel + width + 1]
        out[part] = (1 - fr) * top + fr * bottom
    return out


def load_face_patches(
    n_train=30000,
    n_test=10000,
    size=25,
    seed=0,
    *,
    angle_range=(-90.0, 90.0),
    scale_range=(1.4, 1.8),
    data_dir=None,
    raw_dir=None,
):
    """Builds Hinton & Salakhutdinov's face-patch dataset from the Olivetti faces.

    Each patch is a square cut from one Olivetti face, rotated by an angle
    drawn uniformly from `angle_range` (degrees), of side `size * scale`
    original pixels with `scale` uniform in `scale_range` (35-45 pixels for
    the defaults), subsampled to `size x size` pixels by bilinear
    interpolation, at a random centre such that the rotated square stays
    inside the 64x64 image. Train patches come from people 0-29 and test
    patches from people 30-39, so test error measures faces never seen. Each
    face is used equally often (within one). Then every pixel is shifted to
    zero mean (train means) and all patches are divided by one number so that
    the average per-pixel variance of the train set is 1. The paper used
    124,200 train and 41,400 test patches; the defaults are smaller. Train and
    test patches come from independent random streams, so the test set for a
    `seed` does not depend on `n_train`.

    Args:
        n_train: Number of training patches.
        n_test: Number of test patches.
        size: Patch side in pixels after subsampling.
        seed: Integer seed (or `None` for a random draw).
        angle_range: `(min, max)` rotation in degrees, within [-180, 180].
        scale_range: `(min, max)` of the patch side in original pixels
            divided by `size`.
        data_dir: Overrides `data_home()`.
        raw_dir: Overrides the `AEKERAS_RAW_DATA` folder.

    Returns:
        A `FacePatches` with flat patches `x_train` `(n_train, size * size)`
        and `x_test` `(n_test, size * size)` (float32, standardised), the
        person of each patch, the statistics `mean` and `scale` (see
        `FacePatches.unstandardize`) and the sampled geometry.

    Raises:
        ValueError: For non-positive counts or size, or ranges that are not
            ordered or do not fit in the 64x64 image.
        DatasetNotFoundError: When the Olivetti faces are not available.

    Example:

    >>> import aekeras
    >>> patches = aekeras.datasets.load_face_patches(n_train=3000, n_test=1000)
    >>> patches.x_train.shape, patches.x_test.shape
    ((3000, 625), (1000, 625))
    >>> patches.unstandardize(patches.x_test[:5]).shape
    (5, 25, 25)

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647),
      "Reducing the dimensionality of data with neural networks", and its
      supporting online material.
    """
    _checks.check_count(n_train, "n_train")
    _checks.check_count(n_test, "n_test")
    _checks.check_count(size, "size", minimum=2)
    _checks.check_seed(seed)
    _checks.check_range(angle_range, "angle_range", -180.0, 180.0)
    _checks.check_range(scale_range, "scale_range", 0.0, math.inf, positive=True)
    extent = 63.0  # last pixel centre of the 64x64 Olivetti images
    _checks.check_patches_fit(size, angle_range, scale_range, extent)

    faces, person = read_olivetti(data_dir, raw_dir)
    train_images = np.flatnonzero(person < 30)
    test_images = np.flatnonzero(person >= 30)
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))

    def draw(rng, pool, n):
        images_index = rng.permutation(np.resize(pool, n))
        params = _sample_geometry(rng, images_index, size, angle_range, scale_range, extent)
        return _extract_patches(faces, params, size).reshape(n, -1), params

    x_train, params_train = draw(train_rng, train_images, n_train)
    x_test, params_test = draw(test_rng, test_images, n_test)

    mean = x_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    x_train -= mean
    x_test -= mean
    scale = float(np.sqrt(np.mean(np.square(x_train), dtype=np.float64)))
    x_train /= np.float32(scale)
    x_test /= np.float32(scale)
    return FacePatches(
        x_train=x_train,
        x_test=x_test,
        person_train=person[params_train["image"]],
        person_test=person[params_test["image"]],
        mean=mean,
        scale=scale,
        size=size,
        params_train=params_train,
        params_test=params_test,
    )
