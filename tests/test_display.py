"""display_network on synthetic weights, and the PNG writers."""

import sys

import numpy as np
import pytest

from indexnet.checks.extras import MissingExtraError
from indexnet.data import display


@pytest.mark.parametrize(
    ("n", "shape"), [(1, (1, 1)), (25, (5, 5)), (10, (3, 4)), (12, (3, 4)), (30, (5, 6))]
)
def test_grid_shape_follows_display_network(n, shape):
    rows, cols = display.grid_shape(n)
    assert (rows, cols) == shape
    assert rows * cols >= n > (rows - 1) * cols


def _one_pixel_features(n_features, side, rng):
    """Weights whose feature i is a single bright pixel at a random place, and the places."""
    places = rng.integers(side * side, size=n_features)
    W = np.zeros((n_features, side * side))
    W[np.arange(n_features), places] = 1.0
    return W, places


def test_display_network_puts_feature_i_in_tile_i():
    rng = np.random.default_rng(0)
    W, places = _one_pixel_features(10, 4, rng)
    grid = display.display_network(W, padding=2)
    rows, cols = display.grid_shape(10)
    assert grid.shape == (2 + rows * (4 + 2), 2 + cols * (4 + 2))
    for i, place in enumerate(places):
        top, left = 2 + (i // cols) * 6, 2 + (i % cols) * 6
        tile = grid[top : top + 4, left : left + 4]
        assert np.unravel_index(tile.argmax(), tile.shape) == divmod(place, 4)
        assert tile.max() == 1.0
    # Everything outside the tiles, and the two unused tiles, is background.
    inside = np.zeros(grid.shape, dtype=bool)
    for i in range(10):
        top, left = 2 + (i // cols) * 6, 2 + (i % cols) * 6
        inside[top : top + 4, left : left + 4] = True
    assert np.all(grid[~inside] == -1)


def test_display_network_scales_each_tile_to_its_largest_magnitude():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 9)) * np.array([1e-3, 1, 10, 1e2, 1e3, 1e4])[:, None]
    grid = display.display_network(W, padding=1)
    tiles = [grid[1:4, 1 + 4 * j : 4 + 4 * j] for j in range(3)]
    for tile in tiles:
        assert np.abs(tile).max() == pytest.approx(1.0)
    assert grid.min() >= -1 and grid.max() <= 1
    # Scaling every weight changes nothing; negating them negates every tile.
    np.testing.assert_allclose(display.display_network(3.5 * W, padding=1), grid)
    flipped = display.display_network(-W, padding=1)
    np.testing.assert_allclose(flipped[1:4, 1:4], -grid[1:4, 1:4])


def test_display_network_rectangular_patches_and_zero_weights():
    grid = display.display_network(np.zeros((4, 6)), patch_shape=(2, 3), padding=0)
    assert grid.shape == (4, 6)
    assert np.array_equal(grid, np.zeros((4, 6)))
    with pytest.raises(ValueError, match="patch_shape"):
        display.display_network(np.zeros((4, 6)))
    with pytest.raises(ValueError, match="patch_shape"):
        display.display_network(np.zeros((4, 6)), patch_shape=(2, 2))
    with pytest.raises(ValueError, match="2-D"):
        display.display_network(np.zeros(16))
    with pytest.raises(ValueError, match="finite"):
        display.display_network(np.full((1, 4), np.nan))


def test_save_image_writes_a_magnified_grayscale_png(tmp_path):
    image_module = pytest.importorskip("matplotlib.image")
    image = np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]])
    path = display.save_image(image, tmp_path / "grid.png", scale=3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image_module.imread(path)
    assert pixels.shape[:2] == (6, 9)
    gray = pixels[..., :3].mean(axis=-1)
    assert np.all(gray[:3, :3] == 0) and np.all(gray[:3, 3:6] == 1)
    assert 0.3 < gray[0, 6] < 0.7


def test_plot_loss_curve_writes_a_png(tmp_path):
    image_module = pytest.importorskip("matplotlib.image")
    path = display.plot_loss_curve(np.geomspace(1.0, 1e-3, 50), tmp_path / "loss.png", title="t")
    assert image_module.imread(path).shape[:2] == (400, 600)
    with pytest.raises(ValueError, match="costs"):
        display.plot_loss_curve([], tmp_path / "empty.png")


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'indexnet\[plot\]'"):
        display.plot_loss_curve([1.0, 0.5], tmp_path / "loss.png")
    with pytest.raises(MissingExtraError, match=r"pip install 'indexnet\[plot\]'"):
        display.save_image(np.zeros((2, 2)), tmp_path / "grid.png")
    assert not list(tmp_path.iterdir())
