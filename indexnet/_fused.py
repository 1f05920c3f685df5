"""The compiled half of :class:`indexnet.Network`'s calls: value checks and a composite in one.

A call from Python into compiled code costs about as much as a whole step of a small network,
and the NumPy reductions that check an array's values cost more. So, for the ``loops`` backend,
``Network.cost_and_gradient`` and ``Network.predict`` make one compiled call that checks that
the inputs are finite, runs the composite (which checks the shapes) and checks that what came
out is finite. A call that finds a value it cannot take returns NaN (or ``ok = False``), and
the network then runs its Python checks, which name the argument and the entry.
"""

import math

from indexnet import loops
from indexnet._jit import jit
from indexnet.layout import borrowed, layer_of


@jit
def finite(X):
    """True if no entry of the 2-D array ``X`` is NaN or infinite."""
    for k in range(X.shape[0]):
        for i in range(X.shape[1]):
            if not math.isfinite(X[k, i]):
                return False
    return True


@jit
def finite_result(J, grad):
    """True if the cost ``J`` and every entry of ``grad`` are finite."""
    return math.isfinite(J) and loops._all_finite(grad)


@jit
def cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    """:func:`indexnet.loops.cost_and_gradient` between two value checks.

    Returns
    -------
    float
        :math:`J`, or NaN if ``X``, ``Y``, ``J`` or ``grad`` holds a NaN or an infinity.
    """
    theta, X, Y, work, grad = borrowed((theta, X, Y, work, grad))
    if not (finite(X) and finite(Y)):
        return math.nan
    J = loops.cost_and_gradient(
        theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad
    )
    return J if finite_result(J, grad) else math.nan


@jit
def predict(theta, sizes, X, hidden, output, work):
    r""":func:`indexnet.loops.forward` between two value checks.

    Returns
    -------
    a : ndarray, shape (m, sizes[-1])
        :math:`a^{(n_l)}`, a new array.
    ok : bool
        False if ``X`` or ``a`` holds a NaN or an infinity.
    """
    theta, X, work = borrowed((theta, X, work))
    top = sizes.shape[0] - 1
    if not finite(X):
        return layer_of(work[1], X.shape[0], sizes, top).copy(), False
    loops.forward(theta, sizes, X, hidden, output, work)
    a = layer_of(work[1], X.shape[0], sizes, top).copy()
    return a, finite(a)
