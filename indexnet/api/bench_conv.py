r"""The timing harness of ``indexnet bench --suite conv``: one training step of a convolutional
network, loops against the NumPy twin and torch; it returns rows and prints nothing.

A step is the cost and its gradient, as :class:`indexnet.ConvNetwork` computes them. Each is
timed two ways: the user's call, ``net.cost_and_gradient(X, y, lam)`` from Python with its
input checks, and the kernels alone on arrays already checked (``kernels``). torch's step is
``conv2d``, ``sigmoid``, ``avg_pool2d`` (or ``max_pool2d``), ``linear`` and the cross-entropy
with the weight decay, then ``backward``; its gradient is checked against the loops' before it
is timed, as every backend's is against the twin's. The harness of the dense suite
(:mod:`indexnet.api.bench`) warms up, calibrates and takes turns the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from indexnet.api import bench
from indexnet.api.convnet import BACKENDS, ConvNetwork

SUITE = (
    ("ufldl", (1, 28, 28), (20, 9, 2), 256),
    ("small", (1, 8, 8), (4, 3, 2), 16),
)
"""(name, image, (filters, size, pool), batch): UFLDL's exercise and a small net."""
LAM = 1e-4


@dataclass
class ConvRow:
    """One timing of ``indexnet bench --suite conv``."""

    case: str
    image: list
    stage: list
    batch: int
    backend: str
    call: str
    """``"public"`` (the user's call) or ``"kernels"`` (the step on checked arrays)."""
    dtype: str
    threads: int
    median_s: float
    first_call_s: float
    ratio_to_vectorized: float | None = None
    ratio_to_torch: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _problem(image, stage, batch, dtype):
    net = ConvNetwork(image, [stage], 10, dtype=dtype, seed=0)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (batch, *image)).astype(dtype)
    return net, X, rng.integers(0, 10, batch)


def calls(net: ConvNetwork, X, y, backend: str) -> dict[str, Callable[[], tuple]]:
    """``{"public": ..., "kernels": ...}``: callables returning ``(J, grad)``."""
    if backend == "torch":
        return {"public": torch_step(net, X, y)}
    kernels = BACKENDS[backend]
    Xc, Yc = net.check_X(X), net.check_Y(y, X.shape[0])
    grad = np.empty_like(net.theta)

    def step():
        return net._cost_and_gradient(kernels, Xc, Yc, LAM, grad), grad

    return {
        "public": lambda: net.cost_and_gradient(X, y, lam=LAM, backend=backend),
        "kernels": step,
    }


def torch_step(net: ConvNetwork, X, y) -> Callable[[], tuple]:
    """The same step in torch on CPU: its own convolution and autograd."""
    import torch
    import torch.nn.functional as F

    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    theta = torch.tensor(net.theta, dtype=dtype, requires_grad=True)
    W, b = net.parameters(theta)
    images, labels = torch.tensor(X, dtype=dtype), torch.tensor(y)
    pool = F.avg_pool2d if net.pooling == "mean" else F.max_pool2d
    P = net.stages[0].pool

    def step():
        theta.grad = None
        a = pool(torch.sigmoid(F.conv2d(images, W[0], b[0])), P)
        z = F.linear(a.reshape(a.shape[0], -1), W[1], b[1])
        J = F.cross_entropy(z, labels) + LAM / 2 * sum((w * w).sum() for w in W)
        J.backward()
        return float(J.detach()), theta.grad.numpy()

    return step


def available(threads: int) -> list[str]:
    names = ["loops", "vectorized"]
    return [*names, "torch"] if bench.torch_available() else names


def run(
    dtype=np.float64,
    threads: int = 1,
    repeat: int = 7,
    min_time: float = 0.05,
    suite=SUITE,
    progress: Callable[[str], None] | None = None,
) -> list[ConvRow]:
    """Time every backend's step on every case of ``suite``; raise
    :class:`indexnet.api.bench.BenchDisagreement` where one disagrees with the twin."""
    rows = []
    for name, image, stage, batch in suite:
        net, X, y = _problem(image, stage, batch, dtype)
        prepared = {}
        for backend in available(threads):
            for call, function in calls(net, X, y, backend).items():
                first = bench.first_call_seconds(function)
                prepared[backend, call] = function, first
        J, grad = prepared["vectorized", "public"][0]()
        for (backend, call), (function, _) in prepared.items():
            mine = function()
            worst = bench._disagreement((mine[0], mine[1]), (J, grad))
            if worst > bench._tolerance(dtype):
                raise bench.BenchDisagreement(
                    f"{backend} ({call}) disagrees with vectorized at {name}: {worst:.3g}"
                )
        counts = {key: bench.calibrate(f, min_time)[0] for key, (f, _) in prepared.items()}
        samples = {key: [] for key in prepared}
        for _ in range(repeat):  # the backends take turns, one sample each
            for key, (function, _) in prepared.items():
                samples[key].append(bench.sample(function, counts[key]))
        medians = {key: float(np.median(s)) for key, s in samples.items()}
        for (backend, call), median in medians.items():
            twin = medians.get(("vectorized", call))
            torch = medians.get(("torch", "public"))
            rows.append(
                ConvRow(
                    name, list(image), list(stage), batch, backend, call,
                    np.dtype(dtype).name, threads, median, prepared[backend, call][1],
                    None if twin is None else twin / median,
                    None if torch is None else torch / median,
                )
            )  # fmt: skip
            if progress is not None:
                progress(f"{name} {backend} {call}")
    return rows
