"""Every bad input is refused in Python, with the argument, what was expected and what came."""

import numpy as np
import pytest

import indexnet

NET = indexnet.Network([3, 4, 2])
X = np.zeros((5, 3))
Y = np.zeros((5, 2))


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (dict(sizes=[3]), ValueError, r"sizes must list at least 2 layers.*got \[3\]"),
        (dict(sizes=[3, 0, 2]), ValueError, r"sizes\[1\] must be an integer >= 1; got 0"),
        (dict(sizes=[3, -4, 2]), ValueError, r"sizes\[1\] must be an integer >= 1; got -4"),
        (dict(sizes=[3, 2.5]), TypeError, r"sizes\[1\] must be an integer >= 1; got 2.5"),
        (dict(sizes=[3, True]), TypeError, r"sizes\[1\] must be an integer"),
        (dict(sizes="3,4"), TypeError, r"sizes must be a sequence"),
        (dict(sizes=5), TypeError, r"sizes must be a sequence.*got 5"),
        (dict(hidden="sigmod"), ValueError, r"hidden must be one of 'sigmoid'.*got 'sigmod'"),
        (dict(hidden="softmax"), ValueError, r"hidden must be one of .*got 'softmax'"),
        (dict(output="soft"), ValueError, r"output must be one of .*'softmax'.*got 'soft'"),
        (dict(cost="mse"), ValueError, r"cost must be one of 'squared'.*got 'mse'"),
        (
            dict(output="tanh", cost="cross_entropy"),
            ValueError,
            r"cost='cross_entropy' needs output='sigmoid' or 'softmax'; got output='tanh'",
        ),
        (dict(output="softmax"), ValueError, r"output='softmax' needs cost='cross_entropy'"),
        (
            dict(sizes=[3, 1], output="softmax", cost="cross_entropy"),
            ValueError,
            r"softmax' needs at least 2 output units; got sizes\[-1\]=1",
        ),
        (dict(dtype=np.int64), TypeError, r"dtype must be float32 or float64; got int64"),
        (dict(dtype=np.float16), TypeError, r"dtype must be float32 or float64; got float16"),
        (dict(dtype="banana"), TypeError, r"dtype must be float32 or float64"),
    ],
)
def test_bad_network_arguments(kwargs, error, message):
    kwargs = {"sizes": [3, 4, 2], **kwargs}
    sizes = kwargs.pop("sizes")
    with pytest.raises(error, match=message):
        indexnet.Network(sizes, **kwargs)


BAD_ARRAYS = [
    (np.zeros((5, 4)), ValueError, r"X must have 3 columns \(sizes\[0\].*got shape \(5, 4\)"),
    (np.zeros(3), ValueError, r"X must be 2-D with shape \(m, 3\).*got a 1-D.*reshape\(1, -1\)"),
    (np.zeros((2, 5, 3)), ValueError, r"X must be 2-D.*got a 3-D array of shape \(2, 5, 3\)"),
    (np.zeros((0, 3)), ValueError, r"X must hold at least one example.*got shape \(0, 3\)"),
    (np.full((5, 3), np.nan), ValueError, r"X must be finite; got nan at row 0, column 0"),
    (np.full((5, 3), -np.inf), ValueError, r"X must be finite; got -inf at row 0, column 0"),
    (np.zeros((5, 3), complex), TypeError, r"X must hold real numbers.*got dtype complex128"),
    (np.zeros((5, 3), object), TypeError, r"X must hold real numbers.*got dtype object"),
    (np.full((5, 3), "a"), TypeError, r"X must hold real numbers.*got dtype <U1"),
    (
        np.full((5, 3), 1e300),
        ValueError,
        r"X must be finite; got inf at row 0, column 0 after conversion to float32",
    ),
]


@pytest.mark.parametrize("bad,error,message", BAD_ARRAYS)
def test_bad_X(bad, error, message):
    net = NET
    if "float32" in message:
        net = indexnet.Network([3, 4, 2], dtype=np.float32)
    else:
        # 1e300 is fine in float64: check the float64 network accepts it
        net.predict(np.full((5, 3), 1e300))
    with pytest.raises(error, match=message):
        net.predict(bad)
    with pytest.raises(error, match=message):
        net.cost_and_gradient(bad, Y)


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.zeros((4, 2)), r"Y must have one row per example of X \(5 rows\); got 4 rows"),
        (np.zeros((5, 3)), r"Y must have 2 columns \(sizes\[-1\].*got shape \(5, 3\)"),
        (np.zeros(5), r"Y must be 2-D"),
        (np.full((5, 2), np.inf), r"Y must be finite"),
    ],
)
def test_bad_Y(bad, message):
    with pytest.raises(ValueError, match=message):
        NET.cost_and_gradient(X, bad)


def test_cross_entropy_targets_must_be_probabilities():
    net = indexnet.Network([3, 2], output="sigmoid", cost="cross_entropy")
    with pytest.raises(ValueError, match=r"Y must lie in \[0, 1\].*got values in \[2.0, 2.0\]"):
        net.cost_and_gradient(X, np.full((5, 2), 2.0))
    soft = indexnet.Network([3, 2], output="softmax", cost="cross_entropy")
    with pytest.raises(ValueError, match=r"Y rows must sum to 1.*got row 0 summing to 0.4"):
        soft.cost_and_gradient(X, np.full((5, 2), 0.2))


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (dict(lam=-1.0), ValueError, r"lam must be >= 0.0; got -1.0"),
        (dict(lam=float("nan")), ValueError, r"lam must be finite; got nan"),
        (dict(lam=float("inf")), ValueError, r"lam must be finite; got inf"),
        (dict(lam="0.1"), TypeError, r"lam must be a real number; got '0.1'"),
        (dict(backend="numba"), ValueError, r"backend must be one of 'loops'.*got 'numba'"),
    ],
)
def test_bad_cost_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        NET.cost_and_gradient(X, Y, **kwargs)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: indexnet.gradient_descent(NET, X, Y, alpha=0), ValueError, r"alpha must be > 0"),
        (
            lambda: indexnet.gradient_descent(NET, X, Y, alpha=np.inf),
            ValueError,
            r"alpha must be finite",
        ),
        (
            lambda: indexnet.gradient_descent(NET, X, Y, iterations=0),
            ValueError,
            r"iterations must be an integer >= 1; got 0",
        ),
        (lambda: indexnet.sgd(NET, X, Y, batch_size=1.5), TypeError, r"batch_size must be an int"),
        (lambda: indexnet.lbfgs(NET, X, Y, lam=-2), ValueError, r"lam must be >= 0.0; got -2.0"),
        (lambda: indexnet.train(NET, X, Y, "adam"), ValueError, r"method must be one of 'gd'"),
        (
            lambda: indexnet.check_gradient(NET, X, Y, epsilon=0),
            ValueError,
            r"epsilon must be > 0",
        ),
    ],
)
def test_bad_training_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_theta_assignment_is_checked():
    net = indexnet.Network([3, 4, 2])
    with pytest.raises(ValueError, match=r"theta must have shape \(26,\); got shape \(3,\)"):
        net.theta = np.zeros(3)
    with pytest.raises(TypeError, match=r"theta must hold real numbers; got dtype <U1"):
        net.theta = np.full(26, "x")


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (dict(beta=-1.0), ValueError, r"beta must be >= 0.0; got -1.0"),
        (dict(beta=float("nan")), ValueError, r"beta must be finite"),
        (dict(beta=1.0, rho=0.0), ValueError, r"rho must lie strictly between 0 and 1; got 0.0"),
        (dict(beta=1.0, rho=1.5), ValueError, r"rho must lie strictly between 0 and 1; got 1.5"),
        (dict(rho=1.5), ValueError, r"rho must lie strictly between 0 and 1; got 1.5"),
        (dict(beta=float("inf")), ValueError, r"beta must be finite"),
        (dict(beta=1.0, rho="a"), TypeError, r"rho must be a real number"),
    ],
)
def test_bad_sparsity_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        NET.cost_and_gradient(X, Y, **kwargs)


def test_sparsity_needs_sigmoid_hidden_units_and_a_hidden_layer():
    tanh = indexnet.Network([3, 4, 2], hidden="tanh")
    with pytest.raises(ValueError, match=r"beta > 0 .* needs hidden='sigmoid'.*got hidden='tanh'"):
        tanh.cost_and_gradient(X, Y, beta=1.0)
    flat = indexnet.Network([3, 2])
    with pytest.raises(ValueError, match=r"beta > 0 needs a hidden layer.*\[3, 2\]"):
        indexnet.lbfgs(flat, X, Y, beta=1.0)
    with pytest.raises(ValueError, match=r"beta > 0 needs a hidden layer.*\[3, 2\]"):
        flat.cost_and_gradient(X, Y, beta=1.0)
