r"""Convolution and pooling as loops over their own subscripts: UFLDL's next chapter.

The same notation as :mod:`indexnet.kernels.loops`, with maps instead of units: one image ``n``
of the batch, feature maps ``k`` of layer :math:`l+1`, input channels ``d`` of layer :math:`l`,
positions ``r, c`` in a map, filter offsets ``p, q``, pooling size ``P``. A layer's maps are an
array of shape ``(m, channels, rows, cols)``; the filters of a convolutional layer are
``W[k, d, p, q]``, shape ``(K, D, p_rows, p_cols)``, and its biases ``b[k]``.

The convention, stated once. These kernels compute the *correlation* form,
:math:`z_{k,r,c} = \sum W_{k,d,p,q}\, a_{d,r+p,c+q}`, as UFLDL's equations, CS231n and every deep
learning library do. UFLDL's MATLAB exercise calls ``conv2``, which flips its second argument,
so there the filter is flipped (``rot90(W, 2)``) before the call, and the two flips cancel: the
same network. Its ``rot90(delta, 2)`` in the filter gradient is the same cancellation of
``conv2``'s flip, nothing more.

Backward, the error of an input position sums over the output positions that read it: output
:math:`(r-p, c-q)` reads input :math:`(r, c)` through filter offset :math:`(p, q)`. The index
that was :math:`r+p` forward is :math:`r-p` backward; read as a convolution of
:math:`\delta^{(l+1)}` that is the filter rotated by 180 degrees, and the terms whose
:math:`r-p` falls outside the map are absent: the "full" convolution (:func:`conv_delta`).

Each public kernel checks its arrays' shapes against each other in compiled code
(:mod:`indexnet.checks.shapes`), so it is safe to call from Python and from a user's ``@njit``
code. Where a batch is large the body hands the same sums to :mod:`indexnet.fast.conv` in one
line: there they are matrix products over each image's windows (im2col). The NumPy twins are in
:mod:`indexnet.twins.vectorized_conv`; :class:`indexnet.ConvNetwork` sequences the kernels.
"""

from indexnet.checks import shapes
from indexnet.fast import conv as fast
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import ONE, ZERO, f_prime

__all__ = [  # in the order a convolutional network uses them
    "conv_weighted_input",
    "mean_pool",
    "max_pool",
    "mean_pool_delta",
    "max_pool_delta",
    "conv_delta",
    "filter_gradient",
    "conv_bias_gradient",
]


@jit
def conv_weighted_input(W, b, a, z_next):
    r"""Weighted input of a convolutional layer: every filter over every "valid" position.

    .. math::
        z_{k,r,c}^{(l+1)} = \sum_d \sum_p \sum_q W_{k,d,p,q}^{(l)}\, a_{d,r+p,c+q}^{(l)}
            + b_k^{(l)}

    Parameters
    ----------
    W : ndarray, shape (K, D, p_rows, p_cols)
        :math:`W^{(l)}`: ``K`` filters over ``D`` input channels.
    b : ndarray, shape (K,)
        :math:`b^{(l)}`, one bias a filter.
    a : ndarray, shape (m, D, rows, cols)
        :math:`a^{(l)}`, the input maps of ``m`` images.
    z_next : ndarray, shape (m, K, rows - p_rows + 1, cols - p_cols + 1)
        Written with :math:`z^{(l+1)}`.

    Notes
    -----
    UFLDL, "Feature Extraction Using Convolution" and "Convolutional Neural Network".
    """
    shapes.conv_weighted_input(W, b, a, z_next)
    _conv_weighted_input(W, b, a, z_next)


@jit_inline
def _conv_weighted_input(W, b, a, z_next):
    """:func:`conv_weighted_input` without its check."""
    m, K, R, C = z_next.shape
    D, p_rows, p_cols = W.shape[1], W.shape[2], W.shape[3]
    if fast.large(z_next.size, W[0].size):  # the same sums, a product: indexnet.fast.conv
        fast.conv_weighted_input(W, b, a, z_next)
        return
    for n in range(m):
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    total = b[k]
                    for d in range(D):
                        for p in range(p_rows):
                            for q in range(p_cols):
                                # $\sum_d \sum_p \sum_q W_{k,d,p,q}^{(l)} a_{d,r+p,c+q}^{(l)}$
                                total += W[k, d, p, q] * a[n, d, r + p, c + q]
                    # $z_{k,r,c}^{(l+1)} = \ldots + b_k^{(l)}$
                    z_next[n, k, r, c] = total


@jit
def mean_pool(a, P, pooled):
    r"""Mean pooling: each output is the average of a ``P`` by ``P`` block of its map.

    .. math::
        a_{k,r,c}^{\text{pool}} = \frac{1}{P^2} \sum_{u=0}^{P-1} \sum_{v=0}^{P-1} a_{k,Pr+u,Pc+v}

    Parameters
    ----------
    a : ndarray, shape (m, K, rows, cols)
        The maps pooled.
    P : int
        Pooling size, from 1 to ``min(rows, cols)``; rows and columns past the last whole block
        are not read.
    pooled : ndarray, shape (m, K, rows // P, cols // P)
        Written with the pooled maps.

    Notes
    -----
    UFLDL, "Pooling" (mean pooling, as its exercise).
    """
    shapes.mean_pool(a, P, pooled)
    _mean_pool(a, P, pooled)


@jit_inline
def _mean_pool(a, P, pooled):
    """:func:`mean_pool` without its check."""
    m, K, R, C = pooled.shape
    area = pooled.dtype.type(P * P)  # in the arrays' precision, so float32 stays float32
    for n in range(m):
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    total = ZERO
                    for u in range(P):
                        for v in range(P):
                            # $\sum_u \sum_v a_{k,Pr+u,Pc+v}$
                            total += a[n, k, P * r + u, P * c + v]
                    # $\frac{1}{P^2} \ldots$
                    pooled[n, k, r, c] = total / area


@jit
def max_pool(a, P, pooled, where):
    r"""Max pooling: each output is the largest of a ``P`` by ``P`` block; its place is kept.

    .. math::
        a_{k,r,c}^{\text{pool}} = \max_{u,v < P} a_{k,Pr+u,Pc+v}, \qquad
        \text{where}_{k,r,c} = P u^* + v^*

    Parameters
    ----------
    a : ndarray, shape (m, K, rows, cols)
        The maps pooled.
    P : int
        Pooling size, as for :func:`mean_pool`.
    pooled : ndarray, shape (m, K, rows // P, cols // P)
        Written with the pooled maps.
    where : ndarray of int64, shape (m, K, rows // P, cols // P)
        Written with the place :math:`P u^* + v^*` of each largest value in its block (the first
        in row order on a tie), for :func:`max_pool_delta`.

    Notes
    -----
    UFLDL, "Pooling"; CS231n's max pooling.
    """
    shapes.max_pool(a, P, pooled, where)
    _max_pool(a, P, pooled, where)


@jit_inline
def _max_pool(a, P, pooled, where):
    """:func:`max_pool` without its check."""
    m, K, R, C = pooled.shape
    for n in range(m):
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    largest, place = a[n, k, P * r, P * c], 0
                    for u in range(P):
                        for v in range(P):
                            # $\max_{u,v} a_{k,Pr+u,Pc+v}$ (a NaN is kept: training stops on it)
                            value = a[n, k, P * r + u, P * c + v]
                            if value > largest or (value != value and largest == largest):
                                largest, place = value, P * u + v
                    pooled[n, k, r, c] = largest
                    where[n, k, r, c] = place


@jit
def mean_pool_delta(delta_pooled, P, z, a, kind, delta):
    r"""Error terms of a convolutional layer under mean pooling: each pooled error shared equally.

    .. math::
        \delta_{k,Pr+u,Pc+v}^{(l)} = \frac{1}{P^2}\, \delta_{k,r,c}^{\text{pool}}\,
            f'(z_{k,Pr+u,Pc+v}^{(l)})

    Parameters
    ----------
    delta_pooled : ndarray, shape (m, K, rows // P, cols // P)
        :math:`\delta^{\text{pool}}`, the error of the pooled maps.
    P : int
        Pooling size.
    z, a : ndarray, shape (m, K, rows, cols)
        :math:`z^{(l)}` and :math:`a^{(l)} = f(z^{(l)})` of the convolutional layer.
    kind : int
        Activation code of the layer (:mod:`indexnet.activations`).
    delta : ndarray, shape (m, K, rows, cols)
        Written with :math:`\delta^{(l)}`; zero where no block reads (rows and columns past the
        last whole block).

    Notes
    -----
    UFLDL, "Convolutional Neural Network", backpropagation through mean pooling (its
    ``upsample``: ``kron(delta, ones(P)) / P^2``).
    """
    shapes.mean_pool_delta(delta_pooled, P, z, a, kind, delta)
    _mean_pool_delta(delta_pooled, P, z, a, kind, delta)


@jit_inline
def _mean_pool_delta(delta_pooled, P, z, a, kind, delta):
    """:func:`mean_pool_delta` without its check."""
    m, K, R, C = delta_pooled.shape
    _zero_edges(delta, P * R, P * C)
    area = delta.dtype.type(P * P)
    for n in range(m):
        for k in range(K):
            # u outside c, so that the inner loops walk row Pr+u of delta
            for r in range(R):
                for u in range(P):
                    for c in range(C):
                        # $\frac{1}{P^2} \delta_{k,r,c}^{\text{pool}}$
                        share = delta_pooled[n, k, r, c] / area
                        for v in range(P):
                            i, j = P * r + u, P * c + v
                            # $\delta_{k,Pr+u,Pc+v}^{(l)} = \ldots f'(z_{k,Pr+u,Pc+v}^{(l)})$
                            delta[n, k, i, j] = share * f_prime(z[n, k, i, j], a[n, k, i, j], kind)


@jit
def max_pool_delta(delta_pooled, P, where, z, a, kind, delta):
    r"""Error terms of a convolutional layer under max pooling: all to the largest input.

    .. math::
        \delta_{k,Pr+u,Pc+v}^{(l)} = [P u + v = \text{where}_{k,r,c}]\,
            \delta_{k,r,c}^{\text{pool}}\, f'(z_{k,Pr+u,Pc+v}^{(l)})

    Parameters
    ----------
    delta_pooled : ndarray, shape (m, K, rows // P, cols // P)
        :math:`\delta^{\text{pool}}`.
    P : int
        Pooling size.
    where : ndarray of int64, shape (m, K, rows // P, cols // P)
        The places :func:`max_pool` kept, each from 0 to ``P * P - 1``.
    z, a, kind, delta
        As for :func:`mean_pool_delta`.

    Notes
    -----
    UFLDL, "Pooling"; the other inputs of a block did not change the output, so their error is 0.
    """
    shapes.max_pool_delta(delta_pooled, P, where, z, a, kind, delta)
    _max_pool_delta(delta_pooled, P, where, z, a, kind, delta)


@jit_inline
def _max_pool_delta(delta_pooled, P, where, z, a, kind, delta):
    """:func:`max_pool_delta` without its check."""
    m, K, R, C = delta_pooled.shape
    _zero_edges(delta, P * R, P * C)
    for n in range(m):
        for k in range(K):
            for r in range(R):
                for c in range(C):
                    for u in range(P):
                        for v in range(P):
                            i, j = P * r + u, P * c + v
                            kept = ONE if P * u + v == where[n, k, r, c] else ZERO
                            # $[Pu+v = \text{where}_{k,r,c}]\, \delta_{k,r,c}^{\text{pool}}\, f'$
                            delta[n, k, i, j] = (
                                kept * delta_pooled[n, k, r, c]
                                * f_prime(z[n, k, i, j], a[n, k, i, j], kind)
                            )  # fmt: skip


@jit_inline
def _zero_edges(delta, rows, cols):
    """Zero the rows from ``rows`` and the columns from ``cols`` on: no pooling block reads them."""
    m, K, R, C = delta.shape
    for n in range(m):
        for k in range(K):
            for i in range(R):
                for j in range(0 if i >= rows else cols, C):
                    delta[n, k, i, j] = ZERO


@jit
def conv_delta(W, delta_next, z, a, kind, delta):
    r"""Error terms of a convolutional layer's input maps: the sum runs backward through the filter.

    .. math::
        \delta_{d,r,c}^{(l)} = \Big( \sum_k \sum_p \sum_q W_{k,d,p,q}^{(l)}\,
            \delta_{k,r-p,c-q}^{(l+1)} \Big) f'(z_{d,r,c}^{(l)})

    Input :math:`(r, c)` was read by output :math:`(r-p, c-q)` through offset :math:`(p, q)`, so
    the index that was :math:`r+p` forward is :math:`r-p` here: as a convolution of
    :math:`\delta^{(l+1)}`, the filter rotated by 180 degrees (UFLDL's ``rot90``). Terms whose
    :math:`r-p` or :math:`c-q` fall outside the map are absent: the "full" convolution.

    Parameters
    ----------
    W : ndarray, shape (K, D, p_rows, p_cols)
        :math:`W^{(l)}`.
    delta_next : ndarray, shape (m, K, rows - p_rows + 1, cols - p_cols + 1)
        :math:`\delta^{(l+1)}`.
    z, a : ndarray, shape (m, D, rows, cols)
        :math:`z^{(l)}` and :math:`a^{(l)}` (a pooled layer has no activation of its own:
        pass its maps as both, with the identity's code).
    kind : int
        Activation code of layer :math:`l`.
    delta : ndarray, shape (m, D, rows, cols)
        Written with :math:`\delta^{(l)}`.

    Notes
    -----
    UFLDL, "Convolutional Neural Network", backpropagation into a convolutional layer; needed
    from a second convolutional stage down (with one stage nothing below it needs an error).
    """
    shapes.conv_delta(W, delta_next, z, a, kind, delta)
    _conv_delta(W, delta_next, z, a, kind, delta)


@jit_inline
def _conv_delta(W, delta_next, z, a, kind, delta):
    """:func:`conv_delta` without its check."""
    m, D, R, C = delta.shape
    K, p_rows, p_cols = W.shape[0], W.shape[2], W.shape[3]
    R_next, C_next = delta_next.shape[2], delta_next.shape[3]
    if fast.large(delta_next.size, W[0].size):  # the same sums, scattered: indexnet.fast.conv
        fast.back_sums(W, delta_next, delta)
    else:
        for n in range(m):
            for d in range(D):
                for r in range(R):
                    for c in range(C):
                        total = ZERO
                        for k in range(K):
                            for p in range(p_rows):
                                for q in range(p_cols):
                                    # outside the map: no term (the "full" convolution)
                                    if 0 <= r - p < R_next and 0 <= c - q < C_next:
                                        # $\sum_k \sum_p \sum_q W_{k,d,p,q} \delta_{k,r-p,c-q}$
                                        total += W[k, d, p, q] * delta_next[n, k, r - p, c - q]
                        delta[n, d, r, c] = total
    for n in range(m):
        for d in range(D):
            for r in range(R):
                for c in range(C):
                    # $\delta_{d,r,c}^{(l)} = (\ldots) f'(z_{d,r,c}^{(l)})$
                    delta[n, d, r, c] *= f_prime(z[n, d, r, c], a[n, d, r, c], kind)


@jit
def filter_gradient(a, delta_next, W, lam, dW):
    r"""Gradient of the batch cost with respect to the filters of a convolutional layer.

    .. math::
        \frac{\partial J}{\partial W_{k,d,p,q}^{(l)}} = \frac{1}{m} \sum_n \sum_r \sum_c
            \delta_{k,r,c}^{(l+1)}(n)\, a_{d,r+p,c+q}^{(l)}(n) + \lambda W_{k,d,p,q}^{(l)}

    Parameters
    ----------
    a : ndarray, shape (m, D, rows, cols)
        :math:`a^{(l)}`.
    delta_next : ndarray, shape (m, K, rows - p_rows + 1, cols - p_cols + 1)
        :math:`\delta^{(l+1)}`.
    W : ndarray, shape (K, D, p_rows, p_cols)
        :math:`W^{(l)}`, for the weight-decay term.
    lam : float
        Weight decay :math:`\lambda`.
    dW : ndarray, shape (K, D, p_rows, p_cols)
        Written with :math:`\partial J / \partial W^{(l)}`.

    Notes
    -----
    UFLDL, "Convolutional Neural Network": each filter weight is shared by every position, so
    its gradient sums over the positions as well as the images. UFLDL's
    ``conv2(a, rot90(delta, 2), 'valid')`` is this sum: ``rot90`` undoes ``conv2``'s flip.
    """
    shapes.filter_gradient(a, delta_next, W, lam, dW)
    _filter_gradient(a, delta_next, W, lam, dW)


@jit_inline
def _filter_gradient(a, delta_next, W, lam, dW):
    """:func:`filter_gradient` without its check."""
    m, K, R, C = delta_next.shape
    D, p_rows, p_cols = W.shape[1], W.shape[2], W.shape[3]
    if fast.large(delta_next.size, W[0].size):  # the same sums, a product: indexnet.fast.conv
        fast.filter_sums(a, delta_next, dW)
    else:
        for k in range(K):
            for d in range(D):
                for p in range(p_rows):
                    for q in range(p_cols):
                        total = ZERO
                        for n in range(m):
                            for r in range(R):
                                for c in range(C):
                                    # $\sum_n \sum_r \sum_c \delta_{k,r,c}(n) a_{d,r+p,c+q}(n)$
                                    total += delta_next[n, k, r, c] * a[n, d, r + p, c + q]
                        dW[k, d, p, q] = total
    # 1/m and lambda in the arrays' precision, so float32 stays float32
    inv_m, lam_f = ONE / dW.dtype.type(m), dW.dtype.type(lam)
    for k in range(K):
        for d in range(D):
            for p in range(p_rows):
                for q in range(p_cols):
                    # $\frac{1}{m} \ldots + \lambda W_{k,d,p,q}^{(l)}$
                    dW[k, d, p, q] = inv_m * dW[k, d, p, q] + lam_f * W[k, d, p, q]


@jit
def conv_bias_gradient(delta_next, db):
    r"""Gradient of the batch cost with respect to the biases of a convolutional layer.

    .. math::
        \frac{\partial J}{\partial b_k^{(l)}} = \frac{1}{m} \sum_n \sum_r \sum_c
            \delta_{k,r,c}^{(l+1)}(n)

    Parameters
    ----------
    delta_next : ndarray, shape (m, K, rows, cols)
        :math:`\delta^{(l+1)}`.
    db : ndarray, shape (K,)
        Written with :math:`\partial J / \partial b^{(l)}`.

    Notes
    -----
    UFLDL, "Convolutional Neural Network"; the biases carry no weight decay.
    """
    shapes.conv_bias_gradient(delta_next, db)
    _conv_bias_gradient(delta_next, db)


@jit_inline
def _conv_bias_gradient(delta_next, db):
    """:func:`conv_bias_gradient` without its check."""
    m, K, R, C = delta_next.shape
    mf = db.dtype.type(m)  # m in the arrays' precision, so float32 stays float32
    for k in range(K):
        total = ZERO
        for n in range(m):
            for r in range(R):
                for c in range(C):
                    # $\sum_n \sum_r \sum_c \delta_{k,r,c}^{(l+1)}(n)$
                    total += delta_next[n, k, r, c]
        # $\frac{1}{m} \ldots$
        db[k] = total / mf


for _name in __all__:  # dimensions and dtypes checked in Python, before Numba compiles
    shapes.guard(_name, globals()[_name])
