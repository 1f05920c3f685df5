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
# # Why UFLDL's cost has a weight-decay term, and what it is
#
# $$J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| h_{W,b}(x^{(k)}) - y^{(k)} \right\|^2
# + \frac{\lambda}{2} \sum_{l} \sum_{i} \sum_{j} \left( W_{ij}^{(l)} \right)^2$$
#
# $$\frac{\partial J}{\partial W_{ij}^{(l)}}
# = \frac{1}{m} \sum_{k=1}^{m} a_j^{(l)} \delta_i^{(l+1)} + \lambda W_{ij}^{(l)}$$
#
# In the plain text of the code's comments and printed lines:
#
#     J(W,b) = (1/m) sum_k 1/2 ||h(x_k) - y_k||^2  +  (lambda/2) sum_l sum_i sum_j (W_ij^(l))^2
#
#     dJ/dW_ij^(l) = (1/m) sum_k a_j^(l) delta_i^(l+1)  +  lambda W_ij^(l)
#
# Three things, each shown with numbers:
#
# 1. The term adds exactly $\lambda W$ to the weight gradient (nothing to the biases), so a
#    gradient step first shrinks every weight by the factor $(1 - \alpha \lambda)$: "weight
#    decay". Trained networks have smaller weights the larger $\lambda$ is.
# 2. On a small noisy training set, a network with $\lambda = 0$ fits the noise; a little decay
#    gives a lower error on fresh data from the same source.
# 3. It is the maximum a posteriori (MAP) estimate: with Gaussian noise
#    $y = h(x) + \mathcal{N}(0, \sigma^2)$ and a Gaussian prior $W_{ij} \sim \mathcal{N}(0, \tau^2)$
#    (biases: flat prior),
#    $$-\log p(W,b \mid \text{data}) = \frac{m}{\sigma^2} J(W,b) + \text{constant},
#    \qquad \lambda = \frac{\sigma^2}{m \tau^2},$$
#    so minimising $J$ and maximising the posterior are the same problem.
#
#        -log p(W,b | data) = (m / sigma^2) J(W,b) + constant,   lambda = sigma^2 / (m tau^2)

# %%
"""Why UFLDL's cost has a weight-decay term, and what it is.

Run: python examples/why_weight_decay.py [--quick]

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/why_weight_decay.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell).
"""

import os
import sys

import numpy as np

import indexnet

# --quick, or INDEXNET_QUICK=1: one training set instead of five, 300 iterations instead of 1000
quick = "--quick" in sys.argv[1:] or os.environ.get("INDEXNET_QUICK") == "1"
seeds = range(1) if quick else range(5)
iterations = 300 if quick else 1000
lambdas = [0.0, 1e-4, 1e-3, 1e-2]
noise = 0.25  # sigma, the standard deviation of the noise on y


def noisy_sine(m, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (m, 1))
    return x, np.sin(3 * x) + noise * rng.standard_normal((m, 1))


def network(seed):
    return indexnet.Network([1, 20, 1], hidden="sigmoid", output="identity", seed=seed)


# %% [markdown]
# ## 1. The gradient of the decay term is $\lambda W$, and only on the weights
#
# $$\frac{\partial J}{\partial W_{ij}^{(l)}}
# = \frac{1}{m} \sum_k a_j^{(l)} \delta_i^{(l+1)} + \lambda W_{ij}^{(l)},
# \qquad
# \frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m} \sum_k \delta_i^{(l+1)}$$
#
# so a gradient step is, with $J_0$ the cost with $\lambda = 0$,
#
# $$W := W - \alpha \frac{\partial J}{\partial W}
# = (1 - \alpha \lambda) W - \alpha \frac{\partial J_0}{\partial W}.$$

# %%
X, Y = noisy_sine(15, seed=0)
net = network(seed=0)
n_w = net.n_weights  # theta = [all weights, then all biases]

print("1. The gradient of the decay term is lambda W, and only on the weights")
lam = 1e-2
# dJ/dW = (1/m) sum_k a_j delta_i + lambda W_ij ;  dJ/db = (1/m) sum_k delta_i
_, grad_0 = net.cost_and_gradient(X, Y, lam=0.0)
_, grad_lam = net.cost_and_gradient(X, Y, lam=lam)
extra = grad_lam - grad_0
print(
    f"   lambda = {lam}: max |(dJ_lambda - dJ_0) - lambda W| over the weights = "
    f"{np.max(np.abs(extra[:n_w] - lam * net.theta[:n_w])):.2e}"
)
print(f"   max |dJ_lambda - dJ_0| over the biases = {np.max(np.abs(extra[n_w:])):.2e}")
alpha = 0.5
print(
    f"   so W := W - alpha dJ/dW = (1 - alpha lambda) W - alpha dJ_0/dW, with 1 - alpha lambda"
    f" = {1 - alpha * lam}"
)

# %% [markdown]
# ## 2. Less overfitting
#
# Fifteen noisy examples of $\sin(3x)$, noise $\sigma = 0.25$, a 1-20-1 network trained by
# L-BFGS, $\min_{W,b} J(W,b)$ for each $\lambda$; the errors are
# $\frac{1}{m} \sum_k \left( h(x^{(k)}) - y^{(k)} \right)^2$ on the training set and on 500
# fresh noisy examples. No network can do better on fresh data than the noise,
# $\sigma^2 = 0.0625$.

# %%
print(
    "\n2. Fifteen noisy examples of sin(3x), a 1-20-1 network, L-BFGS for "
    f"{iterations} iterations; errors on 500 fresh noisy examples"
)
X_val, Y_val = noisy_sine(500, seed=1000)
print(f"   {'lambda':>8} {'||W||':>10} {'training error':>15} {'validation error':>17}")
validation = {}
for lam in lambdas:
    norms, train, valid = [], [], []
    for seed in seeds:
        X, Y = noisy_sine(15, seed)
        net = network(seed)
        # min_{W,b} J(W,b) with this lambda
        indexnet.lbfgs(net, X, Y, lam=lam, iterations=iterations)
        norms.append(np.linalg.norm(net.theta[:n_w]))
        train.append(np.mean((net.predict(X) - Y) ** 2))
        valid.append(np.mean((net.predict(X_val) - Y_val) ** 2))
    validation[lam] = np.mean(valid)
    print(f"   {lam:>8g} {np.mean(norms):>10.3f} {np.mean(train):>15.4f} {np.mean(valid):>17.4f}")
best = min(validation, key=validation.get)
sets = f"{len(seeds)} training sets" if len(seeds) > 1 else "1 training set"
print(f"   (mean over {sets}; the noise alone gives {noise**2:.4f})")
print(f"   lowest validation error at lambda = {best:g}; lambda = 0 gives {validation[0.0]:.4f}")

# %% [markdown]
# ## 3. Weight decay is a Gaussian prior
#
# With $y^{(k)} = h(x^{(k)}) + \mathcal{N}(0, \sigma^2)$ and $W_{ij} \sim \mathcal{N}(0, \tau^2)$,
#
# $$-\log p(W,b \mid \text{data})
# = \sum_k \frac{\left( h(x^{(k)}) - y^{(k)} \right)^2}{2 \sigma^2}
# + \sum_{l,i,j} \frac{\left( W_{ij}^{(l)} \right)^2}{2 \tau^2} + \text{constant}
# = \frac{m}{\sigma^2} J(W,b) + \text{constant}
# \quad\text{when}\quad \lambda = \frac{\sigma^2}{m \tau^2}.$$
#
# The left side is computed below from the two densities and `net.predict`, not from $J$; the
# difference of the two sides must be the same constant for every $\theta$, and the posterior
# flattest where $J$ is minimised.

# %%
print("\n3. Weight decay is a Gaussian prior: -log posterior = (m / sigma^2) J + constant")
X, Y = noisy_sine(15, seed=0)
m, lam = X.shape[0], 1e-3
tau = noise / np.sqrt(m * lam)  # lambda = sigma^2 / (m tau^2)
print(f"   sigma = {noise}, m = {m}, lambda = {lam}  ->  prior tau = {tau:.4f}")


def log_normal(x, mean, sd):
    """log of the normal density N(x; mean, sd^2), summed over the entries."""
    return np.sum(-0.5 * ((x - mean) / sd) ** 2 - np.log(sd * np.sqrt(2 * np.pi)))


def minus_log_posterior(net):
    """-log p(data | W,b) - log p(W), from the densities and net.predict, not from J."""
    return -(log_normal(Y, net.predict(X), noise) + log_normal(net.theta[:n_w], 0.0, tau))


net = network(seed=0)
thetas = [net.theta.copy()]
for lam_other in (0.0, lam):
    indexnet.lbfgs(net, X, Y, lam=lam_other, iterations=iterations)
    thetas.append(net.theta.copy())
thetas += [
    thetas[-1] + 0.1 * np.random.default_rng(q).standard_normal(net.theta.shape) for q in range(3)
]
print(f"   {'theta':<28} {'-log posterior':>16} {'(m/sigma^2) J':>16} {'difference':>18}")
names = ["initial", "trained, lambda = 0", f"trained, lambda = {lam}"]
names += [f"perturbed MAP #{q + 1}" for q in range(3)]
differences = []
for name, theta in zip(names, thetas, strict=True):
    net.theta = theta
    scaled = m / noise**2 * net.cost_and_gradient(X, Y, lam=lam)[0]
    differences.append(minus_log_posterior(net) - scaled)
    print(
        f"   {name:<28} {minus_log_posterior(net):>16.8f} {scaled:>16.8f} {differences[-1]:>18.12f}"
    )
print(f"   the difference is the same constant for every theta: spread = {np.ptp(differences):.2e}")

# %% [markdown]
# The slope $\left\| \nabla_\theta \left( -\log p(W,b \mid \text{data}) \right) \right\|$, by
# finite differences: zero at the MAP estimate, the $\theta$ that minimises $J$ with this
# $\lambda$.

# %%
print("   ||d(-log posterior)||, by finite differences, at:")
slopes = []
for name, theta in zip(names[:3], thetas[:3], strict=True):
    net.theta = theta
    gradient = indexnet.numerical_gradient(lambda _: minus_log_posterior(net), net.theta, 1e-6)
    slopes.append(np.linalg.norm(gradient))
    print(f"     {name:<26} {slopes[-1]:.2e}")
print(f"   flattest at: {names[int(np.argmin(slopes))]} (minimising J found the MAP estimate)")
