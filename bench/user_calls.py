"""What a user's calls cost at [3, 3, 1], m = 1, next to the bench's compiled step, in one
process: ``python bench/user_calls.py``. It uses only the public API and
``loops.gradient_step``, so it also times an older checkout put first on ``PYTHONPATH``."""

import os
import statistics
import timeit

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

import indexnet
from indexnet.kernels import layout, loops

STEP = "bench step (gradient_step)"
DESCENT = "gradient_descent / iteration (100 a call)"


def main():
    print(indexnet.__file__)
    net = indexnet.Network([3, 3, 1], seed=0)
    X, Y = np.random.default_rng(0).uniform(0, 1, (1, 3)), np.array([[0.5]])
    theta, sizes = net.theta.copy(), net._sizes
    grad, work = np.empty_like(theta), layout.work_buffers(1, sizes)
    trained = net.copy()
    calls = {
        STEP: lambda: loops.gradient_step(
            theta, sizes, X, Y, 1e-4, 0.0, 0.05, 1e-3, 0, 0, 0, work, grad
        ),
        "net.cost_and_gradient": lambda: net.cost_and_gradient(X, Y, lam=1e-4),
        "net.predict": lambda: net.predict(X),
        DESCENT: lambda: indexnet.gradient_descent(
            trained, X, Y, alpha=1e-3, iterations=100, lam=1e-4
        ),
    }
    for call in calls.values():  # compile, or load from the cache
        call()
    samples = {name: [] for name in calls}
    for _ in range(9):  # the calls take turns
        for name, call in calls.items():
            n = 200 if name == DESCENT else 5000
            per = 100 if name == DESCENT else 1
            samples[name].append(min(timeit.repeat(call, number=n, repeat=3)) / n / per)
    step = statistics.median(samples[STEP])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:45} {median * 1e6:8.2f} us  {median / step:5.2f}x the step")


if __name__ == "__main__":
    main()
