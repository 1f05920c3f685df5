"""The loop kernels run as plain, uncompiled Python: the ``python`` backend.

Every Numba kernel of :mod:`indexnet.activations`, :mod:`indexnet.layout` and
:mod:`indexnet.loops` is re-created here from its ``.py_func`` with its global names resolved in
this module, so a composite such as :func:`cost_and_gradient` calls the Python versions of the
kernels below it, never a compiled one. Same source, no compiler: what Numba buys is the
difference between this backend and ``loops``.
"""

from indexnet import activations, layout, loops
from indexnet._rebind import rebind


def _defined_in(value, module):
    function = getattr(value, "py_func", value)
    return callable(function) and getattr(function, "__module__", None) == module.__name__


for _module in (activations, layout, loops):
    for _name, _value in vars(_module).items():
        if _defined_in(_value, _module):
            globals()[_name] = rebind(_value, globals())
        elif not _name.startswith("__") and _name not in globals():
            # Constants and imports (math, the activation codes); a kernel imported from an
            # earlier module keeps its rebound version.
            globals()[_name] = _value

__all__ = loops.__all__
