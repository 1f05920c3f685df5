"""The Network contract: shapes, views, initialisation, dtypes."""

import numpy as np
import pytest
from conftest import problem

import indexnet


def test_parameters_are_views_into_theta():
    net = indexnet.Network([4, 3, 2])
    assert [W.shape for W in net.W] == [(3, 4), (2, 3)]
    assert [b.shape for b in net.b] == [(3,), (2,)]
    assert net.theta.shape == (3 * 4 + 2 * 3 + 3 + 2,)
    net.W[1][1, 2] = 7.0
    net.b[0][2] = -3.0
    assert 7.0 in net.theta and -3.0 in net.theta
    net.theta = np.arange(net.theta.size)
    assert net.W[0][0, 1] == 1.0  # still a view after assigning theta
    assert net.b[1][1] == net.theta[-1]


def test_theta_layout_is_weights_then_biases():
    net = indexnet.Network([4, 3, 2])
    np.testing.assert_array_equal(net.theta[:12], net.W[0].ravel())
    np.testing.assert_array_equal(net.theta[12:18], net.W[1].ravel())
    assert net.n_weights == 18


def test_ufldl_initialisation():
    net = indexnet.Network([64, 25, 64], seed=3)
    for W, b in zip(net.W, net.b, strict=True):
        r = np.sqrt(6 / (W.shape[0] + W.shape[1] + 1))
        assert np.abs(W).max() <= r
        assert np.abs(W).max() > 0.9 * r  # spread over the whole interval
        assert abs(W.mean()) < 0.1 * r
        np.testing.assert_array_equal(b, 0)
    again = indexnet.Network([64, 25, 64], seed=3)
    np.testing.assert_array_equal(net.theta, again.theta)
    assert not np.array_equal(net.theta, indexnet.Network([64, 25, 64], seed=4).theta)


def test_predict_is_the_last_activation():
    net, X, Y = problem([3, 4, 2], "tanh", "sigmoid", "squared")
    trace = net.trace(X, Y)
    np.testing.assert_allclose(net.predict(X), trace.a[-1], rtol=1e-14)
    assert net.predict(X).shape == (X.shape[0], 2)


def test_trace_follows_the_equations():
    net, X, Y = problem([3, 4, 2], "sigmoid", "sigmoid", "squared")
    t = net.trace(X, Y, lam=0.1)
    assert t.z[0] is None and t.delta[0] is None
    np.testing.assert_allclose(t.z[1], X @ net.W[0].T + net.b[0], rtol=1e-13)
    np.testing.assert_allclose(t.a[1], 1 / (1 + np.exp(-t.z[1])), rtol=1e-13)
    f_prime = t.a[2] * (1 - t.a[2])
    np.testing.assert_allclose(t.delta[2], -(Y - t.a[2]) * f_prime, rtol=1e-13)
    np.testing.assert_allclose(
        t.grad_W[0], t.delta[1].T @ X / X.shape[0] + 0.1 * net.W[0], rtol=1e-12
    )


def test_softmax_output_rows_are_distributions():
    net, X, _ = problem([3, 4, 5], "relu", "softmax", "cross_entropy")
    P = net.predict(X)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-14)
    assert (P > 0).all()


@pytest.mark.parametrize("backend", ["loops", "vectorized", "python"])
def test_float32_network_computes_in_float32(backend):
    net64, X, Y = problem([3, 4, 2], "tanh", "sigmoid", "squared")
    net32 = indexnet.Network([3, 4, 2], hidden="tanh", dtype=np.float32)
    net32.theta = net64.theta
    J32, grad32 = net32.cost_and_gradient(X, Y, lam=0.01, backend=backend)
    J64, grad64 = net64.cost_and_gradient(X, Y, lam=0.01, backend=backend)
    assert grad32.dtype == np.float32 and net32.predict(X).dtype == np.float32
    assert abs(J32 - J64) <= 1e-5 * abs(J64)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-6)


def test_non_contiguous_input_gives_the_same_result():
    net, X, Y = problem([3, 4, 2], "sigmoid", "sigmoid", "squared")
    Xf, Yf = np.asfortranarray(X), np.asfortranarray(Y)
    Xs = np.repeat(X, 2, axis=0)[::2]
    J, grad = net.cost_and_gradient(X, Y)
    for X2, Y2 in ((Xf, Yf), (Xs, Y)):
        J2, grad2 = net.cost_and_gradient(X2, Y2)
        assert J2 == J
        np.testing.assert_array_equal(grad2, grad)


def test_integer_and_list_input_are_converted():
    net = indexnet.Network([2, 3, 1])
    X = [[0, 1], [1, 0]]
    np.testing.assert_array_equal(net.predict(X), net.predict(np.array(X, dtype=float)))


def test_copy_is_independent():
    net = indexnet.Network([2, 3, 1])
    other = net.copy()
    other.W[0][0, 0] += 1
    assert net.W[0][0, 0] != other.W[0][0, 0]
    assert repr(other) == repr(net)


def test_pickle_and_deepcopy_keep_W_and_b_views_of_theta():
    import copy
    import pickle

    net = indexnet.Network([3, 4, 2], hidden="tanh", dtype=np.float32)
    net.theta = np.arange(net.theta.size)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net), net.copy()):
        np.testing.assert_array_equal(other.theta, net.theta)
        assert repr(other) == repr(net) and other.theta.dtype == np.float32
        other.theta = np.zeros(other.theta.size)
        assert not other.W[0].any() and not other.b[1].any()  # still views
        assert net.theta[1] == 1  # and independent of the original
