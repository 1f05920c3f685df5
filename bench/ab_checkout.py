"""Time this tree's training loops and public calls against another checkout's, in one
process, in turns: ``python bench/ab_checkout.py PATH [--only TEXT]`` (PATH: a checkout of
indexnet, e.g. a ``git worktree``; ``--only``: the cases whose name holds TEXT).

The other checkout's package is copied to a temporary folder as ``indexnet_old`` (its imports
renamed), so that both compile side by side; each call then runs the two versions in turns,
``--turns`` times, and prints the median time of each and their ratio. Both are called with the
same arrays' shapes from fresh parameters; their results are checked to agree before timing.
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

CASES = (  # (what, layer sizes, m, calls or epochs per sample)
    ("sgd_epochs, batch 1, per step", (3, 3, 1), 64, 1000),
    ("sgd_epochs, batch 1, per step", (64, 25, 64), 64, 30),
    ("gd_iterations, per iteration", (3, 3, 1), 1, 50_000),
    ("gd_iterations, per iteration", (3, 3, 1), 64, 10_000),
    ("gd_iterations, per iteration", (64, 25, 64), 1, 2000),
    ("gradient_step from Python", (3, 3, 1), 1, 20_000),
    ("gradient_step from Python", (64, 25, 64), 1, 2000),
    ("gradient_step from Python, suite", (64, 30, 10), 100, 2000),
    ("gradient_step from Python, suite", (64, 25, 64), 10_000, 10),
    ("gradient_step from Python, suite", (784, 256, 10), 256, 20),
    ("gradient_step from Python, suite", (1024, 1024, 1024), 1024, 1),
    ("net.cost_and_gradient", (3, 3, 1), 1, 20_000),
    ("net.cost_and_gradient", (64, 25, 64), 1, 2000),
    ("net.predict", (3, 3, 1), 1, 20_000),
    ("gradient_descent, 10 a call", (3, 3, 1), 1, 5000),
    ("gradient_descent, 10 a call", (3, 3, 1), 64, 2000),
)


def renamed_copy(checkout: Path, folder: Path):
    """``checkout``'s package as ``indexnet_old`` in ``folder``, imported."""
    target = folder / "indexnet_old"
    shutil.copytree(checkout / "indexnet", target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"\bindexnet(?=[. ])", "indexnet_old", text)
        path.write_text(text.replace("import indexnet\n", "import indexnet_old as indexnet\n"))
    sys.path.insert(0, str(folder))
    import indexnet_old

    return indexnet_old


def call(package, what, sizes, m, n):
    """A function running ``n`` calls (or epochs) of ``what``, and the steps it runs."""
    from indexnet import Network

    net = Network(list(sizes), seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(0, 1, (m, sizes[0])), rng.uniform(0, 1, (m, sizes[-1]))
    hidden, output, loss = net._codes
    theta, grad = net.theta.copy(), np.empty_like(net.theta)
    loops, work = package.loops, package.layout.work_buffers
    if what.startswith("sgd"):
        orders = np.array([rng.permutation(m) for _ in range(n)], dtype=np.int64)
        Xb, Yb, costs = np.empty((1, sizes[0])), np.empty((1, sizes[-1])), np.zeros(n)
        buffers = work(1, net._sizes)
        return theta, m * n, lambda: loops.sgd_epochs(
            theta, net._sizes, X, Y, 1e-4, 0.0, 0.05, 1e-3, hidden, output, loss, orders, 1,
            Xb, Yb, buffers, grad, costs,
        )  # fmt: skip
    if what.startswith("net."):  # the public call, checks and all
        public = package.Network(list(sizes), seed=0)
        method = getattr(public, what[4:])
        arguments = (X, Y) if what.endswith("gradient") else (X,)
        out = np.empty(0)

        def calls():
            nonlocal out
            for _ in range(n):
                out = method(*arguments)
            return out

        calls()
        return np.ravel(out[1] if isinstance(out, tuple) else out), n, calls
    if what.startswith("gradient_descent"):  # the public function, checks and all
        public = package.Network(list(sizes), seed=0)

        def descents():
            for _ in range(n):
                package.gradient_descent(public, X, Y, alpha=1e-3, iterations=10, lam=1e-4)

        descents()
        return public.theta, n, descents
    buffers = work(m, net._sizes)
    if what.startswith("gd"):
        costs = np.zeros(n)
        return theta, n, lambda: loops.gd_iterations(
            theta, net._sizes, X, Y, 1e-4, 0.0, 0.05, 1e-3, hidden, output, loss, buffers,
            grad, costs,
        )  # fmt: skip

    def steps():
        for _ in range(n):
            loops.gradient_step(
                theta, net._sizes, X, Y, 1e-4, 0.0, 0.05, 1e-3, hidden, output, loss, buffers,
                grad,
            )  # fmt: skip

    return theta, n, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--turns", type=int, default=9)
    parser.add_argument("--only", default="", help="time only the cases whose name holds this")
    options = parser.parse_args()
    import indexnet

    with tempfile.TemporaryDirectory() as folder:
        old = renamed_copy(options.checkout.resolve(), Path(folder))
        print(f"before: {options.checkout}; after: {Path(indexnet.__file__).parent.parent}")
        for what, sizes, m, n in CASES:
            if options.only not in what:
                continue
            theta_a, steps, before = call(old, what, sizes, m, n)
            theta_b, _, after = call(indexnet, what, sizes, m, n)
            before(), after()  # compile, or load from the cache
            if not np.allclose(theta_a, theta_b, rtol=1e-9, atol=1e-12):
                raise SystemExit(f"{what} {sizes} m={m}: the two versions disagree")
            samples = ([], [])
            for _ in range(options.turns):
                for run, times in zip((before, after), samples, strict=True):
                    start = time.perf_counter()
                    run()
                    times.append((time.perf_counter() - start) / steps)
            a, b = (statistics.median(times) for times in samples)
            print(f"{what:31} {list(sizes)!s:13} m={m:<3} before {a * 1e9:9.1f} ns"
                  f"  after {b * 1e9:9.1f} ns  after/before {b / a:5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
