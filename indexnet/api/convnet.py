r"""A convolutional network: UFLDL's "Convolutional Neural Network" chapter, kernel by kernel.

Stages of convolution (any number of filters and channels, any filter size) and pooling (mean or
max), then optional fully connected hidden layers, then a softmax output trained on the
cross-entropy. Every equation is a kernel of :mod:`indexnet.loops` (or its twin in
:mod:`indexnet.vectorized`); this module only sequences them, in Python, one batch at a time:

.. code-block:: text

    a(1) = x                                     (m, D, rows, cols)
    stage s:  z = conv(W_s, b_s, a)              conv_weighted_input
              a = f(z)                           activation
              a = pool(a)                        mean_pool / max_pool
    dense:    z = W a + b, a = f(z), ..., softmax  weighted_input, activation
    back:     delta_out = a - y                  output_delta
              dense deltas, then the pooled maps' delta (f' = 1: pooling has no activation)
              stage s:  delta = upsample(delta_pool) f'(z)   mean_pool_delta / max_pool_delta
                        dJ/dW_s, dJ/db_s                     filter_gradient, conv_bias_gradient
                        delta_pool of stage s-1              conv_delta (from a second stage)

The parameters are one flat vector ``theta``: every weight first (each stage's filters
``(K, D, p, p)``, then the dense layers' ``(s_{l+1}, s_l)``), then every bias, so that the
weight decay :math:`\frac{\lambda}{2} \sum W^2` is a sum over ``theta[:n_weights]``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexnet import loops, vectorized
from indexnet.api import saving
from indexnet.api.network import _SharedLock
from indexnet.api.train import TrainResult, _diverged
from indexnet.checks.inputs import (
    check_choice,
    check_dtype,
    check_examples,
    check_int,
    check_real,
    describe,
)
from indexnet.kernels.activations import ACTIVATIONS, CROSS_ENTROPY, IDENTITY, SOFTMAX

BACKENDS = {"loops": loops, "vectorized": vectorized}
POOLINGS = ("mean", "max")
FORMAT = "indexnet.ConvNetwork"
SETTINGS = ("image", "stages", "hidden", "n_classes", "activation", "pooling", "dtype", "theta")


@dataclass(frozen=True)
class Stage:
    """One convolution and its pooling, with the shapes they give."""

    filters: int
    """Feature maps ``K`` (filters)."""
    size: int
    """Filter size ``p`` (square, ``p`` by ``p``)."""
    pool: int
    """Pooling size ``P``."""
    channels: int
    """Input channels ``D``."""
    rows: int
    """Input rows."""
    cols: int
    """Input columns."""

    @property
    def conv_shape(self) -> tuple[int, int, int]:
        """``(K, rows - p + 1, cols - p + 1)``: the maps of the convolution."""
        return self.filters, self.rows - self.size + 1, self.cols - self.size + 1

    @property
    def pooled_shape(self) -> tuple[int, int, int]:
        """``(K, rows', cols')`` after pooling."""
        K, R, C = self.conv_shape
        return K, R // self.pool, C // self.pool

    @property
    def filter_shape(self) -> tuple[int, int, int, int]:
        return self.filters, self.channels, self.size, self.size


@dataclass
class ConvTrace:
    """Every intermediate of one forward and backward pass.

    ``conv_z[s]``, ``conv_a[s]``, ``pooled[s]`` and ``conv_delta[s]`` are stage ``s``'s weighted
    input, activation, pooled maps and error terms, shape ``(m, K, rows, cols)``; ``dense_z``,
    ``dense_a``, ``dense_delta`` the fully connected layers' (``dense_a[0]`` is the flattened
    pooled maps). ``grad`` is laid out as ``theta``.
    """

    conv_z: list
    conv_a: list
    pooled: list
    conv_delta: list
    dense_z: list
    dense_a: list
    dense_delta: list
    cost: float
    grad: np.ndarray


class ConvNetwork:
    r"""Convolution and pooling stages, optional hidden layers, a softmax output.

    Parameters
    ----------
    image : (channels, rows, cols)
        Shape of one input image, e.g. ``(1, 28, 28)``.
    stages : sequence of (filters, size, pool)
        Each stage: ``filters`` filters of ``size`` by ``size``, then ``pool`` by ``pool``
        pooling (``pool=1``: none).
    n_classes : int
        Softmax outputs.
    hidden : sequence of int
        Units of fully connected hidden layers between the last pooling and the softmax.
    activation : {"sigmoid", "tanh", "relu", "identity"}
        :math:`f` of the convolutional and hidden layers.
    pooling : {"mean", "max"}
    dtype : float32 or float64
    seed : int or None
        Seed of the initial parameters (:meth:`initialize`, UFLDL's); ``None`` leaves them 0.

    Examples
    --------
    UFLDL's network: 20 filters 9x9 on 28x28 digits, 2x2 mean pooling, softmax over 10 digits.

    >>> net = ConvNetwork((1, 28, 28), [(20, 9, 2)], n_classes=10)
    >>> net.stages[0].pooled_shape
    (20, 10, 10)
    """

    def __init__(
        self,
        image: Sequence[int],
        stages: Sequence[Sequence[int]],
        n_classes: int,
        *,
        hidden: Sequence[int] = (),
        activation: str = "sigmoid",
        pooling: str = "mean",
        dtype=np.float64,
        seed: int | None = 0,
    ):
        self.image = _check_ints("image", image, 3)
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        self.dtype = check_dtype(dtype)
        self.n_classes = check_int("n_classes", n_classes, 2)
        self.hidden = tuple(check_int(f"hidden[{i}]", h, 1) for i, h in enumerate(hidden))
        if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence) or not stages:
            raise ValueError(
                f"stages must be a non-empty list of (filters, size, pool); got {describe(stages)}"
            )
        self.stages = []
        channels, rows, cols = self.image
        for s, stage in enumerate(stages):
            filters, size, pool = _check_ints(f"stages[{s}]", stage, 3)
            if size > min(rows, cols):
                raise ValueError(
                    f"stages[{s}]: a {size}x{size} filter does not fit the {rows}x{cols} maps "
                    "it reads"
                )
            done = Stage(filters, size, pool, channels, rows, cols)
            _, R, C = done.conv_shape
            if pool > min(R, C):
                raise ValueError(
                    f"stages[{s}]: pooling {pool}x{pool} does not fit the {R}x{C} maps of the "
                    "convolution"
                )
            self.stages.append(done)
            channels, rows, cols = done.pooled_shape
        self.sizes = (channels * rows * cols, *self.hidden, self.n_classes)
        """Units of the fully connected layers, the flattened pooled maps first."""
        shapes = [s.filter_shape for s in self.stages]
        shapes += [(self.sizes[l + 1], self.sizes[l]) for l in range(len(self.sizes) - 1)]
        self._weight_shapes = shapes
        self._bias_sizes = [s.filters for s in self.stages] + list(self.sizes[1:])
        self.n_weights = sum(int(np.prod(shape)) for shape in shapes)
        self._theta = np.zeros(self.n_weights + sum(self._bias_sizes), dtype=self.dtype)
        self._code = ACTIVATIONS[self.activation]
        self._lock = _SharedLock()
        self._local = threading.local()
        if seed is not None:
            self.initialize(seed)

    # -- parameters -----------------------------------------------------------------------------

    def initialize(self, seed: int | None = 0) -> None:
        r"""UFLDL's ``cnnInitParams``: filters ``0.1 * randn``, dense weights uniform in
        :math:`\pm\sqrt{6 / (s_l + s_{l+1} + 1)}`, biases 0."""
        rng = np.random.default_rng(seed)
        with self._lock.writing():
            W, b = self.parameters(self._theta)
            for l, weights in enumerate(W):
                if l < len(self.stages):
                    weights[...] = 0.1 * rng.standard_normal(weights.shape)
                else:
                    r = np.sqrt(6.0 / (weights.shape[0] + weights.shape[1] + 1))
                    weights[...] = rng.uniform(-r, r, weights.shape)
            for biases in b:
                biases[...] = 0

    @property
    def theta(self) -> np.ndarray:
        """Every parameter, weights first (a copy; assign to set)."""
        return self._theta.copy()

    @theta.setter
    def theta(self, value) -> None:
        array = np.asarray(value)
        if array.shape != self._theta.shape:
            raise ValueError(f"theta must have shape {self._theta.shape}; got {array.shape}")
        if array.dtype.kind not in "iuf" or not np.isfinite(array).all():
            raise ValueError("theta must hold finite real numbers")
        with self._lock.writing():
            self._theta[...] = array

    def parameters(self, theta: np.ndarray) -> tuple[list, list]:
        """``(W, b)``: views of ``theta`` (or of a gradient laid out as it), one per layer,
        the convolutional stages first."""
        W, b, start = [], [], 0
        for shape in self._weight_shapes:
            size = int(np.prod(shape))
            W.append(theta[start : start + size].reshape(shape))
            start += size
        for size in self._bias_sizes:
            b.append(theta[start : start + size])
            start += size
        return W, b

    def __repr__(self) -> str:
        stages = [(s.filters, s.size, s.pool) for s in self.stages]
        return (
            f"ConvNetwork({self.image}, {stages}, n_classes={self.n_classes}, "
            f"hidden={self.hidden}, activation={self.activation!r}, "
            f"pooling={self.pooling!r}, dtype={np.dtype(self.dtype).name})"
        )

    # -- inputs ---------------------------------------------------------------------------------

    def check_X(self, X) -> np.ndarray:
        """``X`` as a finite ``(m, channels, rows, cols)`` array of the network's dtype, or raise.

        Accepts that shape, ``(m, rows, cols)`` for one channel, or ``(m, channels*rows*cols)``
        (images as rows, as MNIST files hold them).
        """
        shape = self.image
        array = X if isinstance(X, np.ndarray) else np.asarray(X)
        if array.ndim >= 3 and array.shape[1:] in (shape, shape[1:]):
            array = array.reshape(array.shape[0], -1)
        elif array.ndim >= 3:
            raise ValueError(
                f"X must hold images of shape {shape} (or {shape[1:]} with one channel); got "
                f"an array of shape {array.shape}"
            )
        columns = int(np.prod(shape))
        flat = check_examples("X", array, self.dtype, columns, f"channels*rows*cols of {shape}")
        return flat.reshape(flat.shape[0], *shape)

    def check_Y(self, Y, m: int) -> np.ndarray:
        """``Y`` as ``(m, n_classes)`` one-hot rows; labels ``0..n_classes-1`` are accepted."""
        array = Y if isinstance(Y, np.ndarray) else np.asarray(Y)
        if array.ndim == 1 and array.dtype.kind in "iu":
            if (
                array.shape[0] != m
                or array.min(initial=0) < 0
                or array.max(initial=0) >= (self.n_classes)
            ):
                raise ValueError(
                    f"Y as labels must hold {m} integers from 0 to {self.n_classes - 1}; got "
                    f"{describe(array)}"
                )
            return np.eye(self.n_classes, dtype=self.dtype)[array]  # one-hot rows: valid
        Y = check_examples("Y", array, self.dtype, self.n_classes, "n_classes")
        if Y.shape[0] != m:
            raise ValueError(f"Y must have {m} rows, one per image of X; got {Y.shape[0]}")
        if (Y < 0).any() or (np.abs(Y.sum(axis=1) - 1) > 1e-6).any():
            raise ValueError("Y's rows must be probabilities (one-hot or soft labels) for softmax")
        return Y

    # -- the passes -----------------------------------------------------------------------------

    def _buffers(self, m: int) -> dict:
        """This thread's work arrays for ``m`` images (reused while ``m`` is the same)."""
        cached = getattr(self._local, "buffers", None)
        if cached is not None and cached["m"] == m:
            return cached
        dt = self.dtype
        buffers = {
            "m": m,
            "conv_z": [np.empty((m, *s.conv_shape), dt) for s in self.stages],
            "conv_a": [np.empty((m, *s.conv_shape), dt) for s in self.stages],
            "pooled": [np.empty((m, *s.pooled_shape), dt) for s in self.stages],
            "where": [np.empty((m, *s.pooled_shape), np.int64) for s in self.stages],
            "conv_delta": [np.empty((m, *s.conv_shape), dt) for s in self.stages],
            "pool_delta": [np.empty((m, *s.pooled_shape), dt) for s in self.stages],
            "dense_z": [np.empty((m, size), dt) for size in self.sizes[1:]],
            "dense_a": [np.empty((m, size), dt) for size in self.sizes[1:]],
            "none": np.empty(0, dt),
        }
        # the flattened pooled maps' delta is the last stage's pool_delta, seen as rows
        flat = buffers["pool_delta"][-1].reshape(m, -1)
        buffers["dense_delta"] = [flat, *(np.empty((m, size), dt) for size in self.sizes[1:])]
        self._local.buffers = buffers
        return buffers

    def _forward(self, k, theta, X, w):
        """Forward propagation with kernel module ``k`` into the buffers ``w``; the output."""
        W, b = self.parameters(theta)
        a = X
        for s, stage in enumerate(self.stages):
            z, act = w["conv_z"][s], w["conv_a"][s]
            k.conv_weighted_input(W[s], b[s], a, z)
            m = z.shape[0]
            k.activation(z.reshape(m, -1), self._code, act.reshape(m, -1))
            if self.pooling == "mean":
                k.mean_pool(act, stage.pool, w["pooled"][s])
            else:
                k.max_pool(act, stage.pool, w["pooled"][s], w["where"][s])
            a = w["pooled"][s]
        a = a.reshape(a.shape[0], -1)
        top, first = len(self.sizes) - 2, len(self.stages)
        for l in range(top + 1):
            z = w["dense_z"][l]
            k.weighted_input(W[first + l], b[first + l], a, z)
            k.activation(z, SOFTMAX if l == top else self._code, w["dense_a"][l])
            a = w["dense_a"][l]
        return a

    def _backward(self, k, theta, X, Y, lam, w, grad):
        """Back propagation after :meth:`_forward`: every delta, the gradient into ``grad``."""
        W, _ = self.parameters(theta)
        dW, db = self.parameters(grad)
        first, top = len(self.stages), len(self.sizes) - 2
        flat = w["pooled"][-1].reshape(X.shape[0], -1)
        dense_a = [flat, *w["dense_a"]]
        delta_next = w["dense_delta"][top + 1]
        k.output_delta(w["dense_z"][top], w["dense_a"][top], Y, CROSS_ENTROPY, SOFTMAX, delta_next)
        for l in range(top, -1, -1):
            k.weight_gradient(dense_a[l], delta_next, W[first + l], lam, dW[first + l])
            k.bias_gradient(delta_next, db[first + l])
            delta = w["dense_delta"][l]
            # the pooled maps (l = 0) have no activation of their own: f' = 1
            z, kind = (flat, IDENTITY) if l == 0 else (w["dense_z"][l - 1], self._code)
            k.hidden_delta(
                W[first + l], delta_next, z, dense_a[l], kind, 0.0, 0.0, w["none"], delta
            )
            delta_next = delta
        for s in range(len(self.stages) - 1, -1, -1):
            stage, delta = self.stages[s], w["conv_delta"][s]
            z, act, pool_delta = w["conv_z"][s], w["conv_a"][s], w["pool_delta"][s]
            if self.pooling == "mean":
                k.mean_pool_delta(pool_delta, stage.pool, z, act, self._code, delta)
            else:
                k.max_pool_delta(pool_delta, stage.pool, w["where"][s], z, act, self._code, delta)
            a = X if s == 0 else w["pooled"][s - 1]
            k.filter_gradient(a, delta, W[s], lam, dW[s])
            k.conv_bias_gradient(delta, db[s])
            if s > 0:  # the error of the stage below, through the filters: the full convolution
                k.conv_delta(W[s], delta, a, a, IDENTITY, w["pool_delta"][s - 1])

    def _cost_and_gradient(self, k, X, Y, lam, grad):
        w = self._buffers(X.shape[0])
        theta = self._theta
        out = self._forward(k, theta, X, w)
        J = k.cost(w["dense_z"][-1], out, Y, theta[: self.n_weights], lam, CROSS_ENTROPY, SOFTMAX)
        self._backward(k, theta, X, Y, lam, w, grad)
        return J

    def cost_and_gradient(
        self, X, Y, lam: float = 0.0, backend: str = "loops"
    ) -> tuple[float, np.ndarray]:
        r"""The batch cost and its gradient.

        .. math::
            J = -\frac{1}{m} \sum_n \sum_i y_i(n) \log a_i^{(n_l)}(n)
                + \frac{\lambda}{2} \sum W^2

        Parameters
        ----------
        X : array_like, shape (m, channels, rows, cols)
            Images (see :meth:`check_X` for the other shapes accepted).
        Y : array_like, shape (m, n_classes), or labels of shape (m,)
        lam : float
            Weight decay :math:`\lambda` (filters and weights; biases not decayed).
        backend : {"loops", "vectorized"}

        Returns
        -------
        J : float
        grad : ndarray, shape (n_params,)
        """
        k = _kernels(backend)
        lam = check_real("lam", lam, minimum=0.0)
        X = self.check_X(X)
        Y = self.check_Y(Y, X.shape[0])

        def compute():
            grad = np.empty_like(self._theta)
            with np.errstate(all="ignore"):
                J = float(self._cost_and_gradient(k, X, Y, lam, grad))
            return J, grad

        return self._lock.read(compute)

    def predict(self, X, backend: str = "loops") -> np.ndarray:
        """Softmax probabilities, shape ``(m, n_classes)``."""
        k = _kernels(backend)
        X = self.check_X(X)

        def compute():
            return self._forward(k, self._theta, X, self._buffers(X.shape[0])).copy()

        return self._lock.read(compute)

    def classify(self, X, backend: str = "loops") -> np.ndarray:
        """The most probable class of each image, shape ``(m,)``."""
        return np.argmax(self.predict(X, backend), axis=1)

    def trace(self, X, Y, lam: float = 0.0, backend: str = "loops") -> ConvTrace:
        """Every intermediate of one forward and backward pass (copies)."""
        k = _kernels(backend)
        lam = check_real("lam", lam, minimum=0.0)
        X = self.check_X(X)
        Y = self.check_Y(Y, X.shape[0])

        def compute():
            grad = np.empty_like(self._theta)
            J = float(self._cost_and_gradient(k, X, Y, lam, grad))
            w = self._buffers(X.shape[0])
            copies = {name: [v.copy() for v in w[name]] for name in w if isinstance(w[name], list)}
            flat = w["pooled"][-1].reshape(X.shape[0], -1).copy()
            return ConvTrace(
                copies["conv_z"], copies["conv_a"], copies["pooled"], copies["conv_delta"],
                copies["dense_z"], [flat, *copies["dense_a"]], copies["dense_delta"], J, grad,
            )  # fmt: skip

        return self._lock.read(compute)

    # -- saving ---------------------------------------------------------------------------------

    def save(self, path):
        """Write the network to ``path`` (``.npz``); :func:`load_conv` reads it back."""
        theta = self._lock.read(self._theta.copy)
        stages = np.array([(s.filters, s.size, s.pool) for s in self.stages], dtype=np.int64)
        return saving.write(
            path,
            {
                "theta": theta,
                "image": np.array(self.image, dtype=np.int64),
                "stages": stages,
                "hidden": np.array(self.hidden, dtype=np.int64),
                "n_classes": np.array(self.n_classes),
                "activation": np.array(self.activation),
                "pooling": np.array(self.pooling),
                "dtype": np.array(np.dtype(self.dtype).name),
            },
            form=FORMAT,
        )


def load_conv(path) -> ConvNetwork:
    """The network :meth:`ConvNetwork.save` wrote at ``path``; a damaged file is named."""
    entries = saving.read(path, form=FORMAT, settings=SETTINGS)
    try:
        net = ConvNetwork(
            [int(v) for v in entries["image"]],
            [[int(v) for v in row] for row in np.atleast_2d(entries["stages"])],
            int(entries["n_classes"]),
            hidden=[int(v) for v in np.atleast_1d(entries["hidden"])],
            activation=str(entries["activation"]),
            pooling=str(entries["pooling"]),
            dtype=str(entries["dtype"]),
            seed=None,
        )
        if entries["theta"].dtype != net.dtype:
            raise ValueError(f"theta is {entries['theta'].dtype}, dtype says {net.dtype.__name__}")
        net.theta = entries["theta"]
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{path} holds an inconsistent network: {error}") from error
    return net


def _kernels(backend: str):
    """The kernel module of ``backend``, or a ValueError naming the choices."""
    return BACKENDS[check_choice("backend", backend, tuple(BACKENDS))]


def _check_ints(name, values, count):
    """``values`` as a tuple of ``count`` integers >= 1, or raise naming ``name``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be {count} integers; got {describe(values)}")
    if len(values) != count:
        raise ValueError(f"{name} must be {count} integers; got {len(values)}: {list(values)}")
    return tuple(check_int(f"{name}[{i}]", v, 1) for i, v in enumerate(values))


# -- training -----------------------------------------------------------------------------------


def sgd_momentum(
    net: ConvNetwork,
    X,
    Y,
    *,
    alpha: float = 0.1,
    steps: int = 700,
    batch_size: int = 256,
    momentum: float = 0.95,
    initial_momentum: float = 0.5,
    momentum_after: int = 20,
    lam: float = 1e-4,
    seed: int | None = 0,
    backend: str = "loops",
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    r"""Mini-batch SGD with momentum, UFLDL's ``minFuncSGD``.

    .. math::
        v := \mu v + \alpha \nabla_\theta J(\theta; X_B, Y_B), \qquad \theta := \theta - v

    with :math:`\mu` = ``initial_momentum`` for the first ``momentum_after`` steps, then
    ``momentum``. The batches walk a fresh shuffle of the images each epoch.

    Returns
    -------
    TrainResult
        ``costs`` holds every step's mini-batch cost; ``iterations`` the steps taken.
    """
    k = _kernels(backend)
    alpha = check_real("alpha", alpha, positive=True)
    steps = check_int("steps", steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    momentum = check_real("momentum", momentum, minimum=0.0)
    initial_momentum = check_real("initial_momentum", initial_momentum, minimum=0.0)
    momentum_after = check_int("momentum_after", momentum_after, 0)
    lam = check_real("lam", lam, minimum=0.0)
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    m = X.shape[0]
    batch = min(batch_size, m)
    rng = np.random.default_rng(seed)
    result = TrainResult("sgd")
    start = time.perf_counter()
    with net._lock.writing():
        velocity = np.zeros_like(net._theta)
        grad = np.empty_like(net._theta)
        last_good = net._theta.copy()
        order, at = rng.permutation(m), 0
        for step in range(steps):
            if at + batch > m:
                order, at = rng.permutation(m), 0
            rows = order[at : at + batch]
            at += batch
            with np.errstate(all="ignore"):
                J = float(net._cost_and_gradient(k, X[rows], Y[rows], lam, grad))
            if not (np.isfinite(J) and np.isfinite(grad).all()):
                _diverged(result, net, last_good, f"step {step}")
                break
            last_good[...] = net._theta
            mu = initial_momentum if step < momentum_after else momentum
            velocity *= net.dtype(mu)
            velocity += net.dtype(alpha) * grad
            net._theta -= velocity
            result.costs.append(J)
            result.iterations = step + 1
            if callback is not None:
                callback(step, J)
        else:
            result.message = f"completed {steps} steps"
    result.seconds = time.perf_counter() - start
    return result


def lbfgs(
    net: ConvNetwork,
    X,
    Y,
    *,
    iterations: int = 100,
    lam: float = 1e-4,
    backend: str = "loops",
    callback: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """L-BFGS on the whole batch through ``scipy.optimize.minimize``, as UFLDL's minFunc."""
    from scipy.optimize import minimize

    k = _kernels(backend)
    iterations = check_int("iterations", iterations, 1)
    lam = check_real("lam", lam, minimum=0.0)
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    result = TrainResult("lbfgs")
    start = time.perf_counter()
    with net._lock.writing():
        best = [np.inf, net._theta.copy()]
        grad = np.empty_like(net._theta)

        def fun(theta):
            net._theta[...] = theta
            with np.errstate(all="ignore"):
                J = float(net._cost_and_gradient(k, X, Y, lam, grad))
            if np.isfinite(J) and np.isfinite(grad).all() and J < best[0]:
                best[0], best[1] = J, net._theta.copy()
            return J, grad.astype(np.float64)

        def on_iteration(intermediate_result):
            result.costs.append(float(intermediate_result.fun))
            result.iterations += 1
            if callback is not None:
                callback(result.iterations - 1, float(intermediate_result.fun))

        with np.errstate(all="ignore"):
            found = minimize(
                fun, net._theta.astype(np.float64), jac=True, method="L-BFGS-B",
                callback=on_iteration, options={"maxiter": iterations},
            )  # fmt: skip
        result.message = str(found.message)
        if not np.isfinite(found.fun) or not np.isfinite(found.x).all():
            _diverged(result, net, best[1], f"iteration {result.iterations}")
        else:
            net._theta[...] = found.x
    result.seconds = time.perf_counter() - start
    return result
