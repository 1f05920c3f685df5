"""SGD inside the JIT against the same per-example loops in C: ``python bench/sgd_vs_c.py``.

Compiles ``bench/sgd_c.c`` with the system's C compiler (``cc -O3 -ffast-math -march=native``;
Numba compiles for the host CPU too), then times, taking turns in one process, one call of each
running ``--epochs`` epochs of batch-1 SGD over the same examples in the same order. Both start
from the same parameters, and their final parameters are checked to agree before any timing.
Reports the median time per SGD step of each and their ratio.
"""

import argparse
import ctypes
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from indexnet import Network
from indexnet.api import bench
from indexnet.kernels import layout, loops

SOURCE = Path(__file__).with_name("sgd_c.c")
FLAGS = ["-O3", "-ffast-math", "-march=native", "-shared", "-fPIC"]
LAM, ALPHA = 1e-4, 1e-3


def compiled(folder: str):
    """``sgd_epochs_c`` from ``bench/sgd_c.c``, through ctypes."""
    library = Path(folder) / "sgd_c.so"
    subprocess.run(["cc", *FLAGS, str(SOURCE), "-o", str(library), "-lm"], check=True)
    function = ctypes.CDLL(str(library)).sgd_epochs_c
    double_p, long_p = ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_long)
    function.argtypes = [double_p, long_p, ctypes.c_long, double_p, double_p, ctypes.c_long,
                         long_p, ctypes.c_long, ctypes.c_double, ctypes.c_double,
                         double_p, double_p, double_p]  # fmt: skip
    function.restype = ctypes.c_double
    return function


def pointer(array, kind):
    return array.ctypes.data_as(ctypes.POINTER(kind))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,3,1")
    parser.add_argument("--m", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    m, epochs = options.m, options.epochs
    net = Network(sizes, seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(0, 1, (m, sizes[0])), rng.uniform(0, 1, (m, sizes[-1]))
    orders = np.array([rng.permutation(m) for _ in range(epochs)], dtype=np.int64)
    units = int(sum(sizes[1:]))
    hidden, output, loss = net._codes

    with tempfile.TemporaryDirectory() as folder:
        sgd_c = compiled(folder)
        sizes_c = np.array(sizes, dtype=np.int64)
        theta_c, grad_c = net.theta.copy(), np.empty_like(net.theta)
        A, D = np.empty(units), np.empty(units)

        def run_c():
            sgd_c(pointer(theta_c, ctypes.c_double), pointer(sizes_c, ctypes.c_long), len(sizes),
                  pointer(X, ctypes.c_double), pointer(Y, ctypes.c_double), m,
                  pointer(orders, ctypes.c_long), epochs, LAM, ALPHA,
                  pointer(grad_c, ctypes.c_double), pointer(A, ctypes.c_double),
                  pointer(D, ctypes.c_double))  # fmt: skip

        theta, grad = net.theta.copy(), np.empty_like(net.theta)
        Xb, Yb = np.empty((1, sizes[0])), np.empty((1, sizes[-1]))
        work, costs = layout.work_buffers(1, net._sizes), np.zeros(epochs)

        def run_loops():
            loops.sgd_epochs(theta, net._sizes, X, Y, LAM, 0.0, 0.05, ALPHA, hidden, output,
                             loss, orders, 1, Xb, Yb, work, grad, costs)  # fmt: skip

        start = time.perf_counter()
        run_loops()
        first = time.perf_counter() - start
        run_c()
        difference = np.max(np.abs(theta - theta_c)) / np.max(np.abs(theta_c))
        if not difference < 1e-9:
            raise SystemExit(f"loops and C disagree after {epochs} epochs: {difference:.3g}")
        samples = {"loops": [], "C": []}
        for _ in range(options.repeat):
            for name, run in (("loops", run_loops), ("C", run_c)):
                start = time.perf_counter()
                run()
                samples[name].append((time.perf_counter() - start) / (epochs * m))
    machine = bench.machine()
    print(f"machine: {machine.get('cpu')} | {machine.get('isa', '')}")
    print(f"C: cc {' '.join(FLAGS[:3])}; loops first call (compile or cache) {first:.2f} s")
    print(f"SGD, batch 1, {sizes} m={m}, {epochs} epochs a call, median of {options.repeat}:")
    loops_s, c_s = (statistics.median(samples[n]) for n in ("loops", "C"))
    print(f"  loops.sgd_epochs {loops_s * 1e9:8.1f} ns a step")
    print(f"  C                {c_s * 1e9:8.1f} ns a step")
    print(f"  loops / C        {loops_s / c_s:8.2f}x")


if __name__ == "__main__":
    main()
