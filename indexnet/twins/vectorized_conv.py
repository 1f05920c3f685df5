r"""The NumPy twins of :mod:`indexnet.kernels.conv`: convolution and pooling without a loop.

Every kernel has the name, signature and outputs of its loop twin. The positions a filter
visits are a strided view, ``sliding_window_view(a, (p_rows, p_cols))`` of shape
``(m, D, rows', cols', p_rows, p_cols)``, so each sum over ``d, p, q`` (or ``n, r, c``) is one
``tensordot``. Pooling blocks are a reshape: rows ``P r + u`` become axes ``(r, u)``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from indexnet.checks import shapes
from indexnet.kernels import conv
from indexnet.twins.vectorized import _f_prime

__all__ = conv.__all__


def _windows(a, W):
    """Every filter-sized window of ``a``: shape (m, D, rows', cols', p_rows, p_cols)."""
    return sliding_window_view(a, W.shape[2:], axis=(2, 3))


def conv_weighted_input(W, b, a, z_next):
    r""":math:`z_{k,r,c} = \sum_{d,p,q} W_{k,d,p,q} a_{d,r+p,c+q} + b_k`, one ``tensordot``.

    Parameters and outputs as :func:`indexnet.loops.conv_weighted_input`.
    """
    shapes.conv_weighted_input(W, b, a, z_next)
    # (m, rows', cols', K): the sum over d, p, q of the windows against each filter
    z = np.tensordot(_windows(a, W), W, axes=([1, 4, 5], [1, 2, 3]))
    z_next[...] = np.moveaxis(z, 3, 1) + b[:, None, None]


def _blocks(a, P):
    """The whole ``P`` by ``P`` blocks of ``a`` as axes: (m, K, rows // P, cols // P, P, P)."""
    m, K, rows, cols = a.shape
    R, C = rows // P, cols // P
    return a[:, :, : R * P, : C * P].reshape(m, K, R, P, C, P).transpose(0, 1, 2, 4, 3, 5)


def _unblock(blocks, shape):
    """The inverse of :func:`_blocks` into zeros of ``shape``: rows and columns past the last
    whole block stay 0."""
    m, K, R, C, P, _ = blocks.shape
    out = np.zeros(shape, dtype=blocks.dtype)
    out[:, :, : R * P, : C * P] = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(m, K, R * P, C * P)
    return out


def mean_pool(a, P, pooled):
    r""":math:`a^{\text{pool}}_{k,r,c} = \frac{1}{P^2} \sum_{u,v} a_{k,Pr+u,Pc+v}`, over block axes.

    Parameters and outputs as :func:`indexnet.loops.mean_pool`.
    """
    shapes.mean_pool(a, P, pooled)
    pooled[...] = _blocks(a, P).sum(axis=(4, 5)) / pooled.dtype.type(P * P)


def max_pool(a, P, pooled, where):
    r"""The largest of each block and its place :math:`P u + v`, by ``argmax``.

    Parameters and outputs as :func:`indexnet.loops.max_pool`.
    """
    shapes.max_pool(a, P, pooled, where)
    flat = _blocks(a, P).reshape(*pooled.shape, P * P)
    where[...] = np.argmax(flat, axis=-1)  # the first largest, and a NaN as the loops keep it
    pooled[...] = np.take_along_axis(flat, where[..., None], axis=-1)[..., 0]


def mean_pool_delta(delta_pooled, P, z, a, kind, delta):
    r""":math:`\delta = \mathrm{upsample}(\delta^{\text{pool}}) / P^2 \bullet f'(z)`, UFLDL's
    ``kron(delta, ones(P)) / P^2``.

    Parameters and outputs as :func:`indexnet.loops.mean_pool_delta`.
    """
    shapes.mean_pool_delta(delta_pooled, P, z, a, kind, delta)
    share = delta_pooled / delta.dtype.type(P * P)
    blocks = np.broadcast_to(share[..., None, None], (*share.shape, P, P))
    delta[...] = _unblock(blocks, delta.shape) * _f_prime(z, a, kind)


def max_pool_delta(delta_pooled, P, where, z, a, kind, delta):
    r""":math:`\delta = [\text{kept}] \, \mathrm{upsample}(\delta^{\text{pool}}) \bullet f'(z)`.

    Parameters and outputs as :func:`indexnet.loops.max_pool_delta`.
    """
    shapes.max_pool_delta(delta_pooled, P, where, z, a, kind, delta)
    kept = np.arange(P * P) == where[..., None]
    blocks = (kept * delta_pooled[..., None]).reshape(*delta_pooled.shape, P, P)
    delta[...] = _unblock(blocks.astype(delta.dtype), delta.shape) * _f_prime(z, a, kind)


def conv_delta(W, delta_next, z, a, kind, delta):
    r"""The "full" convolution of :math:`\delta^{(l+1)}` with the filters rotated by 180 degrees.

    .. math::
        \delta_{d,r,c}^{(l)} = \Big( \sum_k \sum_p \sum_q W_{k,d,p,q}\, \delta_{k,r-p,c-q} \Big)
            f'(z_{d,r,c})

    ``delta_next`` is padded with ``p_rows - 1`` rows and ``p_cols - 1`` columns of zeros on
    each side (the absent terms), and window position ``r`` then holds
    :math:`\delta_{r-p}` at offset ``p_rows - 1 - p``: the filter read backwards, ``W[:, :, ::-1,
    ::-1]``. Parameters and outputs as :func:`indexnet.loops.conv_delta`.
    """
    shapes.conv_delta(W, delta_next, z, a, kind, delta)
    p_rows, p_cols = W.shape[2:]
    padded = np.pad(delta_next, ((0, 0), (0, 0), (p_rows - 1,) * 2, (p_cols - 1,) * 2))
    rotated = W[:, :, ::-1, ::-1]
    # (m, rows, cols, D): the sum over k, p, q
    sums = np.tensordot(_windows(padded, W), rotated, axes=([1, 4, 5], [0, 2, 3]))
    delta[...] = np.moveaxis(sums, 3, 1) * _f_prime(z, a, kind)


def filter_gradient(a, delta_next, W, lam, dW):
    r""":math:`\frac{1}{m} \sum_{n,r,c} \delta_{k,r,c} a_{d,r+p,c+q} + \lambda W` by ``tensordot``.

    Parameters and outputs as :func:`indexnet.loops.filter_gradient`.
    """
    shapes.filter_gradient(a, delta_next, W, lam, dW)
    sums = np.tensordot(delta_next, _windows(a, W), axes=([0, 2, 3], [0, 2, 3]))
    m = dW.dtype.type(a.shape[0])
    dW[...] = sums / m + dW.dtype.type(lam) * W


def conv_bias_gradient(delta_next, db):
    r""":math:`\frac{1}{m} \sum_{n,r,c} \delta_{k,r,c}`.

    Parameters and outputs as :func:`indexnet.loops.conv_bias_gradient`.
    """
    shapes.conv_bias_gradient(delta_next, db)
    db[...] = delta_next.sum(axis=(0, 2, 3)) / db.dtype.type(delta_next.shape[0])
