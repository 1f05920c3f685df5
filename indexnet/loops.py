r"""The backpropagation equations as loops over their own subscripts, compiled by Numba.

Each kernel is one equation of UFLDL's "Backpropagation Algorithm": ``i`` and ``j`` index units,
``l`` layers, and ``k`` the training example (the math writes it as a superscript :math:`(i)`;
the code needs ``i`` for units). The equation sits in a comment above the line that computes
it. Kernels are pure: they read their inputs and write their preallocated outputs, allocate
nothing and validate nothing (:class:`indexnet.Network` does that before calling them).
Layer numbering and the flat ``theta`` layout are explained in :mod:`indexnet.layout`.

:mod:`indexnet.vectorized` holds a NumPy twin of every function here, same name and signature.
The pure-Python reading of any kernel is its ``.py_func``.
"""

import math

from indexnet._jit import jit
from indexnet.activations import CROSS_ENTROPY, SOFTMAX, SQUARED, f, f_prime, softplus
from indexnet.layout import biases_of, layer_of, n_weights, weights_of

__all__ = [
    "activation",
    "backward",
    "bias_gradient",
    "cost",
    "cost_and_gradient",
    "forward",
    "hidden_delta",
    "output_delta",
    "update",
    "weight_gradient",
    "weighted_input",
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
    UFLDL, "Multi-Layer Neural Network", forward propagation.
    """
    m, s_next = z_next.shape
    s = a.shape[1]
    for k in range(m):
        for i in range(s_next):
            # $b_i^{(l)}$
            total = b[i]
            for j in range(s):
                # $+ \sum_j W_{ij}^{(l)} a_j^{(l)}$
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
    m, s = z.shape
    if kind == SOFTMAX:
        for k in range(m):
            # Subtracting $\max_j z_j$ from every $z_i$ leaves the ratio unchanged and keeps
            # every exponent at most 0, so nothing overflows.
            top = z[k, 0]
            for j in range(1, s):
                top = max(top, z[k, j])
            total = 0.0
            for j in range(s):
                a[k, j] = math.exp(z[k, j] - top)
                total += a[k, j]
            for i in range(s):
                a[k, i] = a[k, i] / total
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
                # $-y_i \log a_i$, with $\log a_i = z_i - \log \sum_j e^{z_j}$ (finite always)
                data -= Y[k, i] * (z_out[k, i] - log_total)
    else:
        for k in range(m):
            for i in range(s):
                # $-[y_i \log a_i + (1 - y_i) \log(1 - a_i)]$, with
                # $\log a = -\mathrm{softplus}(-z)$ and $\log(1 - a) = -\mathrm{softplus}(z)$
                data += Y[k, i] * softplus(-z_out[k, i]) + (1.0 - Y[k, i]) * softplus(z_out[k, i])
    decay = 0.0
    # The triple sum over $l, i, j$ is one sum over the weight part of theta.
    for q in range(weights.shape[0]):
        # $\sum_l \sum_i \sum_j (W_{ij}^{(l)})^2$
        decay += weights[q] * weights[q]
    # $\frac{1}{m} \sum_k \ldots + \frac{\lambda}{2} \ldots$
    return data / m + 0.5 * lam * decay


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
    m, s = a_out.shape
    for k in range(m):
        for i in range(s):
            if loss == CROSS_ENTROPY:
                # $\delta_i^{(n_l)} = a_i^{(n_l)} - y_i$
                delta_out[k, i] = a_out[k, i] - Y[k, i]
            else:
                # $\delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})$
                delta_out[k, i] = -(Y[k, i] - a_out[k, i]) * f_prime(z_out[k, i], a_out[k, i], kind)


@jit
def hidden_delta(W, delta_next, z, a, kind, delta):
    r"""Error term of a hidden layer, propagated back from layer :math:`l+1`.

    .. math::
        \delta_i^{(l)} = \left( \sum_{j=1}^{s_{l+1}} W_{ji}^{(l)} \delta_j^{(l+1)} \right)
                         f'(z_i^{(l)})

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
    delta : ndarray, shape (m, s_l)
        Written with :math:`\delta^{(l)}`.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", step 3.
    """
    m, s = delta.shape
    s_next = delta_next.shape[1]
    for k in range(m):
        for i in range(s):
            delta[k, i] = 0.0
        # The sum over j runs in the outer loop so that the inner loop walks row j of W
        # contiguously; each delta[k, i] still receives exactly the terms of its own sum.
        for j in range(s_next):
            for i in range(s):
                # $\sum_j W_{ji}^{(l)} \delta_j^{(l+1)}$
                delta[k, i] += W[j, i] * delta_next[k, j]
        for i in range(s):
            # $\times f'(z_i^{(l)})$
            delta[k, i] *= f_prime(z[k, i], a[k, i], kind)


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
    m, s = a.shape
    s_next = delta_next.shape[1]
    for i in range(s_next):
        for j in range(s):
            dW[i, j] = 0.0
        for k in range(m):
            for j in range(s):
                # $\sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k)$
                dW[i, j] += a[k, j] * delta_next[k, i]
        for j in range(s):
            # $\frac{1}{m} \ldots + \lambda W_{ij}^{(l)}$
            dW[i, j] = dW[i, j] / m + lam * W[i, j]


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
    m, s_next = delta_next.shape
    for i in range(s_next):
        db[i] = 0.0
    # k outside so the inner loop over i walks a row of delta contiguously.
    for k in range(m):
        for i in range(s_next):
            # $\sum_k \delta_i^{(l+1)}(k)$
            db[i] += delta_next[k, i]
    for i in range(s_next):
        # $\frac{1}{m} \ldots$
        db[i] = db[i] / m


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
    for q in range(theta.shape[0]):
        # $\theta_q := \theta_q - \alpha \, \partial J / \partial \theta_q$
        theta[q] -= alpha * grad[q]


@jit
def forward(theta, sizes, X, hidden, output, Z, A):
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
    Z, A : ndarray, shape (m * sum(sizes[1:]),)
        Work buffers, written with :math:`z^{(l)}` and :math:`a^{(l)}` for layers 2..nl.

    Notes
    -----
    UFLDL, "Multi-Layer Neural Network".
    """
    m = X.shape[0]
    n_l = len(sizes)
    a = X
    for l in range(n_l - 1):
        z_next = layer_of(Z, m, sizes, l + 1)
        a_next = layer_of(A, m, sizes, l + 1)
        weighted_input(weights_of(theta, sizes, l), biases_of(theta, sizes, l), a, z_next)
        activation(z_next, output if l == n_l - 2 else hidden, a_next)
        a = a_next


@jit
def backward(theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad):
    r"""Backpropagation: every error term, then every gradient.

    .. math::
        \delta^{(n_l)} \rightarrow \delta^{(n_l-1)} \rightarrow \cdots \rightarrow \delta^{(2)},
        \qquad \nabla_{W^{(l)}} J, \; \nabla_{b^{(l)}} J \text{ for } l = 1, \ldots, n_l - 1

    Parameters
    ----------
    theta, sizes, X, hidden, output, Z, A
        As for :func:`forward`, which must have filled ``Z`` and ``A``.
    Y : ndarray, shape (m, s_{n_l})
        Targets.
    lam : float
        Weight decay :math:`\lambda`.
    loss : int
        Loss code.
    D : ndarray, shape (m * sum(sizes[1:]),)
        Work buffer, written with :math:`\delta^{(l)}` for layers 2..nl.
    grad : ndarray, shape (n_params,)
        Written with the gradient, laid out as ``theta``.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm", steps 2-4.
    """
    m = X.shape[0]
    top = len(sizes) - 1
    output_delta(
        layer_of(Z, m, sizes, top),
        layer_of(A, m, sizes, top),
        Y,
        loss,
        output,
        layer_of(D, m, sizes, top),
    )
    for l in range(top - 1, 0, -1):
        hidden_delta(
            weights_of(theta, sizes, l),
            layer_of(D, m, sizes, l + 1),
            layer_of(Z, m, sizes, l),
            layer_of(A, m, sizes, l),
            hidden,
            layer_of(D, m, sizes, l),
        )
    a = X
    for l in range(top):
        delta_next = layer_of(D, m, sizes, l + 1)
        W = weights_of(theta, sizes, l)
        weight_gradient(a, delta_next, W, lam, weights_of(grad, sizes, l))
        bias_gradient(delta_next, biases_of(grad, sizes, l))
        a = layer_of(A, m, sizes, l + 1)


@jit
def cost_and_gradient(theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad):
    r"""The batch cost :math:`J(W,b)` and its gradient, by forward and back propagation.

    .. math::
        J(W,b), \quad \frac{\partial J}{\partial W_{ij}^{(l)}}, \quad
        \frac{\partial J}{\partial b_i^{(l)}}

    Parameters
    ----------
    theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad
        As for :func:`forward` and :func:`backward`.

    Returns
    -------
    float
        :math:`J(W,b)`; ``grad`` is written with its gradient.

    Notes
    -----
    UFLDL, "Backpropagation Algorithm".
    """
    m = X.shape[0]
    top = len(sizes) - 1
    forward(theta, sizes, X, hidden, output, Z, A)
    J = cost(
        layer_of(Z, m, sizes, top),
        layer_of(A, m, sizes, top),
        Y,
        theta[: n_weights(sizes)],
        lam,
        loss,
        output,
    )
    backward(theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad)
    return J
