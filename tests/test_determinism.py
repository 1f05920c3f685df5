"""Same seed, same bits: training is reproducible per backend, and the parallel kernels, run
on two threads, agree with the serial ones run after run (no data races)."""

import numba
import numpy as np
import pytest

import indexnet
from indexnet.api.gradcheck import random_examples
from indexnet.fast.loops_parallel import PARALLEL_MIN_WORK, PART_MAX

BACKENDS = tuple(indexnet.BACKENDS)
METHODS = {
    "gd": {"alpha": 0.5, "iterations": 15},
    "sgd": {"alpha": 0.5, "epochs": 4, "batch_size": 5, "seed": 11},
    "lbfgs": {"iterations": 15},
}


def train_once(backend, method, dtype):
    """A freshly seeded network trained on fixed data; its parameters and costs."""
    net = indexnet.Network([4, 6, 3], hidden="tanh", seed=3, dtype=dtype)
    X, Y = random_examples(net, 17, seed=4)
    result = indexnet.train(net, X, Y, method, lam=1e-3, backend=backend, **METHODS[method])
    return net.theta.copy(), result.costs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_gives_bit_identical_training(backend, method, dtype, two_threads):
    theta, costs = train_once(backend, method, dtype)
    again, costs_again = train_once(backend, method, dtype)
    assert theta.dtype == dtype
    assert theta.tobytes() == again.tobytes()
    assert costs == costs_again and len(costs) > 1


# Above PARALLEL_MIN_WORK multiply-adds per product, so every product runs on both threads.
SIZES, M = [64, 64, 48], 96
# Also the cost's sum over the threads' stretches (odd m: stretches of unequal length).
WIDE, M_WIDE = [20, 30, 128], 2101
# A first layer of more than PART_MAX weights: its weight gradient splits the units, through the
# parallel transposes, products and last pass; and more units than examples, so the weighted
# input splits the units too.
BROAD, M_BROAD = [300, 220, 8], 150


@pytest.mark.parametrize(
    "hidden,beta,sizes,m",
    [
        ("sigmoid", 0.0, SIZES, M),
        ("sigmoid", 0.3, SIZES, M),
        ("tanh", 0.0, SIZES, M),
        ("sigmoid", 0.0, WIDE, M_WIDE),
        ("sigmoid", 0.0, BROAD, M_BROAD),
    ],
)
def test_parallel_kernels_agree_with_serial_ones_run_after_run(hidden, beta, sizes, m, two_threads):
    for l in range(len(sizes) - 1):
        assert m * sizes[l] * sizes[l + 1] >= PARALLEL_MIN_WORK
    assert (sizes[0] * sizes[1] > PART_MAX) == (sizes == BROAD)
    net = indexnet.Network(sizes, hidden=hidden, seed=0)
    X, Y = random_examples(net, m, seed=1)
    options = {"lam": 1e-3, "beta": beta, "rho": 0.1}
    J, grad = net.cost_and_gradient(X, Y, backend="loops", **options)
    P = net.predict(X, backend="loops")
    scale = np.abs(grad).max()
    first = None
    for _ in range(200):
        assert numba.get_num_threads() == 2
        J2, grad2 = net.cost_and_gradient(X, Y, backend="loops-parallel", **options)
        assert abs(J2 - J) <= 1e-12 * abs(J)
        assert np.abs(grad2 - grad).max() <= 1e-12 * scale
        first = (J2, grad2) if first is None else first
        # A race would show as a run that differs from the others in some bit.
        assert J2 == first[0] and grad2.tobytes() == first[1].tobytes()
    for _ in range(20):
        np.testing.assert_allclose(net.predict(X, backend="loops-parallel"), P, rtol=1e-12)


def test_parallel_training_matches_serial_training(two_threads):
    net = indexnet.Network(SIZES, seed=0)
    X, Y = random_examples(net, M, seed=1)
    thetas = {}
    for backend in ("loops", "loops-parallel"):
        trained = net.copy()
        indexnet.gradient_descent(trained, X, Y, alpha=0.5, iterations=10, backend=backend)
        indexnet.sgd(trained, X, Y, alpha=0.1, epochs=2, batch_size=M // 2, backend=backend)
        thetas[backend] = trained.theta
    scale = np.abs(thetas["loops"]).max()
    assert np.abs(thetas["loops-parallel"] - thetas["loops"]).max() <= 1e-12 * scale
