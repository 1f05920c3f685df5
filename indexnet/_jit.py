"""The one place that sets the JIT options of every kernel.

``reassoc`` and ``contract`` let LLVM reorder the sums over ``j`` and ``k`` into SIMD lanes
and fuse multiply-adds; unlike ``fastmath=True`` they keep NaN and inf semantics, so a NaN in
training still shows up as a NaN cost. ``error_model="numpy"`` drops the Python
ZeroDivisionError check from divisions, which would otherwise block vectorisation.
"""

from numba import njit

FASTMATH = {"reassoc", "contract"}

jit = njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
"""Decorator for serial kernels."""

jit_parallel = njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
"""Decorator for ``prange`` kernels (each is its own function: Numba's cache key ignores
``parallel``, so one Python function must never be compiled both ways)."""

jit_inline = njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", inline="always")
"""Decorator for small helpers inlined into their callers at Numba's level, so that tuples they
return stay in registers."""
