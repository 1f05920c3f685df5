"""What a user would pick instead of the loops, for ``indexnet bench`` to time them against.

Each reference is the bench's training step (sigmoid units, squared error, weight decay
``lam``, one update by ``alpha``) written as its own users write it for speed:

- :func:`numpy_step`: NumPy as an expert writes a step that must be fast: every array
  allocated once, every operation into its output (``out=``, in place), the sigmoid by
  ``scipy.special.expit`` and its derivative ``a (1 - a)`` without temporaries, the products by
  the BLAS.
- :func:`jax_step`: ``jax.jit`` of ``jax.value_and_grad`` and the update, float64 enabled,
  the parameters' buffers donated to the next step (the ``jax`` extra; skipped without it).
- :func:`torch_step`: PyTorch's autograd on the CPU (the ``torch`` extra).

Each takes the bench's case (a network, ``X``, ``Y``) and returns ``(step, state)``: ``step()``
runs one step and returns its cost, ``state()`` gives the cost, the gradient and the
parameters after the step, in the layout of ``Network.theta``, so the bench checks each against
the NumPy twin before it times it.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import scipy.special

from indexnet.kernels import layout

REFERENCES = ("numpy-fast", "jax", "torch")
"""The references, in the order the bench shows them."""


def available(name: str) -> bool:
    """Whether reference ``name`` can run here (NumPy always; JAX and torch when installed)."""
    if name == "numpy-fast":
        return True
    return importlib.util.find_spec({"jax": "jax", "torch": "torch"}[name]) is not None


def pin_jax_threads(threads: int) -> None:
    """Let JAX run on ``threads`` cores. XLA starts a thread for every CPU the process may run
    on, whatever its flags say (jax issues 743 and 1539), so the process is held to the first
    ``threads`` of its CPUs (Linux; the threads started after this inherit it), and XLA's flags
    are set too. Counts only before JAX starts: the bench pins its threads before it times."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        eigen = "true" if threads > 1 else "false"
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
        ).strip()
    if hasattr(os, "sched_setaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
        if threads < len(allowed):
            os.sched_setaffinity(0, allowed[:threads])


def _views(theta: np.ndarray, net) -> tuple[list, list]:
    """The weight matrices and bias vectors of ``theta``, as views (``Network.theta``'s layout,
    :mod:`indexnet.layout`)."""
    layers = range(len(net.sizes) - 1)
    return (
        [layout.weights_of(theta, net._sizes, l) for l in layers],
        [layout.biases_of(theta, net._sizes, l) for l in layers],
    )


def numpy_step(net, X: np.ndarray, Y: np.ndarray, lam: float, alpha: float):
    """The step in NumPy written for speed: preallocated, in place, BLAS for the products."""
    dtype = np.dtype(net.dtype).type
    sizes, m = list(net.sizes), X.shape[0]
    theta = net.theta.copy()
    grad = np.empty_like(theta)
    scratch = np.empty_like(theta)
    W, b = _views(theta, net)
    dW, db = _views(grad, net)
    n_w = sum(w.size for w in W)
    A = [X] + [np.empty((m, s), dtype) for s in sizes[1:]]
    D = [None] + [np.empty((m, s), dtype) for s in sizes[1:]]
    T = [None] + [np.empty((m, s), dtype) for s in sizes[1:]]
    inv_m, lam_f, alpha_f, half = dtype(1 / m), dtype(lam), dtype(alpha), dtype(0.5)
    top = len(sizes) - 1
    last = [0.0]

    def prime(l):
        """``D[l] *= a (1 - a)``, the sigmoid's derivative, through ``T[l]``."""
        np.subtract(dtype(1), A[l], out=T[l])
        np.multiply(T[l], A[l], out=T[l])
        np.multiply(D[l], T[l], out=D[l])

    def step():
        for l in range(top):
            np.matmul(A[l], W[l].T, out=A[l + 1])
            np.add(A[l + 1], b[l], out=A[l + 1])
            scipy.special.expit(A[l + 1], out=A[l + 1])
        np.subtract(A[top], Y, out=D[top])
        weights = theta[:n_w]
        J = half * inv_m * np.vdot(D[top], D[top]) + half * lam_f * np.vdot(weights, weights)
        prime(top)
        for l in range(top - 1, 0, -1):
            np.matmul(D[l + 1], W[l], out=D[l])
            prime(l)
        for l in range(top):
            np.matmul(D[l + 1].T, A[l], out=dW[l])
            np.sum(D[l + 1], axis=0, out=db[l])
        np.multiply(grad, inv_m, out=grad)
        np.multiply(theta[:n_w], lam_f, out=scratch[:n_w])
        np.add(grad[:n_w], scratch[:n_w], out=grad[:n_w])
        np.multiply(grad, alpha_f, out=scratch)
        np.subtract(theta, scratch, out=theta)
        last[0] = float(J)
        return last[0]

    return step, lambda: (last[0], grad, theta)


def jax_step(net, X: np.ndarray, Y: np.ndarray, lam: float, alpha: float):
    """The step in JAX: ``jit`` of ``value_and_grad`` and the update, parameters donated."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    W, b = _views(net.theta.copy(), net)
    params = [(jnp.asarray(w), jnp.asarray(v)) for w, v in zip(W, b, strict=True)]
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    m = X.shape[0]

    def cost(params, X, Y):
        a = X
        for w, v in params:
            a = jax.nn.sigmoid(a @ w.T + v)
        decay = sum(jnp.vdot(w, w) for w, _ in params)
        return 0.5 * jnp.vdot(a - Y, a - Y) / m + 0.5 * lam * decay

    def update(params, X, Y):
        J, g = jax.value_and_grad(cost)(params, X, Y)
        return jax.tree_util.tree_map(lambda p, d: p - alpha * d, params, g), J, g

    compiled = jax.jit(update, donate_argnums=0)
    current = {"params": params, "J": None, "g": None}

    def step():
        current["params"], J, current["g"] = compiled(current["params"], Xj, Yj)
        current["J"] = J
        return float(J.block_until_ready())

    def flat(pairs):
        return np.concatenate(
            [np.asarray(w).ravel() for w, _ in pairs] + [np.asarray(v) for _, v in pairs]
        )

    return step, lambda: (float(current["J"]), flat(current["g"]), flat(current["params"]))


def torch_step(net, X: np.ndarray, Y: np.ndarray, lam: float, alpha: float):
    """The step written for PyTorch's autograd (CPU)."""
    import torch

    dtype = {np.float32: torch.float32, np.float64: torch.float64}[np.dtype(net.dtype).type]
    W = [torch.tensor(w, dtype=dtype, requires_grad=True) for w in net.W]
    b = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in net.b]
    Xt, Yt = torch.tensor(X, dtype=dtype), torch.tensor(Y, dtype=dtype)
    last = [0.0]

    def step():
        a = Xt
        for Wl, bl in zip(W, b, strict=True):
            a = torch.sigmoid(a @ Wl.T + bl)
        J = 0.5 * ((a - Yt) ** 2).sum() / Xt.shape[0] + lam / 2 * sum((w**2).sum() for w in W)
        for p in (*W, *b):
            p.grad = None
        J.backward()
        with torch.no_grad():
            for p in (*W, *b):
                p -= alpha * p.grad
        last[0] = J.item()
        return last[0]

    def state():
        grad = np.concatenate([p.grad.numpy().ravel() for p in (*W, *b)])
        theta = np.concatenate([p.detach().numpy().ravel() for p in (*W, *b)])
        return last[0], grad, theta

    return step, state


STEPS = {"numpy-fast": numpy_step, "jax": jax_step, "torch": torch_step}
"""Each reference's step."""
