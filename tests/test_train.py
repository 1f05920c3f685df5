"""Training reaches what the math promises, and stops cleanly when it cannot."""

import warnings

import numpy as np
import pytest

import indexnet

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_gradient_descent_learns_xor(backend):
    net = indexnet.Network([2, 3, 1], seed=1)
    result = indexnet.gradient_descent(
        net, XOR_X, XOR_Y, alpha=2.0, iterations=5000, backend=backend
    )
    out = net.predict(XOR_X).ravel()
    assert ((out > 0.5) == (XOR_Y.ravel() == 1)).all(), out
    assert result.costs[-1] < result.costs[0] / 10
    assert not result.diverged and result.iterations == 5000


def test_backends_train_to_identical_parameters():
    nets = {b: indexnet.Network([2, 3, 1], seed=1) for b in ("loops", "vectorized")}
    for backend, net in nets.items():
        indexnet.gradient_descent(net, XOR_X, XOR_Y, alpha=2.0, iterations=200, backend=backend)
    np.testing.assert_allclose(nets["loops"].theta, nets["vectorized"].theta, rtol=1e-10)


def test_sgd_learns_xor():
    net = indexnet.Network([2, 3, 1], seed=1)
    result = indexnet.sgd(net, XOR_X, XOR_Y, alpha=2.0, epochs=3000, batch_size=2, seed=0)
    out = net.predict(XOR_X).ravel()
    assert ((out > 0.5) == (XOR_Y.ravel() == 1)).all(), out
    assert result.costs[-1] < result.costs[0] / 10


def test_lbfgs_reduces_regression_cost_by_orders_of_magnitude():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    Y = np.sin(2 * X[:, :1]) * X[:, 1:]
    net = indexnet.Network([2, 10, 1], hidden="tanh", output="identity")
    J0, _ = net.cost_and_gradient(X, Y)
    result = indexnet.lbfgs(net, X, Y, iterations=300)
    J1, _ = net.cost_and_gradient(X, Y)
    assert J1 < J0 / 1000
    assert result.costs[-1] == pytest.approx(J1)


def test_training_is_deterministic():
    thetas = []
    for _ in range(2):
        net = indexnet.Network([2, 3, 1], seed=5)
        indexnet.sgd(net, XOR_X, XOR_Y, alpha=1.0, epochs=50, batch_size=3, seed=7)
        thetas.append(net.theta.copy())
    np.testing.assert_array_equal(*thetas)


@pytest.mark.parametrize("method", ["gd", "sgd"])
def test_divergence_stops_and_keeps_finite_parameters(method):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 10, (50, 3))
    Y = rng.normal(0, 10, (50, 1))
    net = indexnet.Network([3, 5, 1], hidden="relu", output="identity")
    options = {"iterations": 100} if method == "gd" else {"epochs": 100}
    with pytest.warns(indexnet.DivergenceWarning, match="NaN or infinite"):
        result = indexnet.train(net, X, Y, method, alpha=1e6, **options)
    assert result.diverged and "kept the last parameters" in result.message
    assert np.isfinite(net.theta).all()
    assert np.isfinite(net.cost_and_gradient(X, Y)[0])
    assert all(np.isfinite(result.costs))


def test_lbfgs_never_leaves_non_finite_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1e150, (20, 2))
    Y = rng.normal(0, 1e150, (20, 1))
    net = indexnet.Network([2, 3, 1], hidden="identity", output="identity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", indexnet.DivergenceWarning)
        indexnet.lbfgs(net, X, Y, iterations=50)
    assert np.isfinite(net.theta).all()


def test_callback_sees_every_iteration():
    seen = []
    net = indexnet.Network([2, 3, 1])
    indexnet.gradient_descent(
        net, XOR_X, XOR_Y, iterations=7, callback=lambda i, J: seen.append((i, J))
    )
    assert [i for i, _ in seen] == list(range(7))
    assert all(np.isfinite(J) for _, J in seen)


@pytest.mark.parametrize(
    "method,options",
    [("gd", dict(alpha=2.0, iterations=50)), ("sgd", dict(alpha=2.0, epochs=20, batch_size=2)),
     ("lbfgs", dict(iterations=20))],
)  # fmt: skip
def test_training_takes_every_layout_alike_and_names_a_nan(method, options):
    """Ready arrays (C-ordered float64) are trained on as they are, their values checked in
    compiled code; any other layout is checked and copied. Both train alike and refuse alike."""
    layouts = {
        "ready": (XOR_X, XOR_Y),
        "fortran": (np.asfortranarray(XOR_X), np.asfortranarray(XOR_Y)),
        "lists": (XOR_X.tolist(), XOR_Y.tolist()),
        "read-only": tuple(np.array(A) for A in (XOR_X, XOR_Y)),
    }
    for A in layouts["read-only"]:
        A.flags.writeable = False
    thetas = []
    for X, Y in layouts.values():
        net = indexnet.Network([2, 3, 1], seed=1)
        indexnet.train(net, X, Y, method, **options)
        thetas.append(net.theta.copy())
    for theta in thetas[1:]:
        np.testing.assert_array_equal(theta, thetas[0])
    for bad, name in ((XOR_X.copy(), "X"), (XOR_Y.copy(), "Y")):
        bad[2, -1] = np.nan
        X, Y = (bad, XOR_Y) if name == "X" else (XOR_X, bad)
        net = indexnet.Network([2, 3, 1], seed=1)
        before = net.theta.copy()
        with pytest.raises(ValueError, match=rf"{name} must be finite; got nan at row 2, column"):
            indexnet.train(net, X, Y, method, **options)
        np.testing.assert_array_equal(net.theta, before)
