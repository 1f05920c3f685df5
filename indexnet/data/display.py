r"""Pictures of training: UFLDL's ``display_network`` grid of first-layer features, and a loss
curve.

:func:`display_network` only arranges numbers and needs NumPy alone; writing PNG files needs
matplotlib, imported when called: ``pip install 'indexnet[plot]'``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexnet.checks.extras import require
from indexnet.checks.inputs import check_int

__all__ = ["display_network", "grid_shape", "plot_loss_curve", "save_image"]


def grid_shape(n_features: int) -> tuple[int, int]:
    r"""Rows and columns of the tile grid for ``n_features`` tiles, as UFLDL's
    ``display_network`` chooses them: a square when ``n_features`` is a square, otherwise
    columns from :math:`\lceil\sqrt{n}\rceil` up to :math:`1.2\sqrt{n}` preferring one that
    divides ``n_features``, and enough rows to hold them all.
    """
    n_features = check_int("n_features", n_features, 1)
    root = math.isqrt(n_features)
    if root * root == n_features:
        return root, root
    cols = math.ceil(math.sqrt(n_features))
    while n_features % cols and cols < 1.2 * math.sqrt(n_features):
        cols += 1
    return math.ceil(n_features / cols), cols


def display_network(
    weights, patch_shape: tuple[int, int] | None = None, padding: int = 1
) -> np.ndarray:
    r"""Tile the rows of a first-layer weight matrix as small images, UFLDL's ``display_network``.

    Row :math:`i` of :math:`W^{(1)}` holds the weights :math:`W_{ij}^{(1)}` from every input
    pixel :math:`j` to hidden unit :math:`i`: the input pattern that excites unit :math:`i`
    most, for an input of fixed norm (UFLDL, "Visualizing a Trained Autoencoder"). After the
    overall mean is removed, each tile is scaled by its own largest magnitude:

    .. math::
        \text{tile}_i = \frac{W_{i\cdot} - \bar{W}}{\max_j |W_{ij} - \bar{W}|} \in [-1, 1]

    Parameters
    ----------
    weights : array_like, shape (n_features, n_pixels)
        ``net.W[0]``: one feature a row, pixel ``width * r + c`` at row ``r``, column ``c``
        (UFLDL's MATLAB code holds features as columns).
    patch_shape : (int, int), optional
        ``(height, width)`` of a tile; square by default, which needs a square ``n_pixels``.
    padding : int
        Pixels of background (-1, black) around every tile.

    Returns
    -------
    ndarray, shape (padding + rows * (height + padding), padding + cols * (width + padding))
        Values in [-1, 1]; :func:`grid_shape` gives ``rows`` and ``cols``. Tiles run left to
        right, then top to bottom.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.size == 0:
        raise ValueError(
            f"weights must be a non-empty 2-D array, one feature a row; got shape {weights.shape}"
        )
    if not np.isfinite(weights).all():
        raise ValueError("weights must be finite")
    padding = check_int("padding", padding, 0)
    n_features, n_pixels = weights.shape
    if patch_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"weights has {n_pixels} columns, not a square number of pixels; "
                "pass patch_shape=(height, width)"
            )
        patch_shape = (side, side)
    height, width = (check_int(f"patch_shape[{d}]", s, 1) for d, s in enumerate(patch_shape))
    if height * width != n_pixels:
        raise ValueError(
            f"patch_shape {patch_shape} must have height * width == {n_pixels}, "
            "the columns of weights"
        )
    # $W - \bar{W}$, then each tile over its own $\max_j |W_{ij}|$
    centred = weights - weights.mean()
    scale = np.abs(centred).max(axis=1, keepdims=True)
    tiles = np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)
    rows, cols = grid_shape(n_features)
    grid = -np.ones((padding + rows * (height + padding), padding + cols * (width + padding)))
    for i in range(n_features):
        top = padding + (i // cols) * (height + padding)
        left = padding + (i % cols) * (width + padding)
        grid[top : top + height, left : left + width] = tiles[i].reshape(height, width)
    return grid


def save_image(image, path, scale: int = 8, vmin: float = -1.0, vmax: float = 1.0) -> Path:
    """Write a 2-D array as a grayscale PNG, each value a ``scale`` x ``scale`` block of pixels.

    Parameters
    ----------
    image : array_like, shape (height, width)
        For example the result of :func:`display_network`.
    path : str or path-like
        Where to write the PNG.
    scale : int
        Magnification; a 5x5 grid of 8x8 tiles is only 46 pixels wide unscaled.
    vmin, vmax : float
        Values drawn black and white.

    Returns
    -------
    pathlib.Path
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array; got shape {image.shape}")
    scale = check_int("scale", scale, 1)
    require("matplotlib", "writing images")
    from matplotlib.image import imsave

    path = Path(path)
    big = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    imsave(path, big, cmap="gray", vmin=vmin, vmax=vmax, format="png")
    return path


def plot_loss_curve(
    costs: Sequence[float], path, *, title: str = "", xlabel: str = "iteration"
) -> Path:
    r"""Plot :math:`J` against iterations and write it as a PNG.

    The y axis is logarithmic when every cost is positive, as the costs here are; the
    interesting part of a curve is usually its last orders of magnitude.

    Parameters
    ----------
    costs : sequence of float
        :math:`J` after each iteration, e.g. ``TrainResult.costs``.
    path : str or path-like
        Where to write the PNG.
    title : str
        Title above the plot.
    xlabel : str
        Label of the x axis (``"epoch"`` for SGD).

    Returns
    -------
    pathlib.Path
    """
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(f"costs must be a non-empty 1-D sequence; got shape {costs.shape}")
    require("matplotlib", "plotting")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    axes.plot(np.arange(1, costs.size + 1), costs, marker="." if costs.size < 30 else None)
    if np.all(costs[np.isfinite(costs)] > 0):
        axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("cost J(W, b)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    path = Path(path)
    figure.savefig(path, format="png", dpi=100)
    return path
