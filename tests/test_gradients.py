"""Backpropagation's gradient == central differences == an independent autodiff (autograd)."""

import numpy as np
import pytest
from conftest import every_case, problem

import indexnet
from indexnet.gradcheck import numerical_gradient, relative_error

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
