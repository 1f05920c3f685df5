"""Convolution and pooling: loops == NumPy twin == .py_func == the fast order, each backward
kernel the exact derivative of its forward one (central differences), and whole convolutional
networks against central differences and against autograd's own convolution."""

import os
import threading

import numpy as np
import pytest
from conftest import relative_difference

import indexnet
from indexnet import loops, vectorized
from indexnet.api.convnet import ConvNetwork, lbfgs, load_conv, sgd_momentum
from indexnet.fast import conv as fast
from indexnet.kernels import conv
from indexnet.kernels.activations import IDENTITY, SIGMOID

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") == "1"
RNG = np.random.default_rng(7)

# (m, channels, rows, cols, filters, filter size, pool): channels 1 and 3, filters 1x1 to 5x5,
# pools 1 to 3, odd sizes, maps not a multiple of the pool; the last two past fast.large.
SHAPES = [
    (2, 1, 5, 5, 2, 3, 2),
    (3, 3, 7, 6, 4, 1, 3),
    (2, 3, 9, 8, 2, 5, 1),
    (1, 1, 4, 4, 1, 4, 1),
    (4, 3, 11, 10, 5, 3, 3),
    (6, 2, 16, 13, 6, 5, 2),
]
SMALL_SHAPES = SHAPES[:4]


def _maps(*shape, dtype=np.float64):
    return RNG.normal(0, 1, shape).astype(dtype)


def _arguments(shape, dtype=np.float64):
    """Arguments that fit one another for every conv kernel, by kernel name."""
    m, D, rows, cols, K, p, P = shape
    R, C = rows - p + 1, cols - p + 1
    a, W, b = _maps(m, D, rows, cols, dtype=dtype), _maps(K, D, p, p, dtype=dtype), _maps(K)
    z = _maps(m, K, R, C, dtype=dtype)
    act = 1 / (1 + np.exp(-z))
    pooled = (m, K, R // P, C // P)
    where = np.empty(pooled, np.int64)
    loops.max_pool(act, P, np.empty(pooled, dtype), where)
    lower = (m, D, rows, cols)
    return {
        "conv_weighted_input": [W, b.astype(dtype), a, _maps(m, K, R, C, dtype=dtype)],
        "mean_pool": [act, P, _maps(*pooled, dtype=dtype)],
        "max_pool": [act, P, _maps(*pooled, dtype=dtype), np.zeros(pooled, np.int64)],
        "mean_pool_delta": [_maps(*pooled, dtype=dtype), P, z, act, SIGMOID, _maps(*z.shape)],
        "max_pool_delta": [
            _maps(*pooled, dtype=dtype),
            P,
            where,
            z,
            act,
            SIGMOID,
            _maps(*z.shape, dtype=dtype),
        ],
        "conv_delta": [W, _maps(m, K, R, C, dtype=dtype), a, np.tanh(a), 1, _maps(*lower)],
        "filter_gradient": [a, _maps(m, K, R, C, dtype=dtype), W, 0.3, _maps(*W.shape)],
        "conv_bias_gradient": [_maps(m, K, R, C, dtype=dtype), _maps(K)],
    }


def _cast(arguments, dtype):
    return [
        x.astype(dtype) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x
        for x in arguments
    ]


def _run(kernel, args):
    copies = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    kernel(*copies)
    return [x for x in copies if isinstance(x, np.ndarray)]


CASES = [(name, shape) for shape in SHAPES for name in conv.__all__]


def test_every_conv_kernel_is_public_with_a_twin():
    assert set(conv.__all__) <= set(loops.__all__)
    assert all(hasattr(vectorized, name) for name in conv.__all__)
    assert indexnet.loops.conv_delta is conv.conv_delta


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_loops_equal_vectorized(shape, dtype):
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    for name, args in _arguments(shape).items():
        args = _cast(args, dtype)
        got, expected = _run(getattr(loops, name), args), _run(getattr(vectorized, name), args)
        for x, y in zip(got, expected, strict=True):
            assert x.dtype == y.dtype
            assert relative_difference(x, y) <= tolerance, (name, shape)


@pytest.mark.skipif(JIT_DISABLED, reason="with NUMBA_DISABLE_JIT there is no compiled kernel")
@pytest.mark.parametrize("shape", SMALL_SHAPES, ids=str)
def test_compiled_equals_its_python_reading(shape):
    for name, args in _arguments(shape).items():
        kernel = getattr(loops, name)
        for x, y in zip(_run(kernel, args), _run(kernel.py_func, args), strict=True):
            assert relative_difference(x, y) <= 1e-13, (name, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_the_fast_order_is_the_same_sum_as_the_readable_loop(shape):
    """indexnet.fast.conv, called directly, against the loops (which run their readable loop on
    the small shapes and hand the large ones to fast.conv, where the twin stands witness)."""
    args = _arguments(shape)
    W, b, a, z = args["conv_weighted_input"]
    assert (
        relative_difference(
            *_both(fast.conv_weighted_input, loops.conv_weighted_input, [W, b, a, z])
        )
        < 1e-13
    )
    W, delta_next, _, _, _, delta = args["conv_delta"]
    fast_delta = delta.copy()
    fast.back_sums(W, delta_next, fast_delta)
    reference = delta.copy()
    loops.conv_delta(W, delta_next, reference, reference, IDENTITY, reference)
    assert relative_difference(fast_delta, reference) < 1e-13
    a, delta_next, W, _, dW = args["filter_gradient"]
    sums = dW.copy()
    fast.filter_sums(a, delta_next, sums)
    reference = dW.copy()
    loops.filter_gradient(a, delta_next, W, 0.0, reference)
    assert relative_difference(sums / a.shape[0], reference) < 1e-13
    assert [fast.large(np.prod(shape), 1) for shape in ((10, 10), (100, 100))] == [False, True]


def _both(first, second, args):
    return _run(first, args)[-1], _run(second, args)[-1]


def _central(function, x, eps=1e-6):
    """Central differences of the scalar ``function`` at ``x``, every entry."""
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        plus = function()
        x[i] = saved - eps
        minus = function()
        x[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("shape", SHAPES[:3], ids=str)
def test_each_backward_kernel_is_the_derivative_of_its_forward_kernel(shape):
    """For L = sum(G * forward(x)): dL/dx by the backward kernel equals central differences."""
    m, P = shape[0], shape[-1]
    args = _arguments(shape)
    W, b, a, z = args["conv_weighted_input"]
    G = _maps(*z.shape)

    def convolved():
        loops.conv_weighted_input(W, b, a, z)
        return float((G * z).sum())

    delta = np.empty_like(a)
    loops.conv_delta(W, G, a, a, IDENTITY, delta)
    assert relative_difference(delta, _central(convolved, a)) < 1e-8
    dW, db = np.empty_like(W), np.empty_like(b)
    loops.filter_gradient(a, G, W, 0.0, dW)
    loops.conv_bias_gradient(G, db)
    assert relative_difference(m * dW, _central(convolved, W)) < 1e-8
    assert relative_difference(m * db, _central(convolved, b)) < 1e-8
    act = args["mean_pool"][0]
    pooled = np.empty(args["mean_pool"][2].shape)
    H = _maps(*pooled.shape)
    where = np.empty(pooled.shape, np.int64)
    for pool, back in (
        (
            lambda: loops.mean_pool(act, P, pooled),
            lambda d: loops.mean_pool_delta(H, P, act, act, IDENTITY, d),
        ),
        (
            lambda: loops.max_pool(act, P, pooled, where),
            lambda d: loops.max_pool_delta(H, P, where, act, act, IDENTITY, d),
        ),
    ):

        def pooled_sum(pool=pool):
            pool()
            return float((H * pooled).sum())

        pooled_sum()
        delta = np.empty_like(act)
        back(delta)
        assert relative_difference(delta, _central(pooled_sum, act)) < 1e-8


def test_the_flipped_index_is_the_rotated_filter_in_a_full_convolution():
    """conv_delta's sum over r - p is scipy's full convolution of delta with the filter; the
    forward sum over r + p is the valid convolution with the filter rotated by 180 degrees."""
    from scipy.signal import convolve2d

    args = _arguments((1, 1, 7, 6, 1, 3, 1))
    W, b, a, z = args["conv_weighted_input"]
    loops.conv_weighted_input(W, b, a, z)
    rotated = np.rot90(W[0, 0], 2)
    assert relative_difference(z[0, 0], convolve2d(a[0, 0], rotated, "valid") + b[0]) < 1e-13
    G, delta = _maps(*z.shape), np.empty_like(a)
    loops.conv_delta(W, G, a, a, IDENTITY, delta)
    assert relative_difference(delta[0, 0], convolve2d(G[0, 0], W[0, 0], "full")) < 1e-13


# -- whole networks -------------------------------------------------------------------------------

NETWORKS = [
    # image, stages, hidden, activation, pooling
    ((1, 8, 8), [(2, 3, 2)], (), "sigmoid", "mean"),
    ((3, 7, 7), [(3, 2, 3)], (4,), "tanh", "max"),
    ((2, 9, 8), [(3, 3, 2), (2, 2, 1)], (5,), "sigmoid", "max"),
    ((1, 11, 10), [(2, 5, 1), (3, 3, 2)], (), "relu", "mean"),
]


def _network(image, stages, hidden, activation, pooling, m=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    net = ConvNetwork(
        image, stages, 3, hidden=hidden, activation=activation, pooling=pooling, dtype=dtype
    )
    net.theta = net.theta + rng.normal(0, 0.3, net.theta.size)
    X = rng.normal(0, 1, (m, *image)).astype(dtype)
    return net, X, rng.integers(0, 3, m)


def _numerical(net, X, y, lam, eps=1e-6):
    theta = net.theta

    def cost():
        net.theta = theta
        return net.cost_and_gradient(X, y, lam=lam)[0]

    grad = _central(cost, theta, eps)
    net.theta = theta
    return grad


@pytest.mark.parametrize("setting", NETWORKS, ids=str)
def test_network_gradient_is_central_differences_and_backends_agree(setting):
    net, X, y = _network(*setting)
    J, grad = net.cost_and_gradient(X, y, lam=0.01)
    J2, grad2 = net.cost_and_gradient(X, y, lam=0.01, backend="vectorized")
    assert abs(J - J2) <= 1e-12 * abs(J)
    assert relative_difference(grad, grad2) <= 1e-12
    assert relative_difference(grad, _numerical(net, X, y, 0.01)) < 1e-8


def test_ufldl_gradient_check():
    """UFLDL's own check: 2 filters 9x9, pool 5, 10 images of 28x28, difference below 1e-9."""
    net, X, y = _network((1, 28, 28), [(2, 9, 5)], (), "sigmoid", "mean", m=10)
    _, grad = net.cost_and_gradient(X, y, lam=1e-4)
    assert relative_difference(grad, _numerical(net, X, y, 1e-4, eps=1e-4)) < 1e-9


def _autograd_cost(net, X, Y, lam):
    """The network's cost written independently with autograd: scipy.signal-style *true*
    convolution (it flips the filter, as MATLAB's conv2) of the flipped filters."""
    import autograd.numpy as anp
    from autograd.scipy.signal import convolve
    from autograd.scipy.special import logsumexp

    stages, first = net.stages, len(net.stages)
    f = {
        "sigmoid": lambda z: 1 / (1 + anp.exp(-z)),
        "tanh": anp.tanh,
        "relu": lambda z: anp.maximum(z, 0),
    }[net.activation]

    def cost(theta):
        W, b = net.parameters(theta)
        a = X
        for s, stage in enumerate(stages):
            flipped = anp.transpose(W[s][:, :, ::-1, ::-1], (1, 0, 2, 3))  # conv2's flip undone
            z = convolve(a, flipped, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid")
            a = f(z + b[s][None, :, None, None])
            m, K, R, C = a.shape
            P = stage.pool
            blocks = a[:, :, : R // P * P, : C // P * P].reshape(m, K, R // P, P, C // P, P)
            a = (
                anp.mean(blocks, axis=(3, 5))
                if net.pooling == "mean"
                else anp.max(anp.max(blocks, axis=5), axis=3)
            )
        a = anp.reshape(a, (X.shape[0], -1))
        for l in range(len(net.sizes) - 1):
            z = anp.dot(a, W[first + l].T) + b[first + l]
            a = z if l == len(net.sizes) - 2 else f(z)
        log_p = a - logsumexp(a, axis=1, keepdims=True)
        decay = sum(anp.sum(w**2) for w in W)
        return -anp.sum(Y * log_p) / X.shape[0] + lam / 2 * decay

    return cost


@pytest.mark.parametrize("setting", NETWORKS[:3], ids=str)
def test_network_equals_an_independent_autodiff(setting):
    from autograd import value_and_grad

    net, X, y = _network(*setting)
    Y = np.eye(3)[y]
    J_auto, grad_auto = value_and_grad(_autograd_cost(net, X, Y, 0.01))(net.theta)
    J, grad = net.cost_and_gradient(X, y, lam=0.01)
    assert abs(J - J_auto) <= 1e-12 * abs(J)
    assert relative_difference(grad, grad_auto) <= 1e-12


def test_float32_network_computes_in_float32():
    net, X, y = _network(*NETWORKS[0], dtype=np.float32)
    J, grad = net.cost_and_gradient(X, y)
    assert grad.dtype == np.float32
    wide = ConvNetwork((1, 8, 8), [(2, 3, 2)], 3)
    wide.theta = net.theta.astype(np.float64)
    J64, grad64 = wide.cost_and_gradient(X.astype(np.float64), y)
    assert abs(J - J64) <= 1e-5 * abs(J64)
    assert relative_difference(grad, grad64) < 1e-4


# -- the public habits ---------------------------------------------------------------------------


def test_predict_trace_save_and_load(tmp_path):
    net, X, y = _network(*NETWORKS[2])
    probabilities = net.predict(X)
    assert probabilities.shape == (4, 3)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert np.array_equal(net.classify(X), probabilities.argmax(axis=1))
    trace = net.trace(X, y, lam=0.01)
    assert relative_difference(trace.grad, net.cost_and_gradient(X, y, lam=0.01)[1]) == 0
    assert [z.shape for z in trace.conv_z] == [(4, 3, 7, 6), (4, 2, 2, 2)]
    assert np.array_equal(trace.dense_a[-1], probabilities)
    path = net.save(tmp_path / "net.npz")
    again = load_conv(path)
    assert repr(again) == repr(net)
    assert np.array_equal(again.predict(X), probabilities)
    (tmp_path / "dense.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"dense\.npz"):
        load_conv(tmp_path / "dense.npz")
    indexnet.Network([3, 2]).save(tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"format is indexnet\.Network$"):
        load_conv(tmp_path / "other.npz")


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: ConvNetwork((1, 8), [(2, 3, 2)], 3), ValueError, "image must be 3 integers"),
        (lambda: ConvNetwork((1, 8, 8), [(2, 9, 2)], 3), ValueError, r"stages\[0\]: a 9x9 filter"),
        (lambda: ConvNetwork((1, 8, 8), [(2, 3, 7)], 3), ValueError, r"stages\[0\]: pooling 7x7"),
        (lambda: ConvNetwork((1, 8, 8), [(2, 3.5, 2)], 3), TypeError, r"stages\[0\]\[1\]"),
        (lambda: ConvNetwork((1, 8, 8), [], 3), ValueError, "stages must be a non-empty"),
        (lambda: ConvNetwork((1, 8, 8), [(2, 3, 2)], 3, pooling="min"), ValueError, "pooling"),
        (
            lambda: ConvNetwork((1, 8, 8), [(2, 3, 2)], 3, dtype=np.int32),
            (TypeError, ValueError),
            "dtype",
        ),
    ],
)
def test_bad_settings_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_bad_data_is_refused_by_name():
    net, X, _ = _network(*NETWORKS[0])
    with pytest.raises(ValueError, match=r"X must hold images of shape \(1, 8, 8\)"):
        net.predict(np.zeros((2, 1, 8, 7)))
    with pytest.raises(ValueError, match="X must be finite"):
        net.predict(np.full((2, 1, 8, 8), np.nan))
    with pytest.raises(ValueError, match="Y as labels"):
        net.cost_and_gradient(X, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="Y must have 4 rows"):
        net.cost_and_gradient(X, np.eye(3)[[0, 1]])
    with pytest.raises(ValueError, match="backend"):
        net.predict(X, backend="torch")
    assert net.predict(X.reshape(4, -1)).shape == net.predict(X[:, 0]).shape == (4, 3)


def test_training_lowers_the_cost_and_stops_on_divergence():
    net, X, y = _network(*NETWORKS[0], m=12)
    before = net.cost_and_gradient(X, y, lam=1e-4)[0]
    result = sgd_momentum(net, X, y, alpha=0.1, steps=30, batch_size=4)
    assert result.iterations == 30 and not result.diverged
    assert net.cost_and_gradient(X, y, lam=1e-4)[0] < before
    result = lbfgs(net, X, y, iterations=10)
    assert net.cost_and_gradient(X, y, lam=1e-4)[0] < before
    good = net.theta
    with pytest.warns(indexnet.DivergenceWarning, match="stopped at step 1"):
        result = sgd_momentum(net, X, y, alpha=1e300, steps=5, batch_size=4)
    assert result.diverged and result.iterations == 1
    assert np.array_equal(net.theta, good)  # the last parameters whose cost was finite


def test_threads_sharing_one_network_read_the_same_numbers():
    net, X, y = _network(*NETWORKS[2], m=6)
    expected = net.cost_and_gradient(X, y)[1]
    results = []

    def read():
        for _ in range(5):
            results.append(net.cost_and_gradient(X, y)[1])

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert all(np.array_equal(r, expected) for r in results)


@pytest.mark.parametrize("module", [loops, vectorized])
def test_a_pooling_size_larger_than_the_maps_names_p_and_the_maps(module):
    with pytest.raises(ValueError, match=r"mean_pool: P must .* of a \(3, 4, 5, 1\) = 1; got 2"):
        module.mean_pool(np.zeros((3, 4, 5, 1)), 2, np.zeros((3, 4, 2, 0)))
    z = np.zeros((3, 4, 5, 4))
    with pytest.raises(ValueError, match=r"max_pool_delta: P must .* of delta \(3, 4, 5, 4\)"):
        module.max_pool_delta(
            np.zeros((3, 4, 2, 2)), 0, np.zeros((3, 4, 2, 2), np.int64), z, z, 0, z
        )


def test_a_conv_kernel_called_from_the_users_own_njit_code_checks_its_shapes():
    from numba import njit

    convolve = loops.conv_weighted_input

    @njit
    def users_layer(W, b, a, z):
        convolve(W, b, a, z)
        return z

    W, b, a, z = _arguments(SHAPES[0])["conv_weighted_input"]
    expected = np.empty_like(z)
    vectorized.conv_weighted_input(W, b, a, expected)
    assert relative_difference(users_layer(W, b, a, z), expected) < 1e-13
    with pytest.raises(ValueError, match=r"conv_weighted_input: z_next must have shape"):
        users_layer(W, b, a, np.empty((2, 2, 3, 4)))
