"""Numerics at the edges: exact limits for huge weighted inputs, gradient checks on large inputs,
divergence that stops cleanly, and float32 from end to end."""

import os
import re
import warnings
from collections import Counter

import numba
import numpy as np
import pytest

import indexnet
from indexnet.api.gradcheck import random_examples
from indexnet.fast import loops_parallel
from indexnet.kernels import activations, loops
from indexnet.kernels.activations import CROSS_ENTROPY, OUTPUT_ACTIVATIONS, SIGMOID, SOFTMAX
from indexnet.twins import python, vectorized

BACKENDS = tuple(indexnet.BACKENDS)
MODULES = {"loops": loops, "loops-parallel": loops_parallel, "vectorized": vectorized}
MODULES["python"] = python
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") == "1"

# The largest |z| per dtype: 1e300 in float64; in float32, 1e38, the largest power of ten whose
# double (the spread of a softmax row holding z and -z) is still finite.
BIG = {np.float64: 1e300, np.float32: 1e38}


def edge_z(dtype):
    """Weighted inputs at the range limits, with zeros and subnormals among them."""
    big, tiny = dtype(BIG[dtype]), np.finfo(dtype).smallest_subnormal
    return np.array([[big, -big, 0, tiny], [-big, big, -tiny, 1]], dtype=dtype)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS)
def test_activations_reach_their_exact_limits(backend, dtype, no_warnings):
    z = edge_z(dtype)
    big, tiny = z[0, 0], z[0, 3]
    expected = {
        "sigmoid": [[1, 0, 0.5, 0.5], [0, 1, 0.5, 1 / (1 + np.exp(-1.0))]],
        "tanh": [[1, -1, 0, tiny], [-1, 1, -tiny, np.tanh(1.0)]],
        "relu": [[big, 0, 0, tiny], [0, big, 0, 1]],
        "identity": z,
        "softmax": [[1, 0, 0, 0], [0, 1, 0, 0]],
    }
    for name, kind in OUTPUT_ACTIVATIONS.items():
        a = np.full_like(z, np.nan)
        MODULES[backend].activation(z, kind, a)
        want = np.asarray(expected[name], dtype=dtype)
        assert a.dtype == dtype
        # The limits (columns 0 and 1) exactly; the rest to a few units in the last place.
        np.testing.assert_array_equal(a[:, :2], want[:, :2], err_msg=name)
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(a[:, 2:], want[:, 2:], rtol=4 * eps, atol=0, err_msg=name)


@pytest.mark.parametrize("z", [1e300, -1e300, 1.7e308, -1.7e308, 0.0, 5e-324, -745.2, 710.0])
def test_scalar_sigmoid_and_softplus_never_overflow(z, no_warnings):
    s, p = activations.sigmoid(z), activations.softplus(z)
    assert 0 <= s <= 1 and np.isfinite(p)
    if abs(z) > 1e3:
        assert s == (1.0 if z > 0 else 0.0)
        assert p == max(z, 0.0)  # log(1 + e^z) -> max(z, 0) exactly


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_is_finite_and_exact_at_the_limits(backend, dtype, no_warnings):
    big = dtype(BIG[dtype])
    kernels = MODULES[backend]
    # Sigmoid output, one example: right with certainty (cost 0), wrong with certainty (cost
    # |z| exactly, since log(1 + e^|z|) = |z| in floating point), and undecided (log 2).
    z = np.array([[big, -big, 0]], dtype=dtype)
    a = np.empty_like(z)
    kernels.activation(z, SIGMOID, a)
    weights = np.zeros(1, dtype=dtype)
    for y, J in (([1, 0, 1], np.log(2.0)), ([1, 1, 0], float(big) + np.log(2.0))):
        Y = np.array([y], dtype=dtype)
        assert kernels.cost(z, a, Y, weights, 0.0, CROSS_ENTROPY, SIGMOID) == pytest.approx(
            J, rel=1e-6
        )
    # Softmax output: the likely class costs 0, the unlikely one 2|z|.
    kernels.activation(z, SOFTMAX, a)
    for y, J in (([1, 0, 0], 0.0), ([0, 1, 0], 2 * float(big)), ([0, 0, 1], float(big))):
        Y = np.array([y], dtype=dtype)
        cost = kernels.cost(z, a, Y, weights, 0.0, CROSS_ENTROPY, SOFTMAX)
        assert cost == pytest.approx(J, rel=1e-6, abs=1e-30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", BACKENDS)
def test_saturated_softmax_network_has_exact_cost_and_gradient(backend, dtype, no_warnings):
    # One input x = big and W = [1, -1, 0]: z = [big, -big, 0], through the public API.
    big = float(dtype(BIG[dtype]))
    net = indexnet.Network([1, 3], output="softmax", cost="cross_entropy", dtype=dtype)
    net.theta = [1, -1, 0, 0, 0, 0]
    X = np.full((1, 1), big, dtype=dtype)
    np.testing.assert_array_equal(net.predict(X, backend=backend), [[1, 0, 0]])
    J, grad = net.cost_and_gradient(X, [[0, 1, 0]], lam=1e-3, backend=backend)
    assert J == pytest.approx(2 * big, rel=1e-6)
    # delta = a - y = [1, -1, 0]; dW = delta x + lam W, db = delta.
    want = np.array([big + 1e-3, -big - 1e-3, 0, 1, -1, 0], dtype=dtype)
    np.testing.assert_array_equal(grad, want)
    J, grad = net.cost_and_gradient(X, [[1, 0, 0]], backend=backend)
    assert J == 0 and not grad.any()


WIDEST_WARNS = "z - max(z) overflows to -inf with a RuntimeWarning: the python backend runs \
the loop source on NumPy scalars, which warn"


def widest(test_nan):
    """Backend x dtype cases for a softmax row [max, -max, 0], with the known failures marked."""
    cases = []
    for backend in BACKENDS:
        for dtype in (np.float64, np.float32):
            marks = []
            if backend == "python" or (JIT_DISABLED and backend != "vectorized"):
                marks = [pytest.mark.xfail(strict=True, raises=RuntimeWarning, reason=WIDEST_WARNS)]
            cases.append(pytest.param(backend, dtype, marks=marks))
    return cases


@pytest.mark.parametrize("backend,dtype", widest(test_nan=False))
def test_softmax_of_the_widest_row_is_exact_and_quiet(backend, dtype, no_warnings):
    top = np.finfo(dtype).max
    z = np.array([[top, -top, 0]], dtype=dtype)
    a = np.empty_like(z)
    MODULES[backend].activation(z, SOFTMAX, a)
    np.testing.assert_array_equal(a, [[1, 0, 0]])


@pytest.mark.parametrize("backend,dtype", widest(test_nan=True))
def test_softmax_cross_entropy_of_the_widest_row_is_exact(backend, dtype, no_warnings):
    top = np.finfo(dtype).max
    z = np.array([[top, -top, 0]], dtype=dtype)
    a, Y = np.array([[1, 0, 0]], dtype=dtype), np.array([[1, 0, 0]], dtype=dtype)
    J = MODULES[backend].cost(z, a, Y, np.zeros(1, dtype), 0.0, CROSS_ENTROPY, SOFTMAX)
    assert J == 0, J


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_no_weight_decay_means_huge_weights_cost_nothing(backend):
    net = indexnet.Network([1, 3], output="softmax", cost="cross_entropy")
    net.theta = [1e300, -1e300, 0, 0, 0, 0]
    J, grad = net.cost_and_gradient([[1.0]], [[1, 0, 0]], lam=0.0, backend=backend)
    assert J == 0, J
    assert not grad.any()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "hidden,output,cost",
    [
        ("sigmoid", "sigmoid", "squared"),
        ("tanh", "identity", "squared"),
        ("relu", "sigmoid", "cross_entropy"),
        ("sigmoid", "softmax", "cross_entropy"),
    ],
)
def test_gradient_check_passes_for_inputs_scaled_by_1e3(backend, hidden, output, cost):
    net = indexnet.Network([4, 5, 3], hidden=hidden, output=output, cost=cost, seed=0)
    X, Y = random_examples(net, 6, seed=0)
    check = indexnet.check_gradient(net, 1e3 * X, Y, lam=1e-4, backend=backend)
    assert np.abs(check.analytic).max() > 0
    assert check.relative_error < 1e-7


def diverging():
    """A network that alpha = 1e6 drives to overflow within a few dozen updates."""
    return indexnet.Network([3, 4, 2], hidden="tanh", output="identity", seed=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_descent_that_diverges_keeps_the_last_finite_parameters(backend):
    net = diverging()
    X, Y = random_examples(net, 8, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = indexnet.gradient_descent(net, X, Y, alpha=1e6, iterations=100, backend=backend)
    divergence = [w for w in caught if issubclass(w.category, indexnet.DivergenceWarning)]
    assert len(divergence) == 1 and "NaN or infinite" in str(divergence[0].message)
    assert result.diverged and result.message == str(divergence[0].message)
    assert 0 < result.iterations < 100 and len(result.costs) == result.iterations
    assert np.isfinite(result.costs).all() and np.isfinite(net.theta).all()
    # The parameters kept are those of the last finite cost: the same run stopped one update
    # earlier ends there exactly.
    replay = diverging()
    if result.iterations > 1:
        again = indexnet.gradient_descent(
            replay, X, Y, alpha=1e6, iterations=result.iterations - 1, backend=backend
        )
        assert not again.diverged
    np.testing.assert_array_equal(net.theta, replay.theta)
    J, grad = net.cost_and_gradient(X, Y, backend=backend)
    assert np.isfinite(J) and np.isfinite(grad).all() and J == pytest.approx(result.costs[-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_that_diverges_keeps_finite_parameters(backend):
    net = diverging()
    X, Y = random_examples(net, 8, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = indexnet.sgd(net, X, Y, alpha=1e6, epochs=100, batch_size=3, backend=backend)
    divergence = [w for w in caught if issubclass(w.category, indexnet.DivergenceWarning)]
    assert len(divergence) == 1 and result.diverged and "stopped at epoch" in result.message
    assert np.isfinite(result.costs).all() and np.isfinite(net.theta).all()
    J, grad = net.cost_and_gradient(X, Y, backend=backend)
    assert np.isfinite(J) and np.isfinite(grad).all()


# -- float32 from end to end ----------------------------------------------------------------


def twins(hidden="tanh", output="sigmoid", cost="squared", sizes=(4, 6, 3), m=9):
    """A float64 network, a float32 one with the same (rounded) parameters, and float32 data."""
    net32 = indexnet.Network(sizes, hidden=hidden, output=output, cost=cost, dtype=np.float32)
    rng = np.random.default_rng(0)
    net32.theta = net32.theta + rng.normal(0, 0.3, net32.theta.shape).astype(np.float32)
    net64 = indexnet.Network(sizes, hidden=hidden, output=output, cost=cost)
    net64.theta = net32.theta
    X, Y = random_examples(net32, m, seed=1)
    return net32, net64, X, Y


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "hidden,output,cost",
    [("tanh", "sigmoid", "squared"), ("sigmoid", "softmax", "cross_entropy")],
)
def test_float32_stays_float32_and_agrees_with_float64(backend, hidden, output, cost):
    net32, net64, X, Y = twins(hidden, output, cost)
    options = {"lam": 1e-2, "backend": backend}
    if hidden == "sigmoid":
        options.update(beta=0.5, rho=0.2)
    J32, grad32 = net32.cost_and_gradient(X, Y, **options)
    J64, grad64 = net64.cost_and_gradient(X, Y, **options)
    trace = net32.trace(X, Y, **options)
    P32, P64 = net32.predict(X, backend=backend), net64.predict(X, backend=backend)
    arrays = [grad32, P32, trace.grad, *trace.grad_W, *trace.grad_b]
    arrays += [a for a in trace.z + trace.a + trace.delta if a is not None]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert net32.theta.dtype == np.float32
    assert abs(J32 - J64) <= 1e-5 * abs(J64)
    np.testing.assert_allclose(P32, P64, rtol=1e-5, atol=1e-6)
    scale = np.abs(grad64).max()
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["gd", "sgd", "lbfgs"])
def test_float32_training_stays_float32_and_tracks_float64(backend, method):
    net32, net64, X, Y = twins(m=16)
    options = {"iterations": 20} if method != "sgd" else {"epochs": 5, "batch_size": 4}
    if method != "lbfgs":
        options["alpha"] = 0.5
    r32 = indexnet.train(net32, X, Y, method, backend=backend, **options)
    r64 = indexnet.train(net64, X, Y, method, backend=backend, **options)
    assert net32.theta.dtype == np.float32 and not r32.diverged
    assert all(np.isfinite(r32.costs))
    # L-BFGS's line searches may round their way to other steps, so it is held to its end.
    if method == "lbfgs":
        assert r32.final_cost == pytest.approx(r64.final_cost, rel=1e-3)
    else:
        assert r32.iterations == r64.iterations
        np.testing.assert_allclose(r32.costs, r64.costs, rtol=1e-4)
        np.testing.assert_allclose(net32.theta, net64.theta, rtol=1e-3, atol=1e-4)


@pytest.mark.skipif(JIT_DISABLED, reason="no kernel is compiled with NUMBA_DISABLE_JIT=1")
def test_loops_backend_is_compiled_for_float32_arrays():
    net32, _, X, Y = twins()
    net32.cost_and_gradient(X, Y)
    arrays = [re.findall(r"Array\((\w+),", str(s)) for s in loops.cost_and_gradient.signatures]
    # theta, X, Y, work and grad in float32; the layer sizes in int64.
    assert {"float32": 5, "int64": 1} in [Counter(a) for a in arrays], arrays


@pytest.mark.skipif(JIT_DISABLED, reason="no kernel is compiled with NUMBA_DISABLE_JIT=1")
def test_float32_kernels_do_no_float64_arithmetic():
    rng = np.random.default_rng(0)
    m, s, t = 24, 20, 16  # above loops.SMALL, so the blocked sums run
    f = np.float32
    W, b, a = rng.normal(size=(t, s)).astype(f), np.zeros(t, f), rng.normal(size=(m, s)).astype(f)
    d, z = rng.normal(size=(m, t)).astype(f), rng.normal(size=(m, s)).astype(f)
    rho_hat = np.full(s, 0.3, f)
    calls = {
        loops.weighted_input: (W, b, a, np.empty((m, t), f)),
        loops.hidden_delta: (W, d, z, np.tanh(z), 1, 0.0, 0.1, rho_hat, np.empty((m, s), f)),
        loops.weight_gradient: (a, d, W, 0.1, np.empty((t, s), f)),
        loops.activation: (z, 0, np.empty((m, s), f)),
    }
    widened = {}
    for kernel, args in calls.items():
        # A kernel loaded from the cache has no IR to inspect: its own code is compiled afresh,
        # with its options. The kernels it calls (cached or not) are linked into its module with
        # their IR, so the count covers them too.
        options = {k: v for k, v in kernel.targetoptions.items() if k not in ("cache", "nopython")}
        fresh = numba.njit(**options)(kernel.py_func)
        fresh(*args)
        ir = fresh.inspect_llvm(fresh.signatures[-1])
        widened[kernel.py_func.__name__] = len(re.findall(r"fpext float", ir))
    assert all(count == 0 for count in widened.values()), f"fpext float -> double: {widened}"
