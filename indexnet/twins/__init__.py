"""The other readings of the kernels: :mod:`~indexnet.twins.vectorized`, the same equations in
NumPy's matrix form, and :mod:`~indexnet.twins.python`, the loop source run uncompiled."""
