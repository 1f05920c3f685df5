"""The blocked product against BLAS over awkward shapes, and the host's choice of blocking."""

import numpy as np
import pytest

from indexnet import _blocking, _jit


def test_blocking_follows_the_compile_target():
    features = _jit.target_features()
    assert _jit.VECTOR_REGISTERS in (16, 32)
    if "avx512f" in features:
        assert _jit.VECTOR_REGISTERS == 32
    elif "avx2" in features:
        assert _jit.VECTOR_REGISTERS == 16
    assert _blocking.ROWS == (4 if _jit.VECTOR_REGISTERS >= 32 else 2)


def test_an_avx2_target_gets_its_own_blocking(monkeypatch):
    monkeypatch.setattr(_jit.config, "CPU_FEATURES", "+avx,+avx2,+fma,-avx512f")
    assert _jit.vector_registers() == 16
    monkeypatch.setattr(_jit.config, "CPU_FEATURES", "+avx,+avx2,+fma,+avx512f")
    assert _jit.vector_registers() == 32


SHAPES = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 5, 1), (7, 9, 13), (66, 70, 129), (130, 5, 64)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, columns, depth", SHAPES)
def test_products_matches_blas(rows, columns, depth, dtype):
    rng = np.random.default_rng(rows * 1000 + columns * 10 + depth)
    P = rng.standard_normal((rows, depth)).astype(dtype)
    Q = rng.standard_normal((columns, depth)).astype(dtype)
    out = np.full((rows, columns), np.nan, dtype)
    _blocking.products(P, Q, out)
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P @ Q.T, rtol=tol, atol=tol * depth)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_on_views(dtype):
    """Row stretches of P and out, as loops_parallel passes them; out with a wider row stride."""
    rng = np.random.default_rng(1)
    P = rng.standard_normal((40, 37)).astype(dtype)
    Q = rng.standard_normal((11, 37)).astype(dtype)
    wide = np.full((40, 20), np.nan, dtype)
    out = wide[3:30, 2:13]
    _blocking.products(P[3:30], Q, out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P[3:30] @ Q.T, rtol=tol, atol=tol * 37)
    assert np.isnan(wide[:3]).all() and np.isnan(wide[30:]).all()
    assert np.isnan(wide[:, :2]).all() and np.isnan(wide[:, 13:]).all()


def test_transpose_odd_shape():
    X = np.arange(17 * 35, dtype=np.float64).reshape(17, 35)
    XT = np.empty((35, 17))
    _blocking.transpose(X, XT)
    np.testing.assert_array_equal(XT, X.T)
