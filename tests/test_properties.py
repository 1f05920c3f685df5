"""Hostile input to the public API gets a right answer or a clear error, and never a crash.

Hypothesis draws sizes, dtypes, layouts, values and parameters; a small oracle here says which
drawn arguments are invalid. Valid input must give finite results of the network's dtype and
shape; invalid input a ValueError or TypeError whose message names an offending argument.

Numba does not check bounds, so a shape that slipped past the checks would segfault. Every
case therefore runs in a child interpreter (:class:`Sandbox`, one per module, kept warm): a
crash there fails the one test that caused it, with the case in the message, and the suite
goes on.
"""

import math
import multiprocessing
import numbers
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import indexnet
from indexnet.kernels.activations import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS

BACKENDS = tuple(indexnet.BACKENDS)
SETTINGS = settings(
    max_examples=60,
    deadline=None,  # the first call of a new signature compiles, which no deadline allows for
    database=None,  # keep no .hypothesis folder in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the child interpreter's side -----------------------------------------------------------


def _layout(array, layout):
    """``array`` with the same values in another memory layout (applied in the child, since
    pickling an array keeps neither its strides nor its read-only flag)."""
    if not isinstance(array, np.ndarray):
        return array
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided" and array.ndim:
        return np.repeat(array, 2, axis=-1)[..., ::2]
    if layout == "misaligned" and array.dtype.kind in "biufc":
        raw = np.zeros(array.nbytes + 1, dtype=np.uint8)
        moved = np.frombuffer(raw.data, array.dtype, array.size, offset=1).reshape(array.shape)
        moved[...] = array
        return moved
    if layout == "readonly":
        array = array.copy()
        array.flags.writeable = False
        return array
    if layout == "byteswapped" and array.dtype.itemsize > 1 and array.dtype.kind in "biufc":
        return array.astype(array.dtype.newbyteorder())
    if layout in ("masked", "masked-none") and array.dtype.kind in "biuf":
        mask = np.zeros(array.shape, dtype=bool)
        if layout == "masked" and array.size:
            mask.flat[0] = True
        return np.ma.masked_array(array, mask=mask)
    return array


def _arrays(**arrays):
    """What a parent needs to know of each result array: dtype, shape, all finite."""
    return {
        name: (str(np.asarray(a).dtype), tuple(np.shape(a)), bool(np.isfinite(a).all()))
        for name, a in arrays.items()
    }


def _call(case):
    """Build the case's network and call the case's entry point; a summary of what came."""
    net = indexnet.Network(case["sizes"], **case.get("network", {}))
    X, Y = indexnet.api.gradcheck.random_examples(net, case.get("m", 4), seed=1)
    X = _layout(case["X"], case.get("layout")) if "X" in case else X
    Y = _layout(case["Y"], case.get("layout")) if "Y" in case else Y
    backend = case.get("backend", "loops")
    options = case.get("options", {})
    call = case["call"]
    scalars = {}
    if call == "predict":
        arrays = _arrays(output=net.predict(X, backend=backend))
    elif call == "cost_and_gradient":
        J, grad = net.cost_and_gradient(X, Y, backend=backend, **options)
        arrays, scalars = _arrays(grad=grad), {"J": J}
    elif call == "trace":
        trace = net.trace(X, Y, backend=backend, **options)
        arrays = _arrays(grad=trace.grad, output=trace.a[-1], delta=trace.delta[-1])
        scalars = {"J": trace.cost}
    elif call == "check_gradient":
        check = indexnet.check_gradient(net, X, Y, backend=backend, **options)
        arrays, scalars = _arrays(analytic=check.analytic), {"error": check.relative_error}
    elif call in ("gradient_descent", "sgd", "lbfgs"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", indexnet.DivergenceWarning)
            result = getattr(indexnet, call)(net, X, Y, backend=backend, **options)
        arrays = _arrays(theta=net.theta)
        scalars = {"diverged": result.diverged, "message": result.message}
    else:
        raise AssertionError(f"unknown call {call!r}")
    return {
        "arrays": arrays,
        "scalars": scalars,
        "dtype": np.dtype(net.dtype).name,
        "n_params": net.theta.shape[0],
        "sizes": net.sizes,
    }


def _cli(case):
    """Run ``indexnet check`` with the case's arguments through click's test runner."""
    from click.testing import CliRunner

    from indexnet.cli.learn import check

    result = CliRunner().invoke(check, case["args"])
    exception = result.exception
    if exception is not None and not isinstance(exception, SystemExit):
        raise exception
    return {"exit_code": result.exit_code, "output": result.output}


def run_case(case):
    """Run one case in this (child) interpreter; its outcome as plain, picklable data.

    The outcome is ``{"error": type, "message": ...}`` for a ValueError or TypeError, and
    ``{"crash": ...}`` for any other exception (a bug: it names neither argument nor fix).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = (_cli if case["call"] == "cli" else _call)(case)
        except (ValueError, TypeError) as error:
            return {"error": type(error).__name__, "message": str(error)}
        except Exception as error:
            return {"crash": f"{type(error).__module__}.{type(error).__name__}: {error}"}
    outcome["warnings"] = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, indexnet.DivergenceWarning)
    ]
    return outcome


# -- the parent's side ----------------------------------------------------------------------


class Sandbox:
    """A warm child interpreter that runs cases; if it dies, the test that killed it fails."""

    def __init__(self):
        self._pool = None

    def run(self, case, timeout=600):
        """The outcome of :func:`run_case` on ``case``, run in the child."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        try:
            return self._pool.submit(run_case, case).result(timeout=timeout)
        except BrokenProcessPool:
            self.close()
            pytest.fail(f"the interpreter died (a segfault?) running the case {case!r}")

    def close(self):
        """Stop the child."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox()
    # Warm the child: every backend's composites for both dtypes, compiled or loaded once here
    # rather than inside the first hypothesis examples.
    for backend in BACKENDS:
        for dtype in ("float64", "float32"):
            for call in ("predict", "cost_and_gradient"):
                case = {"call": call, "sizes": [3, 4, 2], "network": {"dtype": dtype}}
                assert "arrays" in box.run({**case, "backend": backend}, timeout=900)
    yield box
    box.close()


def expect(outcome, bad, dtype=None, shapes=None):
    """Assert the outcome of a case whose invalid arguments are ``bad`` (a set of names).

    Invalid: a ValueError or TypeError naming one of ``bad``. Valid: every result finite, of
    the network's dtype, with the expected ``shapes`` (a dict, name -> shape) where given.
    """
    assert "crash" not in outcome, f"not a ValueError or TypeError: {outcome['crash']}"
    if bad:
        assert "error" in outcome, f"accepted invalid {sorted(bad)}: {outcome}"
        assert any(name in outcome["message"] for name in bad), (
            f"the message names none of {sorted(bad)}: {outcome['message']!r}"
        )
        return
    assert "error" not in outcome, f"refused valid input: {outcome['error']}: {outcome['message']}"
    for name, (array_dtype, shape, finite) in outcome["arrays"].items():
        assert finite, f"{name} is not finite: {outcome}"
        assert array_dtype == (dtype or outcome["dtype"]), f"{name} is {array_dtype}: {outcome}"
        if shapes and name in shapes:
            assert shape == shapes[name], f"{name} has shape {shape}: {outcome}"
    for name, value in outcome["scalars"].items():
        if isinstance(value, float):
            assert not math.isnan(value), f"{name} is NaN: {outcome}"
            assert name == "error" or math.isfinite(value), f"{name} = {value}: {outcome}"
    if outcome["scalars"].get("diverged"):
        # Training that diverges says so; NumPy's own warnings on the way are allowed then.
        assert "NaN or infinite" in outcome["scalars"]["message"]
        return
    overflow = [w for w in outcome["warnings"] if "overflow" in w or "invalid value" in w]
    assert not overflow, f"warnings on valid input: {overflow}"


def mostly(valid, hostile):
    """Values of ``valid`` three times in four, so that whole cases are often valid too."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: valid if ok else hostile)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# -- Network: sizes, activations, cost, dtype ----------------------------------------------

SIZE_ITEMS = st.one_of(
    st.integers(-2, 6),
    st.integers(1, 6).map(np.int64),
    st.sampled_from([2.0, 2.5, True, None, "3", float("nan")]),
)
SIZES = st.one_of(
    st.lists(SIZE_ITEMS, max_size=5),
    st.lists(st.integers(-1, 6), max_size=5).map(tuple),
    st.lists(st.integers(1, 6), max_size=5).map(lambda s: np.array(s, dtype=np.int64)),
    st.sampled_from(["3,2", 5, None, {3, 2}, {3: 1, 2: 1}, np.array([[3, 2]])]),
)
NAMES = st.sampled_from([*OUTPUT_ACTIVATIONS, "sigmod", "", None, 1])
COSTS = st.sampled_from([*LOSSES, "mse", None])
DTYPES = st.sampled_from(
    [np.float64, np.float32, "float32", "float64", np.float16, np.int64, complex, "banana"]
)


def bad_network(sizes, hidden, output, cost, dtype):
    """The names of the invalid ones among ``Network``'s arguments."""
    bad = set()
    sequence = isinstance(sizes, (list, tuple)) or (
        isinstance(sizes, np.ndarray) and sizes.ndim == 1
    )
    sizes_ok = sequence and len(sizes) >= 2 and all(_is_int(s) and s >= 1 for s in sizes)
    if not sizes_ok:
        bad.add("sizes")
    if not (isinstance(hidden, str) and hidden in ACTIVATIONS):
        bad.add("hidden")
    if not (isinstance(output, str) and output in OUTPUT_ACTIVATIONS):
        bad.add("output")
    if not (isinstance(cost, str) and cost in LOSSES):
        bad.add("cost")
    if not bad & {"output", "cost"}:
        if cost == "cross_entropy" and output not in ("sigmoid", "softmax"):
            bad |= {"cost", "output"}
        if output == "softmax" and cost != "cross_entropy":
            bad |= {"cost", "output"}
        if output == "softmax" and sizes_ok and sizes[-1] < 2:
            bad |= {"output", "sizes"}
    if dtype not in (np.float32, np.float64, "float32", "float64"):
        bad.add("dtype")
    return bad


HEADS = [("sigmoid", "squared"), ("tanh", "squared"), ("relu", "squared")]
HEADS += [("identity", "squared"), ("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")]


@SETTINGS
@given(
    sizes=mostly(st.lists(st.integers(1, 6), min_size=2, max_size=4), SIZES),
    hidden=mostly(st.sampled_from(sorted(ACTIVATIONS)), NAMES),
    head=mostly(st.sampled_from(HEADS), st.tuples(NAMES, COSTS)),
    dtype=mostly(st.sampled_from([np.float64, np.float32]), DTYPES),
    call=st.sampled_from(["predict", "cost_and_gradient"]),
    backend=st.sampled_from(BACKENDS),
)
def test_network_arguments(sandbox, sizes, hidden, head, dtype, call, backend):
    output, cost = head
    bad = bad_network(sizes, hidden, output, cost, dtype)
    event("invalid" if bad else "valid")
    network = {"hidden": hidden, "output": output, "cost": cost, "dtype": dtype}
    case = {"call": call, "sizes": sizes, "network": network, "backend": backend}
    outcome = sandbox.run(case)
    expect(outcome, bad)
    if not bad:
        n_params = sum(sizes[l + 1] * (sizes[l] + 1) for l in range(len(sizes) - 1))
        assert outcome["n_params"] == n_params
        assert outcome["dtype"] == np.dtype(dtype).name


# -- X and Y: dtypes, shapes, layouts, values ----------------------------------------------

ARRAY_DTYPES = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=3),
    hnp.byte_string_dtypes(max_len=3),
    st.just(np.dtype(object)),
)
LAYOUTS = st.sampled_from(
    ["C", "fortran", "strided", "misaligned", "readonly", "byteswapped", "masked", "masked-none"]
)
PYTHON_VALUES = [
    ([[1, 2, 3]] * 4, True),
    ([[1, 2], [3]], False),
    ("abc", False),
    (None, False),
    (5, False),
    ([[None] * 3] * 4, False),
    ([[1j, 0, 0]] * 4, False),
    ([[2**70, 0, 0]] * 4, False),
    ([], False),
]


@st.composite
def hostile_arrays(draw, columns):
    """An array of any dtype and shape, often ``(m, columns)``, sometimes with a NaN, an inf
    or a subnormal; real values are bounded by 1e4 (overflow has its own tests)."""
    dtype = draw(ARRAY_DTYPES)
    shape = draw(
        st.one_of(
            st.tuples(st.integers(0, 5), st.sampled_from([columns, columns, columns + 1, 0])),
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
        )
    )
    if dtype.kind == "O":
        elements = st.one_of(st.floats(-10, 10), st.text(max_size=2), st.none())
    else:
        elements = _real_elements(dtype, 10**4)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    if dtype.kind == "f" and array.size:
        tiny = np.finfo(dtype).smallest_subnormal
        special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf, tiny, -tiny]))
        if special is not None:
            array.flat[draw(st.integers(0, array.size - 1))] = special
    return array


def _real_elements(dtype, int_bound):
    """Finite elements of a real ``dtype``: floats within 1e4, integers within ``int_bound``
    (None for the dtype's whole range)."""
    if dtype.kind == "f":
        return hnp.from_dtype(dtype, min_value=-1e4, max_value=1e4, allow_nan=False)
    if dtype.kind in "iu" and int_bound is not None:
        info = np.iinfo(dtype)
        return hnp.from_dtype(
            dtype, min_value=max(info.min, -int_bound), max_value=min(info.max, int_bound)
        )
    return None


@st.composite
def valid_arrays(draw, columns, int_bound):
    """A finite ``(m, columns)`` array of a real dtype."""
    dtype = draw(
        st.one_of(
            hnp.boolean_dtypes(),
            hnp.integer_dtypes(),
            hnp.unsigned_integer_dtypes(),
            hnp.floating_dtypes(),
        )
    )
    shape = (draw(st.integers(1, 5)), columns)
    return draw(hnp.arrays(dtype, shape, elements=_real_elements(dtype, int_bound)))


def bad_examples(name, value, columns, dtype):
    """``{name}`` if ``value`` is not a valid X (or Y), else the empty set."""
    if np.ma.isMaskedArray(value) and np.ma.getmaskarray(value).any():
        return {name}
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        return {name}
    if array.dtype.kind not in "biuf" or array.ndim != 2 or 0 in array.shape:
        return {name}
    if array.shape[1] != columns:
        return {name}
    with np.errstate(over="ignore"):
        return set() if np.isfinite(array.astype(dtype)).all() else {name}


@SETTINGS
@given(
    data=st.data(),
    which=st.sampled_from(["X", "Y"]),
    layout=LAYOUTS,
    dtype=st.sampled_from(["float64", "float32"]),
    call=st.sampled_from(
        ["predict", "cost_and_gradient", "trace", "check_gradient", "gradient_descent", "sgd"]
    ),
    backend=st.sampled_from(BACKENDS),
)
def test_hostile_examples(sandbox, data, which, layout, dtype, call, backend):
    sizes = [3, 4, 2]
    columns = sizes[0] if which == "X" else sizes[-1]
    # Integers in X may span their dtype (sigmoid units saturate); in Y they stay within 1e4,
    # since a squared error of (1e19)**2 overflows float32 (see test_numerics).
    hostile = st.one_of(hostile_arrays(columns), st.sampled_from([v for v, _ in PYTHON_VALUES]))
    value = data.draw(mostly(valid_arrays(columns, None if which == "X" else 10**4), hostile))
    net = indexnet.Network(sizes, dtype=dtype)
    bad = bad_examples(which, _layout(value, layout), columns, net.dtype)
    if which == "Y" and call == "predict":
        bad = set()  # predict reads no Y
    event("invalid" if bad else "valid")
    # The other argument is made with as many rows as a valid one has.
    m = np.shape(value)[0] if not bad_examples(which, value, columns, net.dtype) else 4
    options = {"iterations": 2} if call == "gradient_descent" else {}
    options = {"epochs": 2, "batch_size": 3} if call == "sgd" else options
    case = {"call": call, "sizes": sizes, "network": {"dtype": dtype}, "backend": backend}
    case.update({which: value, "layout": layout, "options": options, "m": m})
    outcome = sandbox.run(case)
    expect(outcome, bad, shapes={"output": (m, sizes[-1]), "grad": (net.theta.shape[0],)})


# -- lam, alpha, beta, rho, epsilon, iterations --------------------------------------------

NOT_NUMBERS = ["0.1", None, True, 1j, [0.1], np.array([0.1, 0.2])]
REALS = st.one_of(
    st.floats(-1e3, 1e3),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-300, float("nan"), float("inf"), -float("inf")]),
    st.sampled_from([np.float32(0.5), np.float64(2.0), np.int64(1), 3]),
    st.sampled_from(NOT_NUMBERS),
)
RHOS = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, 5e-324, 1 - 1e-16]), REALS)
COUNTS = st.one_of(st.integers(-1, 3), st.sampled_from([np.int64(2), 2.0, True, "2", None]))
VALID = {
    "lam": st.one_of(st.floats(0, 1e3), st.sampled_from([0.0, 5e-324, np.float32(0.5), 3])),
    "beta": st.one_of(st.just(0.0), st.floats(0, 10)),
    "rho": st.one_of(st.floats(0.01, 0.99), st.sampled_from([5e-324, 0.5])),
    "alpha": st.floats(1e-3, 10),
    "epsilon": st.floats(1e-6, 1e-2),
    "iterations": st.integers(1, 3),
    "epochs": st.integers(1, 3),
    "batch_size": st.one_of(st.integers(1, 5), st.just(np.int64(2))),
}
HOSTILE = {"rho": RHOS, "iterations": COUNTS, "epochs": COUNTS, "batch_size": COUNTS}
NETWORKS = {
    "sigmoid": ([3, 4, 2], {}),
    "tanh": ([3, 4, 2], {"hidden": "tanh"}),
    "one layer": ([3, 2], {}),
    "softmax": ([3, 4, 3], {"output": "softmax", "cost": "cross_entropy"}),
}
PARAMETERS = {
    "cost_and_gradient": ("lam", "beta", "rho"),
    "check_gradient": ("lam", "beta", "rho", "epsilon"),
    "gradient_descent": ("lam", "beta", "rho", "alpha", "iterations"),
    "sgd": ("lam", "beta", "rho", "alpha", "epochs", "batch_size"),
    "lbfgs": ("lam", "beta", "rho", "iterations"),
}


def bad_parameters(options, network):
    """The names of the invalid ones among ``options`` for a network of ``NETWORKS``."""
    sizes, kwargs = NETWORKS[network]
    bad = set()
    for name in ("lam", "beta"):
        value = options[name]
        if not (_is_real(value) and math.isfinite(value) and value >= 0):
            bad.add(name)
    rho = options["rho"]
    if not (_is_real(rho) and math.isfinite(rho) and 0 < rho < 1):
        bad.add("rho")
    for name in ("alpha", "epsilon"):
        value = options.get(name, 1.0)
        if not (_is_real(value) and math.isfinite(value) and value > 0):
            bad.add(name)
    for name in ("iterations", "epochs", "batch_size"):
        if not (_is_int(options.get(name, 1)) and options.get(name, 1) >= 1):
            bad.add(name)
    beta_ok = "beta" not in bad
    if beta_ok and options["beta"] > 0 and (kwargs.get("hidden", "sigmoid") != "sigmoid"):
        bad.add("beta")
    if beta_ok and options["beta"] > 0 and len(sizes) < 3:
        bad.add("beta")
    return bad


@SETTINGS
@given(
    data=st.data(),
    call=st.sampled_from(sorted(PARAMETERS)),
    network=st.sampled_from(sorted(NETWORKS)),
    backend=st.sampled_from(BACKENDS),
)
def test_hostile_parameters(sandbox, data, call, network, backend):
    options = {
        name: data.draw(mostly(VALID[name], HOSTILE.get(name, REALS)), label=name)
        for name in PARAMETERS[call]
    }
    bad = bad_parameters(options, network)
    event("invalid" if bad else "valid")
    sizes, kwargs = NETWORKS[network]
    case = {"call": call, "sizes": sizes, "network": kwargs, "backend": backend}
    outcome = sandbox.run({**case, "options": options})
    if not bad and options.get("epsilon", 0) > 1 and "overflowed" in outcome.get("message", ""):
        # A finite but huge step can saturate a sigmoid to exactly 0 or 1, and the sparsity
        # penalty's log to inf: refusing it, by naming epsilon, is the right answer too.
        assert "epsilon" in outcome["message"], outcome
        return
    expect(outcome, bad)


# -- the command line ----------------------------------------------------------------------

SIZE_TOKENS = st.one_of(
    st.integers(-2, 6).map(str), st.sampled_from(["", " ", "x", "2.5", "1e1", "-", "0x3"])
)
CLI_OPTIONS = {
    "--lam": ["0", "0.5", "1e-4", "-1", "nan", "inf", "-inf", "1e400", "abc", ""],
    "--epsilon": ["1e-4", "1e-2", "0", "-1", "nan", "inf", "abc"],
    "-m": ["1", "3", "0", "-2", "x", "2.5"],
    "--dtype": ["float64", "float32", "float16"],
}


def bad_cli(sizes, options):
    """The names (as the messages spell them) of the invalid ones among the CLI arguments."""
    bad = set()
    try:
        layers = [int(part) for part in sizes.replace(" ", "").split(",")]
    except ValueError:
        bad.add("sizes")
    else:
        if len(layers) < 2 or min(layers) < 1:
            bad.add("sizes")
    for name, positive in (("--lam", False), ("--epsilon", True)):
        try:
            value = float(options[name])
        except ValueError:
            bad.add(name.lstrip("-"))
            continue
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            bad.add(name.lstrip("-"))
    try:
        if int(options["-m"]) < 1:
            bad.add("-m")
    except ValueError:
        bad.add("-m")
    if options["--dtype"] == "float16":
        bad.add("dtype")
    return bad


@SETTINGS
@given(
    tokens=mostly(
        st.lists(st.integers(1, 5).map(str), min_size=2, max_size=4),
        st.lists(SIZE_TOKENS, min_size=1, max_size=4),
    ),
    options=st.fixed_dictionaries(
        {k: mostly(st.sampled_from(v[:2]), st.sampled_from(v)) for k, v in CLI_OPTIONS.items()}
    ),
)
def test_cli_check(sandbox, tokens, options):
    sizes = ",".join(tokens)
    args = ["--sizes", sizes, *(part for item in options.items() for part in item)]
    outcome = sandbox.run({"call": "cli", "args": args})
    assert "crash" not in outcome, f"indexnet check {args}: {outcome['crash']}"
    assert "error" not in outcome, f"indexnet check {args}: {outcome}"
    bad = bad_cli(sizes, options)
    event("invalid" if bad else "valid")
    if bad:
        assert outcome["exit_code"] in (1, 2), outcome
        assert any(name in outcome["output"] for name in bad), (sorted(bad), outcome["output"])
    else:
        # 1 only for a relative error above the threshold (float32, ReLU kinks): reported too.
        assert outcome["exit_code"] == 0 or "above the threshold" in outcome["output"], outcome
        assert "relative error" in outcome["output"]


# -- fixed cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes,error,message",
    [
        ([2**70, 2], ValueError, r"sizes \[.*\] give \d+ parameters"),
        ([2**62, 4, 1], ValueError, r"sizes \[.*\] give \d+ parameters"),
        ({3, 2}, TypeError, r"sizes must be a sequence"),
        ({3: 0, 2: 0}, TypeError, r"sizes must be a sequence"),
        (np.array([[3, 2]]), TypeError, r"sizes must be a sequence"),
    ],
)
def test_sizes_that_overflow_or_have_no_order_are_refused(sizes, error, message):
    # [2**62, 4, 1] has 2**64 + 9 parameters: int64 layout arithmetic would wrap to 9.
    with pytest.raises(error, match=message):
        indexnet.Network(sizes)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["readonly", "misaligned"])
def test_read_only_and_misaligned_examples_are_accepted(sandbox, backend, layout):
    # Numba types these arrays apart from the work buffers; before they were copied, the
    # compiled backends refused them with a TypingError.
    X = np.linspace(-1, 1, 15).reshape(5, 3)
    for call, options in (("predict", {}), ("cost_and_gradient", {}), ("sgd", {"epochs": 1})):
        case = {"call": call, "sizes": [3, 4, 2], "X": X, "layout": layout, "m": 5}
        outcome = sandbox.run({**case, "backend": backend, "options": options})
        expect(outcome, set(), shapes={"output": (5, 2)})


# -- finite input, non-finite answer: refused, never answered with inf or NaN -----------------


def assert_refused(call, *names):
    """``call()`` must raise a ValueError or TypeError naming one of ``names``."""
    try:
        result = call()
    except (ValueError, TypeError) as error:
        assert any(name in str(error) for name in names), f"names none of {names}: {error}"
        return
    raise AssertionError(f"returned {result!r} instead of refusing {' or '.join(names)}")


def overflowing():
    """A one-layer identity network with weights 1.5: inputs of 1e308 overflow z."""
    net = indexnet.Network([3, 2], output="identity")
    net.theta = np.r_[np.full(6, 1.5), 0, 0]
    return net


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_overflowing_inputs_are_refused_not_answered_with_inf(backend):
    net, X, Y = overflowing(), np.full((4, 3), 1e308), np.zeros((4, 2))
    assert_refused(lambda: net.predict(X, backend=backend), "X")
    assert_refused(lambda: net.cost_and_gradient(X, Y, backend=backend), "X")


@pytest.mark.parametrize(
    "options,names",
    [
        ({"Y": np.full((4, 2), 1e200)}, ("Y",)),  # (a - y)**2 = 1e400
        ({"lam": 1e308}, ("lam",)),  # lam / 2 * sum W**2
        ({"beta": 1e308}, ("beta",)),  # beta * KL
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_overflowing_parameters_are_refused_not_answered_with_inf(options, names):
    net = indexnet.Network([3, 4, 2], output="identity")
    X, Y = indexnet.api.gradcheck.random_examples(net, 4)
    Y = options.pop("Y", Y)
    assert_refused(lambda: net.cost_and_gradient(X, Y, **options), *names)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_check_with_an_overflowing_step_is_refused():
    net = indexnet.Network([3, 4, 2], output="identity")
    X, Y = indexnet.api.gradcheck.random_examples(net, 4)
    assert_refused(lambda: indexnet.check_gradient(net, X, Y, epsilon=1e308), "epsilon")


@pytest.mark.parametrize("seed", [-1, "a", 1.5])
def test_bad_seeds_are_named(seed):
    assert_refused(lambda: indexnet.Network([3, 2], seed=seed), "seed")


def test_non_finite_parameters_are_refused():
    net = indexnet.Network([3, 2])
    assert_refused(lambda: setattr(net, "theta", np.full(8, np.nan)), "theta")


@pytest.mark.parametrize(
    "value,message",
    [
        (np.ma.masked_array(np.zeros((2, 3)), mask=[[0, 0, 0], [0, 1, 0]]), r"X has 1 masked"),
        ([[1, 2, 3], [4, 5]], r"X must be an array of real numbers"),
    ],
)
def test_masked_and_ragged_examples_are_refused(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        indexnet.Network([3, 2]).predict(value)


def test_the_finite_result_check_names_every_input():
    from indexnet.checks.inputs import check_finite_result

    X, theta = np.full((2, 3), 1e308), np.ones(4)
    assert check_finite_result("the cost", (1.0, np.ones(3)), X=X, theta=theta) is None
    with pytest.raises(ValueError, match=r"the cost overflowed.*max \|X\| = 1e\+308.*theta"):
        check_finite_result("the cost", (1.0, np.array([np.inf])), X=X, theta=theta)
