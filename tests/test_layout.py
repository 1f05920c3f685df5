"""Where each layer lives in the flat vectors, from Python and from compiled code; and the
composites' refusal of arrays that do not fit, which their unchecked compiled views rely on."""

import json
import subprocess
import sys

import numpy as np
import pytest

from indexnet.fast.compiler import jit
from indexnet.kernels import layout
from indexnet.twins import vectorized

SIZES = np.array([4, 3, 2], dtype=np.int64)


@jit
def _compiled_views(theta, sizes, buffer, m):
    """Every view, made in compiled code, written through: each entry gets its own number."""
    count = 0.0
    for l in range(len(sizes) - 1):
        W, b = layout.weights_of(theta, sizes, l), layout.biases_of(theta, sizes, l)
        for i in range(W.shape[0]):
            b[i] = count
            count += 1
            for j in range(W.shape[1]):
                W[i, j] = count
                count += 1
    for l in range(1, len(sizes)):
        z = layout.layer_of(buffer, m, sizes, l)
        for k in range(z.shape[0]):
            for i in range(z.shape[1]):
                z[k, i] = count
                count += 1


def _python_views(theta, sizes, buffer, m):
    """:func:`_compiled_views` through the Python helpers (NumPy views)."""
    count = 0.0
    for l in range(len(sizes) - 1):
        W, b = layout.weights_of(theta, sizes, l), layout.biases_of(theta, sizes, l)
        for i in range(W.shape[0]):
            b[i] = count
            W[i] = count + 1 + np.arange(W.shape[1])
            count += 1 + W.shape[1]
    for l in range(1, len(sizes)):
        z = layout.layer_of(buffer, m, sizes, l)
        z[:] = count + np.arange(z.size).reshape(z.shape)
        count += z.size


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_views_are_the_python_views(dtype):
    m = 5
    theta, buffer = np.zeros(layout.n_params(SIZES), dtype), np.zeros(layout.buffer_size(m, SIZES))
    buffer = buffer.astype(dtype)
    expected_theta, expected_buffer = theta.copy(), buffer.copy()
    _compiled_views(theta, SIZES, buffer, m)
    _python_views(expected_theta, SIZES, expected_buffer, m)
    np.testing.assert_array_equal(theta, expected_theta)
    np.testing.assert_array_equal(buffer, expected_buffer)
    # Every number was written exactly once: the views tile the vectors with no gap or overlap.
    everything = np.sort(np.concatenate([theta, buffer]))
    np.testing.assert_array_equal(everything, np.arange(everything.size))


def test_python_views_share_memory_and_refuse_to_run_past_the_end():
    theta = np.arange(layout.n_params(SIZES), dtype=np.float64)
    W = layout.weights_of(theta, SIZES, 1)
    assert W.shape == (2, 3) and np.shares_memory(W, theta)
    np.testing.assert_array_equal(W.ravel(), theta[12:18])
    np.testing.assert_array_equal(layout.biases_of(theta, SIZES, 0), theta[18:21])
    with pytest.raises(ValueError, match="past the end"):
        layout.block(theta, 20, (2, 3))
    with pytest.raises(ValueError, match="past the end"):
        layout.layer_of(np.zeros(4), 1, SIZES, 2)


@jit
def _write_through_borrowed(vector, matrix):
    vector, matrix = layout.borrowed((vector, matrix))
    vector[0] = 1.0
    matrix[1, 2] = 2.0
    return vector.shape[0] + matrix.shape[0] * matrix.shape[1]


def test_borrowed_views_are_the_arrays():
    vector, matrix = np.zeros(5), np.zeros((3, 4), dtype=np.float32)
    assert layout.borrowed((vector, matrix)) == (vector, matrix)  # in Python, the arrays
    assert _write_through_borrowed(vector, matrix) == 5 + 12
    assert vector[0] == 1.0 and matrix[1, 2] == 2.0 and matrix.sum() == 2.0


@pytest.mark.parametrize("name", ["weights_of", "biases_of"])
def test_vectorized_layout_helpers_are_the_layout_helpers(name):
    theta = np.arange(layout.n_params(SIZES), dtype=np.float64)
    for l in range(len(SIZES) - 1):
        mine, reference = (
            getattr(vectorized, name)(theta, SIZES, l),
            getattr(layout, name)(theta, SIZES, l),
        )
        assert mine.shape == reference.shape and np.shares_memory(mine, theta)
        np.testing.assert_array_equal(mine, reference)
    buffer = np.arange(layout.buffer_size(3, SIZES), dtype=np.float64)
    for l in range(1, len(SIZES)):
        np.testing.assert_array_equal(
            vectorized.layer_of(buffer, 3, SIZES, l), layout.layer_of(buffer, 3, SIZES, l)
        )
    assert vectorized.n_weights(SIZES) == layout.n_weights(SIZES)


# Each case calls a compiled composite with one array that does not fit; it runs in a child
# process, so that a missing check shows as a failed test rather than a crashed suite.
MISFITS = r"""
import json, sys
import numpy as np
from indexnet.kernels import layout
from indexnet.kernels import loops
from indexnet.fast import loops_parallel

kernels = {"loops": loops, "loops-parallel": loops_parallel}[sys.argv[1]]
sizes = np.array([4, 3, 2], dtype=np.int64)
m = 5
theta, grad = np.zeros(layout.n_params(sizes)), np.zeros(layout.n_params(sizes))
X, Y = np.zeros((m, 4)), np.zeros((m, 2))
work = layout.work_buffers(m, sizes)
args = dict(sizes=sizes, theta=theta, X=X, Y=Y, work=work, grad=grad)
misfits = {
    "theta": theta[:-1], "grad": grad[:-1], "X": np.zeros((m, 5)), "Y": np.zeros((m, 3)),
    "work": layout.work_buffers(m - 1, sizes), "work rows": work[:2],
    "sizes": np.array([4], dtype=np.int64), "no sizes": np.zeros(0, dtype=np.int64),
    "sizes 0": np.array([4, 0, 2], dtype=np.int64),
}
calls = {
    "forward": lambda a: kernels.forward(a["theta"], a["sizes"], a["X"], 0, 0, a["work"]),
    "backward": lambda a: kernels.backward(
        a["theta"], a["sizes"], a["X"], a["Y"], 0.1, 0.0, 0.1, 0, 0, 0, a["work"], a["grad"]),
    "cost_and_gradient": lambda a: kernels.cost_and_gradient(
        a["theta"], a["sizes"], a["X"], a["Y"], 0.1, 0.0, 0.1, 0, 0, 0, a["work"], a["grad"]),
    "gradient_step": lambda a: kernels.gradient_step(
        a["theta"], a["sizes"], a["X"], a["Y"], 0.1, 0.0, 0.1, 0.1, 0, 0, 0, a["work"],
        a["grad"]),
}
outcomes = {}
for call, run in calls.items():
    for name, misfit in misfits.items():
        if name in ("Y", "grad") and call == "forward":
            continue  # forward does not take it
        try:
            run({**args, "sizes" if "sizes" in name else name.split()[0]: misfit})
            outcomes[f"{call} {name}"] = "accepted"
        except ValueError as error:
            outcomes[f"{call} {name}"] = str(error)
batches = dict(orders=np.array([[0, 1, 2, 3, 4]]), batch=1, Xb=np.zeros((1, 4)),
               Yb=np.zeros((1, 2)), costs=np.zeros(1))
for name, misfit in {"orders": np.array([[0, 1, 2, 3, m]]), "negative orders":
                     np.array([[0, 1, 2, -1, 4]]), "batch": 0, "Xb": np.zeros((1, 3)),
                     "Yb": np.zeros((2, 2)), "costs": np.zeros(0)}.items():
    b = {**batches, name.split()[-1]: misfit}
    try:
        kernels.sgd_epochs(theta, sizes, X, Y, 0.1, 0.0, 0.1, 0.1, 0, 0, 0, b["orders"],
                           b["batch"], b["Xb"], b["Yb"], work, grad, b["costs"])
        outcomes[f"sgd_epochs {name}"] = "accepted"
    except ValueError as error:
        outcomes[f"sgd_epochs {name}"] = str(error)
print(json.dumps(outcomes))
"""


ARGUMENTS = ("theta", "grad", "X", "Y", "work", "sizes", "orders", "batch", "Xb", "Yb", "costs")


@pytest.mark.parametrize("backend", ["loops", "loops-parallel"])
def test_composites_refuse_arrays_their_kernels_would_overrun(backend):
    child = subprocess.run(
        [sys.executable, "-c", MISFITS, backend], capture_output=True, text=True, timeout=600
    )
    assert child.returncode == 0, child.stderr
    outcomes = json.loads(child.stdout)
    assert len(outcomes) == 4 * 9 - 2 + 6
    for case, outcome in outcomes.items():
        assert outcome != "accepted", f"{case}: an array that does not fit was accepted"
        kernel, *words = case.split()
        named = next(word for word in words if word in ARGUMENTS)
        assert outcome.startswith(f"{kernel}: ") and named in outcome, (case, outcome)
