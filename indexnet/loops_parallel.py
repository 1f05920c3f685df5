r"""The ``loops-parallel`` backend: the loop kernels with their big sums split across threads.

Three kernels do work that grows as :math:`m \, s_l \, s_{l+1}`: ``weighted_input``,
``hidden_delta`` and ``weight_gradient``. The first two hand their sum to ``_products`` (and
copy a transpose with ``_transpose``); here those two helpers have parallel versions, and the
two kernels, and every composite above them, are the serial kernels' own source compiled
against them (see :mod:`indexnet._rebind`). ``weight_gradient`` splits its sum over examples
instead, each thread adding into its own partial sum; ``activation`` splits its rows, and
``update`` the parameters. Every other kernel is the serial one.

Each ``prange`` task writes its own part of the output (a block of four rows by one panel of
columns in ``_products``, rows elsewhere, one parameter in ``update``), so no two threads ever
write the same element. Below :data:`PARALLEL_MIN_WORK` multiply-adds
``_products`` runs serially: starting the threads costs about 5-10 microseconds.
"""

import numpy as np
from numba import prange

from indexnet import loops
from indexnet._jit import jit, jit_parallel
from indexnet._rebind import rebind
from indexnet.activations import SIGMOID, SOFTMAX, f, sigmoid
from indexnet.loops import CHUNK, PANEL, ZERO, _products_rows

PARALLEL_MIN_WORK = 100_000
"""Multiply-adds below which ``_products`` runs serially."""
MIN_CHUNKS = 4
"""Stretches of examples from which ``weight_gradient`` splits its sum over k across threads
(with two, one stretch a thread left the gain to the slower of the two)."""


@jit_parallel
def _products(P, Q, out):
    r""":func:`indexnet.loops._products` with each panel's rows of ``P`` split across threads.

    .. math::
        \mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}
    """
    rows, columns = out.shape
    if rows * columns * P.shape[1] < PARALLEL_MIN_WORK:
        loops._products(P, Q, out)
        return
    blocks = (rows + 3) // 4
    # One parallel region for the whole product, its tasks in panel order: each thread works
    # through whole panels of Q (which stay in its cache) for every block of rows of P.
    for task in prange(((columns + PANEL - 1) // PANEL) * blocks):  # task writes its own block
        q0, p = PANEL * (task // blocks), 4 * (task % blocks)
        _products_rows(P, Q, out, p, q0, min(q0 + PANEL, columns))


@jit_parallel
def _transpose(X, XT):
    """``XT[i, j] = X[j, i]`` in 16x16 tiles, bands of 16 rows of ``XT`` split across threads."""
    rows, columns = XT.shape
    for band in prange((rows + 15) // 16):  # band writes rows 16*band..16*band+15 of XT only
        i0 = 16 * band
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    XT[i, j] = X[j, i]


@jit_parallel
def activation(z, kind, a):
    r"""Parallel :func:`indexnet.loops.activation`, rows split across threads.

    .. math::
        a_i^{(l)} = f(z_i^{(l)})
    """
    m, s = z.shape
    if m * s < PARALLEL_MIN_WORK // 8 or kind == SOFTMAX:
        loops.activation(z, kind, a)
        return
    for k in prange(m):  # thread owns row k of a: no race
        for i in range(s):
            a[k, i] = sigmoid(z[k, i]) if kind == SIGMOID else f(z[k, i], kind)


@jit_parallel
def weight_gradient(a, delta_next, W, lam, dW):
    r"""Parallel :func:`indexnet.loops.weight_gradient`: the sum over k split across threads.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}

    With enough examples, each stretch of :data:`indexnet.loops.CHUNK` of them adds into its own
    partial sum, and the partial sums are added up afterwards, serially. With fewer than
    :data:`MIN_CHUNKS` stretches, the serial kernel's source runs instead, with its rows split
    across threads by the parallel ``_products``.
    """
    m, s = a.shape
    s_next = delta_next.shape[1]
    chunks = (m + CHUNK - 1) // CHUNK
    if m * s_next * s < PARALLEL_MIN_WORK:
        loops.weight_gradient(a, delta_next, W, lam, dW)
        return
    if chunks < MIN_CHUNKS:
        _weight_gradient_by_rows(a, delta_next, W, lam, dW)
        return
    parts = np.empty((chunks, s_next, s), dtype=dW.dtype)
    for c in prange(chunks):  # chunk c writes parts[c] only: no race
        k0, k1 = c * CHUNK, min((c + 1) * CHUNK, m)
        delta_T = np.empty((s_next, k1 - k0), dtype=delta_next.dtype)
        a_T = np.empty((s, k1 - k0), dtype=a.dtype)
        loops._transpose(delta_next[k0:k1], delta_T)
        loops._transpose(a[k0:k1], a_T)
        loops._products(delta_T, a_T, parts[c])
    mf, lam_f = dW.dtype.type(m), dW.dtype.type(lam)
    for i in range(s_next):
        for j in range(s):
            total = ZERO
            for c in range(chunks):
                total += parts[c, i, j]
            dW[i, j] = total / mf + lam_f * W[i, j]


@jit_parallel
def update(theta, grad, alpha):
    r"""Parallel :func:`indexnet.loops.update`, the parameters split across threads.

    .. math::
        \theta_q := \theta_q - \alpha \frac{\partial J}{\partial \theta_q}
    """
    if theta.shape[0] < PARALLEL_MIN_WORK:
        loops.update(theta, grad, alpha)
        return
    alpha_f = theta.dtype.type(alpha)  # in theta's precision, so float32 stays float32
    for q in prange(theta.shape[0]):  # thread owns theta[q]: no race
        theta[q] -= alpha_f * grad[q]


# Numba names a cache entry after the source file and the function's name: the rebound
# functions' source file is loops.py, so a tag keeps their entries apart from the serial ones.
# (The cache folder itself is named after a hash of every kernel source, this file's included:
# see indexnet._jit.)
_TAG = "loops-parallel"
_namespace = {
    **vars(loops),
    "__name__": __name__,
    "_products": _products,
    "_transpose": _transpose,
    "activation": activation,
    "weight_gradient": weight_gradient,
    "update": update,
}
for _name in ("weighted_input", "hidden_delta", *loops.COMPOSITES):
    _namespace[_name] = jit(rebind(getattr(loops, _name), _namespace, tag=_TAG))
_weight_gradient_by_rows = jit(rebind(loops.weight_gradient, _namespace, tag=_TAG + "-by-rows"))

__all__ = loops.__all__
globals().update({_name: _namespace[_name] for _name in __all__})
