"""What an engineer opens: how the equations run near C speed.

Below the kernels: :mod:`~indexnet.fast.compiler` (the JIT options and Numba's cache),
:mod:`~indexnet.fast.numba_private` (every use of Numba's internals), the blocked and packed
products (:mod:`~indexnet.fast.blocking`) around the vector micro-kernel
(:mod:`~indexnet.fast.micro`), and the fast exponential (:mod:`~indexnet.fast.exp`).

Above them, built from the kernels' own source: the ``loops-parallel`` backend
(:mod:`~indexnet.fast.loops_parallel`, with :mod:`~indexnet.fast.rebind`) and the public
call's compiled entry (:mod:`~indexnet.fast.entry`).
"""
