r"""The two renderings of an :class:`~indexnet.reading.explain.Explanation`: text and an HTML page.

Both write the same groups in the same order: the kernel's equation, the kernel lines that
compute it (read from the source, see :func:`indexnet.reading.explain.kernel_lines`), then every
instance with the trace's numbers and, for deltas and gradients, the central difference that
confirms it. The HTML page adds the drawing (:mod:`indexnet.reading.explain_svg`), the
derivation of the sum over :math:`j`, and the sympy checks when they were run. It fetches
nothing: no script, style or font comes from outside, and the few lines of script only mark
what a choice reads.
"""

from __future__ import annotations

import textwrap
from html import escape
from pathlib import Path

from indexnet.reading.explain_svg import DELTA, _label, svg
from indexnet.reading.notation import as_text, number

QUESTION = (
    "I can't seem to understand where you get the summation from, and how an index change occurs."
)


def _header(ex) -> list:
    net = ex.net
    settings = (
        f"m = {ex.m}, λ = {number(ex.lam)}, \N{GREEK SMALL LETTER ALPHA} = {number(ex.alpha)}"
    )
    if ex.beta > 0:
        settings += f", β = {number(ex.beta)}, \N{GREEK SMALL LETTER RHO} = {number(ex.rho)}"
    return [
        f"Network({list(ex.sizes)}, hidden={net.hidden!r}, output={net.output!r}, "
        f"cost={net.cost!r}), {settings}",
        "Indices are UFLDL's, from 1: W_ij^(l) is net.W[l-1][i-1, j-1] (see indexnet.layout). "
        "Every number is net.trace's, computed by the loop kernels shown; 'check' is a central "
        "difference of the cost, m ∂J/∂z for a delta, ∂J/∂θ for a gradient.",
    ]


_SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The folder that holds the package: kernel files are named from it (``indexnet/kernels/...``)."""


def _kernel_caption(group, line) -> str:
    path = Path(line.path).resolve()
    name = (
        path.relative_to(_SOURCE_ROOT).as_posix()
        if path.is_relative_to(_SOURCE_ROOT)
        else path.name
    )
    return f"loops.{group.kernel} ({line.kernel}, {name}:{line.line})"


def _rendered_comment(line) -> str:
    indent = line.comment[: len(line.comment) - len(line.comment.lstrip())]
    return f"{indent}# {as_text(line.latex)}"


def _check_text(item) -> str:
    return "" if item.check is None else f"   check {number(item.check)}"


# -- text ---------------------------------------------------------------------------------------


def _wrapped(text: str, width: int, indent: str, more: str) -> list:
    return textwrap.wrap(
        text, width, initial_indent=indent, subsequent_indent=more, break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]  # fmt: skip


def text_page(ex, width: int = 100) -> str:
    """The explanation as plain text, lines broken at spaces to fit ``width`` columns."""
    width = max(int(width), 40)
    out = [
        *_wrapped(
            "indexnet explain: one pass of backpropagation, every number with its equation",
            width,
            "",
            "",
        ),
        "",
    ]
    for line in _header(ex):
        out += _wrapped(line, width, "", "")
    for n, group in enumerate(ex.groups, 1):
        out += ["", *_wrapped(f"{n}. {group.title}", width, "", "   ")]
        out += _wrapped(as_text(group.equation), width, "   ", "      ")
        for line in group.lines:
            out += _wrapped(f"{_kernel_caption(group, line)}:", width, "   ", "     ")
            for code in [_rendered_comment(line), *line.code.split("\n")]:
                out.append(f"   │ {code}" if code else "   │")
        for item in group.instances:
            lhs = as_text(item.lhs)
            pad = " " * (3 + len(lhs) + 1)
            out += _wrapped(f"{lhs} = {as_text(item.rhs)}", width, "   ", pad + "  ")
            out += _wrapped(f"= {item.numbers}", width, pad, pad + "  ")
            out.append(f"{pad}= {number(item.value)}{_check_text(item)}")
    if ex.symbolic is not None:
        out += [
            "",
            "Symbolic checks (sympy): each derivative of J minus its backpropagation formula",
        ]
        for check in ex.symbolic:
            out.append(
                f"   {check.equation:<16} {check.unit:<12} {'0' if check.equal else 'NOT 0'}"
            )
    return "\n".join(out) + "\n"


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body { font: 16px/1.5 "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; max-width: 1400px;
       padding: 0 1.5rem 3rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: 0.3rem; } h2 { font-size: 1.15rem; margin: 0 0 0.4rem; }
blockquote { margin: 0.5rem 0; padding: 0.2rem 1rem; border-left: 4px solid #ccc; color: #444; }
figure.drawing { margin: 1rem 0; }
svg.network { max-width: 100%; height: auto; }
svg.network rect.w-back { fill: #fff; opacity: 0.85; }
svg.network text { font: 13px "DejaVu Sans", system-ui, sans-serif; fill: #1b1b1b; }
svg.network text.layer { text-anchor: middle; font-weight: bold; fill: #555; }
svg.network rect.unit { fill: #f4f7fb; stroke: #5a6b80; stroke-width: 1.2; }
svg.network line.edge { stroke: #9aa7b5; stroke-width: 1.4; }
svg.network line.edge.hl { stroke: #e8590c; stroke-width: 4; }
svg.network text.w { font-size: 12px; paint-order: stroke; stroke: #fff; stroke-width: 4px;
                     stroke-linejoin: round; text-anchor: middle; fill: #3b4a5a; }
svg.network text.choose { cursor: pointer; }
svg.network text.delta.choose { text-decoration: underline dotted; }
svg.network text.choose:focus { outline: none; }
svg.network text.factor { font-weight: bold; fill: #0b7285; paint-order: stroke;
                          stroke: #c5f6fa; stroke-width: 6px; stroke-linejoin: round; }
svg.network text.chosen { font-weight: bold; fill: #c92a2a; paint-order: stroke;
                          stroke: #ffe066; stroke-width: 6px; stroke-linejoin: round; }
svg.network text.w.hl { fill: #e8590c; font-weight: bold; }
#chosen-caption { min-height: 3rem; padding: 0.4rem 0.8rem; background: #fff9db;
                  border-left: 4px solid #f08c00; }
section.group { border-top: 1px solid #ddd; padding: 0.9rem 0; }
.pair { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.2rem; }
@media (max-width: 1000px) { .pair { grid-template-columns: 1fr; } }
.equation { font-size: 1.15rem; margin: 0.2rem 0 0.6rem; }
.instance { margin: 0.35rem 0; padding: 0.2rem 0.5rem; border-radius: 4px; }
.instance.hl { background: #fff3bf; }
.instance .eq { font-size: 1.05rem; }
.instance .num { color: #333; font-family: "DejaVu Sans Mono", monospace; font-size: 0.9rem; }
.value { font-weight: bold; }
.check { color: #2b8a3e; margin-left: 1rem; }
figure.kernel { margin: 0; }
figure.kernel figcaption { font-size: 0.85rem; color: #555; }
figure.kernel pre { font-size: 0.82rem; background: #f8f9fa; border: 1px solid #e3e3e3;
                    border-radius: 4px; padding: 0.5rem; overflow-x: auto; margin: 0 0 0.5rem; }
pre .math { color: #6741d9; }
table.symbolic { border-collapse: collapse; font-size: 0.9rem; }
table.symbolic td, table.symbolic th { padding: 0.1rem 0.8rem; border-bottom: 1px solid #eee; }
"""

_SCRIPT = """
(function () {
  var marked = [];
  function mark(ids, name) {
    (ids || "").split(" ").forEach(function (id) {
      var el = id && document.getElementById(id);
      if (el) { el.classList.add(name); marked.push([el, name]); }
    });
  }
  function choose(el) {
    marked.forEach(function (pair) { pair[0].classList.remove(pair[1]); });
    marked = [];
    mark(el.id, "chosen"); mark(el.dataset.edges, "hl"); mark(el.dataset.factors, "factor");
    mark(el.dataset.instance, "hl");
    document.getElementById("chosen-caption").textContent = el.dataset.says;
  }
  document.querySelectorAll("svg.network .choose").forEach(function (el) {
    el.addEventListener("focus", function () { choose(el); });
    el.addEventListener("click", function () { el.focus(); choose(el); });
  });
})();
"""


def _instance_html(item) -> str:
    check = (
        ""
        if item.check is None
        else f' <span class="check">check <span class="fd">{number(item.check)}</span></span>'
    )
    attributes = (
        f'class="instance" id="inst-{item.key}" data-quantity="{item.quantity}" '
        f'data-layer="{item.layer}" data-index="{",".join(map(str, item.index))}"'
        + ("" if item.example is None else f' data-example="{item.example}"')
    )
    return (
        f"<div {attributes}>"
        f'<div class="eq">{escape(as_text(item.lhs))} = {escape(as_text(item.rhs))}</div>'
        f'<div class="num">= {escape(item.numbers)} = '
        f'<span class="value">{number(item.value)}</span>{check}</div></div>'
    )


def _group_html(n: int, group) -> list:
    out = [
        f'<section class="group" id="step-{n}">',
        f"<h2>{n}. {escape(group.title)}</h2>",
        f'<div class="equation">{escape(as_text(group.equation))}</div>',
        '<div class="pair"><div class="instances">',
    ]
    out += [_instance_html(item) for item in group.instances]
    out.append('</div><div class="kernels">')
    for line in group.lines:
        code = escape(line.code)
        comment = f'<span class="math">{escape(_rendered_comment(line))}</span>'
        out.append(
            f'<figure class="kernel"><figcaption>{escape(_kernel_caption(group, line))}'
            f'</figcaption><pre title="{escape(line.comment.strip())}">{comment}\n{code}</pre>'
            "</figure>"
        )
    out += ["</div></div>", "</section>"]
    return out


def _derivation(ex) -> list:
    """The chain rule over the units j of layer l+1, and the Kronecker delta of the gradient,
    written for the first hidden unit of the last hidden layer (or layer 1 to 2 without one)."""
    sizes, n_l = ex.sizes, len(ex.sizes)
    out = ['<section class="group" id="derivation">', "<h2>Where the sum over j comes from</h2>"]
    if n_l >= 3:
        l, i = n_l - 1, 1
        s_next = sizes[l]
        units = ", ".join(_label("z", j, l + 1) for j in range(1, s_next + 1))
        chain = " + ".join(
            f"∂J/∂{_label('z', j, l + 1)} · ∂{_label('z', j, l + 1)}/∂{_label('z', i, l)}"
            for j in range(1, s_next + 1)
        )
        backprop = " + ".join(
            f"{_label(DELTA, j, l + 1)} {_label('W', f'{j}{i}', l)} f\N{PRIME}({_label('z', i, l)})"
            for j in range(1, s_next + 1)
        )
        z_j = (
            f"{_label('z', 'j', l + 1)} = Σₚ {_label('W', 'jp', l)} f({_label('z', 'p', l)}) "
            f"+ {_label('b', 'j', l)}"
        )
        out += [
            f"<p>{_label('z', i, l)} reaches J only through the {s_next} "
            f"unit{'s' if s_next > 1 else ''} of layer {l + 1}: "
            f"{units}. So the chain rule adds one term for each of them, and that is the sum "
            f"over j ({s_next} term{'s' if s_next > 1 else ''} here):</p>",
            f'<p class="equation">∂J/∂{_label("z", i, l)} = {chain}</p>',
            f"<p>Each unit is {escape(z_j)}, so ∂{_label('z', 'j', l + 1)}/∂{_label('z', i, l)} = "
            f"{_label('W', f'j{i}', l)} f\N{PRIME}({_label('z', i, l)}): only the term p = {i} "
            "depends on "
            f"{_label('z', i, l)}. With δ = m ∂J/∂z (one example: δ = ∂J/∂z):</p>",
            f'<p class="equation">{_label(DELTA, i, l)} = {backprop} = '
            f"(Σⱼ {_label('W', f'j{i}', l)} {_label(DELTA, 'j', l + 1)}) "
            f"f\N{PRIME}({_label('z', i, l)})</p>",
            f"<p>The index change: forward, {_label('z', 'i', l + 1)} sums "
            f"{_label('W', 'ij', l)} over the second index j (the units feeding unit i). "
            f"Backward, {_label(DELTA, 'i', l)} sums {_label('W', 'ji', l)} over the first index "
            "j: the same matrix, the same edges, read against their direction (Wᵀ).</p>",
        ]
    l = n_l - 1
    out += [
        "<p>The weight gradient has no sum left. ∂J/∂Wᵢⱼ = Σₚ ∂J/∂zₚ · ∂zₚ/∂Wᵢⱼ "
        "over the units p of the next layer, and ∂zₚ/∂Wᵢⱼ = δₚᵢ aⱼ, where δₚᵢ is "
        "Kronecker's delta (1 if p = i, else 0; not the error term): Wᵢⱼ feeds "
        "only unit i. The sum collapses to its one term p = i:</p>",
        f'<p class="equation">∂J/∂{_label("W", "ij", l)} = Σₚ {_label(DELTA, "p", l + 1)} '
        f"δₚᵢ {_label('a', 'j', l)} = {_label('a', 'j', l)} {_label(DELTA, 'i', l + 1)} "
        f"(+ λ {_label('W', 'ij', l)})</p>",
    ]
    if ex.symbolic is not None:
        passed = sum(check.equal for check in ex.symbolic)
        out.append(
            f"<p>sympy built J from the forward equations for these sizes, differentiated it by "
            f"every z and every W and b, and found each difference from the backpropagation "
            f"formula to be 0: <b>{passed} of {len(ex.symbolic)}</b> (table at the end).</p>"
        )
    out.append("</section>")
    return out


def _symbolic_html(ex) -> list:
    if ex.symbolic is None:
        return []
    out = [
        '<section class="group" id="symbolic">',
        "<h2>Symbolic checks (sympy)</h2>",
        "<p>Each row: the derivative of J, built symbolically from the forward equations, minus "
        "the backpropagation formula, expanded.</p>",
        '<table class="symbolic"><tr><th>equation</th><th>unit</th><th>difference</th></tr>',
    ]
    out += [
        f"<tr><td>{escape(c.equation)}</td><td>{escape(c.unit)}</td>"
        f"<td>{'0' if c.equal else 'not 0'}</td></tr>"
        for c in ex.symbolic
    ]
    out += ["</table>", "</section>"]
    return out


def html_page(ex) -> str:
    """One self-contained HTML document: nothing is fetched, and it reads with scripts off."""
    title = f"indexnet explain: one pass of backpropagation on {list(ex.sizes)}"
    header = _header(ex)
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
        f"<blockquote>“{escape(QUESTION)}”</blockquote>",
        f"<p>{escape(header[0])}. {escape(header[1])}</p>",
        "<p>Every equation below is written out with its numbers, in the order the loop kernels "
        "run, beside the kernel line that computed it. Choose (click, or Tab to) a hidden "
        "δ in the drawing: the edges its sum runs over light up. Choose a weight W: the two "
        "factors of its gradient light up.</p>",
        '<figure class="drawing">',
        svg(ex),
        '<figcaption id="chosen-caption" aria-live="polite">Nothing chosen. Each hidden δ and '
        "each W also says what it reads when hovered.</figcaption>",
        "</figure>",
    ]
    out += _derivation(ex)
    for n, group in enumerate(ex.groups, 1):
        out += _group_html(n, group)
    out += _symbolic_html(ex)
    out += [
        "<footer><p>Generated by <code>indexnet explain</code> from the code that ran.</p>",
        "</footer>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)
