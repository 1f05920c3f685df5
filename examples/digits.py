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
# # Handwritten digits: a $[64, 30, 10]$ network with a softmax output, trained by L-BFGS
#
# The 1,797 8x8 images bundled with scikit-learn, pixels scaled to $[0, 1]$, split 75/25
# keeping each digit's proportion. Each image $x^{(k)}$ is a row of 64 inputs; its label
# becomes a one-hot row $y^{(k)}$ of 10 targets. The network computes
#
# $$a^{(2)} = f\!\left(W^{(1)} x + b^{(1)}\right), \qquad
# h_{W,b}(x) = a^{(3)} = \mathrm{softmax}\!\left(W^{(2)} a^{(2)} + b^{(2)}\right),
# \qquad \mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}},$$
#
# and L-BFGS minimises the cross-entropy with weight decay,
#
# $$J(W,b) = -\frac{1}{m} \sum_k \sum_i y_i^{(k)} \log a_i^{(3)}(k)
# + \frac{\lambda}{2} \sum_l \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2 .$$
#
# In plain text:
#
#     a^(2) = f(W^(1) x + b^(1)),   h_W,b(x) = a^(3) = softmax(W^(2) a^(2) + b^(2))
#     J(W,b) = -(1/m) sum_k sum_i y_i^(k) log a_i^(3)(k) + (lambda/2) sum_l sum_i sum_j (W_ij^(l))^2
#
# The predicted digit is the output unit with the largest activation.

# %%
"""Handwritten digits: a [64, 30, 10] network with a softmax output, trained by L-BFGS.

Run it (``--compare`` adds scikit-learn's MLPClassifier on the same split)::

    python examples/digits.py --compare
    python examples/digits.py --quick      # 25 iterations, 16 hidden units: a few seconds

Needs scikit-learn for the data: ``pip install 'indexnet[data]'``.

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/digits.py. A kernel has no command line: there INDEXNET_QUICK=1
in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell), and the other
options keep their defaults.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

import indexnet
from indexnet.data import datasets


def arguments() -> list[str]:
    """The command line's arguments; none in a notebook, whose kernel's (-f ...) are not ours."""
    in_notebook = "ipykernel" in sys.modules and "__file__" not in globals()
    return [] if in_notebook else sys.argv[1:]


# %% [markdown]
# ## Accuracy and confusion
#
# The prediction for image $k$ is $\arg\max_i a_i^{(3)}(k)$; the accuracy is the fraction of
# images where it is the label, and `counts[true, predicted]` counts every test image once.


# %%
def accuracy(net: indexnet.Network, X, labels, backend: str = "loops") -> float:
    """Fraction of rows whose most active output unit is their label."""
    return float(np.mean(net.predict(X, backend=backend).argmax(axis=1) == labels))


def confusion(net: indexnet.Network, X, labels) -> np.ndarray:
    """``counts[true, predicted]``, shape (10, 10)."""
    counts = np.zeros((10, 10), dtype=np.int64)
    np.add.at(counts, (labels, net.predict(X).argmax(axis=1)), 1)
    return counts


# %% [markdown]
# ## Training
#
# `main` builds $y^{(k)}$ (1 in the column of the label, 0 elsewhere), measures the untrained
# network, runs L-BFGS on $J$ and reports the accuracy on both halves of the split.


# %%
def main(
    iterations: int = 400,
    hidden: int = 30,
    lam: float = 3e-4,
    backend: str = "loops",
    seed: int = 0,
    compare: bool = False,
    verbose: bool = True,
) -> dict:
    """Train on the digits and report accuracy before and after; return the figures."""
    X_train, X_test, y_train, y_test = datasets.digits(test_size=0.25, seed=0)
    # $y^{(k)}$: 1 in column y_train[k], 0 elsewhere
    Y_train = datasets.one_hot(y_train, 10)

    net = indexnet.Network([64, hidden, 10], output="softmax", cost="cross_entropy", seed=seed)
    before = accuracy(net, X_test, y_test, backend)
    result = indexnet.lbfgs(net, X_train, Y_train, iterations=iterations, lam=lam, backend=backend)
    figures = {
        "costs": result.costs,
        "seconds": result.seconds,
        "test_accuracy_before": before,
        "train_accuracy": accuracy(net, X_train, y_train, backend),
        "test_accuracy": accuracy(net, X_test, y_test, backend),
    }
    if verbose:
        print(f"{net!r}, lambda = {lam:g}, {backend} backend")
        print(
            f"L-BFGS: {result.iterations} iterations in {result.seconds:.2f} s, "
            f"J from {result.costs[0]:.4f} to {result.costs[-1]:.4f}"
        )
        print(f"test accuracy: {before:.4f} untrained, {figures['test_accuracy']:.4f} trained")
        print(f"train accuracy: {figures['train_accuracy']:.4f}")
        print("confusion on the test set (rows: true digit, columns: predicted):")
        print(confusion(net, X_test, y_test))
    if compare:
        figures["mlp"] = compare_mlp(X_train, X_test, y_train, y_test, hidden, seed, verbose)
    return figures


# %% [markdown]
# ## Against scikit-learn
#
# With `--compare`: scikit-learn's `MLPClassifier` with logistic hidden units on the same
# split, trained by its adam optimiser with its own L2 penalty `alpha` (`indexnet.sklearn` says
# how `alpha` maps to $\lambda$): the same kind of model, not the same run.


# %%
def compare_mlp(X_train, X_test, y_train, y_test, hidden, seed, verbose=True) -> dict:
    """scikit-learn's MLPClassifier (logistic units, alpha 1e-4, adam) on the same split."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        (hidden,),
        activation="logistic",
        solver="adam",
        alpha=1e-4,
        max_iter=500,
        random_state=seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # adam may stop at max_iter a little short of its tolerance; the score says enough.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    test_accuracy = float(model.score(X_test, y_test))
    if verbose:
        print(
            f"MLPClassifier adam ({hidden},): test accuracy {test_accuracy:.4f} in {seconds:.2f} s"
        )
    return {"test_accuracy": test_accuracy, "seconds": seconds}


# %%
if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Digits with a softmax network and L-BFGS.")
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--hidden", type=int, default=30)
    parser.add_argument("--lam", type=float, default=3e-4)
    parser.add_argument("--backend", default="loops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="also fit MLPClassifier")
    parser.add_argument("--quick", action="store_true", help="25 iterations, 16 hidden units")
    args = parser.parse_args(arguments())
    # --quick, or INDEXNET_QUICK=1: a few seconds
    if args.quick or os.environ.get("INDEXNET_QUICK") == "1":
        args.iterations, args.hidden = 25, 16
    main(args.iterations, args.hidden, args.lam, args.backend, args.seed, args.compare)
