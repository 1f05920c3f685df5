r"""The convolution kernels' other order: the same sums as :mod:`indexnet.kernels.conv`, with the
column index ``c`` innermost.

The readable loops put the filter offsets ``p, q`` innermost, as the equations write the sum;
the inner loop is then as long as a filter row (3 to 9 terms) and strides across maps. Here each
filter weight is taken once, outside, and the loop over ``c`` walks a row of a map: contiguous,
as long as the map is wide, and in SIMD lanes. Every sum here is the same sum, in another order
(``tests/test_conv.py`` proves them equal to the loops).
"""

from indexnet.fast.blocking import SMALL
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import ZERO


@jit_inline
def large(outputs, filter_size):
    """Whether a kernel of ``outputs`` positions, each a sum of ``filter_size`` terms (one
    filter, every input channel), takes this module's order: past
    :data:`~indexnet.fast.blocking.SMALL` multiply-adds."""
    return outputs * filter_size > SMALL


@jit
def conv_weighted_input(W, b, a, z_next):
    r""":math:`z_{k,r,c} = \sum_{d,p,q} W_{k,d,p,q} a_{d,r+p,c+q} + b_k`, each weight outside."""
    m, K, R, C = z_next.shape
    D, p_rows, p_cols = W.shape[1], W.shape[2], W.shape[3]
    for n in range(m):
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    z_next[n, k, r, c] = b[k]
            for d in range(D):
                for p in range(p_rows):
                    for q in range(p_cols):
                        w = W[k, d, p, q]
                        for r in range(R):
                            for c in range(C):
                                # $+ W_{k,d,p,q} a_{d,r+p,c+q}$
                                z_next[n, k, r, c] += w * a[n, d, r + p, c + q]


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


@jit
def filter_sums(a, delta_next, dW):
    r""":math:`\sum_n \sum_r \sum_c \delta_{k,r,c}(n) a_{d,r+p,c+q}(n)`, ``c`` inside."""
    m, K, R, C = delta_next.shape
    D, p_rows, p_cols = dW.shape[1], dW.shape[2], dW.shape[3]
    for k in range(K):
        for d in range(D):
            for p in range(p_rows):
                for q in range(p_cols):
                    dW[k, d, p, q] = ZERO
    for n in range(m):
        for k in range(K):
            for d in range(D):
                for p in range(p_rows):
                    for q in range(p_cols):
                        total = ZERO
                        for r in range(R):
                            for c in range(C):
                                # $\sum_r \sum_c \delta_{k,r,c}(n) a_{d,r+p,c+q}(n)$
                                total += delta_next[n, k, r, c] * a[n, d, r + p, c + q]
                        dW[k, d, p, q] += total
