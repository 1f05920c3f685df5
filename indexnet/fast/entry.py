"""The compiled half of :class:`indexnet.Network`'s calls: value checks and a composite in one.

A call from Python into compiled code costs about as much as a whole step of a small network,
and the NumPy reductions that check an array's values cost more; so does a Python test of an
array's flags. So, for the ``loops`` backend, ``Network.cost_and_gradient`` and
``Network.predict`` make one compiled call that takes the user's arrays as they are. The
entries (:func:`typed`) are typed for C-contiguous, aligned, writeable arrays of the
network's dtype; the network calls them through :func:`direct`, which skips the dispatcher's
typing of the arguments, after testing in Python only each array's type, dtype and ndim. So
each entry checks the rest itself: the layout of ``X`` and ``Y`` (:func:`laid_out`), the
scalars, the shapes, that the inputs are finite; then it runs the composite and checks that
what came out is finite. A call that finds anything it cannot take returns NaN (or
``ok = False``), and the network then runs its Python checks, which copy what needs copying or
name the argument and what was wrong with it.
"""

import math
import threading

import numpy as np
from numba import from_dtype, types

from indexnet.fast.compiler import jit, jit_typed
from indexnet.kernels import loops
from indexnet.kernels.activations import SIGMOID, ZERO
from indexnet.kernels.layout import borrowed, buffer_size, layer_of


@jit
def finite(X):
    """True if no entry of the 2-D array ``X`` is NaN or infinite.

    Each row's sum of ``x - x``: 0 while every number is finite, NaN from the first that is
    not. The sum vectorises; a test of each number that leaves the loop at the first failure
    does not (six times slower, bench/NOTES.md).
    """
    for k in range(X.shape[0]):
        total = ZERO  # in X's precision: float32 is summed in float32
        for i in range(X.shape[1]):
            total += X[k, i] - X[k, i]
        if not math.isfinite(total):
            return False
    return True


@jit
def finite_result(J, grad):
    """True if the cost ``J`` and every entry of ``grad`` are finite."""
    return math.isfinite(J) and loops._all_finite(grad)


@jit
def fits(sizes, X, width):
    """True if ``X`` has at least one row and ``sizes[width]`` columns (``width`` 0 or -1)."""
    return X.shape[0] > 0 and X.shape[1] == sizes[width]


@jit
def laid_out(A):
    """True if the 2-D array ``A`` is C-contiguous and aligned: what the entries' types promise
    and what :func:`direct` does not check (NumPy's rule: a dimension of length 1 has any
    stride)."""
    size = A.itemsize
    rows, columns = A.shape
    row_stride, column_stride = A.strides
    return (
        (columns < 2 or column_stride == size)
        and (rows < 2 or row_stride == columns * size)
        and A.ctypes.data % size == 0
    )


@jit
def admissible(sizes, lam, beta, rho, hidden):
    r"""True if ``lam``, ``beta`` and ``rho`` pass ``Network``'s checks: :math:`0 \le \lambda <
    \infty`, :math:`0 < \rho < 1`, and :math:`\beta = 0`, or :math:`0 < \beta < \infty` on
    sigmoid hidden layers."""
    sparse = beta == 0.0 or (0.0 < beta < math.inf and hidden == SIGMOID and sizes.shape[0] > 2)
    return 0.0 <= lam < math.inf and 0.0 < rho < 1.0 and sparse


OWN_WORK = 4096
"""Work buffers of at most this many entries an entry allocates itself when its caller passes
none (:func:`no_work`): cheaper than the caller's lookup of its thread's buffers."""


def no_work(dtype: np.dtype) -> np.ndarray:
    """The ``work`` that leaves the buffers to the entry: shape ``(3, 0)``, never written."""
    return np.empty((3, 0), dtype)


def own_work_rows(sizes) -> int:
    """The most examples whose work buffers the entries allocate themselves (see OWN_WORK)."""
    return OWN_WORK // (3 * buffer_size(1, sizes))


@jit
def buffers(work, m, sizes, dtype):
    """``work`` if it holds ``m`` examples, else new buffers that do (see :func:`no_work`). The
    caller passes them down, never borrowed: it holds the only reference to new ones."""
    n = buffer_size(m, sizes)
    return work if work.shape[1] >= n else np.empty((3, n), dtype)


def cost_and_gradient(theta, network, X, Y, lam, beta, rho, work, grad):
    """:func:`indexnet.loops.cost_and_gradient` between a check of the shapes and two value
    checks. ``network`` is ``[hidden, output, loss, *sizes]``; ``work`` holds ``X.shape[0]``
    examples or is :func:`no_work`.

    Returns
    -------
    float
        :math:`J`, or NaN if ``X`` or ``Y`` is not laid out as the types promise or does not fit
        ``sizes`` and each other, if a scalar is out of its range, or if ``X``, ``Y``, ``J`` or
        ``grad`` holds a NaN or an infinity.
    """
    theta, network, X, Y, grad = borrowed((theta, network, X, Y, grad))
    hidden, output, loss, sizes = network[0], network[1], network[2], network[3:]
    if not (fits(sizes, X, 0) and fits(sizes, Y, -1) and Y.shape[0] == X.shape[0]):
        return math.nan
    if not (laid_out(X) and laid_out(Y) and admissible(sizes, lam, beta, rho, hidden)):
        return math.nan
    if not (finite(X) and finite(Y)):
        return math.nan
    work = buffers(work, X.shape[0], sizes, theta.dtype)
    J = loops.cost_and_gradient(
        theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad
    )
    return J if finite_result(J, grad) else math.nan


def predict(theta, network, X, work, a):
    r""":func:`indexnet.loops.forward` between a check of the shape and two value checks:
    :math:`a^{(n_l)}` is written into ``a``, shape ``(X.shape[0], sizes[-1])``. ``network``
    and ``work`` are as for :func:`cost_and_gradient`.

    Returns
    -------
    bool
        False if ``X`` is not laid out as the types promise or does not fit ``sizes``, or ``X``
        or ``a`` holds a NaN or an infinity.
    """
    theta, network, X, a = borrowed((theta, network, X, a))
    hidden, output, sizes = network[0], network[1], network[3:]
    if not (fits(sizes, X, 0) and laid_out(X)):
        return False
    if not finite(X):
        return False
    work = buffers(work, X.shape[0], sizes, theta.dtype)
    loops.forward(theta, sizes, X, hidden, output, work)
    a[:, :] = layer_of(work[1], X.shape[0], sizes, sizes.shape[0] - 1)
    return finite(a)


_entries = {}
"""The typed entries made so far, by ``(dtype, name)``."""
_compiling = threading.Lock()


def typed(dtype: np.dtype, name: str):
    """The entry ``name`` (``"cost_and_gradient"`` or ``"predict"``) compiled for arrays of
    ``dtype`` only. Its first call for a dtype compiles it, or loads it from the kernel cache;
    each entry on its own, so that a process that only predicts never compiles the gradient."""
    key = (dtype, name)
    try:
        return _entries[key]
    except KeyError:
        pass
    with _compiling:
        if key not in _entries:
            element = from_dtype(dtype)
            vector, matrix = types.Array(element, 1, "C"), types.Array(element, 2, "C")
            network = types.Array(types.int64, 1, "C")
            scalars = (types.float64,) * 3  # lam, beta, rho
            function, signature = {  # a KeyError for any other name
                "cost_and_gradient": (
                    cost_and_gradient,
                    (vector, network, matrix, matrix, *scalars, matrix, vector),
                ),
                "predict": (predict, (vector, network, matrix, matrix, matrix)),
            }[name]
            _entries[key] = jit_typed(function, signature)
    return _entries[key]


def direct(dispatcher):
    """The compiled entry point of ``dispatcher``'s one signature, called without the
    dispatcher's typing of the arguments (a fifth of a small network's call).

    It converts each argument as the signature says without testing it: a caller passes arrays
    whose type (``np.ndarray``), dtype and ndim it has tested, and the entries test the layout
    themselves (:func:`laid_out`). Under ``NUMBA_DISABLE_JIT``, ``dispatcher`` is the plain
    function and is returned as it is.
    """
    overloads = getattr(dispatcher, "overloads", None)
    if not overloads:
        return dispatcher
    (signature,) = overloads
    return dispatcher.get_overload(signature)
