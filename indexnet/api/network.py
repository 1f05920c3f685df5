r"""The public face: a feed-forward network whose parameters live in one flat vector.

:class:`Network` owns the sizes, the parameters and their initialisation; it checks every input,
allocates the work buffers (one set a thread) and hands the arrays to a backend
(:mod:`indexnet.loops` or :mod:`indexnet.vectorized`), whose composite checks only that the
shapes fit ``sizes`` before its kernels run. Arrays that already are what the kernels take
(C-contiguous, of the network's dtype) are passed as they are, and their values are checked
in compiled code, in the same call as the composite for ``loops`` (:mod:`indexnet.fast.entry`):
a small network's call then costs about what its kernels cost.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexnet.api import saving
from indexnet.checks.inputs import (
    check_choice,
    check_dtype,
    check_examples,
    check_finite_result,
    check_int,
    check_real,
    check_sizes,
)
from indexnet.fast import entry, loops_parallel
from indexnet.kernels import layout, loops
from indexnet.kernels.activations import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from indexnet.twins import python, vectorized

BACKENDS = {
    "loops": loops,
    "loops-parallel": loops_parallel,
    "vectorized": vectorized,
    "python": python,
}
"""Backend name -> module of kernels with the signatures of :mod:`indexnet.loops`."""


def backend_kernels(backend: str):
    """The kernel module of a backend name, or a ValueError naming the choices."""
    kernels = BACKENDS.get(backend) if type(backend) is str else None  # the common case, fast
    return kernels or BACKENDS[check_choice("backend", backend, tuple(BACKENDS))]


@dataclass
class Trace:
    r"""Every intermediate of one forward and backward pass, indexed like the math shifted by one.

    ``z[l]``, ``a[l]`` and ``delta[l]`` are :math:`z^{(l+1)}, a^{(l+1)}, \delta^{(l+1)}`, each of
    shape ``(m, sizes[l])``; ``a[0]`` is the input and ``z[0]``, ``delta[0]`` are None (the input
    layer has neither). ``grad_W[l]`` and ``grad_b[l]`` are shaped like ``W[l]`` and ``b[l]``.
    """

    z: list
    a: list
    delta: list
    cost: float
    grad: np.ndarray
    grad_W: list
    grad_b: list


class _SharedLock:
    """Reads that take no lock, and one writer at a time; the writer's thread may also read.

    A network's kernels release the GIL, so threads that share it compute at once: reads
    (``predict``, ``cost_and_gradient``, ``trace``) run side by side, each thread in its own
    work buffers. Training writes ``theta``: a writer holds ``_write`` and makes ``_version``
    odd while it writes. A read notes the version, computes, and keeps its result only if the
    version is the same even number afterwards; otherwise (a writer came meanwhile) it computes
    again holding ``_write``, so every read sees ``theta`` before or after a writing, never
    during one. Taking a lock for every read cost more than a small network's step.
    """

    def __init__(self):
        self._write = threading.RLock()
        self._version = 0
        self._depth = 0

    def read(self, compute, *args):
        """``compute(*args)``, on parameters that no writer changed while it ran."""
        version = self._version
        if not version & 1:
            try:
                result = compute(*args)
            except Exception:
                if self._version == version:
                    raise
            else:
                if self._version == version:
                    return result
        with self._write:  # the writer's own thread enters at once: the lock is re-entrant
            return compute(*args)

    def writing(self):
        """``with lock.writing():`` holds ``_write``; the outermost writing makes the version
        odd on entry and even again on exit. (A class, not a generator: a fourth of the cost.)"""
        return self

    def __enter__(self):
        self._write.acquire()
        self._depth += 1
        if self._depth == 1:
            self._version += 1

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            self._version += 1
        self._write.release()


class Network:
    r"""A fully connected feed-forward network trained by backpropagation (UFLDL).

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, input first and output last, bias units not counted: :math:`s_1, \ldots,
        s_{n_l}`, e.g. ``[64, 25, 64]``.
    hidden : {"sigmoid", "tanh", "relu", "identity"}
        Activation :math:`f` of the hidden layers.
    output : {"sigmoid", "tanh", "relu", "identity", "softmax"}
        Activation of the output layer.
    cost : {"squared", "cross_entropy"}
        ``"squared"`` is UFLDL's :math:`\frac{1}{2}\|h(x) - y\|^2`; ``"cross_entropy"`` needs a
        sigmoid or softmax output, and softmax needs cross-entropy.
    seed : int or None
        Seed of the initialisation.
    dtype : {np.float64, np.float32}
        Float type of the parameters and of every computation.

    Attributes
    ----------
    theta : ndarray, shape (n_params,)
        All parameters, laid out as in :mod:`indexnet.layout`.
    W : list of ndarray
        ``W[l]`` is :math:`W^{(l+1)}`, shape ``(sizes[l+1], sizes[l])``, a view into ``theta``.
    b : list of ndarray
        ``b[l]`` is :math:`b^{(l+1)}`, shape ``(sizes[l+1],)``, a view into ``theta``.

    Examples
    --------
    >>> import numpy as np, indexnet
    >>> net = indexnet.Network([2, 3, 1])
    >>> X = np.array([[0.0, 1.0]]); Y = np.array([[1.0]])
    >>> J, grad = net.cost_and_gradient(X, Y, lam=1e-4)
    >>> grad.shape == net.theta.shape
    True
    """

    def __init__(
        self,
        sizes,
        *,
        hidden: str = "sigmoid",
        output: str = "sigmoid",
        cost: str = "squared",
        seed: int | None = 0,
        dtype=np.float64,
    ) -> None:
        self._sizes = check_sizes(sizes)
        self.hidden = check_choice("hidden", hidden, tuple(ACTIVATIONS))
        self.output = check_choice("output", output, tuple(OUTPUT_ACTIVATIONS))
        self.cost = check_choice("cost", cost, tuple(LOSSES))
        if cost == "cross_entropy" and output not in ("sigmoid", "softmax"):
            raise ValueError(
                f"cost='cross_entropy' needs output='sigmoid' or 'softmax'; got output={output!r}"
            )
        if output == "softmax" and cost != "cross_entropy":
            raise ValueError(f"output='softmax' needs cost='cross_entropy'; got cost={cost!r}")
        if output == "softmax" and self._sizes[-1] < 2:
            raise ValueError(
                f"output='softmax' needs at least 2 output units; got sizes[-1]={self._sizes[-1]}"
            )
        self.dtype = check_dtype(dtype)
        # For the fast test of arrays that need no copy (_ready): the dtype object, and the
        # input and output widths as Python ints.
        self._dtype = np.dtype(self.dtype)
        self._widths = (int(self._sizes[0]), int(self._sizes[-1]))
        self._codes = (ACTIVATIONS[hidden], OUTPUT_ACTIVATIONS[output], LOSSES[cost])
        self._theta = np.zeros(layout.n_params(self._sizes), dtype=self.dtype)
        n_l = len(self._sizes)
        self.W = [layout.weights_of(self._theta, self._sizes, l) for l in range(n_l - 1)]
        self.b = [layout.biases_of(self._theta, self._sizes, l) for l in range(n_l - 1)]
        self._local = threading.local()  # each thread's work buffers (see _workspace)
        self._lock = _SharedLock()
        self._network = None  # [hidden, output, loss, *sizes], the entries' argument
        self._direct = None  # cost_and_gradient's direct entry point and arguments (_calls)
        self._direct_predict = None  # predict's (_predict_calls)
        self.initialize(seed)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, :math:`s_1, \\ldots, s_{n_l}`."""
        return tuple(int(s) for s in self._sizes)

    @property
    def n_weights(self) -> int:
        """Number of weights, the decayed leading part of ``theta``."""
        return int(layout.n_weights(self._sizes))

    @property
    def theta(self) -> np.ndarray:
        """All parameters as one flat vector; assigning copies into it (``W``, ``b`` stay views)."""
        return self._theta

    @theta.setter
    def theta(self, value) -> None:
        value = np.asarray(value)
        if value.shape != self._theta.shape:
            raise ValueError(f"theta must have shape {self._theta.shape}; got shape {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"theta must hold real numbers; got dtype {value.dtype}")
        if not np.isfinite(value).all():
            raise ValueError(
                f"theta must be finite; got {np.count_nonzero(~np.isfinite(value))} "
                "NaN or infinite entries"
            )
        with self._lock.writing():
            self._theta[...] = value

    def initialize(self, seed: int | None = 0) -> None:
        r"""UFLDL's initialisation: :math:`W_{ij}^{(l)} \sim U(-r, r)`, :math:`b = 0`.

        .. math::
            r = \sqrt{6 / (s_l + s_{l+1} + 1)}

        Parameters
        ----------
        seed : int or None
            Seed for ``numpy.random.default_rng``.
        """
        if seed is not None:
            seed = check_int("seed", seed, 0)
        rng = np.random.default_rng(seed)
        with self._lock.writing():
            for W, b in zip(self.W, self.b, strict=True):
                r = np.sqrt(6.0 / (W.shape[0] + W.shape[1] + 1))
                W[...] = rng.uniform(-r, r, size=W.shape)
                b[...] = 0.0

    def copy(self) -> Network:
        """An independent network with the same settings and parameters."""
        other = Network.__new__(Network)
        other.__setstate__(self.__getstate__())
        return other

    def __getstate__(self) -> dict:
        # The settings and theta only: W and b are views, rebuilt on unpickling so they stay
        # views of the new theta (pickling views would give independent copies).
        return {
            "sizes": self.sizes,
            "hidden": self.hidden,
            "output": self.output,
            "cost": self.cost,
            "dtype": np.dtype(self.dtype).name,
            "theta": self._theta.copy(),
        }

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        theta = state.pop("theta")
        self.__init__(state.pop("sizes"), **state, seed=None)
        self.theta = theta

    def save(self, path) -> Path:
        """Write the network to ``path``, an ``.npz`` file that :func:`indexnet.load` reads.

        See :mod:`indexnet.api.saving` for the format. Missing parent folders are made; the
        name is kept as given. Returns the path written.
        """
        theta = self._lock.read(self._theta.copy)
        return saving.write(
            path,
            {
                "theta": theta,
                "sizes": np.array(self.sizes, dtype=np.int64),
                "hidden": np.array(self.hidden),
                "output": np.array(self.output),
                "cost": np.array(self.cost),
                "dtype": np.array(np.dtype(self.dtype).name),
            },
        )

    def __repr__(self) -> str:
        return (
            f"Network({list(self.sizes)}, hidden={self.hidden!r}, output={self.output!r}, "
            f"cost={self.cost!r}, dtype={np.dtype(self.dtype).name})"
        )

    # -- checks -------------------------------------------------------------------------------

    def check_X(self, X) -> np.ndarray:
        """``X`` as a contiguous finite ``(m, sizes[0])`` array of the network's dtype, or raise."""
        return check_examples("X", X, self.dtype, self._sizes[0], "sizes[0], the input units")

    def check_XY(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """``X`` and ``Y`` checked against the network and each other, or raise."""
        X = self.check_X(X)
        Y = check_examples("Y", Y, self.dtype, self._sizes[-1], "sizes[-1], the output units")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"Y must have one row per example of X ({X.shape[0]} rows); got {Y.shape[0]} rows"
            )
        if self.cost == "cross_entropy":
            self._check_probabilities(Y)
        return X, Y

    def check_sparsity(self, beta, rho) -> tuple[float, float]:
        """``beta`` and ``rho`` checked against the network, or raise."""
        beta = check_real("beta", beta, minimum=0.0)
        rho = check_real("rho", rho)
        if not 0 < rho < 1:
            raise ValueError(f"rho must lie strictly between 0 and 1; got {rho}")
        if beta > 0 and self.hidden != "sigmoid":
            raise ValueError(
                "beta > 0 (the sparsity penalty) needs hidden='sigmoid', whose average "
                f"activations lie in (0, 1); got hidden={self.hidden!r}"
            )
        if beta > 0 and len(self._sizes) < 3:
            raise ValueError(
                f"beta > 0 needs a hidden layer to act on; got sizes={list(self.sizes)}"
            )
        return beta, rho

    def _check_probabilities(self, Y) -> None:
        if Y.min() < 0 or Y.max() > 1:
            raise ValueError(
                "Y must lie in [0, 1] for cost='cross_entropy'; "
                f"got values in [{Y.min()}, {Y.max()}]"
            )
        if self.output == "softmax":
            tolerance = 1e3 * np.finfo(self.dtype).eps * Y.shape[1]
            totals = Y.sum(axis=1)
            bad = np.flatnonzero(np.abs(totals - 1) > tolerance)
            if bad.size:
                raise ValueError(
                    "Y rows must sum to 1 for output='softmax' (one-hot or probabilities); "
                    f"got row {bad[0]} summing to {totals[bad[0]]}"
                )

    # -- computing ----------------------------------------------------------------------------

    def _workspace(self, m):
        """Work buffers ``Z, A, D = work`` for ``m`` examples, kept for reuse (a few batch sizes
        at most), one set a thread: threads sharing the network never share buffers."""
        try:
            return self._local.spaces[m]
        except AttributeError:
            self._local.spaces = {}
        except KeyError:
            pass
        spaces = self._local.spaces
        if len(spaces) >= 4:
            spaces.clear()
        spaces[m] = layout.work_buffers(m, self._sizes, self.dtype)
        return spaces[m]

    def _run_cost_and_gradient(self, kernels, X, Y, lam, beta, rho, grad):
        """The backend's cost and gradient on checked arrays; ``grad`` is written."""
        work = self._workspace(X.shape[0])
        hidden, output, loss = self._codes
        return kernels.cost_and_gradient(
            self._theta, self._sizes, X, Y, lam, beta, rho, hidden, output, loss, work, grad
        )

    def _ready(self, A, columns) -> bool:
        """True if ``A`` is already what the kernels take: an ``(m, columns)`` C-contiguous,
        aligned, writeable array of the network's dtype (its values are checked compiled)."""
        return (
            type(A) is np.ndarray
            and A.dtype is self._dtype
            and A.ndim == 2
            and A.shape[1] == columns
            and A.shape[0] > 0
            and A.flags.carray
        )

    def _scalars(self, lam, beta, rho, backend):
        """The backend's kernels and the checked ``lam``, ``beta`` and ``rho``."""
        kernels = backend_kernels(backend)
        if not (type(lam) is float and 0.0 <= lam < math.inf):
            lam = check_real("lam", lam, minimum=0.0)
        if not (type(beta) is float and beta == 0.0 and type(rho) is float and 0.0 < rho < 1.0):
            beta, rho = self.check_sparsity(beta, rho)
        return kernels, lam, beta, rho

    def _arguments(self, X, Y):
        """``X`` and ``Y`` themselves where they are ready, else :meth:`check_XY`'s copies;
        the finiteness of X and Y is checked later."""
        inputs, outputs = self._widths
        ready = self._ready(X, inputs) and self._ready(Y, outputs) and X.shape[0] == Y.shape[0]
        if not ready:
            return self.check_XY(X, Y)
        if self.cost == "cross_entropy":
            self._check_probabilities(Y)
        return X, Y

    def _examples(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`check_XY`'s result, without its copies and NumPy reductions for arrays that
        are ready: those are taken as they are and their values checked in compiled code."""
        X, Y = self._arguments(X, Y)
        if not (entry.finite(X) and entry.finite(Y)):
            self.check_XY(X, Y)  # names the NaN or infinity, with its row and column
        return X, Y

    def _typed(self, name: str):
        """The typed entry ``name`` of the network's dtype (:func:`indexnet.fast.entry.typed`)."""
        return entry.typed(self._dtype, name)

    def _network_codes(self) -> np.ndarray:
        """The entries' ``network`` argument: ``[hidden, output, loss, *sizes]``."""
        if self._network is None:
            self._network = np.array([*self._codes, *self._sizes], dtype=np.int64)
        return self._network

    def _calls(self):
        """``cost_and_gradient``'s direct entry point (:func:`indexnet.fast.entry.direct`) and
        the network's own arguments to it: theta and :meth:`_network_codes`; then the length of
        theta, whether Y must hold probabilities, and the most examples whose work buffers an
        entry allocates itself, given :func:`indexnet.fast.entry.no_work`."""
        if self._direct is None:
            self._direct = (entry.direct(self._typed("cost_and_gradient")), self._theta,
                            self._network_codes(), self._theta.shape[0],
                            self.cost == "cross_entropy", entry.own_work_rows(self._sizes),
                            entry.no_work(self._dtype))  # fmt: skip
        return self._direct

    def _predict_calls(self):
        """``predict``'s direct entry point, theta, :meth:`_network_codes`, and the most
        examples whose work buffers the entry allocates itself, given its ``no_work``."""
        if self._direct_predict is None:
            self._direct_predict = (entry.direct(self._typed("predict")), self._theta,
                                    self._network_codes(), entry.own_work_rows(self._sizes),
                                    entry.no_work(self._dtype))  # fmt: skip
        return self._direct_predict

    def _as_it_is(self, X) -> bool:
        """True if ``X`` may go to the direct entry points: a 2-D ndarray (no subclass) of the
        network's dtype, what :func:`indexnet.fast.entry.direct` does not test; the entries test
        the layout, shapes and values."""
        return type(X) is np.ndarray and X.dtype is self._dtype and X.ndim == 2

    def _typed_cost_and_gradient(self, X, Y, lam, beta, rho, grad):
        """``loops``' cost and gradient on checked arrays (ready ones or :meth:`check_XY`'s
        copies), through the typed entry's dispatcher, whose types refuse any other layout;
        NaN for an array it refuses or a value that is not finite."""
        work = self._workspace(X.shape[0])
        try:
            return self._typed("cost_and_gradient")(
                self._theta, self._network_codes(), X, Y, lam, beta, rho, work, grad
            )
        except TypeError:  # a layout the entry's types refuse: not C-ordered, read-only, ...
            return math.nan

    def _checked_cost_and_gradient(self, kernels, X, Y, lam, beta, rho, grad):
        """:meth:`_run_cost_and_gradient` with the values of X, Y, J and grad checked; NaN if
        any is not finite."""
        if kernels is loops:
            return self._typed_cost_and_gradient(X, Y, lam, beta, rho, grad)
        if not (entry.finite(X) and entry.finite(Y)):
            return math.nan
        J = self._run_cost_and_gradient(kernels, X, Y, lam, beta, rho, grad)
        return J if entry.finite_result(J, grad) else math.nan

    def _refuse(self, X, Y, lam, beta, grad, J):
        """Raise the error that explains why a checked call returned NaN."""
        self.check_XY(X, Y)  # a NaN or an infinity in X or Y, named with its row and column
        check_finite_result(
            "the cost or its gradient", (J, grad), X=X, Y=Y, theta=self._theta, lam=lam,
            beta=beta,
        )  # fmt: skip
        raise ValueError("the cost or its gradient is not finite")

    def cost_and_gradient(
        self,
        X,
        Y,
        lam: float = 0.0,
        backend: str = "loops",
        *,
        beta: float = 0.0,
        rho: float = 0.05,
    ) -> tuple[float, np.ndarray]:
        r"""The batch cost :math:`J(W,b)` and its gradient with respect to ``theta``.

        .. math::
            J(W,b) = \frac{1}{m} \sum_{k=1}^{m} \frac{1}{2} \| h_{W,b}(x^{(k)}) - y^{(k)} \|^2
                     + \frac{\lambda}{2} \sum_l \sum_i \sum_j (W_{ij}^{(l)})^2

        Parameters
        ----------
        X : array_like, shape (m, sizes[0])
            Inputs, one example a row.
        Y : array_like, shape (m, sizes[-1])
            Targets.
        lam : float
            Weight decay :math:`\lambda \ge 0`.
        backend : {"loops", "loops-parallel", "vectorized", "python"}
            Which kernels compute it.
        beta : float
            Weight :math:`\beta \ge 0` of the sparsity penalty
            :math:`\beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)` on every hidden layer (UFLDL's
            sparse autoencoder); 0 for none. Needs sigmoid hidden units.
        rho : float
            Target average activation :math:`\rho` of the hidden units, in (0, 1).

        Returns
        -------
        J : float
        grad : ndarray, shape (n_params,)
            A new array, laid out like ``theta``.
        """
        # Arrays the entry takes as they are go to it in one compiled call, past Numba's
        # dispatcher (see indexnet.fast.entry). This path is written out, with the tests of
        # _as_it_is, and the seqlock's read (see _SharedLock): each method call would cost a
        # tenth of a small network's step.
        dtype = self._dtype
        if (
            backend == "loops"
            and type(lam) is float is type(beta) is type(rho)
            and type(X) is np.ndarray is type(Y)
            and X.dtype is dtype is Y.dtype
            and X.ndim == 2 == Y.ndim
        ):
            entry, theta, network, n, probabilities, few, no_work = self._direct or self._calls()
            m = X.shape[0]
            work = no_work if m <= few else self._workspace(m)
            grad = np.empty(n, dtype)  # half of np.empty_like's cost
            lock = self._lock
            version = lock._version
            if not version & 1:
                J = entry(theta, network, X, Y, lam, beta, rho, work, grad)
                if J == J and lock._version == version:
                    if probabilities:
                        self._check_probabilities(Y)
                    return J, grad
        # Not taken as they are, a value is not finite, or a writer came: check, copy, retry.
        kernels, lam, beta, rho = self._scalars(lam, beta, rho, backend)
        grad = np.empty(self._theta.shape[0], self._dtype)
        X, Y = self._arguments(X, Y)
        J = self._lock.read(self._checked_cost_and_gradient, kernels, X, Y, lam, beta, rho, grad)
        if J != J:
            self._refuse(X, Y, lam, beta, grad, J)
        return float(J), grad

    def _typed_predict(self, X, a):
        """``loops``' forward pass on a checked ``X`` (a ready one or :meth:`check_X`'s copy),
        written into ``a``, through the typed entry's dispatcher; False for an ``X`` its types
        refuse, or a value that is not finite."""
        work = self._workspace(X.shape[0])
        try:
            return self._typed("predict")(self._theta, self._network_codes(), X, work, a)
        except TypeError:  # a layout the entry's types refuse: not C-ordered, read-only, ...
            return False

    def _checked_predict(self, kernels, X, a):
        """The output activations written into ``a``, and whether X and they are finite."""
        if kernels is loops:
            return self._typed_predict(X, a)
        if not entry.finite(X):
            return False
        m = X.shape[0]
        work = self._workspace(m)
        hidden, output, _ = self._codes
        kernels.forward(self._theta, self._sizes, X, hidden, output, work)
        a[...] = layout.layer_of(work[1], m, self._sizes, len(self._sizes) - 1)
        return entry.finite(a)

    def predict(self, X, backend: str = "loops") -> np.ndarray:
        """The output activations :math:`h_{W,b}(x) = a^{(n_l)}`, shape ``(m, sizes[-1])``."""
        if backend == "loops" and self._as_it_is(X):  # one compiled call, as cost_and_gradient
            entry, theta, network, few, no_work = self._direct_predict or self._predict_calls()
            m = X.shape[0]
            work = no_work if m <= few else self._workspace(m)
            a = np.empty((m, self._widths[1]), self._dtype)
            version = self._lock._version
            if not version & 1 and entry(theta, network, X, work, a):
                if self._lock._version == version:
                    return a
        # Not taken as it is, a value is not finite, or a writer came: check, copy, retry.
        kernels = backend_kernels(backend)
        if not self._ready(X, self._widths[0]):
            X = self.check_X(X)
        a = np.empty((X.shape[0], self._widths[1]), self._dtype)
        if not self._lock.read(self._checked_predict, kernels, X, a):
            self.check_X(X)  # a NaN or an infinity in X, named with its row and column
            check_finite_result("the output", (a,), X=X, theta=self._theta)
        return a

    def trace(
        self,
        X,
        Y,
        lam: float = 0.0,
        backend: str = "loops",
        *,
        beta: float = 0.0,
        rho: float = 0.05,
    ) -> Trace:
        """One forward and backward pass with every ``z``, ``a`` and ``delta`` kept (copies).

        Parameters as :meth:`cost_and_gradient`; see :class:`Trace` for the result.
        """
        X, Y = self.check_XY(X, Y)
        m, n_l = X.shape[0], len(self._sizes)

        kernels, lam, beta, rho = self._scalars(lam, beta, rho, backend)
        grad = np.empty(self._theta.shape[0], self._dtype)

        def traced():  # this thread's buffers, of this theta (the checked call computes in them)
            J = self._checked_cost_and_gradient(kernels, X, Y, lam, beta, rho, grad)
            return J, *(buffer.copy() for buffer in self._workspace(m))

        J, Z, A, D = self._lock.read(traced)
        if J != J:
            self._refuse(X, Y, lam, beta, grad, J)
        J = float(J)

        def layers(buffer):
            return [None] + [layout.layer_of(buffer, m, self._sizes, l) for l in range(1, n_l)]

        a = layers(A)
        a[0] = X.copy()
        return Trace(
            z=layers(Z),
            a=a,
            delta=layers(D),
            cost=J,
            grad=grad,
            grad_W=[layout.weights_of(grad, self._sizes, l) for l in range(n_l - 1)],
            grad_b=[layout.biases_of(grad, self._sizes, l) for l in range(n_l - 1)],
        )


def load(path) -> Network:
    """The network saved by :meth:`Network.save` at ``path``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a saved network (truncated, another kind of file, entries missing or
        inconsistent), or was written by a newer indexnet; the message names the file.
    """
    entries = saving.read(path)
    try:
        net = Network(
            [int(s) for s in np.atleast_1d(entries["sizes"])],
            hidden=str(entries["hidden"]),
            output=str(entries["output"]),
            cost=str(entries["cost"]),
            dtype=str(entries["dtype"]),
            seed=None,
        )
        theta = entries["theta"]
        if theta.dtype != net.dtype:
            raise ValueError(f"theta is {theta.dtype} but dtype says {np.dtype(net.dtype).name}")
        net.theta = theta
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds an inconsistent network: {error}") from error
    return net
