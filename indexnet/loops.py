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

import numpy as np

from indexnet._jit import jit, jit_inline
from indexnet.activations import CROSS_ENTROPY, SOFTMAX, SQUARED, f, f_prime, softplus
from indexnet.layout import biases_of, layer_of, n_weights, weights_of

__all__ = [
    "activation",
    "backward",
    "bias_gradient",
    "cost",
    "cost_and_gradient",
    "forward",
    "gradient_step",
    "hidden_delta",
    "output_delta",
    "update",
    "weight_gradient",
    "weighted_input",
]


@jit_inline
def _sums_4x4(P, p, p_rows, Q, q, q_rows, n):
    r"""The 16 sums :math:`\sum_x P_{p+r,\,x} Q_{q+c,\,x}` for :math:`r, c = 0..3`, at once.

    Sixteen running sums share each load of ``P`` and ``Q``, and each runs along a row
    (contiguous), so the compiler keeps them in vector registers: this is the register
    blocking that lets an explicit sum approach BLAS speed. Rows past ``p_rows - 1`` (or
    ``q_rows - 1``) are clamped to the last row; the callers write those duplicates to the same
    place, so edges need no second loop.

    Returns
    -------
    tuple of 16 floats
        ``t[4 * r + c]`` is the sum for row ``p + r`` of ``P`` and row ``q + c`` of ``Q``.
    """
    p0, p1, p2, p3 = p, min(p + 1, p_rows - 1), min(p + 2, p_rows - 1), min(p + 3, p_rows - 1)
    q0, q1, q2, q3 = q, min(q + 1, q_rows - 1), min(q + 2, q_rows - 1), min(q + 3, q_rows - 1)
    t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = 0.0
    t20 = t21 = t22 = t23 = t30 = t31 = t32 = t33 = 0.0
    for x in range(n):
        P0, P1, P2, P3 = P[p0, x], P[p1, x], P[p2, x], P[p3, x]
        Q0, Q1, Q2, Q3 = Q[q0, x], Q[q1, x], Q[q2, x], Q[q3, x]
        t00 += P0 * Q0
        t01 += P0 * Q1
        t02 += P0 * Q2
        t03 += P0 * Q3
        t10 += P1 * Q0
        t11 += P1 * Q1
        t12 += P1 * Q2
        t13 += P1 * Q3
        t20 += P2 * Q0
        t21 += P2 * Q1
        t22 += P2 * Q2
        t23 += P2 * Q3
        t30 += P3 * Q0
        t31 += P3 * Q1
        t32 += P3 * Q2
        t33 += P3 * Q3
    return (t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33)


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
    UFLDL, "Multi-Layer Neural Network", forward propagation. Examples ``k`` and units ``i``
    go four by four (a 4x4 register block, see ``_sums_4x4``); each sum is still the one above.
    """
    m, s_next = z_next.shape
    s = a.shape[1]
    for k in range(0, m, 4):
        for i in range(0, s_next, 4):
            # $\sum_j W_{ij}^{(l)} a_j^{(l)}$ for examples k..k+3 and units i..i+3
            t = _sums_4x4(a, k, m, W, i, s_next, s)
            for r in range(4):
                for c in range(4):
                    kr, ic = min(k + r, m - 1), min(i + c, s_next - 1)
                    # $z_i^{(l+1)} = \ldots + b_i^{(l)}$
                    z_next[kr, ic] = t[4 * r + c] + b[ic]


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
    UFLDL, "Backpropagation Algorithm", step 3. Note the transposed subscripts :math:`W_{ji}`:
    the error flows back along the same weights that carried the signal forward.
    """
    m, s = delta.shape
    s_next = delta_next.shape[1]
    # $W^{(l)T}_{ij} = W^{(l)}_{ji}$, copied once so that the sum over j runs along rows.
    WT = np.empty((s, s_next), dtype=W.dtype)
    for j in range(s_next):
        for i in range(s):
            WT[i, j] = W[j, i]
    for k in range(0, m, 4):
        for i in range(0, s, 4):
            # $\sum_j W_{ji}^{(l)} \delta_j^{(l+1)}$ for examples k..k+3 and units i..i+3
            t = _sums_4x4(delta_next, k, m, WT, i, s, s_next)
            for r in range(4):
                for c in range(4):
                    kr, ic = min(k + r, m - 1), min(i + c, s - 1)
                    # $\delta_i^{(l)} = (\ldots) f'(z_i^{(l)})$
                    delta[kr, ic] = t[4 * r + c] * f_prime(z[kr, ic], a[kr, ic], kind)


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
    # $\delta^T$ and $a^T$, copied once so that the sum over k runs along rows.
    delta_T = np.empty((s_next, m), dtype=delta_next.dtype)
    a_T = np.empty((s, m), dtype=a.dtype)
    for k in range(m):
        for i in range(s_next):
            delta_T[i, k] = delta_next[k, i]
        for j in range(s):
            a_T[j, k] = a[k, j]
    for i in range(0, s_next, 4):
        for j in range(0, s, 4):
            # $\sum_k \delta_i^{(l+1)}(k) a_j^{(l)}(k)$ for units i..i+3 and j..j+3
            t = _sums_4x4(delta_T, i, s_next, a_T, j, s, m)
            for r in range(4):
                for c in range(4):
                    ir, jc = min(i + r, s_next - 1), min(j + c, s - 1)
                    # $\frac{1}{m} \ldots + \lambda W_{ij}^{(l)}$
                    dW[ir, jc] = t[4 * r + c] / m + lam * W[ir, jc]


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


@jit
def gradient_step(theta, sizes, X, Y, lam, alpha, hidden, output, loss, Z, A, D, grad):
    r"""One full step of batch gradient descent: forward, cost, deltas, gradients, update.

    .. math::
        W_{ij}^{(l)} := W_{ij}^{(l)} - \alpha \frac{\partial J}{\partial W_{ij}^{(l)}}, \qquad
        b_i^{(l)} := b_i^{(l)} - \alpha \frac{\partial J}{\partial b_i^{(l)}}

    Parameters
    ----------
    theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad
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
    J = cost_and_gradient(theta, sizes, X, Y, lam, hidden, output, loss, Z, A, D, grad)
    update(theta, grad, alpha)
    return J
