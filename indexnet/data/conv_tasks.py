r"""UFLDL's convolutional exercise as a named task: ``indexnet train mnist-cnn``.

The network of UFLDL's "Exercise: Convolutional Neural Network": 20 filters of 9x9 over a 28x28
digit, sigmoid, 2x2 mean pooling, a softmax over the 10 digits; weight decay 1e-4, filters
initialised ``0.1 * randn``; SGD with momentum 0.5 for the first 20 steps, then 0.95, learning
rate 0.1, batches of 256. UFLDL runs 3 epochs of 60,000 digits, about 700 steps. Here the
training set is 4,000 digits (:func:`indexnet.data.datasets.mnist`), so the default keeps
UFLDL's batch and its number of steps (700 steps of 256 are about 45 passes over the 4,000):
the step is the same computation as UFLDL's, and SGD with momentum sees as many of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexnet.api.convnet import BACKENDS, ConvNetwork, lbfgs, sgd_momentum
from indexnet.api.train import TrainResult
from indexnet.checks.inputs import check_choice
from indexnet.data import datasets

CONV_TASKS = {
    "mnist-cnn": "UFLDL's CNN exercise: 20 filters 9x9, sigmoid, 2x2 mean pooling, softmax; "
    "5,000 MNIST digits, fixed stratified split 4,000/1,000; sgd with momentum, 700 steps of 256"
}
METHODS = ("sgd", "lbfgs")


@dataclass
class ConvSettings:
    """Everything :func:`run` needs, UFLDL's values by default."""

    dataset: str = "mnist-cnn"
    method: str = "sgd"
    iterations: int = 700
    """Steps for ``sgd``, iterations for ``lbfgs``."""
    alpha: float = 0.1
    batch_size: int = 256
    lam: float = 1e-4
    momentum: float = 0.95
    initial_momentum: float = 0.5
    momentum_after: int = 20
    filters: int = 20
    filter_size: int = 9
    pool: int = 2
    pooling: str = "mean"
    backend: str = "loops"
    seed: int | None = 0
    data_seed: int | None = 0
    dtype: str = "float64"
    threads: int = 1


def settings_for(dataset: str, **overrides) -> ConvSettings:
    """The defaults of ``dataset`` with ``overrides`` (None values keep the default); options
    that the other tasks take and this one has no use for are refused by name."""
    check_choice("dataset", dataset, tuple(CONV_TASKS))
    given = {key: value for key, value in overrides.items() if value is not None}
    fields = {f.name for f in dataclasses.fields(ConvSettings)}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise ValueError(f"{dataset} does not take {', '.join(unknown)}")
    settings = ConvSettings(**{**given, "dataset": dataset})
    check_choice("method", settings.method, METHODS)
    check_choice("backend", settings.backend, tuple(BACKENDS))
    if settings.method == "lbfgs" and ("alpha" in given or "batch_size" in given):
        raise ValueError("alpha and batch_size apply to method 'sgd', not 'lbfgs'")
    return settings


@dataclass
class ConvOutcome:
    """What :func:`run` did: the trained network, the training record and the figures."""

    settings: ConvSettings
    net: ConvNetwork
    result: TrainResult
    figures: dict


def run(
    settings: ConvSettings, callback: Callable[[int, float], None] | None = None
) -> ConvOutcome:
    """Train UFLDL's convolutional network on the digits and measure it.

    Returns
    -------
    ConvOutcome
        ``figures``: ``final_cost``, ``iterations``, ``seconds`` (training only), ``diverged``,
        ``train_accuracy`` and ``test_accuracy``.
    """
    from indexnet.data.tasks import _threads

    X_train, X_test, y_train, y_test = datasets.mnist(seed=settings.data_seed)
    net = ConvNetwork(
        (1, 28, 28),
        [(settings.filters, settings.filter_size, settings.pool)],
        10,
        pooling=settings.pooling,
        dtype=settings.dtype,
        seed=settings.seed,
    )
    common = {"lam": settings.lam, "backend": settings.backend, "callback": callback}
    with _threads(settings.threads):
        if settings.method == "sgd":
            result = sgd_momentum(
                net, X_train, y_train, alpha=settings.alpha, steps=settings.iterations,
                batch_size=settings.batch_size, momentum=settings.momentum,
                initial_momentum=settings.initial_momentum,
                momentum_after=settings.momentum_after, seed=settings.seed, **common,
            )  # fmt: skip
        else:
            result = lbfgs(net, X_train, y_train, iterations=settings.iterations, **common)

    def accuracy(X, y):
        return float(np.mean(net.classify(X, settings.backend) == y))

    figures = {
        "dataset": settings.dataset,
        "network": repr(net),
        "method": settings.method,
        "final_cost": result.final_cost,
        "iterations": result.iterations,
        "seconds": result.seconds,
        "diverged": result.diverged,
        "train_accuracy": accuracy(X_train, y_train),
        "test_accuracy": accuracy(X_test, y_test),
    }
    return ConvOutcome(settings, net, result, figures)


def write_plots(outcome: ConvOutcome, target) -> list[Path]:
    """Write the loss curve and the learned filters of the first stage as PNGs.

    ``target`` is a directory or a prefix, as for :func:`indexnet.data.tasks.write_plots`:
    ``PREFIX-loss.png`` and ``PREFIX-filters.png``.
    """
    from indexnet.data import display
    from indexnet.data.tasks import plot_paths

    paths = plot_paths(target, outcome.settings.dataset)
    paths["filters"] = paths.pop("features").with_name(
        paths["loss"].name.replace("-loss.png", "-filters.png")
    )
    paths["loss"].parent.mkdir(parents=True, exist_ok=True)
    settings = outcome.settings
    unit = "step" if settings.method == "sgd" else "iteration"
    title = f"{settings.dataset}, {settings.method}, lambda={settings.lam:g}"
    loss = display.plot_loss_curve(outcome.result.costs, paths["loss"], title=title, xlabel=unit)
    W, _ = outcome.net.parameters(outcome.net.theta)
    filters = W[0][:, 0].reshape(W[0].shape[0], -1)  # one row per filter, its 9x9 pixels
    grid = display.display_network(filters, W[0].shape[2:])
    return [loss, display.save_image(grid, paths["filters"], scale=12)]
