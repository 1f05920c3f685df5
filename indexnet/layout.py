r"""Where each layer's numbers live in the flat vectors.

Layers are numbered from 1 in the math and from 0 in code, shifted uniformly: ``W[0]`` is
:math:`W^{(1)}` and the input :math:`x = a^{(1)}` is ``a[0]``. Because every per-layer list
shifts by the same one, each equation keeps its exact form in code
(``z[l+1] = W[l] a[l] + b[l]``); only loop bounds differ. This is the one place that says so.

Parameters are one flat vector, laid out as UFLDL's sparse autoencoder code lays out ``theta``:
all weight matrices first (each row-major, shape ``(s_{l+1}, s_l)``), then all bias vectors::

    theta = [W^(1), W^(2), ..., W^(nl-1), b^(1), b^(2), ..., b^(nl-1)]

so the decayed part of the cost, :math:`\frac{\lambda}{2}\sum W^2`, is the prefix
``theta[:n_weights(sizes)]``. The gradient has the same layout.

Per-example quantities :math:`z^{(l)}, a^{(l)}, \delta^{(l)}` of layers 2..nl are stored in flat
work buffers of ``m * sum(sizes[1:])`` numbers; layer ``l`` is a C-ordered ``(m, s_l)`` block.
Examples are rows (the NumPy convention); the UFLDL MATLAB code stores them as columns.

These helpers are Numba functions so that kernels can call them; called from Python they return
NumPy views of the same memory.
"""

from indexnet._jit import jit


@jit
def n_weights(sizes):
    """Number of weights :math:`\\sum_l s_{l+1} s_l`."""
    n = 0
    for l in range(len(sizes) - 1):
        n += sizes[l + 1] * sizes[l]
    return n


@jit
def n_params(sizes):
    """Number of weights and biases, the length of ``theta``."""
    n = n_weights(sizes)
    for l in range(1, len(sizes)):
        n += sizes[l]
    return n


@jit
def weights_of(theta, sizes, l):
    r""":math:`W^{(l+1)}` (code index ``l``), the ``(s_{l+1}, s_l)`` view into ``theta``."""
    start = 0
    for q in range(l):
        start += sizes[q + 1] * sizes[q]
    return theta[start : start + sizes[l + 1] * sizes[l]].reshape((sizes[l + 1], sizes[l]))


@jit
def biases_of(theta, sizes, l):
    r""":math:`b^{(l+1)}` (code index ``l``), the ``(s_{l+1},)`` view into ``theta``."""
    start = n_weights(sizes)
    for q in range(l):
        start += sizes[q + 1]
    return theta[start : start + sizes[l + 1]]


@jit
def layer_of(buffer, m, sizes, l):
    r"""Layer ``l`` (``l >= 1``) of a work buffer, an ``(m, s_l)`` view."""
    start = 0
    for q in range(1, l):
        start += m * sizes[q]
    return buffer[start : start + m * sizes[l]].reshape((m, sizes[l]))


@jit
def buffer_size(m, sizes):
    """Length of a work buffer holding layers 2..nl for ``m`` examples."""
    n = 0
    for l in range(1, len(sizes)):
        n += m * sizes[l]
    return n
