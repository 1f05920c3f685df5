"""One Network shared by threads gives every thread the serial answer, bit for bit.

The kernels release the GIL, so the threads below really compute at once; a barrier starts
them together. No sleeps: what is checked is each result, not the timing.
"""

import threading

import numba
import numpy as np
import pytest

import indexnet

THREADS = 8


def in_threads(work, n=THREADS):
    """Run ``work(t)`` in ``n`` threads started together; their results in thread order.

    Numba's thread count is per thread (a new thread starts at the default), and
    loops-parallel splits its sums by it: each thread takes this one's, as a user would who
    wants the same answers everywhere.
    """
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []
    numba_threads = numba.get_num_threads()

    def run(t):
        numba.set_num_threads(numba_threads)
        barrier.wait()
        try:
            results[t] = work(t)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return [(rng.uniform(-1, 1, (m, 64)), rng.uniform(0, 1, (m, 10))) for m in (1, 7, 30, 64)]


@pytest.mark.parametrize("backend", ["loops", "loops-parallel", "vectorized"])
def test_reads_from_eight_threads_equal_the_serial_reads(data, backend):
    net = indexnet.Network([64, 256, 10], seed=1)

    def reads(X, Y):
        trace = net.trace(X, Y, lam=1e-3, backend=backend)
        J, grad = net.cost_and_gradient(X, Y, lam=1e-3, backend=backend)
        return net.predict(X, backend=backend), J, grad, trace.a[-1], trace.delta[1]

    serial = [reads(X, Y) for X, Y in data]
    threaded = in_threads(lambda t: [reads(*data[(t + r) % 4]) for r in range(12)])
    for t, results in enumerate(threaded):
        for r, result in enumerate(results):
            for got, want in zip(result, serial[(t + r) % 4], strict=True):
                assert np.array_equal(got, want), (t, r)


@pytest.mark.parametrize("method", ["gradient_descent", "sgd", "lbfgs"])
def test_training_from_eight_threads_equals_eight_trainings_in_a_row(data, method):
    X, Y = data[2]
    options = {"iterations": 5} if method != "sgd" else {"epochs": 2, "batch_size": 8, "seed": 0}
    train = getattr(indexnet, method)
    serial = indexnet.Network([64, 256, 10], seed=1)

    def read(net):  # two reads: a training may come between them
        return (net.predict(X),), net.cost_and_gradient(X, Y, lam=1e-3)

    checkpoints = [read(serial)]
    for _ in range(THREADS):
        train(serial, X, Y, **options)
        checkpoints.append(read(serial))

    shared = indexnet.Network([64, 256, 10], seed=1)

    def train_or_read(t):
        if t % 2:  # readers, while the others train: each sees theta before or after a training
            return [read(shared) for _ in range(20)]
        train(shared, X, Y, **options)
        return None

    reads = in_threads(train_or_read, 2 * THREADS)
    assert np.array_equal(shared.theta, serial.theta)
    for seen in filter(None, reads):
        for result in seen:
            for r, read_one in enumerate(result):  # each read is of one and the same theta
                assert any(
                    all(np.array_equal(a, b) for a, b in zip(read_one, point[r], strict=True))
                    for point in checkpoints
                )
