"""Numba's cache never breaks the package and never serves stale code.

The cache's mechanics (which folder, the key, the healing of damaged files) live in
:mod:`indexnet.fast.compiler`. Most cases prove them on a stand-in package: the real
``fast/compiler.py`` beside two small kernel modules that use its decorators the way the
package does (``loops.activation`` calls ``activations.sigmoid`` in another file), run in a
child interpreter with the cache folders it may use made unusable one by one. A stand-in
compiles in a second where the whole package takes a minute cold; the last cases check, in this
process, that every kernel of the real package is compiled through those same decorators, and,
in a child, that the real parallel kernels are cached. Root ignores permission bits, so a
folder is made unusable by putting a plain file where it (or a folder above it) should be; the
copies are also made read-only, which is what stops an ordinary user.
"""

import json
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest

import indexnet
from indexnet.fast import compiler

PACKAGE = Path(indexnet.__file__).parent

STAND_IN = {
    "__init__.py": "",
    "fast/__init__.py": "",
    "kernels/__init__.py": "",
    "kernels/activations.py": """
        import math

        from indexnet.fast.compiler import jit


        @jit
        def sigmoid(z):
            return 1.0 / (1.0 + math.exp(-z))
        """,
    "kernels/loops.py": """
        from indexnet.kernels import activations
        from indexnet.fast.compiler import jit


        @jit
        def activation(z, a):
            for k in range(z.shape[0]):
                for i in range(z.shape[1]):
                    a[k, i] = activations.sigmoid(z[k, i])
        """,
}
"""A package of two kernel modules compiled through the real ``indexnet/fast/compiler.py``."""
REAL = ("fast/compiler.py", "fast/numba_private.py")
"""The real modules in the stand-in: the compiler and what it imports."""

CHILD = """
import json, sys, tempfile
if len(sys.argv) > 1:
    tempfile.tempdir = sys.argv[1]  # as if no temporary directory were writable
import numpy as np
import indexnet
from indexnet.fast import compiler
from indexnet.kernels import loops
z = np.linspace(-1, 1, 15).reshape(5, 3)
a = np.empty_like(z)
loops.activation(z, a)
folder = None if compiler.CACHE_FOLDER is None else str(compiler.CACHE_FOLDER)
files = [module.__file__ for module in (indexnet, compiler, loops)]
print(json.dumps({"files": files, "cache": folder, "a": a.tolist()}))
"""


def expected_activation():
    return 1 / (1 + np.exp(-np.linspace(-1, 1, 15).reshape(5, 3)))


def copy_package(root):
    """The stand-in package (the real compiler, no caches) under ``root``; returns ``root``."""
    package = root / "indexnet"
    for name in (*REAL, *STAND_IN):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
    for name in REAL:
        shutil.copy2(PACKAGE / name, package / name)
    for name, source in STAND_IN.items():
        (package / name).write_text(textwrap.dedent(source).lstrip())
    return root


def copy_real_package(root):
    """A copy of the real package's sources (no caches) under ``root``; returns ``root``."""
    shutil.copytree(PACKAGE, root / "indexnet", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def read_only(root):
    """Make ``root``'s package unwritable: read-only modes, and a file as ``__pycache__``."""
    (root / "indexnet" / "__pycache__").write_text("not a folder")
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def writable_again(root):
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def run_child(package_root, *args, script=CHILD, **env):
    """Run ``script`` in a fresh interpreter that imports the package from ``package_root``."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NUMBA_") and key not in ("XDG_CACHE_HOME", "TMPDIR")
    }
    environment.update(PYTHONPATH=str(package_root), **{k: str(v) for k, v in env.items()})
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=package_root,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    return child


def outcome(child, package_root):
    """The child's JSON line, checked to come from the copy and to compute correctly."""
    found = json.loads(child.stdout.strip().splitlines()[-1])
    for file in found["files"]:  # not the installed package's (an editable install's finder)
        assert Path(file).is_relative_to(package_root / "indexnet"), file
    np.testing.assert_allclose(found["a"], expected_activation(), rtol=1e-14)
    return found


@pytest.fixture(scope="module")
def readonly_package(tmp_path_factory):
    """A read-only copy of the package and a home folder for its users."""
    root = copy_package(tmp_path_factory.mktemp("readonly"))
    read_only(root)
    home = tmp_path_factory.mktemp("home")
    yield root, home
    writable_again(root)


def index_files(folder):
    return sorted(Path(folder).rglob("*.nbi"))


def source_hash(package, monkeypatch):
    """The cache key :mod:`indexnet.fast.compiler` computes for the package folder ``package``."""
    monkeypatch.setattr(compiler, "_PACKAGE", package)
    return compiler._source_hash()


def test_read_only_package_caches_in_the_user_cache_folder(readonly_package, monkeypatch):
    root, home = readonly_package
    first = outcome(run_child(root, HOME=home), root)
    cache = Path(first["cache"])
    assert cache.parent == home / ".cache" / "indexnet"
    assert cache.name == f"numba-{source_hash(root / 'indexnet', monkeypatch)}"
    assert index_files(cache)
    # A second process loads the kernels from there instead of compiling them.
    second = run_child(root, HOME=home, NUMBA_DEBUG_CACHE=1)
    assert outcome(second, root)["cache"] == first["cache"]
    loaded = re.findall(r"data loaded from '([^']+)'", second.stdout)
    assert loaded and all(path.startswith(str(cache)) for path in loaded)


def test_without_a_user_cache_folder_a_private_temporary_one_is_used(readonly_package, tmp_path):
    root, _ = readonly_package
    (tmp_path / "blocker").write_text("")  # no home folder can be made under a file
    found = outcome(run_child(root, HOME=tmp_path / "blocker" / "home", TMPDIR=tmp_path), root)
    cache = Path(found["cache"])
    assert cache.parent.parent == tmp_path and cache.parent.name.startswith("indexnet-")
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert index_files(cache)


def test_with_no_writable_folder_at_all_kernels_compile_uncached(readonly_package, tmp_path):
    root, _ = readonly_package
    (tmp_path / "blocker").write_text("")
    blocked = tmp_path / "blocker" / "sub"
    found = outcome(run_child(root, blocked, HOME=blocked, TMPDIR=blocked), root)
    assert found["cache"] is None


def test_a_shared_temporary_folder_of_someone_else_is_not_trusted(tmp_path):
    # Cached machine code is loaded and run: a folder others can write to must not be used.
    shared = tmp_path / "indexnet-shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert not compiler._writable(shared, private=True)
    shared.chmod(0o700)
    assert compiler._writable(shared, private=True)


def test_a_cache_left_by_another_numba_version_is_ignored_and_replaced(readonly_package):
    root, home = readonly_package
    cache = Path(outcome(run_child(root, HOME=home), root)["cache"])
    indexes = index_files(cache)
    assert indexes
    for index in indexes:  # the format Numba writes: its version, pickled, then the index
        with index.open("rb") as file:
            assert pickle.load(file) == numba.__version__
            rest = file.read()
        index.write_bytes(pickle.dumps("0.1.0-another") + rest)
    outcome(run_child(root, HOME=home), root)
    for index in indexes:
        with index.open("rb") as file:
            assert pickle.load(file) == numba.__version__  # recompiled and rewritten


def test_kernels_recompile_when_a_function_they_call_changes(tmp_path):
    # Numba alone keys loops.activation's cache on loops.py only, and would keep serving the
    # old sigmoid after activations.py changed; indexnet keys it on every kernel source.
    root = copy_package(tmp_path / "package")
    cache = tmp_path / "cache"
    outcome(run_child(root, NUMBA_CACHE_DIR=cache), root)
    source = root / "indexnet" / "kernels" / "activations.py"
    source.write_text(source.read_text() + "\n\n@jit\ndef sigmoid(z):\n    return 0.25 + 0.0 * z\n")
    after = json.loads(run_child(root, NUMBA_CACHE_DIR=cache).stdout.splitlines()[-1])
    assert np.all(np.array(after["a"]) == 0.25)
    assert len(list((cache / "indexnet").glob("numba-*"))) == 2


COMPILING = re.compile(
    r"@jit|@intrinsic|@overload|njit|jit_typed|rebind\(|^from indexnet\.fast\.compiler import"
    r"|^from indexnet\.fast import .*\bcompiler\b|^from numba|^import numba",
    re.M,
)


def test_the_modules_left_out_of_the_cache_key_compile_nothing():
    # Every module of the package is a kernel source but the few named UNCOMPILED; a module
    # that compiled code (or imported Numba to) would run stale cached code if left out.
    for name in sorted(compiler.UNCOMPILED):  # a module, or a whole subpackage
        files = [PACKAGE / f"{name}.py"] if (PACKAGE / f"{name}.py").exists() else []
        files += sorted((PACKAGE / name).rglob("*.py")) if (PACKAGE / name).is_dir() else []
        assert files, f"UNCOMPILED names {name}, which is not in the package"
        for path in files:
            source = path.read_text()
            assert not COMPILING.search(source), f"{path} compiles code but is left out of the key"
    kernels = {path.relative_to(PACKAGE).as_posix() for path in compiler.kernel_sources()}
    assert {"kernels/loops.py", "fast/loops_parallel.py", "fast/compiler.py"} <= kernels
    assert not any(name.startswith(("api/", "cli/", "reading/")) for name in kernels)


def test_a_new_module_anywhere_in_the_package_changes_the_cache_key(tmp_path, monkeypatch):
    root = copy_package(tmp_path / "package")
    before = source_hash(root / "indexnet", monkeypatch)
    (root / "indexnet" / "conv").mkdir()
    (root / "indexnet" / "conv" / "pooling.py").write_text("# a kernel module to come\n")
    assert source_hash(root / "indexnet", monkeypatch) != before


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A package folder, a home and a temporary directory under ``tmp_path``, with no
    $NUMBA_CACHE_DIR; returns a function that blocks one of them (a file where it should be)."""
    for name in ("home", "tmp"):
        (tmp_path / name).mkdir()
    copy_package(tmp_path / "stand-in").joinpath("indexnet").rename(tmp_path / "package")
    monkeypatch.setattr(compiler, "_PACKAGE", tmp_path / "package")
    monkeypatch.setattr(compiler.config, "CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(compiler.tempfile, "tempdir", str(tmp_path / "tmp"))

    def block(name):
        target = {"package": tmp_path / "package" / "__pycache__"}.get(name, tmp_path / name)
        if target.is_dir():
            shutil.rmtree(target)
        target.write_text("not a folder")
        if name == "tmp":
            monkeypatch.setattr(compiler.tempfile, "tempdir", str(target / "sub"))

    return block


def test_the_cache_goes_to_the_first_writable_folder(places, tmp_path, monkeypatch):
    name = f"numba-{compiler._source_hash()}"
    assert compiler._cache_folder() == tmp_path / "package" / "__pycache__" / name
    places("package")
    assert compiler._cache_folder() == tmp_path / "home" / ".cache" / "indexnet" / name
    places("home")
    folder = compiler._cache_folder()
    assert folder.parent.parent == tmp_path / "tmp" and folder.name == name
    places("tmp")
    assert compiler._cache_folder() is None
    monkeypatch.setattr(compiler.config, "CACHE_DIR", str(tmp_path / "mine"))  # $NUMBA_CACHE_DIR
    assert compiler._cache_folder() == tmp_path / "mine" / "indexnet" / name


def test_caches_of_other_sources_go_once_unused_for_a_day(tmp_path):
    keep, recent, old = (tmp_path / f"numba-{name}" for name in ("keep", "recent", "old"))
    for folder in (keep, recent, old):
        (folder / "sub").mkdir(parents=True)
    day_ago = os.stat(old).st_mtime - compiler._STALE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    os.utime(keep, (day_ago, day_ago))
    compiler._prune(tmp_path, keep)
    assert keep.exists() and recent.exists() and not old.exists()


def test_a_touched_kernel_source_names_a_new_cache_folder(tmp_path, monkeypatch):
    # Numba re-validates a cached function against its own file's time only; a kernel that
    # calls into another file would then outlive the function it was linked to.
    root = copy_package(tmp_path / "package")
    monkeypatch.setattr(compiler, "_PACKAGE", root / "indexnet")
    before = compiler._source_hash()
    assert compiler._source_hash() == before
    path = root / "indexnet" / "kernels" / "activations.py"
    times = path.stat()
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns + 10**9))
    assert compiler._source_hash() != before


PARALLEL = """
import warnings
import numba
import numpy as np
from indexnet.fast import loops_parallel
warnings.simplefilter("error", numba.NumbaWarning)  # such as "Cannot cache compiled function"
theta, grad = np.linspace(0, 1, 100_000), np.linspace(1, 2, 100_000)
loops_parallel.update(theta, grad, 0.5)  # enough numbers to split across threads
print(theta.sum())
"""


def test_the_parallel_kernels_are_cached_too(tmp_path):
    # Their thread count comes from an intrinsic: numba.get_num_threads, called in a kernel,
    # would make Numba refuse to cache it and every kernel that calls it. The real package,
    # one small parallel kernel called directly (it alone compiles).
    root = copy_real_package(tmp_path / "package")
    cache = tmp_path / "cache"
    first = run_child(root, script=PARALLEL, NUMBA_CACHE_DIR=cache)
    second = run_child(root, script=PARALLEL, NUMBA_CACHE_DIR=cache, NUMBA_DEBUG_CACHE=1)
    assert float(second.stdout.splitlines()[-1]) == float(first.stdout)
    loaded = re.findall(r"data loaded from '([^']+)'", second.stdout)
    assert any("loops_parallel.update" in path for path in loaded)


USER = """
import numpy as np
from numba import njit
from indexnet.fast import loops_parallel


@njit(cache=True)
def step(theta, grad):
    loops_parallel.update(theta, grad, 0.5)
    return theta.sum()
"""


def test_a_cached_function_calling_a_cached_parallel_kernel_runs_from_the_cache(tmp_path):
    # Numba issues 8578 and 9938: a cached function that calls a parallel kernel loaded from
    # the cache is saved without the call that starts Numba's threads, and from the cache it
    # crashes on its first call unless something else started them. Three processes: the
    # kernel cached, then a user's function compiled against it, then that function loaded.
    # The package's own composites of loops-parallel are such functions too.
    root = copy_real_package(tmp_path / "package")
    (root / "user.py").write_text(USER)
    cache = tmp_path / "cache"
    run_child(root, script=PARALLEL, NUMBA_CACHE_DIR=cache)
    call = """
import numpy as np, user
print(user.step(np.linspace(0, 1, 100_000), np.linspace(1, 2, 100_000)))
"""
    threads = {"NUMBA_CACHE_DIR": cache, "NUMBA_NUM_THREADS": 2}
    compiled = run_child(root, script=call, **threads)
    loaded = run_child(root, script=call, NUMBA_DEBUG_CACHE=1, **threads)
    assert re.search(r"data loaded from '[^']+user[.]step", loaded.stdout)
    expected = (np.linspace(0, 1, 100_000) - 0.5 * np.linspace(1, 2, 100_000)).sum()
    for child in (compiled, loaded):
        assert float(child.stdout.splitlines()[-1]) == pytest.approx(expected, rel=1e-12)


# -- a damaged cache costs a recompile, never a failure ------------------------------------

DAMAGED = """
import json, sys, warnings
if len(sys.argv) > 1 and sys.argv[1] == "full-disk":  # every cache write fails as on a full disk
    import errno
    from numba.core import caching

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    caching.IndexDataCacheFile._save_data = full
    caching.IndexDataCacheFile._save_index = full
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import indexnet
    from indexnet.fast import compiler
    from indexnet.kernels import loops
    z = np.linspace(-1, 1, 15).reshape(5, 3)
    a = np.empty_like(z)
    loops.activation(z, a)
files = [module.__file__ for module in (indexnet, compiler, loops)]
print(json.dumps({"files": files, "cache": str(compiler.CACHE_FOLDER), "a": a.tolist(),
                  "warnings": [str(w.message) for w in caught]}))
"""


def damaged_outcome(root, home, *args):
    return outcome(run_child(root, *args, script=DAMAGED, HOME=home), root)


@pytest.fixture(scope="module")
def cached_package(tmp_path_factory):
    """A copy of the package whose kernels are cached in its own home folder."""
    root = copy_package(tmp_path_factory.mktemp("damaged"))
    home = tmp_path_factory.mktemp("home")
    found = damaged_outcome(root, home)
    assert found["warnings"] == []
    return root, home, Path(found["cache"])


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    "pattern, damage",
    [
        ("*.nbc", _truncate),
        ("*.nbi", lambda path: path.write_bytes(b"\x80\x04garbage" + os.urandom(64))),
        ("*.nbi", lambda path: path.write_bytes(b"")),
    ],
    ids=["truncated-nbc", "garbage-nbi", "empty-nbi"],
)
def test_a_damaged_cache_file_costs_a_recompile_and_one_warning(cached_package, pattern, damage):
    root, home, cache = cached_package
    files = sorted(cache.rglob(pattern))
    assert files
    for path in files:
        damage(path)
    found = damaged_outcome(root, home)
    assert len(found["warnings"]) == 1, found["warnings"]
    assert str(cache) in found["warnings"][0] and "compile" in found["warnings"][0]
    # The damaged files were replaced: the next process loads them without a word.
    assert damaged_outcome(root, home)["warnings"] == []


def test_a_full_disk_during_the_cache_write_costs_one_warning(cached_package):
    root, home, cache = cached_package
    shutil.rmtree(cache)
    found = damaged_outcome(root, home, "full-disk")
    assert len(found["warnings"]) == 1, found["warnings"]
    assert str(cache) in found["warnings"][0] and "No space left" in found["warnings"][0]
    assert damaged_outcome(root, home)["warnings"] == []  # and a later process caches again
    assert index_files(cache)


def kernel_dispatchers():
    """Every compiled function of the real package's kernel sources, by ``module.name``."""
    import importlib

    found = {}
    for path in compiler.kernel_sources():
        name = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        module = importlib.import_module(f"indexnet.{name}".removesuffix(".__init__"))
        for attribute, value in vars(module).items():
            if isinstance(value, numba.core.dispatcher.Dispatcher):
                found.setdefault(id(value), (f"{name}.{attribute}", value))
    return dict(found.values())


def test_every_kernel_of_the_package_caches_through_indexnets_folder_and_healing():
    # What the stand-in proves holds for the package because every kernel is made by the compiler's
    # decorators: cached in CACHE_FOLDER, its cache's reads and writes healed.
    from indexnet.fast import loops_parallel
    from indexnet.kernels import loops

    dispatchers = kernel_dispatchers()
    assert len(dispatchers) > 100
    # loops-parallel's composites (serial functions calling its prange kernels) are cached too:
    # importing loops_parallel starts Numba's threads, which Numba issue 8578 leaves unstarted.
    composites = [loops_parallel._namespace[name] for name in loops.COMPOSITES]
    composites.append(loops_parallel._weight_gradient_by_units)
    listed = {id(dispatcher) for dispatcher in dispatchers.values()}
    for composite in composites:  # the private ones are in its namespace, not the module's
        if id(composite) not in listed:
            dispatchers[f"loops_parallel.{composite.__name__}"] = composite
    for name, dispatcher in dispatchers.items():
        cache = dispatcher._cache
        assert Path(cache._cache_path).is_relative_to(compiler.CACHE_FOLDER), name
        assert cache.load_overload.__qualname__.startswith("_healing."), name
        assert cache.save_overload.__qualname__.startswith("_healing."), name


COMPILED_HERE = """
import importlib, json, sys
import numba
import numpy as np
import indexnet
from indexnet.fast import compiler, entry, loops_parallel

net = indexnet.Network([3, 4, 2], seed=0)
X, Y = np.linspace(-1, 1, 15).reshape(5, 3), np.full((5, 2), 0.5)
backend, calls = sys.argv[1], sys.argv[2]
if calls == "training":
    net.cost_and_gradient(X, Y, lam=0.1, backend=backend)
    indexnet.gradient_descent(net, X, Y, iterations=2, backend=backend)
    indexnet.sgd(net, X, Y, epochs=1, batch_size=2, backend=backend)
net.predict(X, backend=backend)
dispatchers = {}
for path in compiler.kernel_sources():
    name = path.relative_to(compiler._PACKAGE).with_suffix("").as_posix().replace("/", ".")
    module = importlib.import_module(f"indexnet.{name}".removesuffix(".__init__"))
    for attribute, value in vars(module).items():
        if isinstance(value, numba.core.dispatcher.Dispatcher):
            dispatchers.setdefault(id(value), (f"{name}.{attribute}", value))
dispatchers = dict(dispatchers.values())
for name in loops_parallel.loops.COMPOSITES:
    dispatchers[f"loops_parallel.{name}"] = loops_parallel._namespace[name]
dispatchers["loops_parallel.by_units"] = loops_parallel._weight_gradient_by_units
for (dtype, name), function in entry._entries.items():  # the typed entries, made on first use
    dispatchers[f"entry.{name}[{dtype}]"] = function
found, missing = [], []
for name, dispatcher in dispatchers.items():
    for signature in dispatcher.overloads:
        cached = dispatcher._cache.load_overload(signature, dispatcher.targetctx)
        (found if cached is not None else missing).append(f"{name}{signature}")
print(json.dumps({"found": found, "missing": missing}))
"""


@pytest.mark.parametrize(
    "backend, calls, compiled",
    [
        ("loops", "training", {"kernels.loops.sgd_epochs", "entry.cost_and_gradient[float64]"}),
        (
            "loops-parallel",
            "training",
            {"loops_parallel.sgd_epochs", "loops_parallel.gd_iterations"},
        ),
        ("loops", "predict", {"entry.predict[float64]"}),
        ("loops-parallel", "predict", {"loops_parallel.forward"}),
    ],
    ids=["loops-training", "loops-parallel-training", "loops-predict", "loops-parallel-predict"],
)
def test_every_kernel_a_network_compiles_is_in_the_cache(backend, calls, compiled):
    # Numba refuses to cache some functions (a ctypes pointer, lifted loops), with a warning,
    # and compiles them in every process. Each kernel that a fresh process compiled or loaded
    # for a network's calls on one compiled backend must be found in the cache: its training
    # calls (cost_and_gradient, gradient_descent, sgd, predict), or predict alone. One backend
    # a child. Cold, the training calls of loops-parallel take 3 minutes on the newest Numba
    # and 12 on the oldest; .ci/run checks those two Numbas on predict alone (-k "not
    # training"): the typed entries, the forward pass, a composite calling parallel kernels and
    # the products they link, a third of the time.
    child = subprocess.run(
        [sys.executable, "-c", COMPILED_HERE, backend, calls],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["missing"] == []
    names = {entry.split("(")[0] for entry in result["found"]}
    assert compiled <= names, names
