r"""The timing harness behind ``indexnet bench``: it returns rows and prints nothing.

One row is the median time of one call (a whole training step, or one equation's kernel) for
one backend, one network shape, one batch size. Before a backend is timed its result is checked
against the vectorized backend's on the same inputs; a disagreement raises
:class:`BenchDisagreement` instead of producing a row. Each callable is called once before
timing, so JIT compilation (or loading it from Numba's cache) is measured apart
(:func:`first_call_seconds`). With one thread the backends of a row take turns, one sample
each, so that a machine whose speed drifts (a shared VM) slows them alike.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

from indexnet.api import references
from indexnet.api.network import BACKENDS, Network
from indexnet.kernels import layout, loops

STEP = "step"
"""One full training step (``gradient_step``)."""
SGD = "sgd_epochs"
"""One SGD step with batch 1, timed over a whole epoch run inside the backend."""
PUBLIC = "public"
"""What a user's call costs: ``net.cost_and_gradient(X, Y, lam=LAM)`` from Python, checks and
all (the composite's arrays are the network's own)."""
DESCENT = "gradient_descent"
"""One iteration of ``indexnet.gradient_descent``, timed over :data:`DESCENT_ITERATIONS`."""
DESCENT_ITERATIONS = 10
TITLES = {
    STEP: "one training step, the compiled composite on prebuilt arrays (gradient_step)",
    PUBLIC: "what the user's call costs: net.cost_and_gradient(X, Y, lam) from Python",
    DESCENT: f"indexnet.gradient_descent, time per iteration ({DESCENT_ITERATIONS} a call)",
    SGD: "SGD, batch 1, the loop over an epoch inside the backend: time per step",
}
"""The heading of each table of ``indexnet bench`` (and of bench/record.py's)."""
KERNELS = (
    STEP, PUBLIC, DESCENT,
    *(name for name in loops.__all__ if name not in ("gradient_step", "gd_iterations")),
)  # fmt: skip
"""What ``--kernel`` accepts."""

DEFAULT_SUITE = (
    ((3, 3, 1), 1),
    ((3, 3, 1), 64),
    ((64, 30, 10), 100),
    ((64, 25, 64), 10_000),
    ((784, 256, 10), 256),
    ((1024, 1024, 1024), 1024),
)
"""(shape, batch) pairs of the default suite."""

PARALLEL_KERNELS = (
    "weighted_input", "activation", "cost", "output_delta", "hidden_delta", "weight_gradient",
    "bias_gradient", "update",
)  # fmt: skip
"""The kernels ``loops-parallel`` splits across threads: with threads, ``indexnet bench`` times
each alone against the serial one, so that a kernel that stops splitting shows in the numbers."""

NUMBA_POOL = ("loops", "loops-parallel", "python")
"""The backends whose threads (if any) are Numba's: they can take turns with several threads."""

PYTHON_MAX_WORK = 20_000
"""The ``python`` backend runs only where ``m * n_weights`` is at most this (seconds, not
minutes)."""

LAM, ALPHA = 1e-4, 1e-3
"""Weight decay and learning rate of the timed steps: small, so repeated steps stay put."""


class BenchDisagreement(RuntimeError):
    """A backend computed something different from the vectorized backend."""


@dataclass
class Row:
    """One timing: the fields of ``indexnet bench --json``'s ``"results"``."""

    kernel: str
    shape: list
    batch: int
    backend: str
    dtype: str
    threads: int
    median_s: float
    iqr_s: float
    repeats: int
    calls_per_repeat: int
    first_call_s: float
    ratio_to_vectorized: float | None = None
    ratio_to_best_reference: float | None = None
    best_reference: str = ""
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def work(self) -> int:
        """Multiply-adds of one training step, about ``3 m n_weights``."""
        return 3 * self.batch * int(layout.n_weights(np.array(self.shape, dtype=np.int64)))


def torch_available() -> bool:
    """True if PyTorch can be imported."""
    return references.available("torch")


def backends_available(threads: int) -> list[str]:
    """Backends to time by default: all of indexnet's, then the references that can run here
    (:mod:`indexnet.api.references`: NumPy written for speed, and JAX and torch where they are
    installed).

    ``loops-parallel`` needs at least two threads to mean anything, so it is left out with one.
    """
    names = [name for name in BACKENDS if threads > 1 or name != "loops-parallel"]
    return names + [name for name in references.REFERENCES if references.available(name)]


@contextlib.contextmanager
def cpus_kept():
    """On leaving, let the process run on the CPUs it could run on before: :func:`set_threads`
    narrows them for JAX (:func:`indexnet.api.references.pin_jax_threads`)."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        yield
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


def set_threads(threads: int) -> dict:
    """Pin Numba's, BLAS's (threadpoolctl) and torch's threads; return what took effect."""
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    threadpool_limits(threads)
    if references.available("jax"):
        references.pin_jax_threads(threads)
    effect = {
        "numba": numba.get_num_threads(),
        "blas": [info["num_threads"] for info in threadpool_info()],
    }
    if torch_available():
        import torch

        torch.set_num_threads(threads)
        effect["torch"] = torch.get_num_threads()
    return effect


def _cpuinfo() -> dict:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _cpu_name(fields: dict) -> str:
    return fields.get("model name") or platform.processor() or platform.machine()


def _cpu_model(fields: dict) -> str:
    """``family/model`` (x86), or empty."""
    return f"{fields['cpu family']}/{fields['model']}" if "cpu family" in fields else ""


def compiled_for() -> dict:
    """The CPU the kernels are compiled for, and its vector instructions.

    Numba compiles for the host unless ``NUMBA_CPU_NAME`` and ``NUMBA_CPU_FEATURES`` name
    another target (:func:`avx2_proxy`): then the record says it is a proxy.
    """
    import llvmlite.binding as llvm
    from numba.core import config

    from indexnet.fast.compiler import target_features

    features = target_features()
    isa = "AVX-512" if "avx512f" in features else "AVX2" if "avx2" in features else "SSE/other"
    return {
        "numba_cpu": config.CPU_NAME or llvm.get_host_cpu_name(),
        "isa": isa,
        "vector_bits": {"AVX-512": 512, "AVX2": 256}.get(isa, 128),
        "proxy": bool(config.CPU_NAME or config.CPU_FEATURES),
    }


_NOT_ON_HASWELL = ("avx512", "amx", "avx10", "avxifma", "avxneconvert", "avxvnni", "vaes",
                   "vpclmulqdq", "gfni")  # fmt: skip


def avx2_proxy() -> dict:
    """The environment that makes this machine compile and run AVX2 code: a proxy for an AVX2
    CPU (its instructions and 16 vector registers, this machine's caches and clocks).

    ``NUMBA_CPU_NAME=haswell`` alone is not enough: Numba still takes the host's features, so
    on an AVX-512 machine it would emit AVX-512 code. The features are the host's with the
    AVX-512 family and its successors turned off. ``OPENBLAS_CORETYPE=Haswell`` gives NumPy's
    OpenBLAS its Haswell kernels. The references are held to AVX2 too, as far as they let
    themselves be: XLA's own code (``--xla_cpu_max_isa``), torch's ATen kernels
    (``ATEN_CPU_CAPABILITY``), oneDNN and MKL.
    """
    from numba.core import codegen

    features = []
    for feature in codegen.get_host_cpu_features().split(","):
        if feature[1:].startswith(_NOT_ON_HASWELL):
            feature = "-" + feature[1:]
        features.append(feature)
    xla = " ".join(filter(None, [os.environ.get("XLA_FLAGS"), "--xla_cpu_max_isa=AVX2"]))
    return {
        "NUMBA_CPU_NAME": "haswell",
        "NUMBA_CPU_FEATURES": ",".join(features),
        "OPENBLAS_CORETYPE": "Haswell",
        "XLA_FLAGS": xla,
        "ATEN_CPU_CAPABILITY": "avx2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    }


def machine() -> dict:
    """What the timings were measured on: CPU, cores, versions, BLAS, threads, ISA."""
    import numba
    import scipy
    from threadpoolctl import threadpool_info

    cpu = _cpuinfo()
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpool_info()
    ]
    info = {
        "cpu": _cpu_name(cpu),
        "cpu_model": _cpu_model(cpu),
        **compiled_for(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": _threading_layer(),
        "blas": blas,
    }
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        capability = getattr(torch.backends.cpu, "get_cpu_capability", None)  # torch 2.1+
        info["torch_isa"] = capability() if capability else ""
    if references.available("jax"):
        import jax

        info["jax"] = jax.__version__
        info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
        if hasattr(os, "sched_getaffinity"):
            info["cpus_allowed"] = len(os.sched_getaffinity(0))
    return info


def _threading_layer() -> str:
    import numba

    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return f"not started (configured: {numba.config.THREADING_LAYER})"


def calibrate(call: Callable[[], object], min_time: float) -> tuple[int, float]:
    """How many calls make one sample last ``min_time``, and the seconds per call of that sample.

    The caller has already called ``call`` at least once (warm-up).
    """
    calls = 1
    while True:
        seconds = sample(call, calls)
        if seconds * calls >= min_time or calls >= 1 << 24:
            return calls, seconds
        calls = max(2 * calls, int(calls * min_time / max(seconds * calls, 1e-9)))


def sample(call: Callable[[], object], calls: int) -> float:
    """Seconds per call of ``calls`` calls in a row."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def _iqr(samples: list) -> float:
    if len(samples) < 2:
        return 0.0
    q = statistics.quantiles(samples, n=4, method="inclusive")
    return q[2] - q[0]


@dataclass
class Case:
    """One (shape, batch, dtype): a network, its data, and the backends' callables."""

    sizes: tuple
    batch: int
    dtype: type
    seed: int = 0

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self.net = Network(self.sizes, dtype=self.dtype, seed=self.seed)
        self.X = rng.uniform(0, 1, (self.batch, self.sizes[0])).astype(self.dtype)
        self.Y = rng.uniform(0, 1, (self.batch, self.sizes[-1])).astype(self.dtype)


def _workspace(case: Case):
    return layout.work_buffers(case.batch, case.net._sizes, case.dtype)


def step_call(case: Case, backend: str) -> tuple[Callable[[], float], Callable[[], tuple]]:
    """A training step for ``backend``, and a function returning (J, gradient, theta) after it.

    Each backend gets its own copy of the parameters, so its steps move only its copy.
    """
    if backend in references.STEPS:
        return references.STEPS[backend](case.net, case.X, case.Y, LAM, ALPHA)
    kernels = BACKENDS[backend]
    net = case.net
    theta = net.theta.copy()
    grad = np.empty_like(theta)
    work = _workspace(case)
    hidden, output, loss = net._codes
    last = [0.0]

    def step():
        last[0] = kernels.gradient_step(
            theta,
            net._sizes,
            case.X,
            case.Y,
            LAM,
            0.0,
            0.05,
            ALPHA,
            hidden,
            output,
            loss,
            work,
            grad,
        )
        return last[0]

    return step, lambda: (last[0], grad, theta)


def sgd_call(case: Case, backend: str, epochs: int = 1, batch: int = 1):
    """``epochs`` epochs of SGD with mini-batches of ``batch`` over the case's examples."""
    kernels = BACKENDS[backend]
    net = case.net
    theta = net.theta.copy()
    grad = np.empty_like(theta)
    rng = np.random.default_rng(0)
    orders = np.array([rng.permutation(case.batch) for _ in range(epochs)], dtype=np.int64)
    work = layout.work_buffers(batch, net._sizes, case.dtype)
    Xb = np.empty((batch, case.sizes[0]), dtype=case.dtype)
    Yb = np.empty((batch, case.sizes[-1]), dtype=case.dtype)
    costs = np.zeros(epochs)
    hidden, output, loss = net._codes

    def run():
        return kernels.sgd_epochs(
            theta, net._sizes, case.X, case.Y, LAM, 0.0, 0.05, ALPHA, hidden, output, loss,
            orders, batch, Xb, Yb, work, grad, costs,
        )  # fmt: skip

    return run, lambda: (costs[-1], grad, theta)


def public_call(case: Case, backend: str):
    """``Network.cost_and_gradient`` through ``backend``, on a copy of the case's network."""
    net = case.net.copy()
    last = [0.0, None]

    def call():
        last[0], last[1] = net.cost_and_gradient(case.X, case.Y, lam=LAM, backend=backend)
        return last[0]

    return call, lambda: (last[0], last[1], net.theta)


def descent_call(case: Case, backend: str):
    """:data:`DESCENT_ITERATIONS` iterations of ``indexnet.gradient_descent`` on a copy of the
    case's network: every call goes on from where the last one stopped."""
    from indexnet.api.train import gradient_descent  # train imports network, as this module does

    net = case.net.copy()
    last = [0.0]

    def call():
        result = gradient_descent(
            net, case.X, case.Y, alpha=ALPHA, iterations=DESCENT_ITERATIONS, lam=LAM,
            backend=backend,
        )  # fmt: skip
        last[0] = result.final_cost
        return last[0]

    return call, lambda: (last[0], net.theta)


def kernel_call(case: Case, kernel: str, backend: str):
    """One equation's kernel on the case's data (the first layer it applies to).

    Returns the call and a function giving the arrays it wrote.
    """
    kernels = BACKENDS[backend]
    net = case.net
    trace = net.trace(case.X, case.Y, lam=LAM, backend="vectorized")
    l = 1 if len(case.sizes) > 2 else 0  # hidden_delta needs a hidden layer: W^(2), delta^(2)
    hidden, output, loss = net._codes
    top = len(case.sizes) - 1
    theta = net.theta.copy()
    work = _workspace(case)
    n_w = net.n_weights
    rho_hat = trace.a[l].mean(axis=0) if l > 0 else np.full(case.sizes[0], 0.5, case.dtype)
    outputs = {
        "weighted_input": lambda: (net.W[0], net.b[0], case.X, np.empty_like(trace.z[1])),
        "activation": lambda: (trace.z[1], hidden, np.empty_like(trace.a[1])),
        "cost": lambda: (trace.z[top], trace.a[top], case.Y, theta[:n_w], LAM, loss, output),
        "output_delta": lambda: (
            trace.z[top], trace.a[top], case.Y, loss, output, np.empty_like(trace.a[top])
        ),
        "average_activation": lambda: (trace.a[max(l, 1)], np.empty_like(rho_hat)),
        "sparsity_penalty": lambda: (rho_hat, 0.05, 3.0),
        "hidden_delta": lambda: (
            net.W[l], trace.delta[l + 1], trace.z[l], trace.a[l], hidden, 0.0, 0.05, rho_hat,
            np.empty_like(trace.a[l]),
        ),
        "weight_gradient": lambda: (
            case.X, trace.delta[1], net.W[0], LAM, np.empty_like(net.W[0])
        ),
        "bias_gradient": lambda: (trace.delta[1], np.empty_like(net.b[0])),
        "update": lambda: (theta, trace.grad.copy(), 0.0),
        "forward": lambda: (theta, net._sizes, case.X, hidden, output, work),
        "backward": lambda: (
            theta, net._sizes, case.X, case.Y, LAM, 0.0, 0.05, hidden, output, loss, work,
            np.empty_like(theta),
        ),
        "cost_and_gradient": lambda: (
            theta, net._sizes, case.X, case.Y, LAM, 0.0, 0.05, hidden, output, loss, work,
            np.empty_like(theta),
        ),
    }  # fmt: skip
    if kernel == "backward":  # backward reads what forward wrote
        BACKENDS["vectorized"].forward(theta, net._sizes, case.X, hidden, output, work)
    args = outputs[kernel]()
    function = getattr(kernels, kernel)
    result = [None]

    def call():
        result[0] = function(*args)
        return result[0]

    return call, lambda: (result[0], *(a for a in args if isinstance(a, np.ndarray)))


def _tolerance(dtype) -> float:
    return 1e-9 if dtype == np.float64 else 1e-3


def _disagreement(mine, reference) -> float:
    """Largest norm-wise relative difference between two tuples of results."""
    worst = 0.0
    for a, b in zip(mine, reference, strict=True):
        if a is None or b is None:
            continue
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        scale = max(np.linalg.norm(b), np.finfo(np.float64).tiny)
        worst = max(worst, float(np.linalg.norm(a - b) / scale))
    return worst


def first_call_seconds(call: Callable[[], object]) -> float:
    """Time of the first call: JIT compilation, or loading it from Numba's cache."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _make(case: Case, kernel: str, backend: str):
    if kernel == STEP:
        return step_call(case, backend)
    if kernel == SGD:
        return sgd_call(case, backend)
    if kernel == PUBLIC:
        return public_call(case, backend)
    if kernel == DESCENT:
        return descent_call(case, backend)
    return kernel_call(case, kernel, backend)


def applies(case: Case, kernel: str, backend: str) -> str:
    """Empty if ``backend`` can time ``kernel`` on ``case``, else why not."""
    if backend == "python" and case.batch * case.net.n_weights > PYTHON_MAX_WORK:
        return f"python skipped: m*n_weights > {PYTHON_MAX_WORK} would take minutes"
    if backend in references.REFERENCES and kernel != STEP:
        return f"{backend} times only the whole step"
    return ""


def _prepared(case: Case, kernel: str, backend: str, reference, min_time: float, progress):
    """``backend``'s call, warmed up, checked against ``reference`` and calibrated.

    Returns
    -------
    tuple
        The call, its first call's seconds, calls per sample, and a list holding the
        calibrating sample's seconds.
    """
    if progress is not None:
        progress(f"{kernel} {list(case.sizes)} m={case.batch} {backend}")
    call, state = _make(case, kernel, backend)
    first = first_call_seconds(call)
    difference = _disagreement(state(), reference)
    tolerance = _tolerance(case.dtype)
    if not difference <= tolerance:
        raise BenchDisagreement(
            f"{backend} disagrees with vectorized on {kernel} {list(case.sizes)} "
            f"m={case.batch}: relative difference {difference:.3g} > {tolerance:g}"
        )
    calls, seconds = calibrate(call, min_time)
    return call, first, calls, [seconds]


def run(
    suite: Iterable[tuple[tuple, int]],
    backends: list[str],
    *,
    kernel: str = STEP,
    dtype=np.float64,
    threads: int = 1,
    repeat: int = 7,
    min_time: float = 0.05,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Row], list[str]]:
    """Time ``kernel`` for every (shape, batch) of ``suite`` and every backend.

    Parameters
    ----------
    suite : iterable of (shape, batch)
        Network shapes (layer sizes) and batch sizes ``m``.
    backends : list of str
        Names from :data:`indexnet.BACKENDS`, and the references of
        :data:`indexnet.api.references.REFERENCES` (the step only).
    kernel : str
        ``"step"`` (one training step), ``"sgd_epochs"`` (SGD with batch 1, the loop over an
        epoch inside the backend, reported per step) or another name from :data:`KERNELS`.
    dtype : type
        ``np.float64`` or ``np.float32``.
    threads : int
        Recorded in each row; pin the threads with :func:`set_threads` first.
    repeat, min_time : int, float
        Samples per row, and the least duration of one sample in seconds.
    progress : callable, optional
        Called with a short label before each row is measured.

    Returns
    -------
    rows : list of Row
    notes : list of str
        What was skipped, and why.

    Raises
    ------
    BenchDisagreement
        If a backend's result differs from the vectorized backend's.
    """
    rows, notes = [], []
    for sizes, batch in suite:
        case = Case(tuple(sizes), batch, dtype)
        reference_call, reference_state = _make(case, kernel, "vectorized")
        reference_call()
        reference = reference_state()
        runnable = []
        for backend in backends:
            why = applies(case, kernel, backend)
            if why:
                notes.append(f"{list(sizes)} m={batch}: {why}")
            else:
                runnable.append(backend)
        # The backends take turns, one sample each: on a shared machine whose speed drifts
        # over minutes, every backend meets the same drift, and their ratios hold. With several
        # threads only the backends that share Numba's thread pool do, first; then each other
        # one is measured whole, its samples in a row, because an idle pool keeps spinning for
        # a while after its work (taking turns, torch at [784, 256, 10] read 13 ms instead of 4).
        in_turns = [b for b in runnable if threads == 1 or b in NUMBA_POOL]
        timed = {}  # backend: (call, first call's seconds, calls per sample, samples)
        for backend in in_turns:
            timed[backend] = _prepared(case, kernel, backend, reference, min_time, progress)
        for _ in range(repeat - 1):
            for call, _, calls, samples in timed.values():
                samples.append(sample(call, calls))
        for backend in runnable:
            if backend not in in_turns:
                timed[backend] = _prepared(case, kernel, backend, reference, min_time, progress)
                call, _, calls, samples = timed[backend]
                samples += [sample(call, calls) for _ in range(repeat - 1)]
        measured = []
        for backend in runnable:
            _, first, calls, samples = timed[backend]
            note = ""
            if kernel == SGD:
                # one call is one epoch of m steps
                samples = [s / batch for s in samples]
                note = "per SGD step, batch 1, loop inside the backend"
            elif kernel == DESCENT:
                samples = [s / DESCENT_ITERATIONS for s in samples]
                note = f"per iteration, {DESCENT_ITERATIONS} a call of indexnet.gradient_descent"
            measured.append(
                Row(
                    kernel=kernel,
                    shape=list(sizes),
                    batch=batch,
                    backend=backend,
                    dtype=np.dtype(dtype).name,
                    threads=threads,
                    median_s=statistics.median(samples),
                    iqr_s=_iqr(samples),
                    repeats=repeat,
                    calls_per_repeat=calls,
                    first_call_s=first,
                    note=note,
                )
            )
        vectorized = next((r.median_s for r in measured if r.backend == "vectorized"), None)
        timed_references = [r for r in measured if r.backend in references.REFERENCES]
        best = min(timed_references, key=lambda r: r.median_s) if timed_references else None
        for row in measured:
            if vectorized:
                row.ratio_to_vectorized = vectorized / row.median_s
            if best is not None:
                row.ratio_to_best_reference = best.median_s / row.median_s
                row.best_reference = best.backend
        rows.extend(measured)
    return rows, notes


def plot(rows: list[Row], path: str) -> None:
    """Draw median time against work (multiply-adds of one step), log-log, one line a backend.

    Where two lines cross, the faster backend changes. Needs matplotlib (``indexnet[plot]``).
    """
    from indexnet.checks.extras import require

    require("matplotlib", "bench --plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 5))
    for backend in dict.fromkeys(row.backend for row in rows):
        mine = sorted((r.work, r.median_s, r) for r in rows if r.backend == backend)
        work = [w for w, _, _ in mine]
        seconds = [s for _, s, _ in mine]
        axes.loglog(work, seconds, "o-", label=backend)
    for work, seconds, row in sorted(
        (r.work, r.median_s, r) for r in rows if r.backend == "vectorized"
    ):
        axes.annotate(
            f"{row.shape} m={row.batch}", (work, seconds), fontsize=7, alpha=0.7,
            xytext=(4, -10), textcoords="offset points",
        )  # fmt: skip
    kernel, dtype, threads = rows[0].kernel, rows[0].dtype, rows[0].threads
    axes.set_xlabel("work: multiply-adds of one call (about 3 m n_weights)")
    axes.set_ylabel("median seconds per call")
    axes.set_title(f"indexnet bench: {kernel}, {dtype}, {threads} thread(s)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
