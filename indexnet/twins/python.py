"""The loop kernels run as plain, uncompiled Python: the ``python`` backend.

Every function of :mod:`indexnet.activations`, :mod:`indexnet.layout`,
:mod:`indexnet.fast.blocking`, :mod:`indexnet.fast.large` and :mod:`indexnet.loops` (a Numba
kernel's ``.py_func``, or a plain function such as the view helpers) is re-created here with
its global names resolved in this module, so a composite such as
:func:`cost_and_gradient` calls the Python versions of the kernels below it, never a compiled
one. Same source, no compiler: what Numba buys is the
difference between this backend and ``loops``.
"""

import types

from indexnet.checks import shapes
from indexnet.fast import blocking, large
from indexnet.fast.rebind import rebind
from indexnet.kernels import activations, layout, loops


def _defined_in(value, module):
    function = getattr(value, "py_func", value)
    return isinstance(function, types.FunctionType) and function.__module__ == module.__name__


# The kernels' float32 constants keep float32 arithmetic in float32 under Numba, where a float
# literal is float64. Run as Python on NumPy scalars the rule is the other way round (a Python
# float is "weak", NEP 50, while a float32 scalar would pull float64 down to float32), so here
# they are Python floats.
ZERO, ONE = 0.0, 1.0

for _module in (activations, layout, blocking, loops):
    for _name, _value in vars(_module).items():
        if _defined_in(_value, _module):
            globals()[_name] = rebind(_value, globals())
        elif not _name.startswith("__") and _name not in globals():
            # Constants and imports (math, the activation codes); a kernel imported from an
            # earlier module keeps its rebound version.
            globals()[_name] = _value

# The packed product's micro-kernel is LLVM code with no Python twin: as Python, every product
# takes the blocked loops.
PACKED = False

# The equations' other paths (indexnet.fast.large), as Python, in a namespace of their own (their
# names are the kernels'), reading this module's products.
_paths = dict(globals())
for _name, _value in vars(large).items():
    if _defined_in(_value, large):
        _paths[_name] = rebind(_value, _paths)
    elif not _name.startswith("__") and _name not in _paths:
        _paths[_name] = _value  # its own constants (FLAT_MIN)
large = types.SimpleNamespace(**{name: _paths[name] for name in vars(large) if name in _paths})

# The kernels' shape checks, as Python too, in a namespace of their own (their names are the
# kernels'), reading this module's layout functions.
_checks = {**vars(shapes), **{name: globals()[name] for name in ("buffer_size", "n_params")}}
for _name, _value in vars(shapes).items():
    if _defined_in(_value, shapes):
        _checks[_name] = rebind(_value, _checks)
shapes = types.SimpleNamespace(**_checks)

__all__ = loops.__all__
