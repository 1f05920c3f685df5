r"""The ``loops-parallel`` backend: the loop kernels with their outer loop split across threads.

The kernels whose work grows as :math:`m \, s_l \, s_{l+1}` (the three sums) and the activation
have parallel versions here; every other kernel is the serial one, and every composite
(``forward``, ``backward``, ...) is the serial composite's own source compiled against these
kernels. Each ``prange`` runs over blocks that write disjoint rows of the output, so no two
threads ever write the same element. Below :data:`PARALLEL_MIN_WORK` multiply-adds a kernel
calls its serial twin instead: starting the threads costs about 5-10 microseconds.
"""

import math  # noqa: F401  (used by the rebound composites below)

import numpy as np
from numba import prange

from indexnet import loops
from indexnet._jit import jit, jit_parallel
from indexnet._rebind import rebind
from indexnet.activations import SOFTMAX, f
from indexnet.layout import biases_of, layer_of, n_weights, weights_of  # noqa: F401
from indexnet.loops import (  # noqa: F401  (kernels the composites use unchanged)
    _all_finite,
    _gather_rows,
    _hidden_delta_rows,
    _layers,
    _parameters,
    _weight_gradient_rows,
    _weighted_input_rows,
    average_activation,
    bias_gradient,
    cost,
    output_delta,
    sparsity_penalty,
    update,
)

PARALLEL_MIN_WORK = 100_000
"""Multiply-adds below which a kernel runs serially."""


@jit_parallel
def _transpose(X, XT):
    """``XT[i, j] = X[j, i]`` in 16x16 tiles, bands of 16 rows of ``XT`` split across threads."""
    rows, columns = XT.shape
    for band in prange((rows + 15) // 16):  # thread owns rows 16*band..16*band+15 of XT
        i0 = 16 * band
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    XT[i, j] = X[j, i]


@jit_parallel
def weighted_input(W, b, a, z_next):
    r"""Parallel :func:`indexnet.loops.weighted_input`.

    .. math::
        z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}
    """
    m, s_next = z_next.shape
    if m * s_next * a.shape[1] < PARALLEL_MIN_WORK:
        loops.weighted_input(W, b, a, z_next)
        return
    for block in prange((m + 3) // 4):  # block writes rows 4*block..4*block+3 only: no race
        _weighted_input_rows(W, b, a, z_next, 4 * block)


@jit_parallel
def activation(z, kind, a):
    r"""Parallel :func:`indexnet.loops.activation`.

    .. math::
        a_i^{(l)} = f(z_i^{(l)})
    """
    m, s = z.shape
    if m * s < PARALLEL_MIN_WORK // 8 or kind == SOFTMAX:
        loops.activation(z, kind, a)
        return
    for k in prange(m):  # thread owns row k of a: no race
        for i in range(s):
            a[k, i] = f(z[k, i], kind)


@jit_parallel
def hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    r"""Parallel :func:`indexnet.loops.hidden_delta`.

    .. math::
        \delta_i^{(l)} = \left( \sum_j W_{ji}^{(l)} \delta_j^{(l+1)} + \beta(\ldots) \right)
                         f'(z_i^{(l)})
    """
    m, s = delta.shape
    s_next = delta_next.shape[1]
    if m * s_next * s < PARALLEL_MIN_WORK:
        loops.hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)
        return
    WT = np.empty((s, s_next), dtype=W.dtype)
    _transpose(W, WT)
    for block in prange((m + 3) // 4):  # block writes rows 4*block..4*block+3 only: no race
        _hidden_delta_rows(WT, delta_next, z, a, kind, beta, rho, rho_hat, delta, 4 * block)


@jit_parallel
def weight_gradient(a, delta_next, W, lam, dW):
    r"""Parallel :func:`indexnet.loops.weight_gradient`.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}
    """
    m, s = a.shape
    s_next = delta_next.shape[1]
    if m * s_next * s < PARALLEL_MIN_WORK:
        loops.weight_gradient(a, delta_next, W, lam, dW)
        return
    delta_T = np.empty((s_next, m), dtype=delta_next.dtype)
    a_T = np.empty((s, m), dtype=a.dtype)
    _transpose(delta_next, delta_T)
    _transpose(a, a_T)
    for block in prange((s_next + 3) // 4):  # block writes rows 4*block..4*block+3 only
        _weight_gradient_rows(delta_T, a_T, W, lam, dW, 4 * block)


for _name in (
    "_average_activations",
    "_forward",
    "_backward",
    "_cost_and_gradient",
    "forward",
    "backward",
    "cost_and_gradient",
    "gradient_step",
    "sgd_epochs",
):
    globals()[_name] = jit(rebind(getattr(loops, _name), globals(), tag="loops-parallel"))

__all__ = loops.__all__
