"""Course figures: image grids, filters, code scatter plots, histograms, anomaly scores, training curves,
vector fields."""

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.ticker import NullLocator

from aekeras.metrics import grey_fraction
from aekeras.validation import format_value
from aekeras.validation import validate_float_arg
from aekeras.validation import validate_int_arg
from aekeras.validation import validate_int_sequence_arg
from aekeras.validation import validate_range_arg
from aekeras.validation import validate_string_arg

# Every function builds a `matplotlib.figure.Figure` directly, never through
# `matplotlib.pyplot`: nothing is registered with pyplot, so a notebook shows
# the returned figure exactly once and no figure leaks memory in a loop.

_SCALES = ("row", "image")


def _image_shape_of(images, image_shape, name):
    """Returns the 2-D (or RGB) display shape of a batch of images.

    `name` is how the images are named in error messages, e.g. `rows['PCA']`.
    """
    per_image = images.shape[1:]
    size = math.prod(per_image)
    if image_shape is not None:
        shape = validate_int_sequence_arg(image_shape, "image_shape", allow_empty=False)
        if len(shape) not in (2, 3) or math.prod(shape) != size:
            raise ValueError(
                f"`image_shape` must be (height, width) or (height, width, "
                f"channels) with {size} values to match {name}, whose images "
                f"have shape {per_image}. Received: image_shape={image_shape!r}"
            )
    elif len(per_image) == 2:
        shape = per_image
    elif len(per_image) == 3 and per_image[-1] in (1, 3):
        shape = per_image
    elif len(per_image) == 1 and math.isqrt(size) ** 2 == size:
        shape = (math.isqrt(size),) * 2
    else:
        raise ValueError(
            f"Cannot infer the image shape of {name}: expected images of "
            "shape (n, height, width), (n, height, width, 1|3) or flat "
            "(n, side * side); pass `image_shape`. "
            f"Received: {name}.shape={(images.shape[0],) + per_image}"
        )
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
    if len(shape) == 3 and shape[-1] != 3:
        source = (
            f"image_shape={image_shape!r}"
            if image_shape is not None
            else f"{name}.shape={images.shape}"
        )
        raise ValueError(f"Images must have 1 or 3 channels. Received: {source}")
    return shape


def _summary(rows):
    """A short text for a dict of image arrays: their labels and shapes."""
    if not isinstance(rows, dict):
        return format_value(rows)
    items = ", ".join(f"{label!r}: array of shape {np.shape(v)}" for label, v in rows.items())
    return "{" + items + "}"


def _check_nonempty_dict(value, name, entries):
    """Raises a ValueError unless `value` is a non-empty dict; `entries` says what it maps."""
    if not isinstance(value, dict) or not value:
        raise ValueError(
            f"`{name}` must be a non-empty dict {entries}. Received: {name}={_summary(value)}"
        )


def _hide_frame(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def reconstruction_grid(
    rows,
    n=10,
    image_shape=None,
    cmap="gray",
    scale="row",
    titles=None,
    cell_size=1.0,
):
    """Shows images row by row with a label at the left of each row.

    The figure of the slides: the first `n` originals on top and their
    reconstructions by each model below, e.g.
    `{"Original": x, "Autoencoder": x_ae, "PCA": x_pca}`. Column `j` of
    every row shows image `j` of that row's array, so the arrays must be
    aligned (same examples in the same order).

    Args:
        rows: Dict mapping a row label to an array of images of shape
            `(N, H, W)`, `(N, H, W, 1)`, `(N, H, W, 3)` or flat `(N, D)`.
            All arrays must hold the same number of images `N`.
        n: Integer, the number of images (columns) shown per row; at most `N`.
        image_shape: Optional `(H, W)` or `(H, W, C)` used to reshape every
            row; by default inferred per row (a flat `D` must be a square).
        cmap: Matplotlib colormap for single-channel images.
        scale: How grey levels are mapped: `"row"` (one range per row, the
            min and max of its `n` images, so a row's images are comparable),
            `"image"` (each image stretched to its own range) or a tuple
            `(vmin, vmax)` used for every image (e.g. `(0, 1)`).
        titles: Optional dict mapping some row labels to an extra line shown
            under the label, e.g. `{"PCA": "error 8.1"}`.
        cell_size: Float, the size in inches of one image.

    Returns:
        A `matplotlib.figure.Figure` with `len(rows) * n` axes, not registered
        with pyplot.

    Raises:
        ValueError: If `rows` is empty, the arrays hold different numbers of
            images, `n` exceeds that number, `titles` names an unknown row,
            `scale` is invalid, or an image shape cannot be inferred.

    Example:

    >>> import aekeras, numpy as np
    >>> x = np.random.default_rng(0).random((10, 28, 28))
    >>> fig = aekeras.plots.reconstruction_grid({"Original": x, "Noisy": x + 0.1}, n=5)
    >>> len(fig.axes)
    10
    """
    _check_nonempty_dict(rows, "rows", "mapping a row label to an array of images")
    arrays = {label: np.asarray(images) for label, images in rows.items()}
    for label, images in arrays.items():
        if images.ndim < 2:
            raise ValueError(
                f"Each row must be an array of images with a batch axis. "
                f"Received: rows[{label!r}].shape={images.shape}"
            )
    lengths = {label: images.shape[0] for label, images in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "All rows must hold the same number of images, so that columns "
            f"are aligned. Received: rows={_summary(arrays)}"
        )
    available = next(iter(lengths.values()))
    n = validate_int_arg(n, "n", min_value=1, max_value=available)
    titles = {} if titles is None else dict(titles)
    unknown = [label for label in titles if label not in arrays]
    if unknown:
        raise ValueError(
            f"`titles` must use row labels {list(arrays)}; {unknown} are not "
            f"rows. Received: titles={titles!r}"
        )
    if isinstance(scale, str):
        validate_string_arg(scale, "scale", _SCALES)
    else:
        vmin, vmax = validate_range_arg(scale, "scale")

    fig = Figure(
        figsize=(cell_size * n + 1.5, cell_size * len(arrays)),
        layout="constrained",
    )
    axes = fig.subplots(len(arrays), n, squeeze=False)
    for row_axes, (label, images) in zip(axes, arrays.items()):
        shape = _image_shape_of(images, image_shape, f"rows[{label!r}]")
        shown = images[:n].reshape((n,) + shape).astype(np.float32)
        if scale == "row":
            limits = {"vmin": float(shown.min()), "vmax": float(shown.max())}
        elif scale == "image":
            limits = {}
        else:
            limits = {"vmin": vmin, "vmax": vmax}
        for ax, image in zip(row_axes, shown):
            if image.ndim == 3:
                # RGB: matplotlib needs values in [0, 1].
                low = limits.get("vmin", float(image.min()))
                high = limits.get("vmax", float(image.max()))
                image = np.clip((image - low) / max(high - low, 1e-12), 0, 1)
                ax.imshow(image, interpolation="nearest")
            else:
                ax.imshow(image, cmap=cmap, interpolation="nearest", **limits)
            _hide_frame(ax)
        text = str(label)
        if label in titles:
            text += "\n" + str(titles[label])
        row_axes[0].set_ylabel(text, rotation=0, ha="right", va="center", fontsize="medium")
    return fig


def filter_grid(weights, image_shape=None, n=None, ncols=None, cmap="gray", cell_size=0.8):
    """Shows the input weights of hidden units as images, one per unit.

    For a `Dense` layer with kernel `(n_inputs, n_units)`, column `k` holds
    the weights from every input pixel to unit `k`: reshaped to the image
    shape, it shows the pattern that unit responds to most strongly (strokes
    for a sparse autoencoder on MNIST, edge detectors on natural image
    patches). Each filter is min-max normalised to [0, 1] on its own (a
    constant filter is shown mid-grey), since units' weights differ in scale.

    Args:
        weights: A kernel `(n_inputs, n_units)` (e.g.
            `layer.kernel.numpy()`), or an array of filters already shaped as
            images `(n_units, H, W)` / `(n_units, H, W, 1|3)`.
        image_shape: `(H, W)` or `(H, W, C)` with `n_inputs` values, for a
            2-D kernel; inferred when `n_inputs` is a perfect square.
        n: Integer, the number of units shown (the first `n`); defaults to
            `min(64, n_units)`.
        ncols: Integer, the number of columns; defaults to `ceil(sqrt(n))`.
        cmap: Matplotlib colormap for single-channel filters.
        cell_size: Float, the size in inches of one filter.

    Returns:
        A `matplotlib.figure.Figure` with one axes per shown unit.

    Raises:
        ValueError: If `weights` has fewer than 2 axes, `image_shape` does
            not match `n_inputs`, or `n` exceeds the number of units.

    Example:

    >>> import aekeras, numpy as np
    >>> kernel = np.random.default_rng(0).normal(size=(784, 16))
    >>> fig = aekeras.plots.filter_grid(kernel, (28, 28))
    >>> len(fig.axes)
    16
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim < 2:
        raise ValueError(
            "`weights` must be a kernel (n_inputs, n_units) or filters "
            "(n_units, height, width[, channels]). "
            f"Received: weights.shape={weights.shape}"
        )
    if weights.ndim == 2:
        n_inputs = weights.shape[0]
        if image_shape is None and math.isqrt(n_inputs) ** 2 != n_inputs:
            raise ValueError(
                "Cannot infer the image shape of a kernel with "
                f"{weights.shape[0]} inputs, not a perfect square; pass "
                f"`image_shape`. Received: weights.shape={weights.shape}"
            )
        filters = weights.T
    else:
        filters = weights
    shape = _image_shape_of(filters, image_shape, "weights")
    n_units = filters.shape[0]
    n = min(64, n_units) if n is None else validate_int_arg(n, "n", min_value=1, max_value=n_units)
    if ncols is None:
        ncols = math.ceil(math.sqrt(n))
    ncols = min(validate_int_arg(ncols, "ncols", min_value=1), n)
    nrows = math.ceil(n / ncols)

    shown = filters[:n].reshape((n, -1))
    low = shown.min(axis=1, keepdims=True)
    span = shown.max(axis=1, keepdims=True) - low
    normalised = np.where(span > 0, (shown - low) / np.where(span > 0, span, 1.0), 0.5)
    normalised = normalised.reshape((n,) + shape)

    fig = Figure(figsize=(cell_size * ncols, cell_size * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, image in zip(axes, normalised):
        if image.ndim == 3:
            ax.imshow(image, interpolation="nearest")
        else:
            ax.imshow(image, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        _hide_frame(ax)
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig


def code_scatter(codes, labels=None, title=None, class_names=None, s=4.0, alpha=0.7):
    """Scatter plot of 2-D codes, coloured by label.

    The picture of Hinton & Salakhutdinov's Figure 3: the codes of a
    two-unit bottleneck (or the first two principal components) with one
    colour per class. Integer labels with at most 20 distinct values, and
    string labels, get a legend with one entry per class; other labels (e.g.
    a continuous quantity) are shown with a colorbar.

    Args:
        codes: Array `(N, 2)`.
        labels: Optional array `(N,)` of class labels or values.
        title: Optional axes title.
        class_names: Optional sequence of names indexed by the integer
            labels (e.g. the Fashion-MNIST class names) for the legend.
        s: Float, marker size.
        alpha: Float, marker opacity.

    Returns:
        A `matplotlib.figure.Figure` with one axes (plus one for a colorbar).

    Raises:
        ValueError: If `codes` is not of shape `(N, 2)` or `labels` does not
            hold `N` values.

    Example:

    >>> import aekeras, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = aekeras.plots.code_scatter(rng.normal(size=(100, 2)), rng.integers(0, 3, 100))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['0', '1', '2']

    Reference:
    - [Hinton & Salakhutdinov, 2006](https://doi.org/10.1126/science.1127647)
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(
            "`codes` must have shape (n_samples, 2); project longer codes to "
            f"2-D first (e.g. with PCA). Received: codes.shape={codes.shape}"
        )
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=s, alpha=alpha)
    else:
        labels = np.asarray(labels)
        if labels.shape != (codes.shape[0],):
            raise ValueError(
                "`labels` must have shape (n_samples,) matching `codes`. "
                f"Received: codes.shape={codes.shape}, labels.shape={labels.shape}"
            )
        classes = np.unique(labels)
        if labels.dtype.kind in "iub":
            names = [_class_name(int(v), class_names) for v in classes]
        elif labels.dtype.kind == "f" and np.all(np.mod(classes, 1) == 0):
            names = [_class_name(int(v), class_names) for v in classes]
        elif labels.dtype.kind in "f":
            names = None
        else:  # strings or objects: the labels are the names
            names = [str(v) for v in classes]
        if names is not None and len(classes) > 20 and labels.dtype.kind in "iubf":
            names = None  # too many classes for a legend: use a colorbar
        if names is not None:
            cmap = "tab10" if len(classes) <= 10 else "tab20"
            palette = colormaps[cmap]
            for index, (value, name) in enumerate(zip(classes, names)):
                mask = labels == value
                ax.scatter(
                    codes[mask, 0],
                    codes[mask, 1],
                    s=s,
                    alpha=alpha,
                    color=palette(index % palette.N),
                    label=name,
                )
            ax.legend(
                loc="center left",
                bbox_to_anchor=(1.0, 0.5),
                markerscale=max(1.0, 12.0 / s),
                frameon=False,
            )
        else:
            points = ax.scatter(
                codes[:, 0], codes[:, 1], c=labels, s=s, alpha=alpha, cmap="viridis"
            )
            fig.colorbar(points, ax=ax)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    if title is not None:
        ax.set_title(title)
    return fig


def score_histograms(scores, labels=("normal", "anomalous"), bins=40, log=True):
    """Histograms of anomaly scores, normal against anomalous, one panel per scorer.

    Shows how well a score such as an autoencoder's reconstruction error
    separates normal inputs from anomalous ones: the less the two
    histograms overlap, the higher the ROC AUC. Both histograms of a panel
    share its bins; with `log`, the bins are spaced evenly on a logarithmic
    axis (reconstruction errors span decades).

    Args:
        scores: Dict mapping a panel title (e.g. the model's name) to a pair
            `(normal_scores, anomalous_scores)` of 1-D arrays.
        labels: Pair of legend labels for the normal and the anomalous scores.
        bins: Int >= 1, number of bins per panel.
        log: Bool, whether the score axis is logarithmic (then every score
            must be > 0).

    Returns:
        A `matplotlib.figure.Figure` with one axes per entry of `scores`, and
        one legend above them.

    Raises:
        ValueError: If `scores` is empty, an entry is not a pair of non-empty
            1-D arrays, `labels` is not a pair, or `log` is set and a score
            is not positive.

    Example:

    >>> import aekeras, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = aekeras.plots.score_histograms(
    ...     {"AE": (rng.lognormal(0, 1, 100), rng.lognormal(2, 1, 100))}
    ... )
    >>> fig.axes[0].get_title(), fig.axes[0].get_xscale()
    ('AE', 'log')
    """
    _check_nonempty_dict(scores, "scores", "of title: (normal_scores, anomalous_scores)")
    labels = tuple(labels)
    if len(labels) != 2:
        raise ValueError(
            f"`labels` must be a pair (normal, anomalous). Received: labels={labels!r}"
        )
    bins = validate_int_arg(bins, "bins", min_value=1)
    pairs = {}
    for title, pair in scores.items():
        if len(pair) != 2:
            raise ValueError(
                "Each value of `scores` must be a pair (normal_scores, anomalous_scores). "
                f"Received: len(scores[{title!r}])={len(pair)}"
            )
        normal, anomalous = (np.asarray(s, dtype=float) for s in pair)
        if normal.ndim != 1 or anomalous.ndim != 1 or not normal.size or not anomalous.size:
            raise ValueError(
                "Scores must be non-empty 1-D arrays. "
                f"Received: shapes of scores[{title!r}]=({normal.shape}, {anomalous.shape})"
            )
        low = min(normal.min(), anomalous.min())
        if log and not low > 0:
            raise ValueError(
                "With `log=True` every score must be > 0. "
                f"Received: min(scores[{title!r}])={low:.4g}"
            )
        pairs[title] = normal, anomalous
    fig = Figure(figsize=(3.3 * len(pairs), 3.0), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    for ax, (title, (normal, anomalous)) in zip(axes, pairs.items()):
        both = np.concatenate([normal, anomalous])
        if log:
            edges = np.geomspace(both.min(), both.max(), bins + 1)
            ax.set_xscale("log")
        else:
            edges = np.linspace(both.min(), both.max(), bins + 1)
        for values, label, color in zip((normal, anomalous), labels, ("C0", "C3")):
            ax.hist(values, bins=edges, alpha=0.55, color=color, label=str(label))
        ax.set_title(title)
        ax.set_xlabel("score")
    axes[0].set_ylabel("images")
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False
    )
    return fig


def _class_name(value, class_names):
    if class_names is not None and 0 <= value < len(class_names):
        return str(class_names[value])
    return str(value)


def training_curves(history, keys=None, logy=False, title=None):
    """Plots training (and validation) curves, one axes per metric.

    Args:
        history: A `keras.callbacks.History` (what `model.fit` returns) or a
            dict mapping metric names to lists of per-epoch values, as
            `History.history`. Validation values named `"val_" + key` are
            drawn on the same axes as `key`, dashed.
        keys: Optional list of metric names to plot (without the `"val_"`
            prefix); defaults to every training metric in `history`.
        logy: Boolean, whether to use a logarithmic y axis.
        title: Optional figure title.

    Returns:
        A `matplotlib.figure.Figure` with one axes per key.

    Raises:
        ValueError: If `history` is empty or not a dict/History, a key is not
            in it, or `logy` is set while a value is not positive.

    Example:

    >>> import aekeras
    >>> fig = aekeras.plots.training_curves({"loss": [0.3, 0.2], "val_loss": [0.35, 0.3]})
    >>> fig.axes[0].get_ylabel()
    'loss'
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "`history` must be a keras History or a non-empty dict of "
            f"per-epoch values. Received: history={history!r}"
        )
    if keys is None:
        keys = [k for k in logs if not k.startswith("val_")]
        if not keys:
            keys = list(logs)
    elif isinstance(keys, str):
        keys = [keys]
    missing = [k for k in keys if k not in logs and "val_" + k not in logs]
    if missing or not keys:
        raise ValueError(
            f"`keys` must be names in `history`: {sorted(logs)}. Received: keys={keys!r}"
        )

    fig = Figure(figsize=(4.0 * len(keys), 3.2), layout="constrained")
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        curves = ((key, "-", "train"), ("val_" + key, "--", "validation"))
        for name, style, legend in curves:
            if name not in logs:
                continue
            values = np.asarray(logs[name], dtype=np.float64).ravel()
            if logy and np.any(values <= 0):
                raise ValueError(
                    "A logarithmic axis needs positive values; plot this key "
                    f"with logy=False. Received: logy={logy!r}, "
                    f"min(history[{name!r}])={format_value(values.min())}"
                )
            ax.plot(np.arange(1, values.size + 1), values, style, label=legend)
        if logy:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    if title is not None:
        fig.suptitle(title)
    return fig


def line_plot(
    series, xlabel, ylabel, title=None, styles=None, references=None, logx=False, logy=False
):
    """Plots one or more curves y(x) on one axes, with a legend.

    A small helper for the lectures' comparisons: reconstruction error
    against code size for several models, or training and held-out errors
    of several runs against the number of examples seen. Horizontal
    reference lines (e.g. PCA's error) can be added.

    Args:
        series: Dict mapping a legend label to a pair `(x, y)` of equally
            long 1-D arrays, or to `y` alone (then `x` is 1, 2, ...).
        xlabel: String, the x axis label.
        ylabel: String, the y axis label.
        title: Optional axes title.
        styles: Optional dict mapping some labels to a Matplotlib format
            string, e.g. `{"test": "o--"}`; the others are drawn `"o-"`.
        references: Optional dict mapping a label to a y value drawn as a
            dotted horizontal line, e.g. `{"PCA": 13.87}`.
        logx: Boolean, whether the x axis is logarithmic; with at most 12
            distinct x values, exactly those are labelled.
        logy: Boolean, whether the y axis is logarithmic.

    Returns:
        A `matplotlib.figure.Figure` with one axes, not registered with
        pyplot.

    Raises:
        ValueError: If `series` is empty or not a dict, a curve's `x` and `y`
            differ in length or are empty, `styles` names an unknown
            curve, or a logarithmic axis gets a value that is not positive.

    Example:

    >>> import aekeras
    >>> fig = aekeras.plots.line_plot(
    ...     {"AE": ([2, 5, 10], [40.0, 25.0, 15.0]), "PCA": ([2, 5, 10], [52.0, 38.0, 27.0])},
    ...     xlabel="code size k", ylabel="test error", references={"zero": 1.0})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['AE', 'PCA', 'zero']
    """
    _check_nonempty_dict(series, "series", "mapping a label to (x, y) or y")
    styles = {} if styles is None else dict(styles)
    unknown = [label for label in styles if label not in series]
    if unknown:
        raise ValueError(
            f"`styles` must use labels of `series` {list(series)}; {unknown} are not "
            f"curves. Received: styles={styles!r}"
        )
    references = {} if references is None else dict(references)
    curves = {}
    for label, value in series.items():
        if isinstance(value, tuple) and len(value) == 2:
            x, y = (np.asarray(v, dtype=np.float64).ravel() for v in value)
        else:
            y = np.asarray(value, dtype=np.float64).ravel()
            x = np.arange(1, y.size + 1, dtype=np.float64)
        if x.size != y.size or y.size == 0:
            raise ValueError(
                "Each curve needs as many x as y values, at least one. "
                f"Received: series[{label!r}] with {x.size} x and {y.size} y values"
            )
        curves[label] = (x, y)
    for axis, on, values in (
        ("logx", logx, [x for x, _ in curves.values()]),
        ("logy", logy, [y for _, y in curves.values()] + [np.array(list(references.values()))]),
    ):
        low = min((float(v.min()) for v in values if v.size), default=1.0)
        if on and low <= 0:
            raise ValueError(
                "A logarithmic axis needs positive values. "
                f"Received: {axis}={on!r}, smallest value={format_value(low)}"
            )

    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.subplots()
    for label, (x, y) in curves.items():
        ax.plot(x, y, styles.get(label, "o-"), label=label, markersize=4)
    for index, (label, level) in enumerate(references.items()):
        ax.axhline(float(level), linestyle=":", color=f"C{(len(curves) + index) % 10}", label=label)
    if logx:
        ax.set_xscale("log")
        ticks = np.unique(np.concatenate([x for x, _ in curves.values()]))
        if ticks.size <= 12:  # few x values (e.g. code sizes): label exactly those
            ax.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    return fig


def decoded_grid(
    decode,
    x_range,
    y_range,
    n=15,
    image_shape=None,
    codes=None,
    labels=None,
    cmap="gray",
    title=None,
):
    """Decodes a regular grid of 2-D codes and shows the images as one map.

    The picture of a decoder used on its own: the codes
    `(z_1, z_2)` of an `n x n` grid spanning `x_range` by `y_range` are
    decoded, and each image is drawn at its code's place, so the axes are in
    code coordinates (`z_2` grows upwards). With `codes`, a scatter plot of
    those codes on the same axes limits is drawn to the left, so the reader
    sees which decoded images lie where the data are and which lie in empty
    regions of the code plane.

    Args:
        decode: Callable mapping a float32 array of codes `(m, 2)` to `m`
            images `(m, H, W)`, `(m, H, W, 1)` or flat `(m, D)`, e.g.
            `model.decode`.
        x_range: Pair `(low, high)`, the range of the first code unit.
        y_range: Pair `(low, high)`, the range of the second code unit.
        n: Int >= 2, the number of grid points along each axis.
        image_shape: Optional `(H, W)` to reshape flat images; inferred when
            `D` is a perfect square.
        codes: Optional array `(N, 2)` of codes shown as a scatter plot.
        labels: Optional array `(N,)` of integer labels colouring `codes`.
        cmap: Matplotlib colormap of the decoded images.
        title: Optional figure title.

    Returns:
        A `matplotlib.figure.Figure` with one axes (the decoded map), or two
        (scatter, then map) with `codes`.

    Raises:
        ValueError: If a range is not `(low, high)` with `low < high`, `n` is
            below 2, `decode` does not return `n * n` single-channel images,
            or `codes`/`labels` have the wrong shape.

    Example:

    >>> import aekeras, numpy as np
    >>> decode = lambda z: np.tile(z[:, :1], (1, 16))  # 4x4 images, grey = z_1
    >>> fig = aekeras.plots.decoded_grid(decode, (0, 1), (0, 1), n=3)
    >>> fig.axes[0].images[0].get_array().shape
    (12, 12)
    """
    x_low, x_high = validate_range_arg(x_range, "x_range")
    y_low, y_high = validate_range_arg(y_range, "y_range")
    n = validate_int_arg(n, "n", min_value=2)
    if codes is not None:
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(
                f"`codes` must have shape (n_samples, 2). Received: codes.shape={codes.shape}"
            )
        if labels is not None and np.shape(labels) != (codes.shape[0],):
            raise ValueError(
                "`labels` must have shape (n_samples,) matching `codes`. "
                f"Received: codes.shape={codes.shape}, labels.shape={np.shape(labels)}"
            )
    # Row 0 of the map is the top: the largest z_2.
    z1 = np.linspace(x_low, x_high, n)
    z2 = np.linspace(y_high, y_low, n)
    grid = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(-1, 2).astype(np.float32)
    images = np.asarray(decode(grid))
    if images.ndim < 2 or images.shape[0] != n * n:
        raise ValueError(
            f"`decode` must return one image per code, {n * n} for n={n}. "
            f"Received: decode(codes).shape={images.shape}"
        )
    shape = _image_shape_of(images, image_shape, "decode(codes)")
    if len(shape) != 2:
        raise ValueError(
            "`decode` must return single-channel images. "
            f"Received: decode(codes).shape={images.shape}"
        )
    height, width = shape
    tiles = images.reshape(n, n, height, width).astype(np.float32)
    mosaic = tiles.transpose(0, 2, 1, 3).reshape(n * height, n * width)
    # Each tile is centred on its grid point: the map extends half a step beyond the range.
    dx, dy = (x_high - x_low) / (n - 1) / 2, (y_high - y_low) / (n - 1) / 2
    extent = (x_low - dx, x_high + dx, y_low - dy, y_high + dy)

    panels = 1 if codes is None else 2
    fig = Figure(figsize=(4.6 * panels + 0.4, 4.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if codes is not None:
        ax = axes[0]
        if labels is None:
            ax.scatter(codes[:, 0], codes[:, 1], s=2, alpha=0.5)
        else:
            labels = np.asarray(labels)
            palette = colormaps["tab10" if np.unique(labels).size <= 10 else "tab20"]
            for index, value in enumerate(np.unique(labels)):
                mask = labels == value
                ax.scatter(
                    codes[mask, 0],
                    codes[mask, 1],
                    s=2,
                    alpha=0.5,
                    color=palette(index % palette.N),
                    label=str(value),
                )
            ax.legend(markerscale=4, fontsize="small", frameon=False, ncols=2, loc="best")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel("code 1")
        ax.set_ylabel("code 2")
        ax.set_title("codes of the data")
    ax = axes[-1]
    ax.imshow(mosaic, cmap=cmap, extent=extent, aspect="auto", interpolation="nearest")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    ax.set_title(f"decoder on a {n}×{n} grid of codes")
    if title is not None:
        fig.suptitle(title)
    return fig


_DIAGRAM_LAYERS = ("InputLayer", "Dense", "DenseTranspose", "Conv2D", "Conv2DTranspose")


def _diagram_stages(model):
    """(label, number of values, part) for the input, every weight layer and the output."""
    stages = []
    for part, network in (("encoder", model.encoder), ("decoder", model.decoder)):
        for layer in network.layers:
            if type(layer).__name__ not in _DIAGRAM_LAYERS:
                continue
            if part == "decoder" and type(layer).__name__ == "InputLayer":
                continue  # the code, already drawn as the encoder's last stage
            shape = tuple(layer.output.shape[1:])
            label = "×".join(str(d) for d in shape)
            stages.append((label, int(np.prod(shape)), part))
    return stages


def autoencoder_diagram(model, title=None, labels=True):
    """Draws an autoencoder as a funnel of its layer widths, from the model itself.

    Every stage (the input, each Dense or convolutional layer of the encoder
    and the decoder) is a bar whose height grows with the square root of the
    number of values it holds, labelled with its shape (`784`, `14×14×32`).
    The encoder's bars are blue, the code orange and the decoder's green; the
    input is labelled x, the code z = f(x) = E_η(x) and the output
    x̂ = g(z) = D_θ(z). A corruption layer (denoising) is marked at the input
    as x̃, and a sparsity penalty as Ω(h) on the layer it acts on.

    Args:
        model: An `aekeras.models.Autoencoder` (e.g. `DenseAutoencoder`,
            `ConvAutoencoder`), built, with functional `encoder` and
            `decoder`.
        title: Optional figure title; defaults to the model's name.
        labels: Boolean, whether to write x, z and x̂ with their formulas.

    Returns:
        A `matplotlib.figure.Figure` with one axes.

    Raises:
        ValueError: If `model` has no functional `encoder` and `decoder`.

    Example:

    >>> import aekeras
    >>> fig = aekeras.plots.autoencoder_diagram(aekeras.deep_autoencoder("784-1000-500-250-30"))
    >>> [t.get_text() for t in fig.axes[0].texts][:5]
    ['784', '1000', '500', '250', '30']
    """
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if not all(hasattr(net, "layers") and hasattr(net, "output") for net in (encoder, decoder)):
        raise ValueError(
            "`model` must be an aekeras autoencoder with functional `encoder` and "
            f"`decoder` models. Received: model={model!r}"
        )
    stages = _diagram_stages(model)
    code_index = max(i for i, (_, _, part) in enumerate(stages) if part == "encoder")
    heights = np.sqrt([size for _, size, _ in stages])
    heights = 0.15 + 0.85 * heights / heights.max()
    colors = {"encoder": "#4C72B0", "code": "#DD8452", "decoder": "#55A868"}
    fig = Figure(figsize=(max(5.0, 0.9 * len(stages) + 1.5), 3.4), layout="constrained")
    ax = fig.subplots()
    width = 0.28
    for i, ((label, _, part), h) in enumerate(zip(stages, heights)):
        if i > 0:  # the connection from the previous stage, as a light trapezoid
            h0 = heights[i - 1]
            ax.fill(
                [i - 1 + width / 2, i - width / 2, i - width / 2, i - 1 + width / 2],
                [-h0 / 2, -h / 2, h / 2, h0 / 2],
                color="0.85",
                lw=0,
            )
        color = colors["code"] if i == code_index else colors[part]
        ax.add_patch(Rectangle((i - width / 2, -h / 2), width, h, color=color))
        ax.text(i, -0.62, label, ha="center", va="top", fontsize=8)
    last = len(stages) - 1
    if labels:
        noisy = bool(getattr(model, "corruption_layers", []))
        ax.text(
            0, 0.6, r"$\tilde{x}$ (corrupted $x$)" if noisy else r"$x$", ha="center", fontsize=10
        )
        ax.text(code_index, 0.6, r"$z = f(x) = E_\eta(x)$", ha="center", fontsize=10)
        ax.text(last, 0.6, r"$\hat{x} = g(z) = D_\theta(z)$", ha="center", fontsize=10)
        ax.text(
            code_index / 2,
            -0.9,
            r"encoder $E_\eta$",
            ha="center",
            fontsize=9,
            color=colors["encoder"],
        )
        ax.text(
            (code_index + last) / 2,
            -0.9,
            r"decoder $D_\theta$",
            ha="center",
            fontsize=9,
            color=colors["decoder"],
        )
        for layer in getattr(model, "sparsity_layers", []):
            position = _sparsity_stage(model, layer, code_index)
            ax.text(position, 0.75, r"$\Omega(h)$", ha="center", fontsize=10, color="#C44E52")
    ax.set_xlim(-0.6, last + 0.6)
    ax.set_ylim(-1.0, 0.9)
    ax.set_axis_off()
    ax.set_title(model.name if title is None else title)
    return fig


def _sparsity_stage(model, sparsity_layer, code_index):
    """Index of the stage whose output the sparsity layer penalises (the code if not found)."""
    weight_layers = [
        layer for layer in model.encoder.layers if type(layer).__name__ in _DIAGRAM_LAYERS
    ]
    for index, layer in enumerate(weight_layers):
        if layer.output is sparsity_layer.input:
            return index
    return code_index


def _default_penalties(target):
    import keras

    from aekeras.regularizers import KLSparsity
    from aekeras.regularizers import L1Sparsity

    return {
        r"L1: $|h|$": L1Sparsity(1.0),
        r"L2: $h^2$": keras.regularizers.L2(1.0),
        rf"KL: KL($\rho \,\|\, \hat\rho$), $\rho$ = {target:g}": KLSparsity(target, 1.0),
    }


def penalty_curves(penalties=None, activations=None, zoom=0.2, ylim=(0.0, 1.0), target=0.05):
    """Plots sparsity penalties against one activation, as the regularizers compute them.

    Each penalty is evaluated by calling the regularizer object itself on a
    batch of one example with one unit, `penalty(np.array([[a]]))`, for
    every activation `a` of the grid: the curves show what the code
    computes, not a formula re-typed for the figure. For one unit, the L1
    penalty is |h|, an L2 penalty h², and the KL penalty KL(ρ ‖ ρ̂) with the
    batch mean ρ̂ = a. A penalty with a `target` attribute (`KLSparsity`) has
    its target ρ marked by a dotted vertical line. The second panel zooms
    on small activations, where the penalties differ most: the slope there
    is the pull the penalty exerts on a unit that is nearly off.

    Args:
        penalties: Optional dict mapping a curve label to a regularizer, any
            callable that maps an array `(batch, units)` to a scalar (e.g.
            `aekeras.regularizers.L1Sparsity(1.0)`,
            `keras.regularizers.L2(1.0)`, `KLSparsity(0.05, 1.0)`). Defaults
            to these three with strength 1 and the KL target `target`.
        activations: Optional increasing 1-D array of activations (the grid);
            defaults to about 420 points in [1e-4, 0.9975], finer near 0
            (the KL penalty is infinite at 0 and 1).
        zoom: Optional float, the right end of a second panel on
            `[0, zoom]`; `None` draws the full range only.
        ylim: `(low, high)` of the vertical axis of the full panel (the KL
            penalty leaves it near 0 and 1), or `None` for Matplotlib's; the
            zoom's axis reaches the largest value at either of its ends.
        target: Float in (0, 1), ρ of the default KL penalty.

    Returns:
        A `matplotlib.figure.Figure` with one or two axes, one line per
        penalty in each.

    Raises:
        ValueError: If `penalties` is not a non-empty dict of callables,
            `activations` is not an increasing 1-D array of finite values
            with at least 2 points, `zoom` is not inside the grid's range,
            or `ylim` is not a range.

    Example:

    >>> import aekeras
    >>> fig = aekeras.plots.penalty_curves(zoom=None)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['L1: $|h|$', 'L2: $h^2$']
    """
    if penalties is None:
        penalties = _default_penalties(target)
    _check_nonempty_dict(penalties, "penalties", "mapping a label to a regularizer")
    for label, penalty in penalties.items():
        if not callable(penalty):
            raise ValueError(
                "Each penalty must be a callable regularizer, e.g. "
                "`aekeras.regularizers.L1Sparsity(1.0)`. "
                f"Received: penalties[{label!r}]={penalty!r}"
            )
    if activations is None:  # finer near 0, where the KL penalty's wall rises
        activations = np.union1d(np.geomspace(1e-4, 1e-2, 21), np.linspace(0.0, 1.0, 401)[1:-1])
    grid = np.asarray(activations, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
        raise ValueError(
            "`activations` must be a 1-D array of at least 2 finite values. "
            f"Received: activations={format_value(activations)}"
        )
    if np.any(np.diff(grid) <= 0):
        raise ValueError(
            f"`activations` must be increasing. Received: activations={format_value(activations)}"
        )
    if zoom is not None and not grid[0] < zoom <= grid[-1]:
        raise ValueError(
            f"`zoom` must be None or in ({format_value(grid[0])}, {format_value(grid[-1])}], "
            f"the range of `activations`. Received: zoom={format_value(zoom)}"
        )
    if ylim is not None:
        ylim = validate_range_arg(ylim, "ylim")

    values = {
        label: np.array(
            [float(np.asarray(penalty(np.array([[a]], dtype=np.float32)))) for a in grid]
        )
        for label, penalty in penalties.items()
    }
    panels = [(grid[0], grid[-1], "activation $h$ (one unit)")]
    if zoom is not None:
        panels.append((grid[0], zoom, f"zoom on small activations, $h \\leq$ {zoom:g}"))
    fig = Figure(figsize=(4.6 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (low, high, xlabel) in zip(axes, panels):
        shown = (grid >= low) & (grid <= high)
        for index, (label, curve) in enumerate(values.items()):
            ax.plot(grid[shown], curve[shown], color=f"C{index}", label=label)
        for index, penalty in enumerate(penalties.values()):
            rho = getattr(penalty, "target", None)
            if rho is not None and low <= rho <= high:
                ax.axvline(rho, color=f"C{index}", linestyle=":", linewidth=1)
                ax.annotate(
                    rf"$\rho$ = {rho:g}",
                    (rho, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -12),
                    textcoords="offset points",
                    color=f"C{index}",
                )
        ax.set_xlim(0.0 if low >= 0 else low, high)
        if ax is axes[0] and ylim is not None:
            ax.set_ylim(*ylim)
        elif ax is not axes[0]:  # the zoom: up to the largest value at either end
            ends = [curve[shown][[0, -1]] for curve in values.values()]
            top = 1.15 * float(np.max(ends))
            ax.set_ylim(0.0, min(top, ylim[1]) if ylim is not None else top)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"penalty $\Omega$ (strength 1)")
    axes[0].legend(frameon=False, loc="upper left", bbox_to_anchor=(0.1, 0.92))
    return fig


def activation_histogram(mean_activations, target=None, bins=40, value_range=None, title=None):
    """Histograms of the units' mean activations ρ̂_j, one per model, on shared bins.

    The KL penalty asks every unit for the mean activation ρ; this shows how
    the units' means `ρ̂_j = mean_n h_nj` (e.g.
    `model.encode(x).mean(axis=0)`) spread, with and without the penalty.
    The histograms are drawn as outlines on the same bins, so they overlap
    legibly; the target is a dotted vertical line.

    Args:
        mean_activations: Dict mapping a label (e.g. `"no penalty"`) to a
            1-D array of per-unit mean activations.
        target: Optional float, the target ρ to mark.
        bins: Int >= 1, the number of bins.
        value_range: Optional `(low, high)` of the bins; defaults to 0 (or
            the smallest mean, if negative) up to the largest mean.
        title: Optional axes title.

    Returns:
        A `matplotlib.figure.Figure` with one axes.

    Raises:
        ValueError: If `mean_activations` is not a non-empty dict of
            non-empty 1-D arrays of finite values, or `bins` or
            `value_range` is invalid.

    Example:

    >>> import aekeras, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = aekeras.plots.activation_histogram(
    ...     {"no penalty": rng.uniform(0.1, 0.5, 400), "KL": rng.normal(0.05, 0.01, 400)},
    ...     target=0.05,
    ... )
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['no penalty', 'KL', 'target ρ = 0.05']
    """
    _check_nonempty_dict(
        mean_activations, "mean_activations", "mapping a label to a 1-D array of per-unit means"
    )
    arrays = {}
    for label, values in mean_activations.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(
                "Each entry must be a non-empty 1-D array of finite per-unit means "
                "(e.g. `model.encode(x).mean(axis=0)`). "
                f"Received: mean_activations[{label!r}].shape={values.shape}"
            )
        arrays[label] = values
    bins = validate_int_arg(bins, "bins", min_value=1)
    if value_range is None:
        everything = np.concatenate(list(arrays.values()))
        low, high = min(0.0, float(everything.min())), float(everything.max())
        if target is not None:
            high = max(high, float(target))
        if high <= low:
            high = low + 1.0
    else:
        low, high = validate_range_arg(value_range, "value_range")
    edges = np.linspace(low, high, bins + 1)

    fig = Figure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.subplots()
    for index, (label, values) in enumerate(arrays.items()):
        ax.hist(values, bins=edges, histtype="step", linewidth=1.8, color=f"C{index}", label=label)
    if target is not None:
        ax.axvline(float(target), color="0.3", linestyle=":", label=f"target ρ = {target:g}")
    ax.set_xlabel(r"mean activation $\hat\rho_j$ of a unit")
    ax.set_ylabel("number of units")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return fig


def pixel_histogram(images, bins=20, value_range=(0.0, 1.0), grey=(0.1, 0.9), title=None):
    """Histograms of pixel values, one outline per set of images, on shared bins.

    Shows how blurry reconstructions are: the pixels of MNIST digits are
    nearly binary (paper near 0, ink near 1), while a reconstruction that
    averages several possible strokes has many grey values in between. Each
    outline gives the fraction of the set's pixels in every bin, on a
    logarithmic axis (the background dominates), so sets of different sizes
    compare. The grey band is shaded, and every legend entry carries the
    set's grey fraction (`aekeras.metrics.grey_fraction`). Values outside
    `value_range` (e.g. PCA's reconstructions) are counted in the end bins.

    Args:
        images: Dict mapping a label (e.g. `"Autoencoder"`) to an array of
            pixel values of any shape, e.g. a batch of images.
        bins: Int >= 1, the number of bins spanning `value_range`.
        value_range: Pair `(low, high)` with `low < high`, the range of the bins.
        grey: Pair `(low, high)` in [0, 1], the band counted as grey.
        title: Optional axes title.

    Returns:
        A `matplotlib.figure.Figure` with one axes, not registered with pyplot.

    Raises:
        ValueError: If `images` is not a non-empty dict of non-empty arrays
            of finite values, or `bins`, `value_range` or `grey` is invalid.

    Example:

    >>> import aekeras, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sharp = (rng.random((10, 28, 28)) > 0.8).astype("float32")
    >>> fig = aekeras.plots.pixel_histogram({"Sharp": sharp, "Blurred": 0.5 * sharp + 0.2})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Sharp: 0.0% grey', 'Blurred: 100.0% grey']

    Reference:
    - [Mathieu, Couprie & LeCun, 2016](https://arxiv.org/abs/1511.05440)
    """
    _check_nonempty_dict(images, "images", "mapping a label to an array of pixel values")
    bins = validate_int_arg(bins, "bins", min_value=1)
    low, high = validate_range_arg(value_range, "value_range")
    grey = validate_range_arg(grey, "grey", min_value=0, max_value=1)
    arrays = {}
    for label, values in images.items():
        values = np.asarray(values).ravel()
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float64)
        if values.size == 0 or not np.isfinite(values).all():
            raise ValueError(
                "Each entry must be a non-empty array of finite pixel values. "
                f"Received: images[{label!r}].shape={np.shape(images[label])}"
            )
        arrays[label] = values
    edges = np.linspace(low, high, bins + 1)

    fig = Figure(figsize=(6.5, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.axvspan(*grey, color="0.9", zorder=0)
    for index, (label, values) in enumerate(arrays.items()):
        # Bin indices by arithmetic (the bins are uniform): much faster than np.histogram.
        bin_of = np.clip(((values - low) * (bins / (high - low))).astype(np.int64), 0, bins - 1)
        counts = np.bincount(bin_of, minlength=bins)
        ax.stairs(
            counts / values.size,
            edges,
            linewidth=1.8,
            color=f"C{index}",
            label=f"{label}: {grey_fraction(values, grey):.1%} grey",
        )
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_xlabel(f"pixel value (grey band {grey[0]:g} to {grey[1]:g} shaded)")
    ax.set_ylabel("fraction of pixels")
    ax.legend(frameon=False, loc="upper center")
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return fig


def vector_fields(fields, points=None, length=1.0, title=None):
    """Quiver plots of 2-D vector fields side by side, on shared axes and arrow scale.

    Made to compare what a denoising autoencoder learns, `r(x) - x`, with a
    known field such as `noise^2 * grad log p_noise(x)`: each arrow starts at
    a point `x` and, with `length=1`, ends at `x + v(x)` (for the
    displacement field `r(x) - x`, at the reconstruction `r(x)`). Every
    panel uses the same arrow scale, so lengths compare across panels.

    Args:
        fields: Dict mapping a panel title to a pair `(positions, vectors)`
            of arrays of shape `(n, 2)`: the arrows' tails and the vectors.
        points: Optional array `(m, 2)` of data points drawn under the
            arrows in every panel.
        length: Positive float, the arrows' drawn length as a fraction of
            the vectors' length in data units (1: true length).
        title: Optional title above the panels.

    Returns:
        A `matplotlib.figure.Figure` with one square axes per entry of
        `fields`, sharing x and y limits, not registered with pyplot.

    Raises:
        ValueError: If `fields` is empty or not a dict, an entry is not a pair
            of `(n, 2)` arrays of the same shape with finite values, `points`
            is not an `(m, 2)` array, or `length` is not a positive float.

    Example:

    >>> import aekeras, numpy as np
    >>> grid = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)), -1).reshape(-1, 2)
    >>> fig = aekeras.plots.vector_fields({"toward 0": (grid, -0.5 * grid), "zero": (grid, 0 * grid)})
    >>> [ax.get_title() for ax in fig.axes]
    ['toward 0', 'zero']
    """
    _check_nonempty_dict(fields, "fields", "mapping a title to (positions, vectors)")
    length = validate_float_arg(length, "length", min_value=0, min_inclusive=False)
    pairs = {}
    for label, pair in fields.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(
                "Each value of `fields` must be a pair (positions, vectors). "
                f"Received: fields[{label!r}] of type {type(pair).__name__}"
            )
        positions, vectors = (np.asarray(v, dtype=np.float64) for v in pair)
        if positions.ndim != 2 or positions.shape[1] != 2 or positions.shape != vectors.shape:
            raise ValueError(
                "Positions and vectors must be arrays of the same shape (n, 2). "
                f"Received: shapes of fields[{label!r}]=({positions.shape}, {vectors.shape})"
            )
        if not (np.isfinite(positions).all() and np.isfinite(vectors).all()):
            raise ValueError(
                f"Positions and vectors must be finite. Received: fields[{label!r}] with NaN or inf"
            )
        pairs[label] = positions, vectors
    if points is not None:
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(
                f"`points` must be an array of shape (m, 2). Received: points.shape={points.shape}"
            )
    everything = np.concatenate(
        [p for p, _ in pairs.values()] + ([] if points is None else [points])
    )
    low, high = everything.min(axis=0), everything.max(axis=0)
    pad = 0.05 * (high - low).max()
    fig = Figure(figsize=(3.6 * len(pairs), 3.8), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False, sharex=True, sharey=True)[0]
    for ax, (label, (positions, vectors)) in zip(axes, pairs.items()):
        if points is not None:
            ax.scatter(points[:, 0], points[:, 1], s=2, color="C1", alpha=0.4, linewidths=0)
        ax.quiver(
            positions[:, 0],
            positions[:, 1],
            vectors[:, 0],
            vectors[:, 1],
            angles="xy",
            scale_units="xy",
            scale=1.0 / length,
            width=0.004,
            color="C0",
        )
        ax.set_title(label)
        ax.set_xlim(low[0] - pad, high[0] + pad)
        ax.set_ylim(low[1] - pad, high[1] + pad)
        ax.set_aspect("equal")
    if title is not None:
        fig.suptitle(title)
    return fig
