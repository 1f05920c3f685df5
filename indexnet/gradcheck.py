r"""Gradient checking by central differences, with UFLDL's relative error.

.. math::
    \frac{\partial J}{\partial \theta_q} \approx
        \frac{J(\theta + \epsilon e_q) - J(\theta - \epsilon e_q)}{2 \epsilon}, \qquad
    \text{error} = \frac{\| g_\text{num} - g_\text{ana} \|}{\| g_\text{num} + g_\text{ana} \|}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from indexnet._checks import check_real
from indexnet.network import Network, backend_kernels


def numerical_gradient(
    J: Callable[[np.ndarray], float], theta: np.ndarray, epsilon: float = 1e-4
) -> np.ndarray:
    r"""Central-difference gradient of ``J`` at ``theta``; ``theta`` is restored afterwards.

    .. math::
        g_q = \frac{J(\theta + \epsilon e_q) - J(\theta - \epsilon e_q)}{2 \epsilon}

    Parameters
    ----------
    J : callable
        ``J(theta) -> float``; it may read ``theta`` in place.
    theta : ndarray, shape (n,)
        Point of evaluation; perturbed in place one entry at a time.
    epsilon : float
        Step :math:`\epsilon` (UFLDL uses :math:`10^{-4}`).

    Returns
    -------
    ndarray, shape (n,), float64
    """
    g = np.empty(theta.shape[0], dtype=np.float64)
    for q in range(theta.shape[0]):
        saved = theta[q]
        theta[q] = saved + epsilon
        plus = J(theta)
        theta[q] = saved - epsilon
        minus = J(theta)
        theta[q] = saved
        g[q] = (plus - minus) / (2 * epsilon)
    return g


def relative_error(numerical: np.ndarray, analytic: np.ndarray) -> float:
    r"""UFLDL's measure :math:`\|g_\text{num} - g_\text{ana}\| / \|g_\text{num} + g_\text{ana}\|`.

    Returns 0.0 when both gradients are exactly zero.
    """
    numerical = np.asarray(numerical, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    denominator = np.linalg.norm(numerical + analytic)
    if denominator == 0:
        return 0.0 if np.linalg.norm(numerical - analytic) == 0 else float("inf")
    return float(np.linalg.norm(numerical - analytic) / denominator)


@dataclass
class GradientCheck:
    """Analytic and numerical gradients of a network's cost, and UFLDL's relative error."""

    analytic: np.ndarray
    numerical: np.ndarray
    relative_error: float


def check_gradient(
    net: Network,
    X,
    Y,
    lam: float = 0.0,
    backend: str = "loops",
    epsilon: float = 1e-4,
) -> GradientCheck:
    r"""Compare backpropagation's gradient with central differences of the same cost.

    Parameters
    ----------
    net : Network
        Its parameters are perturbed and restored.
    X, Y : array_like
        Examples, as for :meth:`Network.cost_and_gradient`.
    lam : float
        Weight decay :math:`\lambda`.
    backend : str
        Which kernels compute both the cost and the analytic gradient.
    epsilon : float
        Central-difference step.

    Returns
    -------
    GradientCheck
        In float64 a correct gradient gives a relative error around :math:`10^{-9}` or less.
    """
    kernels = backend_kernels(backend)
    lam = check_real("lam", lam, minimum=0.0)
    epsilon = check_real("epsilon", epsilon, positive=True)
    X, Y = net.check_XY(X, Y)
    analytic = np.empty_like(net.theta)
    net._run_cost_and_gradient(kernels, X, Y, lam, analytic)
    scratch = np.empty_like(net.theta)

    def J(theta):
        return float(net._run_cost_and_gradient(kernels, X, Y, lam, scratch))

    numerical = numerical_gradient(J, net.theta, epsilon)
    return GradientCheck(analytic, numerical, relative_error(numerical, analytic))
