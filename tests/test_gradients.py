"""Backpropagation's gradient == central differences == an independent autodiff (autograd)."""

import numpy as np
import pytest
from conftest import every_case, problem

import indexnet
from indexnet.api.gradcheck import numerical_gradient, relative_error

ag = pytest.importorskip("autograd")
anp = pytest.importorskip("autograd.numpy")


@every_case
@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_gradient_matches_central_differences(sizes, hidden, output, cost, backend):
    net, X, Y = problem(sizes, hidden, output, cost)
    check = indexnet.check_gradient(net, X, Y, lam=0.01, backend=backend)
    assert check.relative_error < 1e-8


def test_gradient_check_catches_a_wrong_gradient():
    net, X, Y = problem([3, 4, 2], "sigmoid", "sigmoid", "squared")
    _J, grad = net.cost_and_gradient(X, Y)
    wrong = grad.copy()
    wrong[0] *= 1.01

    def cost(theta):
        return net.cost_and_gradient(X, Y)[0]

    numerical = numerical_gradient(cost, net.theta)
    assert relative_error(numerical, grad) < 1e-8
    assert relative_error(numerical, wrong) > 1e-5


def test_numerical_gradient_restores_theta():
    net, X, Y = problem([3, 4, 2], "tanh", "identity", "squared")
    before = net.theta.copy()
    indexnet.check_gradient(net, X, Y)
    np.testing.assert_array_equal(net.theta, before)


def _autograd_cost(net, X, Y, lam):
    """The same cost written from scratch in autograd.numpy, from the definitions alone."""
    f = {
        "sigmoid": lambda z: 1 / (1 + anp.exp(-z)),
        "tanh": anp.tanh,
        "relu": lambda z: anp.maximum(z, 0),
        "identity": lambda z: z,
        "softmax": lambda z: anp.exp(z) / anp.sum(anp.exp(z), axis=1, keepdims=True),
    }
    sizes = net.sizes

    def J(theta):
        weights, start = [], 0
        for l in range(len(sizes) - 1):
            n = sizes[l + 1] * sizes[l]
            weights.append(anp.reshape(theta[start : start + n], (sizes[l + 1], sizes[l])))
            start += n
        a = X
        for l, W in enumerate(weights):
            b = theta[start : start + sizes[l + 1]]
            start += sizes[l + 1]
            last = l == len(weights) - 1
            a = f[net.output if last else net.hidden](anp.dot(a, W.T) + b)
        if net.cost == "squared":
            data = anp.sum(0.5 * (a - Y) ** 2)
        elif net.output == "softmax":
            data = -anp.sum(Y * anp.log(a))
        else:
            data = -anp.sum(Y * anp.log(a) + (1 - Y) * anp.log(1 - a))
        decay = sum(anp.sum(W**2) for W in weights)
        return data / X.shape[0] + lam / 2 * decay

    return J


@every_case
def test_gradient_matches_autograd(sizes, hidden, output, cost):
    net, X, Y = problem(sizes, hidden, output, cost)
    J_auto = _autograd_cost(net, X, Y, lam=0.01)
    J, grad = net.cost_and_gradient(X, Y, lam=0.01)
    assert abs(J - J_auto(net.theta.copy())) <= 1e-12 * abs(J)
    assert relative_error(ag.grad(J_auto)(net.theta.copy()), grad) < 1e-12


def _sparse_problem(sizes=(8, 5, 8), m=10):
    rng = np.random.default_rng(3)
    net = indexnet.Network(list(sizes), seed=3)
    X = rng.uniform(0, 1, (m, sizes[0]))
    return net, X


@pytest.mark.parametrize("backend", ["loops", "vectorized", "python"])
@pytest.mark.parametrize("sizes", [(8, 5, 8), (6, 5, 4, 6)])
def test_sparse_autoencoder_gradient_matches_central_differences(backend, sizes):
    net, X = _sparse_problem(sizes)
    check = indexnet.check_gradient(net, X, X, lam=1e-4, backend=backend, beta=3.0, rho=0.1)
    assert check.relative_error < 1e-8


def test_sparse_autoencoder_matches_autograd():
    net, X = _sparse_problem()
    beta, rho, lam = 3.0, 0.1, 1e-4
    J_plain = _autograd_cost(net, X, X, lam)
    W1, b1 = net.W[0], net.b[0]

    def J(theta):
        hidden = 1 / (
            1 + anp.exp(-(anp.dot(X, anp.reshape(theta[:40], W1.shape).T) + theta[80:85]))
        )
        rho_hat = anp.mean(hidden, axis=0)
        kl = rho * anp.log(rho / rho_hat) + (1 - rho) * anp.log((1 - rho) / (1 - rho_hat))
        return J_plain(theta) + beta * anp.sum(kl)

    assert net.W[1].shape == (8, 5) and b1.shape == (5,)
    value, grad = net.cost_and_gradient(X, X, lam=lam, beta=beta, rho=rho)
    assert abs(value - J(net.theta.copy())) <= 1e-12 * abs(value)
    assert relative_error(ag.grad(J)(net.theta.copy()), grad) < 1e-12


def test_sparsity_penalty_is_zero_at_the_target():
    net, X = _sparse_problem()
    rho_hat = net.trace(X, X).a[1].mean(axis=0)
    from indexnet.kernels import loops

    assert loops.sparsity_penalty(rho_hat, float(rho_hat[0]), 3.0) > 0
    assert loops.sparsity_penalty(np.full(5, 0.2), 0.2, 3.0) == pytest.approx(0.0, abs=1e-15)
    J0, _ = net.cost_and_gradient(X, X)
    J3, _ = net.cost_and_gradient(X, X, beta=3.0, rho=0.1)
    assert J3 > J0
