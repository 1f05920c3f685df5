"""The equations' other paths (indexnet.fast.large) compute what the loops compute: each is
called directly, at sizes where the loop kernel would run its own loop, and compared with the
NumPy twin and with the loop kernel itself."""

import numpy as np
import pytest

from indexnet.fast import large
from indexnet.kernels import loops
from indexnet.kernels.activations import IDENTITY, RELU, SIGMOID, TANH
from indexnet.twins import vectorized

SIZES = [(1, 3, 2), (5, 7, 3), (9, 4, 6), (33, 17, 11)]  # m, s_l, s_{l+1}


def arrays(m, s, s_next, dtype):
    rng = np.random.default_rng(m * 100 + s)
    W = rng.normal(size=(s_next, s)).astype(dtype)
    b = rng.normal(size=s_next).astype(dtype)
    a = rng.uniform(0, 1, (m, s)).astype(dtype)
    delta_next = rng.normal(size=(m, s_next)).astype(dtype)
    return W, b, a, delta_next


def close(dtype):
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,s,s_next", SIZES)
def test_each_path_computes_its_equation(m, s, s_next, dtype):
    W, b, a, delta_next = arrays(m, s, s_next, dtype)
    tolerance = close(dtype)

    z, z_loop, z_twin = (np.empty((m, s_next), dtype) for _ in range(3))
    large.weighted_input(W, b, a, z)
    loops.weighted_input(W, b, a, z_loop)
    vectorized.weighted_input(W, b, a, z_twin)
    np.testing.assert_allclose(z, z_twin, **tolerance)
    np.testing.assert_allclose(z, z_loop, **tolerance)

    sums = np.empty((m, s), dtype)
    large.back_sums(W, delta_next, sums)
    np.testing.assert_allclose(sums, delta_next @ W, **tolerance)
    delta, delta_twin = np.empty((m, s), dtype), np.empty((m, s), dtype)
    z_l = a.copy()  # any z: f' of the sigmoid reads a
    rho_hat = np.full(s, 0.3, dtype)
    loops.hidden_delta(W, delta_next, z_l, a, SIGMOID, 0.0, 0.05, rho_hat, delta)
    vectorized.hidden_delta(W, delta_next, z_l, a, SIGMOID, 0.0, 0.05, rho_hat, delta_twin)
    np.testing.assert_allclose(sums * a * (1 - a), delta_twin, **tolerance)

    for path in (large.weight_gradient, large.weight_gradient_few, large.weight_gradient_blocked):
        dW, dW_twin = np.empty_like(W), np.empty_like(W)
        path(a, delta_next, W, 0.1, dW)
        vectorized.weight_gradient(a, delta_next, W, 0.1, dW_twin)
        np.testing.assert_allclose(dW, dW_twin, **tolerance, err_msg=path.__name__)

    db, db_loop = np.empty(s_next, dtype), np.empty(s_next, dtype)
    large.bias_gradient(delta_next, db)
    loops._bias_gradient.py_func(delta_next[:, :4], db_loop[:4])  # the loop, i outside
    np.testing.assert_allclose(db, delta_next.mean(axis=0), **tolerance)
    np.testing.assert_allclose(db[:4], db_loop[:4], **tolerance)


def test_the_weight_gradients_choice_is_the_one_the_loop_kernel_made():
    # Blocked past SMALL multiply-adds, k outside for fewer examples than units, else the loop.
    assert large.takes_weight_gradient(1, 3, 2)  # one example: SGD
    assert not large.takes_weight_gradient(64, 3, 1)
    assert large.takes_weight_gradient(100, 64, 30)  # 192,000 multiply-adds


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_weight_gradient_with_few_columns_takes_the_packed_product_of_its_transpose(dtype):
    from indexnet.fast import blocking

    m, s, s_next = blocking.KC_64 + 9, blocking.PACKED_MIN_ROWS + 1, blocking.PACKED_MIN + 3
    if not blocking.packs(s, s_next, m):
        pytest.skip("no packed product for this target")
    assert not blocking.packs(s_next, s, m)  # dW itself has too few columns for the tiles
    W, _, a, delta_next = arrays(m, s, s_next, dtype)
    dW_twin = np.empty_like(W)
    vectorized.weight_gradient(a, delta_next, W, 0.1, dW_twin)
    for path in (large.weight_gradient_transposed, large.weight_gradient, loops.weight_gradient):
        dW = np.empty_like(W)
        path(a, delta_next, W, 0.1, dW)
        np.testing.assert_allclose(dW, dW_twin, **close(dtype), err_msg=path.__name__)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", [SIGMOID, TANH, RELU, IDENTITY])
def test_the_activation_of_c_ordered_arrays_runs_flat_and_computes_the_same(kind, dtype):
    rng = np.random.default_rng(kind)
    wide = rng.normal(0, 4, (33, 40)).astype(dtype)
    wide[0, :4] = [np.nan, np.inf, -np.inf, -1e4]
    strided = wide[:, :25]  # rows 40 apart: the loop along rows
    z = np.ascontiguousarray(strided)
    assert large.flattens(z, z) and not large.flattens(strided, z)
    assert not large.flattens(z[:2], z[:2])  # 50 elements: below FLAT_MIN
    assert not large.flattens(wide[:1], wide[:1])  # one row: already one run
    a, a_rows, a_twin = (np.empty_like(z) for _ in range(3))
    loops.activation(z, kind, a)  # flat
    loops.activation(strided, kind, a_rows)
    vectorized.activation(z, kind, a_twin)
    tolerance = {"rtol": 4 * np.finfo(dtype).eps, "atol": 0}
    np.testing.assert_allclose(a, a_rows, **tolerance)
    np.testing.assert_allclose(a, a_twin, **tolerance)
    in_place = z.copy()
    loops.activation(in_place, kind, in_place)  # a is z: each element read before written
    np.testing.assert_array_equal(in_place, a)
