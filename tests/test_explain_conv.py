"""indexnet explain --conv: the conv delta's terms add up to the kernel's value, the absent terms
are exactly those outside the map, the page draws the terms in an inline SVG, and a bad --at is
refused naming the option."""

import inspect
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from indexnet import loops
from indexnet.cli import cli
from indexnet.kernels import conv
from indexnet.kernels.activations import ACTIVATIONS
from indexnet.reading.explain_conv import ROTATION, default_conv_problem, explain_conv

MAP = 6
"""Side of the first stage's maps in the default problem (8x8 image, 3x3 filters)."""
DELTA = 4
"""Side of the second stage's maps, delta^(l+1)."""


def _run(*args):
    result = CliRunner().invoke(cli, ["explain", "--conv", *args])
    return result


def _json(*args):
    result = _run("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _kernel_value(seed, d, r, c, activation="sigmoid"):
    """loops.conv_delta at (0, d, r, c), called here on the trace's arrays."""
    net, X, Y = default_conv_problem(seed, activation=activation)
    trace = net.trace(X, Y)
    W = net.parameters(net.theta)[0][1]
    out = np.empty_like(trace.conv_z[0])
    kind = ACTIVATIONS[activation]
    loops.conv_delta(W, trace.conv_delta[1], trace.conv_z[0], trace.conv_a[0], kind, out)
    return out[0, d, r, c], W, trace


@pytest.mark.parametrize(
    "args, d, r, c",
    [((), 0, 3, 3), (("--at", "0,0"), 0, 0, 0), (("--at", "5,2", "--channel", "1"), 1, 5, 2)],
)
def test_the_terms_add_up_to_the_kernels_value(args, d, r, c):
    page = _json("--seed", "2", *args)
    assert (page["channel"], page["at"]) == (d, [r, c])
    kernel, W, trace = _kernel_value(2, d, r, c)
    present = [t for t in page["terms"] if t["present"]]
    total = sum(t["product"] for t in present)
    assert total == pytest.approx(page["sum"], rel=1e-12, abs=1e-18)
    assert page["sum"] * page["f_prime"] == pytest.approx(kernel, rel=1e-12, abs=1e-18)
    assert page["value"] == pytest.approx(kernel, rel=1e-12, abs=1e-18)
    assert page["kernel"] == pytest.approx(kernel, rel=1e-12, abs=1e-18)
    assert page["finite_difference"] == pytest.approx(kernel, rel=1e-5, abs=1e-9)
    for term in page["terms"]:  # each factor is the trace's number at its indices
        assert term["W"] == W[term["k"], d, term["p"], term["q"]]
        if term["present"]:
            assert term["delta"] == trace.conv_delta[1][0, term["k"], term["row"], term["col"]]
            assert term["product"] == pytest.approx(term["W"] * term["delta"], rel=1e-15)


@pytest.mark.parametrize("r, c", [(0, 0), (3, 3), (5, 5), (0, 5), (4, 1)])
def test_the_absent_terms_are_exactly_those_outside_the_map(r, c):
    page = _json("--at", f"{r},{c}")
    assert page["delta_map"] == [DELTA, DELTA]
    seen = [(t["k"], t["p"], t["q"]) for t in page["terms"]]
    assert seen == [(k, p, q) for k in range(2) for p in range(3) for q in range(3)]
    for term in page["terms"]:
        assert (term["row"], term["col"]) == (r - term["p"], c - term["q"])
        inside = 0 <= term["row"] < DELTA and 0 <= term["col"] < DELTA
        assert term["present"] == inside
        assert (term["delta"] is None) == (not inside)


def test_the_text_puts_the_equation_first_and_writes_every_term():
    result = _run("--at", "0,0", "--width", "100")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[3].startswith("δ_(d,r,c)⁽ˡ⁾ = ( ∑ₖ ∑ₚ ∑_q W_(k,d,p,q)⁽ˡ⁾ δ_(k,r-p,c-q)⁽ˡ⁺¹⁾ )")
    assert ROTATION.split(":")[0] in result.output.replace("\n", " ")
    assert "r+p" in lines[4] and "r-p" in lines[4]
    terms = [line for line in lines if re.match(r"\s+k=\d p=\d q=\d", line)]
    assert len(terms) == 18
    assert sum("absent, outside the 4x4 map" in line for line in terms) == 16
    assert "k=0 p=0 q=0  (r-p, c-q) = (0, 0)" in terms[0]
    for name in ("loops.conv_delta", "vectorized.conv_delta", "central difference"):
        assert any(name in line and "difference" in line for line in lines), name
    assert max(len(line) for line in lines if not line.startswith("   │")) <= 100


def test_the_kernel_lines_shown_are_the_kernels_own_source():
    source = inspect.getsource(conv._conv_delta.py_func)
    result = _run()
    shown = [line.split("│ ", 1)[1] for line in result.output.splitlines() if "│ " in line]
    code = [line.strip() for line in shown if not line.strip().startswith(("#", "..."))]
    assert "total += W[k, d, p, q] * delta_next[n, k, r - p, c - q]" in code
    for line in code:
        assert line in source, line


def test_the_page_draws_the_chosen_position_and_the_terms(tmp_path):
    path = tmp_path / "conv.html"
    result = _run("--at", "0,4", "--channel", "1", "--html", str(path))
    assert result.exit_code == 0, result.output
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert len(re.findall(r'class="cell chosen" id="input-d1-r0-c4"', page)) == 1
    assert page.count('class="cell chosen"') == 1
    cells = re.findall(
        r'<g class="cell (term|absent)" id="delta-k(\d)-r(-?\d+)-c(-?\d+)" '
        r'data-k="(\d)" data-p="(\d)" data-q="(\d)"',
        page,
    )
    assert len(cells) == 18
    for kind, k, i, j, data_k, p, q in cells:
        assert k == data_k
        assert (int(i), int(j)) == (0 - int(p), 4 - int(q))  # labelled with (p, q): r - p, c - q
        inside = 0 <= int(i) < DELTA and 0 <= int(j) < DELTA
        assert kind == ("term" if inside else "absent")
    assert sum(kind == "term" for kind, *_ in cells) == 4


@pytest.mark.parametrize(
    "args, option",
    [
        (("--at", "6,0"), "--at"),
        (("--at", "0,-1"), "--at"),
        (("--at", "3"), "--at"),
        (("--at", "1,x"), "--at"),
        (("--at", "1,2,3"), "--at"),
        (("--channel", "2"), "--channel"),
    ],
)
def test_a_bad_position_is_refused_naming_the_option(args, option):
    result = _run(*args)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert "Traceback" not in result.output


def test_the_conv_options_go_only_with_conv():
    runner = CliRunner()
    result = runner.invoke(cli, ["explain", "--at", "1,1"])
    assert result.exit_code == 2 and "--at goes with --conv" in result.output
    result = runner.invoke(cli, ["explain", "--conv", "--sizes", "2,2,1"])
    assert result.exit_code == 2 and "--sizes does not go with --conv" in result.output


def test_explain_conv_refuses_a_network_without_a_second_stage():
    from indexnet import ConvNetwork

    net = ConvNetwork((1, 6, 6), [(2, 3, 1)], 2)
    with pytest.raises(ValueError, match="two convolutional stages"):
        explain_conv(net, np.zeros((1, 1, 6, 6)), [0])
