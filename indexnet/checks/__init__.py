"""Checks that name the argument: :mod:`~indexnet.checks.shapes` (compiled, the kernels'
shapes), :mod:`~indexnet.checks.inputs` (values and types, in Python) and
:mod:`~indexnet.checks.extras` (optional dependencies)."""
