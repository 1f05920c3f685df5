r"""The equations' other paths: the same sums as the loops of :mod:`indexnet.loops`, in the order
that is fast for the problem's size.

Each function here computes what one equation body of :mod:`indexnet.kernels.loops` computes
(or its sum), for the problems the body hands over in its one line that names this module:
past :data:`~indexnet.fast.blocking.SMALL` multiply-adds, the sums go to the blocked and packed
products of :mod:`indexnet.fast.blocking`; with fewer examples than units, or more units than
:data:`~indexnet.fast.blocking.FEW_UNITS`, the loops run with the example index ``k`` outside,
so the inner loop walks a row. The loops in :mod:`indexnet.kernels.loops` stay the reference
these are tested against (``tests/test_large.py``); how each was chosen and measured is in
``bench/NOTES.md``.
"""

import numpy as np
from numba.extending import overload

from indexnet.fast.blocking import (
    CHUNK,
    SMALL,
    packs,
    products,
    products_blocked,
    products_packed,
    transpose,
)
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import ONE, SIGMOID, ZERO, f, sigmoid


@jit
def weighted_input(W, b, a, z_next):
    r""":math:`z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}`, the sum over j blocked."""
    m, s_next = z_next.shape
    # $\sum_j a_j^{(l)}(k) W_{ij}^{(l)}$ for every k and i: row k of a with row i of W
    products(a, W, z_next)
    for k in range(m):
        for i in range(s_next):
            # $z_i^{(l+1)} = \ldots + b_i^{(l)}$
            z_next[k, i] += b[i]


FLAT_MIN = 64
"""Elements from which an element-wise kernel walks C-ordered arrays as one flat run: below it
the two flat views (a call each into Numba's reshape) cost more than the run saves."""


@jit_inline
def flattens(z, a):
    """Whether :func:`activation` takes ``z`` and ``a``: both C-ordered, of more than one
    row and at least :data:`FLAT_MIN` elements (one row is already one run)."""
    rows = z.shape[0] > 1 and z.size >= FLAT_MIN
    return rows and z.flags.c_contiguous and a.flags.c_contiguous


def flat(x):
    """A C-ordered array ``x`` as one row: a view of the same memory."""
    return x.reshape(x.size)


@overload(flat)
def _compiled_flat(x):
    if x.layout == "C":
        return flat
    # Numba's reshape refuses an array that is not C-ordered by type (a view made in compiled
    # code); the caller has checked that this one is C-ordered in memory.
    return lambda x: np.lib.stride_tricks.as_strided(x, (x.size,), (x.itemsize,))


@jit
def activation(z, kind, a):
    r""":math:`a_i^{(l)} = f(z_i^{(l)})` for every unit of every example of C-ordered ``z`` and
    ``a`` (:func:`flattens`), in one loop over all the elements. Along rows of few units (25
    at [64, 25, 64], 3 at [3, 3, 1]) LLVM runs a row's first units on whole vectors and the
    rest one at a time, each with its own exponential: 3x the time of one flat run at
    10,000 x 25 in float32."""
    z_all, a_all = flat(z), flat(a)
    if kind == SIGMOID:  # the usual case, with no test of ``kind`` an element
        for q in range(z_all.shape[0]):
            a_all[q] = sigmoid(z_all[q])
    else:
        for q in range(z_all.shape[0]):
            a_all[q] = f(z_all[q], kind)


@jit
def back_sums(W, delta_next, delta):
    r""":math:`\sum_j W_{ji}^{(l)} \delta_j^{(l+1)}` into ``delta``, for every example, blocked."""
    m, s = delta.shape
    s_next = delta_next.shape[1]
    if packs(m, s, s_next):
        # $\sum_j \delta_j^{(l+1)}(k) W_{ji}^{(l)}$ for every k and i: column i of W packed
        products_packed(delta_next, W.T, delta)
    else:
        # $W^{(l)T}_{ij} = W^{(l)}_{ji}$, copied once so that the sum over j runs along rows.
        WT = np.empty((s, s_next), dtype=W.dtype)
        transpose(W, WT)
        # $\sum_j \delta_j^{(l+1)}(k) W_{ji}^{(l)}$: row k of delta with row i of W^T
        products(delta_next, WT, delta)


@jit_inline
def takes_weight_gradient(m, s, s_next):
    """Whether :func:`weight_gradient` takes the weight gradient of ``m`` examples and a layer
    of ``s_next`` by ``s`` weights: a large one, or one of fewer examples than units."""
    return m * s_next * s > SMALL or m < s


@jit_inline
def weight_gradient(a, delta_next, W, lam, dW):
    r""":math:`\frac{1}{m} \sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}`:
    blocked for a large layer, else with k outside (:func:`takes_weight_gradient`)."""
    m, s = a.shape
    s_next = delta_next.shape[1]
    if m * s_next * s <= SMALL:
        weight_gradient_few(a, delta_next, W, lam, dW)
    elif packs(s, s_next, m) and not packs(s_next, s, m):
        weight_gradient_transposed(a, delta_next, W, lam, dW)
    else:
        weight_gradient_blocked(a, delta_next, W, lam, dW)


@jit_inline
def weight_gradient_few(a, delta_next, W, lam, dW):
    """The weight gradient for fewer examples than units in layer l (one, in SGD): the same sum
    with k outside, so that the inner loop runs along rows of a and dW; with k inside it would
    be a sum of m terms for each weight, too short to vectorise."""
    m, s = a.shape
    s_next = delta_next.shape[1]
    if m == 1:
        # One example (SGD): the sum over k is its one term, and 1/m is 1, so a single pass
        # over dW, not three.
        lam_f = dW.dtype.type(lam)
        for i in range(s_next):
            delta_i = delta_next[0, i]
            for j in range(s):
                # $a_j^{(l)} \delta_i^{(l+1)} + \lambda W_{ij}^{(l)}$
                dW[i, j] = a[0, j] * delta_i + lam_f * W[i, j]
        return
    for i in range(s_next):
        for j in range(s):
            dW[i, j] = ZERO
    for k in range(m):
        for i in range(s_next):
            delta_i = delta_next[k, i]
            for j in range(s):
                # $\sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k)$
                dW[i, j] += a[k, j] * delta_i
    average_plus_decay(dW, m, lam, W)


@jit
def weight_gradient_blocked(a, delta_next, W, lam, dW):
    """The weight gradient of a large layer: the same sum over k, blocked."""
    m, s = a.shape
    s_next = delta_next.shape[1]
    if packs(s_next, s, m):
        # $\sum_k \delta_i^{(l+1)}(k) a_j^{(l)}(k)$ for every i and j, columns i of delta
        # and j of a packed where they lie
        products_packed(delta_next.T, a.T, dW)
        average_plus_decay(dW, m, lam, W)
        return
    # The first stretch's sums go straight into dW, later ones through part: a temporary the
    # size of dW, new at every call, lands on fresh pages.
    part = np.empty_like(dW) if m > CHUNK else dW
    # The sum over k, CHUNK examples at a time: each stretch of delta^T and a^T fits in cache.
    for k0 in range(0, m, CHUNK):
        k1 = min(k0 + CHUNK, m)
        # $\delta^T$ and $a^T$ of examples k0..k1-1, so that the sum over k runs along rows.
        delta_T = np.empty((s_next, k1 - k0), dtype=delta_next.dtype)
        a_T = np.empty((s, k1 - k0), dtype=a.dtype)
        transpose(delta_next[k0:k1], delta_T)
        transpose(a[k0:k1], a_T)
        # $\sum_k \delta_i^{(l+1)}(k) a_j^{(l)}(k)$ for every i and j, k from k0 to k1-1
        products_blocked(delta_T, a_T, dW if k0 == 0 else part)
        if k0 > 0:
            for i in range(s_next):
                for j in range(s):
                    dW[i, j] += part[i, j]
    average_plus_decay(dW, m, lam, W)


@jit
def weight_gradient_transposed(a, delta_next, W, lam, dW):
    """The weight gradient of a layer with too few columns (units of layer l) for the packed
    tiles but enough rows: the packed product of its transpose, transposed back (at
    [64, 25, 64], m = 10,000, ``W^(2)`` is 64 x 25: 1.9 -> 1.2 ms)."""
    m, s = a.shape
    # $\sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k)$ for every j and i
    dW_T = np.empty((s, delta_next.shape[1]), dtype=dW.dtype)
    products_packed(a.T, delta_next.T, dW_T)
    transpose(dW_T, dW)
    average_plus_decay(dW, m, lam, W)


@jit_inline
def average_plus_decay(dW, m, lam, W):
    r"""The weight gradient's last pass: ``dW`` holds the sums over k, and becomes the gradient.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \left[ \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) \right]
              + \lambda W_{ij}^{(l)}
    """
    # 1/m and lambda in the arrays' precision, so float32 stays float32. A product, as the
    # math writes it: a division per weight would cost more than the sum before it when m is 1.
    inv_m, lam_f = ONE / dW.dtype.type(m), dW.dtype.type(lam)
    for i in range(dW.shape[0]):
        for j in range(dW.shape[1]):
            # $\frac{1}{m} \ldots + \lambda W_{ij}^{(l)}$
            dW[i, j] = inv_m * dW[i, j] + lam_f * W[i, j]


@jit_inline
def bias_gradient(delta_next, db):
    r""":math:`\frac{1}{m} \sum_k \delta_i^{(l+1)}(k)` with k outside, so that the inner loop
    over i walks a row of delta contiguously: faster past
    :data:`~indexnet.fast.blocking.FEW_UNITS` units."""
    m, s_next = delta_next.shape
    mf = db.dtype.type(m)  # m in the arrays' precision, so float32 stays float32
    for i in range(s_next):
        db[i] = ZERO
    for k in range(m):
        for i in range(s_next):
            # $\sum_k \delta_i^{(l+1)}(k)$
            db[i] += delta_next[k, i]
    for i in range(s_next):
        # $\frac{1}{m} \ldots$
        db[i] = db[i] / mf
