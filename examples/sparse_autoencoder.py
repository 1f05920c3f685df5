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
# # UFLDL's sparse autoencoder exercise
#
# A $[64, 25, 64]$ network learns edges from 8x8 image patches. The cost is the autoencoder's
# reconstruction error, weight decay, and the sparsity penalty
#
# $$J_{\text{sparse}}(W,b) = J(W,b) + \beta \sum_{j=1}^{s_2} \mathrm{KL}(\rho \,\|\, \hat\rho_j),
# \qquad \hat\rho_j = \frac{1}{m} \sum_{k=1}^{m} a_j^{(2)}\!\left(x^{(k)}\right),$$
#
# $$\mathrm{KL}(\rho \,\|\, \hat\rho_j)
# = \rho \log \frac{\rho}{\hat\rho_j} + (1 - \rho) \log \frac{1 - \rho}{1 - \hat\rho_j},$$
#
# whose gradient adds one term to the hidden error (UFLDL, "Autoencoders and Sparsity"):
#
# $$\delta_i^{(2)} = \left( \sum_j W_{ji}^{(2)} \delta_j^{(3)}
# + \beta \left( -\frac{\rho}{\hat\rho_i} + \frac{1 - \rho}{1 - \hat\rho_i} \right) \right)
# f'\!\left(z_i^{(2)}\right).$$
#
# In the plain text of the code's comments and printed lines:
#
#     J_sparse(W, b) = J(W, b) + beta * sum_j KL(rho || rho_hat_j),
#     rho_hat_j = (1/m) sum_k a_j^(2)(x^(k)),
#
#     delta_i^(2) = (sum_j W_ji^(2) delta_j^(3)
#                    + beta (-rho / rho_hat_i + (1 - rho) / (1 - rho_hat_i))) * f'(z_i^(2)).
#
# UFLDL's settings: $\lambda = 10^{-4}$, $\beta = 3$, target activation $\rho = 0.01$. The
# input is also the target: the network learns to reproduce its input through 25 hidden units
# that are each active on about 1% of the patches.

# %%
"""UFLDL's sparse autoencoder exercise: a [64, 25, 64] network learns edges from image patches.

Run:  python examples/sparse_autoencoder.py [--patches 10000] [--iterations 400] [--quick]
(needs scikit-learn for the sample images: pip install 'indexnet[data]').
--quick is 600 patches and 40 iterations, unless --patches or --iterations say otherwise.

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/sparse_autoencoder.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell),
and the other options keep their defaults.
"""

import argparse
import os
import sys
import time

import numpy as np

import indexnet
from indexnet.data import datasets, display

LAMBDA, BETA, RHO = 1e-4, 3.0, 0.01  # UFLDL's settings


def arguments() -> list[str]:
    """The command line's arguments; none in a notebook, whose kernel's (-f ...) are not ours."""
    in_notebook = "ipykernel" in sys.modules and "__file__" not in globals()
    return [] if in_notebook else sys.argv[1:]


# %% [markdown]
# ## The exercise, step by step
#
# 1. UFLDL checks the gradient before training, the sparsity term included: backpropagation
#    against central differences on a small $[64, 5, 64]$ network.
# 2. $J_{\text{sparse}}$ and the mean $\hat\rho_j$ before training: the hidden units start
#    about half active.
# 3. L-BFGS, $\min_{W,b} J_{\text{sparse}}(W,b)$; after it the mean $\hat\rho_j$ is near
#    $\rho$.
# 4. Row $i$ of $W^{(1)}$ is the input that excites hidden unit $i$ most: edges, if it worked,
#    tiled as UFLDL's `display_network` does, into a PNG file.


# %%
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, help="default 10000, 600 with --quick")
    parser.add_argument("--iterations", type=int, help="default 400, 40 with --quick")
    parser.add_argument("--backend", default="loops")
    parser.add_argument("--out", default="sparse_autoencoder_features.png")
    parser.add_argument("--quick", action="store_true", help="600 patches, 40 iterations")
    args = parser.parse_args(arguments() if argv is None else argv)
    # --quick, or INDEXNET_QUICK=1: the sizes the tests can afford
    quick = args.quick or os.environ.get("INDEXNET_QUICK") == "1"
    if args.patches is None:
        args.patches = 600 if quick else 10_000
    if args.iterations is None:
        args.iterations = 40 if quick else 400

    X = datasets.patches(args.patches)
    net = indexnet.Network([64, 25, 64], seed=0)

    # UFLDL checks the gradient before training: the sparsity term included.
    small = indexnet.Network([64, 5, 64], seed=0)
    check = indexnet.check_gradient(small, X[:20], X[:20], lam=LAMBDA, beta=BETA, rho=RHO)
    print(f"gradient check on [64, 5, 64], 20 patches: relative error {check.relative_error:.2e}")

    # rho_hat_j = (1/m) sum_k a_j^(2)(x^(k)), before training
    rho_hat = net.trace(X, X).a[1].mean(axis=0)
    J0, _ = net.cost_and_gradient(X, X, lam=LAMBDA, beta=BETA, rho=RHO, backend=args.backend)
    print(f"before: J_sparse = {J0:.4f}, mean rho_hat = {rho_hat.mean():.3f} (target rho = {RHO})")

    start = time.perf_counter()
    result = indexnet.lbfgs(
        net, X, X, lam=LAMBDA, beta=BETA, rho=RHO, iterations=args.iterations, backend=args.backend
    )
    seconds = time.perf_counter() - start
    rho_hat = net.trace(X, X).a[1].mean(axis=0)
    print(
        f"after {result.iterations} L-BFGS iterations ({args.backend}, {seconds:.1f} s): "
        f"J_sparse = {result.final_cost:.4f}, mean rho_hat = {rho_hat.mean():.3f}"
    )
    reconstruction = np.mean((net.predict(X) - X) ** 2)
    print(f"mean squared reconstruction error per pixel: {reconstruction:.5f}")

    # Row i of W^(1) is the input that excites hidden unit i most: edges, if it worked.
    path = display.save_image(display.display_network(net.W[0]), args.out)
    print(f"learned features W^(1), one 8x8 tile per hidden unit: {path}")


if __name__ == "__main__":
    main()
