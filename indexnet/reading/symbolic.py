r"""The backpropagation formulas checked by computer algebra (sympy, the ``symbolic`` extra).

For given sizes, :func:`symbolic_checks` builds the cost :math:`J` from the forward equations
with symbols for every input, target, weight and bias, differentiates it, and confirms that
each derivative equals the backpropagation formula: the difference expands to 0.

* Deltas: :math:`J` is built with the weighted inputs :math:`z^{(l)}` of one layer as symbols
  (forward from there), and :math:`m\,\partial J / \partial z_i^{(l)}(k)` is compared with
  :math:`\delta_i^{(l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})` at the output and
  :math:`(\sum_j W_{ji}^{(l)} \delta_j^{(l+1)}) f'(z_i^{(l)})` below it.
* Gradients: :math:`J` is built from the inputs :math:`x`, and :math:`\partial J /
  \partial W_{ij}^{(l)}` and :math:`\partial J / \partial b_i^{(l)}` are compared with
  :math:`\frac{1}{m} \sum_k a_j^{(l)}(k) \delta_i^{(l+1)}(k) + \lambda W_{ij}^{(l)}` and
  :math:`\frac{1}{m} \sum_k \delta_i^{(l+1)}(k)`, :math:`\lambda` a symbol when weight decay is on.

:math:`f'` is written through :math:`f` itself (sigmoid :math:`f(1 - f)`, tanh :math:`1 - f^2`),
as the kernels compute it, so the chain rule's terms and the formula's cancel exactly.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

from indexnet.checks.extras import MissingExtraError
from indexnet.checks.inputs import check_choice, check_int, check_sizes

FUNCTIONS = ("sigmoid", "tanh", "identity")
"""The activations the checks know (ReLU's derivative is not a function of itself)."""


def _sympy():
    try:
        return importlib.import_module("sympy")
    except ImportError as error:
        raise MissingExtraError(
            "the symbolic checks need sympy, which is not installed; "
            "install it with: pip install 'indexnet[symbolic]'"
        ) from error


@dataclass(frozen=True)
class SymbolicCheck:
    """One derivative of :math:`J` compared with its backpropagation formula.

    Attributes
    ----------
    equation : str
        ``"output delta"``, ``"hidden delta"``, ``"weight gradient"`` or ``"bias gradient"``.
    unit : str
        What is differentiated, e.g. ``"delta_2^(2)"``, ``"W_12^(1)"``, ``"b_1^(2)"``; a
        per-example delta with more than one example adds ``"(k)"``.
    equal : bool
        Whether the difference expanded to 0.
    """

    equation: str
    unit: str
    equal: bool

    def as_dict(self) -> dict:
        """``{"equation": ..., "unit": ..., "equal": ...}``."""
        return {"equation": self.equation, "unit": self.unit, "equal": bool(self.equal)}


@dataclass(frozen=True)
class _Algebra:
    sp: object
    f: object
    f_prime: object


@functools.cache
def _algebra(name: str) -> _Algebra:
    sp = _sympy()
    if name == "sigmoid":

        class sigma(sp.Function):
            r"""The logistic function, whose derivative sympy takes as :math:`f(1 - f)`."""

            def fdiff(self, argindex=1):
                return sigma(self.args[0]) * (1 - sigma(self.args[0]))

        return _Algebra(sp, sigma, lambda z: sigma(z) * (1 - sigma(z)))
    if name == "tanh":
        return _Algebra(sp, sp.tanh, lambda z: 1 - sp.tanh(z) ** 2)
    return _Algebra(sp, lambda z: z, lambda z: sp.Integer(1))


class _Net:
    """Symbols for one network: weights, biases, inputs and targets of ``m`` examples."""

    def __init__(self, sp, sizes, m, weight_decay):
        self.sp, self.sizes, self.m, self.top = sp, sizes, m, len(sizes) - 1
        self.W = [
            sp.Matrix(
                sizes[L + 1], sizes[L], lambda i, j, L=L: sp.Symbol(f"W{L + 1}_{i + 1}{j + 1}")
            )
            for L in range(self.top)
        ]
        self.b = [
            [sp.Symbol(f"b{L + 1}_{i + 1}") for i in range(sizes[L + 1])] for L in range(self.top)
        ]
        self.x = [[sp.Symbol(f"x{k + 1}_{j + 1}") for j in range(sizes[0])] for k in range(m)]
        self.y = [[sp.Symbol(f"y{k + 1}_{i + 1}") for i in range(sizes[-1])] for k in range(m)]
        self.lam = sp.Symbol("lambda") if weight_decay else sp.Integer(0)


def _activations(hidden, output, top):
    """``act(layer)``: the algebra (f and f') of code layer ``layer``."""
    fs = {"hidden": _algebra(hidden), "output": _algebra(output)}
    return lambda layer: fs["output"] if layer == top else fs["hidden"]


def _forward(net, act, L, z_L, a_L):
    """Every layer's ``z`` and ``a`` from code layer ``L`` up, for one example."""
    zs, as_ = {L: z_L}, {L: a_L}
    for q in range(L, net.top):
        zs[q + 1] = [
            sum((net.W[q][i, j] * as_[q][j] for j in range(net.sizes[q])), net.sp.Integer(0))
            + net.b[q][i]
            for i in range(net.sizes[q + 1])
        ]
        as_[q + 1] = [act(q + 1).f(z) for z in zs[q + 1]]
    return zs, as_


def _loss(net, a_out, y, cost):
    sp = net.sp
    if cost == "squared":
        return sum((sp.Rational(1, 2) * (a - t) ** 2 for a, t in zip(a_out, y, strict=True)), 0)
    return -sum((t * sp.log(a) + (1 - t) * sp.log(1 - a) for a, t in zip(a_out, y, strict=True)), 0)


def _decay(net):
    return net.lam / 2 * sum((w**2 for W in net.W for w in W), net.sp.Integer(0))


def _deltas(net, zs, as_, act, y, cost, lowest):
    """The backpropagation formulas for ``delta`` of every layer from the output down to
    ``lowest``, written from the forward expressions ``zs``, ``as_``."""
    top = net.top
    if cost == "cross_entropy":
        delta = {top: [a - t for a, t in zip(as_[top], y, strict=True)]}
    else:
        delta = {
            top: [
                -(t - a) * act(top).f_prime(z) for z, a, t in zip(zs[top], as_[top], y, strict=True)
            ]
        }
    for L in range(top - 1, lowest - 1, -1):
        delta[L] = [
            sum((net.W[L][j, i] * delta[L + 1][j] for j in range(net.sizes[L + 1])), 0)
            * act(L).f_prime(zs[L][i])
            for i in range(net.sizes[L])
        ]
    return delta


def _zero(sp, expression) -> bool:
    """Whether ``expression`` is identically 0: expanded, it is 0 term by term; if it is not,
    a value far from 0 at one point settles it without :func:`sympy.simplify` (slow)."""
    difference = sp.expand(expression)
    if difference == 0:
        return True
    point = {
        s: sp.Rational(q % 7 + 1, 9) for q, s in enumerate(sorted(difference.free_symbols, key=str))
    }
    closed = difference.replace(
        lambda e: getattr(e, "func", None).__name__ == "sigma",
        lambda e: 1 / (1 + sp.exp(-e.args[0])),
    )
    if abs(complex(closed.subs(point).evalf())) > 1e-9:
        return False
    return sp.simplify(difference) == 0


def symbolic_checks(
    sizes,
    *,
    hidden: str = "sigmoid",
    output: str = "sigmoid",
    cost: str = "squared",
    weight_decay: bool = False,
    m: int = 1,
) -> list:
    r"""Differentiate :math:`J` symbolically and compare each derivative with backpropagation.

    .. math::
        m \frac{\partial J}{\partial z_i^{(l)}} - \delta_i^{(l)} = 0, \qquad
        \frac{\partial J}{\partial W_{ij}^{(l)}} - \Big(\frac{1}{m} \sum_k a_j^{(l)}
            \delta_i^{(l+1)} + \lambda W_{ij}^{(l)}\Big) = 0

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, e.g. ``[2, 3, 2, 2]``.
    hidden, output : {"sigmoid", "tanh", "identity"}
        Activations.
    cost : {"squared", "cross_entropy"}
        ``"cross_entropy"`` needs a sigmoid output.
    weight_decay : bool
        Add :math:`\frac{\lambda}{2} \sum W^2` with :math:`\lambda` a symbol.
    m : int
        Examples, each with its own input and target symbols.

    Returns
    -------
    list of SymbolicCheck
        One for every unit's delta (and example), every weight and every bias.
    """
    sizes = [int(s) for s in check_sizes(sizes)]
    hidden = check_choice("hidden", hidden, FUNCTIONS)
    output = check_choice("output", output, FUNCTIONS)
    cost = check_choice("cost", cost, ("squared", "cross_entropy"))
    if cost == "cross_entropy" and output != "sigmoid":
        raise ValueError(f"cost='cross_entropy' needs output='sigmoid'; got output={output!r}")
    m = check_int("m", m, 1)
    sp = _sympy()
    net = _Net(sp, sizes, m, bool(weight_decay))
    act = _activations(hidden, output, net.top)
    checks = []
    for L in range(net.top, 0, -1):
        z_symbols = [
            [sp.Symbol(f"z{L + 1}_{i + 1}_{k + 1}") for i in range(sizes[L])] for k in range(m)
        ]
        J, deltas = _decay(net), []
        for k in range(m):
            a_L = [act(L).f(z) for z in z_symbols[k]]
            zs, as_ = _forward(net, act, L, z_symbols[k], a_L)
            J += _loss(net, as_[net.top], net.y[k], cost) / m
            deltas.append(_deltas(net, zs, as_, act, net.y[k], cost, L)[L])
        for k in range(m):
            for i in range(sizes[L]):
                derivative = m * sp.diff(J, z_symbols[k][i])
                unit = f"delta_{i + 1}^({L + 1})" + (f"({k + 1})" if m > 1 else "")
                kind = "output delta" if L == net.top else "hidden delta"
                checks.append(SymbolicCheck(kind, unit, _zero(sp, derivative - deltas[k][i])))
    # The gradients, from J built on the inputs x.
    J, forward, deltas = _decay(net), [], []
    for k in range(m):
        zs, as_ = _forward(net, act, 0, None, net.x[k])
        J += _loss(net, as_[net.top], net.y[k], cost) / m
        forward.append(as_)
        deltas.append(_deltas(net, zs, as_, act, net.y[k], cost, 1))
    for L in range(net.top - 1, -1, -1):
        for i in range(sizes[L + 1]):
            for j in range(sizes[L]):
                w = net.W[L][i, j]
                formula = (
                    sum((forward[k][L][j] * deltas[k][L + 1][i] for k in range(m)), 0) / m
                    + net.lam * w
                )
                equal = _zero(sp, sp.diff(J, w) - formula)
                checks.append(
                    SymbolicCheck("weight gradient", f"W_{i + 1}{j + 1}^({L + 1})", equal)
                )
            formula = sum((deltas[k][L + 1][i] for k in range(m)), 0) / m
            equal = _zero(sp, sp.diff(J, net.b[L][i]) - formula)
            checks.append(SymbolicCheck("bias gradient", f"b_{i + 1}^({L + 1})", equal))
    return checks
