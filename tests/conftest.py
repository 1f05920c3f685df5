import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np
import pytest

import indexnet

# Every child process the tests start (examples and notebooks run as scripts, the CLI, the
# sandboxes) imports the package the tests import: the source tree under `python -m pytest`.
# A script would otherwise import the installed copy and compile its kernels into a cache of
# its own, beside this one.
PACKAGE_ROOT = str(Path(indexnet.__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")])
)

WARM = """
import os
import sys
import numpy as np
import indexnet
from indexnet import layout

dtype, claims = np.dtype(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
net = indexnet.Network([3, 4, 2], seed=0, dtype=dtype)
X, Y = rng.normal(size=(5, 3)).astype(dtype), rng.uniform(size=(5, 2)).astype(dtype)
for backend in ("loops", "loops-parallel"):
    net.cost_and_gradient(X, Y, lam=1e-3, backend=backend)
    net.predict(X, backend=backend)
    indexnet.gradient_descent(net, X, Y, alpha=0.1, iterations=2, backend=backend)
    indexnet.sgd(net, X, Y, alpha=0.1, epochs=1, batch_size=2, backend=backend)
net.trace(X, Y)
indexnet.lbfgs(net, X, Y, iterations=2)
# the convolution and pooling kernels, through both poolings and a second stage (conv_delta)
images, labels = rng.normal(size=(2, 1, 7, 7)).astype(dtype), np.array([0, 2])
for pooling in ("mean", "max"):
    conv = indexnet.ConvNetwork((1, 7, 7), [(2, 2, 2), (2, 2, 1)], 3, pooling=pooling, dtype=dtype)
    for backend in ("loops", "vectorized"):
        conv.cost_and_gradient(images, labels, lam=1e-3, backend=backend)


# The public composite module.name, called once on arrays of dtype with the tests' types.
def composite(module, name, dtype):
    sizes = np.array([3, 4, 2])
    theta = indexnet.Network([3, 4, 2], seed=0, dtype=dtype).theta
    X, Y = np.ones((5, 3), dtype), np.full((5, 2), 0.5, dtype)
    work, grad = layout.work_buffers(5, sizes, dtype), np.empty_like(theta)
    alpha = (0.1,) if name == "gradient_step" else ()
    getattr(module, name)(theta, sizes, X, Y, 1e-3, 0.0, 0.05, *alpha, 0, 0, 0, work, grad)


# The composites that tests call directly, which no network call above compiles: whichever
# process is done with its own dtype first takes the next one (a claim is a file made once).
EXTRAS = [
    (indexnet.loops, "gradient_step", np.float32),  # bench's float32 rows
    (indexnet.loops_parallel, "gradient_step", np.float64),  # bench, with threads
    (indexnet.loops, "gradient_step", np.float64),  # test_twins
    (indexnet.loops, "backward", np.float64),  # test_twins
]
for module, name, extra in EXTRAS:
    claim = os.path.join(claims, f"{module.__name__}.{name}.{np.dtype(extra)}")
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        continue
    composite(module, name, extra)
"""


def pytest_configure(config):
    """Fill the kernel cache once, before the xdist workers start, when the whole suite runs.

    Most tests and every child process need the same kernels. On a cold cache each worker and
    each child that starts before the cache is full would compile them again, all at once; here
    two processes compile them once, float64 and float32 side by side, and everything after
    loads them. Float32's take longer, so the first one done takes on the composites the tests
    call directly (``EXTRAS``), one at a time, and the two end closer together. A warm cache
    makes this a second's work.
    """
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if (
        hasattr(config, "workerinput")
        or not whole_suite
        or indexnet.fast.compiler.CACHE_FOLDER is None
    ):
        return
    with tempfile.TemporaryDirectory() as claims:
        warming = [
            subprocess.Popen([sys.executable, "-c", WARM, dtype, claims], stdout=subprocess.DEVNULL)
            for dtype in ("float64", "float32")
        ]
        for process in warming:
            process.wait(timeout=900)  # a failure here shows again in the tests that need it


# The modules that take longest on a cold cache (`pytest --durations`, bench/NOTES.md), handed
# to the workers first (with --no-loadscope-reorder), so that neither is left running one of
# them alone at the end while the other has nothing to do.
LONGEST = ["test_examples.py", "test_twins.py", "test_cache.py", "test_kernel_shapes.py"]


def pytest_collection_modifyitems(config, items):
    """The modules in :data:`LONGEST` first, in that order; the others as collected."""

    def rank(item):
        name = item.path.name
        return LONGEST.index(name) if name in LONGEST else len(LONGEST)

    items.sort(key=rank)


ARCHITECTURES = [[3, 2], [4, 5, 3], [3, 4, 5, 2]]
HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
# (output activation, cost): every output with UFLDL's squared error, and both cross-entropies.
HEADS = [
    ("sigmoid", "squared"),
    ("tanh", "squared"),
    ("relu", "squared"),
    ("identity", "squared"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
]


def targets(rng, m, s, output, dtype=np.float64):
    """Targets a network with this output can be trained on."""
    if output == "softmax":
        return np.eye(s, dtype=dtype)[rng.integers(0, s, m)]
    if output == "sigmoid":
        return rng.uniform(0, 1, (m, s)).astype(dtype)
    return rng.normal(0, 1, (m, s)).astype(dtype)


def problem(sizes, hidden, output, cost, m=7, seed=0, dtype=np.float64):
    """A network with random (not initial) parameters and a batch of data for it."""
    rng = np.random.default_rng(seed)
    net = indexnet.Network(sizes, hidden=hidden, output=output, cost=cost, seed=seed, dtype=dtype)
    # Biases start at 0; move them so the bias gradient is tested away from a special point.
    net.theta = net.theta + rng.normal(0, 0.3, net.theta.shape)
    X = rng.normal(0, 1, (m, sizes[0])).astype(dtype)
    return net, X, targets(rng, m, sizes[-1], output, dtype)


def relative_difference(a, b):
    """``||a - b|| / ||b||`` (0 when both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(b)
    return np.linalg.norm(a - b) / scale if scale else np.linalg.norm(a)


every_case = pytest.mark.parametrize(
    "sizes,hidden,output,cost",
    [(s, h, o, c) for s in ARCHITECTURES for h in HIDDEN for o, c in HEADS],
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else str(v),
)


@pytest.fixture
def two_threads():
    """Numba's parallel kernels on exactly two threads for the test, as before afterwards."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba was started with a single thread (NUMBA_NUM_THREADS < 2)")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    yield
    numba.set_num_threads(before)
