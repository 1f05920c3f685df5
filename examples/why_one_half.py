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
# # Why UFLDL's cost has a $\frac{1}{2}$
#
# It cancels the 2 that differentiating the square brings down. UFLDL's cost ($\lambda = 0$
# here) and the same cost without the $\frac{1}{2}$:
#
# $$J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| h_{W,b}(x^{(k)}) - y^{(k)} \right\|^2,
# \qquad
# J_2(W,b) = \frac{1}{m} \sum_{k=1}^{m} \left\| h_{W,b}(x^{(k)}) - y^{(k)} \right\|^2 = 2 J(W,b)$$
#
# $$\frac{\partial}{\partial a} \frac{1}{2} (a - y)^2 = a - y,
# \qquad\text{so}\qquad
# \delta_i^{(n_l)} = -\left(y_i - a_i^{(n_l)}\right) f'\!\left(z_i^{(n_l)}\right)
# \text{ carries no 2.}$$
#
# In the plain text of the code's comments and printed lines:
#
#     J(W,b)  = (1/m) sum_k 1/2 ||h(x_k) - y_k||^2     UFLDL's cost (lambda = 0 here)
#     J2(W,b) = (1/m) sum_k     ||h(x_k) - y_k||^2     the same without the 1/2: J2 = 2 J
#
#     d/da 1/2 (a - y)^2 = (a - y),  so  delta_i^(nl) = -(y_i - a_i) f'(z_i)  carries no 2.
#
# Without the $\frac{1}{2}$ every gradient is exactly twice as large and nothing else changes: a
# cost multiplied by $2 > 0$ has the same minimisers, and gradient descent on $J_2$ with step
# $\alpha/2$ takes exactly the steps of $J$ with $\alpha$. The $\frac{1}{2}$ is a convenience,
# not a modelling choice. $J$ comes from indexnet; $J_2$ is computed here in NumPy from the
# predictions alone, and its gradient by central differences, so nothing below assumes the
# answer.

# %%
"""Why UFLDL's cost has a 1/2: it cancels the 2 that differentiating the square brings down.

Run: python examples/why_one_half.py [--quick]

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/why_one_half.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell).
"""

import os
import sys

import numpy as np

import indexnet

# --quick, or INDEXNET_QUICK=1: 20 examples instead of 200
quick = "--quick" in sys.argv[1:] or os.environ.get("INDEXNET_QUICK") == "1"
rng = np.random.default_rng(0)
m = 20 if quick else 200
X = rng.uniform(-1, 1, (m, 2))
Y = 0.5 + 0.4 * np.sin(2 * X[:, :1]) * X[:, 1:] + 0.02 * rng.standard_normal((m, 1))
net = indexnet.Network([2, 3, 1], hidden="sigmoid", output="sigmoid", seed=1)

# %% [markdown]
# ## The two costs
#
# $J$ and its gradient $\partial J / \partial \theta$ by backpropagation; $J_2$ from
# `net.predict` only, so it knows nothing of the $\frac{1}{2}$.


# %%
def J2(theta=None):
    """(1/m) sum_k ||h(x_k) - y_k||^2, from net.predict only (reads net.theta in place)."""
    return np.mean(np.sum((net.predict(X) - Y) ** 2, axis=1))


# J = (1/m) sum_k 1/2 ||h(x_k) - y_k||^2 and dJ/dtheta, by backpropagation
J, grad = net.cost_and_gradient(X, Y)
print(f"m = {m} examples, network 2-3-1, lambda = 0")
print(f"J  (with the 1/2)    = {J:.15f}")
print(f"J2 (without the 1/2) = {J2():.15f}")
print(f"J2 / J = {J2() / J:.15f}\n")

# %% [markdown]
# ## Every gradient is twice as large
#
# $$\frac{\partial J_2}{\partial \theta_q} \approx
# \frac{J_2(\theta + \varepsilon e_q) - J_2(\theta - \varepsilon e_q)}{2 \varepsilon},
# \qquad \frac{\partial J_2}{\partial \theta_q} = 2 \frac{\partial J}{\partial \theta_q}$$
#
# compared by UFLDL's relative error
# $\|\nabla J_2 - 2 \nabla J\| / \|\nabla J_2 + 2 \nabla J\|$.

# %%
# dJ2/dtheta_q ~ (J2(theta + eps e_q) - J2(theta - eps e_q)) / (2 eps)
grad2 = indexnet.numerical_gradient(J2, net.theta, epsilon=1e-5)
print("     q   dJ/dtheta_q (backprop)   dJ2/dtheta_q (finite diff)   ratio")
for q in range(0, net.theta.size, 3):
    print(f"  {q:4d}   {grad[q]: .15e}    {grad2[q]: .15e}    {grad2[q] / grad[q]:.10f}")
error = indexnet.relative_error(grad2, 2 * grad)
print(f"||dJ2 - 2 dJ|| / ||dJ2 + 2 dJ|| = {error:.3e}   (UFLDL's relative error)\n")

# %% [markdown]
# ## The same steps, with half the learning rate
#
# $$\theta := \theta - \alpha \frac{\partial J}{\partial \theta}
# \qquad\text{versus}\qquad
# \theta := \theta - \frac{\alpha}{2} \frac{\partial J_2}{\partial \theta}$$

# %%
# gradient descent:  theta := theta - alpha dJ/dtheta   versus   theta - (alpha/2) dJ2/dtheta
alpha = 0.5
step = net.theta - alpha * grad
step2 = net.theta - alpha / 2 * grad2
print(f"one step on J with alpha = {alpha} and on J2 with alpha/2: largest difference in theta")
print(f"  max |theta_J - theta_J2| = {np.max(np.abs(step - step2)):.3e}\n")

# %% [markdown]
# ## The same minimisers
#
# Train on $J$, $\min_{W,b} J(W,b)$ by L-BFGS; where $\nabla J = 0$, $\nabla J_2 = 2 \nabla J$
# vanishes too.

# %%
# min_{W,b} J(W,b) by L-BFGS through indexnet
result = indexnet.lbfgs(net, X, Y, iterations=1000)
best = net.theta.copy()
_, grad_best = net.cost_and_gradient(X, Y)
grad2_best = indexnet.numerical_gradient(J2, net.theta, epsilon=1e-5)
print(f"trained on J by L-BFGS ({result.iterations} iterations): J = {result.final_cost:.6e}")
norms = np.linalg.norm(grad_best), np.linalg.norm(grad2_best)
print(f"  there ||dJ|| = {norms[0]:.3e} (at the start {np.linalg.norm(grad):.3e})")
print(f"  and ||dJ2|| = {norms[1]:.3e}: a stationary point of both")
print(f"  ||dJ2|| / ||dJ|| = {norms[1] / norms[0]:.6f}\n")

# %% [markdown]
# ## The same order
#
# $J_2 = 2J$ ranks any set of parameters exactly as $J$ does:
# $\arg\min J = \arg\min J_2$ over the trained $\theta$ and 200 random perturbations of it.

# %%
# argmin over candidates: the trained theta and 200 random perturbations of it
candidates = [best] + [best + 0.05 * rng.standard_normal(best.shape) for _ in range(200)]
costs, costs2 = [], []
for theta in candidates:
    net.theta = theta
    costs.append(net.cost_and_gradient(X, Y)[0])
    costs2.append(J2())
same_order = np.array_equal(np.argsort(costs, kind="stable"), np.argsort(costs2, kind="stable"))
print(f"over {len(candidates)} candidate thetas (the trained one is candidate 0):")
print(f"  argmin J = {int(np.argmin(costs))}   argmin J2 = {int(np.argmin(costs2))}")
print(f"  the two costs rank all candidates in the same order: {same_order}")
