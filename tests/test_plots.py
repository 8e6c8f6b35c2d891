"""Tests for aekeras.plots."""

import matplotlib

matplotlib.use("Agg")  # only for the pyplot bookkeeping checks below

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from aekeras import plots


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """Every test checks that nothing was registered with pyplot."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def _images(shape=(12, 8, 8), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _texts(fig):
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(texts)


def test_reconstruction_grid_layout_labels_and_png(tmp_path):
    x = _images()
    rows = {
        "Original": x,  # (N, H, W)
        "Autoencoder": x.reshape(12, 64) * 0.5,  # flat, square side inferred
        "PCA": x[..., None],  # (N, H, W, 1)
    }
    fig = plots.reconstruction_grid(rows, n=5, titles={"PCA": "error 3.21"})
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 * 5
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 15
    assert all(im.get_array().shape == (8, 8) for im in images)
    # Column j shows image j of each row.
    np.testing.assert_allclose(fig.axes[5 + 2].images[0].get_array(), x[2] * 0.5)
    text = _texts(fig)
    for label in ("Original", "Autoencoder", "PCA", "error 3.21"):
        assert label in text
    # The label sits on the first axes of its row.
    assert fig.axes[0].get_ylabel() == "Original"
    assert fig.axes[10].get_ylabel() == "PCA\nerror 3.21"
    path = tmp_path / "grid.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reconstruction_grid_scales():
    x = _images(shape=(4, 8, 8))
    low = np.full_like(x, 0.2)
    low[0, 0, 0] = 0.1
    rows = {"a": x, "b": low}
    by_row = plots.reconstruction_grid(rows, n=3)
    limits = [im.get_clim() for ax in by_row.axes for im in ax.images]
    assert limits[0] == pytest.approx((x[:3].min(), x[:3].max()))
    assert limits[3] == pytest.approx((0.1, 0.2))  # one range for the whole row
    assert limits[4] == pytest.approx((0.1, 0.2))
    fixed = plots.reconstruction_grid(rows, n=3, scale=(0.0, 1.0))
    assert all(im.get_clim() == (0.0, 1.0) for ax in fixed.axes for im in ax.images)
    per_image = plots.reconstruction_grid(rows, n=3, scale="image")
    limits = [im.get_clim() for ax in per_image.axes for im in ax.images]
    assert limits[1] == pytest.approx((x[1].min(), x[1].max()))


def test_reconstruction_grid_explicit_image_shape_and_rgb():
    flat = _images(shape=(6, 6 * 4))
    fig = plots.reconstruction_grid({"flat": flat}, n=2, image_shape=(6, 4))
    assert fig.axes[0].images[0].get_array().shape == (6, 4)
    rgb = _images(shape=(3, 5, 5, 3))
    fig = plots.reconstruction_grid({"rgb": rgb}, n=3)
    assert fig.axes[0].images[0].get_array().shape == (5, 5, 3)


def test_reconstruction_grid_errors():
    x = _images()
    with pytest.raises(
        ValueError, match=r"same number of images.*'b': array of shape \(5, 8, 8\)\}"
    ):
        plots.reconstruction_grid({"a": x, "b": x[:5]}, n=3)
    with pytest.raises(ValueError, match="Received: n=13"):
        plots.reconstruction_grid({"a": x}, n=13)
    with pytest.raises(ValueError, match="Received: n=0"):
        plots.reconstruction_grid({"a": x}, n=0)
    with pytest.raises(ValueError, match=r"non-empty dict.*Received: rows=\{\}"):
        plots.reconstruction_grid({}, n=3)
    with pytest.raises(ValueError, match=r"Received: rows\['a'\].shape=\(12,\)"):
        plots.reconstruction_grid({"a": np.zeros(12)}, n=3)
    with pytest.raises(ValueError, match=r"Received: rows\['a'\].shape=\(12, 8, 8, 2\)"):
        plots.reconstruction_grid({"a": np.zeros((12, 8, 8, 2))}, n=3, image_shape=None)
    with pytest.raises(ValueError, match="Received: scale='col'"):
        plots.reconstruction_grid({"a": x}, n=3, scale="col")
    with pytest.raises(ValueError, match=r"Received: scale=\(1, 0\)"):
        plots.reconstruction_grid({"a": x}, n=3, scale=(1, 0))
    with pytest.raises(ValueError, match=r"\['c'\] are not rows. Received: titles=\{'c': 'x'\}"):
        plots.reconstruction_grid({"a": x}, n=3, titles={"c": "x"})
    with pytest.raises(ValueError, match=r"pass `image_shape`.*shape=\(12, 50\)"):
        plots.reconstruction_grid({"a": np.zeros((12, 50))}, n=3)
    with pytest.raises(ValueError, match=r"Received: image_shape=\(7, 7\)"):
        plots.reconstruction_grid({"a": x}, n=3, image_shape=(7, 7))


def test_filter_grid_shows_normalised_kernel_columns(tmp_path):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(36, 10)) * np.arange(1, 11)  # units of different scale
    kernel[:, 3] = 2.0  # a constant filter
    fig = plots.filter_grid(kernel, (6, 6))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 10  # 4 x 3 grid, unused cells removed
    shown = [ax.images[0].get_array() for ax in fig.axes]
    for k in (0, 9):
        column = kernel[:, k].reshape(6, 6)
        expected = (column - column.min()) / (column.max() - column.min())
        np.testing.assert_allclose(shown[k], expected, atol=1e-12)
    np.testing.assert_allclose(shown[3], 0.5)
    fig.savefig(tmp_path / "filters.png")


def test_filter_grid_options_and_errors():
    kernel = np.random.default_rng(0).normal(size=(64, 100))
    assert len(plots.filter_grid(kernel).axes) == 64  # square inputs inferred, n=64
    fig = plots.filter_grid(kernel, n=6, ncols=2)
    assert len(fig.axes) == 6
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (3, 2)
    images = np.random.default_rng(1).random((5, 4, 4))
    assert len(plots.filter_grid(images).axes) == 5  # already shaped as images
    with pytest.raises(ValueError, match="Received: n=101"):
        plots.filter_grid(kernel, n=101)
    with pytest.raises(ValueError, match=r"not a perfect square.*shape=\(50, 3\)"):
        plots.filter_grid(np.zeros((50, 3)))
    with pytest.raises(ValueError, match=r"Received: weights.shape=\(5,\)"):
        plots.filter_grid(np.zeros(5), (1, 5))


def test_code_scatter_discrete_labels_legend():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(60, 2))
    labels = np.repeat([0, 1, 2], 20)
    fig = plots.code_scatter(codes, labels, title="MNIST codes", class_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert ax.get_title() == "MNIST codes"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert len(ax.collections) == 3
    np.testing.assert_allclose(ax.collections[1].get_offsets(), codes[20:40])
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == 3


def test_code_scatter_continuous_and_unlabelled():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 2))
    fig = plots.code_scatter(codes, rng.random(50))
    assert len(fig.axes) == 2  # scatter and colorbar
    fig = plots.code_scatter(codes)
    assert len(fig.axes) == 1 and fig.axes[0].get_legend() is None


def test_code_scatter_errors():
    with pytest.raises(ValueError, match=r"Received: codes.shape=\(10, 3\)"):
        plots.code_scatter(np.zeros((10, 3)), np.zeros(10))
    with pytest.raises(ValueError, match=r"Received: codes.shape=\(10,\)"):
        plots.code_scatter(np.zeros(10))
    with pytest.raises(ValueError, match=r"labels.shape=\(9,\)"):
        plots.code_scatter(np.zeros((10, 2)), np.zeros(9))


def test_score_histograms(tmp_path):
    rng = np.random.default_rng(0)
    normal, anomalous = rng.lognormal(-5, 0.3, 200), rng.lognormal(-3, 0.3, 100)
    fig = plots.score_histograms(
        {"plain AE": (normal, anomalous), "denoising AE": (2 * normal, anomalous)},
        labels=("MNIST", "Fashion-MNIST"),
        bins=20,
    )
    assert [ax.get_title() for ax in fig.axes] == ["plain AE", "denoising AE"]
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    # Two histograms of 20 bins that count every score, on shared edges spanning all scores.
    normal_bars, anomalous_bars = ax.containers
    assert len(normal_bars) == len(anomalous_bars) == 20
    assert sum(b.get_height() for b in normal_bars) == 200
    assert sum(b.get_height() for b in anomalous_bars) == 100
    assert normal_bars[0].get_x() == pytest.approx(min(normal.min(), anomalous.min()))
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["MNIST", "Fashion-MNIST"]
    linear = plots.score_histograms({"x": ([-1.0, 0.0], [1.0, 2.0])}, log=False)
    assert linear.axes[0].get_xscale() == "linear"
    fig.savefig(tmp_path / "scores.png")


def test_score_histograms_errors():
    with pytest.raises(ValueError, match=r"Received: scores=\{\}"):
        plots.score_histograms({})
    with pytest.raises(ValueError, match=r"Received: len\(scores\['a'\]\)=3"):
        plots.score_histograms({"a": ([1.0], [2.0], [3.0])})
    with pytest.raises(ValueError, match=r"shapes of scores\['a'\]=\(\(0,\), \(1,\)\)"):
        plots.score_histograms({"a": ([], [2.0])})
    with pytest.raises(ValueError, match=r"min\(scores\['a'\]\)=0"):
        plots.score_histograms({"a": ([0.0, 1.0], [2.0])})
    with pytest.raises(ValueError, match=r"Received: labels=\('normal',\)"):
        plots.score_histograms({"a": ([1.0], [2.0])}, labels=("normal",))
    with pytest.raises(ValueError, match="bins"):
        plots.score_histograms({"a": ([1.0], [2.0])}, bins=0)


class _History:
    """Stands in for keras.callbacks.History: only `.history` is used."""

    def __init__(self, history):
        self.history = history


def test_training_curves(tmp_path):
    history = _History(
        {"loss": [0.5, 0.3, 0.2], "val_loss": [0.6, 0.4, 0.35], "mae": [0.3, 0.2, 0.1]}
    )
    fig = plots.training_curves(history, logy=True, title="Deep autoencoder")
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "mae"]
    loss_ax = fig.axes[0]
    assert len(loss_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), [0.6, 0.4, 0.35])
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert loss_ax.get_yscale() == "log"
    assert "Deep autoencoder" in _texts(fig) and "validation" in _texts(fig)
    fig = plots.training_curves(history.history, keys=["mae"])
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "linear"
    fig.savefig(tmp_path / "curves.png")


def test_training_curves_errors():
    with pytest.raises(ValueError, match=r"\['loss'\]. Received: keys=\['acc'\]"):
        plots.training_curves({"loss": [1.0]}, keys=["acc"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.training_curves({})
    with pytest.raises(ValueError, match=r"Received: logy=True, min\(history\['loss'\]\)=-0.5"):
        plots.training_curves({"loss": [1.0, -0.5]}, logy=True)


def test_line_plot_curves_styles_and_references(tmp_path):
    ks = [2, 5, 10, 30]
    fig = plots.line_plot(
        {"Autoencoder": (ks, [30.0, 20.0, 12.0, 6.0]), "PCA": (ks, [50.0, 35.0, 25.0, 14.0])},
        xlabel="code size k",
        ylabel="test error",
        title="MNIST",
        styles={"PCA": "s--"},
        references={"paper": 3.0},
        logx=True,
    )
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    np.testing.assert_allclose(ax.lines[0].get_xdata(), ks)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [50.0, 35.0, 25.0, 14.0])
    assert ax.lines[1].get_linestyle() == "--" and ax.lines[1].get_marker() == "s"
    assert ax.lines[0].get_linestyle() == "-"
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [3.0, 3.0])  # the reference line
    assert ax.lines[2].get_linestyle() == ":"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "5", "10", "30"]
    assert len(ax.xaxis.get_minorticklocs()) == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Autoencoder", "PCA", "paper"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "code size k",
        "test error",
        "MNIST",
    )
    fig.savefig(tmp_path / "lines.png")
    # y alone: x is 1, 2, ...
    ax = plots.line_plot({"loss": [3.0, 2.0, 1.5]}, "epoch", "loss", logy=True).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "log"


def test_line_plot_errors():
    with pytest.raises(ValueError, match=r"non-empty dict.*Received: series=\{\}"):
        plots.line_plot({}, "x", "y")
    with pytest.raises(ValueError, match=r"Received: series\['a'\] with 3 x and 2 y values"):
        plots.line_plot({"a": ([1, 2, 3], [1.0, 2.0])}, "x", "y")
    with pytest.raises(ValueError, match=r"\['b'\] are not curves. Received: styles=\{'b': '--'\}"):
        plots.line_plot({"a": [1.0]}, "x", "y", styles={"b": "--"})
    with pytest.raises(ValueError, match="Received: logy=True, smallest value=0"):
        plots.line_plot({"a": [1.0]}, "x", "y", references={"zero": 0.0}, logy=True)
    with pytest.raises(ValueError, match="Received: logx=True, smallest value=0"):
        plots.line_plot({"a": ([0, 1], [1.0, 2.0])}, "x", "y", logx=True)


def test_decoded_grid_places_each_decoded_code_at_its_point(tmp_path):
    seen = []

    def decode(z):
        # 2x3 images whose left half shows z_1 and right half z_2.
        seen.append(z)
        left = np.repeat(z[:, :1], 3, axis=1)
        right = np.repeat(z[:, 1:], 3, axis=1)
        return np.concatenate([left, right], axis=1).reshape(-1, 2, 3)

    fig = plots.decoded_grid(decode, (-1.0, 1.0), (0.0, 4.0), n=3)
    (z,) = seen
    assert z.shape == (9, 2) and z.dtype == np.float32
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (3 * 2, 3 * 3)
    # The top-left tile is the code (x low, y high); the bottom-right (x high, y low).
    np.testing.assert_allclose(mosaic[0, 0], -1.0)
    np.testing.assert_allclose(mosaic[1, 0], 4.0)
    np.testing.assert_allclose(mosaic[4, 6], 1.0)
    np.testing.assert_allclose(mosaic[5, 6], 0.0)
    np.testing.assert_allclose(mosaic[2, 3], 0.0)  # middle tile, z_1 = 0
    np.testing.assert_allclose(mosaic[3, 3], 2.0)  # middle tile, z_2 = 2
    # The map is drawn in code coordinates, each tile centred on its grid point.
    np.testing.assert_allclose(ax.images[0].get_extent(), (-1.5, 1.5, -1.0, 5.0))
    fig.savefig(tmp_path / "decoded.png")


def test_decoded_grid_with_codes_scatter_on_the_same_limits():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(30, 2))
    labels = np.repeat([0, 1, 2], 10)
    fig = plots.decoded_grid(
        lambda z: np.zeros((len(z), 16)), (-2, 2), (-2, 2), n=4, codes=codes, labels=labels
    )
    scatter_ax, map_ax = fig.axes
    assert len(scatter_ax.collections) == 3
    np.testing.assert_allclose(scatter_ax.collections[2].get_offsets(), codes[20:])
    assert scatter_ax.get_xlim() == map_ax.get_xlim()
    assert scatter_ax.get_ylim() == map_ax.get_ylim()
    assert [t.get_text() for t in scatter_ax.get_legend().get_texts()] == ["0", "1", "2"]
    assert map_ax.images[0].get_array().shape == (16, 16)


def test_decoded_grid_errors():
    decode = lambda z: np.zeros((len(z), 4, 4))  # noqa: E731
    with pytest.raises(ValueError, match=r"Received: x_range=\(1, 0\)"):
        plots.decoded_grid(decode, (1, 0), (0, 1))
    with pytest.raises(ValueError, match="Received: n=1"):
        plots.decoded_grid(decode, (0, 1), (0, 1), n=1)
    with pytest.raises(ValueError, match=r"9 for n=3. Received: decode\(codes\).shape=\(4, 4, 4\)"):
        plots.decoded_grid(lambda z: np.zeros((4, 4, 4)), (0, 1), (0, 1), n=3)
    with pytest.raises(ValueError, match="single-channel"):
        plots.decoded_grid(lambda z: np.zeros((len(z), 4, 4, 3)), (0, 1), (0, 1), n=2)
    with pytest.raises(ValueError, match=r"Received: codes.shape=\(5, 3\)"):
        plots.decoded_grid(decode, (0, 1), (0, 1), codes=np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"labels.shape=\(4,\)"):
        plots.decoded_grid(decode, (0, 1), (0, 1), codes=np.zeros((5, 2)), labels=np.zeros(4))


def _stage_labels(fig):
    ax = fig.axes[0]
    return [
        t.get_text() for t in ax.texts if not t.get_text().startswith(("$", "encoder", "decoder"))
    ]


def test_autoencoder_diagram_reads_the_widths_from_the_model(tmp_path):
    import aekeras

    dense = aekeras.deep_autoencoder("784-1000-500-250-30")
    fig = plots.autoencoder_diagram(dense)
    assert _stage_labels(fig) == ["784", "1000", "500", "250", "30", "250", "500", "1000", "784"]
    from matplotlib.patches import Rectangle

    heights = [p.get_height() for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert heights[4] == min(heights) and heights[1] == max(heights)  # the code is the narrowest
    assert heights[:5] == heights[8:3:-1]  # the decoder mirrors the encoder
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert r"$z = f(x) = E_\eta(x)$" in texts and r"$\hat{x} = g(z) = D_\theta(z)$" in texts
    fig.savefig(tmp_path / "diagram.png")

    conv = aekeras.ConvAutoencoder((28, 28, 1), filters=(8, 16))
    assert _stage_labels(plots.autoencoder_diagram(conv))[:3] == ["28×28×1", "14×14×8", "7×7×16"]


def test_autoencoder_diagram_marks_corruption_and_sparsity():
    import aekeras

    model = aekeras.models.DenseAutoencoder(
        784,
        hidden_units=(64,),
        code_dim=8,
        sparsity=aekeras.L1Sparsity(1e-3),
        sparsity_layer=0,
        corruption=aekeras.MaskingNoise(0.3),
    )
    ax = plots.autoencoder_diagram(model, title="DAE").axes[0]
    omega = [t for t in ax.texts if t.get_text() == r"$\Omega(h)$"]
    assert len(omega) == 1 and omega[0].get_position()[0] == 1  # over the 64-unit layer
    assert any("tilde" in t.get_text() for t in ax.texts)
    assert ax.get_title() == "DAE"
    plain = plots.autoencoder_diagram(aekeras.deep_autoencoder("20-5"), labels=False).axes[0]
    assert not any(t.get_text().startswith("$") for t in plain.texts)


def test_autoencoder_diagram_rejects_other_models():
    with pytest.raises(ValueError, match="functional `encoder`"):
        plots.autoencoder_diagram(object())


def _curve(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def test_penalty_curves_are_the_regularizers_own_values(tmp_path):
    import keras

    from aekeras.regularizers import KLSparsity
    from aekeras.regularizers import L1Sparsity

    grid = np.linspace(0.01, 0.99, 99)
    penalties = {
        "L1": L1Sparsity(2.0),
        "L2": keras.regularizers.L2(1.0),
        "KL": KLSparsity(0.1, 1.0),
    }
    fig = plots.penalty_curves(penalties, activations=grid, zoom=0.3)
    assert len(fig.axes) == 2
    full, zoomed = fig.axes
    x, y = _curve(full, "L1")
    np.testing.assert_allclose(x, grid)
    np.testing.assert_allclose(y, 2.0 * grid, rtol=1e-6)  # λ|h|, the strength included
    np.testing.assert_allclose(_curve(full, "L2")[1], grid**2, rtol=1e-5)
    kl = 0.1 * np.log(0.1 / grid) + 0.9 * np.log(0.9 / (1 - grid))
    np.testing.assert_allclose(_curve(full, "KL")[1], kl, rtol=1e-4, atol=1e-6)
    # KL: zero at the target, infinite walls at both ends; its target is marked.
    y_kl = _curve(full, "KL")[1]
    assert grid[np.argmin(y_kl)] == pytest.approx(0.1)
    assert y_kl[0] > 10 * y_kl[5] and y_kl[-1] > 9 * y_kl[50]
    assert any(
        line.get_xdata()[0] == 0.1 for line in full.get_lines() if line.get_linestyle() == ":"
    )
    assert r"$\rho$ = 0.1" in _texts(fig)
    # The zoom shows the same curves on [0, 0.3] only.
    assert _curve(zoomed, "L1")[0].max() <= 0.3
    assert zoomed.get_xlim() == (0.0, 0.3)
    fig.savefig(tmp_path / "penalties.png")


def test_penalty_curves_defaults_and_errors():
    fig = plots.penalty_curves(zoom=None, target=0.2)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(labels) == 3 and "0.2" in labels[2]
    x, y = _curve(ax, labels[2])
    assert x[np.argmin(y)] == pytest.approx(0.2, abs=0.003)
    assert ax.get_ylim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.penalty_curves({})
    with pytest.raises(ValueError, match=r"callable regularizer.*Received: penalties\['x'\]=3"):
        plots.penalty_curves({"x": 3})
    with pytest.raises(ValueError, match="increasing"):
        plots.penalty_curves(activations=[0.5, 0.1, 0.2])
    with pytest.raises(ValueError, match="at least 2 finite"):
        plots.penalty_curves(activations=[0.5])
    with pytest.raises(ValueError, match="Received: zoom=2"):
        plots.penalty_curves(zoom=2)
    with pytest.raises(ValueError, match="ylim"):
        plots.penalty_curves(ylim=(1, 0))


def test_activation_histogram_counts_every_unit_on_shared_bins(tmp_path):
    rng = np.random.default_rng(0)
    plain = rng.uniform(0.1, 0.5, 400)
    sparse = rng.normal(0.05, 0.005, 300)
    fig = plots.activation_histogram(
        {"no penalty": plain, "KL": sparse}, target=0.05, bins=20, title="units"
    )
    ax = fig.axes[0]
    patches = ax.patches
    assert len(patches) == 2  # one outline per model
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "no penalty",
        "KL",
        "target ρ = 0.05",
    ]
    target_lines = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert target_lines[0].get_xdata()[0] == 0.05
    assert ax.get_title() == "units"
    # Shared bins from 0 to the largest mean: the outlines enclose every unit.
    for patch, values in zip(patches, (plain, sparse)):
        xy = patch.get_xy()
        assert xy[:, 0].min() == pytest.approx(0.0)
        assert xy[:, 0].max() == pytest.approx(max(plain.max(), sparse.max()))
        assert np.unique(xy[:, 0]).size == 21  # 20 bins
        assert xy[:, 1].max() <= values.size
    counts, _ = np.histogram(sparse, bins=np.linspace(0, max(plain.max(), sparse.max()), 21))
    assert patches[1].get_xy()[:, 1].max() == counts.max()
    fig.savefig(tmp_path / "hist.png")


def test_activation_histogram_range_and_errors():
    fig = plots.activation_histogram({"a": [0.2, 0.4]}, bins=4, value_range=(0.0, 1.0))
    xs = np.unique(fig.axes[0].patches[0].get_xy()[:, 0])
    np.testing.assert_allclose(xs, np.linspace(0, 1, 5))
    assert not fig.axes[0].get_lines()  # no target, no line
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.activation_histogram([0.1, 0.2])
    with pytest.raises(ValueError, match=r"Received: mean_activations\['a'\].shape=\(2, 2\)"):
        plots.activation_histogram({"a": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="finite"):
        plots.activation_histogram({"a": [0.1, np.nan]})
    with pytest.raises(ValueError, match="bins"):
        plots.activation_histogram({"a": [0.1]}, bins=0)
    with pytest.raises(ValueError, match="value_range"):
        plots.activation_histogram({"a": [0.1]}, value_range=(1, 0))


def test_pixel_histogram_shows_each_sets_fractions_on_shared_bins(tmp_path):
    rng = np.random.default_rng(0)
    sharp = (rng.random((30, 28, 28)) > 0.8).astype(np.float32)
    blurred = (sharp + np.roll(sharp, 1, axis=2)) / 2
    outside = np.array([-0.5, 0.05, 0.5, 1.5])  # e.g. PCA: values beyond [0, 1]
    fig = plots.pixel_histogram(
        {"Sharp": sharp, "Blurred": blurred, "PCA": outside}, bins=10, title="pixels"
    )
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "pixels"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "Sharp: 0.0% grey",
        f"Blurred: {100 * ((blurred > 0.1) & (blurred < 0.9)).mean():.1f}% grey",
        "PCA: 25.0% grey",
    ]
    for stairs, values in zip(ax.patches[1:], (sharp, blurred, outside)):  # [0]: the grey band
        heights = stairs.get_data().values
        np.testing.assert_allclose(stairs.get_data().edges, np.linspace(0, 1, 11))
        assert heights.sum() == pytest.approx(1.0)  # every pixel counted, out-of-range ones too
        counts, _ = np.histogram(np.clip(values, 0, 1), bins=np.linspace(0, 1, 11))
        np.testing.assert_allclose(heights, counts / values.size)
    np.testing.assert_allclose(ax.patches[3].get_data().values[[0, 5, 9]], [0.5, 0.25, 0.25])
    fig.savefig(tmp_path / "pixels.png")


def test_pixel_histogram_errors():
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.pixel_histogram([0.1, 0.2])
    with pytest.raises(ValueError, match=r"Received: images\['a'\].shape=\(0,\)"):
        plots.pixel_histogram({"a": []})
    with pytest.raises(ValueError, match="finite"):
        plots.pixel_histogram({"a": [0.1, np.inf]})
    with pytest.raises(ValueError, match="bins"):
        plots.pixel_histogram({"a": [0.1]}, bins=0)
    with pytest.raises(ValueError, match="value_range"):
        plots.pixel_histogram({"a": [0.1]}, value_range=(1, 0))
    with pytest.raises(ValueError, match="grey"):
        plots.pixel_histogram({"a": [0.1]}, grey=(0.5, 1.5))


def test_vector_fields_share_the_arrow_scale_and_limits(tmp_path):
    ticks = np.linspace(-1.0, 1.0, 5)
    grid = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    points = np.random.default_rng(0).normal(size=(30, 2)) * 0.3
    fig = plots.vector_fields(
        {"learned": (grid, -0.5 * grid), "exact": (grid, -grid)}, points=points, length=0.5
    )
    assert [ax.get_title() for ax in fig.axes] == ["learned", "exact"]
    for ax, factor in zip(fig.axes, (-0.5, -1.0)):
        (arrows,) = ax.collections[1:]  # the data points first, then one quiver
        np.testing.assert_allclose(arrows.get_offsets(), grid)
        np.testing.assert_allclose(np.column_stack([arrows.U, arrows.V]), factor * grid)
        assert arrows.scale == pytest.approx(2.0)  # drawn at half their length, in data units
        assert arrows.scale_units == "xy" and arrows.angles == "xy"
        assert len(ax.collections[0].get_offsets()) == 30
        assert ax.get_xlim() == fig.axes[0].get_xlim() and ax.get_ylim() == fig.axes[0].get_ylim()
    low, high = fig.axes[0].get_xlim()
    assert low < min(-1.0, points[:, 0].min()) and high > max(1.0, points[:, 0].max())
    fig.savefig(tmp_path / "fields.png")


def test_vector_fields_errors():
    grid = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"Received: fields=\{\}"):
        plots.vector_fields({})
    with pytest.raises(ValueError, match=r"fields\['a'\] of type ndarray"):
        plots.vector_fields({"a": grid})
    with pytest.raises(ValueError, match=r"shapes of fields\['a'\]=\(\(4, 2\), \(3, 2\)\)"):
        plots.vector_fields({"a": (grid, np.zeros((3, 2)))})
    with pytest.raises(ValueError, match=r"fields\['a'\] with NaN or inf"):
        plots.vector_fields({"a": (grid, np.full((4, 2), np.nan))})
    with pytest.raises(ValueError, match=r"Received: points.shape=\(4, 3\)"):
        plots.vector_fields({"a": (grid, grid)}, points=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Received: length=0"):
        plots.vector_fields({"a": (grid, grid)}, length=0)
