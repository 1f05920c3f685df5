# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your own training loop, compiled, built from indexnet's kernels
#
# UFLDL's update is plain gradient descent,
# $\theta := \theta - \alpha \, \partial J / \partial \theta$. The natural next step is
# momentum: a velocity $v$ that remembers past gradients,
#
# $$v := \mu v - \alpha \frac{\partial J}{\partial \theta}, \qquad \theta := \theta + v.$$
#
# Nothing in indexnet implements it; this notebook writes it as a user would, in their own
# `@njit` function, calling the loop kernels of `indexnet.loops` on arrays it allocates itself:
#
# - `weighted_input`, `activation`:
#   $z^{(l+1)} = W^{(l)} a^{(l)} + b^{(l)}$, $a^{(l+1)} = f(z^{(l+1)})$
# - `cost`:
#   $J = \frac{1}{m} \sum_k \frac{1}{2} \| a^{(3)} - y \|^2 + \frac{\lambda}{2} \sum W^2$
# - `output_delta`, `hidden_delta`: $\delta^{(3)}$, then
#   $\delta^{(2)} = \left( W^{(2)T} \delta^{(3)} \right) f'(z^{(2)})$
# - `weight_gradient`, `bias_gradient`:
#   $\partial J / \partial W^{(l)}$, $\partial J / \partial b^{(l)}$
#
# In the plain text of the code's comments:
#
#     v     := mu v - alpha dJ/dtheta
#     theta := theta + v
#
#     weighted_input, activation           z^(l+1) = W^(l) a^(l) + b^(l),  a^(l+1) = f(z^(l+1))
#     cost                                 J = (1/m) sum_k 1/2 ||a^(3) - y||^2 + (lambda/2) sum W^2
#     output_delta, hidden_delta           delta^(3), then delta^(2) = (W^(2)T delta^(3)) f'(z^(2))
#     weight_gradient, bias_gradient       dJ/dW^(l), dJ/db^(l)
#
# It checks that its gradient equals `Network.cost_and_gradient`, then trains XOR with and
# without momentum and prints the costs.

# %%
"""Your own training loop, compiled, built from indexnet's kernels: gradient descent with momentum.

Run: python examples/own_training_loop.py [--quick]

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/own_training_loop.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell).
"""

import os
import sys

import numpy as np
from numba import njit

import indexnet
from indexnet import layout, loops
from indexnet.activations import SIGMOID, SQUARED

# %% [markdown]
# ## The cost and its gradient, from the kernels
#
# Forward, $z^{(2)} = W^{(1)} x + b^{(1)}$, $a^{(2)} = f(z^{(2)})$ and the same one layer up;
# the cost; backward, $\delta^{(3)}$ then $\delta^{(2)}$; and the gradients
# $\partial J / \partial W^{(l)} = \frac{1}{m} \sum_k \delta^{(l+1)} a^{(l)T} + \lambda W^{(l)}$,
# $\partial J / \partial b^{(l)} = \frac{1}{m} \sum_k \delta^{(l+1)}$. Every array it writes is
# passed in, so the training loop below allocates them once.


# %%
@njit
def cost_and_gradient(W1, b1, W2, b2, X, Y, lam, z2, a2, z3, a3, d2, d3, dW1, db1, dW2, db2):
    """J and its gradient for a [s1, s2, s3] sigmoid network, into the arrays given."""
    # forward: z^(2) = W^(1) x + b^(1), a^(2) = f(z^(2)); the same one layer up
    loops.weighted_input(W1, b1, X, z2)
    loops.activation(z2, SIGMOID, a2)
    loops.weighted_input(W2, b2, a2, z3)
    loops.activation(z3, SIGMOID, a3)
    # the cost's weight decay sums both layers' squared weights: one flat array of them
    weights = np.concatenate((W1.ravel(), W2.ravel()))
    J = loops.cost(z3, a3, Y, weights, lam, SQUARED, SIGMOID)
    # backward: delta^(3), then delta^(2) (no sparsity: beta = 0, rho_hat unused)
    loops.output_delta(z3, a3, Y, SQUARED, SIGMOID, d3)
    loops.hidden_delta(W2, d3, z2, a2, SIGMOID, 0.0, 0.05, b1, d2)
    loops.weight_gradient(a2, d3, W2, lam, dW2)
    loops.bias_gradient(d3, db2)
    loops.weight_gradient(X, d2, W1, lam, dW1)
    loops.bias_gradient(d2, db1)
    return J


# %% [markdown]
# ## Momentum
#
# One update of a flat parameter array, entry by entry:
# $v_q := \mu v_q - \alpha \, \partial J / \partial \theta_q$, $\theta_q := \theta_q + v_q$.
# With $\mu = 0$ it is plain gradient descent.


# %%
@njit
def momentum_step(theta, grad, v, alpha, mu):
    """One momentum update of a flat parameter array ``theta`` and its velocity ``v``."""
    for q in range(theta.shape[0]):
        # v := mu v - alpha dJ/dtheta;  theta := theta + v
        v[q] = mu * v[q] - alpha * grad[q]
        theta[q] += v[q]


@njit
def momentum_descent(W1, b1, W2, b2, X, Y, lam, alpha, mu, iterations, costs):
    """``iterations`` steps of gradient descent with momentum ``mu``, the parameters in place."""
    m, s2, s3 = X.shape[0], W1.shape[0], W2.shape[0]
    z2, a2, d2 = np.empty((m, s2)), np.empty((m, s2)), np.empty((m, s2))
    z3, a3, d3 = np.empty((m, s3)), np.empty((m, s3)), np.empty((m, s3))
    dW1, db1, dW2, db2 = np.empty_like(W1), np.empty_like(b1), np.empty_like(W2), np.empty_like(b2)
    vW1, vb1, vW2, vb2 = np.zeros(W1.size), np.zeros(b1.size), np.zeros(W2.size), np.zeros(b2.size)
    for t in range(iterations):
        costs[t] = cost_and_gradient(
            W1, b1, W2, b2, X, Y, lam, z2, a2, z3, a3, d2, d3, dW1, db1, dW2, db2
        )
        momentum_step(W1.reshape(-1), dW1.reshape(-1), vW1, alpha, mu)
        momentum_step(b1, db1, vb1, alpha, mu)
        momentum_step(W2.reshape(-1), dW2.reshape(-1), vW2, alpha, mu)
        momentum_step(b2, db2, vb2, alpha, mu)


# %% [markdown]
# ## Check, then train XOR
#
# 1. The same $J$ and gradient as the library's, from the arrays this notebook allocated.
# 2. XOR, a [2, 4, 1] network, $\lambda = 10^{-4}$, $\alpha = 0.5$: plain gradient descent
#    ($\mu = 0$) against momentum ($\mu = 0.9$).


# %%
def main():
    # --quick, or INDEXNET_QUICK=1: 1000 iterations instead of 4000
    quick = "--quick" in sys.argv[1:] or os.environ.get("INDEXNET_QUICK") == "1"
    iterations = 1000 if quick else 4000
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = indexnet.Network([2, 4, 1], seed=2)
    lam = 1e-4

    # 1. The same gradient as the library's, from the arrays this script allocated.
    W1, b1, W2, b2 = (p.copy() for p in (net.W[0], net.b[0], net.W[1], net.b[1]))
    m = X.shape[0]
    buffers = [np.empty((m, s)) for s in (4, 4, 1, 1, 4, 1)]
    grads = [np.empty_like(p) for p in (W1, b1, W2, b2)]
    J = cost_and_gradient(W1, b1, W2, b2, X, Y, lam, *buffers, *grads)
    J_net, grad_net = net.cost_and_gradient(X, Y, lam=lam)
    sizes = np.array(net.sizes)
    mine = np.empty_like(grad_net)
    for l, (dW, db) in enumerate([(grads[0], grads[1]), (grads[2], grads[3])]):
        layout.weights_of(mine, sizes, l)[...] = dW
        layout.biases_of(mine, sizes, l)[...] = db
    print(f"J: own loop {J:.15f}, Network {J_net:.15f}")
    print(f"max |own gradient - Network's gradient| = {np.abs(mine - grad_net).max():.3e}")

    # 2. Train XOR: plain gradient descent (mu = 0) against momentum (mu = 0.9).
    for mu in (0.0, 0.9):
        W1, b1, W2, b2 = (p.copy() for p in (net.W[0], net.b[0], net.W[1], net.b[1]))
        costs = np.empty(iterations)
        momentum_descent(W1, b1, W2, b2, X, Y, lam, 0.5, mu, iterations, costs)
        print(f"mu = {mu}: J from {costs[0]:.6f} to {costs[-1]:.6f} in {iterations} iterations")


if __name__ == "__main__":
    main()
