r"""Training: UFLDL's batch gradient descent, mini-batch SGD, and L-BFGS through SciPy.

Every method evaluates :math:`J` and its gradient through a backend, and stops with a message,
keeping the last parameters whose cost was finite, as soon as the cost or the gradient is NaN
or infinite.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from indexnet.api.network import Network, backend_kernels
from indexnet.checks.inputs import check_choice, check_int, check_real
from indexnet.fast import loops_parallel
from indexnet.kernels import loops

METHODS = ("gd", "sgd", "lbfgs")


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the cost or the gradient stopped being finite."""


@dataclass
class TrainResult:
    """What a training run did.

    Attributes
    ----------
    method : str
        ``"gd"``, ``"sgd"`` or ``"lbfgs"``.
    costs : list of float
        :math:`J` after each iteration (for SGD, each epoch's mean mini-batch cost).
    iterations : int
        Iterations (epochs for SGD) completed.
    seconds : float
        Wall-clock time.
    diverged : bool
        True if training stopped on a NaN or infinite cost or gradient.
    message : str
        Why training stopped.
    """

    method: str
    costs: list = field(default_factory=list)
    iterations: int = 0
    seconds: float = 0.0
    diverged: bool = False
    message: str = ""

    @property
    def final_cost(self) -> float:
        """The last finite cost recorded (NaN if none)."""
        return self.costs[-1] if self.costs else float("nan")


def _diverged(result, net, last_good, where):
    """Restore the last finite parameters (None: already restored) and record why training
    stopped."""
    if last_good is not None:
        net.theta = last_good
    result.diverged = True
    result.message = (
        f"stopped at {where}: the cost or its gradient became NaN or infinite; "
        "kept the last parameters whose cost was finite (try a smaller alpha)"
    )
    warnings.warn(result.message, DivergenceWarning, stacklevel=3)


def _finite(J, grad):
    return np.isfinite(J) and np.isfinite(grad).all()


def _quiet(kernels):
    """NumPy's overflow and invalid-value warnings off for a NumPy backend (divergence is
    reported as such); compiled kernels raise none, and skip the cost of ``np.errstate``."""
    if kernels in (loops, loops_parallel):
        return contextlib.nullcontext()
    return np.errstate(over="ignore", invalid="ignore")


def _exclusive(train):
    """``train(net, ...)`` run holding ``net`` alone: threads that share the network wait,
    and their reads see the parameters before or after a training, never during it."""

    @functools.wraps(train)
    def run(net, *args, **options):
        if not isinstance(net, Network):
            raise TypeError(f"net must be an indexnet.Network; got {type(net).__name__}")
        with net._lock.writing():
            return train(net, *args, **options)

    return run


@_exclusive
def gradient_descent(
    net: Network,
    X,
    Y,
    *,
    alpha: float = 0.5,
    iterations: int = 1000,
    lam: float = 0.0,
    beta: float = 0.0,
    rho: float = 0.05,
    backend: str = "loops",
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    r"""Batch gradient descent, UFLDL's update on the whole training set each iteration.

    .. math::
        W^{(l)} := W^{(l)} - \alpha \left[ \frac{1}{m} \Delta W^{(l)} + \lambda W^{(l)} \right],
        \qquad b^{(l)} := b^{(l)} - \alpha \left[ \frac{1}{m} \Delta b^{(l)} \right]

    Parameters
    ----------
    net : Network
        Trained in place.
    X, Y : array_like, shapes (m, sizes[0]) and (m, sizes[-1])
        Training set.
    alpha : float
        Learning rate :math:`\alpha > 0`.
    iterations : int
        Number of updates.
    lam : float
        Weight decay :math:`\lambda \ge 0`.
    beta, rho : float
        Sparsity penalty weight :math:`\beta \ge 0` and target activation :math:`\rho` of the
        hidden units (UFLDL's sparse autoencoder; ``beta=0`` for none).
    backend : {"loops", "vectorized"}
        Which kernels compute the cost, gradient and update.
    callback : callable, optional
        Called as ``callback(iteration, J)`` after each iteration.

    Returns
    -------
    TrainResult
    """
    kernels, lam, beta, rho = net._scalars(lam, beta, rho, backend)
    alpha = check_real("alpha", alpha, positive=True)
    iterations = check_int("iterations", iterations, 1)
    X, Y = net._examples(X, Y)
    result = TrainResult("gd")
    start = time.perf_counter()
    grad = np.empty(net.theta.shape[0], net.dtype)
    work = net._workspace(X.shape[0])
    hidden, output, loss = net._codes
    # Many iterations per call (for loops: one compiled loop), up to a million costs kept at a
    # time; with a callback, one iteration per call so it sees each.
    chunk = 1 if callback is not None else min(iterations, 1_000_000)
    costs = np.zeros(chunk)
    for first in range(0, iterations, chunk):
        count = min(chunk, iterations - first)
        with _quiet(kernels):  # divergence is reported below
            done = kernels.gd_iterations(
                net.theta, net._sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work,
                grad, costs[:count],
            )  # fmt: skip
        result.costs.extend(costs[:done].tolist())
        result.iterations = first + done
        if done < count:
            # gd_iterations has already put back the last finite parameters
            _diverged(result, net, None, f"iteration {first + done}")
            break
        if callback is not None:
            callback(first, float(costs[0]))
    else:
        result.message = f"completed {iterations} iterations"
    result.seconds = time.perf_counter() - start
    return result


@_exclusive
def sgd(
    net: Network,
    X,
    Y,
    *,
    alpha: float = 0.5,
    epochs: int = 100,
    batch_size: int = 32,
    lam: float = 0.0,
    beta: float = 0.0,
    rho: float = 0.05,
    backend: str = "loops",
    seed: int | None = 0,
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    r"""Mini-batch stochastic gradient descent: the UFLDL update on shuffled mini-batches.

    .. math::
        \theta := \theta - \alpha \nabla_\theta J(\theta; X_B, Y_B)
        \quad \text{for each mini-batch } B

    Parameters
    ----------
    net, X, Y, alpha, lam, beta, rho, backend
        As for :func:`gradient_descent`.
    epochs : int
        Passes over the training set.
    batch_size : int
        Examples per mini-batch (the last one of an epoch may be smaller).
    seed : int or None
        Seed of the shuffling.
    callback : callable, optional
        Called as ``callback(epoch, mean_cost)`` after each epoch.

    Returns
    -------
    TrainResult
        ``costs`` holds each epoch's mean mini-batch cost.
    """
    kernels = backend_kernels(backend)
    alpha = check_real("alpha", alpha, positive=True)
    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    lam = check_real("lam", lam, minimum=0.0)
    beta, rho = net.check_sparsity(beta, rho)
    X, Y = net._examples(X, Y)
    m = X.shape[0]
    batch = min(batch_size, m)
    rng = np.random.default_rng(seed)
    Xb = np.empty((batch, X.shape[1]), dtype=net.dtype)
    Yb = np.empty((batch, Y.shape[1]), dtype=net.dtype)
    work = net._workspace(batch)
    grad = np.empty_like(net.theta)
    costs = np.zeros(epochs)
    hidden, output, loss = net._codes
    result = TrainResult("sgd")
    start = time.perf_counter()
    # Many epochs per call (for loops: one compiled loop), as many as keep the visiting orders
    # under about a million indices; with a callback, one epoch per call so it sees each.
    chunk = 1 if callback is not None else max(1, min(epochs, 1_000_000 // m))
    for first in range(0, epochs, chunk):
        count = min(chunk, epochs - first)
        orders = np.array([rng.permutation(m) for _ in range(count)], dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            done = kernels.sgd_epochs(
                net.theta, net._sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss,
                orders, batch, Xb, Yb, work, grad, costs[first:],
            )  # fmt: skip
        result.costs.extend(float(J) for J in costs[first : first + done])
        result.iterations = first + done
        if done < count:
            # sgd_epochs has already put back the last finite parameters
            _diverged(result, net, None, f"epoch {first + done}")
            break
        if callback is not None:
            callback(first, float(costs[first]))
    else:
        result.message = f"completed {epochs} epochs"
    result.seconds = time.perf_counter() - start
    return result


@_exclusive
def lbfgs(
    net: Network,
    X,
    Y,
    *,
    iterations: int = 400,
    lam: float = 0.0,
    beta: float = 0.0,
    rho: float = 0.05,
    backend: str = "loops",
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    r"""L-BFGS through ``scipy.optimize.minimize(jac=True)``, as UFLDL used minFunc.

    .. math::
        \min_{W,b} J(W,b)

    Parameters
    ----------
    net, X, Y, lam, beta, rho, backend
        As for :func:`gradient_descent`.
    iterations : int
        Maximum L-BFGS iterations.
    callback : callable, optional
        Called as ``callback(iteration, J)`` after each iteration.

    Returns
    -------
    TrainResult
    """
    from scipy.optimize import minimize  # imported here: it costs a fifth of a second

    kernels = backend_kernels(backend)
    iterations = check_int("iterations", iterations, 1)
    lam = check_real("lam", lam, minimum=0.0)
    beta, rho = net.check_sparsity(beta, rho)
    X, Y = net._examples(X, Y)
    result = TrainResult("lbfgs")
    start = time.perf_counter()
    best = [np.inf, net.theta.copy()]
    # L-BFGS works in float64 whatever the network's dtype; the cost is evaluated in the
    # network's own dtype.
    grad = np.empty_like(net.theta)

    def fun(theta):
        # Written directly: a step to non-finite parameters is reported as divergence below,
        # not refused by the theta setter.
        net._theta[...] = theta
        J = float(net._run_cost_and_gradient(kernels, X, Y, lam, beta, rho, grad))
        if _finite(J, grad) and J < best[0]:
            best[0], best[1] = J, net.theta.copy()
        return J, grad.astype(np.float64)

    def on_iteration(intermediate_result):
        result.costs.append(float(intermediate_result.fun))
        result.iterations += 1
        if callback is not None:
            callback(result.iterations - 1, float(intermediate_result.fun))

    with np.errstate(all="ignore"):
        found = minimize(
            fun,
            net.theta.astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            callback=on_iteration,
            options={"maxiter": iterations},
        )
    result.message = str(found.message)
    if not np.isfinite(found.fun) or not np.isfinite(found.x).all():
        _diverged(result, net, best[1], f"iteration {result.iterations}")
    else:
        net.theta = found.x
    result.seconds = time.perf_counter() - start
    return result


def train(net: Network, X, Y, method: str = "lbfgs", **options) -> TrainResult:
    """Train ``net`` with ``method`` (``"gd"``, ``"sgd"`` or ``"lbfgs"``) and its ``options``."""
    method = check_choice("method", method, METHODS)
    return {"gd": gradient_descent, "sgd": sgd, "lbfgs": lbfgs}[method](net, X, Y, **options)
