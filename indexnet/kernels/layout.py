r"""Where each layer's numbers live in the flat vectors.

Layers are numbered from 1 in the math and from 0 in code, shifted uniformly: ``W[0]`` is
:math:`W^{(1)}` and the input :math:`x = a^{(1)}` is ``a[0]``. Because every per-layer quantity
shifts by the same one, each equation keeps its exact form in code
(``z[l+1] = W[l] a[l] + b[l]``); only loop bounds differ. This is the one place that says so.

Parameters are one flat vector, laid out as UFLDL's sparse autoencoder code lays out ``theta``:
all weight matrices first (each row-major, shape ``(s_{l+1}, s_l)``), then all bias vectors::

    theta = [W^(1), W^(2), ..., W^(nl-1), b^(1), b^(2), ..., b^(nl-1)]

so the decayed part of the cost, :math:`\frac{\lambda}{2}\sum W^2`, is the prefix
``theta[:n_weights(sizes)]``. The gradient has the same layout.

Per-example quantities :math:`z^{(l)}, a^{(l)}, \delta^{(l)}` of layers 2..nl are stored in flat
work buffers of ``m * sum(sizes[1:])`` numbers; layer ``l`` is a C-ordered ``(m, s_l)`` block.
The three buffers are the rows of one work array, ``Z, A, D = work`` (:func:`work_buffers`).
Examples are rows (the NumPy convention); the UFLDL MATLAB code stores them as columns.

The counting helpers are Numba functions. The view helpers (:func:`weights_of`,
:func:`biases_of`, :func:`layer_of`) are Python functions that Numba also compiles, from the same
source, where a kernel calls them: a composite step makes its per-layer views as it goes, so in
compiled code a view must cost next to nothing (see :func:`block` and :func:`borrowed`).
"""

import inspect

import numpy as np
from numba import types
from numba.extending import intrinsic, overload

from indexnet.fast.compiler import jit
from indexnet.fast.numba_private import (
    cgutils,
    impl_ret_borrowed,
    impl_ret_untracked,
    make_array,
    populate_array,
)

__all__ = [
    "biases_of", "block", "borrowed", "buffer_size", "layer_of", "n_params", "n_weights",
    "weights_of", "work_buffers",
]  # fmt: skip


def block(vector, start, shape):
    """The C-ordered block of shape ``shape`` that starts at ``vector[start]``, as a view.

    In compiled code the view is made without Numba's general ``reshape`` and shares
    ``vector``'s reference to its memory (see :func:`_view`): none if ``vector`` is itself a
    borrowed view (:func:`borrowed`), so that views of borrowed arrays count no references.

    Parameters
    ----------
    vector : ndarray, shape (n,)
        A flat parameter vector or work buffer.
    start : int
        Index of the block's first number.
    shape : tuple of int
        ``(rows,)`` or ``(rows, columns)``.

    Returns
    -------
    ndarray
        A view of ``vector[start : start + prod(shape)]`` with shape ``shape``.
    """
    size = 1
    for n in shape:
        size *= n
    stop = start + size
    if start < 0 or stop > vector.shape[0]:
        raise ValueError("a block runs past the end of its flat vector")
    return vector[start:stop].reshape(shape)


@intrinsic
def _view(typingctx, vector, start, shape):
    """A C-ordered view of a contiguous 1-D array: pointer, shape, strides and its owner's
    reference, without the C helper through which Numba's ``reshape`` checks the general case
    (20 ns a view; a step of a [3, 3, 1] network makes 22 views)."""
    view_type = vector.copy(ndim=len(shape), layout="C")

    def codegen(context, builder, signature, args):
        flat = make_array(signature.args[0])(context, builder, args[0])
        dims = cgutils.unpack_tuple(builder, args[2])
        strides = [flat.itemsize]
        for n in reversed(dims[1:]):
            strides.insert(0, builder.mul(strides[0], n))
        view = make_array(view_type)(context, builder)
        populate_array(
            view,
            data=builder.gep(flat.data, [args[1]]),
            shape=dims,
            strides=strides,
            itemsize=flat.itemsize,
            meminfo=flat.meminfo,
            parent=flat.parent,
        )
        return impl_ret_borrowed(context, builder, view_type, view._getvalue())

    return view_type(vector, types.intp, types.UniTuple(types.intp, len(shape))), codegen


@overload(block)
def _compiled_block(vector, start, shape):
    if vector.ndim != 1 or vector.layout != "C":
        return block  # strided: the general reshape (which refuses what it cannot view)

    def contiguous_block(vector, start, shape):
        size = 1
        for n in shape:
            size *= n
        if start < 0 or start + size > vector.shape[0]:
            raise ValueError("a block runs past the end of its flat vector")
        return _view(vector, start, shape)

    return contiguous_block


def borrowed(arrays):
    """``arrays`` (a tuple) as they are; in compiled code, views of them that hold no reference.

    A compiled function counts a reference to each array argument when it starts and drops it
    when it returns, and each view made of it counts one more; every count is an atomic
    operation. At [3, 3, 1], m = 1, those counts made 70% of a training step (perf). So
    ``gradient_step`` and ``sgd_epochs`` pass borrowed views of their arrays down, and nothing
    below them counts. A borrowed view must not outlive the call that made it: it is passed
    down and dropped, never returned or stored.
    """
    return arrays


@intrinsic
def _unreferenced(typingctx, arrays):
    """Views of a tuple of arrays with their data, shapes and strides, and no reference count."""

    def codegen(context, builder, signature, args):
        views = []
        for i, array in enumerate(arrays):
            source = make_array(array)(context, builder, builder.extract_value(args[0], i))
            view = make_array(array)(context, builder)
            populate_array(
                view,
                data=source.data,
                shape=source.shape,
                strides=source.strides,
                itemsize=source.itemsize,
                meminfo=None,
                parent=None,
            )
            views.append(view._getvalue())
        views = context.make_tuple(builder, arrays, views)
        return impl_ret_untracked(context, builder, arrays, views)

    return arrays(arrays), codegen


@overload(borrowed)
def _compiled_borrowed(arrays):
    if isinstance(arrays, types.BaseTuple) and all(isinstance(a, types.Array) for a in arrays):
        return lambda arrays: _unreferenced(arrays)
    return None


def _compiled_from_source(function):
    """Let compiled code call the Python ``function``: Numba compiles its source there."""

    def implementation(*args):
        return function

    implementation.__signature__ = inspect.signature(function)
    overload(function)(implementation)
    return function


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


@_compiled_from_source
def weights_of(theta, sizes, l):
    r""":math:`W^{(l+1)}` (code index ``l``), the ``(s_{l+1}, s_l)`` view into ``theta``."""
    start = 0
    for q in range(l):
        start += sizes[q + 1] * sizes[q]
    return block(theta, start, (sizes[l + 1], sizes[l]))


@_compiled_from_source
def biases_of(theta, sizes, l):
    r""":math:`b^{(l+1)}` (code index ``l``), the ``(s_{l+1},)`` view into ``theta``."""
    start = n_weights(sizes)
    for q in range(l):
        start += sizes[q + 1]
    return block(theta, start, (sizes[l + 1],))


@_compiled_from_source
def layer_of(buffer, m, sizes, l):
    r"""Layer ``l`` (``l >= 1``) of a work buffer, an ``(m, s_l)`` view."""
    start = 0
    for q in range(1, l):
        start += m * sizes[q]
    return block(buffer, start, (m, sizes[l]))


@jit
def buffer_size(m, sizes):
    """Length of a work buffer holding layers 2..nl for ``m`` examples."""
    n = 0
    for l in range(1, len(sizes)):
        n += m * sizes[l]
    return n


def work_buffers(m, sizes, dtype=np.float64):
    """The work buffers ``Z, A, D`` for ``m`` examples, as the rows of one array of zeros.

    Parameters
    ----------
    m : int
        Number of examples.
    sizes : ndarray of int64
        Layer sizes.
    dtype : numpy dtype
        The network's precision.

    Returns
    -------
    ndarray, shape (3, buffer_size(m, sizes))
    """
    return np.zeros((3, buffer_size(m, sizes)), dtype=dtype)
