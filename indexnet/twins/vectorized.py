r"""The NumPy twins of :mod:`indexnet.loops`: the same equations in matrix form.

Every kernel has the name, signature and outputs of its loop twin. With examples as rows,
:math:`A^{(l)}` is the ``(m, s_l)`` matrix whose row ``k`` is :math:`a^{(l)}(k)`, so the sum
over ``j`` becomes a matrix product with :math:`W^{(l)T}` and the sum over ``k`` a product with a
transposed matrix (UFLDL's MATLAB code keeps examples as columns, so its products read
transposed).

The composites (:func:`forward`, :func:`backward`, :func:`cost_and_gradient`, ...) run the
same equations in the same order as the loop versions, on per-layer lists of views made once a
call.
"""

import math

import numpy as np
from scipy.special import expit, logsumexp

from indexnet.checks import shapes
from indexnet.fast.rebind import rebind
from indexnet.kernels import loops
from indexnet.kernels.activations import CROSS_ENTROPY, RELU, SIGMOID, SOFTMAX, SQUARED, TANH

__all__ = loops.__all__


def weighted_input(W, b, a, z_next):
    r"""Weighted input of layer :math:`l+1`, :math:`Z^{(l+1)} = A^{(l)} W^{(l)T} + b^{(l)}`.

    .. math::
        z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}

    Parameters and outputs as :func:`indexnet.loops.weighted_input`.
    """
    shapes.weighted_input(W, b, a, z_next)
    _weighted_input(W, b, a, z_next)


def _weighted_input(W, b, a, z_next):
    """:func:`weighted_input` without its check: the composites check once and call this."""
    np.matmul(a, W.T, out=z_next)
    z_next += b


def activation(z, kind, a):
    r"""Activation of a layer, :math:`A^{(l)} = f(Z^{(l)})` elementwise (softmax row-wise).

    .. math::
        a_i^{(l)} = f(z_i^{(l)})

    Parameters and outputs as :func:`indexnet.loops.activation`.
    """
    shapes.activation(z, kind, a)
    _activation(z, kind, a)


def _activation(z, kind, a):
    """:func:`activation` without its check: the composites check once and call this."""
    if kind == SOFTMAX:
        # The shift by the row maximum cancels in the ratio and keeps exp from overflowing
        # (on the widest rows the shift itself reaches -inf, where exp is exactly 0).
        with np.errstate(over="ignore"):
            np.subtract(z, z.max(axis=1, keepdims=True), out=a)
        np.exp(a, out=a)
        a /= a.sum(axis=1, keepdims=True)
    elif kind == SIGMOID:
        expit(z, out=a)
    elif kind == TANH:
        np.tanh(z, out=a)
    elif kind == RELU:
        np.maximum(z, 0, out=a)
    else:
        a[...] = z


def _f_prime(z, a, kind):
    r""":math:`f'(Z)` elementwise, from :math:`A = f(Z)` where the math allows.

    Parameters
    ----------
    z, a : ndarray, shape (m, s)
        :math:`Z^{(l)}` and :math:`A^{(l)}`.
    kind : int
        Activation code.

    Returns
    -------
    ndarray, shape (m, s)
    """
    if kind == SIGMOID:
        return a * (1 - a)
    if kind == TANH:
        return 1 - a * a
    if kind == RELU:
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)


def cost(z_out, a_out, Y, weights, lam, loss, kind):
    r"""Batch cost, :math:`J = \frac{1}{2m}\|A^{(n_l)} - Y\|_F^2 + \frac{\lambda}{2}\|w\|^2`.

    .. math::
        J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| a^{(n_l)}(k) - y(k) \right\|^2
                 + \frac{\lambda}{2} \sum_{l} \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2

    Parameters and result as :func:`indexnet.loops.cost`.
    """
    shapes.cost(z_out, a_out, Y, weights, lam, loss, kind)
    return _cost(z_out, a_out, Y, weights, lam, loss, kind)


def _cost(z_out, a_out, Y, weights, lam, loss, kind):
    """:func:`cost` without its check: the composites check once and call this."""
    m = a_out.shape[0]
    if loss == SQUARED:
        data = 0.5 * np.sum((a_out - Y) ** 2)
    elif kind == SOFTMAX:
        with np.errstate(over="ignore"):  # z - logsumexp is -inf on the widest rows
            log_a = z_out - logsumexp(z_out, axis=1, keepdims=True)
        # terms with y = 0 are 0, even where log a is -inf
        data = -np.sum(np.multiply(Y, log_a, where=Y != 0, out=np.zeros_like(log_a)))
    else:
        data = np.sum(Y * np.logaddexp(0, -z_out) + (1 - Y) * np.logaddexp(0, z_out))
    if lam == 0:  # no decay: nothing to add, even for weights whose square overflows
        return float(data / m)
    return float(data / m + 0.5 * lam * np.dot(weights, weights))


def output_delta(z_out, a_out, Y, loss, kind, delta_out):
    r"""Output error term, :math:`\Delta^{(n_l)} = -(Y - A^{(n_l)}) \odot f'(Z^{(n_l)})`.

    .. math::
        \delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})

    Parameters and outputs as :func:`indexnet.loops.output_delta`.
    """
    shapes.output_delta(z_out, a_out, Y, loss, kind, delta_out)
    _output_delta(z_out, a_out, Y, loss, kind, delta_out)


def _output_delta(z_out, a_out, Y, loss, kind, delta_out):
    """:func:`output_delta` without its check: the composites check once and call this."""
    if loss == CROSS_ENTROPY:
        np.subtract(a_out, Y, out=delta_out)
    else:
        np.multiply(-(Y - a_out), _f_prime(z_out, a_out, kind), out=delta_out)


def average_activation(a, rho_hat):
    r"""Average activation of each hidden unit, the column means of :math:`A^{(l)}`.

    .. math::
        \hat\rho_j = \frac{1}{m} \sum_{k=1}^{m} a_j^{(l)}(x^{(k)})

    Parameters and outputs as :func:`indexnet.loops.average_activation`.
    """
    shapes.average_activation(a, rho_hat)
    _average_activation(a, rho_hat)


def _average_activation(a, rho_hat):
    """:func:`average_activation` without its check: the composites check once and call this."""
    np.mean(a, axis=0, out=rho_hat)


def sparsity_penalty(rho_hat, rho, beta):
    r"""Sparsity term of the cost, :math:`\beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)`.

    .. math::
        \beta \sum_j \left[ \rho \log \frac{\rho}{\hat\rho_j}
              + (1 - \rho) \log \frac{1 - \rho}{1 - \hat\rho_j} \right]

    Parameters and result as :func:`indexnet.loops.sparsity_penalty`.
    """
    shapes.sparsity_penalty(rho_hat, rho, beta)
    return _sparsity_penalty(rho_hat, rho, beta)


def _sparsity_penalty(rho_hat, rho, beta):
    """:func:`sparsity_penalty` without its check: the composites check once and call this."""
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return float(beta * np.sum(kl))


def hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    r"""Hidden error term, :math:`\Delta^{(l)} = (\Delta^{(l+1)} W^{(l)} + s) \odot f'(Z^{(l)})`.

    .. math::
        \delta_i^{(l)} = \left( \sum_j W_{ji}^{(l)} \delta_j^{(l+1)}
            + \beta \left( -\frac{\rho}{\hat\rho_i} + \frac{1-\rho}{1-\hat\rho_i} \right)
            \right) f'(z_i^{(l)})

    Parameters and outputs as :func:`indexnet.loops.hidden_delta`; ``s`` is the sparsity
    term, a row added to every example, and absent when ``beta == 0``.
    """
    shapes.hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)
    _hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)


def _hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    """:func:`hidden_delta` without its check: the composites check once and call this."""
    np.matmul(delta_next, W, out=delta)
    if beta != 0:
        delta += beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    delta *= _f_prime(z, a, kind)


def weight_gradient(a, delta_next, W, lam, dW):
    r"""Weight gradient, :math:`\frac{1}{m}\Delta^{(l+1)T} A^{(l)} + \lambda W^{(l)}`.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \sum_k a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}

    Parameters and outputs as :func:`indexnet.loops.weight_gradient`.
    """
    shapes.weight_gradient(a, delta_next, W, lam, dW)
    _weight_gradient(a, delta_next, W, lam, dW)


def _weight_gradient(a, delta_next, W, lam, dW):
    """:func:`weight_gradient` without its check: the composites check once and call this."""
    np.matmul(delta_next.T, a, out=dW)
    dW /= a.shape[0]
    dW += lam * W


def bias_gradient(delta_next, db):
    r"""Bias gradient, the column means of :math:`\Delta^{(l+1)}`.

    .. math::
        \frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m} \sum_k \delta_i^{(l+1)}(k)

    Parameters and outputs as :func:`indexnet.loops.bias_gradient`.
    """
    shapes.bias_gradient(delta_next, db)
    _bias_gradient(delta_next, db)


def _bias_gradient(delta_next, db):
    """:func:`bias_gradient` without its check: the composites check once and call this."""
    np.sum(delta_next, axis=0, out=db)
    db /= delta_next.shape[0]


def update(theta, grad, alpha):
    r"""Gradient-descent step on all parameters, :math:`\theta := \theta - \alpha \nabla J`.

    .. math::
        W_{ij}^{(l)} := W_{ij}^{(l)} - \alpha \frac{\partial J}{\partial W_{ij}^{(l)}}

    Parameters and outputs as :func:`indexnet.loops.update`.
    """
    shapes.update(theta, grad, alpha)
    _update(theta, grad, alpha)


def _update(theta, grad, alpha):
    """:func:`update` without its check: the composites check once and call this."""
    theta -= alpha * grad


def _gather_rows(X, rows, out):
    """Copy rows ``rows`` of ``X`` into the first ``len(rows)`` rows of ``out``."""
    np.take(X, rows, axis=0, out=out[: len(rows)])


def _all_finite(v):
    """True if no entry of ``v`` is NaN or infinite."""
    return bool(np.isfinite(v).all())


# The layout helpers of indexnet.layout, counting in Python ints: an operation on a NumPy int64
# costs about 100 ns, and a step makes some 20 views.


def n_weights(sizes):
    """:func:`indexnet.layout.n_weights`."""
    s = sizes.tolist()
    n = 0
    for l in range(len(s) - 1):
        n += s[l + 1] * s[l]
    return n


def weights_of(theta, sizes, l):
    r""":func:`indexnet.layout.weights_of`: :math:`W^{(l+1)}`, a view into ``theta``."""
    s = sizes.tolist()
    start = 0
    for q in range(l):
        start += s[q + 1] * s[q]
    return theta[start : start + s[l + 1] * s[l]].reshape(s[l + 1], s[l])


def biases_of(theta, sizes, l):
    r""":func:`indexnet.layout.biases_of`: :math:`b^{(l+1)}`, a view into ``theta``."""
    s = sizes.tolist()
    start = n_weights(sizes)
    for q in range(l):
        start += s[q + 1]
    return theta[start : start + s[l + 1]]


def layer_of(buffer, m, sizes, l):
    """:func:`indexnet.layout.layer_of`: layer ``l`` of a work buffer, an ``(m, s_l)`` view."""
    s = sizes.tolist()
    start = 0
    for q in range(1, l):
        start += m * s[q]
    return buffer[start : start + m * s[l]].reshape(m, s[l])


# The composites, in the form a NumPy programmer writes them: each call makes its per-layer views
# once, as lists, and the steps index them like the math (W[l], a[l], ...). The compiled
# composites make theirs as they go, where a view costs a nanosecond; here a view costs half a
# microsecond, and SGD would pay it at every step.


def _parameters(theta, sizes):
    """Lists of the views ``W[l]`` and ``b[l]`` into a flat parameter (or gradient) vector."""
    layers = range(len(sizes) - 1)
    return [weights_of(theta, sizes, l) for l in layers], [
        biases_of(theta, sizes, l) for l in layers
    ]


def _layers(buffer, X, sizes):
    """``[X, layer 2, ..., layer n_l]`` of a work buffer, each an ``(m, s_l)`` view."""
    return [X] + [layer_of(buffer, X.shape[0], sizes, l) for l in range(1, len(sizes))]


def _forward(W, b, a, z, hidden, output):
    """:func:`forward` on per-layer lists."""
    top = len(a) - 1
    for l in range(top):
        _weighted_input(W[l], b[l], a[l], z[l + 1])
        _activation(z[l + 1], output if l + 1 == top else hidden, a[l + 1])


def _backward(W, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db):
    """:func:`backward` on per-layer lists."""
    top = len(a) - 1
    _output_delta(z[top], a[top], Y, loss, output, delta[top])
    for l in range(top - 1, -1, -1):
        _weight_gradient(a[l], delta[l + 1], W[l], lam, dW[l])
        _bias_gradient(delta[l + 1], db[l])
        if l > 0:
            rho_hat = _average_activation_if(a[l], beta, db[l])
            _hidden_delta(W[l], delta[l + 1], z[l], a[l], hidden, beta, rho, rho_hat, delta[l])


def _cost_and_gradient(
    theta, sizes, W, b, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db
):
    """:func:`cost_and_gradient` on per-layer lists."""
    top = len(a) - 1
    _forward(W, b, a, z, hidden, output)
    J = _cost(z[top], a[top], Y, theta[: n_weights(sizes)], lam, loss, output)
    if beta > 0:
        for l in range(1, top):
            J += _sparsity_penalty(_average_activation_if(a[l], beta, b[l]), rho, beta)
    _backward(W, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db)
    return J


def _views(theta, sizes, X, work, grad):
    """Every per-layer list a step reads or writes: ``W, b, a, z, delta, dW, db``."""
    Z, A, D = work
    W, b = _parameters(theta, sizes)
    dW, db = _parameters(grad, sizes)
    return W, b, _layers(A, X, sizes), _layers(Z, X, sizes), _layers(D, X, sizes), dW, db


# The loop version's own source, run with the average_activation above.
_average_activation_if = rebind(loops._average_activation_if, globals())


def forward(theta, sizes, X, hidden, output, work):
    r"""Forward propagation, :math:`A^{(l+1)} = f(A^{(l)} W^{(l)T} + b^{(l)})` for every layer.

    Parameters and outputs as :func:`indexnet.loops.forward`.
    """
    shapes.forward(theta, sizes, X, hidden, output, work)
    W, b = _parameters(theta, sizes)
    Z, A = work[0], work[1]
    _forward(W, b, _layers(A, X, sizes), _layers(Z, X, sizes), hidden, output)


def backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    r"""Backpropagation, :math:`\Delta^{(l)} = (\Delta^{(l+1)} W^{(l)}) \bullet f'(Z^{(l)})`
    and every gradient.

    Parameters and outputs as :func:`indexnet.loops.backward`.
    """
    shapes.backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
    W, _, a, z, delta, dW, db = _views(theta, sizes, X, work, grad)
    _backward(W, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db)


def cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    r"""The batch cost :math:`J(W,b)` and its gradient.

    Parameters and outputs as :func:`indexnet.loops.cost_and_gradient`.
    """
    shapes.cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
    W, b, a, z, delta, dW, db = _views(theta, sizes, X, work, grad)
    return _cost_and_gradient(
        theta, sizes, W, b, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db
    )


def gradient_step(theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad):
    r"""One step of batch gradient descent, :math:`\theta := \theta - \alpha \nabla J`.

    Parameters and outputs as :func:`indexnet.loops.gradient_step`.
    """
    shapes.gradient_step(
        theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad
    )
    J = cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
    _update(theta, grad, alpha)
    return J


def sgd_epochs(
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, orders, batch, Xb, Yb,
    work, grad, costs,
):  # fmt: skip
    r"""Mini-batch gradient descent over several epochs, the views made once per call.

    Parameters and outputs as :func:`indexnet.loops.sgd_epochs`.
    """
    shapes.sgd_epochs(
        theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, orders, batch, Xb, Yb,
        work, grad, costs,
    )  # fmt: skip
    epochs, m = orders.shape
    short = m % batch if m % batch else batch
    Xs, Ys = Xb[:short], Yb[:short]  # an epoch's last batch, if shorter: as loops does
    full = _views(theta, sizes, Xb, work, grad)
    last = _views(theta, sizes, Xs, work, grad)
    last_good = theta.copy()
    for e in range(epochs):
        total = 0.0
        for first in range(0, m, batch):
            rows = orders[e, first : min(first + batch, m)]
            x, y, views = (Xb, Yb, full) if rows.shape[0] == batch else (Xs, Ys, last)
            _gather_rows(X, rows, x)
            _gather_rows(Y, rows, y)
            W, b, a, z, delta, dW, db = views
            J = _cost_and_gradient(
                theta, sizes, W, b, a, z, delta, y, lam, beta, rho, hidden, output, loss, dW, db
            )
            if not (math.isfinite(J) and _all_finite(grad)):
                theta[:] = last_good
                return e
            last_good[:] = theta
            total += J * rows.shape[0]
            _update(theta, grad, alpha)
        costs[e] = total / m
    if not _all_finite(theta):
        theta[:] = last_good
        return epochs - 1
    return epochs


def gd_iterations(
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad, costs
):  # fmt: skip
    r"""Batch gradient descent for several iterations, the views made once per call.

    Parameters and outputs as :func:`indexnet.loops.gd_iterations`.
    """
    shapes.gd_iterations(
        theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad, costs
    )  # fmt: skip
    W, b, a, z, delta, dW, db = _views(theta, sizes, X, work, grad)
    last_good = np.empty_like(theta)
    for t in range(costs.shape[0]):
        J = _cost_and_gradient(
            theta, sizes, W, b, a, z, delta, Y, lam, beta, rho, hidden, output, loss, dW, db
        )
        if not (math.isfinite(J) and _all_finite(grad)):
            if t > 0:
                theta[:] = last_good
            return t
        last_good[:] = theta
        costs[t] = J
        _update(theta, grad, alpha)
    if not _all_finite(theta):
        theta[:] = last_good
        return costs.shape[0] - 1
    return costs.shape[0]
