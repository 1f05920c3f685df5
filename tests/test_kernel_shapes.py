"""The public kernels, called directly, refuse arrays that disagree, naming the argument.

Numba does not check bounds: a kernel that trusted its arrays would read and write past their
ends, return garbage or crash the interpreter. So every case runs in a child interpreter; a
crash fails the test that caused it.
"""

import inspect
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexnet import loops
from indexnet.checks import shapes
from indexnet.kernels import layout
from indexnet.kernels import loops as dense
from indexnet.kernels.activations import CROSS_ENTROPY, SIGMOID, SOFTMAX, SQUARED, TANH

MODULES = ("loops", "loops_parallel", "vectorized")
CODES = ("hidden", "output", "loss", "kind")  # the arguments that take activation or loss codes
# The public kernels of each module: loops and vectorized have the fully connected network's
# and the convolution and pooling kernels, loops_parallel the fully connected network's only.
KERNELS = {"loops": loops.__all__, "loops_parallel": dense.__all__, "vectorized": loops.__all__}

# The axes of arguments that may take other lengths than valid_arguments gives them: nothing
# else fixes them (the number of weights decayed, of units, of examples, of epochs), or a longer
# array is allowed (costs, work). A kernel may accept such a change, or refuse it by name.
FREE = {
    ("cost", "weights"): {0},
    ("sparsity_penalty", "rho_hat"): {0},
    ("average_activation", "a"): {0},
    ("bias_gradient", "delta_next"): {0},
    ("forward", "X"): {0},
    ("sgd_epochs", "orders"): {0},
    ("sgd_epochs", "costs"): {0},
    ("gd_iterations", "costs"): {0},
    **{(kernel, "work"): {1} for kernel in dense.COMPOSITES},
    # Pooling reads the whole P by P blocks only: maps a row or a column longer or shorter that
    # keep rows // P and cols // P (5 -> 4 rows, 4 -> 5 columns, P = 2) give the same blocks.
    ("mean_pool", "a"): {2, 3},
    ("max_pool", "a"): {2, 3},
    # The biases' gradient sums over every image and every position, however many there are.
    ("conv_bias_gradient", "delta_next"): {0, 2, 3},
}

# The maps of valid_arguments' convolutional layers: rows and columns that are no multiple of
# the pooling size P, and a filter of p_rows by p_cols.
ROWS, COLS, P_ROWS, P_COLS, P = 5, 4, 2, 3, 2


def valid_arguments(kernel, m=3, s=4, s_next=5, dtype="float64"):
    """Arguments that fit one another for ``kernel``, by name, in signature order.

    For the convolution and pooling kernels ``m`` is the number of images, ``s`` the input
    channels D (and the channels pooled), ``s_next`` the filters K.
    """
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.uniform(0.1, 0.9, shape).astype(dtype)

    sizes = np.array([s, s_next, 2], dtype=np.int64)
    n = layout.n_params(sizes)
    Y = r(m, 2)
    onehot = np.eye(s_next, dtype=dtype)[np.arange(m) % s_next]
    output = {"z_out": r(m, s_next), "a_out": r(m, s_next), "Y": onehot}
    codes = {"loss": CROSS_ENTROPY, "kind": SIGMOID}
    network = {"theta": r(n), "sizes": sizes, "X": r(m, s), "Y": Y}
    options = {"lam": 0.1, "beta": 0.0, "rho": 0.1}
    step = {**options, "alpha": 0.1}
    codes3 = {"hidden": SIGMOID, "output": SIGMOID}
    work = layout.work_buffers(m, sizes, dtype)
    arguments = {
        "weighted_input": {"W": r(s_next, s), "b": r(s_next), "a": r(m, s), "z_next": r(m, s_next)},
        "activation": {"z": r(m, s), "kind": SIGMOID, "a": r(m, s)},
        "cost": {**output, "weights": r(7), "lam": 0.1, **codes},
        "average_activation": {"a": r(m, s), "rho_hat": r(s)},
        "sparsity_penalty": {"rho_hat": r(s), "rho": 0.1, "beta": 3.0},
        "output_delta": {**output, **codes, "delta_out": r(m, s_next)},
        "hidden_delta": {
            **{"W": r(s_next, s), "delta_next": r(m, s_next), "z": r(m, s), "a": r(m, s)},
            **{"kind": SIGMOID, "beta": 3.0, "rho": 0.1, "rho_hat": r(s), "delta": r(m, s)},
        },
        "weight_gradient": {
            "a": r(m, s),
            "delta_next": r(m, s_next),
            "W": r(s_next, s),
            "lam": 0.1,
            "dW": r(s_next, s),
        },
        "bias_gradient": {"delta_next": r(m, s_next), "db": r(s_next)},
        "update": {"theta": r(n), "grad": r(n), "alpha": 0.1},
        "forward": {"theta": r(n), "sizes": sizes, "X": r(m, s), **codes3, "work": work},
        "backward": {**network, **options, **codes3, "loss": 0, "work": work, "grad": r(n)},
        "cost_and_gradient": {
            **network,
            **options,
            **codes3,
            "loss": 0,
            "work": work,
            "grad": r(n),
        },
        "gradient_step": {**network, **step, **codes3, "loss": 0, "work": work, "grad": r(n)},
        "sgd_epochs": {
            **network,
            **step,
            **codes3,
            "loss": 0,
            "orders": np.array([[2, 0, 1], [1, 2, 0]])[:, :m],
            "batch": 2,
            "Xb": r(2, s),
            "Yb": r(2, 2),
            "work": layout.work_buffers(2, sizes, dtype),
            "grad": r(n),
            "costs": np.zeros(2),  # float64, as indexnet.train passes them
        },
        "gd_iterations": {
            **network,
            **step,
            **codes3,
            "loss": 0,
            "work": work,
            "grad": r(n),
            "costs": np.zeros(2),  # float64, as indexnet.train passes them
        },
        **conv_arguments(r, m, s, s_next),
    }[kernel]
    assert list(arguments) == list(inspect.signature(getattr(loops, kernel).py_func).parameters)
    if kernel == "backward":  # it reads what forward wrote
        loops.forward(arguments["theta"], sizes, arguments["X"], SIGMOID, SIGMOID, work)
    if kernel == "max_pool_delta":  # the places max_pool kept
        maps, pooled = r(m, s, ROWS, COLS), arguments["delta_pooled"].copy()
        loops.max_pool(maps, P, pooled, arguments["where"])
    return arguments


def conv_arguments(r, m, D, K):
    """The arguments of the convolution and pooling kernels, by kernel (``r(*shape)``: an
    array)."""
    filters = (K, D, P_ROWS, P_COLS)
    maps = (m, D, ROWS, COLS)
    out = (m, K, ROWS - P_ROWS + 1, COLS - P_COLS + 1)
    pooled = (m, D, ROWS // P, COLS // P)
    layer = {"z": r(*maps), "a": r(*maps), "kind": SIGMOID, "delta": r(*maps)}
    return {
        "conv_weighted_input": {"W": r(*filters), "b": r(K), "a": r(*maps), "z_next": r(*out)},
        "mean_pool": {"a": r(*maps), "P": P, "pooled": r(*pooled)},
        "max_pool": {
            **{"a": r(*maps), "P": P, "pooled": r(*pooled)},
            "where": np.zeros(pooled, dtype=np.int64),
        },
        "mean_pool_delta": {"delta_pooled": r(*pooled), "P": P, **layer},
        "max_pool_delta": {
            **{"delta_pooled": r(*pooled), "P": P},
            "where": np.zeros(pooled, dtype=np.int64),  # filled by valid_arguments
            **layer,
        },
        "conv_delta": {"W": r(*filters), "delta_next": r(*out), **layer},
        "filter_gradient": {
            **{"a": r(*maps), "delta_next": r(*out), "W": r(*filters)},
            **{"lam": 0.1, "dW": r(*filters)},
        },
        "conv_bias_gradient": {"delta_next": r(*out), "db": r(K)},
    }


def call(module, kernel, arguments):
    """Call ``module.kernel`` with ``arguments``; what came, as plain data."""
    import importlib

    function = getattr(importlib.import_module(f"indexnet.{module}"), kernel)
    try:
        function(*arguments.values())
    except (ValueError, TypeError) as error:
        return {"refused": type(error).__name__, "message": str(error)}
    except Exception as error:  # a bug: it names neither argument nor fix
        return {"crash": f"{type(error).__name__}: {error}"}
    return {"returned": True}


def run_cases(cases):
    """Run ``[(module, kernel, arguments), ...]`` here (in the child); their outcomes."""
    return [call(*case) for case in cases]


def run_isolated(cases):
    """Run ``cases`` in a fresh interpreter; a crash there fails the calling test."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(run_cases, cases).result(timeout=900)
        except BrokenProcessPool:
            pytest.fail(f"the interpreter died (a segfault?) running {len(cases)} kernel calls")


def named(message, kernel):
    """The arguments a refusal names: its subject and the arguments its shape comes from."""
    assert message.startswith(f"{kernel}: "), message
    # "W's filters (...) must fit in the maps of a (...)" names W and a; "P must be a pooling
    # size from 1 to min(rows, cols) of a (...)" names P and a
    names = {message[len(kernel) + 2 :].split()[0].removesuffix("'s")}
    for found in re.finditer(r"from ([\w ]+?)(?: =|;|$)|(\w+)\.shape|of (\w+) \(", message):
        names |= set((found.group(1) or found.group(2) or found.group(3)).split(" and "))
    return names


def misfits(kernel):
    """Every array argument of ``kernel``, shrunk and grown by one along each axis in turn."""
    base = valid_arguments(kernel)
    for name, ndim in shapes.ARRAYS[kernel].items():
        for axis in range(ndim):
            for change in (-1, 1):
                if name == "sizes" or (name == "work" and axis == 1 and change > 0):
                    continue  # a longer work array is allowed; sizes are checked below
                shape = list(base[name].shape)
                shape[axis] += change
                value = np.resize(base[name], shape)
                if name == "orders":
                    value = value % max(1, base["X"].shape[0])
                yield name, axis, change, {**base, name: value}


def sweep_cases():
    """``(module, kernel, argument, arguments)``: every array argument of every kernel of every
    module, shrunk by one along each axis in turn (tools/kernel_shape_sweep.py counts them)."""
    for module in MODULES:
        for kernel in KERNELS[module]:
            for name, _, change, arguments in misfits(kernel):
                if change < 0:
                    yield module, kernel, name, arguments


@pytest.mark.parametrize("module", MODULES)
def test_every_misfit_of_every_kernel_is_refused_by_name(module):
    cases, labels = [], []
    for kernel in KERNELS[module]:
        for name, axis, change, arguments in misfits(kernel):
            cases.append((module, kernel, arguments))
            labels.append((kernel, name, axis, change))
        cases.append((module, kernel, valid_arguments(kernel)))
        labels.append((kernel, None, None, None))
    outcomes = run_isolated(cases)
    assert len(outcomes) > 150
    for (kernel, name, axis, change), outcome in zip(labels, outcomes, strict=True):
        label = f"{module}.{kernel}, {name} axis {axis} {change:+}" if name else kernel
        assert "crash" not in outcome, (label, outcome)
        if name is None:
            assert "returned" in outcome, (label, outcome)
            continue
        if axis in FREE.get((kernel, name), ()) and "returned" in outcome:
            continue
        assert outcome.get("refused") == "ValueError", (label, outcome)
        assert name in named(outcome["message"], kernel), (label, outcome["message"])


@pytest.mark.parametrize("module", MODULES)
def test_every_code_a_kernel_cannot_run_is_refused_by_name(module):
    """An activation or loss code out of its range, a softmax hidden layer, the cross-entropy
    loss on an output that is neither sigmoid nor softmax, or a softmax output backpropagated
    with the squared loss: refused, naming the code, not computed as something else."""
    cases, expected = [], []
    for kernel in KERNELS[module]:
        base = valid_arguments(kernel)
        wrong = [(name, bad) for name in CODES if name in base for bad in (-1, 99)]
        if "hidden" in base:
            wrong.append(("hidden", SOFTMAX))
        for name, bad in wrong:
            cases.append((module, kernel, {**base, name: bad}))
            expected.append((kernel, f"{kernel}: {name} must be a code of indexnet.activations"))
        if "loss" in base:
            output = "output" if "output" in base else "kind"
            cases.append((module, kernel, {**base, "loss": CROSS_ENTROPY, output: TANH}))
            expected.append((kernel, f"{kernel}: the cross-entropy loss needs a sigmoid or"))
            if kernel != "cost":  # f' of a softmax unit is not elementwise; the cost needs none
                cases.append((module, kernel, {**base, "loss": SQUARED, output: SOFTMAX}))
                expected.append((kernel, f"{kernel}: a softmax output"))
    assert len(cases) > 40
    for (kernel, start), outcome in zip(expected, run_isolated(cases), strict=True):
        assert outcome.get("refused") == "ValueError", (module, kernel, start, outcome)
        assert outcome["message"].startswith(start), outcome["message"]


@pytest.mark.parametrize("module", MODULES)
def test_wrong_dimensions_and_dtypes_are_refused_by_name(module):
    cases, expected = [], []
    for kernel in KERNELS[module]:
        base = valid_arguments(kernel)
        for name in shapes.ARRAYS[kernel]:
            array = base[name]
            wrong = {
                "ValueError": array.reshape((*array.shape, 1)),
                "TypeError": array.astype(np.float32 if array.dtype.kind == "i" else np.int64),
            }
            if array.dtype.kind == "f":
                wrong["TypeError, as a list"] = array.tolist()
            for error, value in wrong.items():
                cases.append((module, kernel, {**base, name: value}))
                expected.append((kernel, name, error.split(",")[0]))
    for (kernel, name, error), outcome in zip(expected, run_isolated(cases), strict=True):
        assert outcome.get("refused") == error, (module, kernel, name, outcome)
        assert outcome["message"].startswith(f"{kernel}: {name} "), outcome["message"]


def test_two_float_dtypes_in_one_call_are_refused():
    base = valid_arguments("weighted_input")
    mixed = {**base, "b": base["b"].astype(np.float32)}
    for module in MODULES:
        (outcome,) = run_cases([(module, "weighted_input", mixed)])
        assert outcome.get("refused") == "TypeError", outcome
        assert "b float32" in outcome["message"], outcome


@pytest.mark.parametrize("module", ("loops", "loops_parallel"))
def test_a_kernel_called_from_the_users_own_njit_code_checks_its_shapes(module):
    from numba import njit

    kernels = __import__(f"indexnet.{module}", fromlist=["weighted_input"])
    weighted_input = kernels.weighted_input

    @njit
    def users_forward(W, b, a, z):
        weighted_input(W, b, a, z)
        return z

    W, b, a, z = valid_arguments("weighted_input").values()
    assert np.allclose(users_forward(W, b, a, z), a @ W.T + b)
    with pytest.raises(ValueError, match=r"weighted_input: a must have shape \(m, s_l\)"):
        users_forward(W, b, np.zeros((3, 40_000)), z)


# -- hypothesis: random shapes, each argument wrong in turn --------------------------------


class _Child:
    """One warm child interpreter for the hypothesis cases of this module."""

    pool = None

    @classmethod
    def run(cls, cases):
        if cls.pool is None:
            cls.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return cls.pool.submit(run_cases, cases).result(timeout=900)
        except BrokenProcessPool:
            cls.pool = None
            pytest.fail(f"the interpreter died (a segfault?) running {cases!r}")


@pytest.fixture(scope="module", autouse=True)
def _stop_child():
    yield
    if _Child.pool is not None:
        _Child.pool.shutdown(wait=False, cancel_futures=True)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    case=st.sampled_from([(module, kernel) for module in MODULES for kernel in KERNELS[module]]),
    dims=st.tuples(*[st.integers(1, 6)] * 3),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_hostile_kernel_shapes(data, case, dims, dtype):
    module, kernel = case
    m, s, s_next = dims
    base = valid_arguments(kernel, 3 if kernel == "sgd_epochs" else m, s, s_next, dtype)
    name = data.draw(st.sampled_from(sorted(shapes.ARRAYS[kernel])), label="argument")
    array = base[name]
    shape = data.draw(
        st.lists(st.integers(0, 8), min_size=array.ndim, max_size=array.ndim), label="shape"
    )
    value = np.resize(array, shape)
    if name == "orders":
        value = value % base["X"].shape[0]
    (outcome,) = _Child.run([(module, kernel, {**base, name: value})])
    assert "crash" not in outcome, outcome
    changed = {axis for axis in range(array.ndim) if shape[axis] != array.shape[axis]}
    if not changed:
        assert "returned" in outcome, outcome
    elif "refused" in outcome:
        assert name in named(outcome["message"], kernel), outcome
    else:  # accepted: only a change of free axes may be
        assert changed <= FREE.get((kernel, name), set()), outcome
