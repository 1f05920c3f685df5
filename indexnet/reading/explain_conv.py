r"""One convolutional layer's error written out: the conv delta's sum, term by term.

:func:`explain_conv` takes a small :class:`indexnet.ConvNetwork` with two convolutional stages,
runs :meth:`~indexnet.ConvNetwork.trace` (the loop kernels), picks one input position
:math:`(d, r, c)` of the first stage's maps (layer :math:`l`) and writes out the sum that
:func:`indexnet.loops.conv_delta` computes there through the second stage's filters:

.. math::
    \delta_{d,r,c}^{(l)} = \Big( \sum_k \sum_p \sum_q W_{k,d,p,q}^{(l)}\,
        \delta_{k,r-p,c-q}^{(l+1)} \Big) f'(z_{d,r,c}^{(l)})

every term :math:`W_{k,d,p,q}\, \delta_{k,r-p,c-q}` with its numbers, the terms whose
:math:`(r-p, c-q)` falls outside the :math:`\delta^{(l+1)}` map marked absent (the "full"
convolution), then the sum times :math:`f'`. Forward, output :math:`(r', c')` read input
:math:`(r'+p, c'+q)`; backward, input :math:`(r, c)` collects from every output that read it,
:math:`(r-p, c-q)`: the index that was :math:`r+p` is :math:`r-p`, the filter rotated by 180
degrees. The value is set beside :func:`indexnet.loops.conv_delta` on the trace's arrays, the
trace's own ``conv_delta``, the NumPy twin :func:`indexnet.vectorized.conv_delta`, and a
central difference of the cost with respect to :math:`z_{d,r,c}^{(l)}`.

Indices are the code's, from 0 (the minus in :math:`r-p` needs offsets from 0): ``(d, r, c)``
is ``trace.conv_z[0][0, d, r, c]``. :meth:`ConvExplanation.text`, :meth:`~ConvExplanation.html`
(an inline SVG drawing, no script) and :meth:`~ConvExplanation.as_dict` render it.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from indexnet import loops, vectorized
from indexnet.api.convnet import ConvNetwork
from indexnet.kernels import conv
from indexnet.kernels.activations import ACTIVATIONS, CROSS_ENTROPY, SOFTMAX, f_prime
from indexnet.reading.notation import DIGITS, as_text, number

__all__ = [
    "ConvExplanation",
    "PositionError",
    "Term",
    "default_conv_problem",
    "explain_conv",
]

IMAGE = (1, 8, 8)
"""The default problem's image: one channel, 8 by 8."""
STAGES = ((2, 3, 1), (2, 3, 2))
"""Its stages: two 3x3 filters without pooling (6x6 maps, layer l), then two 3x3 filters on
those (4x4 maps, layer l+1) and 2x2 mean pooling. On a 7x7 image the second convolution would
be 3x3 and its pooling would never read the last row and column, leaving a third of
:math:`\\delta^{(l+1)}` zero; at 8x8 every error of layer l+1 is alive."""
N_CLASSES = 3
"""Softmax outputs of the default problem."""
MAX_MAP = 12
"""The largest map side the drawing shows."""
MAX_FILTERS = 4
"""The most filters of the second stage (one panel each)."""
EQUATION = (
    r"\delta_{d,r,c}^{(l)} = \Big( \sum_k \sum_p \sum_q W_{k,d,p,q}^{(l)}\, "
    r"\delta_{k,r-p,c-q}^{(l+1)} \Big) f'(z_{d,r,c}^{(l)})"
)
"""The equation, as :func:`indexnet.loops.conv_delta`'s docstring writes it."""
ROTATION = (
    "The index moved from r+p (forward: output (r', c') read input (r'+p, c'+q)) to r-p "
    "(backward: input (r, c) is read by output (r-p, c-q) through offset (p, q)): as a "
    "convolution of δ⁽ˡ⁺¹⁾ that is the filter rotated by 180 degrees (UFLDL's rot90), and the "
    'terms whose (r-p, c-q) falls outside the δ⁽ˡ⁺¹⁾ map are absent: the "full" convolution.'
)
"""The one line on the index change."""
TIMES = " \N{MULTIPLICATION SIGN} "
MINUS = "\N{MINUS SIGN}"
PRIME = "\N{PRIME}"


class PositionError(ValueError):
    """A chosen position or channel outside the map; ``option`` is ``"at"`` or ``"channel"``."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Term:
    r"""One term :math:`W_{k,d,p,q}\, \delta_{k,r-p,c-q}` of the sum, or its absence.

    Attributes
    ----------
    k, p, q : int
        Filter (output map) and filter offset.
    row, col : int
        :math:`(r-p, c-q)`, the output position that read the input through :math:`(p, q)`.
    present : bool
        Whether ``(row, col)`` lies inside the :math:`\delta^{(l+1)}` map.
    W : float
        :math:`W_{k,d,p,q}^{(l)}`.
    delta : float or None
        :math:`\delta_{k,r-p,c-q}^{(l+1)}`; ``None`` when absent.
    product : float or None
        Their product; ``None`` when absent.
    """

    k: int
    p: int
    q: int
    row: int
    col: int
    present: bool
    W: float
    delta: float | None
    product: float | None


@dataclass
class ConvExplanation:
    r"""The conv delta of one input position, every term written out. Made by :func:`explain_conv`.

    Attributes
    ----------
    net : ConvNetwork
    X, Y : ndarray
        The one image ``(1, channels, rows, cols)`` and its one-hot label ``(1, n_classes)``.
    lam : float
    trace : ConvTrace
        :meth:`ConvNetwork.trace`'s result: every number shown comes from it.
    channel : int
        :math:`d`.
    at : tuple of int
        :math:`(r, c)`.
    terms : list of Term
        In the kernel's order: ``k``, then ``p``, then ``q``.
    total : float
        The sum of the present terms, in that order.
    z, a, f_prime : float
        :math:`z_{d,r,c}^{(l)}`, :math:`a_{d,r,c}^{(l)}` and :math:`f'(z_{d,r,c}^{(l)})`.
    value : float
        ``total * f_prime``: the delta as written out.
    kernel : float
        :func:`indexnet.loops.conv_delta` on the trace's arrays, at ``(0, d, r, c)``.
    traced : float
        ``trace.conv_delta[0][0, d, r, c]``, what the network's backward pass computed.
    twin : float
        :func:`indexnet.vectorized.conv_delta` on the same arrays.
    finite_difference : float
        :math:`m\, \partial J / \partial z_{d,r,c}^{(l)}` by a central difference.
    epsilon : float
        Its step.
    digits : int
    """

    net: ConvNetwork
    X: np.ndarray
    Y: np.ndarray
    lam: float
    trace: object
    channel: int
    at: tuple
    terms: list
    total: float
    z: float
    a: float
    f_prime: float
    value: float
    kernel: float
    traced: float
    twin: float
    finite_difference: float
    epsilon: float
    digits: int = DIGITS

    @property
    def W(self) -> np.ndarray:
        r""":math:`W^{(l)}`: the second stage's filters, shape ``(K, D, p, p)``."""
        return self.net.parameters(self.net.theta)[0][1]

    @property
    def delta_next(self) -> np.ndarray:
        r""":math:`\delta^{(l+1)}` of the image, shape ``(K, rows', cols')``."""
        return self.trace.conv_delta[1][0]

    @property
    def present(self) -> list:
        """The terms inside the map."""
        return [t for t in self.terms if t.present]

    @property
    def absent(self) -> list:
        """The terms outside the map: no term in the sum."""
        return [t for t in self.terms if not t.present]

    def checks(self) -> list:
        """``(label, value)`` of every independent computation of the delta, in page order."""
        d, (r, c) = self.channel, self.at
        return [
            ("loops.conv_delta on the trace's arrays", self.kernel),
            (f"net.trace(X, Y).conv_delta[0][0, {d}, {r}, {c}]", self.traced),
            ("vectorized.conv_delta (the NumPy twin)", self.twin),
            (f"central difference m ∂J/∂z (ε = {self.epsilon:g})", self.finite_difference),
        ]

    def text(self, width: int = 100) -> str:
        """The plain-text page, lines broken at spaces to fit ``width`` columns."""
        return _text_page(self, width)

    def html(self) -> str:
        """The self-contained HTML page: the drawing (inline SVG), the terms, the checks."""
        return _html_page(self)

    def svg(self) -> str:
        """The drawing alone: the input map, each filter, and each :math:`\\delta^{(l+1)}` map."""
        return _svg(self)

    def write_html(self, path) -> Path:
        """Write :meth:`html` to ``path``; returns the path."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def as_dict(self) -> dict:
        """Every term and check as a JSON-ready dict."""
        R, C = self.delta_next.shape[1:]
        return {
            "network": repr(self.net),
            "equation": as_text(EQUATION),
            "index_change": ROTATION,
            "indices_from": 0,
            "channel": self.channel,
            "at": list(self.at),
            "delta_map": [R, C],
            "terms": [
                {
                    "k": t.k,
                    "p": t.p,
                    "q": t.q,
                    "row": t.row,
                    "col": t.col,
                    "present": t.present,
                    "W": t.W,
                    "delta": t.delta,
                    "product": t.product,
                }
                for t in self.terms
            ],
            "sum": self.total,
            "z": self.z,
            "a": self.a,
            "f_prime": self.f_prime,
            "value": self.value,
            "kernel": self.kernel,
            "trace": self.traced,
            "vectorized": self.twin,
            "finite_difference": self.finite_difference,
            "epsilon": self.epsilon,
            "differences": {
                "kernel": self.kernel - self.value,
                "trace": self.traced - self.value,
                "vectorized": self.twin - self.value,
                "finite_difference": self.finite_difference - self.value,
            },
            "cost": float(self.trace.cost),
        }


# -- the computation ----------------------------------------------------------------------------


def default_conv_problem(
    seed: int = 0, activation: str = "sigmoid", pooling: str = "mean"
) -> tuple:
    """The tiny convolutional network of ``indexnet explain --conv``, one image and its label.

    Parameters
    ----------
    seed : int
        Seed of the filters (:meth:`ConvNetwork.initialize`) and, plus one, of the image.
    activation, pooling : str
        As for :class:`ConvNetwork`.

    Returns
    -------
    net, X, Y
        :data:`IMAGE` and :data:`STAGES` with :data:`N_CLASSES` classes; ``X`` of shape
        ``(1, 1, 8, 8)`` uniform in [0, 1), ``Y`` one label.
    """
    net = ConvNetwork(
        IMAGE, [list(s) for s in STAGES], N_CLASSES, activation=activation, pooling=pooling,
        seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed + 1)
    X = rng.uniform(0.0, 1.0, size=(1, *IMAGE)).round(2)
    Y = rng.integers(0, N_CLASSES, size=1)
    return net, X, Y


def _check_net(net, X) -> None:
    if len(net.stages) < 2:
        raise ValueError(
            "net needs two convolutional stages: conv_delta carries the second stage's error "
            f"into the first stage's maps; got {len(net.stages)}"
        )
    first, second = net.stages[0], net.stages[1]
    if first.pool != 1:
        raise ValueError(
            "net.stages[0] must not pool (pool=1), so that the second stage reads the first "
            f"stage's activations a = f(z) and f'(z) is theirs; got pool={first.pool}"
        )
    if max(first.conv_shape[1:]) > MAX_MAP or second.filters > MAX_FILTERS:
        raise ValueError(
            f"net is too big to draw: maps of at most {MAX_MAP}x{MAX_MAP} and at most "
            f"{MAX_FILTERS} filters in the second stage"
        )
    if X.shape[0] != 1:
        raise ValueError(f"X must hold one image; got {X.shape[0]}")


def _position(net, at, channel) -> tuple:
    """``(d, (r, c))`` checked against the first stage's maps; the centre when ``at`` is None."""
    D, R, C = net.stages[0].conv_shape
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)):
        raise PositionError("channel", f"channel must be an integer; got {channel!r}")
    if not 0 <= channel < D:
        raise PositionError(
            "channel", f"channel must be from 0 to {D - 1} (the maps have {D}); got {channel}"
        )
    if at is None:
        return int(channel), (R // 2, C // 2)
    try:
        r, c = (int(v) for v in at)
    except (TypeError, ValueError):
        raise PositionError("at", f"at must be two integers (r, c); got {at!r}") from None
    if not (0 <= r < R and 0 <= c < C):
        raise PositionError(
            "at",
            f"({r}, {c}) is outside the {R}x{C} map: r must be from 0 to {R - 1}, c from 0 to "
            f"{C - 1}",
        )
    return int(channel), (r, c)


def _cost_from(net, X, Y, lam, z0) -> float:
    """The cost with the first stage's weighted input replaced by ``z0``, forward from there
    through the loop kernels (:func:`loops.activation`, the pooling, the second stage's
    :func:`loops.conv_weighted_input`, the dense layers, :func:`loops.cost`)."""
    theta = net.theta
    W, b = net.parameters(theta)
    kind, m = ACTIVATIONS[net.activation], X.shape[0]
    z, a = z0, None
    for s, stage in enumerate(net.stages):
        if s > 0:
            z = np.empty((m, *stage.conv_shape), dtype=net.dtype)
            loops.conv_weighted_input(W[s], b[s], a, z)
        act = np.empty_like(z)
        loops.activation(z.reshape(m, -1), kind, act.reshape(m, -1))
        pooled = np.empty((m, *stage.pooled_shape), dtype=net.dtype)
        if net.pooling == "mean":
            loops.mean_pool(act, stage.pool, pooled)
        else:
            loops.max_pool(act, stage.pool, pooled, np.empty(pooled.shape, np.int64))
        a = pooled
    a = a.reshape(m, -1)
    first, top = len(net.stages), len(net.sizes) - 2
    for l in range(top + 1):
        z = np.empty((m, net.sizes[l + 1]), dtype=net.dtype)
        loops.weighted_input(W[first + l], b[first + l], a, z)
        a = np.empty_like(z)
        loops.activation(z, SOFTMAX if l == top else kind, a)
    weights = np.ascontiguousarray(theta[: net.n_weights])
    return float(loops.cost(z, a, Y, weights, lam, CROSS_ENTROPY, SOFTMAX))


def explain_conv(
    net: ConvNetwork,
    X,
    Y,
    *,
    at: tuple | None = None,
    channel: int = 0,
    lam: float = 0.0,
    digits: int = DIGITS,
) -> ConvExplanation:
    r"""The conv delta of one input position of the first stage's maps, every term written out.

    .. math::
        \delta_{d,r,c}^{(l)} = \Big( \sum_k \sum_p \sum_q W_{k,d,p,q}^{(l)}\,
            \delta_{k,r-p,c-q}^{(l+1)} \Big) f'(z_{d,r,c}^{(l)})

    Parameters
    ----------
    net : ConvNetwork
        At least two stages, the first without pooling (layer :math:`l` is its maps, layer
        :math:`l+1` the second stage's convolution, :math:`W^{(l)}` its filters); maps of at
        most 12x12 and at most 4 filters in the second stage. Not changed.
    X : array_like, shape (1, channels, rows, cols)
        One image.
    Y : array_like, shape (1, n_classes), or one label
    at : (int, int) or None
        :math:`(r, c)`, from 0; ``None``: the centre of the map.
    channel : int
        :math:`d`, from 0.
    lam : float
        Weight decay :math:`\lambda` (it changes the cost, not the delta).
    digits : int
        Significant digits of every printed number.

    Returns
    -------
    ConvExplanation

    Raises
    ------
    PositionError
        ``at`` or ``channel`` outside the map, or not integers (a ``ValueError``).

    Notes
    -----
    UFLDL, "Convolutional Neural Network", backpropagation into a convolutional layer. The
    numbers are :meth:`ConvNetwork.trace`'s (the ``loops`` backend).

    Examples
    --------
    >>> net, X, Y = default_conv_problem()
    >>> e = explain_conv(net, X, Y, at=(0, 0))
    >>> len(e.present), len(e.absent)
    (2, 16)
    """
    from indexnet.checks.inputs import check_int, check_real

    if not isinstance(net, ConvNetwork):
        raise TypeError(f"net must be an indexnet.ConvNetwork; got {type(net).__name__}")
    X = net.check_X(X)
    _check_net(net, X)
    Y = net.check_Y(Y, X.shape[0])
    lam = check_real("lam", lam, minimum=0.0)
    digits = check_int("digits", digits, 1)
    d, (r, c) = _position(net, at, channel)
    trace = net.trace(X, Y, lam=lam, backend="loops")
    W = net.parameters(net.theta)[0][1]
    delta_next = trace.conv_delta[1]
    z_l, a_l = trace.conv_z[0], trace.conv_a[0]
    kind = ACTIVATIONS[net.activation]
    K, _, p_rows, p_cols = W.shape
    R_next, C_next = delta_next.shape[2:]

    terms, total = [], 0.0
    for k in range(K):
        for p in range(p_rows):
            for q in range(p_cols):
                row, col = r - p, c - q
                present = 0 <= row < R_next and 0 <= col < C_next
                w = float(W[k, d, p, q])
                if present:
                    g = float(delta_next[0, k, row, col])
                    total += w * g
                    terms.append(Term(k, p, q, row, col, True, w, g, w * g))
                else:
                    terms.append(Term(k, p, q, row, col, False, w, None, None))
    z, a = float(z_l[0, d, r, c]), float(a_l[0, d, r, c])
    slope = float(f_prime(z_l[0, d, r, c], a_l[0, d, r, c], kind))

    values = {}
    for name, module in (("kernel", loops), ("twin", vectorized)):
        out = np.empty_like(z_l)
        module.conv_delta(W, delta_next, z_l, a_l, kind, out)
        values[name] = float(out[0, d, r, c])

    epsilon = 1e-5 if net.dtype == np.float64 else 1e-2
    shifted = z_l.copy()
    shifted[0, d, r, c] += epsilon
    plus = _cost_from(net, X, Y, lam, shifted)
    shifted[0, d, r, c] -= 2 * epsilon
    minus = _cost_from(net, X, Y, lam, shifted)
    difference = X.shape[0] * (plus - minus) / (2 * epsilon)

    return ConvExplanation(
        net, X, Y, lam, trace, d, (r, c), terms, total, z, a, slope, total * slope,
        values["kernel"], float(trace.conv_delta[0][0, d, r, c]), values["twin"], difference,
        epsilon, digits,
    )  # fmt: skip


# -- the kernel's own lines ---------------------------------------------------------------------

_MATH_COMMENT = re.compile(r"^(?P<indent>\s*)#\s*\$(?P<latex>[^$]+)\$\s*$")


def kernel_source() -> tuple:
    """``(caption, lines)``: the loop of :func:`indexnet.loops.conv_delta` that sums the terms
    and the line that multiplies by :math:`f'`, read from its source (``$...$`` comments as
    Unicode)."""
    function = getattr(conv._conv_delta, "py_func", conv._conv_delta)
    lines, first = inspect.getsourcelines(function)
    start = next(i for i, line in enumerate(lines) if "for k in range(K)" in line)
    stop = next(i for i, line in enumerate(lines) if "total +=" in line)
    last = next(i for i, line in enumerate(lines) if "*= f_prime" in line)
    chosen = textwrap.dedent("".join(lines[start : stop + 1])).splitlines()
    chosen += ["...", *textwrap.dedent("".join(lines[last - 1 : last + 1])).splitlines()]
    shown = []
    for line in chosen:
        match = _MATH_COMMENT.match(line)
        shown.append(f"{match.group('indent')}# {as_text(match.group('latex'))}" if match else line)
    path = Path(inspect.getsourcefile(function) or "?").resolve()
    root = Path(__file__).resolve().parents[2]
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    return f"loops.conv_delta ({function.__name__}, {name}:{first + start})", shown


# -- text ---------------------------------------------------------------------------------------


def _n(ex, value) -> str:
    return number(value, ex.digits)


def _factor(ex, value) -> str:
    text = _n(ex, value)
    return f"({text})" if text.startswith("-") else text


def _slope_text(ex) -> str:
    """:math:`f'(z)` written out with the trace's numbers."""
    a = _factor(ex, ex.a)
    return {
        "sigmoid": f"a(1 {MINUS} a) = {a}{TIMES}(1 {MINUS} {a})",
        "tanh": f"1 {MINUS} a² = 1 {MINUS} {a}²",
        "relu": f"[z > 0] = [{_n(ex, ex.z)} > 0]",
        "identity": "1",
    }[ex.net.activation]


def _header(ex) -> list:
    first, second = ex.net.stages[0], ex.net.stages[1]
    D, R, C = first.conv_shape
    K, R2, C2 = second.conv_shape
    return [
        f"{ex.net!r}, one image, λ = {_n(ex, ex.lam)}",
        f"Layer l: the first stage's maps, {D} channels of {R}x{C} (trace.conv_z[0]); layer l+1: "
        f"the second stage's convolution, {K} maps of {R2}x{C2} (trace.conv_delta[1]), through "
        f"its filters W⁽ˡ⁾ = net.parameters(net.theta)[0][1], shape {ex.W.shape}. Indices from "
        "0, as the code's. Every number is net.trace's, computed by the loop kernels.",
    ]


def _term_line(ex, t, d, shape) -> str:
    w_sym = f"W_({t.k},{d},{t.p},{t.q})"
    g_sym = f"δ_({t.k},{t.row},{t.col})"
    if not t.present:
        return f"{w_sym}{TIMES}{g_sym}: absent, outside the {shape[0]}x{shape[1]} map"
    return (
        f"{w_sym}{TIMES}{g_sym} = {_factor(ex, t.W)}{TIMES}{_factor(ex, t.delta)} = "
        f"{_n(ex, t.product)}"
    )


def _wrapped(text: str, width: int, indent: str = "", more: str | None = None) -> list:
    return textwrap.wrap(
        text, width, initial_indent=indent, subsequent_indent=indent if more is None else more,
        break_long_words=False, break_on_hyphens=False,
    ) or [indent]  # fmt: skip


def _text_page(ex, width: int = 100) -> str:
    width = max(int(width), 40)
    d, (r, c) = ex.channel, ex.at
    shape = ex.delta_next.shape[1:]
    out = [
        *_wrapped(
            "indexnet explain --conv: the error of one input position of a convolutional layer, "
            "its sum term by term",
            width,
        ),
        "",
        *_wrapped(as_text(EQUATION), width, "", "   "),
        *_wrapped(ROTATION, width),
        "",
    ]
    for line in _header(ex):
        out += _wrapped(line, width)
    caption, lines = kernel_source()
    out += ["", *_wrapped(f"{caption}:", width)]
    out += [f"   │ {line}" if line else "   │" for line in lines]
    n_absent = len(ex.absent)
    out += [
        "",
        *_wrapped(
            f"d = {d}, (r, c) = ({r}, {c}): {len(ex.terms)} terms k, p, q, {n_absent} of them "
            "absent",
            width,
        ),
    ]
    heads = [f"k={t.k} p={t.p} q={t.q}  (r-p, c-q) = ({t.row}, {t.col})" for t in ex.terms]
    column = max(map(len, heads)) + 3
    more = " " * (3 + column if width - column >= 50 else 6)  # narrow: hang the body less
    for head, t in zip(heads, ex.terms, strict=True):
        body = _term_line(ex, t, d, shape)
        out += _wrapped(f"{head.ljust(column)}{body}", width, "   ", more)
    if not n_absent:
        out += _wrapped(
            f"No term is absent here: every (r-p, c-q) lies inside the {shape[0]}x{shape[1]} "
            "map. A position near the edge, such as (0, 0), loses the terms that fall outside.",
            width,
            "   ",
        )
    symbol = f"δ_({d},{r},{c})⁽ˡ⁾"
    out += [
        f"   sum of the {len(ex.present)} present terms = {_n(ex, ex.total)}",
        *_wrapped(
            f"{TIMES.strip()} f{PRIME}(z_({d},{r},{c})⁽ˡ⁾) = {_slope_text(ex)} = "
            f"{_n(ex, ex.f_prime)}   (z = {_n(ex, ex.z)})",
            width,
            "   ",
            "      ",
        ),
        f"   = {symbol} = {_n(ex, ex.value)}",
        "",
        *_wrapped(
            f"The same {symbol}, computed independently; difference from the sum above:", width
        ),
    ]
    label_width = max(len(label) for label, _ in ex.checks())
    for label, value in ex.checks():
        out += _wrapped(
            f"{label.ljust(label_width)}   {_n(ex, value)}   difference {value - ex.value:.2g}",
            width,
            "   ",
            "      ",
        )
    return "\n".join(out) + "\n"


# -- the drawing --------------------------------------------------------------------------------

CELL = 60
"""Side of one map cell in the drawing."""
GAP = 44
"""Space between panels."""
AXIS = 22
"""Room for the row and column numbers."""


def _t(x, y, content, cls="", extra="") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}"{klass}{extra}>{escape(str(content))}</text>'


def _axes(x0, y0, rows, cols, first_row=0, first_col=0) -> list:
    out = [_t(x0 - 6, y0 + (i + 0.5) * CELL + 4, first_row + i, "axis end") for i in range(rows)]
    out += [_t(x0 + (j + 0.5) * CELL, y0 - 7, first_col + j, "axis") for j in range(cols)]
    return out


def _cell(x, y, cls, ident, lines, extra="") -> str:
    """One cell: its rectangle and up to three centred lines of ``(text, class)``."""
    out = [
        f'<g class="cell {cls}" id="{ident}"{extra}>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{CELL}" height="{CELL}"/>',
    ]
    first = y + CELL / 2 - 7 * (len(lines) - 1) + 4
    for n, (text, klass) in enumerate(lines):
        out.append(_t(x + CELL / 2, first + 14 * n, text, klass))
    out.append("</g>")
    return "".join(out)


def _svg(ex) -> str:
    d, (r, c) = ex.channel, ex.at
    W, delta_next = ex.W, ex.delta_next
    K, _, P, Q = W.shape
    R_next, C_next = delta_next.shape[1:]
    _, R, C = ex.net.stages[0].conv_shape
    chosen_delta = ex.trace.conv_delta[0][0, d, r, c]
    # the rows and columns of delta^(l+1) drawn: the map, and the window where it overhangs
    rows = range(min(0, r - P + 1), max(R_next, r + 1))
    cols = range(min(0, c - Q + 1), max(C_next, c + 1))

    def short(value):
        return number(value, 3)

    top = 70
    x0 = AXIS + 8
    out = [
        _t(AXIS, 20, f"input map of layer l, channel d = {d} ({R}x{C})", "title"),
        _t(AXIS, 40, f"(r, c) = ({r}, {c}), with its δ⁽ˡ⁾", "note"),
        *_axes(x0, top, R, C),
    ]
    for i in range(R):
        for j in range(C):
            hit = (i, j) == (r, c)
            lines = (
                [(f"({i},{j})", "pq"), (short(chosen_delta), "value")]
                if hit
                else [(f"{i},{j}", "index")]
            )
            out.append(
                _cell(x0 + j * CELL, top + i * CELL, "chosen" if hit else "plain",
                      f"input-d{d}-r{i}-c{j}", lines)
            )  # fmt: skip
    y = top + R * CELL + 36
    notes = [
        "forward: output (r', c') reads input (r'+p, c'+q)",
        f"backward: input ({r}, {c}) is read by output ({r}-p, {c}-q)",
        "",
        "Each output that reads it is labelled with the",
        "offset (p, q) that connects them: the labels run",
        f"from ({P - 1},{Q - 1}) to (0,0), the filter rotated by 180°.",
    ]
    for n, note in enumerate(notes):
        out.append(_t(AXIS, y + 20 * n, note, "note"))
    y += 20 * len(notes) + 10
    for n, (cls, words) in enumerate(
        (("term", f"a term W{TIMES}δ of the sum"), ("absent", "absent: outside the map"))
    ):
        row_y = y + 28 * n
        out.append(
            f'<g class="cell {cls} key"><rect x="{AXIS}" y="{row_y}" width="20" height="20"/>'
        )
        out.append(_t(AXIS + 30, row_y + 15, words, "note") + "</g>")
    legend_bottom = y + 56

    grid_w = len(cols) * CELL
    column_w = AXIS + max(grid_w, Q * CELL, 330) + GAP
    column_x = x0 + C * CELL + GAP
    delta_top = top + P * CELL + 76
    for k in range(K):
        left = column_x + k * column_w + AXIS
        out += [
            _t(left - AXIS, 20, f"filter k = {k}, channel d = {d}", "title"),
            _t(left - AXIS, 40, f"W_({k},{d},p,q) at (p, q), as forward reads it", "note"),
            *_axes(left, top, P, Q),
        ]
        for p in range(P):
            for q in range(Q):
                out.append(
                    _cell(left + q * CELL, top + p * CELL, "weight",
                          f"filter-k{k}-d{d}-p{p}-q{q}",
                          [(f"({p},{q})", "pq"), (short(W[k, d, p, q]), "value")])
                )  # fmt: skip
        out += [
            _t(left - AXIS, delta_top - 46, f"error map δ⁽ˡ⁺¹⁾, k = {k} ({R_next}x{C_next})",
               "title"),
            _t(left - AXIS, delta_top - 26, f"the outputs ({r}-p, {c}-q) that read ({r}, {c})",
               "note"),
            *_axes(left, delta_top, len(rows), len(cols), rows[0], cols[0]),
        ]  # fmt: skip
        gx, gy = left - cols[0] * CELL, delta_top - rows[0] * CELL  # where (0, 0) is drawn
        out.append(
            f'<rect class="map" x="{gx:.1f}" y="{gy:.1f}" width="{C_next * CELL}" '
            f'height="{R_next * CELL}"/>'
        )
        window = {(t.row, t.col): t for t in ex.terms if t.k == k}
        for i in rows:
            for j in cols:
                x, y = gx + j * CELL, gy + i * CELL
                t, ident = window.get((i, j)), f"delta-k{k}-r{i}-c{j}"
                if t is None:
                    inside = 0 <= i < R_next and 0 <= j < C_next
                    lines = [(short(delta_next[k, i, j]), "faint")] if inside else []
                    out.append(_cell(x, y, "plain" if inside else "pad", ident, lines))
                    continue
                data = f' data-k="{k}" data-p="{t.p}" data-q="{t.q}"'
                lines = [(f"({t.p},{t.q})", "pq")]
                lines.append((short(t.delta), "value") if t.present else ("absent", "gone"))
                out.append(_cell(x, y, "term" if t.present else "absent", ident, lines, data))
    width = column_x + K * column_w - GAP + 10
    height = max(delta_top + len(rows) * CELL, legend_bottom) + 16
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="conv" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" role="img" aria-label="the input map with the chosen '
        f'position, each filter, and each error map with the terms of its sum">'
        + "\n".join(out)
        + "</svg>"
    )


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body { font: 16px/1.5 "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; max-width: 1400px;
       padding: 0 1.5rem 3rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.45rem; margin-bottom: 0.3rem; } h2 { font-size: 1.15rem; }
.equation { font-size: 1.2rem; margin: 0.4rem 0; }
figure { margin: 1rem 0; }
svg.conv { max-width: 100%; height: auto; }
svg.conv text { font: 12px "DejaVu Sans", system-ui, sans-serif; fill: #1b1b1b;
                text-anchor: middle; }
svg.conv text.title { font-size: 14px; font-weight: bold; text-anchor: start; }
svg.conv text.note { font-size: 13px; fill: #444; text-anchor: start; }
svg.conv text.axis { font-size: 11px; fill: #888; }
svg.conv text.axis.end { text-anchor: end; }
svg.conv text.index { font-size: 11px; fill: #9aa7b5; }
svg.conv text.faint { font-size: 11px; fill: #868e96; }
svg.conv text.value { font-size: 11px; }
svg.conv text.pq { font-size: 13px; font-weight: bold; fill: #c92a2a; }
svg.conv text.gone { font-size: 11px; font-style: italic; fill: #868e96; }
svg.conv .cell rect { fill: #fff; stroke: #adb5bd; stroke-width: 1; }
svg.conv .cell.chosen rect { fill: #ffe066; stroke: #c92a2a; stroke-width: 3; }
svg.conv .cell.weight rect { fill: #e7f5ff; stroke: #74c0fc; }
svg.conv .cell.weight text.pq { fill: #1864ab; }
svg.conv .cell.term rect { fill: #ffd8a8; stroke: #e8590c; stroke-width: 2.5; }
svg.conv .cell.absent rect { fill: #f8f9fa; stroke: #868e96; stroke-width: 1.5;
                             stroke-dasharray: 5 4; }
svg.conv .cell.absent text.pq { fill: #868e96; }
svg.conv .cell.pad rect { fill: none; stroke: #dee2e6; stroke-dasharray: 2 4; }
svg.conv rect.map { fill: none; stroke: #343a40; stroke-width: 2.5; }
table.terms { border-collapse: collapse; font-size: 0.92rem; }
table.terms td, table.terms th { padding: 0.1rem 0.7rem; border-bottom: 1px solid #eee;
                                 text-align: right; }
table.terms tr.absent td { color: #868e96; font-style: italic; }
.value { font-weight: bold; }
pre { font-size: 0.85rem; background: #f8f9fa; border: 1px solid #e3e3e3; border-radius: 4px;
      padding: 0.5rem; overflow-x: auto; }
"""


def _html_page(ex) -> str:
    d, (r, c) = ex.channel, ex.at
    shape = ex.delta_next.shape[1:]
    title = f"indexnet explain --conv: the error of input ({d}, {r}, {c}), term by term"
    header = _header(ex)
    caption, lines = kernel_source()
    rows = []
    for t in ex.terms:
        if t.present:
            cells = [_n(ex, t.W), _n(ex, t.delta), _n(ex, t.product)]
        else:
            cells = [_n(ex, t.W), "", f"absent: outside the {shape[0]}x{shape[1]} map"]
        rows.append(
            f'<tr class="{"term" if t.present else "absent"}"><td>{t.k}</td><td>{t.p}</td>'
            f"<td>{t.q}</td><td>({t.row}, {t.col})</td>"
            + "".join(f"<td>{escape(cell)}</td>" for cell in cells)
            + "</tr>"
        )
    checks = "".join(
        f"<tr><td style='text-align:left'>{escape(label)}</td><td>{escape(_n(ex, value))}</td>"
        f"<td>{value - ex.value:.2g}</td></tr>"
        for label, value in ex.checks()
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="equation">{escape(as_text(EQUATION))}</p>',
        f"<p>{escape(ROTATION)}</p>",
        f"<p>{escape(header[0])}. {escape(header[1])}</p>",
        "<figure>",
        ex.svg(),
        "<figcaption>Left: the input position chosen. Right, for each filter k: the filter as "
        "the forward pass reads it, and under it the error map δ⁽ˡ⁺¹⁾ of its outputs. The "
        "orange cells are the terms of the sum, each labelled with the offset (p, q) that "
        "connects it to the chosen input; dashed cells, outside the map, are the absent terms "
        "(the full convolution's zero padding).</figcaption>",
        "</figure>",
        "<h2>The terms</h2>",
        '<table class="terms"><tr><th>k</th><th>p</th><th>q</th><th>(r-p, c-q)</th>'
        f"<th>W_(k,{d},p,q)</th><th>δ_(k,r-p,c-q)</th><th>W{TIMES}δ</th></tr>",
        *rows,
        "</table>",
        f"<p>sum of the {len(ex.present)} present terms = {escape(_n(ex, ex.total))}<br>"
        f"{TIMES.strip()} f{PRIME}(z_({d},{r},{c})⁽ˡ⁾) = {escape(_slope_text(ex))} = "
        f"{escape(_n(ex, ex.f_prime))} (z = {escape(_n(ex, ex.z))})<br>"
        f'= δ_({d},{r},{c})⁽ˡ⁾ = <span class="value">{escape(_n(ex, ex.value))}</span></p>',
        "<h2>The same delta, computed independently</h2>",
        '<table class="terms"><tr><th style="text-align:left">computed by</th><th>value</th>'
        "<th>difference</th></tr>",
        checks,
        "</table>",
        f"<h2>The kernel's loop</h2><p>{escape(caption)}</p>",
        f"<pre>{escape(chr(10).join(lines))}</pre>",
        "<footer><p>Generated by <code>indexnet explain --conv</code> from the code that ran."
        "</p></footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)
