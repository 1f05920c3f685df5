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
# # Why UFLDL's cost averages over the $m$ examples instead of adding them up
#
# $$J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| h_{W,b}(x^{(k)}) - y^{(k)} \right\|^2
# \quad\text{(the average, UFLDL)},
# \qquad
# J_{\text{sum}}(W,b) = \sum_{k=1}^{m} \frac{1}{2} \left\| h_{W,b}(x^{(k)}) - y^{(k)} \right\|^2
# = m J(W,b)$$
#
# $$\text{gradient descent:}\qquad \theta := \theta - \alpha \frac{\partial J}{\partial \theta}$$
#
# In the plain text of the code's comments and printed lines:
#
#     J(W,b)     = (1/m) sum_k 1/2 ||h(x_k) - y_k||^2      the average (UFLDL)
#     J_sum(W,b) =       sum_k 1/2 ||h(x_k) - y_k||^2  = m J
#
#     gradient descent:  theta := theta - alpha dJ/dtheta
#
# The gradient of $J$ is an average of per-example gradients, so its size does not depend on
# how many examples there are; the gradient of $J_{\text{sum}}$ is $m$ times as large. A
# learning rate $\alpha$ that works for $J$ works for any $m$. With $J_{\text{sum}}$ the same
# $\alpha$ makes steps $m$ times longer, and once $\alpha m$ passes the stability limit the
# iterates blow up, sooner the larger $m$ is. Since
#
# $$\theta := \theta - \alpha \frac{\partial J_{\text{sum}}}{\partial \theta}
# = \theta - (\alpha m) \frac{\partial J}{\partial \theta},$$
#
# $J_{\text{sum}}$ is run here as indexnet's gradient descent on $J$ with the step $\alpha m$.

# %%
"""Why UFLDL's cost averages over the m examples instead of adding them up.

Run: python examples/why_average.py [--quick]

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/why_average.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell).
"""

import os
import sys
import warnings

import numpy as np

import indexnet

# --quick, or INDEXNET_QUICK=1: m up to 1000 instead of 10000
quick = "--quick" in sys.argv[1:] or os.environ.get("INDEXNET_QUICK") == "1"
sizes_m = [1, 10, 100, 1000] if quick else [1, 10, 100, 1000, 10000]
alpha, iterations = 0.5, 200
rng = np.random.default_rng(0)

# %% [markdown]
# For each $m$: a fresh data set, one starting network, and two runs of gradient descent from
# it, one with the step $\alpha$ (the average $J$) and one with $\alpha m$ (the sum
# $J_{\text{sum}}$). $\|\nabla J\|$ stays about the same as $m$ grows;
# $\|\nabla J_{\text{sum}}\| = m \|\nabla J\|$ does not.

# %%
print(f"network 2-4-1 (tanh hidden, identity output), alpha = {alpha}, {iterations} iterations\n")
print(
    f"{'m':>6} {'J at start':>11} {'||dJ||':>9} {'||dJ_sum||':>11}   "
    f"{'average: J at end':<20} sum: J at end"
)
for m in sizes_m:
    X = rng.uniform(-1, 1, (m, 2))
    Y = X[:, :1] - 0.5 * X[:, 1:] + 0.1 * rng.standard_normal((m, 1))
    start = indexnet.Network([2, 4, 1], hidden="tanh", output="identity", seed=0)
    # J = (1/m) sum_k 1/2 ||h(x_k) - y_k||^2 and dJ/dtheta; J_sum = m J, dJ_sum/dtheta = m dJ/dtheta
    J0, grad = start.cost_and_gradient(X, Y)
    results = []
    for step in (alpha, alpha * m):
        net = start.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", indexnet.DivergenceWarning)
            # theta := theta - step dJ/dtheta, `iterations` times
            results.append(indexnet.gradient_descent(net, X, Y, alpha=step, iterations=iterations))
    average, plain_sum = results
    if plain_sum.diverged:
        sum_text = f"diverged at iteration {plain_sum.iterations}"
    else:
        sum_text = f"{plain_sum.final_cost:.6f}"
    avg_text = "diverged" if average.diverged else f"{average.final_cost:.6f}"
    print(
        f"{m:>6} {J0:>11.6f} {np.linalg.norm(grad):>9.4f} {m * np.linalg.norm(grad):>11.4f}   "
        f"{avg_text:<20} {sum_text}"
    )
print("\n(J is always reported as the average, so the columns compare; J_sum = m J.)")
print("With m = 1 the two costs are the same function, so the two runs are the same run.")
