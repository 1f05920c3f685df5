r"""The ``loops-parallel`` backend: each thread runs the serial kernel on its own stretch of rows.

The rows of a kernel's output are independent of one another: row k of :math:`z`, :math:`a`
and :math:`\delta` belongs to example k, and row i of :math:`\partial J / \partial W` to unit
i. So each kernel here splits its output's rows (or its columns, the units) into one stretch a
thread and runs the kernel of :mod:`indexnet.loops` on each stretch. A sum over the examples
(the cost, the gradients) is split the same way into one partial sum a thread, and the parts
are added up afterwards. The math is the serial kernels' own, and no two threads write the
same element.

- ``weighted_input``, ``activation``, ``output_delta``, ``hidden_delta`` and ``cost`` split the
  examples (``weighted_input`` splits the units of a layer with as many units as examples or
  more). Thread c holds the same stretch of examples in every kernel that splits them, so
  the rows it reads are mostly the ones it wrote, still in its own core's cache (with Numba's
  ``omp`` and ``workqueue`` threading layers, which split a ``prange`` the same way every
  time).
- ``weight_gradient`` sums over the examples. For a layer of at most :data:`PART_MAX`
  weights, each thread runs the serial kernel on its own stretch of examples, into its own
  partial gradient, and the partial gradients are added up afterwards. For a larger layer the
  serial source of :func:`indexnet.fast.large.weight_gradient_blocked` runs, compiled against
  the parallel products and passes below (:data:`PRODUCTS`: the blocked and the packed
  product, ``transpose`` and ``average_plus_decay``), which split the units (see
  :mod:`indexnet.fast.rebind`).
- ``bias_gradient`` splits the examples, one partial gradient a thread, as ``weight_gradient``
  does for small layers. ``update`` splits the parameters, and the cost's weight decay the
  weights. The sparsity terms are the serial kernels.

Below :data:`PARALLEL_MIN_WORK` multiply-adds a kernel runs serially (an element-wise kernel
counts :data:`PER_ELEMENT` an element): waking the threads costs microseconds. How each split
and threshold was chosen, measured, is in ``bench/NOTES.md``.
"""

import numba
import numpy as np
from numba import prange

from indexnet.checks import shapes
from indexnet.fast import blocking, large
from indexnet.fast.compiler import jit, jit_inline, jit_parallel
from indexnet.fast.numba_private import thread_count as _threads
from indexnet.fast.rebind import rebind
from indexnet.kernels import loops
from indexnet.kernels.loops import ZERO

# Start Numba's threads now (numba.get_num_threads starts them). Numba issues 8578 and 9938: a
# cached function calling a parallel kernel that was itself loaded from the cache is saved
# without the call that starts them, and loaded from the cache it crashes on its first call
# unless something else has. The composites below are such functions, and so is a user's own
# ``@njit(cache=True)`` code calling these kernels; importing this module starts the threads
# for both (a few milliseconds, once a process).
numba.get_num_threads()

PARALLEL_MIN_WORK = 250_000
"""Multiply-adds (or elements times :data:`PER_ELEMENT`) below which a kernel runs serially:
half a million floating-point operations."""
PER_ELEMENT = 8
"""Multiply-adds an element-wise kernel or a copy counts per element: an exponential, or an
element's trip through memory (``update``, a transpose), takes at least as long as 8 of the
blocked products' multiply-adds."""
PART_MAX = 65_536
"""Weights of a layer (:math:`s_{l+1} s_l`) up to which ``weight_gradient`` splits the examples
across threads, each into its own partial gradient (512 KiB in float64); above it, it splits the
units. A few units split across threads waste 4-row blocks of the product, and large partial
gradients cost more to add up than the units split costs (bench/NOTES.md)."""


@jit_inline
def _stretches(rows, work):
    """How many stretches to split ``rows`` rows into: one a thread, or 1 (run serially) if
    ``work`` is small or there is one thread."""
    if work < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(_threads(), rows))


@jit_inline
def _stretch(c, n, rows):
    """The first and one-past-last row of stretch ``c`` of ``n`` near-equal stretches."""
    return c * rows // n, (c + 1) * rows // n


@jit
def _lengths(n, rows, like):
    """The number of rows in each of the ``n`` stretches, in the precision of array ``like``."""
    lengths = np.empty(n, dtype=like.dtype)
    for c in range(n):
        r0, r1 = _stretch(c, n, rows)
        lengths[c] = r1 - r0
    return lengths


@jit_parallel
def weighted_input(W, b, a, z_next):
    r"""Parallel :func:`indexnet.loops.weighted_input`: the examples split across threads, or
    the units if the layer has at least as many units as there are examples.

    .. math::
        z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}

    Notes
    -----
    Split by examples, every thread reads all of :math:`W`; split by units, all of :math:`a`.
    Each then reads the smaller one whole. The units split also leaves each thread the rows
    of :math:`W` that it updated itself at the end of the last step, still in its own core's
    cache.
    """
    shapes.weighted_input(W, b, a, z_next)
    m, s_next = z_next.shape
    by_units = s_next >= m
    n = _stretches(s_next if by_units else m, m * s_next * a.shape[1])
    if n == 1:
        loops._weighted_input(W, b, a, z_next)
        return
    if by_units:
        for c in prange(n):  # stretch c writes columns i0..i1-1 of z_next only
            i0, i1 = _stretch(c, n, s_next)
            loops._weighted_input(W[i0:i1], b[i0:i1], a, z_next[:, i0:i1])
        return
    for c in prange(n):  # stretch c writes rows k0..k1-1 of z_next only
        k0, k1 = _stretch(c, n, m)
        loops._weighted_input(W, b, a[k0:k1], z_next[k0:k1])


@jit_parallel
def activation(z, kind, a):
    r"""Parallel :func:`indexnet.loops.activation`, the examples split across threads.

    .. math::
        a_i^{(l)} = f(z_i^{(l)})
    """
    shapes.activation(z, kind, a)
    m, s = z.shape
    n = _stretches(m, m * s * PER_ELEMENT)
    if n == 1:
        loops._activation(z, kind, a)
        return
    for c in prange(n):  # stretch c writes rows k0..k1-1 of a only
        k0, k1 = _stretch(c, n, m)
        loops._activation(z[k0:k1], kind, a[k0:k1])


@jit_parallel
def cost(z_out, a_out, Y, weights, lam, loss, kind):
    r"""Parallel :func:`indexnet.loops.cost`: each thread the loss of its stretch of examples.

    .. math::
        J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| a^{(n_l)}(k) - y(k) \right\|^2
                 + \frac{\lambda}{2} \sum_{l=1}^{n_l-1} \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2
    """
    shapes.cost(z_out, a_out, Y, weights, lam, loss, kind)
    m, s = a_out.shape
    n = _stretches(m, m * s * PER_ELEMENT)
    if n == 1:  # the average loss (no decay: lambda = 0)
        average = loops._cost(z_out, a_out, Y, weights, 0.0, loss, kind)
    else:
        data = 0.0
        for c in prange(n):  # each thread adds its own part of data; Numba adds the parts up
            k0, k1 = _stretch(c, n, m)
            # The stretch's average loss times its number of examples: its sum over k.
            data += (k1 - k0) * loops._cost(
                z_out[k0:k1], a_out[k0:k1], Y[k0:k1], weights, 0.0, loss, kind
            )
        average = data / m
    # $\frac{1}{m} \sum_k \ldots + \frac{\lambda}{2} \ldots$
    return average + _weight_decay(weights, lam)


@jit_parallel
def _weight_decay(weights, lam):
    r"""Parallel :func:`indexnet.loops._weight_decay`, the weights split across threads.

    .. math::
        \frac{\lambda}{2} \sum_{l=1}^{n_l-1} \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2
    """
    n_w = weights.shape[0]
    n = _stretches(n_w, n_w * PER_ELEMENT)
    if n == 1 or lam == 0:  # without decay, no thread has anything to add
        return loops._weight_decay(weights, lam)
    decay = 0.0
    for c in prange(n):  # each thread adds its own stretch's term; Numba adds them up
        q0, q1 = _stretch(c, n, n_w)
        decay += loops._weight_decay(weights[q0:q1], lam)
    return decay


@jit_parallel
def output_delta(z_out, a_out, Y, loss, kind, delta_out):
    r"""Parallel :func:`indexnet.loops.output_delta`, the examples split across threads.

    .. math::
        \delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})
    """
    shapes.output_delta(z_out, a_out, Y, loss, kind, delta_out)
    m, s = a_out.shape
    n = _stretches(m, m * s * PER_ELEMENT)
    if n == 1:
        loops._output_delta(z_out, a_out, Y, loss, kind, delta_out)
        return
    for c in prange(n):  # stretch c writes rows k0..k1-1 of delta_out only
        k0, k1 = _stretch(c, n, m)
        loops._output_delta(z_out[k0:k1], a_out[k0:k1], Y[k0:k1], loss, kind, delta_out[k0:k1])


@jit_parallel
def hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    r"""Parallel :func:`indexnet.loops.hidden_delta`, the examples split across threads.

    .. math::
        \delta_i^{(l)} = \left( \sum_{j=1}^{s_{l+1}} W_{ji}^{(l)} \delta_j^{(l+1)} \right)
                         f'(z_i^{(l)})
    """
    shapes.hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)
    m, s = delta.shape
    n = _stretches(m, m * s * delta_next.shape[1])
    if n == 1:
        loops._hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)
        return
    for c in prange(n):  # stretch c writes rows k0..k1-1 of delta only
        k0, k1 = _stretch(c, n, m)
        loops._hidden_delta(
            W, delta_next[k0:k1], z[k0:k1], a[k0:k1], kind, beta, rho, rho_hat, delta[k0:k1]
        )


@jit_parallel
def products_blocked(P, Q, out):
    r""":func:`indexnet.fast.blocking.products_blocked`, the rows of ``P`` and ``out`` split across
    threads.

    .. math::
        \mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}
    """
    rows, columns = out.shape
    n = _stretches(rows, rows * columns * P.shape[1])
    if n == 1:
        blocking.products_blocked(P, Q, out)
        return
    for c in prange(n):  # stretch c writes rows p0..p1-1 of out only
        p0, p1 = _stretch(c, n, rows)
        blocking.products_blocked(P[p0:p1], Q, out[p0:p1])


@jit_parallel
def products_packed(P, Q, out):
    r""":func:`indexnet.fast.blocking.products_packed`, the rows of ``P`` and ``out`` split across
    threads (each thread packs ``Q`` for itself).

    .. math::
        \mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}
    """
    rows, columns = out.shape
    n = _stretches(rows, rows * columns * P.shape[1])
    if n == 1:
        blocking.products_packed(P, Q, out)
        return
    for c in prange(n):  # stretch c writes rows p0..p1-1 of out only
        p0, p1 = _stretch(c, n, rows)
        blocking.products_packed_rows(P, Q, out, p0, p1)


@jit_parallel
def transpose(X, XT):
    """``XT[i, j] = X[j, i]`` in 16x16 tiles, bands of 16 rows of ``XT`` split across threads."""
    rows, columns = XT.shape
    if _stretches(rows, rows * columns * PER_ELEMENT) == 1:
        blocking.transpose(X, XT)
        return
    for band in prange((rows + 15) // 16):  # band writes rows 16*band..16*band+15 of XT only
        i0 = 16 * band
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    XT[i, j] = X[j, i]


@jit_parallel
def average_plus_decay(dW, m, lam, W):
    r"""Parallel :func:`indexnet.fast.large.average_plus_decay`, the units i split across threads.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \left[ \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) \right]
              + \lambda W_{ij}^{(l)}
    """
    s_next = dW.shape[0]
    n = _stretches(s_next, dW.size * PER_ELEMENT)
    if n == 1:
        large.average_plus_decay(dW, m, lam, W)
        return
    for c in prange(n):  # stretch c writes rows i0..i1-1 of dW only
        i0, i1 = _stretch(c, n, s_next)
        large.average_plus_decay(dW[i0:i1], m, lam, W[i0:i1])


@jit_parallel
def weight_gradient(a, delta_next, W, lam, dW):
    r"""Parallel :func:`indexnet.loops.weight_gradient`.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}

    For a layer of at most :data:`PART_MAX` weights, each thread runs the serial kernel on its
    own stretch of examples, into its own partial gradient, and the partial gradients are
    added up afterwards. For a larger one, the serial blocked source runs, its units split
    across threads by the parallel products and ``average_plus_decay`` (:data:`PRODUCTS`).
    """
    shapes.weight_gradient(a, delta_next, W, lam, dW)
    m, s = a.shape
    s_next = delta_next.shape[1]
    by_units = s_next * s > PART_MAX
    n = _stretches(s_next if by_units else m, m * s_next * s)
    if n == 1:
        loops._weight_gradient(a, delta_next, W, lam, dW)
        return
    if by_units:
        _weight_gradient_by_units(a, delta_next, W, lam, dW)
        return
    parts = np.empty((n, s_next, s), dtype=dW.dtype)
    for c in prange(n):  # stretch c writes parts[c] only
        k0, k1 = _stretch(c, n, m)
        # $\frac{1}{m_c} \sum_{k \in c} a_j^{(l)}(k) \delta_i^{(l+1)}(k)$, no decay
        loops._weight_gradient(a[k0:k1], delta_next[k0:k1], W, 0.0, parts[c])
    counts = _lengths(n, m, dW)
    for i in range(s_next):
        for j in range(s):
            total = ZERO
            for c in range(n):
                # Each part is its stretch's average: times its number of examples, its sum.
                total += counts[c] * parts[c, i, j]
            dW[i, j] = total
    average_plus_decay(dW, m, lam, W)


@jit_parallel
def bias_gradient(delta_next, db):
    r"""Parallel :func:`indexnet.loops.bias_gradient`: each thread the average over its stretch
    of examples, into its own partial gradient, added up afterwards.

    .. math::
        \frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m} \sum_{k=1}^{m} \delta_i^{(l+1)}(k)
    """
    shapes.bias_gradient(delta_next, db)
    m, s_next = delta_next.shape
    n = _stretches(m, m * s_next * PER_ELEMENT)
    if n == 1:
        loops._bias_gradient(delta_next, db)
        return
    parts = np.empty((n, s_next), dtype=db.dtype)
    for c in prange(n):  # stretch c writes parts[c] only
        k0, k1 = _stretch(c, n, m)
        # $\frac{1}{m_c} \sum_{k \in c} \delta_i^{(l+1)}(k)$
        loops._bias_gradient(delta_next[k0:k1], parts[c])
    counts = _lengths(n, m, db)
    mf = db.dtype.type(m)  # m in the arrays' precision, so float32 stays float32
    for i in range(s_next):
        total = ZERO
        for c in range(n):
            # Each part is its stretch's average: times its number of examples, its sum.
            total += counts[c] * parts[c, i]
        # $\frac{1}{m} \ldots$
        db[i] = total / mf


@jit_parallel
def update(theta, grad, alpha):
    r"""Parallel :func:`indexnet.loops.update`, the parameters split across threads.

    .. math::
        \theta_q := \theta_q - \alpha \frac{\partial J}{\partial \theta_q}
    """
    shapes.update(theta, grad, alpha)
    if _stretches(theta.shape[0], theta.shape[0] * PER_ELEMENT) == 1:
        loops._update(theta, grad, alpha)
        return
    alpha_f = theta.dtype.type(alpha)  # in theta's precision, so float32 stays float32
    for q in prange(theta.shape[0]):  # thread owns theta[q]: no race
        theta[q] -= alpha_f * grad[q]


@jit_parallel
def kept_update(theta, grad, alpha, previous):
    """Parallel ``loops._kept_update``: :func:`update`, keeping the parameters before it in
    ``previous`` (the training loops' last good parameters), in the same pass."""
    if _stretches(theta.shape[0], theta.shape[0] * PER_ELEMENT) == 1:
        loops._kept_update(theta, grad, alpha, previous)
        return
    alpha_f = theta.dtype.type(alpha)
    for q in prange(theta.shape[0]):  # thread owns theta[q] and previous[q]: no race
        previous[q] = theta[q]
        theta[q] -= alpha_f * grad[q]


# The backend's tables. The composites of indexnet.kernels.loops sequence the kernels' unchecked
# bodies (loops._weighted_input, ...); here each body is the parallel kernel, which checks its
# arrays, then runs loops' body on each stretch. A large layer's weight gradient runs
# indexnet.fast.large's source against the parallel products. tests/test_backends.py checks
# that every kernel and product these sources call is in its table.
KERNELS = {
    "_weighted_input": weighted_input,
    "_activation": activation,
    "_cost": cost,
    "_output_delta": output_delta,
    "_hidden_delta": hidden_delta,
    "_weight_gradient": weight_gradient,
    "_bias_gradient": bias_gradient,
    "_update": update,
    "_kept_update": kept_update,
}
"""What the composites call, each replaced by this backend's parallel kernel."""
PRODUCTS = {
    "products_blocked": products_blocked,
    "products_packed": products_packed,
    "transpose": transpose,
    "average_plus_decay": average_plus_decay,
}
"""What :func:`indexnet.fast.large.weight_gradient_blocked` calls, each replaced by its
parallel version (the units split across threads)."""

# The rebound functions keep their source file (loops.py, large.py): a tag in their names
# keeps their entries in Numba's cache, named after the file and the qualified name, apart
# from the serial ones'.
_TAG = "loops-parallel"
_namespace = {**vars(loops), "__name__": __name__, **KERNELS}
for _name in loops.COMPOSITES:  # inlined where loops inlines them: one library a public entry
    _original = getattr(loops, _name)
    _decorate = jit_inline if _original.targetoptions.get("inline") == "always" else jit
    _namespace[_name] = _decorate(rebind(_original, _namespace, tag=_TAG))
_weight_gradient_by_units = jit(
    rebind(
        large.weight_gradient_blocked,
        {**vars(large), "__name__": __name__, **PRODUCTS},
        tag=_TAG + "-by-units",
    )
)

__all__ = loops.__all__
# The public names: the parallel kernels above, the rebound composites, and the serial kernels
# that have no parallel version here (the sparsity terms).
globals().update({_name: _namespace[_name] for _name in __all__ if _name not in globals()})
for _name in __all__:  # dimensions and dtypes checked in Python, before Numba compiles
    shapes.guard(_name, globals()[_name])
