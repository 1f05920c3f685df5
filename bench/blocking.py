"""Time ``indexnet.fast.blocking.products`` alone against BLAS (``P @ Q.T``) at the suite's shapes.

    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python bench/blocking.py
    NUMBA_CPU_NAME=haswell OPENBLAS_CORETYPE=Haswell ... python bench/blocking.py   # AVX2 proxy

Every product that one training step of the default suite (``indexnet.api.bench.DEFAULT_SUITE``)
hands to ``products`` is timed: the forward sum of each layer, the hidden deltas' and the
weight gradients' (one call per ``CHUNK`` examples unless packed; timed here on contiguous
operands, while the kernels pack their transposes where they lie). The implementations take
turns within a round, and each cell is the median over the rounds of the best of a few calls.
``--impl`` adds other functions with the signature of ``products`` (``module:name``), e.g.
``products_packed``. The last column of the summary weights each product by how often a step
calls it.
"""

import argparse
import importlib
import math
import os
import statistics
import time

import numpy as np

from indexnet.api.bench import DEFAULT_SUITE
from indexnet.fast import blocking, micro


def cases(suite=DEFAULT_SUITE):
    """``(label, rows, columns, x, calls)`` of every blocked product of a step of ``suite``."""
    found = []
    for sizes, m in suite:
        for l in range(len(sizes) - 1):
            s, s_next = sizes[l], sizes[l + 1]
            shapes = [("forward", m, s_next, s, 1)]
            if l > 0:
                shapes.append(("hidden", m, s, s_next, 1))
            if blocking.packs(s_next, s, m):
                # packed, the weight gradient sums over every example at once
                shapes.append(("gradient", s_next, s, m, 1))
            else:
                chunk = min(m, blocking.CHUNK)
                shapes.append(("gradient", s_next, s, chunk, math.ceil(m / blocking.CHUNK)))
            for kernel, rows, columns, x, calls in shapes:
                if rows * columns * x > blocking.SMALL:
                    found.append((f"{list(sizes)} m={m} l={l} {kernel}", rows, columns, x, calls))
    return found


def blas(P, Q, out):
    np.matmul(P, Q.T, out=out)


def best_of(function, P, Q, out, min_time):
    """The best time of one call, over calls adding up to at least ``min_time`` seconds."""
    best, spent = math.inf, 0.0
    while spent < min_time or best == math.inf:
        start = time.perf_counter()
        function(P, Q, out)
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.02)
    parser.add_argument("--impl", action="append", default=[], help="module:function")
    parser.add_argument("--only", default="", help="only cases whose label contains this")
    args = parser.parse_args()
    impls = {"products": blocking.products, "products_blocked": blocking.products_blocked}
    for spec in args.impl:
        module, _, name = spec.rpartition(":")
        key = spec if name in impls else name
        impls[key] = getattr(importlib.import_module(module or "indexnet.fast.blocking"), name)
    impls["blas"] = blas
    dtype = np.dtype(args.dtype)
    print(
        f"dtype {dtype}, packed {blocking.PACKED} (tile {micro.tile_shape(dtype.itemsize)}, "
        f"{blocking.VECTOR_BITS}-bit vectors), blocked rows {blocking.ROWS}, "
        f"NUMBA_CPU_NAME={os.environ.get('NUMBA_CPU_NAME', '-')}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}"
    )
    names = list(impls)
    print(f"{'product':44} {'rows':>5} {'cols':>5} {'x':>5} " + " ".join(f"{n:>17}" for n in names))
    totals = {}
    rng = np.random.default_rng(0)
    for label, rows, columns, x, calls in cases():
        if args.only not in label:
            continue
        P = rng.standard_normal((rows, x)).astype(dtype)
        Q = rng.standard_normal((columns, x)).astype(dtype)
        out = np.empty((rows, columns), dtype)
        expected = P @ Q.T
        for name, function in impls.items():
            out[...] = np.nan
            function(P, Q, out)
            scale = np.abs(P) @ np.abs(Q).T
            error = np.max(np.abs(out - expected) / scale)
            assert error < (1e-5 if dtype == np.float32 else 1e-12), (name, label, error)
        samples = {name: [] for name in names}
        for _ in range(args.rounds):
            for name in names:
                samples[name].append(best_of(impls[name], P, Q, out, args.min_time))
        medians = {name: statistics.median(samples[name]) for name in names}
        cells = []
        for name in names:
            gflops = 2 * rows * columns * x / medians[name] / 1e9
            cells.append(f"{medians[name] * 1e6:8.1f}us {gflops:4.1f}GF")
        print(f"{label:44} {rows:5} {columns:5} {x:5} " + " ".join(cells))
        shape = label.split(" l=")[0]
        for name in names:
            totals.setdefault(shape, {}).setdefault(name, 0.0)
            totals[shape][name] += calls * medians[name]
    print("\nper step (products only), time and BLAS time / time:")
    for shape, row in totals.items():
        cells = [
            f"{name} {row[name] * 1e3:8.3f} ms ({row['blas'] / row[name]:.2f}x)" for name in names
        ]
        print(f"{shape:28} " + "  ".join(cells))


if __name__ == "__main__":
    main()
