"""indexnet.reading.explain: the numbers are the trace's, each equation's kernel lines are the
kernel's own source, every delta and gradient is confirmed by central differences, the page fetches
nothing, and sympy confirms the formulas."""

import html.parser
import inspect
import itertools
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from indexnet import Network, explain
from indexnet.cli import cli
from indexnet.kernels import loops
from indexnet.reading.explain import as_text, default_problem, kernel_lines, number

CASES = [
    ((3, 3, 1), "sigmoid", 1, 0.0),
    ((2, 3, 2, 2), "tanh", 2, 1e-3),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}-m{c[2]}-lam{c[3]}")
def case(request):
    sizes, f, m, lam = request.param
    net, X, Y = default_problem(sizes, seed=1, m=m, hidden=f, output=f)
    return net, X, Y, lam, explain(net, X, Y, lam=lam)


def _trace_value(ex, item):
    """The trace's number for an instance, found by the instance's math indices."""
    L, k = item.layer - 1, (item.example or 1) - 1
    t = ex.trace
    if item.quantity in ("z", "a", "delta"):
        return {"z": t.z, "a": t.a, "delta": t.delta}[item.quantity][L][k, item.index[0] - 1]
    if item.quantity == "dW":
        return t.grad_W[L][item.index[0] - 1, item.index[1] - 1]
    if item.quantity == "db":
        return t.grad_b[L][item.index[0] - 1]
    if item.quantity == "J":
        return t.cost
    i = item.index[0] - 1
    if item.quantity == "W":
        return ex.net.W[L][i, item.index[1] - 1] - ex.alpha * t.grad_W[L][i, item.index[1] - 1]
    return ex.net.b[L][i] - ex.alpha * t.grad_b[L][i]


def test_every_instance_is_there_once_and_its_value_is_the_traces(case):
    net, X, _, _, ex = case
    m, sizes = X.shape[0], net.sizes
    hidden_units = sum(sizes[1:-1])
    counts = {q: len(ex.instances(q)) for q in ("z", "a", "delta", "dW", "db", "J", "W", "b")}
    assert counts["z"] == counts["a"] == m * sum(sizes[1:])
    assert counts["delta"] == m * (hidden_units + sizes[-1])
    assert counts["dW"] == counts["W"] == sum(a * b for a, b in itertools.pairwise(sizes))
    assert counts["db"] == counts["b"] == sum(sizes[1:])
    assert counts["J"] == 1
    assert len({item.key for item in ex.instances()}) == len(ex.instances())
    for item in ex.instances():
        assert item.value == pytest.approx(_trace_value(ex, item), rel=1e-12, abs=1e-15)


def test_every_delta_and_gradient_is_confirmed_by_central_differences(case):
    *_, ex = case
    checked = [i for i in ex.instances() if i.quantity in ("delta", "dW", "db")]
    assert checked and all(i.check is not None for i in checked)
    for item in checked:
        assert item.check == pytest.approx(item.value, rel=1e-6, abs=1e-9), item.key


def test_the_order_is_the_kernels(case):
    net, *_, ex = case
    kernels = [g.kernel for g in ex.groups]
    top = len(net.sizes) - 1
    expected = ["weighted_input", "activation"] * top + ["cost", "output_delta"]
    for L in range(top - 1, -1, -1):
        expected += ["weight_gradient", "bias_gradient"] + (["hidden_delta"] if L else [])
    assert kernels == [*expected, "update"]


def test_the_numbers_written_out_are_the_factors_of_the_trace(case):
    """The hidden delta's sum over j, term by term: W_ji^(l) x delta_j^(l+1), then f'(z_i)."""
    net, *_, ex = case
    for item in ex.instances("delta"):
        L, i, k = item.layer - 1, item.index[0] - 1, (item.example or 1) - 1
        if L == len(net.sizes) - 1:
            continue
        numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", item.numbers)]
        expected = []
        for j in range(net.sizes[L + 1]):
            expected += [net.W[L][j, i], ex.trace.delta[L + 1][k, j]]
        assert numbers[: len(expected)] == [float(number(v)) for v in expected]
        rhs = as_text(item.rhs)
        assert rhs.count("+") == net.sizes[L + 1] - 1


@pytest.mark.parametrize(
    "kernel", ["weighted_input", "activation", "cost", "output_delta", "hidden_delta",
               "weight_gradient", "bias_gradient", "update"],
)  # fmt: skip
def test_kernel_lines_are_the_kernels_own_source(kernel):
    body = getattr(loops, f"_{kernel}", getattr(loops, kernel)).py_func
    source = inspect.getsource(body)
    found = kernel_lines(kernel)
    assert found
    for line in found:
        assert f"${line.latex}$" in line.comment
        block = "\n".join([line.comment, line.code])
        assert all(code.strip() in source for code in block.split("\n"))
        assert (
            line.comment.strip()
            in inspect.getsourcelines(body)[0][line.line - inspect.getsourcelines(body)[1]]
        )


def test_every_group_shows_kernel_lines_and_its_docstring_equation(case):
    *_, ex = case
    for group in ex.groups:
        assert group.lines, group.title
        assert group.equation, group.title


class _Values(html.parser.HTMLParser):
    """Every instance's printed value and check, and every drawn number, by id."""

    def __init__(self):
        super().__init__()
        self.stack, self.values, self.drawn, self.fetches = [], {}, {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "link", "iframe") and (attrs.get("src") or attrs.get("href")):
            self.fetches.append(attrs)
        self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        classes = [a.get("class", "") for _, a in self.stack]
        ids = [a.get("id") for _, a in self.stack if a.get("id")]
        if classes and classes[-1] == "value" and ids:
            self.values[ids[-1]] = data
        if any(c.startswith("value ") or c.startswith("w ") for c in classes[-1:]) and ids:
            self.drawn[ids[-1]] = self.drawn.get(ids[-1], "") + data


def test_the_html_numbers_parse_back_to_the_traces(case):
    net, *_, ex = case
    page = ex.html()
    parser = _Values()
    parser.feed(page)
    assert parser.fetches == []
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)
    for item in ex.instances():
        printed = parser.values[f"inst-{item.key}"]
        assert float(printed) == float(number(_trace_value(ex, item)))
    t = ex.trace
    for l in range(2, len(net.sizes) + 1):
        for i in range(1, net.sizes[l - 1] + 1):
            for name, values in (("z", t.z), ("a", t.a), ("delta", t.delta)):
                text = parser.drawn[f"{name}-{l}-{i}"]
                assert float(text.rsplit("= ", 1)[1]) == float(number(values[l - 1][0, i - 1]))
    for l in range(1, len(net.sizes)):
        for i, j in np.ndindex(*net.W[l - 1].shape):
            text = parser.drawn[f"w-{l}-{i + 1}-{j + 1}"]
            assert float(text.rsplit("= ", 1)[1]) == float(number(net.W[l - 1][i, j]))


def test_choosing_a_hidden_delta_names_exactly_its_edges_W_ji(case):
    net, *_, ex = case
    page = ex.html()
    for l in range(2, len(net.sizes)):
        for i in range(1, net.sizes[l - 1] + 1):
            tag = re.search(rf'<text[^>]*id="delta-{l}-{i}"[^>]*>', page).group(0)
            edges = re.search(r'data-edges="([^"]*)"', tag).group(1).split()
            lines = [e for e in edges if e.startswith("edge-")]
            assert sorted(lines) == sorted(f"edge-{l}-{j}-{i}" for j in range(1, net.sizes[l] + 1))
            for edge in lines:
                assert f'id="{edge}"' in page


def test_the_text_page_fits_the_width_and_prints_the_traces_numbers(case):
    *_, ex = case
    for width in (60, 100):
        text = ex.text(width)
        long = [line for line in text.splitlines() if len(line) > width and "│" not in line]
        assert all(" " not in line.strip() for line in long), long
    text = ex.text(100)
    assert f"= {number(ex.trace.cost)}" in text
    for item in ex.instances("delta"):
        assert f"= {number(item.value)}   check {number(item.check)}" in text


def test_explain_changes_nothing_and_refuses_what_it_cannot_draw():
    net, X, Y = default_problem()
    theta = net.theta.copy()
    explain(net, X, Y)
    assert np.array_equal(net.theta, theta)
    with pytest.raises(ValueError, match="at most 8 units"):
        explain(Network([9, 2, 1]), np.zeros((1, 9)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="at most 5 layers"):
        explain(Network([2, 2, 2, 2, 2, 1]), np.zeros((1, 2)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="at most 3 rows"):
        explain(net, np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(TypeError, match=r"net must be an indexnet\.Network"):
        explain("net", X, Y)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        explain(net, X, Y, lam=-1.0)


def test_sparsity_and_cross_entropy_are_written_out_and_confirmed():
    net, X, Y = default_problem((3, 2, 2), seed=2, m=2, cost="cross_entropy")
    ex = explain(net, X, Y, lam=1e-3, beta=0.1, rho=0.2)
    for item in ex.instances():
        if item.check is not None:
            assert item.check == pytest.approx(item.value, rel=1e-6, abs=1e-9), item.key
    assert any(r"\beta" in item.rhs for item in ex.instances("delta"))


# -- sympy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, f, decay", [([2, 2, 2], "sigmoid", False), ([3, 3, 1], "tanh", True),
                        ([2, 3, 2, 2], "sigmoid", True), ([2, 3, 2, 2], "tanh", False)],
)  # fmt: skip
def test_sympy_confirms_every_delta_and_gradient(sizes, f, decay):
    pytest.importorskip("sympy")
    from indexnet.reading.symbolic import symbolic_checks

    checks = symbolic_checks(sizes, hidden=f, output=f, weight_decay=decay)
    n_weights = sum(a * b for a, b in itertools.pairwise(sizes))
    assert len(checks) == sum(sizes[1:]) * 2 + n_weights
    assert all(c.equal for c in checks), [c for c in checks if not c.equal]


def test_sympy_catches_a_wrong_formula(monkeypatch):
    """W_ij in place of W_ji in the hidden delta: the check must say so."""
    pytest.importorskip("sympy")
    from indexnet.reading import symbolic

    right = symbolic._deltas

    def wrong(net, zs, as_, act, y, cost, lowest):
        transposed = [W.T for W in net.W]
        saved, net.W = net.W, transposed
        try:
            out = right(net, zs, as_, act, y, cost, lowest)
        finally:
            net.W = saved
        return out

    monkeypatch.setattr(symbolic, "_deltas", wrong)
    checks = symbolic.symbolic_checks([2, 2, 2])
    assert not all(c.equal for c in checks if c.equation == "hidden delta")


def test_cli_explain_text_json_html_and_symbolic(tmp_path):
    runner = CliRunner()
    done = runner.invoke(cli, ["explain", "--width", "80"])
    assert done.exit_code == 0, done.output
    assert "hidden delta" in done.output and "loops.hidden_delta" in done.output
    out = tmp_path / "x.html"
    done = runner.invoke(cli, ["explain", "--sizes", "2,2,2", "--json", "--html", str(out)])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["network"]["sizes"] == [2, 2, 2]
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    done = runner.invoke(cli, ["explain", "--sizes", "9,2", "--json"])
    assert done.exit_code != 0 and "at most 8 units" in done.output
    if pytest.importorskip("sympy"):
        done = runner.invoke(
            cli, ["explain", "--sizes", "2,3,2,2", "--activation", "tanh", "--lam", "0.01",
                  "--symbolic", "--json"],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        symbolic = json.loads(done.output)["symbolic"]
        assert len(symbolic) == 30 and all(c["equal"] for c in symbolic)
        assert set(symbolic[0]) == {"equation", "unit", "equal"}
