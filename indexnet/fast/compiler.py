"""The one place that sets the JIT options of every kernel, and where Numba caches them.

``reassoc`` and ``contract`` let LLVM reorder the sums over ``j`` and ``k`` into SIMD lanes
and fuse multiply-adds; unlike ``fastmath=True`` they keep NaN and inf semantics, so a NaN in
training still shows up as a NaN cost. ``error_model="numpy"`` drops the Python
ZeroDivisionError check from divisions, which would otherwise block vectorisation.

Caching. Numba keys a cached function on its own source file only ("cache invalidation fails to
recognize changes in symbols defined in a different file"): a kernel of ``loops.py`` that calls
``activations.sigmoid`` would keep running the old sigmoid after ``activations.py`` changed. So
every kernel is cached in a folder named after a hash of all the kernel sources
(:func:`kernel_sources`: every module of the package but the few that hold no compiled code, so
a new module is in by construction) and their modification times; change or touch any of them
and every kernel compiles afresh. The folder is :data:`CACHE_FOLDER`, inside the first
writable one of ``$NUMBA_CACHE_DIR/indexnet``, the package's ``__pycache__``, the user's cache
folder (``$XDG_CACHE_HOME`` or ``~/.cache``) and a private folder in the temporary directory;
with none writable, kernels compile in every process.

A cache file that cannot be read (truncated, garbage, empty, foreign) or written (a full disk)
costs a recompile, never a failure: the damaged index is removed, and the first such error of
a process is reported once, as a :class:`CacheWarning` naming the folder.
"""

import hashlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numba
from numba import njit
from numba.core import config

from indexnet.fast import numba_private

FASTMATH = {"reassoc", "contract"}

UNCOMPILED = frozenset(
    {
        "__init__",
        "__main__",
        "api",
        "checks/extras",
        "checks/inputs",
        "cli",
        "data",
        "reading",
        "sklearn",
    }
)
"""Modules and subpackages (paths in the package, without ``.py``) that hold no compiled code,
so that editing them keeps the kernel cache. Every other module of the package is a kernel source
(:func:`kernel_sources`); a test checks that none of these compiles anything."""


def target_features() -> frozenset:
    """The instruction-set features the kernels are compiled for: ``{"avx2", "avx512f", ...}``.

    The host CPU's as LLVM reports them, unless ``$NUMBA_CPU_FEATURES`` says otherwise, for
    Numba compiles for those. ``$NUMBA_CPU_NAME`` alone does not change them: with
    ``NUMBA_CPU_NAME=haswell`` on an AVX-512 machine Numba still emits AVX-512 code, so an AVX2
    proxy needs the features too (bench/NOTES.md).
    """
    features = numba_private.host_cpu_features()
    return frozenset(f[1:] for f in features.split(",") if f.startswith("+"))


def vector_registers() -> int:
    """How many vector registers the target has: 32 with AVX-512, else 16 (x86-64, AArch64 32)."""
    features = target_features()
    if "avx512f" in features or "neon" in features or "sve" in features:
        return 32
    return 16


VECTOR_REGISTERS = vector_registers()
"""Vector registers of the compile target; :mod:`indexnet.fast.blocking` sizes its blocks by it."""


def vector_bits() -> int:
    """Bits of the vector registers that the packed product fills: 512 with AVX-512, 256 with
    AVX2 and FMA, else 0 (no packed path: :mod:`indexnet.fast.micro` is written for x86-64)."""
    features = target_features()
    if "avx512f" in features:
        return 512
    if "avx2" in features and "fma" in features:
        return 256
    return 0


VECTOR_BITS = vector_bits()
"""Vector width of the compile target's packed product, in bits (:mod:`indexnet.fast.micro`)."""

_PACKAGE = Path(__file__).resolve().parent.parent
_STALE_SECONDS = 86_400
"""Cache folders of other kernel sources unused this long are removed."""


def kernel_sources() -> list:
    """The source files whose code can reach compiled kernels: every ``.py`` file under the
    package but :data:`UNCOMPILED`, found by listing the folder, so that a module added
    anywhere in the package is in the cache key without being named here."""
    return sorted(path for path in _PACKAGE.rglob("*.py") if not _uncompiled(path))


def _uncompiled(path: Path) -> bool:
    """Whether ``path`` is in :data:`UNCOMPILED`, itself or by its subpackage."""
    name = path.relative_to(_PACKAGE).with_suffix("").as_posix()
    return any(name == entry or name.startswith(entry + "/") for entry in UNCOMPILED)


def _source_hash() -> str:
    """A hash of the kernel sources, their modification times, the target's registers and the
    versions of Numba and Python.

    The times count too because Numba re-validates each cached function against the time of
    its own file only, and a kernel rebound from another file may then call a stale one
    (Numba issues 8578 and 10128; bench/NOTES.md). With the times in the folder name, a
    touched file starts a new folder and everything compiles afresh.
    """
    digest = hashlib.sha256()
    # The blocking chosen from the target goes into compiled code as a constant: a cache
    # written for another target (another host, or another $NUMBA_CPU_FEATURES) is not this one.
    digest.update(f"registers={VECTOR_REGISTERS} bits={VECTOR_BITS}".encode())
    # Numba replaces a cache another Numba wrote; two installs sharing a folder would take turns.
    digest.update(f"numba={numba.__version__} python={sys.version_info[:2]}".encode())
    for path in kernel_sources():
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
        digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:16]


def _writable(folder: Path, private: bool = False) -> bool:
    """Whether ``folder`` exists (made if need be) and takes a new file.

    A ``private`` folder (one in a shared temporary directory) must also belong to this user and
    be writable by nobody else: Numba loads cached machine code from it.
    """
    try:
        folder.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
        if private and hasattr(os, "getuid"):
            status = folder.stat()
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                return False
        tempfile.TemporaryFile(dir=folder).close()
    except (OSError, RuntimeError):
        return False
    return True


def _cache_roots():
    """Candidate folders for the kernel cache, best first, each with its ``private`` flag."""
    if config.CACHE_DIR:
        yield Path(config.CACHE_DIR) / "indexnet", False
    yield _PACKAGE / "__pycache__", False
    try:
        user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home directory to be found
        pass
    else:
        yield user / "indexnet", False
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    yield Path(tempfile.gettempdir()) / f"indexnet-{uid}", True


def _prune(root: Path, keep: Path) -> None:
    """Remove the cache folders of other kernel sources that no process has used for a day."""
    os.utime(keep)  # marks this folder as in use
    for other in root.glob("numba-*"):
        try:
            stale = time.time() - other.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        if other != keep and stale:
            shutil.rmtree(other, ignore_errors=True)


def _cache_folder():
    """The folder this process caches kernels in, or None when no folder is writable."""
    name = f"numba-{_source_hash()}"
    for root, private in _cache_roots():
        folder = root / name
        if _writable(root, private) and _writable(folder):
            try:
                _prune(root, folder)
            except OSError:
                pass
            return folder
    return None


CACHE_FOLDER = None if config.DISABLE_JIT else _cache_folder()
"""Where the kernels of these sources are cached; None when nothing is writable (no cache)."""


class CacheWarning(RuntimeWarning):
    """A kernel cache file could not be read or written; the kernel was compiled instead."""


_reported = []


def _report(action, error):
    """Warn, once a process, that the cache could not be used; say what it costs."""
    if not _reported:
        _reported.append(error)
        warnings.warn(
            f"indexnet: could not {action} the kernel cache in {CACHE_FOLDER} "
            f"({type(error).__name__}: {error}); the kernels compile instead",
            CacheWarning,
            stacklevel=4,
        )


def _healing(dispatcher):
    """``dispatcher`` with a cache whose unreadable or unwritable files cost a recompile, or
    ``None`` where this Numba's cache cannot be reached (:mod:`indexnet.fast.numba_private`).

    Numba's own cache raises whatever unpickling or writing raised, from inside the first call
    of a kernel, and again in every later process. Here a failed load removes the function's
    index (the data files it named are then overwritten) and compiles; a failed save keeps the
    compiled kernel.
    """
    files = numba_private.cache_files(dispatcher)
    if files is None:
        return None
    cache, index = files
    load, save = cache.load_overload, cache.save_overload

    def load_overload(sig, target_context):
        try:
            return load(sig, target_context)
        except Exception as error:  # a truncated, garbage or foreign file
            _report("read", error)
            try:
                os.remove(index)
            except OSError:
                pass
            return None

    def save_overload(sig, data):
        try:
            save(sig, data)
        except Exception as error:  # a full disk, a file in the way, a damaged index
            _report("write", error)

    cache.load_overload, cache.save_overload = load_overload, save_overload
    return dispatcher


def _compiler(**options):
    """A decorator that compiles with ``options``, cached in :data:`CACHE_FOLDER` if there is one.

    Numba picks a function's cache folder when the function is decorated, from
    ``numba.config.CACHE_DIR`` (``$NUMBA_CACHE_DIR``); it is pointed at :data:`CACHE_FOLDER`
    for that moment only, so other packages' caches stay where they were.
    """

    def decorate(function):
        if CACHE_FOLDER is None:
            return njit(**options)(function)
        saved = config.CACHE_DIR
        config.CACHE_DIR = str(CACHE_FOLDER)
        try:
            healed = _healing(njit(cache=True, **options)(function))
        finally:
            config.CACHE_DIR = saved
        # A cache that cannot be healed could fail a call on a damaged file: compile instead.
        return njit(**options)(function) if healed is None else healed

    return decorate


jit = _compiler(nogil=True, fastmath=FASTMATH, error_model="numpy")
"""Decorator for serial kernels."""


def jit_typed(function, signature):
    """``function`` compiled with :data:`jit`'s options and cache, for ``signature`` alone.

    A call whose arguments have other types (another dtype, an array not C-contiguous, aligned
    and writeable) raises TypeError instead of compiling for them, so a caller can try the
    fast path with whatever it was given and fall back to its checks, never waiting on a
    compile it did not ask for. Under ``NUMBA_DISABLE_JIT`` it is ``function`` itself.
    """
    dispatcher = jit(function)
    if not config.DISABLE_JIT:
        dispatcher.compile(signature)
        dispatcher.disable_compile()
    return dispatcher


jit_parallel = _compiler(nogil=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
"""Decorator for ``prange`` kernels (each is its own function: Numba's cache key ignores
``parallel``, so one Python function must never be compiled both ways)."""

jit_inline = _compiler(nogil=True, fastmath=FASTMATH, error_model="numpy", inline="always")
"""Decorator for small helpers inlined into their callers at Numba's level, so that tuples they
return stay in registers."""
