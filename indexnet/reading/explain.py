r"""One traced pass of backpropagation written out: every number, its equation, its kernel line.

:func:`explain` runs :meth:`indexnet.Network.trace` (the loop kernels) on a small network and
writes every equation instance out with the trace's numbers, in the order
:func:`indexnet.loops.cost_and_gradient` computes them: each weighted input
:math:`z_i^{(l+1)} = \sum_j W_{ij}^{(l)} a_j^{(l)} + b_i^{(l)}` term by term, each activation,
the cost, each output delta, each weight and bias gradient, each hidden delta with its sum over
:math:`j` expanded, and the update. Beside each group stands the loop kernel's own ``$...$``
comment and the code under it, read with :mod:`inspect` from the kernel that ran; under each
delta and gradient, a central difference confirms it.

Nothing here computes backpropagation a second time. The values shown are the trace's; the
central differences are costs evaluated by the same loop kernels (:func:`indexnet.loops.cost`
after :func:`indexnet.loops.weighted_input` and :func:`indexnet.loops.activation` from a
perturbed layer on), and the update is :func:`indexnet.loops.update` applied to a copy.

Indices are the math's (UFLDL's, from 1); ``net.W[l - 1][i - 1, j - 1]`` is
:math:`W_{ij}^{(l)}`, as :mod:`indexnet.layout` explains.
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexnet.api.gradcheck import check_gradient
from indexnet.api.network import Network
from indexnet.kernels import activations, loops
from indexnet.kernels.activations import ACTIVATIONS, LOSSES, SIGMOID
from indexnet.kernels.layout import biases_of, weights_of
from indexnet.reading.notation import DIGITS, as_text, number

MAX_UNITS = 8
"""The most units a layer may have for the page to draw it (bias not counted)."""
MAX_LAYERS = 5
"""The most layers, input and output included."""
MAX_EXAMPLES = 3
"""The most examples: each one writes every equation out once more."""
TIMES = " \N{MULTIPLICATION SIGN} "
"""The product sign of the written-out numbers, with its spaces."""

__all__ = ["Explanation", "Group", "Instance", "KernelLine", "explain"]


# -- reading the kernels ------------------------------------------------------------------------

_MATH_COMMENT = re.compile(r"^(?P<indent>\s*)#\s*\$(?P<latex>[^$]+)\$")


@dataclass(frozen=True)
class KernelLine:
    r"""One ``$...$`` comment of a loop kernel and the code under it, as the source has them.

    Attributes
    ----------
    kernel : str
        The function it is read from, e.g. ``"_weighted_input"``.
    latex : str
        The comment's math, e.g. ``r"z_i^{(l+1)} = b_i^{(l)} + \sum_j W_{ij}^{(l)} a_j^{(l)}"``.
    comment : str
        The comment line as written (dedented with the code).
    code : str
        The lines under the comment, up to the next comment or the end of their block.
    path : str
        The kernel's source file.
    line : int
        Line number of the comment in ``path``.
    """

    kernel: str
    latex: str
    comment: str
    code: str
    path: str
    line: int


def _body(name: str):
    """The Python function that holds kernel ``name``'s loops: its unchecked body if it has one."""
    kernel = getattr(loops, f"_{name}", None) or getattr(loops, name)
    return getattr(kernel, "py_func", kernel)


@functools.cache
def kernel_lines(name: str) -> tuple:
    """Every ``$...$`` comment of loop kernel ``name``'s body with the code under it.

    Parameters
    ----------
    name : str
        A kernel of :mod:`indexnet.loops` (``"weighted_input"``) or a private helper of it
        (``"weight_decay"`` reads ``_weight_decay``).

    Returns
    -------
    tuple of KernelLine
        In source order.
    """
    function = _body(name)
    lines, first = inspect.getsourcelines(function)
    path = inspect.getsourcefile(function) or "?"
    found = []
    for n, line in enumerate(lines):
        match = _MATH_COMMENT.match(line)
        if not match:
            continue
        indent = len(match.group("indent"))
        code = []
        for below in lines[n + 1 :]:
            stripped = below.strip()
            if not stripped or stripped.startswith("#"):
                break
            if len(below) - len(below.lstrip()) < indent:
                break
            code.append(below.rstrip("\n"))
        block = textwrap.dedent("\n".join([line.rstrip("\n"), *code])).split("\n")
        found.append(
            KernelLine(
                kernel=function.__name__,
                latex=match.group("latex").strip(),
                comment=block[0],
                code="\n".join(block[1:]),
                path=path,
                line=first + n,
            )
        )
    return tuple(found)


def _pick(name: str, *needles: str) -> list:
    """For each needle, the first comment of kernel ``name`` whose math contains it."""
    chosen = []
    for needle in needles:
        line = next((k for k in kernel_lines(name) if needle in k.latex), None)
        if line is not None and line not in chosen:
            chosen.append(line)
    return chosen


# -- notation -----------------------------------------------------------------------------------


def _factor(value: float, digits: int) -> str:
    """A number that is a factor or a later term: negative ones in parentheses."""
    text = number(value, digits)
    return f"({text})" if text.startswith("-") else text


def _sym(name: str, sub, layer, example=None) -> str:
    """LaTeX of a subscripted, layer-superscripted symbol: ``W_{12}^{(1)}``, ``a_2^{(1)}(k)``."""
    text = f"{name}_{{{sub}}}^{{({layer})}}"
    return text if example is None else f"{text}({example})"


def equation_of(name: str) -> str:
    """The first ``.. math::`` block of loop kernel ``name``'s docstring."""
    from indexnet.reading.showcase import parse_docstring

    math = parse_docstring(getattr(loops, name).__doc__).math
    return math[0] if math else ""


# -- what the pages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    r"""One equation with the unit's subscripts filled in, and its numbers.

    Attributes
    ----------
    quantity : str
        ``"z"``, ``"a"``, ``"J"``, ``"delta"``, ``"dW"``, ``"db"``, ``"W"`` or ``"b"`` (the last
        two: the update).
    layer : int
        The math's layer number (from 1): of the unit, or ``l`` of :math:`W^{(l)}`.
    index : tuple of int
        The math's unit indices (from 1): ``(i,)`` or ``(i, j)``.
    example : int or None
        The example :math:`k` (from 1), for per-example quantities.
    lhs, rhs : str
        LaTeX of the two sides with symbols.
    numbers : str
        The right-hand side with the trace's numbers in place of the symbols.
    value : float
        The trace's value of the left-hand side.
    check : float or None
        A central difference of the cost that confirms ``value`` (deltas and gradients).
    """

    quantity: str
    layer: int
    index: tuple
    example: int | None
    lhs: str
    rhs: str
    numbers: str
    value: float
    check: float | None = None

    @property
    def key(self) -> str:
        """A name unique on the page, e.g. ``"delta-2-1-k1"``."""
        parts = [self.quantity, str(self.layer), *map(str, self.index)]
        if self.example is not None:
            parts.append(f"k{self.example}")
        return "-".join(parts)


@dataclass(frozen=True)
class Group:
    """The instances of one equation on one layer, with the kernel lines that compute them.

    Attributes
    ----------
    title : str
        E.g. ``"Forward, layer 1 to 2: weighted input"``.
    kernel : str
        The public loop kernel, e.g. ``"weighted_input"``.
    equation : str
        LaTeX of the kernel's docstring equation.
    lines : list of KernelLine
    instances : list of Instance
    """

    title: str
    kernel: str
    equation: str
    lines: list
    instances: list


@dataclass
class Explanation:
    r"""One pass of backpropagation on a small network, every equation written out.

    Made by :func:`explain`; :meth:`text` and :meth:`html` render it.

    Attributes
    ----------
    net : Network
        The network explained (its parameters are not changed).
    X, Y : ndarray, shape (m, s_1) and (m, s_{n_l})
        The examples.
    lam, beta, rho, alpha : float
        Weight decay, sparsity weight and target, learning rate.
    trace : Trace
        What :meth:`Network.trace` returned: every number shown comes from it.
    groups : list of Group
        In the order the loop kernels run.
    W_new, b_new : list of ndarray
        The parameters after one step of gradient descent (:func:`indexnet.loops.update`).
    digits : int
        Significant digits printed.
    """

    net: Network
    X: np.ndarray
    Y: np.ndarray
    lam: float
    beta: float
    rho: float
    alpha: float
    trace: object
    groups: list
    W_new: list
    b_new: list
    digits: int = DIGITS
    symbolic: list | None = field(default=None)

    @property
    def sizes(self) -> tuple:
        """Units per layer."""
        return self.net.sizes

    @property
    def m(self) -> int:
        """Number of examples."""
        return int(self.X.shape[0])

    def instances(self, quantity: str | None = None) -> list:
        """Every instance, or those of one ``quantity``, in page order."""
        return [
            item
            for group in self.groups
            for item in group.instances
            if quantity is None or item.quantity == quantity
        ]

    def check_symbolic(self) -> list:
        """Run the sympy checks for these sizes and activations (:mod:`indexnet.reading.symbolic`).

        The result is kept in :attr:`symbolic`, which :meth:`html` then shows.
        """
        from indexnet.reading.symbolic import symbolic_checks

        self.symbolic = symbolic_checks(
            self.sizes,
            hidden=self.net.hidden,
            output=self.net.output,
            cost=self.net.cost,
            weight_decay=self.lam > 0,
            m=self.m,
        )
        return self.symbolic

    def text(self, width: int = 100) -> str:
        """The plain-text page, every line at most ``width`` columns where it can be broken."""
        from indexnet.reading.explain_render import text_page

        return text_page(self, width)

    def html(self) -> str:
        """The self-contained HTML page: the drawing, every equation, the kernel lines."""
        from indexnet.reading.explain_render import html_page

        return html_page(self)

    def as_dict(self) -> dict:
        """Every instance as a JSON-ready dict (and the symbolic checks, if run)."""
        out = {
            "network": {
                "sizes": list(self.sizes),
                "hidden": self.net.hidden,
                "output": self.net.output,
                "cost": self.net.cost,
            },
            "m": self.m,
            "lambda": self.lam,
            "beta": self.beta,
            "rho": self.rho,
            "alpha": self.alpha,
            "cost": float(self.trace.cost),
            "steps": [
                {
                    "title": group.title,
                    "kernel": group.kernel,
                    "equation": as_text(group.equation),
                    "kernel_lines": [
                        {"line": k.line, "comment": k.comment, "code": k.code} for k in group.lines
                    ],
                    "instances": [
                        {
                            "name": as_text(item.lhs),
                            "quantity": item.quantity,
                            "layer": item.layer,
                            "index": list(item.index),
                            "example": item.example,
                            "equation": f"{as_text(item.lhs)} = {as_text(item.rhs)}",
                            "numbers": item.numbers,
                            "value": float(item.value),
                            "finite_difference": item.check,
                        }
                        for item in group.instances
                    ],
                }
                for group in self.groups
            ],
        }
        if self.symbolic is not None:
            out["symbolic"] = [check.as_dict() for check in self.symbolic]
        return out

    def write_html(self, path) -> Path:
        """Write :meth:`html` to ``path``; returns the path."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path


# -- checks -------------------------------------------------------------------------------------


def _check_small(net, X) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be an indexnet.Network; got {type(net).__name__}")
    sizes = net.sizes
    if len(sizes) > MAX_LAYERS:
        raise ValueError(
            f"net is too big to draw: at most {MAX_LAYERS} layers; got {len(sizes)} "
            f"(sizes={list(sizes)})"
        )
    if max(sizes) > MAX_UNITS:
        raise ValueError(
            f"net is too big to draw: at most {MAX_UNITS} units a layer; got sizes={list(sizes)}"
        )
    if net.output == "softmax":
        raise ValueError(
            "net.output must be an elementwise activation (sigmoid, tanh, relu or identity) for "
            "explain, whose deltas are written unit by unit; got output='softmax'"
        )
    if X.shape[0] > MAX_EXAMPLES:
        raise ValueError(
            f"X has too many examples to write out: at most {MAX_EXAMPLES} rows; got {X.shape[0]}"
        )


# -- central differences through the loop kernels ----------------------------------------------


def _kind(net, l: int) -> int:
    """Activation code of code layer ``l`` (1..n_l-1)."""
    top = len(net.sizes) - 1
    return ACTIVATIONS[net.output] if l == top else ACTIVATIONS[net.hidden]


def _cost_from(net, trace, Y, lam, beta, rho, l: int, z_l: np.ndarray) -> float:
    """The batch cost with code layer ``l``'s weighted input replaced by ``z_l``.

    Forward from there with :func:`loops.activation` and :func:`loops.weighted_input`, then
    :func:`loops.cost` (and :func:`loops.sparsity_penalty` with ``beta > 0``).
    """
    top = len(net.sizes) - 1
    z, a = z_l, np.empty_like(z_l)
    loops.activation(z, _kind(net, l), a)
    hidden_a = {q: trace.a[q] for q in range(1, l)}
    for q in range(l, top):
        hidden_a[q] = a
        z_next = np.empty((a.shape[0], net.sizes[q + 1]), dtype=a.dtype)
        loops.weighted_input(net.W[q], net.b[q], a, z_next)
        z, a = z_next, np.empty_like(z_next)
        loops.activation(z, _kind(net, q + 1), a)
    weights = np.ascontiguousarray(net.theta[: net.n_weights])
    J = loops.cost(z, a, Y, weights, lam, LOSSES[net.cost], ACTIVATIONS[net.output])
    if beta > 0:
        for q in range(1, top):
            rho_hat = np.empty(net.sizes[q], dtype=a.dtype)
            loops.average_activation(np.ascontiguousarray(hidden_a[q]), rho_hat)
            J += loops.sparsity_penalty(rho_hat, rho, beta)
    return float(J)


def _delta_by_differences(net, trace, Y, lam, beta, rho, epsilon) -> list:
    r""":math:`\delta_i^{(l)}(k) = m\, \partial J / \partial z_i^{(l)}(k)` by differences."""
    m = trace.a[0].shape[0]
    out = [None]
    for l in range(1, len(net.sizes)):
        z = np.ascontiguousarray(trace.z[l]).copy()
        d = np.empty_like(z)
        for k, i in np.ndindex(*z.shape):
            saved = z[k, i]
            z[k, i] = saved + epsilon
            plus = _cost_from(net, trace, Y, lam, beta, rho, l, z)
            z[k, i] = saved - epsilon
            minus = _cost_from(net, trace, Y, lam, beta, rho, l, z)
            z[k, i] = saved
            d[k, i] = m * (plus - minus) / (2 * epsilon)
        out.append(d)
    return out


# -- the instances ------------------------------------------------------------------------------


class _Builder:
    """Writes the instances of one traced pass; ``L`` is a code layer, ``L + 1`` the math's."""

    def __init__(self, net, X, Y, lam, beta, rho, alpha, trace, digits):
        self.net, self.X, self.Y, self.trace = net, X, Y, trace
        self.lam, self.beta, self.rho, self.alpha, self.digits = lam, beta, rho, alpha, digits
        self.m, self.top = X.shape[0], len(net.sizes) - 1
        epsilon = 1e-4 if net.dtype == np.float64 else 1e-2
        self.delta_check = _delta_by_differences(net, trace, Y, lam, beta, rho, epsilon)
        numerical = check_gradient(net, X, Y, lam=lam, epsilon=epsilon, beta=beta, rho=rho)
        sizes = np.asarray(net.sizes, dtype=np.int64)
        g = numerical.numerical
        self.dW_check = [weights_of(g, sizes, L) for L in range(self.top)]
        self.db_check = [biases_of(g, sizes, L) for L in range(self.top)]
        self.rho_hat = {}
        if beta > 0:
            for L in range(1, self.top):
                rho_hat = np.empty(net.sizes[L], dtype=net.dtype)
                loops.average_activation(np.ascontiguousarray(trace.a[L]), rho_hat)
                self.rho_hat[L] = rho_hat

    def n(self, value) -> str:
        return number(value, self.digits)

    def f(self, value) -> str:
        return _factor(value, self.digits)

    def ex(self, k):
        """The example's label in the math, or None for a single example."""
        return None if self.m == 1 else k + 1

    def f_prime(self, L, k, i) -> float:
        """:math:`f'(z_i)` as the kernels compute it (:func:`indexnet.activations.f_prime`)."""
        z, a = self.trace.z[L][k, i], self.trace.a[L][k, i]
        return float(activations.f_prime(z, a, _kind(self.net, L)))

    # forward

    def weighted_input(self, L) -> Group:
        net, trace, items = self.net, self.trace, []
        W, b = net.W[L], net.b[L]
        for k in range(self.m):
            for i in range(net.sizes[L + 1]):
                e = self.ex(k)
                terms = [
                    f"{_sym('W', f'{i + 1}{j + 1}', L + 1)} {_sym('a', j + 1, L + 1, e)}"
                    for j in range(net.sizes[L])
                ]
                numbers = [
                    f"{self.f(W[i, j])}{TIMES}{self.f(trace.a[L][k, j])}"
                    for j in range(net.sizes[L])
                ]
                items.append(
                    Instance(
                        "z", L + 2, (i + 1,), e, _sym("z", i + 1, L + 2, e),
                        " + ".join([*terms, _sym("b", i + 1, L + 1)]),
                        " + ".join([*numbers, self.f(b[i])]), float(trace.z[L + 1][k, i]),
                    )
                )  # fmt: skip
        return Group(
            f"Forward, layer {L + 1} to {L + 2}: weighted input",
            "weighted_input",
            equation_of("weighted_input"),
            _pick("weighted_input", "z_i^{(l+1)} ="),
            items,
        )

    def activation(self, L) -> Group:
        net, trace, items = self.net, self.trace, []
        kind = _kind(net, L)
        name = net.output if L == self.top else net.hidden
        for k in range(self.m):
            for i in range(net.sizes[L]):
                e = self.ex(k)
                z = _sym("z", i + 1, L + 1, e)
                items.append(
                    Instance(
                        "a", L + 1, (i + 1,), e, _sym("a", i + 1, L + 1, e), f"f({z})",
                        f"{name}({self.n(trace.z[L][k, i])})", float(trace.a[L][k, i]),
                    )
                )  # fmt: skip
        if kind == SIGMOID:
            lines = _pick("activation", "1 + e^{-z")
        else:
            lines = [k for k in kernel_lines("activation") if k.latex == "a_i^{(l)} = f(z_i^{(l)})"]
        lines = lines[:1] or _pick("activation", "a_i^{(l)} = f")
        return Group(
            f"Forward, layer {L + 1}: activation, f = {name}",
            "activation",
            equation_of("activation").split(r"\qquad")[0].strip().rstrip(","),
            lines,
            items,
        )

    # cost

    def cost(self) -> Group:
        net, trace, Y, top, m = self.net, self.trace, self.Y, self.top, self.m
        a = trace.a[top]
        weights = np.ascontiguousarray(net.theta[: net.n_weights])
        loss, kind = LOSSES[net.cost], ACTIVATIONS[net.output]
        data = float(loops.cost(trace.z[top], a, Y, weights, 0.0, loss, kind))
        # Both from the cost's own kernel: lambda/2 sum W^2 at lambda = 2 is the sum of squares.
        squares = float(loops._weight_decay(weights, 2.0))
        decay = float(loops._weight_decay(weights, self.lam))
        s = net.sizes[top]
        n_l = top + 1
        if net.cost == "squared":
            rhs = r"\frac{1}{m} \sum_k \frac{1}{2} \sum_i (a_i^{(" + str(n_l) + r")}(k) - y_i(k))^2"
            inner = " + ".join(
                f"({self.n(a[k, i])} - {self.f(Y[k, i])})²" for k in range(m) for i in range(s)
            )
            numbers = f"1/{m}{TIMES}1/2{TIMES}[{inner}]"
        else:
            rhs = r"-\frac{1}{m} \sum_k \sum_i [y_i \log a_i + (1 - y_i) \log(1 - a_i)]"
            inner = " + ".join(
                f"{self.f(Y[k, i])} log {self.n(a[k, i])} + (1 - {self.f(Y[k, i])}) "
                f"log(1 - {self.n(a[k, i])})"
                for k in range(m)
                for i in range(s)
            )
            numbers = f"-1/{m}{TIMES}[{inner}]"
        numbers += f" = {self.n(data)}"
        rhs += r" + \frac{\lambda}{2} \sum_l \sum_i \sum_j (W_{ij}^{(l)})^2"
        numbers += f"; + {self.n(self.lam)}/2{TIMES}{self.n(squares)} = + {self.n(decay)}"
        if self.beta > 0:
            rhs += r" + \beta \sum_j \mathrm{KL}(\rho \| \hat\rho_j)"
            penalty = sum(
                float(loops.sparsity_penalty(rho_hat, self.rho, self.beta))
                for rho_hat in self.rho_hat.values()
            )
            numbers += f"; + {self.n(penalty)}"
        lines = (
            _pick("cost", r"\frac{1}{2}", r"\frac{1}{m}")
            if net.cost == "squared"
            else _pick("cost", r"\log a_i + (1 - y_i)", r"\frac{1}{m}")
        )
        lines += _pick("weight_decay", r"\sum_l \sum_i \sum_j")
        if self.beta > 0:
            lines += _pick("sparsity_penalty", r"\rho \log")
        item = Instance("J", n_l, (), None, "J(W,b)", rhs, numbers, float(trace.cost))
        return Group("Cost", "cost", equation_of("cost"), lines, [item])

    # backward

    def output_delta(self) -> Group:
        net, trace, Y, L = self.net, self.trace, self.Y, self.top
        items = []
        for k in range(self.m):
            for i in range(net.sizes[L]):
                e = self.ex(k)
                a, y = (
                    _sym("a", i + 1, L + 1, e),
                    f"y_{{{i + 1}}}" + ("" if e is None else f"({e})"),
                )
                if net.cost == "cross_entropy":
                    rhs = f"{a} - {y}"
                    numbers = f"{self.n(trace.a[L][k, i])} - {self.f(Y[k, i])}"
                else:
                    rhs = f"-({y} - {a}) f'({_sym('z', i + 1, L + 1, e)})"
                    numbers = (
                        f"-({self.n(Y[k, i])} - {self.f(trace.a[L][k, i])}){TIMES}"
                        f"{self.f(self.f_prime(L, k, i))}"
                    )
                items.append(
                    Instance(
                        "delta", L + 1, (i + 1,), e, _sym(r"\delta", i + 1, L + 1, e), rhs,
                        numbers, float(trace.delta[L][k, i]), float(self.delta_check[L][k, i]),
                    )
                )  # fmt: skip
        needle = "a_i^{(n_l)} - y_i" if net.cost == "cross_entropy" else "f'(z_i^{(n_l)})"
        return Group(
            f"Backward, layer {L + 1}: output delta",
            "output_delta",
            equation_of("output_delta"),
            _pick("output_delta", needle),
            items,
        )

    def weight_gradient(self, L) -> Group:
        net, trace, items = self.net, self.trace, []
        W = net.W[L]
        for i in range(net.sizes[L + 1]):
            for j in range(net.sizes[L]):
                terms = [
                    f"{_sym('a', j + 1, L + 1, self.ex(k))} "
                    f"{_sym(chr(92) + 'delta', i + 1, L + 2, self.ex(k))}"
                    for k in range(self.m)
                ]
                numbers = [
                    f"{self.f(trace.a[L][k, j])}{TIMES}{self.f(trace.delta[L + 1][k, i])}"
                    for k in range(self.m)
                ]
                w = _sym("W", f"{i + 1}{j + 1}", L + 1)
                rhs = r"\frac{1}{m} (" + " + ".join(terms) + r") + \lambda " + w
                decay = f"{self.n(self.lam)}{TIMES}{self.f(W[i, j])}"
                text = f"1/{self.m}{TIMES}({' + '.join(numbers)}) + {decay}"
                items.append(
                    Instance(
                        "dW", L + 1, (i + 1, j + 1), None,
                        r"\frac{\partial J}{\partial " + w + "}", rhs, text,
                        float(trace.grad_W[L][i, j]), float(self.dW_check[L][i, j]),
                    )
                )  # fmt: skip
        return Group(
            f"Gradient of W^({L + 1})",
            "weight_gradient",
            equation_of("weight_gradient"),
            _pick("weight_gradient", r"\sum_k a_j", r"\lambda W_{ij}"),
            items,
        )

    def bias_gradient(self, L) -> Group:
        net, trace, items = self.net, self.trace, []
        for i in range(net.sizes[L + 1]):
            terms = [_sym(r"\delta", i + 1, L + 2, self.ex(k)) for k in range(self.m)]
            numbers = [self.f(trace.delta[L + 1][k, i]) for k in range(self.m)]
            b = _sym("b", i + 1, L + 1)
            items.append(
                Instance(
                    "db", L + 1, (i + 1,), None, r"\frac{\partial J}{\partial " + b + "}",
                    r"\frac{1}{m} (" + " + ".join(terms) + ")",
                    f"1/{self.m}{TIMES}({' + '.join(numbers)})", float(trace.grad_b[L][i]),
                    float(self.db_check[L][i]),
                )
            )  # fmt: skip
        return Group(
            f"Gradient of b^({L + 1})",
            "bias_gradient",
            equation_of("bias_gradient"),
            _pick("bias_gradient", r"\sum_k \delta_i", r"\frac{1}{m}"),
            items,
        )

    def hidden_delta(self, L) -> Group:
        r""":math:`\delta^{(L+1)}` from :math:`\delta^{(L+2)}`: the sum over j written out."""
        net, trace, items = self.net, self.trace, []
        W = net.W[L]
        for k in range(self.m):
            for i in range(net.sizes[L]):
                e = self.ex(k)
                s_next = net.sizes[L + 1]
                terms = [
                    f"{_sym('W', f'{j + 1}{i + 1}', L + 1)} "
                    f"{_sym(chr(92) + 'delta', j + 1, L + 2, e)}"
                    for j in range(s_next)
                ]
                numbers = [
                    f"{self.f(W[j, i])}{TIMES}{self.f(trace.delta[L + 1][k, j])}"
                    for j in range(s_next)
                ]
                if self.beta > 0:
                    rho_hat = self.rho_hat[L][i]
                    sparsity = self.beta * (-self.rho / rho_hat + (1 - self.rho) / (1 - rho_hat))
                    terms.append(
                        r"\beta(-\rho/\hat\rho_{" + str(i + 1) + r"} + (1-\rho)/(1-\hat\rho_{"
                        + str(i + 1) + "}))"
                    )  # fmt: skip
                    numbers.append(self.f(sparsity))
                rhs = f"({' + '.join(terms)}) f'({_sym('z', i + 1, L + 1, e)})"
                text = f"({' + '.join(numbers)}){TIMES}{self.f(self.f_prime(L, k, i))}"
                items.append(
                    Instance(
                        "delta", L + 1, (i + 1,), e, _sym(r"\delta", i + 1, L + 1, e), rhs, text,
                        float(trace.delta[L][k, i]), float(self.delta_check[L][k, i]),
                    )
                )  # fmt: skip
        needles = [r"\sum_j W_{ji}", *([r"\beta"] if self.beta > 0 else []), r"\delta_i^{(l)} ="]
        return Group(
            f"Backward, layer {L + 2} to {L + 1}: hidden delta, the sum over j",
            "hidden_delta",
            equation_of("hidden_delta"),
            _pick("hidden_delta", *needles),
            items,
        )

    # update

    def update(self):
        net = self.net
        theta = net.theta.copy()
        loops.update(theta, np.ascontiguousarray(self.trace.grad), self.alpha)
        sizes = np.asarray(net.sizes, dtype=np.int64)
        W_new = [weights_of(theta, sizes, L).copy() for L in range(self.top)]
        b_new = [biases_of(theta, sizes, L).copy() for L in range(self.top)]
        items = []
        for L in range(self.top):
            for i, j in np.ndindex(*net.W[L].shape):
                w = _sym("W", f"{i + 1}{j + 1}", L + 1)
                items.append(
                    Instance(
                        "W", L + 1, (i + 1, j + 1), None, w,
                        w + r" - \alpha \frac{\partial J}{\partial " + w + "}",
                        f"{self.n(net.W[L][i, j])} - {self.n(self.alpha)}{TIMES}"
                        f"{self.f(self.trace.grad_W[L][i, j])}", float(W_new[L][i, j]),
                    )
                )  # fmt: skip
            for i in range(net.sizes[L + 1]):
                b = _sym("b", i + 1, L + 1)
                items.append(
                    Instance(
                        "b", L + 1, (i + 1,), None, b,
                        b + r" - \alpha \frac{\partial J}{\partial " + b + "}",
                        f"{self.n(net.b[L][i])} - {self.n(self.alpha)}{TIMES}"
                        f"{self.f(self.trace.grad_b[L][i])}", float(b_new[L][i]),
                    )
                )  # fmt: skip
        group = Group(
            f"Update, alpha = {self.n(self.alpha)}",
            "update",
            equation_of("update"),
            _pick("update", r"\theta_q :="),
            items,
        )
        return group, W_new, b_new

    def groups(self) -> tuple:
        groups = []
        for L in range(self.top):
            groups += [self.weighted_input(L), self.activation(L + 1)]
        groups.append(self.cost())
        groups.append(self.output_delta())
        # The order of loops._backward: each layer's gradients once the delta above is known.
        for L in range(self.top - 1, -1, -1):
            groups += [self.weight_gradient(L), self.bias_gradient(L)]
            if L > 0:
                groups.append(self.hidden_delta(L))
        update, W_new, b_new = self.update()
        groups.append(update)
        return groups, W_new, b_new


def explain(
    net: Network,
    X,
    Y,
    *,
    lam: float = 0.0,
    beta: float = 0.0,
    rho: float = 0.05,
    alpha: float = 0.5,
    digits: int = DIGITS,
) -> Explanation:
    r"""One pass of backpropagation on a small network, every equation written out with its numbers.

    .. math::
        \delta_i^{(l)} = \left( \sum_{j=1}^{s_{l+1}} W_{ji}^{(l)} \delta_j^{(l+1)} \right)
            f'(z_i^{(l)}), \qquad
        \frac{\partial J}{\partial W_{ij}^{(l)}} = a_j^{(l)} \delta_i^{(l+1)} + \lambda W_{ij}^{(l)}

    Parameters
    ----------
    net : Network
        At most 8 units a layer and 5 layers (the page draws every unit and edge); any
        elementwise output activation (not softmax). Not changed.
    X : array_like, shape (m, s_1)
        At most 3 examples.
    Y : array_like, shape (m, s_{n_l})
        Targets.
    lam : float
        Weight decay :math:`\lambda`.
    beta, rho : float
        Sparsity weight and target, as for :meth:`Network.cost_and_gradient`.
    alpha : float
        Learning rate of the update shown last.
    digits : int
        Significant digits of every printed number.

    Returns
    -------
    Explanation
        ``.text()`` and ``.html()`` render it.

    Notes
    -----
    The numbers are :meth:`Network.trace`'s (the ``loops`` backend). UFLDL, "Backpropagation
    Algorithm".

    Examples
    --------
    >>> import numpy as np, indexnet
    >>> net = indexnet.Network([2, 2, 1])
    >>> e = indexnet.explain(net, np.array([[0.5, 1.0]]), np.array([[1.0]]))
    >>> "hidden delta" in e.text()
    True
    """
    from indexnet.checks.inputs import check_int, check_real

    if not isinstance(net, Network):
        raise TypeError(f"net must be an indexnet.Network; got {type(net).__name__}")
    X, Y = net.check_XY(X, Y)
    _check_small(net, X)
    lam = check_real("lam", lam, minimum=0.0)
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta, rho = net.check_sparsity(beta, rho)
    digits = check_int("digits", digits, 1)
    trace = net.trace(X, Y, lam=lam, backend="loops", beta=beta, rho=rho)
    builder = _Builder(net, X, Y, lam, beta, rho, alpha, trace, digits)
    groups, W_new, b_new = builder.groups()
    return Explanation(net, X, Y, lam, beta, rho, alpha, trace, groups, W_new, b_new, digits)


def default_problem(sizes=(3, 3, 1), seed: int = 0, m: int = 1, **network) -> tuple:
    """UFLDL's small network (3 inputs, 3 hidden units, 1 output) and ``m`` random examples.

    Returns
    -------
    net, X, Y
        Inputs uniform in [0, 1); targets in [0, 1) for a sigmoid output, [-1, 1) otherwise.
    """
    net = Network(list(sizes), seed=seed, **network)
    rng = np.random.default_rng(seed + 1)
    X = rng.uniform(0.0, 1.0, size=(m, net.sizes[0])).round(2)
    low = 0.0 if net.output == "sigmoid" else -1.0
    Y = rng.uniform(low, 1.0, size=(m, net.sizes[-1])).round(2)
    return net, X, Y
