r"""Each kernel's equation beside its loop source and its vectorized twin: text, HTML, Markdown.

Nothing here computes a network. Everything shown is read from the code at the moment it is
shown: the kernel list is :data:`indexnet.loops.__all__`, the equation is the ``.. math::``
block of the loop kernel's docstring, and the source is :func:`inspect.getsource` of the loop
kernel's ``.py_func`` and of its twin in :mod:`indexnet.vectorized`.

The plain-text rendering of LaTeX covers the subset the docstrings and kernel comments use
(Greek letters, sums, fractions, sub- and superscripts, delimiters, spacing); Unicode sub- and
superscript letters are used where every character has one, ``_(...)`` and ``^(...)`` otherwise.
The HTML page typesets the LaTeX as MathML (``latex2mathml``) and highlights the source
(``pygments``); both are imported only when a page is made (``pip install indexnet[docs]``).
"""

from __future__ import annotations

import ast
import base64
import difflib
import functools
import html
import inspect
import io
import re
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from docstring_parser.numpydoc import NumpydocParser
from pylatexenc import latex2text, latexwalker, macrospec
from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from unicodeit.data import SUBSUPERSCRIPTS

from indexnet import vectorized
from indexnet.kernels import conv, loops

CHAPTERS = (loops, conv)
"""The kernel modules in reading order: UFLDL's backpropagation, then convolution and pooling."""

PAGE_TITLE = "indexnet: the backpropagation kernels beside the math"
DOC_FILES = ("kernels.html", "kernels.md")
"""The files :func:`write_docs` writes, in this order."""

# -- reading the kernels ------------------------------------------------------------------------


@dataclass(frozen=True)
class Docstring:
    """The parts of a numpydoc docstring that the pages show.

    Attributes
    ----------
    summary : str
        The first paragraph, joined into one line (reST inline markup kept).
    math : list of str
        The LaTeX of each ``.. math::`` block, its lines joined by single spaces.
    prose : list of str
        The other paragraphs before the first section (reST inline markup kept).
    notes : str
        The ``Notes`` section joined into one line, or ``""``.
    body : list of tuple
        The math blocks and prose paragraphs in the order they are written, as
        ``("math", latex)`` and ``("text", paragraph)``.
    """

    summary: str
    math: list
    prose: list
    notes: str
    body: list


def parse_docstring(doc: str | None) -> Docstring:
    """Split a numpydoc docstring into summary, math blocks, prose and notes.

    The sections come from ``docstring_parser``'s numpydoc reader: the description before the
    first section, and the ``Notes`` section. The summary is the description's first paragraph;
    the ``.. math::`` directives and paragraphs of the rest are split here.

    Parameters
    ----------
    doc : str or None
        The docstring (cleaned with :func:`inspect.cleandoc` here).

    Returns
    -------
    Docstring
    """
    parsed = NumpydocParser().parse(inspect.cleandoc(doc or ""))
    # The reader strips the blank line after the first line; put it back, so that the first
    # paragraph (the summary) ends where the docstring's does.
    gap = [""] if parsed.blank_after_short_description else []
    long = (parsed.long_description or "").splitlines()
    description = [parsed.short_description or "", *gap, *long]
    blank = description.index("") if "" in description else len(description)
    notes = [meta.description or "" for meta in parsed.meta if meta.args == ["notes"]]
    math, prose, body = [], [], []
    for kind, text in _paragraphs(description[blank:]):
        (math if kind == "math" else prose).append(text)
        body.append((kind, text))
    return Docstring(
        _joined(description[:blank]), math, prose, _joined("\n".join(notes).splitlines()), body
    )


def _joined(lines) -> str:
    return " ".join(line.strip() for line in lines if line.strip())


def _paragraphs(lines) -> list:
    """``("math", latex)`` for each ``.. math::`` block and ``("text", paragraph)`` for the rest,
    each joined into one line."""
    out, paragraph, index = [], [], 0
    while index < len(lines):
        line = lines[index]
        if line.strip().startswith(".. math::"):
            block = []
            index += 1
            while index < len(lines) and (not lines[index].strip() or lines[index][:1] == " "):
                block.append(lines[index])
                index += 1
            out += [("text", _joined(paragraph))] if paragraph else []
            out.append(("math", _joined(block)))
            paragraph = []
            continue
        if line.strip():
            paragraph.append(line)
        elif paragraph:
            out.append(("text", _joined(paragraph)))
            paragraph = []
        index += 1
    return out + ([("text", _joined(paragraph))] if paragraph else [])


def function_source(function, *, docstring: bool = False) -> str:
    """The source of a function as :func:`inspect.getsource` reads it, dedented.

    Parameters
    ----------
    function : function or numba dispatcher
        A dispatcher's ``py_func`` is read.
    docstring : bool
        Keep the docstring; by default its lines are dropped (the pages show it as math).

    Returns
    -------
    str
        The source, ending in a newline.
    """
    function = getattr(function, "py_func", function)
    source = textwrap.dedent(inspect.getsource(function))
    if docstring:
        return source
    try:
        definition = ast.parse(source).body[0]
    except SyntaxError:
        definition = None
    if getattr(definition, "name", None) != function.__name__:
        # inspect reads the file as it is now; the function is the one imported earlier.
        raise RuntimeError(
            f"{inspect.getsourcefile(function)} changed since {function.__qualname__} was "
            "imported; run again in a new Python process"
        )
    first = definition.body[0]
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return source
    lines = source.splitlines(keepends=True)
    del lines[first.lineno - 1 : first.end_lineno]
    return "".join(lines)


def helpers(function) -> list:
    """The private functions (``_name``) of ``function``'s module that it calls, in call order.

    A kernel that hands its innermost loop to a helper (a register-blocked sum, a per-layer
    composite) is only readable together with it, so the pages show both.

    Parameters
    ----------
    function : function or numba dispatcher

    Returns
    -------
    list of function
        Python functions (a dispatcher's ``py_func``).
    """
    function = getattr(function, "py_func", function)
    found = []
    for name in dict.fromkeys(function.__code__.co_names):
        value = function.__globals__.get(name)
        value = getattr(value, "py_func", value)
        if name.startswith("_") and not name.startswith("__") and inspect.isfunction(value):
            found.append(value)
    return found


def _with_helpers(function) -> str:
    parts = [function_source(function)]
    parts += [function_source(helper) for helper in helpers(function)]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


@dataclass(frozen=True)
class Kernel:
    """One equation: the loop kernel and its NumPy twin.

    Attributes
    ----------
    name : str
        The name both modules use.
    loop : function
        The loop kernel's Python function (the dispatcher's ``py_func``).
    twin : function
        ``indexnet.vectorized.<name>``.
    """

    name: str
    loop: object
    twin: object
    chapter: int = 0
    """Index in :data:`CHAPTERS` of the module that defines the kernel."""

    @property
    def doc(self) -> Docstring:
        """The loop kernel's docstring, parsed."""
        return parse_docstring(self.loop.__doc__)

    @property
    def twin_doc(self) -> Docstring:
        """The twin's docstring, parsed."""
        return parse_docstring(self.twin.__doc__)

    @property
    def equation(self) -> str:
        """The LaTeX of the loop kernel's first ``.. math::`` block (``""`` if none)."""
        math = self.doc.math
        return math[0] if math else ""

    def loop_source(self) -> str:
        """The loop kernel's source without its docstring, then its private helpers'."""
        return _with_helpers(self.loop)

    def twin_source(self) -> str:
        """The twin's source without its docstring, then its private helpers'."""
        return _with_helpers(self.twin)

    def line(self) -> tuple[int, int]:
        """The chapter and the line of its module where the kernel is defined: the reading
        order."""
        return self.chapter, inspect.getsourcelines(self.loop)[1]


def kernels() -> list:
    """Every kernel of :data:`indexnet.loops.__all__`, in the order ``loops.py`` defines them.

    Returns
    -------
    list of Kernel

    Raises
    ------
    LookupError
        If :mod:`indexnet.vectorized` lacks a twin.
    """
    found = []
    for chapter, module in enumerate(CHAPTERS):
        for name in module.__all__:
            if not hasattr(vectorized, name):
                raise LookupError(f"indexnet.vectorized has no twin of loops.{name}")
            loop = getattr(module, name)
            twin = getattr(vectorized, name)
            found.append(Kernel(name, getattr(loop, "py_func", loop), twin, chapter))
    return sorted(found, key=Kernel.line)


def kernel(name: str) -> Kernel:
    """The kernel called ``name``.

    Raises
    ------
    KeyError
        With the closest names and the full list, if there is no such kernel.
    """
    every = {k.name: k for k in kernels()}
    if name in every:
        return every[name]
    close = difflib.get_close_matches(name, every, n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise KeyError(f"no kernel {name!r}.{hint} Kernels: {', '.join(every)}")


# -- LaTeX as plain text ------------------------------------------------------------------------

# pylatexenc parses the LaTeX and writes each symbol in Unicode; the specs below add what plain
# text needs beyond its defaults: sub- and superscripts as Unicode script letters (unicodeit's
# tables), fractions as a/b, \left/\right hugging what they enclose, spacing commands.
_SUB, _SUP = (
    {key[1]: char for key, char in SUBSUPERSCRIPTS if len(key) == 2 and key[0] == mark}
    for mark in "_^"
)
# Marks written by the renderer and settled by latex_to_text once the neighbours are known.
_HUG_LEFT, _HUG_RIGHT, _SPACE_AFTER, _SPACE_BEFORE = "\x01", "\x02", "\x03", "\x04"
# After these the space in the source is not printed: "\partial J" reads as "∂J".
_TIGHT = {"partial", "nabla", "left", "right", "!", ",", ";", ":", "quad", "qquad", "frac"}
_OPERATORS = ("log", "exp", "max", "min", "tanh", "sin", "cos")
_SPACES = {"qquad": "\u2003\u2003", "quad": "\u2003", ",": " ", ";": " ", ":": " ", "!": ""}


def _script(text: str, table: dict, mark: str) -> str:
    """``text`` in Unicode sub/superscript letters, or ``mark`` + ``(text)`` when it can't be."""
    if text and all(char in table for char in text):
        return "".join(table[char] for char in text)
    if len(text) == 1 or (text.startswith("(") and text.endswith(")") and "(" not in text[1:-1]):
        return mark + text
    return f"{mark}({text})"


def _grouped(text: str) -> str:
    """``text`` in parentheses unless it reads as one term."""
    if re.search(r"[\s+\-=,/<>]", text) and not (text.startswith("(") and text.endswith(")")):
        return f"({text})"
    return text


def _argument(node, l2tobj, index=-1) -> str:
    return l2tobj.nodelist_to_text([node.nodeargd.argnlist[index]]).strip()


def _scripts(table, mark):
    def render(node, l2tobj):
        # "\nabla_\theta J": the space after \theta ends the script and stays in the text
        spaced = getattr(node.nodeargd.argnlist[-1], "macro_post_space", "")
        return _script(_argument(node, l2tobj), table, mark) + (" " if spaced else "")

    return render


def _fraction(node, l2tobj):
    numerator, denominator = _argument(node, l2tobj, -2), _argument(node, l2tobj, -1)
    return f"{_grouped(numerator)}/{_grouped(denominator)}{_SPACE_AFTER}"


class _MathText(latex2text.LatexNodes2Text):
    r"""pylatexenc's text writer, keeping one space where the source has one after a symbol
    (TeX drops it, which would print ``\lambda W`` as "λW")."""

    def macro_node_to_text(self, node):
        text = super().macro_node_to_text(node)
        if node.macro_post_space and node.macroname not in _TIGHT:
            text += " "
        return text


@functools.cache
def _latex_contexts():
    """pylatexenc's parser context and text writer, with the specs above added."""
    parsing = latexwalker.get_default_latex_context_db()
    scripts = macrospec.MacroStandardArgsParser("{")
    parsing.add_context_category(
        "indexnet",
        prepend=True,
        specials=[macrospec.SpecialsSpec(mark, args_parser=scripts) for mark in "^_"],
    )
    text = latex2text.get_default_latex_context_db()
    spec = latex2text.MacroTextSpec
    macros = [
        spec("frac", simplify_repl=_fraction),
        spec("left", _HUG_RIGHT),
        spec("right", _HUG_LEFT),
        spec("|", "‖"),
        spec("Vert", "‖"),
        *(spec(name, _SPACE_BEFORE + name) for name in _OPERATORS),
        *(spec(name, space) for name, space in _SPACES.items()),
    ]
    specials = [
        latex2text.SpecialsTextSpec("^", simplify_repl=_scripts(_SUP, "^")),
        latex2text.SpecialsTextSpec("_", simplify_repl=_scripts(_SUB, "_")),
    ]
    text.add_context_category("indexnet", prepend=True, macros=macros, specials=specials)
    return parsing, _MathText(latex_context=text, math_mode="text")


def latex_to_text(latex: str) -> str:
    r"""A one-line Unicode reading of a LaTeX formula.

    Parameters
    ----------
    latex : str
        Math-mode LaTeX, e.g. ``r"\delta_i^{(l)} = \sum_j W_{ji}^{(l)} \delta_j^{(l+1)}"``.

    Returns
    -------
    str
        E.g. ``"δᵢ⁽ˡ⁾ = Σⱼ Wⱼᵢ⁽ˡ⁾ δⱼ⁽ˡ⁺¹⁾"``.

    Examples
    --------
    >>> latex_to_text(r"\frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m} \sum_{k=1}^{m} x")
    '∂J/∂bᵢ⁽ˡ⁾ = 1/m Σₖ₌₁ᵐ x'
    """
    parsing, writer = _latex_contexts()
    walker = latexwalker.LatexWalker(latex, latex_context=parsing, tolerant_parsing=False)
    nodes, _, _ = walker.get_latex_nodes()
    text = writer.nodelist_to_text(nodes).replace("'", "\u2032")
    text = re.sub(r" {2,}", " ", text)
    # \left( hugs what follows it, \right) what precedes it: "(x)", not "( x )".
    text = re.sub(f" *{_HUG_LEFT}( *)", "", text)
    text = re.sub(f"{_HUG_RIGHT}(.) *", r"\1", text)
    # A fraction is followed by a space unless punctuation or a space follows anyway: "1/m Σ".
    text = re.sub(f"{_SPACE_AFTER}(?=[^\\s.,;:)\\]}}])", " ", text)
    text = text.replace(_SPACE_AFTER, "")
    # An operator name is set off from a term before it: "(1 - y) log(1 - a)".
    text = re.sub(f"(?<=[\\w)]){_SPACE_BEFORE}", " ", text).replace(_SPACE_BEFORE, "")
    # \quad and \qquad: two and four spaces, whatever spaces stood around them in the source.
    text = re.sub(r" *(\u2003+) *", lambda run: "  " * len(run.group(1)), text)
    return text.strip()


# -- reST inline markup -------------------------------------------------------------------------

_INLINE = re.compile(r":math:`(?P<math>[^`]+)`|``(?P<code>[^`]+)``|:[a-z]+:`~?(?P<ref>[^`]+)`")


def _inline(text: str, math, code, plain) -> str:
    """Rewrite reST inline math, literals and cross-references with the three converters."""
    out, at = [], 0
    for found in _INLINE.finditer(text):
        out.append(plain(text[at : found.start()]))
        if found.group("math") is not None:
            out.append(math(found.group("math")))
        else:
            out.append(code(found.group("code") or found.group("ref")))
        at = found.end()
    out.append(plain(text[at:]))
    return "".join(out)


def rst_to_text(text: str) -> str:
    """reST inline markup as plain text: math in Unicode, literals bare."""
    return _inline(text, latex_to_text, lambda code: code, lambda plain: plain)


def _comment_math(source: str, render) -> str:
    """``source`` with the ``$...$`` in each ``#`` comment replaced by ``render(latex)``."""

    def comment(found):
        return found.group(1) + re.sub(r"\$([^$]+)\$", lambda m: render(m.group(1)), found.group(2))

    return re.sub(r"^(\s*#)(.*)$", comment, source, flags=re.MULTILINE)


# -- the terminal -------------------------------------------------------------------------------

GUTTER = 3
"""Columns between the loop source and its twin side by side (rich's ``" │ "``)."""


def _longest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _code(source: str) -> Text:
    """``source`` highlighted as Python (rich's Syntax) and never wrapped or cropped: a line
    longer than the terminal runs past its edge whole rather than being broken in two."""
    source = source.rstrip("\n")
    text = Syntax(source, "python", theme="ansi_dark", background_color="default").highlight(source)
    text.no_wrap, text.overflow = True, "ignore"
    text.rstrip()
    return text


def _sources(left: str, right: str, width: int, titles: tuple):
    """The two sources side by side if both fit ``width`` unbroken, else one above the other."""
    left_width, right_width = _longest(left), _longest(right)
    if left_width + GUTTER + right_width > width:
        parts = []
        for title, text in zip(titles, (left, right), strict=True):
            parts += [Text(title, style="bold"), Rule(style="dim"), _code(text), Text("")]
        return Group(*parts)
    table = Table(
        box=box.MINIMAL, show_edge=False, pad_edge=False, padding=(0, 1), header_style="bold"
    )
    table.add_column(titles[0], width=left_width + 1)
    table.add_column(titles[1], width=width - left_width - 2)
    table.add_row(_code(left), _code(right))
    return table


def plain(renderable, width: int) -> str:
    """``renderable`` as plain text ``width`` columns wide, no colour, trailing spaces cut."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable, crop=False)
    lines = console.file.getvalue().splitlines()
    return "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"


def listing(width: int = 100) -> Table:
    """Every kernel with its equation in Unicode, one row a kernel (a rich renderable)."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), width=width)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for item in kernels():
        table.add_row(item.name, latex_to_text(item.equation))
    hint = Text("indexnet show KERNEL prints one beside its loop source and NumPy twin.")
    return Group(table, Text(""), hint)


def text_listing(width: int = 100) -> str:
    """:func:`listing` as plain text fitted to ``width``."""
    return plain(listing(width), width)


def kernel_page(name: str, width: int = 100, *, raw: bool = False):
    """One kernel for the terminal: what it computes, its equation, its two sources.

    Parameters
    ----------
    name : str
        A name from :data:`indexnet.loops.__all__`.
    width : int
        Terminal width in characters: the sources stand side by side when both fit it with
        no line broken, one above the other otherwise.
    raw : bool
        Print the sources exactly as written; by default the ``$...$`` math in comments is
        shown in Unicode like the equation.

    Returns
    -------
    rich renderable
    """
    item = kernel(name)
    doc = item.doc
    parts = [Text(f"{item.name}: {rst_to_text(doc.summary)}", style="bold"), Text("")]
    for kind, text in doc.body:
        if kind == "math":
            parts += [Padding(Text(latex_to_text(text)), (0, 0, 0, 4)), Text("")]
        else:
            parts += [Text(rst_to_text(text)), Text("")]
    if doc.notes:
        parts += [Text(rst_to_text(doc.notes), style="dim"), Text("")]

    def render(source):
        return source if raw else _comment_math(source, latex_to_text)

    titles = (
        f"indexnet.loops.{item.name} (Numba; this is its .py_func)",
        f"indexnet.vectorized.{item.name} (NumPy): {rst_to_text(item.twin_doc.summary)}",
    )
    parts.append(_sources(render(item.loop_source()), render(item.twin_source()), width, titles))
    return Group(*parts)


def text_kernel(name: str, width: int = 100, *, raw: bool = False) -> str:
    """:func:`kernel_page` as plain text: for a pipe, a file or a test.

    Every line fits ``width`` except a source line longer than ``width`` itself, which is
    printed whole: no code line is broken in two.
    """
    return plain(kernel_page(name, width, raw=raw), width)


# -- the HTML page ------------------------------------------------------------------------------


def _imports():
    """``(latex2mathml.converter, pygments)`` pieces, or ImportError saying what to install."""
    try:
        import latex2mathml.converter
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"the pages need latex2mathml and pygments ({error}); "
            "install them with: pip install 'indexnet[docs]'"
        ) from error
    return latex2mathml.converter, highlight, HtmlFormatter, PythonLexer


def latex_to_mathml(latex: str, *, display: bool = False) -> str:
    """MathML for a LaTeX formula (``latex2mathml``), block or inline."""
    converter = _imports()[0]
    return converter.convert(latex, display="block" if display else "inline")


def _rst_to_html(text: str) -> str:
    return _inline(
        text,
        latex_to_mathml,
        lambda code: f"<code>{html.escape(code)}</code>",
        html.escape,
    )


def _highlighted(source: str) -> str:
    """Pygments HTML for Python source, with the ``$...$`` in comments as inline MathML."""
    _, highlight, HtmlFormatter, PythonLexer = _imports()
    marked = highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight"))

    def comment(found):
        text = re.sub(
            r"\$([^$]+)\$",
            lambda m: latex_to_mathml(html.unescape(m.group(1))),
            found.group(2),
        )
        return found.group(1) + text + "</span>"

    return re.sub(r'(<span class="c1">)(.*?)</span>', comment, marked)


# A subset of DejaVu Math TeX Gyre (tools/subset_math_font.py), embedded in the page: MathML
# places scripts from the font's OpenType MATH table, and a font without one (what ``math``
# resolves to on many machines) leaves subscripts on the baseline. Installed math fonts follow,
# for any character the subset lacks.
MATH_FONTS = (
    '"indexnet math", "STIX Two Math", "Latin Modern Math", "Cambria Math", '
    '"DejaVu Math TeX Gyre", math'
)


def math_font_css() -> str:
    """CSS that embeds the pages' math font and sets it on every ``<math>``, inline or block."""
    font = resources.files("indexnet.reading").joinpath("fonts", "math.woff2").read_bytes()
    data = base64.b64encode(font).decode("ascii")
    return (
        '@font-face { font-family: "indexnet math"; font-display: block;\n'
        f'  src: url(data:font/woff2;base64,{data}) format("woff2"); }}\n'
        f"math {{ font-family: {MATH_FONTS}; }}\n"
    )


_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1500px;
       padding: 0 1.5rem 3rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; }
section.kernel { border-top: 1px solid #ddd; }
.equation { font-size: 1.3rem; margin: 0.5rem 0 1rem; overflow-x: auto; }
.notes { color: #555; font-size: 0.9rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; align-items: start; }
@media (max-width: 1000px) { .pair { grid-template-columns: 1fr; } }
figure { margin: 0; min-width: 0; }
figcaption { font-size: 0.9rem; margin-bottom: 0.3rem; }
.highlight pre { font-size: 0.82rem; line-height: 1.45; padding: 0.6rem; overflow-x: auto;
                 border: 1px solid #e3e3e3; border-radius: 4px; margin: 0; }
.highlight math { font-size: 1.05em; }
nav li { margin: 0.15rem 0; }
"""


def html_page() -> str:
    """The side-by-side page: every kernel's equation as MathML beside both sources.

    One self-contained HTML document: no script, no stylesheet or font to fetch (the math font
    is embedded).

    Returns
    -------
    str
    """
    _, _, HtmlFormatter, _ = _imports()
    items = kernels()
    intro = parse_docstring(loops.__doc__)
    style = HtmlFormatter(cssclass="highlight").get_style_defs(".highlight")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(PAGE_TITLE)}</title>",
        f"<style>{_CSS}{math_font_css()}{style}\n</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{html.escape(PAGE_TITLE)}</h1>",
        f"<p>{_rst_to_html(intro.summary)}</p>",
    ]
    out += [f"<p>{_rst_to_html(paragraph)}</p>" for paragraph in intro.prose]
    out += [
        "<p>Each section below is one equation of UFLDL's backpropagation, the loop kernel that "
        "computes it (the math in its comments typeset in place) and its NumPy twin. "
        "This page is generated from the code by <code>indexnet docs</code>; "
        "<code>indexnet show KERNEL</code> prints the same in a terminal.</p>",
        "<nav><ol>",
    ]
    out += [
        f'<li><a href="#{item.name}"><code>{item.name}</code></a>: '
        f"{_rst_to_html(item.doc.summary)}</li>"
        for item in items
    ]
    out += ["</ol></nav>", "</header>", "<main>"]
    for before, item in zip([None, *items], items, strict=False):
        if before is not None and before.chapter != item.chapter:
            chapter = parse_docstring(CHAPTERS[item.chapter].__doc__)
            out.append(f"<h2>{_rst_to_html(chapter.summary)}</h2>")
            out += [f"<p>{_rst_to_html(paragraph)}</p>" for paragraph in chapter.prose]
        out += _html_section(item)
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _html_section(item: Kernel) -> list:
    doc = item.doc
    out = [
        f'<section class="kernel" id="{item.name}">',
        f"<h2><code>{item.name}</code>: {_rst_to_html(doc.summary)}</h2>",
    ]
    for kind, text in doc.body:
        if kind == "math":
            out.append(f'<div class="equation">{latex_to_mathml(text, display=True)}</div>')
        else:
            out.append(f"<p>{_rst_to_html(text)}</p>")
    if doc.notes:
        out.append(f'<p class="notes">{_rst_to_html(doc.notes)}</p>')
    out += [
        '<div class="pair">',
        "<figure>",
        f"<figcaption>Loop kernel <code>indexnet.loops.{item.name}</code> "
        "(compiled by Numba; this is its <code>.py_func</code>)</figcaption>",
        _highlighted(item.loop_source()),
        "</figure>",
        "<figure>",
    ]
    out += [
        f"<figcaption>Vectorized twin <code>indexnet.vectorized.{item.name}</code>: "
        f"{_rst_to_html(item.twin_doc.summary)}</figcaption>",
        _highlighted(item.twin_source()),
    ]
    out += ["</figure>", "</div>", "</section>"]
    return out


# -- the Markdown page --------------------------------------------------------------------------

_MARKDOWN_LATEX = {
    "\\|": "\\Vert ",
    "\\,": "\\thinspace ",
    "\\;": "\\thickspace ",
    "\\:": "\\medspace ",
    "\\!": "\\negthinspace ",
    "\\{": "\\lbrace ",
    "\\}": "\\rbrace ",
}


def markdown_latex(latex: str) -> str:
    r"""``latex`` with the backslash-punctuation commands spelled as words.

    Markdown may read ``\,`` or ``\|`` as an escaped comma or bar before the math renderer sees
    it; ``\thinspace`` and ``\Vert`` mean the same and survive.
    """
    return re.sub(r"\\\\|\\[|,;:!{}]", lambda m: _MARKDOWN_LATEX.get(m.group(), m.group()), latex)


def _rst_to_markdown(text: str) -> str:
    return _inline(
        text,
        lambda math: f"${markdown_latex(math).strip()}$",
        lambda code: f"`{code}`",
        lambda plain: plain,
    )


def markdown_page() -> str:
    """The page as Markdown: ``$$`` math and fenced Python, for a code host to render.

    Returns
    -------
    str
    """
    items = kernels()
    intro = parse_docstring(loops.__doc__)
    out = [f"# {PAGE_TITLE}", "", _rst_to_markdown(intro.summary), ""]
    for paragraph in intro.prose:
        out += [_rst_to_markdown(paragraph), ""]
    out += [
        "Each section is one equation of UFLDL's backpropagation, the loop kernel that computes "
        "it and its NumPy twin. Generated from the code by `indexnet docs`; `kernels.html` beside "
        "this file shows the two sources side by side.",
        "",
    ]
    out += [
        f"- [`{item.name}`](#{item.name}): {_rst_to_markdown(item.doc.summary)}" for item in items
    ]
    out.append("")
    for before, item in zip([None, *items], items, strict=False):
        if before is not None and before.chapter != item.chapter:
            chapter = parse_docstring(CHAPTERS[item.chapter].__doc__)
            out += [f"# {_rst_to_markdown(chapter.summary)}", ""]
            for paragraph in chapter.prose:
                out += [_rst_to_markdown(paragraph), ""]
        doc = item.doc
        out += [f'<a id="{item.name}"></a>', "", f"## `{item.name}`", ""]
        out += [_rst_to_markdown(doc.summary), ""]
        for kind, text in doc.body:
            if kind == "math":
                out += ["$$", markdown_latex(text), "$$", ""]
            else:
                out += [_rst_to_markdown(text), ""]
        if doc.notes:
            out += [f"*{_rst_to_markdown(doc.notes)}*", ""]
        out += [
            f"**Loop kernel** `indexnet.loops.{item.name}` (Numba; this is its `.py_func`):",
            "",
        ]
        out += ["```python", item.loop_source().rstrip("\n"), "```", ""]
        out += [
            f"**Vectorized twin** `indexnet.vectorized.{item.name}`: "
            f"{_rst_to_markdown(item.twin_doc.summary)}",
            "",
            "```python",
            item.twin_source().rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


# -- files --------------------------------------------------------------------------------------


def pages() -> dict:
    """``{file name: text}`` for every page, as :func:`write_docs` would write them."""
    return {"kernels.html": html_page(), "kernels.md": markdown_page()}


def write_docs(outdir) -> list:
    """Write the HTML and Markdown pages into ``outdir`` (created if missing).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    made = pages()  # everything is generated before anything is written
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in made.items():
        path = outdir / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale_docs(outdir) -> list:
    """The pages in ``outdir`` that are missing or differ from what the generator makes now.

    Returns
    -------
    list of str
        File names; empty when the directory is up to date.
    """
    outdir = Path(outdir)
    stale = []
    for name, text in pages().items():
        path = outdir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
