"""Each hook into Numba's internals (indexnet.fast.numba_private), checked by name against the
installed Numba; where a hook can fall back, the fallback computes the same numbers.

CI runs this module, with the cache and shape tests, against the oldest and the newest Numba
the package claims (.ci/run). Every function compiled here is a few lines: it runs in seconds.
"""

import inspect
import warnings

import numba
import numpy as np
import pytest

from indexnet.checks import shapes
from indexnet.fast import compiler, micro, numba_private
from indexnet.kernels.layout import block, borrowed

NUMBA = f"numba {numba.__version__}"


def hook(name, condition, what):
    """Assert ``condition``, naming the hook and this Numba if it fails."""
    assert name in numba_private.HOOKS
    assert condition, f"Numba's internals changed under indexnet's hook {name!r}: {what} ({NUMBA})"


def average(delta_next, db):
    """A stand-in kernel with the parameters of ``bias_gradient``: db_i = mean_k delta_ki."""
    m, s = delta_next.shape
    for i in range(s):
        db[i] = 0.0
        for k in range(m):
            db[i] += delta_next[k, i]
        db[i] /= m


def guarded():
    return shapes.guard("bias_gradient", compiler.jit(average))


def test_every_hook_is_described_where_it_is_used():
    for name in numba_private.HOOKS:
        assert f"``{name}``" in numba_private.__doc__, name


# -- compile_for_args: the guard ---------------------------------------------------------------


def test_hook_compile_for_args_refuses_before_anything_compiles():
    kernel = guarded()
    hook(
        "compile_for_args",
        numba_private.compile_for_args(kernel) == "_compile_for_args",
        "Dispatcher._compile_for_args is gone",
    )
    with pytest.raises(TypeError, match="bias_gradient: db must be float32 or float64"):
        kernel(np.ones((3, 2)), np.zeros(2, dtype=np.int64))
    with pytest.raises(
        ValueError, match=r"delta_next must be 2-D; got a 1-D array of shape \(3,\)"
    ):
        kernel(np.ones(3), np.zeros(2))
    hook("compile_for_args", not kernel.overloads, "the refused calls were compiled")
    db = np.empty(2)
    kernel(np.arange(6.0).reshape(3, 2), db)
    np.testing.assert_array_equal(db, [2.0, 3.0])


def test_without_compile_for_args_the_guard_checks_types_in_compile(monkeypatch):
    monkeypatch.setattr(numba_private, "compile_for_args", lambda dispatcher: None)
    kernel = guarded()
    with pytest.raises(TypeError, match="bias_gradient: db must be float32 or float64; got dtype"):
        kernel(np.ones((3, 2)), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"delta_next must be 2-D; got a 1-D array$"):
        kernel(np.ones(3), np.zeros(2))
    with pytest.raises(TypeError, match="the float arrays must share one dtype"):
        kernel(np.ones((3, 2), dtype=np.float32), np.zeros(2))
    assert not kernel.overloads
    for dtype in (np.float64, np.float32):
        db = np.empty(2, dtype=dtype)
        kernel(np.arange(6.0, dtype=dtype).reshape(3, 2), db)
        np.testing.assert_array_equal(db, [2.0, 3.0])


# -- cache_files: the healing of a damaged cache ---------------------------------------------


def test_hook_cache_files_reaches_the_cache_index():
    if compiler.CACHE_FOLDER is None:
        pytest.skip("no writable cache folder: nothing is cached")
    files = numba_private.cache_files(compiler.jit(average))
    hook("cache_files", files is not None, "no _cache._cache_file._index_path on a dispatcher")
    cache, index = files
    hook("cache_files", str(index).startswith(str(compiler.CACHE_FOLDER)), f"index at {index}")
    for name in ("load_overload", "save_overload"):
        hook("cache_files", getattr(cache, name).__qualname__.startswith("_healing."), name)


def test_without_cache_files_kernels_compile_uncached(monkeypatch):
    monkeypatch.setattr(numba_private, "cache_files", lambda dispatcher: None)
    kernel = compiler._compiler(nogil=True)(average)
    assert type(kernel._cache).__name__ == "NullCache"
    db = np.empty(2)
    kernel(np.arange(6.0).reshape(3, 2), db)
    np.testing.assert_array_equal(db, [2.0, 3.0])


# -- thread_count: the parallel kernels' thread count, cacheable -----------------------------


def test_hook_thread_count_is_numbas_and_cacheable(two_threads):
    hook(
        "thread_count",
        numba_private.THREAD_COUNT_CACHED,
        "numba.np.ufunc.parallel._iget_num_threads is gone",
    )

    @numba.njit(cache=False)
    def threads():
        return numba_private.thread_count()

    for n in (1, 2):
        numba.set_num_threads(n)
        hook("thread_count", threads() == n, f"compiled code counts {threads()} threads, not {n}")


# -- cpu_features: what the kernels are compiled for -----------------------------------------


def test_hook_cpu_features_reads_the_compile_target(monkeypatch):
    features = numba_private.host_cpu_features()
    hook("cpu_features", "+" in features, f"no feature string: {features!r}")
    import llvmlite.binding

    monkeypatch.delattr(numba_private.codegen, "get_host_cpu_features")
    if numba.config.CPU_FEATURES is None:
        assert (
            numba_private.host_cpu_features() == llvmlite.binding.get_host_cpu_features().flatten()
        )


# -- array_internals: the views of layout, the micro-kernel -----------------------------------


def test_hook_array_internals_keep_their_signatures():
    parameters = set(inspect.signature(numba_private.populate_array).parameters)
    hook(
        "array_internals",
        {"data", "shape", "strides", "itemsize", "meminfo", "parent"} <= parameters,
        f"populate_array takes {sorted(parameters)}",
    )
    for name in ("make_array", "impl_ret_borrowed", "impl_ret_untracked"):
        hook("array_internals", callable(getattr(numba_private, name)), name)


def test_hook_array_internals_make_views_that_share_memory():
    @numba.njit
    def views(vector):
        (flat,) = borrowed((vector,))
        M = block(flat, 2, (2, 3))
        M[1, 2] = -1.0  # vector[2 + 5]
        return block(vector, 2, (2, 3)).sum(), M.sum()

    vector = np.arange(10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total, borrowed_total = views(vector)
    hook("array_internals", vector[7] == -1.0, "a block is not a view of its vector")
    assert total == borrowed_total == 2 + 3 + 4 + 5 + 6 - 1


@pytest.mark.skipif(compiler.VECTOR_BITS == 0, reason="no packed product on this target")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hook_array_internals_run_the_micro_kernel(dtype):
    MR, NV = micro.tile_shape(np.dtype(dtype).itemsize)
    NR = NV * (compiler.VECTOR_BITS // (8 * np.dtype(dtype).itemsize))
    kc = 5
    rng = np.random.default_rng(0)
    A = rng.random(kc * MR).astype(dtype)  # kc steps of MR numbers
    B = rng.random(kc * NR).astype(dtype)
    C = np.full(MR * NR, np.nan, dtype=dtype)

    @numba.njit
    def tile(A, B, C):
        micro.tile(kc, A, 0, B, 0, C, 0, NR, False)

    tile(A, B, C)
    expected = A.reshape(kc, MR).T @ B.reshape(kc, NR)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(C.reshape(MR, NR), expected, rtol=rtol)
