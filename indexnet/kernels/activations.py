r"""Activation functions :math:`f` and their derivatives :math:`f'` as scalar Numba kernels.

Each activation has an integer code so that a kernel can take it as an argument; the names
users type map to the codes in :data:`ACTIVATIONS`. Every function is finite and exact in the
limit for any finite input: no ``exp`` of a large positive number is ever taken.
"""

import math

import numpy as np
from numba.core import config

from indexnet.fast.compiler import jit
from indexnet.fast.exp import exp_nonpositive

__all__ = [
    "ACTIVATIONS", "CROSS_ENTROPY", "IDENTITY", "LOSSES", "ONE", "OUTPUT_ACTIVATIONS", "RELU",
    "SIGMOID", "SOFTMAX", "SQUARED", "TANH", "ZERO", "f", "f_prime", "sigmoid", "softplus",
]  # fmt: skip

SIGMOID, TANH, RELU, IDENTITY, SOFTMAX = 0, 1, 2, 3, 4
ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "identity": IDENTITY}
OUTPUT_ACTIVATIONS = {**ACTIVATIONS, "softmax": SOFTMAX}

SQUARED, CROSS_ENTROPY = 0, 1
LOSSES = {"squared": SQUARED, "cross_entropy": CROSS_ENTROPY}

ZERO, ONE = (0.0, 1.0) if config.DISABLE_JIT else (np.float32(0.0), np.float32(1.0))
"""The constants of every kernel. As float32 they leave float32 arithmetic in float32, and
mixed with float64 they widen exactly (a float literal such as ``1.0`` would be float64 and
silently widen a float32 network's arithmetic). Under ``NUMBA_DISABLE_JIT`` the kernels run as
Python on NumPy scalars, where the rule is the other way round (a Python float is "weak",
NEP 50, and a float32 scalar would pull float64 down to float32): there they are Python floats,
as in :mod:`indexnet.twins.python`."""


@jit
def sigmoid(z):
    r"""Logistic function, :math:`f(z) = 1 / (1 + e^{-z})`.

    Notes
    -----
    For :math:`z < 0` it uses the equal form :math:`e^{z} / (1 + e^{z})`, so ``exp`` only
    ever sees a non-positive argument and cannot overflow. Both forms are computed from
    :math:`e = e^{-|z|}` and the sign picks one, with no branch: a loop over units then runs
    without mispredicted jumps, and, inlined with its exponential (:mod:`indexnet.fast.exp`), on
    whole vectors of units.
    """
    e = exp_nonpositive(-abs(z))
    r = ONE / (ONE + e)
    return r if z >= ZERO else e * r


@jit
def softplus(z):
    r""":math:`\log(1 + e^{z})`, so that :math:`\log f(z) = -\mathrm{softplus}(-z)` for the sigmoid.

    Notes
    -----
    Written :math:`\max(z, 0) + \log(1 + e^{-|z|})` so that nothing overflows.
    """
    return max(z, ZERO) + math.log1p(math.exp(-abs(z)))


@jit
def f(z, kind):
    r"""The activation :math:`a = f(z)` of one unit (softmax is row-wise, see ``activation``)."""
    if kind == SIGMOID:
        return sigmoid(z)
    if kind == TANH:
        return math.tanh(z)
    if kind == RELU:
        # Written so that a NaN input stays NaN rather than becoming 0.
        return ZERO if z < ZERO else z
    return z


@jit
def f_prime(z, a, kind):
    r"""The derivative :math:`f'(z)`, computed from :math:`a = f(z)` where the math allows.

    .. math::
        \text{sigmoid: } f'(z) = a (1 - a), \quad \text{tanh: } f'(z) = 1 - a^2, \quad
        \text{ReLU: } f'(z) = [z > 0], \quad \text{identity: } f'(z) = 1

    Notes
    -----
    UFLDL, "Backpropagation Algorithm": :math:`f'(z_i^{(l)}) = a_i^{(l)} (1 - a_i^{(l)})`.
    """
    if kind == SIGMOID:
        return a * (ONE - a)
    if kind == TANH:
        return ONE - a * a
    if kind == RELU:
        return ONE if z > ZERO else ZERO
    return ONE
