r"""The drawing of an :class:`~indexnet.reading.explain.Explanation`: inline SVG, no plot library.

Layers are columns of units; each unit shows its :math:`z`, :math:`a` and :math:`\delta` (of the
first example), each edge its :math:`W_{ij}^{(l)}`. Every hidden :math:`\delta_i^{(l)}` and every
weight carries, in ``data-`` attributes, the ids of what it reads: a hidden delta the edges
:math:`W_{ji}^{(l)}, j = 1 \ldots s_{l+1}` that its sum runs over (the edges that carried
:math:`a_i^{(l)}` forward) and the deltas at their far ends; a weight the two factors
:math:`a_j^{(l)}` and :math:`\delta_i^{(l+1)}` of its gradient. The page's few lines of script
only add classes to those ids; the same facts stand in each element's ``<title>``.
"""

from __future__ import annotations

from html import escape

from indexnet.reading.notation import as_text, number

BOX_W, BOX_H, INPUT_H = 150, 66, 30
COLUMN, ROW, MARGIN, TOP = 380, 104, 24, 40
LINE = 18


def _x(l: int) -> float:
    return MARGIN + (l - 1) * COLUMN


def _y(i: int, s: int, tallest: int) -> float:
    """Top of unit ``i`` (from 1) of a layer of ``s`` units, the layers centred vertically."""
    return TOP + (tallest - s) * ROW / 2 + (i - 1) * ROW


def _box_height(l: int, n_l: int) -> float:
    return INPUT_H if l == 1 else BOX_H + (LINE if l == n_l else 0)


def _text(x, y, content, *, cls="", ident="", extra="", title="") -> str:
    attributes = f' x="{x:.1f}" y="{y:.1f}"'
    attributes += f' class="{cls}"' if cls else ""
    attributes += f' id="{ident}"' if ident else ""
    inner = (f"<title>{escape(title)}</title>" if title else "") + escape(content)
    return f"<text{attributes}{extra}>{inner}</text>"


DELTA = "\\delta"


def _label(name: str, sub, layer=None) -> str:
    """A symbol as Unicode text: ``_label("W", 12, 1)`` is W₁₂⁽¹⁾."""
    latex = f"{name}_{{{sub}}}" + ("" if layer is None else f"^{{({layer})}}")
    return as_text(latex)


def delta_choice(l: int, i: int, s_next: int) -> dict:
    r"""What choosing the hidden :math:`\delta_i^{(l)}` marks: ids and a sentence.

    The edges are :math:`W_{ji}^{(l)}` for every unit :math:`j` of layer :math:`l + 1`.
    """
    edges = [f"edge-{l}-{j}-{i}" for j in range(1, s_next + 1)]
    edges += [f"w-{l}-{j}-{i}" for j in range(1, s_next + 1)]
    factors = [f"delta-{l + 1}-{j}" for j in range(1, s_next + 1)]
    terms = " + ".join(
        f"{_label('W', f'{j}{i}', l)} {_label(DELTA, j, l + 1)}" for j in range(1, s_next + 1)
    )
    says = (
        f"{_label(DELTA, i, l)} = ({terms}) f\N{PRIME}({_label('z', i, l)}): the sum runs over the "
        f"{s_next} edges out of unit {i} of layer {l}, the ones that carried "
        f"{_label('a', i, l)} forward, read back against their direction"
    )
    return {"edges": edges, "factors": factors, "says": says}


def weight_choice(l: int, i: int, j: int) -> dict:
    r"""What choosing :math:`W_{ij}^{(l)}` marks: the factors of its gradient."""
    w, a, d = _label("W", f"{i}{j}", l), _label("a", j, l), _label(DELTA, i, l + 1)
    says = (
        f"∂J/∂{w} = {a} {d} (+ λ {w}): the activation at the edge's start times the delta at "
        "its end"
    )
    factors = [f"a-{l}-{j}", f"delta-{l + 1}-{i}"]
    return {"edges": [f"edge-{l}-{i}-{j}"], "factors": factors, "says": says}


def _choice_attributes(choice: dict, instance: str) -> str:
    return (
        f' tabindex="0" data-edges="{" ".join(choice["edges"])}"'
        f' data-factors="{" ".join(choice["factors"])}" data-instance="{instance}"'
        f' data-says="{escape(choice["says"])}"'
    )


def svg(explanation, digits: int | None = None) -> str:
    """The network drawn with the first example's numbers, as one ``<svg>`` element.

    Parameters
    ----------
    explanation : Explanation
    digits : int, optional
        Significant digits (default: the explanation's).

    Returns
    -------
    str
    """
    ex, trace = explanation, explanation.trace
    digits = digits or ex.digits
    sizes, n_l = ex.sizes, len(ex.sizes)
    tallest = max(sizes)

    def n(value):
        return number(value, digits)

    out = []
    # Edges first, so the units are drawn over their ends.
    for l in range(1, n_l):
        s, s_next = sizes[l - 1], sizes[l]
        for i in range(1, s_next + 1):
            for j in range(1, s + 1):
                x1 = _x(l) + BOX_W
                y1 = _y(j, s, tallest) + _box_height(l, n_l) / 2
                x2 = _x(l + 1)
                y2 = _y(i, s_next, tallest) + _box_height(l + 1, n_l) / 2
                # Near the target, where the edges into one unit fan out by (1 - t) ROW and
                # the labels of all edges of the column stack at one x without overlapping.
                t = max(0.72, min(0.8, 1 - 0.8 / s))
                lx, ly = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
                choice = weight_choice(l, i, j)
                w = ex.net.W[l - 1][i - 1, j - 1]
                out.append(
                    f'<line class="edge" id="edge-{l}-{i}-{j}" x1="{x1:.1f}" y1="{y1:.1f}" '
                    f'x2="{x2:.1f}" y2="{y2:.1f}"/>'
                )
                label = f"{_label('W', f'{i}{j}', l)} = {n(w)}"
                half = 3.4 * len(label) + 4
                out.append(
                    f'<rect class="w-back" x="{lx - half:.1f}" y="{ly - 8:.1f}" '
                    f'width="{2 * half:.1f}" height="16" rx="3"/>'
                )
                out.append(
                    _text(
                        lx, ly + 4, label,
                        cls="w choose", ident=f"w-{l}-{i}-{j}",
                        extra=_choice_attributes(choice, f"inst-dW-{l}-{i}-{j}"),
                        title=choice["says"],
                    )
                )  # fmt: skip
    for l in range(1, n_l + 1):
        s = sizes[l - 1]
        x = _x(l)
        out.append(_text(x + BOX_W / 2, TOP - 18, f"layer {l}", cls="layer"))
        for i in range(1, s + 1):
            y, h = _y(i, s, tallest), _box_height(l, n_l)
            out.append(
                f'<rect class="unit" id="unit-{l}-{i}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{BOX_W}" height="{h}" rx="8"/>'
            )
            tx, ty = x + 10, y + LINE
            if l == 1:
                a = trace.a[0][0, i - 1]
                text = f"{_label('x', i)} = {_label('a', i, 1)} = {n(a)}"
                out.append(_text(tx, ty + 2, text, cls="value a", ident=f"a-1-{i}"))
                continue
            z, a = trace.z[l - 1][0, i - 1], trace.a[l - 1][0, i - 1]
            d = trace.delta[l - 1][0, i - 1]
            for row, (name, value) in enumerate((("z", z), ("a", a))):
                text = f"{_label(name, i, l)} = {n(value)}"
                out.append(
                    _text(tx, ty + row * LINE, text, cls=f"value {name}", ident=f"{name}-{l}-{i}")
                )
            delta, extra, title, cls = f"{_label(DELTA, i, l)} = {n(d)}", "", "", "value delta"
            if 1 < l < n_l:
                choice = delta_choice(l, i, sizes[l])
                instance = f"inst-delta-{l}-{i}" + ("-k1" if ex.m > 1 else "")
                extra, title = _choice_attributes(choice, instance), choice["says"]
                cls += " choose"
            out.append(
                _text(tx, ty + 2 * LINE, delta, cls=cls, ident=f"delta-{l}-{i}", extra=extra,
                      title=title)
            )  # fmt: skip
            if l == n_l:
                text = f"{_label('y', i)} = {n(ex.Y[0, i - 1])}"
                out.append(_text(tx, ty + 3 * LINE, text, cls="value y", ident=f"y-{i}"))
    width = _x(n_l) + BOX_W + MARGIN
    height = TOP + tallest * ROW + MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="network" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" role="img" '
        f'aria-label="the network, its numbers for example 1">' + "\n".join(out) + "</svg>"
    )
