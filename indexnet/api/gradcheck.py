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

from indexnet.api.network import Network, backend_kernels
from indexnet.checks.inputs import check_finite_result, check_real


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
    *,
    beta: float = 0.0,
    rho: float = 0.05,
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
    beta, rho : float
        Sparsity penalty weight and target, as for :meth:`Network.cost_and_gradient`.

    Returns
    -------
    GradientCheck
        In float64 a correct gradient gives a relative error around :math:`10^{-9}` or less.
    """
    kernels = backend_kernels(backend)
    lam = check_real("lam", lam, minimum=0.0)
    epsilon = check_real("epsilon", epsilon, positive=True)
    beta, rho = net.check_sparsity(beta, rho)
    X, Y = net.check_XY(X, Y)
    analytic = np.empty_like(net.theta)
    net._run_cost_and_gradient(kernels, X, Y, lam, beta, rho, analytic)
    scratch = np.empty_like(net.theta)

    def J(theta):
        return float(net._run_cost_and_gradient(kernels, X, Y, lam, beta, rho, scratch))

    numerical = numerical_gradient(J, net.theta, epsilon)
    check_finite_result(
        "the central differences", (numerical,), epsilon=epsilon, X=X, theta=net.theta
    )
    return GradientCheck(analytic, numerical, relative_error(numerical, analytic))


@dataclass
class LayerCheck:
    r"""One layer's share of a gradient check, :math:`W^{(l)}` and :math:`b^{(l)}`.

    Attributes
    ----------
    layer : int
        :math:`l`, numbered as in the math (from 1): the parameters ``net.W[layer - 1]`` and
        ``net.b[layer - 1]``.
    analytic_W, numerical_W : ndarray, shape (s_{l+1}, s_l)
        Backpropagation's and the central differences' :math:`\partial J / \partial W^{(l)}`.
    analytic_b, numerical_b : ndarray, shape (s_{l+1},)
        The same for :math:`\partial J / \partial b^{(l)}`.
    relative_error_W, relative_error_b : float
        UFLDL's relative error over this layer's weights, and over its biases.
    """

    layer: int
    analytic_W: np.ndarray
    numerical_W: np.ndarray
    analytic_b: np.ndarray
    numerical_b: np.ndarray
    relative_error_W: float
    relative_error_b: float


def layer_checks(net: Network, check: GradientCheck) -> list[LayerCheck]:
    """Split a :class:`GradientCheck` of ``net`` into its layers, each with its relative errors.

    Parameters
    ----------
    net : Network
        The network that was checked (only its sizes are read).
    check : GradientCheck
        The result of :func:`check_gradient` on ``net``.

    Returns
    -------
    list of LayerCheck
        One per weight layer, :math:`l = 1, \\ldots, n_l - 1`.
    """
    from indexnet.kernels import layout

    sizes = np.asarray(net.sizes, dtype=np.int64)
    analytic = np.asarray(check.analytic, dtype=np.float64)
    layers = []
    for l in range(len(sizes) - 1):
        aW, nW = (layout.weights_of(g, sizes, l) for g in (analytic, check.numerical))
        ab, nb = (layout.biases_of(g, sizes, l) for g in (analytic, check.numerical))
        layers.append(
            LayerCheck(l + 1, aW, nW, ab, nb, relative_error(nW, aW), relative_error(nb, ab))
        )
    return layers


def random_examples(net: Network, m: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random examples that ``net``'s output and cost accept, to check a gradient on.

    Inputs are standard normal. Targets are uniform in [0, 1] for a sigmoid output, one-hot rows
    for a softmax output, and standard normal for any other output.

    Parameters
    ----------
    net : Network
    m : int
        Number of examples, at least 1.
    seed : int or None
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray, shape (m, sizes[0])
    Y : ndarray, shape (m, sizes[-1])
        Both of the network's dtype.
    """
    from indexnet.checks.inputs import check_int

    m = check_int("m", m, 1)
    rng = np.random.default_rng(seed)
    s_in, s_out = net.sizes[0], net.sizes[-1]
    X = rng.standard_normal((m, s_in))
    if net.output == "softmax":
        Y = np.eye(s_out)[rng.integers(0, s_out, m)]
    elif net.output == "sigmoid":
        Y = rng.uniform(0.0, 1.0, (m, s_out))
    else:
        Y = rng.standard_normal((m, s_out))
    return X.astype(net.dtype), Y.astype(net.dtype)
