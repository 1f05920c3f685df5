"""The equation-beside-code pages: kernels read from the code, LaTeX as text and MathML, the
committed docs/ up to date, and the HTML page rendered by a real headless browser."""

import html
import html.parser
import inspect
import json
import os
import re
import shutil
import struct
import subprocess
import textwrap
import unicodedata
import warnings
from importlib import resources
from pathlib import Path

import pytest

from indexnet import loops, vectorized
from indexnet.kernels import loops as dense
from indexnet.reading import showcase

DOCS = Path(__file__).resolve().parent.parent / "docs"
WIDTHS = [60, 80, 120, 200]


def test_every_kernel_of_loops_all_is_listed_once_in_definition_order():
    items = showcase.kernels()
    assert sorted(item.name for item in items) == sorted(loops.__all__)
    # the dense chapter first, then convolution and pooling; each in its file's order
    chapters = [0 if item.name in dense.__all__ else 1 for item in items]
    assert chapters == sorted(chapters)
    lines = [(c, inspect.getsourcelines(getattr(loops, item.name).py_func)[1])
             for c, item in zip(chapters, items, strict=True)]  # fmt: skip
    assert lines == sorted(lines)
    for item in items:
        assert item.loop is getattr(loops, item.name).py_func
        assert item.twin is getattr(vectorized, item.name)
        assert item.equation, f"{item.name} has no .. math:: block"


def test_unknown_kernel_names_the_closest_and_all():
    with pytest.raises(KeyError, match="Did you mean hidden_delta") as raised:
        showcase.kernel("hiden_delta")
    for name in loops.__all__:
        assert name in raised.value.args[0]


def test_parse_docstring_splits_summary_math_prose_and_notes():
    doc = showcase.parse_docstring(
        r"""Weighted input of layer :math:`l+1`
        for every example.

        .. math::
            z_i = \sum_j W_{ij} a_j
                  + b_i

        Some prose with ``code``.

        .. math::
            y = 1

        Parameters
        ----------
        W : ndarray
            Weights.

        Notes
        -----
        UFLDL, "Backpropagation Algorithm",
        step 3.
        """
    )
    assert doc.summary == "Weighted input of layer :math:`l+1` for every example."
    assert doc.math == [r"z_i = \sum_j W_{ij} a_j + b_i", "y = 1"]
    assert doc.prose == ["Some prose with ``code``."]
    assert doc.notes == 'UFLDL, "Backpropagation Algorithm", step 3.'
    assert doc.body == [("math", doc.math[0]), ("text", doc.prose[0]), ("math", "y = 1")]


def shown_docstrings():
    """Every docstring the reading tools parse: the loops module's, and each kernel's and twin's."""
    yield "kernels.loops", dense.__doc__
    yield "kernels.conv", showcase.CHAPTERS[1].__doc__
    for name in loops.__all__:
        yield f"loops.{name}", getattr(loops, name).__doc__
        yield f"vectorized.{name}", getattr(vectorized, name).__doc__


def test_parse_docstring_reads_every_shown_docstring_as_numpydoc_does():
    # The core install reads docstrings with docstring_parser (no Sphinx behind it); numpydoc's
    # own reader, a test dependency, is the reference it must agree with.
    docscrape = pytest.importorskip("numpydoc.docscrape")
    for where, doc in shown_docstrings():
        with warnings.catch_warnings():  # a module docstring has sections numpydoc does not know
            warnings.simplefilter("ignore", UserWarning)
            reference = docscrape.NumpyDocString(inspect.cleandoc(doc or ""))
        ours = showcase.parse_docstring(doc)
        assert ours.summary == showcase._joined(reference["Summary"]), where
        assert ours.notes == showcase._joined(reference["Notes"]), where
        assert ours.body == showcase._paragraphs(reference["Extended Summary"]), where


@pytest.mark.parametrize(
    "latex,text",
    [
        (
            r"\delta_i^{(l)} = \left( \sum_{j=1}^{s_{l+1}} W_{ji}^{(l)} \delta_j^{(l+1)} \right)"
            r" f'(z_i^{(l)})",
            "δᵢ⁽ˡ⁾ = (∑ⱼ₌₁^(sₗ₊₁) Wⱼᵢ⁽ˡ⁾ δⱼ⁽ˡ⁺¹⁾) f′(zᵢ⁽ˡ⁾)",  # noqa: RUF001
        ),
        (
            r"\delta_i^{(n_l)} = -(y_i - a_i^{(n_l)}) f'(z_i^{(n_l)})",
            "δᵢ^(nₗ) = -(yᵢ - aᵢ^(nₗ)) f′(zᵢ^(nₗ))",  # noqa: RUF001
        ),
        (
            r"\frac{\partial J}{\partial b_i^{(l)}} = \frac{1}{m}"
            r" \sum_{k=1}^{m} \delta_i^{(l+1)}(k)",
            "∂J/∂bᵢ⁽ˡ⁾ = 1/m ∑ₖ₌₁ᵐ δᵢ⁽ˡ⁺¹⁾(k)",
        ),
        (r"a \qquad b \quad c \, d", "a    b  c d"),
        (r"\frac{e^{z_i}}{\sum_j e^{z_j}}", "e^(zᵢ)/(∑ⱼ e^(zⱼ))"),
        (
            r"(1 - y)\log(1 - a) + \text{softmax: } \mathrm{softplus}(z)",
            "(1 - y) log(1 - a) + softmax: softplus(z)",
        ),
        (r"\left\| a - y \right\|^2", "‖a - y‖²"),
        (r"\sqrt{6 / (s + 1)}", "√(6 / (s + 1))"),
        (r"\hat\rho_j = \bar{x}", "\u03c1\u0302\u2c7c = x\u0305"),
        (r"\theta := \theta - \alpha \nabla_\theta J", "θ := θ - α ∇_θ J"),  # noqa: RUF001
        (r"(y - a) \bullet f'(z)", "(y - a) ∙ f′(z)"),  # noqa: RUF001
    ],
)
def test_latex_to_text(latex, text):
    assert showcase.latex_to_text(latex) == text


@pytest.mark.parametrize("item", showcase.kernels(), ids=lambda item: item.name)
def test_every_equation_and_comment_reads_as_plain_text(item):
    texts = [showcase.latex_to_text(math) for math in item.doc.math]
    texts += re.findall(r"\$([^$]+)\$", item.loop_source())
    texts = [showcase.latex_to_text(text) for text in texts]
    for text in texts:
        assert text
        assert not re.search(r"[\\{}]|[_^]\{", text), text


def test_source_is_read_from_the_code_without_its_docstring():
    def tiny(x):
        """A docstring that the page shows as math instead."""
        # $y = 2x$
        return 2 * x

    assert showcase.function_source(tiny) == "def tiny(x):\n    # $y = 2x$\n    return 2 * x\n"
    with_doc = showcase.function_source(tiny, docstring=True)
    assert with_doc == textwrap.dedent(inspect.getsource(tiny))


@pytest.mark.parametrize("item", showcase.kernels(), ids=lambda item: item.name)
def test_loop_source_is_the_dispatchers_py_func_less_its_docstring(item):
    full = inspect.getsource(getattr(loops, item.name).py_func).splitlines()
    shown = showcase.function_source(item.loop).splitlines()
    assert item.loop_source().startswith("\n".join(shown))
    # shown is full with one block of lines cut out, and that block is the whole docstring
    head = next(n for n, (a, b) in enumerate(zip(full, shown, strict=False)) if a != b)
    tail = len(shown) - head
    assert full[:head] == shown[:head] and full[len(full) - tail :] == shown[head:]
    cut = textwrap.dedent("\n".join(full[head : len(full) - tail]))
    doc = inspect.getdoc(item.loop)
    assert cut.strip().strip('r"').strip() == doc.strip()
    assert f"def {item.name}(" in "\n".join(shown)


def _reached_kernels(function, seen):
    """Names of loops.__all__ that ``function`` reaches, resolved in the module it runs in."""
    reached = {}
    for name in function.__code__.co_names:
        value = function.__globals__.get(name)
        if name in loops.__all__:
            reached[name] = value
        python = getattr(value, "py_func", value)
        if inspect.isfunction(python) and python not in seen:
            seen.add(python)
            reached |= _reached_kernels(python, seen)
    return reached


def test_vectorized_composites_run_only_numpy_kernels():
    composites = [item for item in showcase.kernels() if item.name in dense.COMPOSITES]
    assert {"forward", "backward", "cost_and_gradient"} <= {item.name for item in composites}
    for item in composites:
        reached = _reached_kernels(item.twin, set())
        assert reached, item.name
        for name, value in reached.items():
            assert value is getattr(vectorized, name), f"{item.name} -> {name}"
            assert not hasattr(value, "py_func"), f"{item.name} -> {name} is a Numba kernel"
    for item in showcase.kernels():
        assert item.twin_source() != item.loop_source()


def _add_one(x):
    return x + 1


def _uses_a_helper(x):
    return _add_one(x) * len([x])


def test_private_helpers_are_shown_after_the_kernel():
    assert showcase.helpers(_uses_a_helper) == [_add_one]
    for item in showcase.kernels():
        shown = item.loop_source()
        for helper in showcase.helpers(item.loop):
            assert f"def {helper.__name__}(" in shown
            assert shown.index(f"def {helper.__name__}(") > shown.index(f"def {item.name}(")


@pytest.mark.parametrize("width", WIDTHS)
def test_listing_fits_the_width_and_names_every_kernel(width):
    text = showcase.text_listing(width)
    assert all(len(line) <= width for line in text.splitlines())
    starts = [line.split()[0] for line in text.splitlines() if line and not line[0].isspace()]
    assert [name for name in starts if name in loops.__all__] == [
        item.name for item in showcase.kernels()
    ]


def _rendered_lines(source):
    return [line.rstrip() for line in showcase._comment_math(source, showcase.latex_to_text)
            .splitlines() if line.strip()]  # fmt: skip


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("item", showcase.kernels(), ids=lambda item: item.name)
def test_kernel_text_breaks_no_code_line_and_fits_the_width(item, width):
    text = showcase.text_kernel(item.name, width)
    lines = text.splitlines()
    code = _rendered_lines(item.loop_source()) + _rendered_lines(item.twin_source())
    for line in code:  # every source line is printed whole, on one line
        assert any(line in printed for printed in lines), (width, line)
    for printed in lines:  # only a source line wider than the terminal may run past its edge
        if len(printed) > width:
            assert any(len(line) > width and line in printed for line in code), printed
    assert showcase.latex_to_text(item.equation).split()[0] in text
    assert f"def {item.name}(" in text


def test_the_sources_stand_side_by_side_when_both_fit_and_stacked_when_not():
    item = showcase.kernel("update")
    loop, twin = _rendered_lines(item.loop_source()), _rendered_lines(item.twin_source())
    both = max(map(len, loop)) + showcase.GUTTER + max(map(len, twin))
    wide = showcase.text_kernel("update", both).splitlines()
    row = next(line for line in wide if line.startswith(loop[0]))  # "@jit" beside "def ..."
    assert row.index("│") < row.index(twin[0])
    assert max(map(len, wide)) <= both
    narrow = showcase.text_kernel("update", both - 1)
    assert "│" not in narrow and narrow.index(loop[-1]) < narrow.index(twin[-1])


def test_raw_keeps_the_comment_math_as_written():
    raw = showcase.text_kernel("weighted_input", 200, raw=True)
    rendered = showcase.text_kernel("weighted_input", 200)
    assert "$" in raw
    assert "$" not in rendered.split("\n\n", 3)[-1]


def test_markdown_latex_spells_out_backslash_punctuation():
    assert showcase.markdown_latex(r"\left\| a \right\|, \, b \; c \\ d") == (
        r"\left\Vert  a \right\Vert , \thinspace  b \thickspace  c \\ d"
    )


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.void = {"meta", "br", "hr", "img", "input", "link", "mspace", "none", "mprescripts"}
        self.stack, self.errors, self.counts = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.void:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _math_blocks():
    return sum(len(item.doc.math) for item in showcase.kernels())


def test_html_page_is_self_contained_and_balanced():
    page = showcase.html_page()
    tags = _Tags()
    tags.feed(page)
    assert tags.errors == [] and tags.stack == []
    assert "<script" not in page and "<link" not in page and " src=" not in page
    assert re.findall(r"(?:href|src)=\"(?!#)", page) == []
    assert page.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">') == (
        _math_blocks()
    )
    for item in showcase.kernels():
        assert f'<section class="kernel" id="{item.name}">' in page
        assert f'href="#{item.name}"' in page
    # every $...$ of every kernel comment became inline MathML: no dollar is left in the code
    code = "".join(re.findall(r'<div class="highlight">(.*?)</div>', page, re.DOTALL))
    assert "$" not in code


def test_markdown_page_has_display_math_and_both_sources():
    page = showcase.markdown_page()
    assert page.count("\n$$\n") == 2 * _math_blocks()
    assert page.count("```python\n") == 2 * len(showcase.kernels())
    for item in showcase.kernels():
        assert f"## `{item.name}`" in page
        assert item.loop_source().rstrip("\n") in page


def test_committed_docs_match_the_generator():
    stale = showcase.stale_docs(DOCS)
    assert not stale, f"docs/ is out of date ({', '.join(stale)}); run: indexnet docs docs"


def test_write_docs_then_nothing_is_stale(tmp_path):
    written = showcase.write_docs(tmp_path / "out")
    assert [path.name for path in written] == list(showcase.DOC_FILES)
    assert showcase.stale_docs(tmp_path / "out") == []
    (tmp_path / "out" / "kernels.md").write_text("edited", encoding="utf-8")
    assert showcase.stale_docs(tmp_path / "out") == ["kernels.md"]


# -- a real browser ----------------------------------------------------------------------------

CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome", "chrome"))),
    None,
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,2400",
]
# Added to a copy of the page only: the shipped page has no script. It records every error
# event (a failed load of any resource, a script error) from the start of parsing, and on load
# writes what the layout engine did with each <math> into the DOM, which --dump-dom prints.
PROBE_HEAD = """<script>
window.__probeErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__probeErrors.push(
    t && t !== window ? t.tagName + " " + (t.src || t.href) : String(e.message));
}, true);
</script>"""
PROBE_BODY = """<script>
window.addEventListener("load", function () { document.fonts.ready.then(function () {
  var maths = Array.from(document.querySelectorAll("math"));
  var fracs = Array.from(document.querySelectorAll("mfrac"));
  var subs = Array.from(document.querySelectorAll("msub"));
  function box(e) { return e.getBoundingClientRect(); }
  var report = {
    errors: window.__probeErrors,
    math: maths.length,
    mathml: maths.filter(function (m) {
      return m instanceof MathMLElement && m.namespaceURI === "http://www.w3.org/1998/Math/MathML";
    }).length,
    laid_out: maths.filter(function (m) { return box(m).width > 0 && box(m).height > 0; }).length,
    displays: Array.from(new Set(maths.map(function (m) { return getComputedStyle(m).display; }))),
    fracs: fracs.length,
    stacked: fracs.filter(function (f) {
      return box(f.children[0]).bottom <= box(f.children[1]).top + 1; }).length,
    subs: subs.length,
    lowered: subs.filter(function (s) {
      return box(s.children[1]).bottom > box(s.children[0]).bottom; }).length,
    fonts: Array.from(document.fonts).map(function (f) { return f.family + " " + f.status; }),
    resources: performance.getEntriesByType("resource").map(function (r) { return r.name; })
  };
  var pre = document.createElement("pre");
  pre.id = "indexnet-probe";
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
}); });
</script>"""


def _chromium(tmp_path, *arguments, env=None):
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )


def _chromium_version():
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr).strip()


def _probe(tmp_path, page, env=None):
    """What Chromium's layout did with every <math> of ``page`` (see PROBE_BODY)."""
    probe = tmp_path / "probe.html"
    probed = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace(
        "</body>", PROBE_BODY + "</body>", 1
    )
    probe.write_text(probed, encoding="utf-8")
    # The virtual time budget lets the page run its promises (fonts.ready) before the dump.
    dom = _chromium(
        tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri(), env=env
    ).stdout
    found = re.search(r'<pre id="indexnet-probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def _without_math_fonts(tmp_path):
    """An environment in which Chromium's fontconfig sees one text font and no math font.

    Stands for a reader's machine with no OpenType MATH font installed, whatever this one has.
    """
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        pytest.skip("no fc-match (fontconfig) to pick a text font")
    text_font = subprocess.run(
        [fc_match, "-f", "%{file}", "sans-serif"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / Path(text_font).name).symlink_to(text_font)
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir>"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


def _without_embedded_font(page):
    """The page as it was before it carried its math font: the browser's ``math`` fonts only."""
    stripped = re.sub(r"@font-face \{[^}]*\}\n", "", page, count=1)
    assert stripped != page
    return stripped.replace(f"math {{ font-family: {showcase.MATH_FONTS}; }}", "", 1)


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium or chrome on PATH (.ci/run installs Debian's chromium)"
)


@needs_chromium
def test_the_page_renders_its_equations_as_mathml_in_headless_chromium(tmp_path):
    version = _chromium_version()
    page = showcase.html_page()
    path = tmp_path / "kernels.html"
    path.write_text(page, encoding="utf-8")
    screenshot = tmp_path / "kernels.png"
    shot = _chromium(
        tmp_path,
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        f"--screenshot={screenshot}",
        path.as_uri(),
    )
    # With --enable-logging every console message is a CONSOLE line; the page must cause none.
    assert "CONSOLE" not in shot.stderr, (version, shot.stderr)
    header = screenshot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1400, 2400)

    # Typeset as a reader sees it, on this machine and on one with no math font installed.
    for where, env in (("this machine", None), ("no math font", _without_math_fonts(tmp_path))):
        report = _probe(tmp_path, page, env)
        context = f"{version}, {where}: {report}"
        assert report["errors"] == [], context
        assert report["resources"] == [], context
        assert report["fonts"] == ["indexnet math loaded"], context
        assert report["math"] == page.count("<math ") > _math_blocks(), context
        assert report["mathml"] == report["laid_out"] == report["math"], context
        # MathML Core layout, not unknown inline elements: Chromium gives <math> display "math"
        # or "block math", stacks every fraction and lowers every subscript.
        assert set(report["displays"]) == {"math", "block math"}, context
        assert report["stacked"] == report["fracs"] > 0, context
        assert report["lowered"] == report["subs"] > 0, context


@needs_chromium
def test_the_probe_sees_subscripts_left_on_the_baseline_without_a_math_font(tmp_path):
    """The negative case: with no OpenType MATH table anywhere, MathML falls back to near-zero
    script shifts, and the probe of the test above must report subscripts not lowered."""
    page = _without_embedded_font(showcase.html_page())
    report = _probe(tmp_path, page, _without_math_fonts(tmp_path))
    assert report["fonts"] == [], report
    assert 0 < report["lowered"] < report["subs"], (_chromium_version(), report)


def _drawn_as(character, alone):
    """The code points a browser draws ``character`` of a ``<mi>`` with (``math-auto``: a
    single-letter identifier is drawn in math italic)."""
    if not (alone and character.isalpha()):
        return [character]
    name = unicodedata.name(character)
    for word in ("LATIN ", "GREEK ", "LETTER "):
        name = name.replace(word, "")
    try:
        return [character, unicodedata.lookup(f"MATHEMATICAL ITALIC {name}")]
    except KeyError:  # the italic h was encoded before the block, as the Planck constant
        return [character, "\u210e"] if character == "h" else [character]


def test_the_embedded_math_font_draws_every_character_of_the_page():
    fontTools = pytest.importorskip("fontTools.ttLib")
    font_file = resources.files("indexnet.reading").joinpath("fonts", "math.woff2")
    with resources.as_file(font_file) as path:
        font = fontTools.TTFont(path)
    assert "MATH" in font, "the subset lost its OpenType MATH table"
    cmap = font.getBestCmap()
    page = showcase.html_page()
    needed = set()
    for tag, attributes, text in re.findall(r"<(m[a-z]+)([^>]*)>([^<]+)</\1>", page):
        text = html.unescape(text)
        alone = tag == "mi" and len(text) == 1 and "mathvariant" not in attributes
        needed |= {drawn for character in text for drawn in _drawn_as(character, alone)}
    missing = sorted(c for c in needed if ord(c) not in cmap)
    assert not missing, f"add {missing} to tools/subset_math_font.py and rerun it"
    assert len(needed) > 40
