"""Does the step gain from running forward and backward over blocks of examples?

A prototype for issue 37, not a path of the package. At [64, 25, 64] and m = 10,000 each of
the step's arrays is 2.5 MB (float64), past a core's L2; here the step runs block by block
(forward, cost, deltas and gradients of ``block`` examples, through the public kernels of
``indexnet.loops``), each block's gradient added into the sum, and is timed beside
``loops.gradient_step`` and JAX's step in one process, after checking that it computes the same
step. Sigmoid units, squared error, weight decay; no sparsity term (its average activation needs
every example before the first delta).

    taskset -c 0 python bench/example_blocks.py [float64|float32]

Results and their machine: bench/NOTES.md, "The step over blocks of examples".
"""

import functools
import sys
import time

import numba
import numpy as np

import indexnet
from indexnet.api import references
from indexnet.fast import large
from indexnet.fast.compiler import jit
from indexnet.kernels import layout, loops
from indexnet.kernels.activations import SIGMOID, SQUARED

SIZES = np.array([64, 25, 64], dtype=np.int64)
M = 10_000
LAM = 1e-4
BLOCKS = (512, 1024, 2048)


@jit
def blocked_step(theta, sizes, X, Y, lam, alpha, block, buffers, part, grad):
    """One gradient step of a 3-layer network, its sums over the examples taken block by block.

    ``buffers`` holds z2, a2, d2 (``block`` x s_2) then z3, a3, d3 (``block`` x s_3) as rows;
    ``part`` is one block's gradient, laid out as ``theta``.
    """
    m, s2, s3 = X.shape[0], sizes[1], sizes[2]
    W1, b1 = layout.weights_of(theta, sizes, 0), layout.biases_of(theta, sizes, 0)
    W2, b2 = layout.weights_of(theta, sizes, 1), layout.biases_of(theta, sizes, 1)
    pW1, pb1 = layout.weights_of(part, sizes, 0), layout.biases_of(part, sizes, 0)
    pW2, pb2 = layout.weights_of(part, sizes, 1), layout.biases_of(part, sizes, 1)
    none = theta[:0]
    grad[:] = 0
    J = 0.0
    for k0 in range(0, m, block):
        k1 = min(k0 + block, m)
        n = k1 - k0
        z2, a2, d2 = buffers[0, : n * s2], buffers[1, : n * s2], buffers[2, : n * s2]
        z2, a2, d2 = z2.reshape(n, s2), a2.reshape(n, s2), d2.reshape(n, s2)
        z3, a3, d3 = buffers[3, : n * s3], buffers[4, : n * s3], buffers[5, : n * s3]
        z3, a3, d3 = z3.reshape(n, s3), a3.reshape(n, s3), d3.reshape(n, s3)
        X_k, Y_k = X[k0:k1], Y[k0:k1]
        loops.weighted_input(W1, b1, X_k, z2)
        loops.activation(z2, SIGMOID, a2)
        loops.weighted_input(W2, b2, a2, z3)
        loops.activation(z3, SIGMOID, a3)
        J += n * loops.cost(z3, a3, Y_k, none, 0.0, SQUARED, SIGMOID)
        loops.output_delta(z3, a3, Y_k, SQUARED, SIGMOID, d3)
        loops.hidden_delta(W2, d3, z2, a2, SIGMOID, 0.0, 0.1, none, d2)
        # each block's average, no decay; times its examples, it is the block's sum
        loops.weight_gradient(a2, d3, W2, 0.0, pW2)
        loops.weight_gradient(X_k, d2, W1, 0.0, pW1)
        loops.bias_gradient(d3, pb2)
        loops.bias_gradient(d2, pb1)
        loops.update(grad, part, -n)  # grad := grad + n * part, the block's sums added
    # the averages over all m examples, and the decay of the weights (not the biases)
    for l in range(len(sizes) - 1):
        large.average_plus_decay(
            layout.weights_of(grad, sizes, l), m, lam, layout.weights_of(theta, sizes, l)
        )
    n_w = layout.n_weights(sizes)
    grad[n_w:] *= grad.dtype.type(1.0 / m)
    J = J / m + loops._weight_decay(theta[:n_w], lam)  # the cost before the update
    loops.update(theta, grad, alpha)
    return J


def median_ms(step, samples=9, calls=5):
    """Median over ``samples`` of the mean time of ``calls`` calls, in milliseconds."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        times.append((time.perf_counter() - start) / calls)
    return 1e3 * float(np.median(times))


def main(dtype):
    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    theta = (0.1 * rng.normal(size=layout.n_params(SIZES))).astype(dtype)
    X = rng.uniform(size=(M, SIZES[0])).astype(dtype)
    Y = rng.uniform(size=(M, SIZES[-1])).astype(dtype)
    work, grad = layout.work_buffers(M, SIZES, dtype), np.empty_like(theta)

    def buffers(block):
        return np.empty((6, block * max(SIZES[1:])), dtype), np.empty_like(theta)

    def step(th, alpha):
        args = (th, SIZES, X, Y, LAM, 0.0, 0.1, alpha, SIGMOID, SIGMOID, SQUARED, work, grad)
        return loops.gradient_step(*args)

    # the same step, checked before anything is timed
    one, other = theta.copy(), theta.copy()
    J_one = step(one, 0.5)
    start = time.perf_counter()
    J_other = blocked_step(other, SIZES, X, Y, LAM, 0.5, BLOCKS[0], *buffers(BLOCKS[0]), grad)
    print(f"blocked_step compiled and ran in {time.perf_counter() - start:.1f} s")
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    assert abs(J_one - J_other) <= tolerance * abs(J_one), (J_one, J_other)
    np.testing.assert_allclose(one, other, rtol=10 * tolerance, atol=tolerance)

    net = indexnet.Network(list(SIZES), dtype=dtype)
    net.theta = theta.copy()
    jax_step, _ = references.jax_step(net, X, Y, LAM, 1e-9)
    jax_step()  # compiled here
    th = theta.copy()
    print(f"{np.dtype(dtype).name}, [64, 25, 64], m = {M}, one thread; median of 9 x 5 calls")
    for round_ in range(3):
        t_step, t_jax = median_ms(lambda: step(th, 1e-9)), median_ms(jax_step)
        cells = [f"round {round_}: gradient_step {t_step:.2f} ms, jax {t_jax:.2f} ms"]
        for block in BLOCKS:
            args = (th, SIZES, X, Y, LAM, 1e-9, block, *buffers(block), grad)
            t = median_ms(functools.partial(blocked_step, *args))
            ratios = f"{t_step / t:.2f}x step, {t_jax / t:.2f}x jax"
            cells.append(f"block {block}: {t:.2f} ms ({ratios})")
        print("; ".join(cells))


if __name__ == "__main__":
    main(np.dtype(sys.argv[1] if len(sys.argv) > 1 else "float64"))
