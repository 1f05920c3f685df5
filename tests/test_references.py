"""The references `indexnet bench` times the loops against (NumPy written for speed, JAX, torch)
compute the same training step as the package: checked here beside the NumPy twin, as the bench
checks them before it times them."""

import os

import numpy as np
import pytest
from click.testing import CliRunner

import indexnet
from indexnet.api import bench, references
from indexnet.cli import cli
from indexnet.twins import vectorized

SHAPES = [((3, 3, 1), 1), ((4, 6, 5, 3), 9), ((7, 2), 5)]


def twin_step(net, X, Y):
    """The NumPy twin's step: cost, gradient and the parameters after the update."""
    theta, grad = net.theta.copy(), np.empty_like(net.theta)
    work = indexnet.layout.work_buffers(X.shape[0], net._sizes, net.dtype)
    hidden, output, loss = net._codes
    J = vectorized.gradient_step(
        theta, net._sizes, X, Y, bench.LAM, 0.0, 0.05, bench.ALPHA, hidden, output, loss, work,
        grad,
    )  # fmt: skip
    return J, grad, theta


def problem(sizes, m, dtype):
    rng = np.random.default_rng(1)
    net = indexnet.Network(list(sizes), seed=2, dtype=dtype)
    net.theta = net.theta + rng.normal(0, 0.3, net.theta.shape).astype(dtype)
    X = rng.uniform(-1, 1, (m, sizes[0])).astype(dtype)
    Y = rng.uniform(0, 1, (m, sizes[-1])).astype(dtype)
    return net, X, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes,m", SHAPES)
@pytest.mark.parametrize("name", references.REFERENCES)
def test_each_reference_computes_the_twins_step(name, sizes, m, dtype):
    if not references.available(name):
        pytest.skip(f"{name} is not installed")
    net, X, Y = problem(sizes, m, dtype)
    step, state = references.STEPS[name](net, X, Y, bench.LAM, bench.ALPHA)
    before = net.theta.copy()
    J = step()
    expected = twin_step(net, X, Y)
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    for got, want in zip(state(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert J == pytest.approx(expected[0], rel=tolerance)
    np.testing.assert_array_equal(net.theta, before)  # a reference steps its own copy
    if name == "numpy-fast":  # written in the network's precision, as the twin
        assert state()[1].dtype == dtype and state()[2].dtype == dtype


def test_numpy_fast_makes_no_array_in_its_step():
    import tracemalloc

    net, X, Y = problem((64, 25, 64), 2000, np.float64)
    step, _ = references.numpy_step(net, X, Y, bench.LAM, bench.ALPHA)
    step()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The smallest array of the step, a^(2), is 2000 x 25 numbers (400 kB); NumPy's ufuncs
    # keep a buffer of at most 8,192 numbers (64 kB) for the bias's broadcast.
    assert peak < 100_000, f"the step allocated {peak} bytes at its peak"


def test_the_bench_ranks_the_loops_against_the_fastest_reference():
    rows, notes = bench.run(
        [((3, 3, 1), 4)], ["loops", "vectorized", "numpy-fast"], repeat=2, min_time=0.0
    )
    reference = next(r for r in rows if r.backend == "numpy-fast")
    for row in rows:
        assert row.best_reference == "numpy-fast"
        assert row.ratio_to_best_reference == pytest.approx(reference.median_s / row.median_s)
    public, notes = bench.run([((3, 3, 1), 4)], ["loops", "vectorized", "numpy-fast"],
                              kernel=bench.PUBLIC, repeat=2, min_time=0.0)  # fmt: skip
    assert [r.backend for r in public] == ["loops", "vectorized"]
    assert all(r.ratio_to_best_reference is None for r in public)
    assert notes == ["[3, 3, 1] m=4: numpy-fast times only the whole step"]


def test_the_table_shows_the_loops_against_the_best_reference():
    args = ["bench", "--sizes", "3,3,1", "--batch", "4", "--repeat", "2", "--min-time", "0",
            "--backend", "loops", "--backend", "numpy-fast"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.strip().startswith("shape"))
    assert header.split()[-4:] == ["loops", "vs", "best", "reference"]
    assert "(numpy-fast)" in result.stdout


def test_a_reference_that_is_not_installed_is_named(monkeypatch):
    monkeypatch.setattr(references, "available", lambda name: name == "numpy-fast")
    result = CliRunner().invoke(cli, ["bench", "--sizes", "3,2", "--backend", "jax"])
    assert result.exit_code == 1
    assert "jax is not installed: pip install 'indexnet[jax]'" in result.output
    assert bench.backends_available(1)[-1] == "numpy-fast"


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a process that may run on two CPUs or more",
)
def test_jax_is_held_to_the_threads_asked_for_and_the_cpus_come_back(monkeypatch):
    # XLA ignores its thread flags and starts a thread a CPU: the bench narrows the CPUs.
    monkeypatch.setenv("XLA_FLAGS", "")
    before = os.sched_getaffinity(0)
    with bench.cpus_kept():
        references.pin_jax_threads(1)
        assert len(os.sched_getaffinity(0)) == 1
        assert "intra_op_parallelism_threads=1" in os.environ["XLA_FLAGS"]
    assert os.sched_getaffinity(0) == before
