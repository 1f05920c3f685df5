r"""The backpropagation equations as loops over their own subscripts, compiled by Numba.

Each kernel is one equation of UFLDL's "Backpropagation Algorithm": ``i`` and ``j`` index units,
``l`` layers, and ``k`` the training example (the math writes it as a superscript :math:`(i)`;
the code needs ``i`` for units). The equation sits in a comment above the line that computes it.
The equation kernels are pure: they read their inputs and write their preallocated outputs.
Where a problem's size calls for another order of the same sums (blocked products for large
layers, the example index outside for few examples), the body says so in one line that hands the
call to :mod:`indexnet.fast.large`; the loop here is the reference that path is tested against.
Each public kernel first checks its arrays' shapes against each other
(:mod:`indexnet.checks.shapes`), then runs its unchecked body (``_weighted_input`` for
``weighted_input``, ...); the composites, which sequence them, check once that the arrays fit
``sizes`` and call the bodies. Values (finiteness) are :class:`indexnet.Network`'s to check.
Layer numbering and the flat ``theta`` layout are explained in :mod:`indexnet.layout`.

:mod:`indexnet.vectorized` holds a NumPy twin of every function here, same name and signature.
The pure-Python reading of any kernel is its ``.py_func``.
"""

import math

import numpy as np

from indexnet.checks import shapes
from indexnet.fast import large
from indexnet.fast.blocking import FEW_UNITS, SMALL
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import (
    CROSS_ENTROPY,
    ONE,
    SIGMOID,
    SOFTMAX,
    SQUARED,
    ZERO,
    f,
    f_prime,
    sigmoid,
    softplus,
)
from indexnet.kernels.layout import (
    biases_of,
    borrowed,
    layer_of,
    n_weights,
    weights_of,
)

__all__ = [  # in the order the algorithm uses them
    "weighted_input",
    "activation",
    "cost",
    "average_activation",
    "sparsity_penalty",
    "output_delta",
    "hidden_delta",
    "weight_gradient",
    "bias_gradient",
    "update",
    "forward",
    "backward",
    "cost_and_gradient",
    "gradient_step",
    "sgd_epochs",
    "gd_iterations",
]


@jit
def weighted_input(W, b, a, z_next):
    r"""Weighted input of layer :math:`l+1` for every example (forward propagation).

    .. math::
        z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}

    Parameters
    ----------
    W : ndarray, shape (s_{l+1}, s_l)
        :math:`W^{(l)}`.
    b : ndarray, shape (s_{l+1},)
        :math:`b^{(l)}`.
    a : ndarray, shape (m, s_l)
        :math:`a^{(l)}`, one example a row.
    z_next : ndarray, shape (m, s_{l+1})
        Written with :math:`z^{(l+1)}`.

    Notes
    -----
    UFLDL, "Multi-Layer Neural Network", forward propagation. Small problems run the sum as
    written; larger ones hand the same sum over ``j`` to the blocked products
    (:func:`indexnet.fast.large.weighted_input`).
    """
    shapes.weighted_input(W, b, a, z_next)
    _weighted_input(W, b, a, z_next)


@jit_inline
def _weighted_input(W, b, a, z_next):
    """:func:`weighted_input` without its check: the composites check once and call this."""
    m, s_next = z_next.shape
    s = a.shape[1]
    if m * s_next * s > SMALL:  # the same sums, blocked: indexnet.fast.large
        large.weighted_input(W, b, a, z_next)
        return
    for k in range(m):
        for i in range(s_next):
            # $z_i^{(l+1)} = b_i^{(l)} + \sum_j W_{ij}^{(l)} a_j^{(l)}$
            total = b[i]
            for j in range(s):
                total += W[i, j] * a[k, j]
            z_next[k, i] = total


@jit
def activation(z, kind, a):
    r"""Activation of every unit of a layer, for every example.

    .. math::
        a_i^{(l)} = f(z_i^{(l)}), \qquad
        \text{softmax: } a_i^{(l)} = \frac{e^{z_i^{(l)}}}{\sum_j e^{z_j^{(l)}}}

    Parameters
    ----------
    z : ndarray, shape (m, s_l)
        :math:`z^{(l)}`.
    kind : int
        Activation code from :mod:`indexnet.activations`.
    a : ndarray, shape (m, s_l)
        Written with :math:`a^{(l)}`.

    Notes
    -----
    UFLDL, "Multi-Layer Neural Network"; softmax from "Softmax Regression".
    """
    shapes.activation(z, kind, a)
    _activation(z, kind, a)


@jit_inline
def _activation(z, kind, a):
    """:func:`activation` without its check: the composites check once and call this."""
    m, s = z.shape
    if kind != SOFTMAX and large.flattens(z, a):  # the same values, in one flat run
        large.activation(z, kind, a)
        return
    if kind == SOFTMAX:
        for k in range(m):
            # Subtracting $\max_j z_j$ from every $z_i$ leaves the ratio unchanged and keeps
            # every exponent at most 0, so nothing overflows.
            top = z[k, 0]
            for j in range(1, s):
                top = max(top, z[k, j])
            total = ZERO
            for j in range(s):
                a[k, j] = math.exp(z[k, j] - top)
                total += a[k, j]
            for i in range(s):
                a[k, i] = a[k, i] / total
    elif kind == SIGMOID:
        # The usual case gets its own loop, so no element pays for testing ``kind``.
        for k in range(m):
            for i in range(s):
                # $a_i^{(l)} = f(z_i^{(l)}) = 1 / (1 + e^{-z_i^{(l)}})$
                a[k, i] = sigmoid(z[k, i])
    else:
        for k in range(m):
            for i in range(s):
                # $a_i^{(l)} = f(z_i^{(l)})$
                a[k, i] = f(z[k, i], kind)


@jit
def cost(z_out, a_out, Y, weights, lam, loss, kind):
    r"""Batch cost: the average loss over the examples plus weight decay.

    .. math::
        J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \left\| a^{(n_l)}(k) - y(k) \right\|^2
                 + \frac{\lambda}{2} \sum_{l=1}^{n_l-1} \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2

    With ``loss`` cross-entropy the first term is
    :math:`-\frac{1}{m}\sum_k \sum_i [y_i \log a_i + (1 - y_i)\log(1 - a_i)]` for a sigmoid
    output and :math:`-\frac{1}{m}\sum_k \sum_i y_i \log a_i` for a softmax output.

    Parameters
    ----------
    z_out, a_out : ndarray, shape (m, s_{n_l})
        :math:`z^{(n_l)}` and :math:`a^{(n_l)} = h_{W,b}(x)`.
    Y : ndarray, shape (m, s_{n_l})
        Targets :math:`y`.
    weights : ndarray, shape (n_weights,)
        Every :math:`W_{ij}^{(l)}`, the leading part of ``theta``.
    lam : float
        Weight decay :math:`\lambda`.
    loss, kind : int
        Loss code and output activation code.

    Returns
    -------
    float
        :math:`J(W,b)`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", the batch cost. The biases are not decayed.
    """
    shapes.cost(z_out, a_out, Y, weights, lam, loss, kind)
    return _cost(z_out, a_out, Y, weights, lam, loss, kind)


@jit_inline
def _cost(z_out, a_out, Y, weights, lam, loss, kind):
    """:func:`cost` without its check: the composites check once and call this."""
    m, s = a_out.shape
    data = 0.0
    if loss == SQUARED:
        for k in range(m):
            for i in range(s):
                # $\frac{1}{2} (a_i^{(n_l)} - y_i)^2$
                r = a_out[k, i] - Y[k, i]
                data += 0.5 * r * r
    elif kind == SOFTMAX:
        for k in range(m):
            top = z_out[k, 0]
            for j in range(1, s):
                top = max(top, z_out[k, j])
            total = 0.0
            for j in range(s):
                total += math.exp(z_out[k, j] - top)
            log_total = top + math.log(total)
            for i in range(s):
                # $-y_i \log a_i$, with $\log a_i = z_i - \log \sum_j e^{z_j}$; a term with
                # $y_i = 0$ is 0 even where $\log a_i$ underflows to $-\infty$
                if Y[k, i] != 0:
                    data -= Y[k, i] * (z_out[k, i] - log_total)
    else:
        for k in range(m):
            for i in range(s):
                # $-[y_i \log a_i + (1 - y_i) \log(1 - a_i)]$, with
                # $\log a = -\mathrm{softplus}(-z)$ and $\log(1 - a) = -\mathrm{softplus}(z)$
                data += Y[k, i] * softplus(-z_out[k, i]) + (1.0 - Y[k, i]) * softplus(z_out[k, i])
    # $\frac{1}{m} \sum_k \ldots + \frac{\lambda}{2} \ldots$
    return data / m + _weight_decay(weights, lam)


@jit_inline
def _weight_decay(weights, lam):
    r"""The weight-decay term of the batch cost.

    .. math::
        \frac{\lambda}{2} \sum_{l=1}^{n_l-1} \sum_i \sum_j \left(W_{ij}^{(l)}\right)^2
    """
    if lam == 0:  # no decay: nothing to add, even for weights whose square overflows
        return 0.0
    decay = 0.0
    # The triple sum over $l, i, j$ is one sum over the weight part of theta.
    for q in range(weights.shape[0]):
        # $\sum_l \sum_i \sum_j (W_{ij}^{(l)})^2$
        decay += weights[q] * weights[q]
    return 0.5 * lam * decay


@jit
def output_delta(z_out, a_out, Y, loss, kind, delta_out):
    r"""Error term of the output layer.

    .. math::
        \delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})

    For cross-entropy with a sigmoid or softmax output, :math:`f'` cancels against the loss
    and :math:`\delta_i^{(n_l)} = a_i^{(n_l)} - y_i`.

    Parameters
    ----------
    z_out, a_out : ndarray, shape (m, s_{n_l})
        :math:`z^{(n_l)}` and :math:`a^{(n_l)}`.
    Y : ndarray, shape (m, s_{n_l})
        Targets :math:`y`.
    loss, kind : int
        Loss code and output activation code.
    delta_out : ndarray, shape (m, s_{n_l})
        Written with :math:`\delta^{(n_l)}`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", step 2.
    """
    shapes.output_delta(z_out, a_out, Y, loss, kind, delta_out)
    _output_delta(z_out, a_out, Y, loss, kind, delta_out)


@jit_inline
def _output_delta(z_out, a_out, Y, loss, kind, delta_out):
    """:func:`output_delta` without its check: the composites check once and call this."""
    m, s = a_out.shape
    for k in range(m):
        for i in range(s):
            if loss == CROSS_ENTROPY:
                # $\delta_i^{(n_l)} = a_i^{(n_l)} - y_i$
                delta_out[k, i] = a_out[k, i] - Y[k, i]
            else:
                # $\delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})$
                delta_out[k, i] = -(Y[k, i] - a_out[k, i]) * f_prime(z_out[k, i], a_out[k, i], kind)


@jit_inline
def _sparsity_term(beta, rho, rho_hat, i):
    r""":math:`\beta(-\rho/\hat\rho_i + (1-\rho)/(1-\hat\rho_i))`, or 0 without sparsity."""
    if beta == ZERO:
        return ZERO
    return beta * (-rho / rho_hat[i] + (ONE - rho) / (ONE - rho_hat[i]))


@jit
def average_activation(a, rho_hat):
    r"""Average activation of each unit of a hidden layer over the examples.

    .. math::
        \hat\rho_j = \frac{1}{m} \sum_{k=1}^{m} a_j^{(l)}(x^{(k)})

    Parameters
    ----------
    a : ndarray, shape (m, s_l)
        :math:`a^{(l)}`.
    rho_hat : ndarray, shape (s_l,)
        Written with :math:`\hat\rho`.

    Notes
    -----
    UFLDL, "Autoencoders and Sparsity".
    """
    shapes.average_activation(a, rho_hat)
    _average_activation(a, rho_hat)


@jit_inline
def _average_activation(a, rho_hat):
    """:func:`average_activation` without its check: the composites check once and call this."""
    m, s = a.shape
    mf = rho_hat.dtype.type(m)  # m in the arrays' precision, so float32 stays float32
    for j in range(s):
        rho_hat[j] = ZERO
    # k outside so the inner loop over j walks a row of a contiguously.
    for k in range(m):
        for j in range(s):
            # $\sum_k a_j^{(l)}(x^{(k)})$
            rho_hat[j] += a[k, j]
    for j in range(s):
        # $\frac{1}{m} \ldots$
        rho_hat[j] = rho_hat[j] / mf


@jit
def sparsity_penalty(rho_hat, rho, beta):
    r"""The sparsity term of the cost: :math:`\beta` times the summed KL divergences.

    .. math::
        \beta \sum_{j=1}^{s_l} \mathrm{KL}(\rho \,\|\, \hat\rho_j)
            = \beta \sum_j \left[ \rho \log \frac{\rho}{\hat\rho_j}
              + (1 - \rho) \log \frac{1 - \rho}{1 - \hat\rho_j} \right]

    Parameters
    ----------
    rho_hat : ndarray, shape (s_l,)
        Average activations :math:`\hat\rho`.
    rho, beta : float
        Target activation :math:`\rho` and weight :math:`\beta`.

    Returns
    -------
    float

    Notes
    -----
    UFLDL, "Autoencoders and Sparsity".
    """
    shapes.sparsity_penalty(rho_hat, rho, beta)
    return _sparsity_penalty(rho_hat, rho, beta)


@jit_inline
def _sparsity_penalty(rho_hat, rho, beta):
    """:func:`sparsity_penalty` without its check: the composites check once and call this."""
    total = 0.0
    for j in range(rho_hat.shape[0]):
        # $\rho \log \frac{\rho}{\hat\rho_j} + (1 - \rho) \log \frac{1 - \rho}{1 - \hat\rho_j}$
        total += rho * math.log(rho / rho_hat[j]) + (1.0 - rho) * math.log(
            (1.0 - rho) / (1.0 - rho_hat[j])
        )
    return beta * total


@jit
def hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    r"""Error term of a hidden layer, propagated back from layer :math:`l+1`.

    .. math::
        \delta_i^{(l)} = \left( \sum_{j=1}^{s_{l+1}} W_{ji}^{(l)} \delta_j^{(l+1)} \right)
                         f'(z_i^{(l)})

    With the sparsity penalty (``beta > 0``) the bracket gains UFLDL's extra term:

    .. math::
        \delta_i^{(l)} = \left( \sum_{j} W_{ji}^{(l)} \delta_j^{(l+1)}
            + \beta \left( -\frac{\rho}{\hat\rho_i} + \frac{1-\rho}{1-\hat\rho_i} \right)
            \right) f'(z_i^{(l)})

    Parameters
    ----------
    W : ndarray, shape (s_{l+1}, s_l)
        :math:`W^{(l)}`.
    delta_next : ndarray, shape (m, s_{l+1})
        :math:`\delta^{(l+1)}`.
    z, a : ndarray, shape (m, s_l)
        :math:`z^{(l)}` and :math:`a^{(l)}`.
    kind : int
        Hidden activation code.
    beta, rho : float
        Sparsity weight :math:`\beta` (0 for none) and target activation :math:`\rho`.
    rho_hat : ndarray, shape (s_l,)
        Average activations :math:`\hat\rho` of this layer; read only if ``beta > 0``.
    delta : ndarray, shape (m, s_l)
        Written with :math:`\delta^{(l)}`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", step 3, and "Autoencoders and Sparsity". Note the
    transposed subscripts :math:`W_{ji}`: the error flows back along the same weights that
    carried the signal forward.
    """
    shapes.hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)
    _hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta)


@jit_inline
def _hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    """:func:`hidden_delta` without its check: the composites check once and call this."""
    m, s = delta.shape
    s_next = delta_next.shape[1]
    if m * s_next * s > SMALL:  # the same sums, blocked: indexnet.fast.large
        large.back_sums(W, delta_next, delta)
    else:
        for k in range(m):
            for i in range(s):
                delta[k, i] = ZERO
            # j outside, so that the inner loop over i walks row j of W, not its column i.
            for j in range(s_next):
                delta_j = delta_next[k, j]
                for i in range(s):
                    # $\sum_j W_{ji}^{(l)} \delta_j^{(l+1)}$
                    delta[k, i] += W[j, i] * delta_j
    # beta and rho in the arrays' precision, so float32 stays float32
    beta_f, rho_f = delta.dtype.type(beta), delta.dtype.type(rho)
    for k in range(m):
        for i in range(s):
            # $+ \beta(-\rho/\hat\rho_i + (1-\rho)/(1-\hat\rho_i))$
            total = delta[k, i] + _sparsity_term(beta_f, rho_f, rho_hat, i)
            # $\delta_i^{(l)} = (\ldots) f'(z_i^{(l)})$
            delta[k, i] = total * f_prime(z[k, i], a[k, i], kind)


@jit
def weight_gradient(a, delta_next, W, lam, dW):
    r"""Gradient of the batch cost with respect to the weights of layer :math:`l`.

    .. math::
        \frac{\partial J}{\partial W_{ij}^{(l)}}
            = \frac{1}{m} \sum_{k=1}^{m} a_j^{(l)}(k)\, \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}

    Parameters
    ----------
    a : ndarray, shape (m, s_l)
        :math:`a^{(l)}`.
    delta_next : ndarray, shape (m, s_{l+1})
        :math:`\delta^{(l+1)}`.
    W : ndarray, shape (s_{l+1}, s_l)
        :math:`W^{(l)}`, for the weight-decay term.
    lam : float
        Weight decay :math:`\lambda`.
    dW : ndarray, shape (s_{l+1}, s_l)
        Written with :math:`\partial J / \partial W^{(l)}`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", step 4 and the batch gradient.
    """
    shapes.weight_gradient(a, delta_next, W, lam, dW)
    _weight_gradient(a, delta_next, W, lam, dW)


@jit_inline
def _weight_gradient(a, delta_next, W, lam, dW):
    """:func:`weight_gradient` without its check: the composites check once and call this."""
    m, s = a.shape
    s_next = delta_next.shape[1]
    if large.takes_weight_gradient(m, s, s_next):  # blocked, or k outside: indexnet.fast.large
        large.weight_gradient(a, delta_next, W, lam, dW)
        return
    # 1/m and lambda in the arrays' precision, so float32 stays float32
    inv_m, lam_f = ONE / dW.dtype.type(m), dW.dtype.type(lam)
    for i in range(s_next):
        for j in range(s):
            total = ZERO
            for k in range(m):
                # $\sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k)$
                total += a[k, j] * delta_next[k, i]
            # $\frac{1}{m} \ldots + \lambda W_{ij}^{(l)}$
            dW[i, j] = inv_m * total + lam_f * W[i, j]


@jit
def bias_gradient(delta_next, db):
    r"""Gradient of the batch cost with respect to the biases of layer :math:`l`.

    .. math::
        \frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m} \sum_{k=1}^{m} \delta_i^{(l+1)}(k)

    Parameters
    ----------
    delta_next : ndarray, shape (m, s_{l+1})
        :math:`\delta^{(l+1)}`.
    db : ndarray, shape (s_{l+1},)
        Written with :math:`\partial J / \partial b^{(l)}`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm"; the biases carry no weight decay.
    """
    shapes.bias_gradient(delta_next, db)
    _bias_gradient(delta_next, db)


@jit_inline
def _bias_gradient(delta_next, db):
    """:func:`bias_gradient` without its check: the composites check once and call this."""
    m, s_next = delta_next.shape
    if s_next > FEW_UNITS:  # the same sums, k outside: indexnet.fast.large
        large.bias_gradient(delta_next, db)
        return
    mf = db.dtype.type(m)  # m in the arrays' precision, so float32 stays float32
    for i in range(s_next):
        total = ZERO
        for k in range(m):
            # $\sum_k \delta_i^{(l+1)}(k)$
            total += delta_next[k, i]
        # $\frac{1}{m} \ldots$
        db[i] = total / mf


@jit
def update(theta, grad, alpha):
    r"""One step of gradient descent on every parameter.

    .. math::
        W_{ij}^{(l)} := W_{ij}^{(l)} - \alpha \frac{\partial J}{\partial W_{ij}^{(l)}}, \qquad
        b_i^{(l)} := b_i^{(l)} - \alpha \frac{\partial J}{\partial b_i^{(l)}}

    Parameters
    ----------
    theta : ndarray, shape (n_params,)
        Every :math:`W^{(l)}` and :math:`b^{(l)}`, updated in place.
    grad : ndarray, shape (n_params,)
        The gradient in the same layout.
    alpha : float
        Learning rate :math:`\alpha`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", gradient descent. Both updates are one loop over the
    flat parameter vector.
    """
    shapes.update(theta, grad, alpha)
    _update(theta, grad, alpha)


@jit_inline
def _update(theta, grad, alpha):
    """:func:`update` without its check: the composites check once and call this."""
    alpha_f = theta.dtype.type(alpha)  # in theta's precision, so float32 stays float32
    for q in range(theta.shape[0]):
        # $\theta_q := \theta_q - \alpha \, \partial J / \partial \theta_q$
        theta[q] -= alpha_f * grad[q]


COMPOSITES = (
    "_average_activation_if",
    "_forward",
    "forward",
    "_backward",
    "backward",
    "_cost_and_gradient",
    "cost_and_gradient",
    "gradient_step",
    "sgd_epochs",
    "gd_iterations",
)
"""The functions below that only sequence kernels: ``loops-parallel`` and ``python`` run this
same source with their own kernels (see :mod:`indexnet.fast.rebind`)."""


# The composites. Each layer's arrays are views into the flat vectors, made where they are used
# (see indexnet.layout, which also explains the shift by one): W^(l) is weights_of(theta, sizes,
# l), and a^(l) is X for l = 0 and layer_of(A, m, sizes, l) after. In compiled code a view of a
# borrowed array (see gradient_step) costs about a nanosecond, where per-layer lists of views
# cost an allocation and two reference counts per item.
#
# The work buffers Z, A and D are the rows of one array, ``work``: a call from Python unboxes
# each array argument into a new allocation, so fewer arrays make a cheaper call
# (bench/NOTES.md).


@jit_inline
def _average_activation_if(a, beta, placeholder):
    r""":math:`\hat\rho` of a hidden layer if ``beta > 0``, else ``placeholder``.

    Without sparsity nothing reads :math:`\hat\rho`, and a step allocates nothing for it.
    """
    if beta == 0:
        return placeholder
    rho_hat = np.empty(a.shape[1], dtype=a.dtype)
    _average_activation(a, rho_hat)
    return rho_hat


@jit
def forward(theta, sizes, X, hidden, output, work):
    r"""Forward propagation through every layer.

    .. math::
        z^{(l+1)} = W^{(l)} a^{(l)} + b^{(l)}, \qquad a^{(l+1)} = f(z^{(l+1)}),
        \qquad l = 1, \ldots, n_l - 1, \quad a^{(1)} = x

    Parameters
    ----------
    theta : ndarray, shape (n_params,)
        Parameters, laid out as in :mod:`indexnet.layout`.
    sizes : ndarray of int64, shape (n_l,)
        :math:`s_1, \ldots, s_{n_l}`.
    X : ndarray, shape (m, s_1)
        Inputs, one example a row.
    hidden, output : int
        Activation codes of the hidden layers and of the output layer.
    work : ndarray, shape (3, n) with n >= m * sum(sizes[1:])
        Work buffers ``Z, A, D = work``, C-contiguous and of ``theta``'s dtype
        (:func:`indexnet.layout.work_buffers`): ``Z`` and ``A`` are written with
        :math:`z^{(l)}` and :math:`a^{(l)}` for layers 2..nl (laid out as in
        :mod:`indexnet.layout`).

    Notes
    -----
    UFLDL, "Multi-Layer Neural Network".
    """
    shapes.network(shapes.FORWARD, sizes, X.shape, theta.shape, theta.shape, work.shape)
    shapes.codes(shapes.FORWARD, hidden, output, SQUARED)
    # Borrowed views (see indexnet.layout.borrowed): the calls below count no references.
    theta, X, work = borrowed((theta, X, work))
    _forward(theta, sizes, X, hidden, output, work)


@jit_inline
def _forward(theta, sizes, X, hidden, output, work):
    """:func:`forward` without its check, for the composites that checked already."""
    m, top = X.shape[0], len(sizes) - 1
    Z, A = work[0], work[1]
    a = X
    for l in range(top):
        z_next, a_next = layer_of(Z, m, sizes, l + 1), layer_of(A, m, sizes, l + 1)
        # $z^{(l+1)} = W^{(l)} a^{(l)} + b^{(l)}$
        _weighted_input(weights_of(theta, sizes, l), biases_of(theta, sizes, l), a, z_next)
        # $a^{(l+1)} = f(z^{(l+1)})$
        _activation(z_next, output if l + 1 == top else hidden, a_next)
        a = a_next


@jit
def backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    r"""Backpropagation: every error term, then every gradient.

    .. math::
        \delta^{(n_l)} \rightarrow \delta^{(n_l-1)} \rightarrow \cdots \rightarrow \delta^{(2)},
        \qquad \nabla_{W^{(l)}} J, \; \nabla_{b^{(l)}} J \text{ for } l = 1, \ldots, n_l - 1

    Parameters
    ----------
    theta, sizes, X, hidden, output
        As for :func:`forward`.
    Y : ndarray, shape (m, s_{n_l})
        Targets.
    lam : float
        Weight decay :math:`\lambda`.
    beta, rho : float
        Sparsity weight :math:`\beta` (0 for none) and target activation :math:`\rho` of the
        hidden layers (UFLDL, "Autoencoders and Sparsity").
    loss : int
        Loss code.
    work : ndarray, shape (3, n) with n >= m * sum(sizes[1:])
        Work buffers ``Z, A, D = work``, as for :func:`forward`, which must have filled ``Z``
        and ``A``; ``D`` is written with :math:`\delta^{(l)}` for layers 2..nl.
    grad : ndarray, shape (n_params,)
        Written with the gradient, laid out as ``theta``.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", steps 2-4.
    """
    shapes.network(shapes.BACKWARD, sizes, X.shape, theta.shape, grad.shape, work.shape)
    shapes.targets(shapes.BACKWARD, sizes, X.shape, Y.shape)
    shapes.codes(shapes.BACKWARD, hidden, output, loss)
    theta, X, Y, work, grad = borrowed((theta, X, Y, work, grad))
    _backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)


@jit_inline
def _backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    """:func:`backward` without its check, for the composites that checked already."""
    m, top = X.shape[0], len(sizes) - 1
    Z, A, D = work[0], work[1], work[2]
    delta_next = layer_of(D, m, sizes, top)
    # $\delta^{(n_l)} = -(y - a^{(n_l)}) \bullet f'(z^{(n_l)})$
    _output_delta(
        layer_of(Z, m, sizes, top), layer_of(A, m, sizes, top), Y, loss, output, delta_next
    )
    # Down the layers, each layer's gradient as soon as the delta above it is known.
    for l in range(top - 1, -1, -1):
        W, a = weights_of(theta, sizes, l), X if l == 0 else layer_of(A, m, sizes, l)
        # $\nabla_{W^{(l)}} J = \frac{1}{m} \delta^{(l+1)} (a^{(l)})^T + \lambda W^{(l)}$
        _weight_gradient(a, delta_next, W, lam, weights_of(grad, sizes, l))
        # $\nabla_{b^{(l)}} J = \frac{1}{m} \sum_k \delta^{(l+1)}(k)$
        _bias_gradient(delta_next, biases_of(grad, sizes, l))
        if l > 0:
            z, delta = layer_of(Z, m, sizes, l), layer_of(D, m, sizes, l)
            rho_hat = _average_activation_if(a, beta, theta)
            # $\delta^{(l)} = ((W^{(l)})^T \delta^{(l+1)}) \bullet f'(z^{(l)})$
            _hidden_delta(W, delta_next, z, a, hidden, beta, rho, rho_hat, delta)
            delta_next = delta


@jit
def cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    r"""The batch cost :math:`J(W,b)` and its gradient, by forward and back propagation.

    .. math::
        J(W,b), \quad \frac{\partial J}{\partial W_{ij}^{(l)}}, \quad
        \frac{\partial J}{\partial b_i^{(l)}}

    With ``beta > 0`` the cost includes :math:`\beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)`
    for every hidden layer (the sparse autoencoder).

    Parameters
    ----------
    theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad
        As for :func:`forward` and :func:`backward`.

    Returns
    -------
    float
        :math:`J(W,b)`; ``grad`` is written with its gradient.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm".
    """
    shapes.network(shapes.COST_AND_GRADIENT, sizes, X.shape, theta.shape, grad.shape, work.shape)
    shapes.targets(shapes.COST_AND_GRADIENT, sizes, X.shape, Y.shape)
    shapes.codes(shapes.COST_AND_GRADIENT, hidden, output, loss)
    theta, X, Y, work, grad = borrowed((theta, X, Y, work, grad))
    return _cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)


@jit_inline
def _cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    """:func:`cost_and_gradient` without its check, for the composites that checked already."""
    m, top = X.shape[0], len(sizes) - 1
    _forward(theta, sizes, X, hidden, output, work)
    Z, A = work[0], work[1]
    z, a = layer_of(Z, m, sizes, top), layer_of(A, m, sizes, top)
    J = _cost(z, a, Y, theta[: n_weights(sizes)], lam, loss, output)
    if beta > 0:
        for l in range(1, top):
            rho_hat = _average_activation_if(layer_of(A, m, sizes, l), beta, theta)
            # $+ \beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)$ for each hidden layer
            J += _sparsity_penalty(rho_hat, rho, beta)
    _backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
    return J


@jit
def gradient_step(theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad):
    r"""One full step of batch gradient descent: forward, cost, deltas, gradients, update.

    .. math::
        W_{ij}^{(l)} := W_{ij}^{(l)} - \alpha \frac{\partial J}{\partial W_{ij}^{(l)}}, \qquad
        b_i^{(l)} := b_i^{(l)} - \alpha \frac{\partial J}{\partial b_i^{(l)}}

    Parameters
    ----------
    theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad
        As for :func:`cost_and_gradient`; ``theta`` is updated in place.
    alpha : float
        Learning rate :math:`\alpha`.

    Returns
    -------
    float
        :math:`J(W,b)` before the update.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", batch gradient descent.
    """
    shapes.network(shapes.GRADIENT_STEP, sizes, X.shape, theta.shape, grad.shape, work.shape)
    shapes.targets(shapes.GRADIENT_STEP, sizes, X.shape, Y.shape)
    shapes.codes(shapes.GRADIENT_STEP, hidden, output, loss)
    # Borrowed views (see indexnet.layout.borrowed): the calls below count no references.
    theta, X, Y, work, grad = borrowed((theta, X, Y, work, grad))
    J = _cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
    _update(theta, grad, alpha)
    return J


@jit_inline
def _gather_rows(X, rows, out):
    """Copy rows ``rows`` of ``X`` into ``out``, shape ``(len(rows), X.shape[1])``."""
    for r in range(rows.shape[0]):
        for j in range(X.shape[1]):
            out[r, j] = X[rows[r], j]


@jit_inline
def _all_finite(v):
    """True if no entry of the flat array ``v`` is NaN or infinite."""
    for q in range(v.shape[0]):
        if not math.isfinite(v[q]):
            return False
    return True


@jit
def sgd_epochs(
    theta,
    sizes,
    X,
    Y,
    lam,
    beta,
    rho,
    alpha,
    hidden,
    output,
    loss,
    orders,
    batch,
    Xb,
    Yb,
    work,
    grad,
    costs,
):
    r"""Mini-batch gradient descent over several epochs, the whole loop in one call.

    .. math::
        \theta := \theta - \alpha \nabla_\theta J(\theta; X_B, Y_B)
        \quad \text{for each mini-batch } B \text{ of each epoch}

    Parameters
    ----------
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss
        As for :func:`gradient_step`; ``theta`` is updated in place.
    orders : ndarray of int64, shape (epochs, m)
        The order in which each epoch visits the examples; batch ``q`` of epoch ``e`` is
        ``orders[e, q * batch : (q + 1) * batch]`` (the last one may be shorter).
    batch : int
        Mini-batch size.
    Xb, Yb : ndarray, shapes (batch, s_1) and (batch, s_{n_l})
        Work arrays for one mini-batch.
    work : ndarray, shape (3, n) with n >= batch * sum(sizes[1:])
        Work buffers for one mini-batch, as for :func:`forward`.
    grad : ndarray, shape (n_params,)
        Work array for the gradient.
    costs : ndarray, shape (epochs,)
        Written with each epoch's mean mini-batch cost.

    Returns
    -------
    int
        Epochs completed. Fewer than ``epochs`` means the cost or the gradient stopped being
        finite; ``theta`` then holds the last parameters whose cost was finite.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", gradient descent, on mini-batches.
    """
    shapes.batches(sizes, X.shape, Y.shape, orders, batch, Xb.shape, Yb.shape, costs.shape)
    shapes.network(shapes.SGD_EPOCHS, sizes, Xb.shape, theta.shape, grad.shape, work.shape)
    shapes.codes(shapes.SGD_EPOCHS, hidden, output, loss)
    # Borrowed views, as in gradient_step: the steps below count no references.
    theta, X, Y, Xb, Yb, work, grad = borrowed((theta, X, Y, Xb, Yb, work, grad))
    epochs, m = orders.shape
    last_good = theta.copy()
    for e in range(epochs):
        total = 0.0
        for first in range(0, m, batch):
            rows = orders[e, first : min(first + batch, m)]
            if batch == 1:  # the example's own rows, gathered by nothing
                x, y = X[rows[0] : rows[0] + 1], Y[rows[0] : rows[0] + 1]
            else:
                # The leading rows of the batch arrays: all of them but in an epoch's last
                # batch, when m is not a multiple of the batch size. (Views of borrowed arrays,
                # they count no references.)
                x, y = Xb[: rows.shape[0]], Yb[: rows.shape[0]]
                _gather_rows(X, rows, x)
                _gather_rows(Y, rows, y)
            J = _cost_and_gradient(
                theta, sizes, x, y, lam, beta, rho, hidden, output, loss, work, grad
            )
            if not (math.isfinite(J) and _all_finite(grad)):
                _copy(last_good, theta)  # the parameters of the last finite step
                return e
            total += J * rows.shape[0]
            _kept_update(theta, grad, alpha, last_good)
        costs[e] = total / m
    if not _all_finite(theta):
        _copy(last_good, theta)
        return epochs - 1
    return epochs


@jit_inline
def _copy(source, target):
    """``target[q] = source[q]`` for every q of the flat arrays (no view made)."""
    for q in range(source.shape[0]):
        target[q] = source[q]


@jit_inline
def _kept_update(theta, grad, alpha, previous):
    """:func:`_update`, keeping the parameters before it in ``previous``: one pass, not two."""
    alpha_f = theta.dtype.type(alpha)
    for q in range(theta.shape[0]):
        previous[q] = theta[q]
        # $\theta_q := \theta_q - \alpha \, \partial J / \partial \theta_q$
        theta[q] -= alpha_f * grad[q]


@jit
def gd_iterations(
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad, costs
):
    r"""Batch gradient descent for several iterations, the whole loop in one call.

    .. math::
        \theta := \theta - \alpha \nabla_\theta J(\theta) \quad \text{once for each entry of costs}

    Parameters
    ----------
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad
        As for :func:`gradient_step`; ``theta`` is updated in place.
    costs : ndarray, shape (iterations,)
        Written with :math:`J` before each update.

    Returns
    -------
    int
        Iterations completed. Fewer than ``costs.shape[0]`` means the cost or the gradient
        stopped being finite; ``theta`` then holds the last parameters whose cost was finite.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", batch gradient descent.
    """
    shapes.network(shapes.GD_ITERATIONS, sizes, X.shape, theta.shape, grad.shape, work.shape)
    shapes.targets(shapes.GD_ITERATIONS, sizes, X.shape, Y.shape)
    shapes.codes(shapes.GD_ITERATIONS, hidden, output, loss)
    shapes.iterations(costs.shape)
    # Borrowed views, as in gradient_step: the steps below count no references.
    theta, X, Y, work, grad, costs = borrowed((theta, X, Y, work, grad, costs))
    last_good = theta.copy()
    for t in range(costs.shape[0]):
        J = _cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad)
        if not (math.isfinite(J) and _all_finite(grad)):
            _copy(last_good, theta)  # the parameters of the last finite step
            return t
        costs[t] = J
        _kept_update(theta, grad, alpha, last_good)
    if not _all_finite(theta):
        _copy(last_good, theta)
        return costs.shape[0] - 1
    return costs.shape[0]


# Every public kernel checks its arrays' shapes in its first line (indexnet.checks.shapes); their
# dimensions and dtypes are part of the Numba type, so they are checked in Python instead,
# whenever a kernel meets argument types it has not compiled for yet.
for _name in __all__:
    shapes.guard(_name, globals()[_name])
