"""loops == vectorized == uncompiled Python, kernel by kernel and for the whole pass."""

import inspect
import os

import numpy as np
import pytest
from conftest import every_case, problem, relative_difference

from indexnet.fast import blocking
from indexnet.kernels import loops
from indexnet.kernels.activations import (
    ACTIVATIONS,
    CROSS_ENTROPY,
    OUTPUT_ACTIVATIONS,
    SIGMOID,
    SOFTMAX,
    SQUARED,
)
from indexnet.twins import python, vectorized

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") == "1"
RNG = np.random.default_rng(1)
M, S, S_NEXT = 6, 5, 4


def _matrix(*shape):
    return RNG.normal(0, 1, shape)


def _sizes():
    return np.array([S, S_NEXT, 3], dtype=np.int64)


def _work(sizes, m):
    """Work buffers ``Z, A, D`` (the rows) filled with noise, so a kernel must overwrite them."""
    return RNG.normal(0, 1, (3, m * int(sizes[1:].sum())))


def _theta(sizes):
    n = sum(int(sizes[l + 1] * sizes[l] + sizes[l + 1]) for l in range(len(sizes) - 1))
    return RNG.normal(0, 0.5, n)


def _cases():
    """For each kernel, argument lists that cover its branches."""
    sizes = _sizes()
    n_weights = sum(int(sizes[l + 1] * sizes[l]) for l in range(len(sizes) - 1))
    onehot = np.eye(S_NEXT)[RNG.integers(0, S_NEXT, M)]
    cases = {name: [] for name in loops.__all__}
    cases["weighted_input"].append(
        [_matrix(S_NEXT, S), _matrix(S_NEXT), _matrix(M, S), _matrix(M, S_NEXT)]
    )
    for kind in OUTPUT_ACTIVATIONS.values():
        cases["activation"].append([_matrix(M, S) * 10, kind, _matrix(M, S)])
    z = _matrix(M, S_NEXT) * 3
    for kind in OUTPUT_ACTIVATIONS.values():
        a = np.empty_like(z)
        loops.activation(z, kind, a)
        for loss, Y in ((SQUARED, _matrix(M, S_NEXT)), (CROSS_ENTROPY, onehot)):
            if loss == CROSS_ENTROPY and kind not in (SIGMOID, SOFTMAX):
                continue  # the kernels refuse it: the loss is written for these two outputs
            cases["cost"].append([z, a, Y, _matrix(n_weights), 0.3, loss, kind])
            if not (kind == SOFTMAX and loss == SQUARED):  # refused too: f' is not elementwise
                cases["output_delta"].append([z, a, Y, loss, kind, _matrix(M, S_NEXT)])
    rho_hat = RNG.uniform(0.05, 0.95, S)
    for kind in ACTIVATIONS.values():
        z_l = _matrix(M, S)
        a_l = np.empty_like(z_l)
        loops.activation(z_l, kind, a_l)
        for beta in (0.0, 3.0):
            cases["hidden_delta"].append(
                [_matrix(S_NEXT, S), _matrix(M, S_NEXT), z_l, a_l, kind, beta, 0.1, rho_hat,
                 _matrix(M, S)]
            )  # fmt: skip
    cases["average_activation"].append([RNG.uniform(0, 1, (M, S)), _matrix(S)])
    cases["sparsity_penalty"].append([rho_hat, 0.1, 3.0])
    cases["weight_gradient"].append(
        [_matrix(M, S), _matrix(M, S_NEXT), _matrix(S_NEXT, S), 0.7, _matrix(S_NEXT, S)]
    )
    # Fewer examples than units (SGD's mini-batches) take k outside; one example, one pass.
    for m in (1, 2):
        assert m < S
        cases["weight_gradient"].append(
            [_matrix(m, S), _matrix(m, S_NEXT), _matrix(S_NEXT, S), 0.7, _matrix(S_NEXT, S)]
        )
    cases["bias_gradient"].append([_matrix(M, S_NEXT), _matrix(S_NEXT)])
    # Past loops.SMALL the sums run in 4x4 register blocks; sizes that are not multiples of 4
    # exercise the clamped edges.
    m, s, s_next = 23, 19, 14
    assert m * s * s_next > loops.SMALL
    cases["weighted_input"].append(
        [_matrix(s_next, s), _matrix(s_next), _matrix(m, s), _matrix(m, s_next)]
    )
    z_l = _matrix(m, s)
    for beta in (0.0, 3.0):
        cases["hidden_delta"].append(
            [_matrix(s_next, s), _matrix(m, s_next), z_l, np.tanh(z_l), 1, beta, 0.2,
             RNG.uniform(0.05, 0.95, s), _matrix(m, s)]
        )  # fmt: skip
    cases["weight_gradient"].append(
        [_matrix(m, s), _matrix(m, s_next), _matrix(s_next, s), 0.7, _matrix(s_next, s)]
    )
    # Past loops.FEW_UNITS the bias gradient walks delta's rows instead.
    assert S_NEXT <= loops.FEW_UNITS < s_next
    cases["bias_gradient"].append([_matrix(m, s_next), _matrix(s_next)])
    # Past blocking.CHUNK examples the sum over k runs a stretch at a time (the last one shorter).
    m = 2 * blocking.CHUNK + 37
    cases["weight_gradient"].append(
        [_matrix(m, 5), _matrix(m, 3), _matrix(3, 5), 0.7, _matrix(3, 5)]
    )
    # From PACKED_MIN_ROWS rows and PACKED_MIN columns the sums take the packed product (where
    # the target has one): sizes past its tiles and past KC steps of the sum, none a multiple
    # of them, and a weight gradient of few rows (units of layer l+1).
    m, s, s_next = 70, blocking.KC_64 + 67, blocking.PACKED_MIN + 1
    assert blocking.packs(m, s_next, s) == blocking.PACKED
    cases["weighted_input"].append(
        [_matrix(s_next, s), _matrix(s_next), _matrix(m, s), _matrix(m, s_next)]
    )
    z_l = _matrix(m, s)
    cases["hidden_delta"].append(
        [_matrix(s_next, s), _matrix(m, s_next), z_l, np.tanh(z_l), 1, 3.0, 0.2,
         RNG.uniform(0.05, 0.95, s), _matrix(m, s)]
    )  # fmt: skip
    m = blocking.KC_64 + 5
    for rows in (s_next, blocking.PACKED_MIN_ROWS + 1):
        assert blocking.packs(rows, s, m) == blocking.PACKED
        cases["weight_gradient"].append(
            [_matrix(m, s), _matrix(m, rows), _matrix(rows, s), 0.7, _matrix(rows, s)]
        )
    cases["update"].append([_matrix(20), _matrix(20), 0.1])
    X, Y = _matrix(M, S), RNG.uniform(0, 1, (M, 3))
    for hidden in ACTIVATIONS.values():
        work = _work(sizes, M)
        theta = _theta(sizes)
        cases["forward"].append([theta, sizes, X, hidden, 0, work])
        # the sparsity penalty needs sigmoid hidden units (average activations in (0, 1))
        for loss, beta in ((SQUARED, 0.0), (CROSS_ENTROPY, 0.0), (SQUARED, 3.0 * (hidden == 0))):
            grad = _matrix(theta.size)
            args = [theta, sizes, X, Y, 0.2, beta, 0.1, hidden, 0, loss, work, grad]
            cases["cost_and_gradient"].append(args)
            cases["gradient_step"].append([*args[:7], 0.5, *args[7:]])
            cases["gd_iterations"].append([*args[:7], 0.5, *args[7:], np.zeros(3)])
            batch = 4
            orders = np.array([RNG.permutation(M) for _ in range(3)], dtype=np.int64)
            batches = [_matrix(batch, S), _matrix(batch, 3), _work(sizes, batch)]
            cases["sgd_epochs"].append(
                [*args[:7], 0.5, *args[7:10], orders, batch, *batches, grad, np.zeros(3)]
            )
            # backward reads what forward wrote
            forwarded = work.copy()
            loops.forward(theta, sizes, X, hidden, 0, forwarded)
            cases["backward"].append([*args[:10], forwarded, grad])
    return cases


CASES = _cases()


def _run(kernel, args):
    """Call kernel on copies of args; return the result and every array argument afterwards."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    result = kernel(*copies)
    return result, [a for a in copies if isinstance(a, np.ndarray)]


def _assert_same(first, second, tolerance):
    (r1, arrays1), (r2, arrays2) = first, second
    if r1 is not None or r2 is not None:
        assert relative_difference(r1, r2) <= tolerance
    for a1, a2 in zip(arrays1, arrays2, strict=True):
        assert a1.dtype == a2.dtype
        assert relative_difference(a1, a2) <= tolerance


def test_every_kernel_has_cases():
    assert set(CASES) == set(loops.__all__)
    assert all(CASES[name] for name in loops.__all__)


@pytest.mark.parametrize("name", loops.__all__)
def test_twin_exists_with_same_signature(name):
    loop = getattr(loops.__dict__[name], "py_func", loops.__dict__[name])
    twin = getattr(vectorized, name)
    assert inspect.signature(loop) == inspect.signature(twin)
    assert vectorized.__all__ == loops.__all__


@pytest.mark.parametrize("name", loops.__all__)
def test_loops_equal_vectorized(name):
    for args in CASES[name]:
        _assert_same(_run(getattr(loops, name), args), _run(getattr(vectorized, name), args), 1e-12)


# A composite's .py_func hands Python lists to its compiled helpers, which Numba reflects (and
# warns about); indexnet.twins.python is the fully uncompiled reading.
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPendingDeprecationWarning")
@pytest.mark.skipif(JIT_DISABLED, reason="with NUMBA_DISABLE_JIT there is no compiled kernel")
@pytest.mark.parametrize("name", loops.__all__)
def test_compiled_equals_its_python_reading(name):
    kernel = getattr(loops, name)
    for args in CASES[name]:
        _assert_same(_run(kernel, args), _run(kernel.py_func, args), 1e-12)
        _assert_same(_run(kernel, args), _run(getattr(python, name), args), 1e-12)


@every_case
def test_backends_agree_on_cost_and_gradient(sizes, hidden, output, cost):
    net, X, Y = problem(sizes, hidden, output, cost)
    J, grad = net.cost_and_gradient(X, Y, lam=0.01, backend="loops")
    for backend in ("vectorized", "python"):
        J2, grad2 = net.cost_and_gradient(X, Y, lam=0.01, backend=backend)
        assert abs(J - J2) <= 1e-12 * abs(J2)
        assert relative_difference(grad, grad2) <= 1e-12


@every_case
def test_backends_agree_on_predict(sizes, hidden, output, cost):
    net, X, _ = problem(sizes, hidden, output, cost)
    expected = net.predict(X, backend="vectorized")
    assert relative_difference(net.predict(X, backend="loops"), expected) <= 1e-12


@pytest.mark.parametrize(
    "hidden,beta,sizes,m,output,cost,dtype",
    [
        ("sigmoid", 0.0, [48, 64, 40], 100, "sigmoid", "squared", np.float64),
        ("tanh", 0.0, [48, 64, 40], 100, "sigmoid", "squared", np.float64),
        ("sigmoid", 3.0, [48, 64, 40], 100, "sigmoid", "squared", np.float64),
        # the element-wise kernels split too
        ("relu", 0.0, [20, 30, 16], 2101, "sigmoid", "squared", np.float64),
        # softmax, its cost and delta split; stretches of 150 and 151 examples; the first
        # weight gradient splits the units (with its last pass), the second the examples
        ("tanh", 0.0, [400, 200, 120], 301, "softmax", "cross_entropy", np.float64),
        ("sigmoid", 0.0, [400, 200, 120], 301, "sigmoid", "cross_entropy", np.float64),
        ("sigmoid", 0.0, [400, 200, 120], 301, "sigmoid", "squared", np.float32),
        ("relu", 0.0, [20, 30, 16], 2101, "sigmoid", "squared", np.float32),
        # 220 units and 150 examples: the first weighted input splits the units
        ("sigmoid", 0.0, [300, 220, 8], 150, "sigmoid", "squared", np.float64),
        ("tanh", 0.0, [300, 220, 8], 150, "softmax", "cross_entropy", np.float32),
        # more than one CHUNK of examples through the weight gradient split by units
        ("sigmoid", 0.0, [300, 220, 8], 1100, "sigmoid", "squared", np.float64),
        # 4 output units: each thread's bias gradient sums in registers (loops.FEW_UNITS)
        ("sigmoid", 0.0, [20, 30, 4], 7900, "sigmoid", "squared", np.float64),
    ],
)
def test_parallel_backend_equals_serial_where_it_runs_in_parallel(
    hidden, beta, sizes, m, output, cost, dtype, two_threads
):
    from indexnet.fast.loops_parallel import PARALLEL_MIN_WORK, PART_MAX, PER_ELEMENT

    net, X, Y = problem(sizes, hidden, output, cost, m=m, dtype=dtype)
    for l in range(len(sizes) - 1):  # every sum kernel takes its prange path
        assert m * sizes[l] * sizes[l + 1] >= PARALLEL_MIN_WORK
    if sizes[0] == 400:
        assert m * sizes[-1] * PER_ELEMENT >= PARALLEL_MIN_WORK  # output side split
        assert sizes[0] * sizes[1] > PART_MAX >= sizes[1] * sizes[2]  # both weight gradients
    if sizes[0] == 300:
        assert sizes[0] * sizes[1] > PART_MAX  # the weight gradient splits the units
        assert (sizes[1] >= m) == (m == 150)  # and so does the weighted input, at m = 150
        assert (m > blocking.CHUNK) == (m == 1100)
    if sizes[-1] == 4:
        assert sizes[-1] <= loops.FEW_UNITS and m * 4 * PER_ELEMENT >= PARALLEL_MIN_WORK
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    if dtype == np.float32 and JIT_DISABLED:
        tolerance = 1e-4  # run as Python, float32 sums over 301 x 120 terms add one at a time
    J, grad = net.cost_and_gradient(X, Y, lam=0.01, backend="loops", beta=beta, rho=0.2)
    J2, grad2 = net.cost_and_gradient(X, Y, lam=0.01, backend="loops-parallel", beta=beta, rho=0.2)
    assert grad2.dtype == dtype
    assert abs(J - J2) <= tolerance * abs(J)
    assert relative_difference(grad2, grad) <= tolerance
    P = net.predict(X)
    np.testing.assert_allclose(net.predict(X, "loops-parallel"), P, rtol=tolerance)


def test_parallel_weight_decay_without_decay_is_zero_even_for_infinite_weights():
    from indexnet.fast import loops_parallel
    from indexnet.fast.loops_parallel import PARALLEL_MIN_WORK, PER_ELEMENT

    weights = np.full(PARALLEL_MIN_WORK // PER_ELEMENT + 3, np.inf)  # past the threshold
    assert loops_parallel._weight_decay(weights, 0.0) == 0.0
    weights[::2] = 1.5
    assert loops_parallel._weight_decay(weights, 0.1) == np.inf


def test_parallel_update_equals_serial_past_its_threshold():
    from indexnet.fast import loops_parallel
    from indexnet.fast.loops_parallel import PARALLEL_MIN_WORK, PER_ELEMENT

    n = PARALLEL_MIN_WORK // PER_ELEMENT + 3
    theta, grad = _matrix(n), _matrix(n)
    serial = theta.copy()
    loops.update(serial, grad, 0.3)
    loops_parallel.update(theta, grad, 0.3)
    np.testing.assert_array_equal(theta, serial)


@pytest.mark.parametrize("bad", [-1, 5])
def test_vectorized_sgd_refuses_orders_outside_the_rows(bad):
    sizes = np.array([4, 3, 2], dtype=np.int64)
    theta = _theta(sizes)
    grad = np.zeros_like(theta)
    X, Y = _matrix(5, 4), _matrix(5, 2)
    work = _work(sizes, 1)
    orders = np.array([[0, 1, 2, 3, bad]])
    with pytest.raises(ValueError, match="orders must hold row numbers of X"):
        vectorized.sgd_epochs(
            theta, sizes, X, Y, 0.1, 0.0, 0.1, 0.1, 0, 0, 0, orders, 1,
            np.zeros((1, 4)), np.zeros((1, 2)), work, grad, np.zeros(1),
        )  # fmt: skip
