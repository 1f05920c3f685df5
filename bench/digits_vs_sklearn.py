"""indexnet against scikit-learn's MLPClassifier on the 8x8 digits, same splits, side by side.

Every model is trained on the same stratified 75/25 splits (inputs scaled to [0, 1]) and
scored on the held-out quarter; times are training only (``fit``), after one untimed warm-up
fit that compiles the Numba kernels (or loads them from the cache).

Run from the repository root::

    python bench/digits_vs_sklearn.py                 # prints a Markdown table
    python bench/digits_vs_sklearn.py --out bench/digits_vs_sklearn.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import indexnet
from indexnet.data import datasets


def indexnet_model(hidden: int, backend: str, iterations: int = 400, lam: float = 3e-4):
    """A fit function for indexnet's softmax network, as ``indexnet train digits`` runs it."""

    def fit(X, y, seed):
        net = indexnet.Network([64, hidden, 10], output="softmax", cost="cross_entropy", seed=seed)
        indexnet.lbfgs(
            net, X, datasets.one_hot(y, 10), iterations=iterations, lam=lam, backend=backend
        )
        return lambda X_test: net.predict(X_test, backend=backend).argmax(axis=1)

    return fit


def mlp_model(hidden: int, solver: str, max_iter: int, tol: float = 1e-4):
    """A fit function for MLPClassifier with logistic hidden units and alpha 1e-4."""

    def fit(X, y, seed):
        model = MLPClassifier(
            (hidden,),
            activation="logistic",
            solver=solver,
            alpha=1e-4,
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        return model.predict

    return fit


MODELS = {
    "indexnet lbfgs [64,30,10] loops (CLI default)": indexnet_model(30, "loops"),
    "indexnet lbfgs [64,30,10] vectorized": indexnet_model(30, "vectorized"),
    "indexnet lbfgs [64,64,10] loops": indexnet_model(64, "loops"),
    "MLPClassifier lbfgs (30,) max_iter=400": mlp_model(30, "lbfgs", 400),
    "MLPClassifier lbfgs (64,) max_iter=400": mlp_model(64, "lbfgs", 400),
    "MLPClassifier lbfgs (30,) max_iter=400 tol=0": mlp_model(30, "lbfgs", 400, tol=0.0),
    "MLPClassifier lbfgs (64,) max_iter=400 tol=0": mlp_model(64, "lbfgs", 400, tol=0.0),
    "MLPClassifier adam (30,) max_iter=500": mlp_model(30, "adam", 500),
    "MLPClassifier adam (64,) max_iter=500": mlp_model(64, "adam", 500),
}


def measure(splits: int, seeds: int) -> list[dict]:
    """One row per model: test accuracy and training seconds over splits x seeds runs."""
    data = [datasets.digits(seed=split) for split in range(splits)]
    rows = []
    for name, fit in MODELS.items():
        fit(data[0][0], data[0][2], 0)  # warm-up: JIT compilation or cache load
        accuracies, seconds, split0 = [], [], []
        for split, (X_train, X_test, y_train, y_test) in enumerate(data):
            for seed in range(seeds):
                start = time.perf_counter()
                predict = fit(X_train, y_train, seed)
                seconds.append(time.perf_counter() - start)
                accuracies.append(float(np.mean(predict(X_test) == y_test)))
                if split == 0:
                    split0.append(accuracies[-1])
        rows.append(
            {
                "model": name,
                "runs": len(accuracies),
                "split0_min": min(split0),
                "accuracy_mean": float(np.mean(accuracies)),
                "accuracy_min": min(accuracies),
                "accuracy_max": max(accuracies),
                "seconds_mean": float(np.mean(seconds)),
                "seconds_max": max(seconds),
            }
        )
    return rows


def markdown(rows: list[dict], splits: int, seeds: int, blas_threads: int) -> str:
    lines = [
        "# Digits: indexnet vs scikit-learn's MLPClassifier",
        "",
        f"`python bench/digits_vs_sklearn.py --splits {splits} --seeds {seeds} "
        f"--blas-threads {blas_threads}`: "
        f"{splits} stratified 75/25 splits (`--data-seed` 0..{splits - 1}) x {seeds} "
        "initialisation seeds; test accuracy on the held-out 450 images; seconds of training "
        "only. indexnet: sigmoid hidden, softmax output, cross-entropy, lambda = 3e-4, L-BFGS "
        "400 iterations. MLPClassifier: logistic hidden units, alpha = 1e-4 (in indexnet's "
        "terms lambda = 1e-4 / 1347, about 7e-8); its L-BFGS stops at its default tol = 1e-4 "
        "after about 40 iterations, so the tol=0 rows run the same 400 iterations as indexnet.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, indexnet {indexnet.__version__}, "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}.",
        "",
        "| model | runs | acc. split 0 (min) | acc. mean | acc. min | acc. max | s mean | s max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['runs']} | {r['split0_min']:.4f} | {r['accuracy_mean']:.4f} "
            f"| {r['accuracy_min']:.4f} | {r['accuracy_max']:.4f} | {r['seconds_mean']:.2f} "
            f"| {r['seconds_max']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (default 1: on a small shared machine, a second BLAS thread waiting "
        "for a busy core slows small matrix products tenfold; the loop kernels are serial too)",
    )
    parser.add_argument("--out", help="also write the Markdown table here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with threadpool_limits(args.blas_threads):
        rows = measure(args.splits, args.seeds)
    text = markdown(rows, args.splits, args.seeds, args.blas_threads)
    text += (
        f"\nLoad average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: "
        "on a shared machine the seconds vary with the load; the accuracies do not.\n"
    )
    print(text, end="")
    if args.out:
        with open(args.out, "w") as file:
            file.write(text)


if __name__ == "__main__":
    main()
