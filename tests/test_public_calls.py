"""The public calls on their fast path: arrays the kernels can take as they are go straight in,
their values checked in compiled code; every other input is converted first. Both paths must
give the same numbers and the same refusals."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import indexnet
from indexnet.api import bench

SIZES = [3, 4, 2]


@pytest.fixture
def problem():
    rng = np.random.default_rng(5)
    return indexnet.Network(SIZES, seed=2), rng.uniform(0, 1, (6, 3)), rng.uniform(0, 1, (6, 2))


def _variants(A):
    """The same numbers as arrays the kernels cannot take as they are (but a read-only one),
    and as a list."""
    readonly = A.copy()
    readonly.flags.writeable = False
    return [np.asfortranarray(A), A.astype(np.float32).astype(np.float64).tolist(), readonly,
            np.repeat(A, 2, axis=1)[:, ::2], A[::-1].copy()[::-1]]  # fmt: skip


@pytest.mark.parametrize("backend", ["loops", "loops-parallel", "vectorized", "python"])
def test_ready_arrays_and_converted_inputs_give_the_same_numbers(problem, backend):
    net, X, Y = problem
    J, grad = net.cost_and_gradient(X, Y, lam=1e-3, backend=backend)
    out = net.predict(X, backend=backend)
    for X_other, Y_other in zip(_variants(X), _variants(Y), strict=True):
        J_other, grad_other = net.cost_and_gradient(X_other, Y_other, lam=1e-3, backend=backend)
        assert J_other == pytest.approx(J, rel=1e-6)  # the list went through float32
        np.testing.assert_allclose(grad_other, grad, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(net.predict(X_other, backend=backend), out, rtol=1e-6)


def _misaligned(A):
    """A copy of ``A`` whose data starts one byte past an aligned address."""
    raw = np.zeros(A.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=A.dtype, count=A.size, offset=1).reshape(A.shape)
    out[...] = A
    return out


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_typed_entries_take_other_layouts_through_the_checks_never_compiling_for_them(dtype):
    """The compiled entries of the loops backend are typed for C-ordered, aligned, writeable
    arrays of the network's dtype; every other array reaches them as a checked copy, with the
    same numbers, and never makes them compile a second signature."""
    rng = np.random.default_rng(3)
    net = indexnet.Network(SIZES, seed=2, dtype=dtype)
    X, Y = rng.uniform(0, 1, (6, 3)).astype(dtype), rng.uniform(0, 1, (6, 2)).astype(dtype)
    J, grad = net.cost_and_gradient(X, Y, lam=1e-3)
    out = net.predict(X)
    other = np.float32 if dtype == np.float64 else np.float64
    for X_other, Y_other in [
        *zip(_variants(X), _variants(Y), strict=True),
        (_misaligned(X), _misaligned(Y)),
        (X.astype(X.dtype.newbyteorder(">")), Y.astype(Y.dtype.newbyteorder(">"))),
        (np.asmatrix(X), np.asmatrix(Y)),
        (X.astype(other), Y.astype(other)),
    ]:
        J_other, grad_other = net.cost_and_gradient(X_other, Y_other, lam=1e-3)
        assert J_other == pytest.approx(J, rel=1e-5)
        np.testing.assert_allclose(grad_other, grad, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(net.predict(X_other), out, rtol=1e-5)
    for entry in (net._typed("cost_and_gradient"), net._typed("predict")):
        if hasattr(entry, "overloads"):  # not under NUMBA_DISABLE_JIT
            assert len(entry.overloads) == 1, entry.overloads.keys()


def test_one_row_is_taken_whatever_its_row_stride(problem):
    """NumPy calls a single row C-contiguous whatever its stride between rows; so do the
    entries, and a broadcast row gives the numbers of its copy."""
    net, X, Y = problem
    row, target = np.broadcast_to(X[2], (1, 3)), np.broadcast_to(Y[2], (1, 2))
    assert row.strides[0] == 0 and row.flags.c_contiguous
    J, grad = net.cost_and_gradient(row, target, lam=1e-3)
    J_copy, grad_copy = net.cost_and_gradient(row.copy(), target.copy(), lam=1e-3)
    assert J == J_copy
    np.testing.assert_array_equal(grad, grad_copy)
    np.testing.assert_array_equal(net.predict(row), net.predict(row.copy()))


def test_arrays_that_do_not_fit_are_refused_by_name_on_the_fast_path(problem):
    net, X, Y = problem
    with pytest.raises(ValueError, match=r"X must have 3 columns \(sizes\[0\]"):
        net.cost_and_gradient(X[:, :2].copy(), Y)
    with pytest.raises(ValueError, match=r"Y must have 2 columns \(sizes\[-1\]"):
        net.cost_and_gradient(X, Y[:, :1].copy())
    with pytest.raises(ValueError, match=r"Y must have one row per example of X \(6 rows\)"):
        net.cost_and_gradient(X, Y[:5].copy())
    with pytest.raises(ValueError, match="X must hold at least one example"):
        net.cost_and_gradient(X[:0].copy(), Y[:0].copy())
    with pytest.raises(ValueError, match=r"X must have 3 columns \(sizes\[0\]"):
        net.predict(X[:, :2].copy())
    with pytest.raises(ValueError, match="X must hold at least one example"):
        net.predict(X[:0].copy())


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nan_in_a_ready_array_is_named_with_its_place(problem, backend, bad):
    net, X, Y = problem
    X, Y = X.copy(), Y.copy()
    X[4, 1] = bad
    with pytest.raises(ValueError, match=r"X must be finite; got .* at row 4, column 1"):
        net.cost_and_gradient(X, Y, backend=backend)
    with pytest.raises(ValueError, match=r"X must be finite; got .* at row 4, column 1"):
        net.predict(X, backend=backend)
    X[4, 1] = 0.5
    Y[2, 0] = bad
    with pytest.raises(ValueError, match=r"Y must be finite; got .* at row 2, column 0"):
        net.cost_and_gradient(X, Y, backend=backend)


def test_a_result_that_overflows_is_refused_on_the_fast_path(problem):
    net, X, Y = problem
    net.theta = np.full_like(net.theta, 1e200)
    with pytest.raises(ValueError, match="overflowed to inf or NaN although every input is finite"):
        net.cost_and_gradient(X, Y, lam=1.0)


def test_gradient_descent_in_one_compiled_call_equals_the_update_written_out(problem):
    net, X, Y = problem
    by_hand = net.copy()
    result = indexnet.gradient_descent(net, X, Y, alpha=0.3, iterations=6, lam=1e-3)
    costs = []
    for _ in range(6):
        J, grad = by_hand.cost_and_gradient(X, Y, lam=1e-3)
        costs.append(J)
        by_hand.theta = by_hand.theta - 0.3 * grad
    np.testing.assert_allclose(result.costs, costs, rtol=1e-12)
    np.testing.assert_allclose(net.theta, by_hand.theta, rtol=1e-12)


def test_the_machine_record_names_the_instruction_set_and_a_proxy():
    here = bench.compiled_for()
    assert here["isa"] in ("AVX-512", "AVX2", "SSE/other")
    assert here["proxy"] == bool(
        os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES")
    )
    code = "import json; from indexnet.api import bench; print(json.dumps(bench.compiled_for()))"
    environment = {**os.environ, **bench.avx2_proxy()}
    shown = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(shown) == {"numba_cpu": "haswell", "isa": "AVX2", "vector_bits": 256,
                                 "proxy": True}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_entries_own_buffers_and_the_threads_give_the_same_numbers(dtype):
    """Up to ``entry.OWN_WORK`` entries of work buffers the entry allocates its own; above,
    it computes in the thread's. Both sides of that bound agree with the vectorized backend."""
    net = indexnet.Network([3, 3, 1], seed=4, dtype=dtype)
    few = net._calls()[5]
    rng = np.random.default_rng(8)
    for m in (1, few, few + 1):
        X, Y = rng.uniform(0, 1, (m, 3)).astype(dtype), rng.uniform(0, 1, (m, 1)).astype(dtype)
        J, grad = net.cost_and_gradient(X, Y, lam=1e-3)
        J_vec, grad_vec = net.cost_and_gradient(X, Y, lam=1e-3, backend="vectorized")
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert J == pytest.approx(J_vec, rel=rtol)
        np.testing.assert_allclose(grad, grad_vec, rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(net.predict(X), net.predict(X, backend="vectorized"), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_entrys_finiteness_sum_finds_every_non_finite_number(dtype):
    # entry.finite sums x - x along each row instead of testing each number: the largest
    # finite numbers must still pass, and a NaN or an infinity anywhere must not.
    from indexnet.fast import entry

    X = np.linspace(-1, 1, 35, dtype=dtype).reshape(5, 7)
    X[0, 0], X[3, 6] = np.finfo(dtype).max, -np.finfo(dtype).max
    assert entry.finite(X)
    for bad in (np.nan, np.inf, -np.inf):
        for k, i in np.ndindex(X.shape):
            Z = X.copy()
            Z[k, i] = bad
            assert not entry.finite(Z), (bad, k, i)
