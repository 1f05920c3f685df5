"""Every use of Numba's internals, in one place: what each is for, and what happens without it.

Numba's public API (``njit``, ``prange``, ``numba.extending``) covers the kernels. Four speed
and safety paths reach further; each is a hook named in :data:`HOOKS`, imported or touched here
and nowhere else, and tested by name against the installed Numba (``tests/test_numba_private.py``,
which CI runs on the oldest and the newest Numba the package claims). Where Numba changes
underneath a hook that can fall back, the fallback is slower, never wrong:

``compile_for_args``
    ``Dispatcher._compile_for_args``, which Numba calls when a call's argument types match
    nothing compiled yet. :func:`indexnet.checks.shapes.guard` wraps it to refuse wrong dimensions
    and dtypes, naming the argument and its shape, before anything compiles. Without it the
    guard wraps the public ``Dispatcher.compile`` instead, which sees types, not shapes: the
    same refusals, naming the argument and its type (``numba.np.numpy_support.as_dtype``).
``cache_files``
    The dispatcher's cache object and its index file (``_cache``, ``_cache_file._index_path``,
    ``load_overload``, ``save_overload``). :func:`indexnet.fast.compiler._healing` turns a
    damaged cache file into a recompile. Without them kernels are compiled uncached, in every
    process.
``thread_count``
    ``numba.np.ufunc.parallel._iget_num_threads``, the thread count as an intrinsic that Numba
    can cache (the public ``numba.get_num_threads`` calls through a ctypes pointer, which makes
    Numba refuse to cache a kernel that calls it). Without it the public one is used and the
    parallel kernels compile in every process.
``cpu_features``
    ``numba.core.codegen.get_host_cpu_features``, the features Numba compiles for, from which
    :mod:`indexnet.fast.compiler` sizes the blocks and tiles. Without it llvmlite's own reading
    is used.
``array_internals``
    ``numba.np.arrayobj.make_array`` and ``populate_array``, ``numba.core.imputils``'s
    ``impl_ret_borrowed`` and ``impl_ret_untracked``, and ``numba.core.cgutils``: the views of
    :mod:`indexnet.layout` (:func:`~indexnet.layout.block`, :func:`~indexnet.layout.borrowed`)
    and the vector-IR micro-kernel of :mod:`indexnet.fast.micro`. No fallback: the package does not
    import without them, and the test names the missing one.
"""

from numba.core import cgutils, codegen, config
from numba.core.imputils import impl_ret_borrowed, impl_ret_untracked
from numba.np.arrayobj import make_array, populate_array
from numba.np.numpy_support import as_dtype

try:
    from numba.np.ufunc.parallel import _iget_num_threads as thread_count

    THREAD_COUNT_CACHED = True
except ImportError:  # pragma: no cover - a Numba without it: the public one, uncached
    from numba import get_num_threads as thread_count

    THREAD_COUNT_CACHED = False
if config.DISABLE_JIT:  # the intrinsic cannot run as Python; the public function can
    from numba import get_num_threads as thread_count

HOOKS = ("compile_for_args", "cache_files", "thread_count", "cpu_features", "array_internals")
"""The hooks into Numba's internals, each described in this module's docstring."""

__all__ = [
    "HOOKS",
    "THREAD_COUNT_CACHED",
    "as_dtype",
    "cache_files",
    "cgutils",
    "codegen",
    "compile_for_args",
    "host_cpu_features",
    "impl_ret_borrowed",
    "impl_ret_untracked",
    "make_array",
    "populate_array",
    "thread_count",
]


def compile_for_args(dispatcher) -> str | None:
    """The name of the method ``dispatcher`` calls to compile for new argument values:
    ``"_compile_for_args"`` where this Numba has it, else ``None`` (wrap ``compile``)."""
    if callable(getattr(dispatcher, "_compile_for_args", None)):
        return "_compile_for_args"
    return None


def cache_files(dispatcher):
    """``(cache, index_path)`` of a caching ``dispatcher``, or ``None`` where this Numba keeps
    them elsewhere (then :mod:`indexnet.fast.compiler` compiles uncached)."""
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    if index is None or not all(
        callable(getattr(cache, name, None)) for name in ("load_overload", "save_overload")
    ):
        return None
    return cache, index


def host_cpu_features() -> str:
    """LLVM's feature string of the host CPU (``"+avx2,+fma,-avx512f,..."``), or the one
    ``$NUMBA_CPU_FEATURES`` names, for that is what Numba compiles for."""
    if config.CPU_FEATURES is not None:
        return config.CPU_FEATURES
    if callable(getattr(codegen, "get_host_cpu_features", None)):
        return codegen.get_host_cpu_features()
    import llvmlite.binding

    return llvmlite.binding.get_host_cpu_features().flatten()
