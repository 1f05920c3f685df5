r"""The shape checks of the public kernels: one function per kernel, run before its loops.

A kernel takes its loop bounds from its arrays, and Numba does not check bounds, so arrays
that disagree would be read and written past their ends. Each public kernel of
:mod:`indexnet.loops` and :mod:`indexnet.loops_parallel` therefore first calls its check here,
compiled, so the check also protects a user's own ``@njit`` code that calls the kernel; the
NumPy twins of :mod:`indexnet.vectorized` call the same compiled checks from Python, so the
messages are the same. The composites check once and then call the kernels' unchecked
bodies. A mismatch raises a ValueError naming the kernel, the argument, its shape and the shape
the other arguments ask for.

What compiled code cannot check at run time, an array's number of dimensions and its dtype
(they are part of its Numba type), :func:`guard` checks in Python when a kernel meets new
argument types, before Numba compiles: a call with them never reaches the loops.
"""

import inspect

import numpy as np
from llvmlite import ir as llvm_ir
from numba import types as numba_types
from numba.extending import intrinsic, overload

from indexnet.fast import numba_private
from indexnet.fast.compiler import jit, jit_inline
from indexnet.kernels.activations import CROSS_ENTROPY, IDENTITY, SIGMOID, SOFTMAX, SQUARED
from indexnet.kernels.layout import buffer_size, n_params

# The array arguments of every public kernel and their number of dimensions. The others are
# scalars (codes, lambda, ...), and ``sizes`` and ``orders`` hold integers.
ARRAYS = {
    "weighted_input": {"W": 2, "b": 1, "a": 2, "z_next": 2},
    "activation": {"z": 2, "a": 2},
    "cost": {"z_out": 2, "a_out": 2, "Y": 2, "weights": 1},
    "average_activation": {"a": 2, "rho_hat": 1},
    "sparsity_penalty": {"rho_hat": 1},
    "output_delta": {"z_out": 2, "a_out": 2, "Y": 2, "delta_out": 2},
    "hidden_delta": {"W": 2, "delta_next": 2, "z": 2, "a": 2, "rho_hat": 1, "delta": 2},
    "weight_gradient": {"a": 2, "delta_next": 2, "W": 2, "dW": 2},
    "bias_gradient": {"delta_next": 2, "db": 1},
    "update": {"theta": 1, "grad": 1},
    "forward": {"theta": 1, "sizes": 1, "X": 2, "work": 2},
    "backward": {"theta": 1, "sizes": 1, "X": 2, "Y": 2, "work": 2, "grad": 1},
    "cost_and_gradient": {"theta": 1, "sizes": 1, "X": 2, "Y": 2, "work": 2, "grad": 1},
    "gradient_step": {"theta": 1, "sizes": 1, "X": 2, "Y": 2, "work": 2, "grad": 1},
    "sgd_epochs": {
        **{"theta": 1, "sizes": 1, "X": 2, "Y": 2, "orders": 2},
        **{"Xb": 2, "Yb": 2, "work": 2, "grad": 1, "costs": 1},
    },
    "gd_iterations": {
        **{"theta": 1, "sizes": 1, "X": 2, "Y": 2, "work": 2, "grad": 1, "costs": 1},
    },
    # convolution and pooling (indexnet.kernels.conv)
    "conv_weighted_input": {"W": 4, "b": 1, "a": 4, "z_next": 4},
    "mean_pool": {"a": 4, "pooled": 4},
    "max_pool": {"a": 4, "pooled": 4, "where": 4},
    "mean_pool_delta": {"delta_pooled": 4, "z": 4, "a": 4, "delta": 4},
    "max_pool_delta": {"delta_pooled": 4, "where": 4, "z": 4, "a": 4, "delta": 4},
    "conv_delta": {"W": 4, "delta_next": 4, "z": 4, "a": 4, "delta": 4},
    "filter_gradient": {"a": 4, "delta_next": 4, "W": 4, "dW": 4},
    "conv_bias_gradient": {"delta_next": 4, "db": 1},
}
INTEGER_ARRAYS = ("sizes", "orders", "where")
RECORDS = ("costs",)
"""Float arrays that record results, in any float precision (a float32 network's costs may be
kept in float64)."""


# Every check below compares integers first and builds its message only on the failing branch
# (in compiled code a string is an allocation), and is inlined into the kernel that calls it:
# the checks run at every kernel call.


@jit
def _text(shape):
    """``shape`` written as Python writes a tuple: ``(5, 3)``, ``(4,)``."""
    if len(shape) == 1:
        return "(" + str(shape[0]) + ",)"
    out = "("
    for d in range(len(shape)):
        out += str(shape[d]) + (", " if d + 1 < len(shape) else ")")
    return out


# The fail_* functions below are inlined shims: each call site passes its own string
# constants, which Numba types as literals, and a compiled function called with other literal
# types compiles again. Adding "" makes them plain strings, so the raising function behind each
# shim compiles once for every message (there were dozens of compiles of each before).


@jit_inline
def fail_shape(kernel, name, shape, wanted, meaning):
    """Raise the ValueError for argument ``name`` of ``kernel``: ``shape`` where ``wanted``."""
    _raise_shape(kernel + "", name + "", _text(shape), _text(wanted), meaning + "")


@jit
def _raise_shape(kernel, name, shape, wanted, meaning):
    raise ValueError(
        kernel + ": " + name + " must have shape " + meaning + " = " + wanted + "; got " + shape
    )


@jit_inline
def fail_empty(kernel, name, shape):
    """Raise the ValueError for an array with no example or no unit where one is needed."""
    _raise_empty(kernel + "", name + "", _text(shape))


@jit
def _raise_empty(kernel, name, shape):
    raise ValueError(
        kernel + ": " + name + " must hold at least one example and one unit; got shape " + shape
    )


@jit_inline
def fail_code(kernel, name, code, highest):
    """Raise the ValueError for an activation or loss code out of ``0..highest``."""
    _raise_code(kernel + "", name + "", code, np.int64(highest))  # a plain int64, as above


@jit
def _raise_code(kernel, name, code, highest):
    raise ValueError(
        kernel + ": " + name + " must be a code of indexnet.activations from 0 to "
        + str(highest) + "; got " + str(code)
    )  # fmt: skip


@jit
def _raise_value(message):
    """Raise ``ValueError(message)``. The checks that build a message themselves raise it here:
    Numba 0.59 cannot lower a raise of a message built at run time in a function that also
    calls the shims above ("Could not pickle object as excessively deep recursion required")."""
    raise ValueError(message)


@jit  # not inlined: Numba 0.59 cannot lower an inlined raise of a message built at run time
def fail_loss(kernel):
    """Raise the ValueError of a cross-entropy loss on an output that is not sigmoid or softmax."""
    raise ValueError(kernel + ": the cross-entropy loss needs a sigmoid or softmax output (kind)")


@jit_inline
def _empty(shape):
    return shape[0] < 1 or shape[len(shape) - 1] < 1


@jit_inline
def weighted_input(W, b, a, z_next):
    """Shapes of :func:`indexnet.loops.weighted_input`."""
    s_next, s = W.shape
    if b.shape != (s_next,):
        fail_shape("weighted_input", "b", b.shape, (s_next,), "(s_{l+1},) from W")
    if a.shape[1] != s:
        fail_shape("weighted_input", "a", a.shape, (a.shape[0], s), "(m, s_l) from W")
    if z_next.shape != (a.shape[0], s_next):
        fail_shape(
            "weighted_input", "z_next", z_next.shape, (a.shape[0], s_next),
            "(m, s_{l+1}) from a and W",
        )  # fmt: skip


@jit_inline
def activation(z, kind, a):
    """Shapes and code of :func:`indexnet.loops.activation`."""
    if kind < 0 or kind > SOFTMAX:
        fail_code("activation", "kind", kind, SOFTMAX)
    if a.shape != z.shape:
        fail_shape("activation", "a", a.shape, z.shape, "z.shape")
    if kind == SOFTMAX and _empty(z.shape):
        fail_empty("activation", "z", z.shape)


_OUTPUT_KERNELS = ("cost", "output_delta")


@jit_inline
def _output(kernel, z_out, a_out, Y, loss, kind):
    """What :func:`cost` (``kernel`` 0) and :func:`output_delta` (1) ask of the output layer's
    arrays and codes."""
    if loss < 0 or loss > CROSS_ENTROPY:
        fail_code(_OUTPUT_KERNELS[kernel], "loss", loss, CROSS_ENTROPY)
    if kind < 0 or kind > SOFTMAX:
        fail_code(_OUTPUT_KERNELS[kernel], "kind", kind, SOFTMAX)
    if loss == CROSS_ENTROPY and kind != SIGMOID and kind != SOFTMAX:
        fail_loss(_OUTPUT_KERNELS[kernel])
    if _empty(a_out.shape):
        fail_empty(_OUTPUT_KERNELS[kernel], "a_out", a_out.shape)
    if z_out.shape != a_out.shape:
        fail_shape(_OUTPUT_KERNELS[kernel], "z_out", z_out.shape, a_out.shape, "a_out.shape")
    if Y.shape != a_out.shape:
        fail_shape(_OUTPUT_KERNELS[kernel], "Y", Y.shape, a_out.shape, "a_out.shape")


@jit_inline
def cost(z_out, a_out, Y, weights, lam, loss, kind):
    """Shapes and codes of :func:`indexnet.loops.cost`."""
    _output(0, z_out, a_out, Y, loss, kind)


@jit_inline
def average_activation(a, rho_hat):
    """Shapes of :func:`indexnet.loops.average_activation`."""
    if _empty(a.shape):
        fail_empty("average_activation", "a", a.shape)
    if rho_hat.shape != (a.shape[1],):
        fail_shape("average_activation", "rho_hat", rho_hat.shape, (a.shape[1],), "(s_l,) from a")


@jit_inline
def sparsity_penalty(rho_hat, rho, beta):
    """:func:`indexnet.loops.sparsity_penalty` takes any number of units."""


@jit_inline
def output_delta(z_out, a_out, Y, loss, kind, delta_out):
    """Shapes and codes of :func:`indexnet.loops.output_delta`."""
    _output(1, z_out, a_out, Y, loss, kind)
    if kind == SOFTMAX and loss != CROSS_ENTROPY:  # f' of a softmax unit is not elementwise
        raise ValueError("output_delta: a softmax output (kind) needs the cross-entropy loss")
    if delta_out.shape != a_out.shape:
        fail_shape("output_delta", "delta_out", delta_out.shape, a_out.shape, "a_out.shape")


@jit_inline
def hidden_delta(W, delta_next, z, a, kind, beta, rho, rho_hat, delta):
    """Shapes and code of :func:`indexnet.loops.hidden_delta`."""
    if kind < 0 or kind > IDENTITY:  # softmax is an output activation only
        fail_code("hidden_delta", "kind", kind, IDENTITY)
    s_next, s = W.shape
    m = delta.shape[0]
    if delta.shape[1] != s:
        fail_shape("hidden_delta", "delta", delta.shape, (m, s), "(m, s_l) from W")
    if delta_next.shape != (m, s_next):
        fail_shape(
            "hidden_delta", "delta_next", delta_next.shape, (m, s_next),
            "(m, s_{l+1}) from delta and W",
        )  # fmt: skip
    if z.shape != delta.shape:
        fail_shape("hidden_delta", "z", z.shape, delta.shape, "delta.shape")
    if a.shape != delta.shape:
        fail_shape("hidden_delta", "a", a.shape, delta.shape, "delta.shape")
    if beta != 0 and rho_hat.shape != (s,):  # rho_hat is read only with the sparsity term
        fail_shape("hidden_delta", "rho_hat", rho_hat.shape, (s,), "(s_l,) from W")


@jit_inline
def weight_gradient(a, delta_next, W, lam, dW):
    """Shapes of :func:`indexnet.loops.weight_gradient`."""
    s_next, s = W.shape
    m = a.shape[0]
    if _empty(a.shape):
        fail_empty("weight_gradient", "a", a.shape)
    if a.shape[1] != s:
        fail_shape("weight_gradient", "a", a.shape, (m, s), "(m, s_l) from W")
    if delta_next.shape != (m, s_next):
        fail_shape(
            "weight_gradient", "delta_next", delta_next.shape, (m, s_next),
            "(m, s_{l+1}) from a and W",
        )  # fmt: skip
    if dW.shape != W.shape:
        fail_shape("weight_gradient", "dW", dW.shape, W.shape, "W.shape")


@jit_inline
def bias_gradient(delta_next, db):
    """Shapes of :func:`indexnet.loops.bias_gradient`."""
    if _empty(delta_next.shape):
        fail_empty("bias_gradient", "delta_next", delta_next.shape)
    if db.shape != (delta_next.shape[1],):
        fail_shape(
            "bias_gradient",
            "db",
            db.shape,
            (delta_next.shape[1],),
            "(s_{l+1},) from delta_next",
        )


@jit_inline
def update(theta, grad, alpha):
    """Shapes of :func:`indexnet.loops.update`."""
    if grad.shape != theta.shape:
        fail_shape("update", "grad", grad.shape, theta.shape, "theta.shape")


COMPOSITES = (
    "forward", "backward", "cost_and_gradient", "gradient_step", "sgd_epochs", "gd_iterations",
)  # fmt: skip
"""The composites, by the number :func:`network` and :func:`targets` take for their names."""
FORWARD, BACKWARD, COST_AND_GRADIENT, GRADIENT_STEP, SGD_EPOCHS, GD_ITERATIONS = range(
    len(COMPOSITES)
)


@jit_inline
def _composite_name(kernel):
    """``COMPOSITES[kernel]`` for a ``kernel`` known at run time only.

    A tuple of different string constants takes a constant index only, so a function that
    indexed it compiled once for every composite's number; adding "" makes each name a plain
    string, and a tuple of plain strings takes any index.
    """
    names = (
        COMPOSITES[0] + "", COMPOSITES[1] + "", COMPOSITES[2] + "",
        COMPOSITES[3] + "", COMPOSITES[4] + "", COMPOSITES[5] + "",
    )  # fmt: skip
    return names[kernel]


@jit_inline
def _examples(kernel):
    """The array of the examples composite ``kernel`` steps on: the mini-batch's for
    ``sgd_epochs``."""
    return "Xb" if kernel == SGD_EPOCHS else "X"


@jit_inline
def network(kernel, sizes, X_shape, theta_shape, grad_shape, work_shape):
    """What composite number ``kernel`` (:data:`COMPOSITES`) asks of ``sizes`` and of the arrays
    laid out by it (:mod:`indexnet.layout`), checked so that no kernel below it can index past
    an array. For ``sgd_epochs`` the examples are the mini-batch's, ``Xb``.

    The test is integers only, inlined; the message is made apart, by :func:`_network_fault`.
    """
    fits = sizes.shape[0] >= 2 and not _empty(X_shape) and X_shape[1] == sizes[0]
    for l in range(sizes.shape[0]):
        # Up to 2^31 units a layer and 2^40 weights between two layers: no sum of the
        # layout's index arithmetic can overflow.
        fits = fits and 1 <= sizes[l] <= 2**31
        fits = fits and (l == 0 or sizes[l] * (sizes[l - 1] + 1) <= 2**40)
    if fits:
        params = n_params(sizes)
        fits = theta_shape[0] == params and grad_shape[0] == params
        fits = fits and work_shape[0] == 3 and work_shape[1] >= buffer_size(X_shape[0], sizes)
    if not fits:  # a plain int64, so that the message compiles once for all the composites
        _network_fault(np.int64(kernel), sizes, X_shape, theta_shape, grad_shape, work_shape)


@jit
def _network_fault(kernel, sizes, X_shape, theta_shape, grad_shape, work_shape):
    """Raise the ValueError that says what :func:`network` found wrong."""
    name = _composite_name(kernel)
    if sizes.shape[0] < 2:
        _raise_value(name + ": sizes must list at least 2 layers; got " + str(sizes.shape[0]))
    for l in range(sizes.shape[0]):
        if sizes[l] < 1 or sizes[l] > 2**31:
            _raise_value(
                name + ": sizes[" + str(l) + "] must be from 1 to 2^31; got " + str(sizes[l])
            )
        if l > 0 and sizes[l] * (sizes[l - 1] + 1) > 2**40:
            _raise_value(name + ": sizes give more than 2^40 parameters to a layer")
    if _empty(X_shape):
        fail_empty(name, _examples(kernel), X_shape)
    if X_shape[1] != sizes[0]:
        wanted = (X_shape[0], sizes[0])
        fail_shape(name, _examples(kernel), X_shape, wanted, "(m, sizes[0])")
    params = (n_params(sizes),)
    if theta_shape != params:
        fail_shape(name, "theta", theta_shape, params, "(n_params,) from sizes")
    if grad_shape != params:
        fail_shape(name, "grad", grad_shape, params, "(n_params,) from sizes")
    needed = buffer_size(X_shape[0], sizes)
    if work_shape[0] != 3 or work_shape[1] < needed:
        _raise_value(
            name + ": work must have shape (3, n) with n >= m * sum(sizes[1:]) = "
            + str(needed) + " from " + _examples(kernel) + " and sizes; got "
            + _text(work_shape)
        )  # fmt: skip
    _raise_value(name + ": the arrays do not fit sizes")  # not reached


@jit_inline
def targets(kernel, sizes, X_shape, Y_shape):
    """``Y`` has a row for every example of ``X`` and a column for every output unit."""
    if Y_shape[0] != X_shape[0] or Y_shape[1] != sizes[sizes.shape[0] - 1]:
        wanted = (X_shape[0], sizes[sizes.shape[0] - 1])
        fail_shape(_composite_name(kernel), "Y", Y_shape, wanted, "(m, sizes[-1]) from X and sizes")


def opaque(x):
    """``x``. Compiled, ``x`` passed through an empty inline assembly: the same number, of
    which the optimiser knows nothing. :func:`codes` tests opaque copies of the codes, so that
    what the test proves (``0 <= hidden <= IDENTITY``, ...) does not reach the code that runs
    the codes afterwards: told it, LLVM compiled some composites up to 13% slower
    (bench/NOTES.md)."""
    return x


@overload(opaque)
def _compiled_opaque(x):
    if isinstance(x, numba_types.Integer):
        return lambda x: _through_assembly(x)
    return None


@intrinsic
def _through_assembly(typingctx, x):
    def codegen(context, builder, signature, arguments):
        value = arguments[0]
        function = llvm_ir.FunctionType(value.type, [value.type])
        return builder.asm(function, "", "=r,0", [value], False)

    return x(x), codegen


@jit_inline
def codes(kernel, hidden, output, loss):
    """The activation and loss codes composite ``kernel`` runs with, as :func:`hidden_delta`
    and :func:`output_delta` ask of theirs: hidden layers from sigmoid to identity, the
    cross-entropy loss on a sigmoid or softmax output only, and a softmax output with the
    cross-entropy loss only where the composite backpropagates (not ``forward``).

    The test is integers only, inlined; the message is made apart, by :func:`_codes_fault`.
    """
    h, o, c = opaque(hidden), opaque(output), opaque(loss)
    fits = 0 <= h <= IDENTITY and 0 <= o <= SOFTMAX and 0 <= c <= CROSS_ENTROPY
    fits = fits and (c != CROSS_ENTROPY or o == SIGMOID or o == SOFTMAX)
    fits = fits and (kernel == FORWARD or o != SOFTMAX or c == CROSS_ENTROPY)
    if not fits:  # a plain int64, so that the message compiles once for all the composites
        _codes_fault(np.int64(kernel), hidden, output, loss)


@jit
def _codes_fault(kernel, hidden, output, loss):
    """Raise the ValueError that says what :func:`codes` found wrong."""
    name = _composite_name(kernel)
    if hidden < 0 or hidden > IDENTITY:
        fail_code(name, "hidden", hidden, IDENTITY)
    if output < 0 or output > SOFTMAX:
        fail_code(name, "output", output, SOFTMAX)
    if loss < 0 or loss > CROSS_ENTROPY:
        fail_code(name, "loss", loss, CROSS_ENTROPY)
    if loss == CROSS_ENTROPY:
        fail_loss(name)
    _raise_value(name + ": a softmax output needs the cross-entropy loss")


@jit
def batches(sizes, X_shape, Y_shape, orders, batch, Xb_shape, Yb_shape, costs_shape):
    """What :func:`indexnet.loops.sgd_epochs` asks of its examples, orders and batch arrays."""
    top = sizes.shape[0] - 1
    if top < 1:
        _raise_value("sgd_epochs: sizes must list at least 2 layers; got " + str(top + 1))
    if batch < 1:
        _raise_value("sgd_epochs: batch must be >= 1; got " + str(batch))
    m = X_shape[0]
    if X_shape[1] != sizes[0]:
        fail_shape("sgd_epochs", "X", X_shape, (m, sizes[0]), "(m, sizes[0])")
    targets(SGD_EPOCHS, sizes, X_shape, Y_shape)
    if orders.shape[1] != m:
        fail_shape("sgd_epochs", "orders", orders.shape, (orders.shape[0], m), "(epochs, m) from X")
    if Xb_shape != (batch, sizes[0]):
        fail_shape("sgd_epochs", "Xb", Xb_shape, (batch, sizes[0]), "(batch, sizes[0])")
    if Yb_shape != (batch, sizes[top]):
        fail_shape("sgd_epochs", "Yb", Yb_shape, (batch, sizes[top]), "(batch, sizes[-1])")
    if costs_shape[0] < orders.shape[0]:
        _raise_value(
            "sgd_epochs: costs must hold a number for each of the " + str(orders.shape[0])
            + " epochs from orders; got shape " + _text(costs_shape)
        )  # fmt: skip
    for e in range(orders.shape[0]):
        for q in range(orders.shape[1]):
            if orders[e, q] < 0 or orders[e, q] >= m:
                _raise_value(
                    "sgd_epochs: orders must hold row numbers of X, 0 to " + str(m - 1)
                    + "; got " + str(orders[e, q]) + " at " + _text((e, q))
                )  # fmt: skip


@jit
def forward(theta, sizes, X, hidden, output, work):
    """Shapes of :func:`indexnet.loops.forward`, for the NumPy twin (the loop composites check
    shapes only, which costs no reference counts)."""
    network(FORWARD, sizes, X.shape, theta.shape, theta.shape, work.shape)
    codes(np.int64(FORWARD), hidden, output, SQUARED)


@jit
def _step(kernel, theta, sizes, X, Y, hidden, output, loss, work, grad):
    network(kernel, sizes, X.shape, theta.shape, grad.shape, work.shape)
    targets(kernel, sizes, X.shape, Y.shape)
    codes(kernel, hidden, output, loss)


@jit
def backward(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    """Shapes of :func:`indexnet.loops.backward`, for the NumPy twin."""
    _step(np.int64(BACKWARD), theta, sizes, X, Y, hidden, output, loss, work, grad)


@jit
def cost_and_gradient(theta, sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad):
    """Shapes of :func:`indexnet.loops.cost_and_gradient`, for the NumPy twin."""
    _step(np.int64(COST_AND_GRADIENT), theta, sizes, X, Y, hidden, output, loss, work, grad)


@jit
def gradient_step(theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad):
    """Shapes of :func:`indexnet.loops.gradient_step`, for the NumPy twin."""
    _step(np.int64(GRADIENT_STEP), theta, sizes, X, Y, hidden, output, loss, work, grad)


@jit
def sgd_epochs(
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, orders, batch, Xb, Yb,
    work, grad, costs,
):  # fmt: skip
    """Shapes of :func:`indexnet.loops.sgd_epochs`, for the NumPy twin."""
    batches(sizes, X.shape, Y.shape, orders, batch, Xb.shape, Yb.shape, costs.shape)
    network(SGD_EPOCHS, sizes, Xb.shape, theta.shape, grad.shape, work.shape)
    codes(np.int64(SGD_EPOCHS), hidden, output, loss)


@jit  # not inlined: Numba 0.59 cannot lower an inlined raise of a message built at run time
def iterations(costs_shape):
    """:func:`indexnet.loops.gd_iterations` runs one iteration for each entry of ``costs``."""
    if costs_shape[0] < 1:
        raise ValueError(
            "gd_iterations: costs must hold one number an iteration, at least one; got shape "
            + _text(costs_shape)
        )  # fmt: skip


@jit
def gd_iterations(
    theta, sizes, X, Y, lam, beta, rho, alpha, hidden, output, loss, work, grad, costs
):  # fmt: skip
    """Shapes of :func:`indexnet.loops.gd_iterations`, for the NumPy twin."""
    _step(np.int64(GD_ITERATIONS), theta, sizes, X, Y, hidden, output, loss, work, grad)
    iterations(costs.shape)


# -- convolution and pooling (indexnet.kernels.conv) ----------------------------------------


@jit_inline
def fail_pool(kernel, P, name, shape):
    """Raise the ValueError for a pooling size that fits no whole block in the maps ``name``."""
    _raise_pool(kernel + "", P, name + "", _text(shape), min(shape[2], shape[3]))


@jit
def _raise_pool(kernel, P, name, shape, most):
    raise ValueError(
        kernel + ": P must be a pooling size from 1 to min(rows, cols) of " + name + " "
        + shape + " = " + str(most) + "; got " + str(P)
    )  # fmt: skip


@jit_inline
def fail_filter(kernel, W_shape, a_shape):
    """Raise the ValueError for a filter larger than the maps it slides over."""
    _raise_filter(kernel + "", _text(W_shape), _text(a_shape))


@jit
def _raise_filter(kernel, W_shape, a_shape):
    raise ValueError(
        kernel + ": W's filters " + W_shape + " must fit in the maps of a " + a_shape
        + " (p_rows <= rows, p_cols <= cols)"
    )  # fmt: skip


@jit_inline
def _maps(kernel, W, a, z_next, z_name, a_name):
    """The maps of a convolutional layer against its filters: ``a`` (m, D, rows, cols) read by
    ``W`` (K, D, p_rows, p_cols) gives ``z_next`` (m, K, rows - p_rows + 1, cols - p_cols + 1)."""
    K, D, p_rows, p_cols = W.shape
    m, _, rows, cols = a.shape
    if _empty(a.shape) or rows < 1:
        fail_empty(kernel, a_name, a.shape)
    if a.shape[1] != D:
        fail_shape(kernel, a_name, a.shape, (m, D, rows, cols), "(m, D, rows, cols) from W")
    if p_rows < 1 or p_cols < 1 or p_rows > rows or p_cols > cols:
        fail_filter(kernel, W.shape, a.shape)
    wanted = (m, K, rows - p_rows + 1, cols - p_cols + 1)
    if z_next.shape != wanted:
        fail_shape(
            kernel, z_name, z_next.shape, wanted,
            "(m, K, rows - p_rows + 1, cols - p_cols + 1) from " + a_name + " and W",
        )  # fmt: skip


@jit_inline
def conv_weighted_input(W, b, a, z_next):
    """Shapes of :func:`indexnet.loops.conv_weighted_input`."""
    if b.shape != (W.shape[0],):
        fail_shape("conv_weighted_input", "b", b.shape, (W.shape[0],), "(K,) from W")
    _maps("conv_weighted_input", W, a, z_next, "z_next", "a")


@jit_inline
def _pooled(kernel, a, P, pooled, a_name, pooled_name):
    """``pooled`` (m, K, rows // P, cols // P) from ``a`` (m, K, rows, cols) and ``P``."""
    m, K, rows, cols = a.shape
    if _empty(a.shape) or rows < 1:
        fail_empty(kernel, a_name, a.shape)
    if P < 1 or P > rows or P > cols:
        fail_pool(kernel, P, a_name, a.shape)
    wanted = (m, K, rows // P, cols // P)
    if pooled.shape != wanted:
        fail_shape(
            kernel, pooled_name, pooled.shape, wanted,
            "(m, K, rows // P, cols // P) from " + a_name + " and P",
        )  # fmt: skip


@jit_inline
def mean_pool(a, P, pooled):
    """Shapes of :func:`indexnet.loops.mean_pool`."""
    _pooled("mean_pool", a, P, pooled, "a", "pooled")


@jit_inline
def max_pool(a, P, pooled, where):
    """Shapes of :func:`indexnet.loops.max_pool`."""
    _pooled("max_pool", a, P, pooled, "a", "pooled")
    if where.shape != pooled.shape:
        fail_shape("max_pool", "where", where.shape, pooled.shape, "pooled.shape")


@jit_inline
def _layer(kernel, z, a, kind, delta):
    """``z`` and ``a`` of the shape of ``delta``, and an activation code of a hidden layer."""
    if z.shape != delta.shape:
        fail_shape(kernel, "z", z.shape, delta.shape, "delta.shape")
    if a.shape != delta.shape:
        fail_shape(kernel, "a", a.shape, delta.shape, "delta.shape")
    if kind < 0 or kind > IDENTITY:
        fail_code(kernel, "kind", kind, IDENTITY)


@jit_inline
def mean_pool_delta(delta_pooled, P, z, a, kind, delta):
    """Shapes of :func:`indexnet.loops.mean_pool_delta`."""
    _layer("mean_pool_delta", z, a, kind, delta)
    _pooled("mean_pool_delta", delta, P, delta_pooled, "delta", "delta_pooled")


@jit_inline
def max_pool_delta(delta_pooled, P, where, z, a, kind, delta):
    """Shapes of :func:`indexnet.loops.max_pool_delta`."""
    _layer("max_pool_delta", z, a, kind, delta)
    _pooled("max_pool_delta", delta, P, delta_pooled, "delta", "delta_pooled")
    if where.shape != delta_pooled.shape:
        fail_shape("max_pool_delta", "where", where.shape, delta_pooled.shape, "delta_pooled.shape")


@jit_inline
def conv_delta(W, delta_next, z, a, kind, delta):
    """Shapes of :func:`indexnet.loops.conv_delta`."""
    _layer("conv_delta", z, a, kind, delta)
    _maps("conv_delta", W, delta, delta_next, "delta_next", "delta")


@jit_inline
def filter_gradient(a, delta_next, W, lam, dW):
    """Shapes of :func:`indexnet.loops.filter_gradient`."""
    _maps("filter_gradient", W, a, delta_next, "delta_next", "a")
    if dW.shape != W.shape:
        fail_shape("filter_gradient", "dW", dW.shape, W.shape, "W.shape")


@jit_inline
def conv_bias_gradient(delta_next, db):
    """Shapes of :func:`indexnet.loops.conv_bias_gradient`."""
    if _empty(delta_next.shape) or delta_next.shape[2] < 1:
        fail_empty("conv_bias_gradient", "delta_next", delta_next.shape)
    if db.shape != (delta_next.shape[1],):
        fail_shape(
            "conv_bias_gradient", "db", db.shape, (delta_next.shape[1],),
            "(K,) from delta_next",
        )  # fmt: skip


def guard(kernel, dispatcher):
    """Check the dimensions and dtypes of a kernel's arrays whenever Numba meets new types.

    Installs a hook on ``dispatcher`` (a Numba ``@njit`` function) that runs when a call's
    argument types match nothing compiled yet, before Numba compiles or loads them: calls of
    known types pay nothing. A mismatch raises a ValueError (dimensions) or TypeError (not an
    array, or not float32/float64, or two float dtypes) naming ``kernel`` and the argument.
    The hook is Numba's ``_compile_for_args``, which sees the argument values; where this Numba
    has none (:mod:`indexnet.fast.numba_private`), the public ``compile``, which sees their types.
    """
    if not hasattr(dispatcher, "compile"):  # NUMBA_DISABLE_JIT: a plain function
        return dispatcher
    parameters = list(inspect.signature(dispatcher.py_func).parameters)
    if numba_private.compile_for_args(dispatcher) is None:
        compile_types = dispatcher.compile

        def checked_types(signature):
            types = signature if isinstance(signature, tuple) else getattr(signature, "args", ())
            check_types(kernel, dict(zip(parameters, types, strict=False)))
            return compile_types(signature)

        dispatcher.compile = checked_types
        return dispatcher
    compile_for_args = dispatcher._compile_for_args

    def checked(*args, **kws):
        check_types(kernel, dict(zip(parameters, args, strict=False)))
        return compile_for_args(*args, **kws)

    dispatcher._compile_for_args = checked
    return dispatcher


def _array(value):
    """``(ndim, dtype, shape)`` of an array, or of a Numba array type (shape ``None``: a type
    has none), else ``None``."""
    if isinstance(value, np.ndarray):
        return value.ndim, value.dtype, value.shape
    if isinstance(value, numba_types.Array):
        return value.ndim, numba_private.as_dtype(value.dtype), None
    return None


def check_types(kernel, arguments):
    """Raise unless every array argument of ``kernel`` (by name) has its ndim and a float dtype.

    The float arrays of one call must share one dtype, float32 or float64: that is the
    precision the kernel computes in. ``arguments`` maps names to values, or to Numba types.
    """
    floats = {}
    for name, ndim in ARRAYS[kernel].items():
        if name not in arguments:
            continue
        found = _array(arguments[name])
        if found is None:
            value = arguments[name]
            what = value if isinstance(value, numba_types.Type) else type(value).__name__
            raise TypeError(f"{kernel}: {name} must be a {ndim}-D NumPy array; got {what}")
        dimensions, dtype, shape = found
        if dimensions != ndim:
            raise ValueError(
                f"{kernel}: {name} must be {ndim}-D; got a {dimensions}-D array"
                + ("" if shape is None else f" of shape {shape}")
            )
        if not dtype.isnative:
            raise TypeError(f"{kernel}: {name} must be in native byte order; got {dtype}")
        if name in INTEGER_ARRAYS:
            if dtype.kind not in "iu":
                raise TypeError(f"{kernel}: {name} must hold integers; got dtype {dtype}")
        elif dtype not in (np.float32, np.float64):
            raise TypeError(f"{kernel}: {name} must be float32 or float64; got dtype {dtype}")
        elif name not in RECORDS:
            floats[name] = dtype
    if len(set(floats.values())) > 1:
        found = ", ".join(f"{name} {dtype}" for name, dtype in floats.items())
        raise TypeError(f"{kernel}: the float arrays must share one dtype; got {found}")


# The NumPy twins call these checks from Python: there too a wrong dimension or dtype is named.
for _name in ARRAYS:
    if _name in globals():
        guard(_name, globals()[_name])
