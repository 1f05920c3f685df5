"""Run one function's source against another module's names."""

import types


def rebind(function, namespace, tag=""):
    """Return ``function`` with its global names looked up in ``namespace``.

    The composite steps (forward, backward, ...) are the same sequence of equations whatever
    computes each equation, so the ``loops-parallel`` and ``python`` backends run the source of
    :mod:`indexnet.loops` with their own kernels. (The NumPy composites of
    :mod:`indexnet.vectorized` are their own: in Python a view costs half a microsecond, and
    they make theirs once a call.)

    Parameters
    ----------
    function : function or numba dispatcher
        The function whose source (code object) is reused; a dispatcher's ``py_func`` is taken.
    namespace : dict
        The globals the new function resolves names in, usually another module's ``globals()``.
    tag : str
        Appended to the qualified name. Numba names a cache entry after the source file and the
        qualified name, so a rebound function compiled with ``cache=True`` needs a tag to keep
        its own entry apart from the original's.

    Returns
    -------
    function
        A plain Python function.
    """
    function = getattr(function, "py_func", function)
    rebound = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__
    )
    rebound.__doc__ = function.__doc__
    rebound.__module__ = namespace["__name__"]
    rebound.__qualname__ = function.__qualname__ + (f"[{tag}]" if tag else "")
    return rebound
