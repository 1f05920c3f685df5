"""Input checks shared by the public API: each raises a ValueError or TypeError that names the
argument, what was expected and what came, before any kernel can see the value."""

import math
import numbers
import operator
from collections.abc import Mapping, Set

import numpy as np


def describe(value):
    """A short description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    return f"{value!r} ({type(value).__name__})"


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices`` (strings), else raise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {describe(value)}"
        )
    return value


def check_int(name, value, minimum):
    """Return ``value`` as an int if it is an integer at least ``minimum``, else raise."""
    if type(value) is int and value >= minimum:  # the usual case, in a fifth of the time
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {describe(value)}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return value


def check_real(name, value, *, minimum=None, positive=False):
    """Return ``value`` as a float if it is a finite real number in range, else raise."""
    if type(value) is float and value - value == 0.0:  # finite; the usual case, in a third
        if (minimum is None or value >= minimum) and (not positive or value > 0):
            return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_dtype(dtype):
    """Return ``dtype`` as ``np.float32`` or ``np.float64``, else raise."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64; got {describe(dtype)}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64; got {resolved}")
    return resolved.type


MAX_PARAMS = np.iinfo(np.intp).max // 8
"""Most parameters a network may have: more would overflow the int64 index arithmetic of
:mod:`indexnet.layout` (and no float64 array that long can exist)."""


def check_sizes(sizes):
    """Return ``sizes`` as an int64 array of at least two positive layer sizes, else raise."""
    unordered = isinstance(sizes, (Set, Mapping))
    not_flat = isinstance(sizes, np.ndarray) and sizes.ndim != 1
    if isinstance(sizes, (str, bytes)) or unordered or not_flat or not hasattr(sizes, "__len__"):
        raise TypeError(
            "sizes must be a sequence (list, tuple or 1-D array) of layer sizes like "
            f"[64, 25, 64]; got {describe(sizes)}"
        )
    if len(sizes) < 2:
        raise ValueError(
            "sizes must list at least 2 layers (input and output), like [64, 25, 64]; "
            f"got {list(sizes)}"
        )
    checked = [check_int(f"sizes[{l}]", s, 1) for l, s in enumerate(sizes)]
    n_params = sum(checked[l + 1] * (checked[l] + 1) for l in range(len(checked) - 1))
    if n_params > MAX_PARAMS:
        raise ValueError(
            f"sizes {checked} give {n_params} parameters, more than the {MAX_PARAMS} "
            "an array can hold"
        )
    return np.array(checked, dtype=np.int64)


def check_examples(name, value, dtype, columns, what):
    """Return ``value`` as a C-contiguous, aligned, writeable, finite ``(m, columns)`` array.

    Parameters
    ----------
    name : str
        The argument's name, for messages.
    value : array_like
        What the caller passed.
    dtype : type
        The network's float type; real values of any other type are converted to it.
    columns : int
        Required number of columns.
    what : str
        What the columns are, for messages (``"sizes[0]"``, ...).
    """
    if np.ma.isMaskedArray(value) and np.ma.getmaskarray(value).any():
        mask = np.ma.getmaskarray(value)
        first = tuple(int(q) for q in np.unravel_index(np.flatnonzero(mask)[0], mask.shape))
        raise ValueError(
            f"{name} has {mask.sum()} masked entries (the first at index {first}), which would "
            f"be read as their hidden values; fill them ({name}.filled(...)) or drop those rows"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of real numbers; got {describe(value)}"
        ) from error
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float); got dtype {array.dtype}"
        )
    if array.ndim != 2:
        hint = f" (for one example use {name}.reshape(1, -1))" if array.ndim == 1 else ""
        raise ValueError(
            f"{name} must be 2-D with shape (m, {columns}), one example a row; "
            f"got a {array.ndim}-D array of shape {array.shape}{hint}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example (row); got shape {array.shape}")
    if array.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns ({what}); got shape {array.shape}")
    # Numba types a read-only or misaligned array apart and cannot mix it with the work
    # buffers, so such arrays are copied; so is anything not C-ordered or of another dtype.
    with np.errstate(over="ignore"):  # an overflow to inf is reported just below
        converted = np.require(array, dtype=dtype, requirements=["C", "A", "W"])
    finite = np.isfinite(converted)
    if not finite.all():
        k, i = np.argwhere(~finite)[0]
        after = "" if array.dtype == converted.dtype else f" after conversion to {converted.dtype}"
        raise ValueError(
            f"{name} must be finite; got {converted[k, i]} at row {k}, column {i}{after}"
        )
    return converted


def check_finite_result(what, values, **inputs):
    """Raise a ValueError if any of ``values`` is NaN or infinite, else return None.

    Finite inputs can still overflow inside a kernel (a weight above 1 times an input of
    ``1e308``, a squared error of ``(1e200)**2``); returning the inf or NaN that comes out would
    be a silent lie. For the public entry points to call on their results.

    Parameters
    ----------
    what : str
        What was computed, for the message (``"the cost or its gradient"``).
    values : sequence of float or ndarray
        The results.
    **inputs : float or ndarray
        The arguments that went in, by name; the message gives each one's largest magnitude.
    """
    if all(np.isfinite(value).all() for value in values):
        return
    scales = ", ".join(f"max |{name}| = {np.max(np.abs(v)):.3g}" for name, v in inputs.items())
    raise ValueError(
        f"{what} overflowed to inf or NaN although every input is finite ({scales}); "
        "scale the inputs down"
    )
