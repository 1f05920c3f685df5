r"""The convolution kernels' other paths: the same sums as :mod:`indexnet.kernels.conv`, in the
order that is fast for a batch.

The sum of a convolution over ``d, p, q`` is a matrix product once every window of an image is
laid out as a row (im2col): row :math:`(r, c)` of the window matrix holds
:math:`a_{d,r+p,c+q}` for every :math:`(d, p, q)`. Then

.. math::
    z_{k,(r,c)} = \sum_{(d,p,q)} W_{k,(d,p,q)}\, \mathrm{rows}_{(r,c),(d,p,q)}, \qquad
    \frac{\partial J}{\partial W_{k,(d,p,q)}} \propto \sum_n \sum_{(r,c)}
        \delta_{k,(r,c)}(n)\, \mathrm{rows}_{(r,c),(d,p,q)}(n)

are the products of :func:`indexnet.fast.blocking.products` (blocked in registers, and packed
for the vector micro-kernel where the target has one), one image at a time so that its window
matrix stays in cache. The back sum of :func:`~indexnet.kernels.conv.conv_delta` scatters each
output's error to the inputs it read, with the column index innermost. Every function here is
tested equal to the readable loops (``tests/test_conv.py``); why and by how much:
``bench/NOTES.md``.
"""

import numpy as np

from indexnet.fast.blocking import (
    SMALL,
    packs,
    products,
    products_blocked,
    products_packed,
    transpose,
)
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import ZERO


@jit_inline
def large(outputs, filter_size):
    """Whether a kernel of ``outputs`` positions, each a sum of ``filter_size`` terms (one
    filter, every input channel), takes this module's path: past
    :data:`~indexnet.fast.blocking.SMALL` multiply-adds."""
    return outputs * filter_size > SMALL


@jit_inline
def window_rows(a, n, p_rows, p_cols, rows):
    r"""Every window of image ``n`` as a row: ``rows[r C + c, (d p_rows + p) p_cols + q] =``
    :math:`a_{d,r+p,c+q}` (im2col), ``rows`` of shape ``(R C, D p_rows p_cols)``."""
    D = a.shape[1]
    R, C = a.shape[2] - p_rows + 1, a.shape[3] - p_cols + 1
    for r in range(R):
        for c in range(C):
            for d in range(D):
                for p in range(p_rows):
                    for q in range(p_cols):
                        rows[r * C + c, (d * p_rows + p) * p_cols + q] = a[n, d, r + p, c + q]


@jit_inline
def flat_filters(W):
    """``W`` as the matrix ``(K, D p_rows p_cols)``, a contiguous copy."""
    K, D, p_rows, p_cols = W.shape
    flat = np.empty((K, D * p_rows * p_cols), W.dtype)
    for k in range(K):
        for d in range(D):
            for p in range(p_rows):
                for q in range(p_cols):
                    flat[k, (d * p_rows + p) * p_cols + q] = W[k, d, p, q]
    return flat


@jit
def conv_weighted_input(W, b, a, z_next):
    r""":math:`z_{k,r,c} = \sum_{d,p,q} W_{k,d,p,q} a_{d,r+p,c+q} + b_k`: per image, the filters
    times the window rows."""
    m, K, R, C = z_next.shape
    p_rows, p_cols = W.shape[2], W.shape[3]
    filters = flat_filters(W)
    rows = np.empty((R * C, filters.shape[1]), a.dtype)
    z = np.empty((K, R * C), a.dtype)
    for n in range(m):
        window_rows(a, n, p_rows, p_cols, rows)
        # $\sum_{(d,p,q)} W_{k,(d,p,q)} \mathrm{rows}_{(r,c),(d,p,q)}$
        products(filters, rows, z)
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    # $z_{k,r,c} = \ldots + b_k$
                    z_next[n, k, r, c] = z[k, r * C + c] + b[k]


@jit
def filter_sums(a, delta_next, dW):
    r""":math:`\sum_n \sum_r \sum_c \delta_{k,r,c}(n) a_{d,r+p,c+q}(n)`: per image, the errors
    times the window rows, summed over the images."""
    m, K, R, C = delta_next.shape
    D, p_rows, p_cols = dW.shape[1], dW.shape[2], dW.shape[3]
    F = D * p_rows * p_cols
    rows = np.empty((R * C, F), a.dtype)
    columns = np.empty((F, R * C), a.dtype)
    delta = np.empty((K, R * C), a.dtype)
    image = np.empty((K, F), a.dtype)
    total = np.zeros((K, F), a.dtype)
    for n in range(m):
        window_rows(a, n, p_rows, p_cols, rows)
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    delta[k, r * C + c] = delta_next[n, k, r, c]
        # $\sum_{(r,c)} \delta_{k,(r,c)}(n) \mathrm{rows}_{(r,c),(d,p,q)}(n)$
        if packs(K, F, R * C):
            products_packed(delta, rows.T, image)  # the packing reads the rows' columns
        else:
            transpose(rows, columns)
            products_blocked(delta, columns, image)
        for k in range(K):
            for f in range(F):
                # $\sum_n \ldots$
                total[k, f] += image[k, f]
    for k in range(K):
        for d in range(D):
            for p in range(p_rows):
                for q in range(p_cols):
                    dW[k, d, p, q] = total[k, (d * p_rows + p) * p_cols + q]


@jit
def back_sums(W, delta_next, delta):
    r""":math:`\sum_{k,p,q} W_{k,d,p,q} \delta_{k,r-p,c-q}`: each output's error scattered to the
    inputs it read, :math:`(r'+p, c'+q)` for output :math:`(r', c')`, so no term falls outside."""
    m, D, R, C = delta.shape
    K, p_rows, p_cols = W.shape[0], W.shape[2], W.shape[3]
    R_next, C_next = delta_next.shape[2], delta_next.shape[3]
    for n in range(m):
        for d in range(D):
            for r in range(R):
                for c in range(C):
                    delta[n, d, r, c] = ZERO
        for k in range(K):
            for d in range(D):
                for p in range(p_rows):
                    for q in range(p_cols):
                        w = W[k, d, p, q]
                        for r in range(R_next):
                            for c in range(C_next):
                                # $+ W_{k,d,p,q} \delta_{k,r',c'}$ into input $(r'+p, c'+q)$
                                delta[n, d, r + p, c + q] += w * delta_next[n, k, r, c]
