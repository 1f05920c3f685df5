"""The blocked product against BLAS over awkward shapes, and the host's choice of blocking."""

import numba
import numpy as np
import pytest

from indexnet.fast import blocking, compiler, micro


def test_blocking_follows_the_compile_target():
    features = compiler.target_features()
    assert compiler.VECTOR_REGISTERS in (16, 32)
    if "avx512f" in features:
        assert compiler.VECTOR_REGISTERS == 32
    elif "avx2" in features:
        assert compiler.VECTOR_REGISTERS == 16
    assert blocking.ROWS == (4 if compiler.VECTOR_REGISTERS >= 32 else 2)
    bits = 512 if "avx512f" in features else 256 if {"avx2", "fma"} <= features else 0
    assert compiler.VECTOR_BITS == bits
    for itemsize in (8, 4):
        MR, NV = micro.tile_shape(itemsize)
        # the sums, the vectors of B and the broadcast number of A fit the registers
        assert MR * NV + NV + 1 <= compiler.VECTOR_REGISTERS
        if blocking.PACKED:
            assert blocking.blocks(itemsize)[:2] == (MR, NV * bits // (8 * itemsize))
        # the narrow tile: its sums, the vectors of B and one broadcast number a row of A
        MR, NV = micro.rows_tile_shape(itemsize)
        assert MR * NV + NV + MR <= compiler.VECTOR_REGISTERS


def test_an_avx2_target_gets_its_own_blocking(monkeypatch):
    monkeypatch.setattr(compiler.config, "CPU_FEATURES", "+avx,+avx2,+fma,-avx512f")
    assert (compiler.vector_registers(), compiler.vector_bits()) == (16, 256)
    monkeypatch.setattr(compiler.config, "CPU_FEATURES", "+avx,+avx2,+fma,+avx512f")
    assert (compiler.vector_registers(), compiler.vector_bits()) == (32, 512)
    monkeypatch.setattr(compiler.config, "CPU_FEATURES", "+sse4.2,-avx2,-fma,-avx512f")
    assert compiler.vector_bits() == 0


SHAPES = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 5, 1), (7, 9, 13), (66, 70, 129), (130, 5, 64)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, columns, depth", SHAPES)
def test_products_matches_blas(rows, columns, depth, dtype):
    rng = np.random.default_rng(rows * 1000 + columns * 10 + depth)
    P = rng.standard_normal((rows, depth)).astype(dtype)
    Q = rng.standard_normal((columns, depth)).astype(dtype)
    out = np.full((rows, columns), np.nan, dtype)
    blocking.products(P, Q, out)
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
    blocking.products(P[3:30], Q, out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P[3:30] @ Q.T, rtol=tol, atol=tol * 37)
    assert np.isnan(wide[:3]).all() and np.isnan(wide[30:]).all()
    assert np.isnan(wide[:, :2]).all() and np.isnan(wide[:, 13:]).all()


KC = max(blocking.KC_64, blocking.KC_32)
packed = pytest.mark.skipif(not blocking.PACKED, reason="no packed product on this target")
# Past one tile, one MC block of rows, KC steps and NC columns, none a multiple of them.
PACKED_SHAPES = [
    (64, 64, 1),
    (65, 97, 5),
    (131, 70, KC + 1),
    (blocking.MC + 7, blocking.NC + 9, 3),
]


@packed
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, columns, depth", PACKED_SHAPES)
def test_packed_products_matches_blas(rows, columns, depth, dtype):
    assert blocking.packs(rows, columns, depth)
    rng = np.random.default_rng(rows + columns + depth)
    P = rng.standard_normal((rows, depth)).astype(dtype)
    Q = rng.standard_normal((columns, depth)).astype(dtype)
    out = np.full((rows, columns), np.nan, dtype)
    blocking.products_packed(P, Q, out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P @ Q.T, rtol=tol, atol=tol * depth)


@packed
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row_contiguous", [True, False])
def test_packed_products_on_transposes_and_views(dtype, row_contiguous):
    """Operands packed where they lie (transposes, as the kernels pass them), and an out that
    is a view: with a wider row stride, or a transpose (no direct tiles)."""
    rng = np.random.default_rng(2)
    P = rng.standard_normal((KC + 3, 100)).astype(dtype).T
    Q = rng.standard_normal((KC + 3, 90)).astype(dtype).T
    if row_contiguous:
        wide = np.full((110, 95), np.nan, dtype)
        out = wide[5:105, 2:92]
    else:
        wide = np.full((95, 110), np.nan, dtype)
        out = wide[2:92, 5:105].T
    blocking.products_packed(P, Q, out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P @ Q.T, rtol=tol, atol=tol * P.shape[1])
    inside = np.zeros(wide.shape, bool)
    (inside[5:105, 2:92] if row_contiguous else inside[2:92, 5:105])[...] = True
    assert np.isnan(wide[~inside]).all()


@packed
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_packed_products_of_strided_views_and_of_a_share_of_rows(dtype):
    """Operands that are neither C-ordered nor a transpose of one (packed as they lie), and
    rows ``first..last-1`` only, as a thread of loops-parallel asks: the other rows untouched."""
    rng = np.random.default_rng(3)
    P = rng.standard_normal((2 * (KC + 3), 101)).astype(dtype)[::2, 1:].T  # strides (8, 1616)
    Q = rng.standard_normal((90, 2 * (KC + 3))).astype(dtype)[:, ::2]
    out = np.full((100, 90), np.nan, dtype)
    blocking.products_packed(P, Q, out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, P @ Q.T, rtol=tol, atol=tol * P.shape[1])
    out[...] = np.nan
    blocking.products_packed_rows(P, Q, out, np.int64(17), np.int64(83))
    np.testing.assert_allclose(out[17:83], P[17:83] @ Q.T, rtol=tol, atol=tol * P.shape[1])
    assert np.isnan(out[:17]).all() and np.isnan(out[83:]).all()


@packed
def test_the_packed_product_compiles_once_for_arrays_and_their_transposes():
    """A transpose reaches the packed product's body as the C-ordered array it transposes, with
    a flag that is a plain bool: one compiled body (and one copy in each kernel that calls it)
    for both, not one per layout or per flag."""
    rng = np.random.default_rng(4)
    P, Q = rng.standard_normal((64, 70)), rng.standard_normal((65, 70))
    for P_, Q_ in [(P, Q), (P.T.copy().T, Q), (P, Q.T.copy().T), (P.T.copy().T, Q.T.copy().T)]:
        out = np.empty((64, 65))
        blocking.products_packed(P_, Q_, out)
        np.testing.assert_allclose(out, P @ Q.T, rtol=1e-12)
    signatures = blocking._products_packed.signatures
    assert not [s for s in signatures if "F" in (s[0].layout, s[2].layout)], signatures
    C_ordered = numba.types.float64[:, ::1]
    float64 = [s for s in signatures if s[0] == s[2] == s[4] == C_ordered]
    assert len(float64) == 1, float64
    assert float64[0][1] == float64[0][3] == numba.types.boolean


# Columns from NARROW_MIN to past one tile of the narrow product, rows not a multiple of a tile.
NARROW_SHAPES = [
    (blocking.PACKED_MIN_ROWS, blocking.NARROW_MIN, 1),
    (37, 25, 64),
    (203, blocking.PACKED_MIN - 1, 9),
]


@packed
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, columns, depth", NARROW_SHAPES)
def test_narrow_products_matches_blas(rows, columns, depth, dtype):
    P = np.random.default_rng(rows + columns).standard_normal((rows, depth)).astype(dtype)
    assert blocking.narrows(rows, columns, P) and not blocking.packs(rows, columns, depth)
    Q = np.random.default_rng(depth).standard_normal((columns, depth)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    # out as its own array (whole tiles summed into it) and as a view with a wider row stride
    wide = np.full((rows + 2, columns + 7), np.nan, dtype)
    for out in (np.full((rows, columns), np.nan, dtype), wide[1:-1, 3:-4]):
        blocking.products(P, Q, out)
        np.testing.assert_allclose(out, P @ Q.T, rtol=tol, atol=tol * depth)
    assert np.isnan(wide[[0, -1]]).all() and np.isnan(wide[:, [0, 1, 2, -4, -3, -2, -1]]).all()


def test_narrow_products_need_rows_that_lie_contiguously():
    P = np.ones((100, 40))
    assert blocking.narrows(100, 25, P) == blocking.PACKED
    assert not blocking.narrows(100, 25, P.T.copy().T)  # columns of P contiguous instead
    assert not blocking.narrows(100, blocking.NARROW_MIN - 1, P)
    assert not blocking.narrows(blocking.PACKED_MIN_ROWS - 1, 25, P)


def test_small_products_take_the_blocked_loops():
    assert not blocking.packs(blocking.PACKED_MIN_ROWS - 1, 1000, 1000)
    assert not blocking.packs(1000, blocking.PACKED_MIN - 1, 1000)
    assert blocking.packs(1000, 1000, 1000) == blocking.PACKED


def test_transpose_odd_shape():
    X = np.arange(17 * 35, dtype=np.float64).reshape(17, 35)
    XT = np.empty((35, 17))
    blocking.transpose(X, XT)
    np.testing.assert_array_equal(XT, X.T)
