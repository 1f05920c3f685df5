"""Each script in examples/ runs as ``python examples/NAME.py --quick`` and its printed claims
hold: the numbers it prints are parsed back and checked here. (Each is a notebook too:
tests/test_notebooks.py runs it as one.)"""

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = [
    "why_one_half",
    "why_weight_decay",
    "why_average",
    "where_the_sum_comes_from",
    "ufldl_network",
    "own_training_loop",
    "why_rot90",
]
NUMBER = r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?"


@pytest.fixture(scope="module")
def outputs():
    """Every example's stdout; they run at the same time, each in its own interpreter."""
    running = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in NAMES
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name} failed:\n{stderr}"
        assert "Warning" not in stderr, stderr
        results[name] = stdout
    return results


def number(text, pattern):
    found = re.search(pattern.replace("NUMBER", f"({NUMBER})"), text)
    assert found, f"no match for {pattern!r}"
    return float(found.group(1))


def test_every_example_quotes_its_equations_and_runs_standalone():
    for name in NAMES:
        source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
        # A jupytext header and the Markdown cells (comments, tests/test_notebooks.py) come
        # first; the docstring after them is still the module's.
        assert ast.get_docstring(ast.parse(source)), name
        assert f"python examples/{name}.py" in source
        assert "import indexnet" in source


def test_why_one_half(outputs):
    out = outputs["why_one_half"]
    assert number(out, r"J2 / J = NUMBER") == pytest.approx(2.0, abs=1e-12)
    assert number(out, r"\|\|dJ2 - 2 dJ\|\| / \|\|dJ2 \+ 2 dJ\|\| = NUMBER") < 1e-9
    ratios = re.findall(rf"^\s+\d+\s+{NUMBER}\s+{NUMBER}\s+({NUMBER})$", out, re.MULTILINE)
    assert len(ratios) >= 4
    assert all(float(ratio) == pytest.approx(2.0, abs=1e-8) for ratio in ratios)
    assert number(out, r"max \|theta_J - theta_J2\| = NUMBER") < 1e-10
    assert number(out, r"\|\|dJ2\|\| / \|\|dJ\|\| = NUMBER") == pytest.approx(2.0, abs=1e-4)
    assert number(out, r"there \|\|dJ\|\| = NUMBER") < 1e-2 * number(out, r"at the start NUMBER")
    assert re.search(r"argmin J = 0\s+argmin J2 = 0", out)
    assert "rank all candidates in the same order: True" in out


def test_why_weight_decay(outputs):
    out = outputs["why_weight_decay"]
    assert number(out, r"lambda W\| over the weights = NUMBER") < 1e-14
    assert number(out, r"over the biases = NUMBER") == 0.0
    rows = re.findall(rf"^\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})$", out, re.MULTILINE)
    table = {float(lam): (float(norm), float(valid)) for lam, norm, _, valid in rows[:4]}
    assert sorted(table) == [0.0, 1e-4, 1e-3, 1e-2]
    norms = [table[lam][0] for lam in sorted(table)]
    assert norms == sorted(norms, reverse=True), "larger lambda, smaller weights"
    best = min(table[lam][1] for lam in table if lam > 0)
    assert best < table[0.0][1]
    assert number(out, r"lowest validation error at lambda = NUMBER") > 0
    assert number(out, r"spread = NUMBER") < 1e-9
    assert "flattest at: trained, lambda = 0.001" in out


def test_why_average(outputs):
    out = outputs["why_average"]
    rows = re.findall(
        rf"^\s+(\d+)\s+({NUMBER})\s+{NUMBER}\s+{NUMBER}\s+(\S+)\s+(.+)$", out, re.MULTILINE
    )
    assert [int(m) for m, *_ in rows] == [1, 10, 100, 1000]
    diverged_at = []
    for m, start, average, plain_sum in rows:
        assert float(average) < float(start) / 10, f"the average did not converge for m={m}"
        if m == "1":
            assert plain_sum == average
        else:
            found = re.fullmatch(r"diverged at iteration (\d+)", plain_sum)
            assert found, f"the sum did not diverge for m={m}"
            diverged_at.append(int(found.group(1)))
    assert diverged_at == sorted(diverged_at, reverse=True), "larger m, sooner"


def test_where_the_sum_comes_from(outputs):
    out = outputs["where_the_sum_comes_from"]
    sums = [float(v) for v in re.findall(rf"sum of the terms\s+= +({NUMBER})", out)]
    deltas = [float(v) for v in re.findall(rf"\(indexnet\)\s+= +({NUMBER})", out)]
    finite = [float(v) for v in re.findall(rf"\(finite diff\) = +({NUMBER})", out)]
    assert len(sums) == len(deltas) == len(finite) == 3
    for total, delta, estimate in zip(sums, deltas, finite, strict=True):
        assert total == pytest.approx(delta, rel=1e-12)
        assert estimate == pytest.approx(delta, rel=1e-6)
    terms = re.findall(rf"= +({NUMBER}) \* +({NUMBER}) \* +({NUMBER}) = +({NUMBER})", out)
    assert len(terms) == 6
    for d, w, fp, term in terms:
        assert float(term) == pytest.approx(float(d) * float(w) * float(fp), rel=1e-5)
    locals_ = re.findall(
        rf"dz_\d\^\(3\)/dz_\d\^\(2\) = +({NUMBER}); by finite differences +({NUMBER})", out
    )
    assert len(locals_) == 6
    assert all(float(a) == pytest.approx(float(b), rel=1e-6) for a, b in locals_)
    assert "entries with k != i that are exactly 0.0: 12 of 12" in out
    vectors = re.findall(r"= \[([^\]]+)\]\s+a_\d\^\(1\) delta_k\d = \[([^\]]+)\]", out)
    assert len(vectors) == 6 and all(a == b for a, b in vectors)
    gradients = re.findall(rf"= +({NUMBER})\s+indexnet +({NUMBER})\s+finite diff +({NUMBER})", out)
    assert len(gradients) == 6
    for by_hand, by_indexnet, estimate in gradients:
        assert float(by_hand) == pytest.approx(float(by_indexnet), rel=1e-12)
        assert float(estimate) == pytest.approx(float(by_indexnet), rel=1e-6)


def test_ufldl_network(outputs):
    out = outputs["ufldl_network"]
    shown = re.findall(
        rf"^(\S+) += .*\n += +({NUMBER})\s+\[indexnet: +({NUMBER})\]$", out, re.MULTILINE
    )
    names = [name for name, *_ in shown]
    expected = [f"z_{i}^(2)" for i in (1, 2, 3)] + [f"a_{i}^(2)" for i in (1, 2, 3)]
    expected += ["z_1^(3)", "a_1^(3)", "J", "delta_1^(3)"]
    expected += [f"delta_{i}^(2)" for i in (1, 2, 3)]
    expected += [f"dJ/dW_{i}{j}^(1)" for i in (1, 2, 3) for j in (1, 2, 3)]
    expected += [f"dJ/db_{i}^(1)" for i in (1, 2, 3)]
    expected += [f"dJ/dW_1{j}^(2)" for j in (1, 2, 3)] + ["dJ/db_1^(2)"]
    assert sorted(names) == sorted(expected)
    for _, by_hand, by_indexnet in shown:
        assert float(by_hand) == pytest.approx(float(by_indexnet), abs=1e-12)


def test_own_training_loop(outputs):
    out = outputs["own_training_loop"]
    own, network = number(out, r"own loop NUMBER"), number(out, r"Network NUMBER")
    assert own == pytest.approx(network, rel=1e-14)
    assert number(out, r"Network's gradient\| = NUMBER") < 1e-14
    start = number(out, r"mu = 0.0: J from NUMBER")
    plain, momentum = (
        number(out, r"mu = 0.0: J .* to NUMBER"),
        number(out, r"mu = 0.9: J .* to NUMBER"),
    )
    assert momentum < plain < start and momentum < 0.05


def test_why_rot90(outputs):
    out = outputs["why_rot90"]
    # the index form: r - p backward reaches exactly the outputs that read (r, c) with r + p
    assert "the outputs that read a_15 forward are exactly these: True" in out
    assert len(re.findall(r"is outside the 5x5 map: no term$", out, re.MULTILINE)) == 5
    total = number(out, r"sum of the 4 terms = +NUMBER")
    assert total == pytest.approx(number(out, r"conv_delta at \(1, 5\) += +NUMBER"), abs=1e-12)
    assert number(out, r"\|difference\| = NUMBER") < 1e-12
    shown = re.findall(rf"max \|(.+?)\| = ({NUMBER})$", out, re.MULTILINE)
    equal = [
        "conv_delta - correlate2d(pad(G, 2), rot90(W, 2), 'valid')",
        "conv_delta - convolve2d(G, W, 'full')",
        "conv_delta - autograd's dL/da",
        "z - correlate2d(a, W, 'valid')",
        "z - convolve2d(a, rot90(W, 2), 'valid')",
        "m dW - correlate2d(a, G, 'valid')",
        "m dW - convolve2d(a, rot90(G, 2), 'valid')",
        "conv_delta - sum_k convolve2d(G_k, W_kd, 'full')",
        "conv_delta - autograd's dL/da",  # again, over the random cases
        "conv_weighted_input - b_k - sum_d correlate2d(a_d, W_kd, 'valid')",
        "filter_gradient - mean_n convolve2d(a_d, rot90(G_k, 2), 'valid')",
    ]
    if importlib.util.find_spec("torch") is not None:
        equal.append("conv_delta - PyTorch's dL/da (conv2d)")
    else:
        assert "PyTorch is not installed" in out
    different = [
        "conv_delta - correlate2d(pad(G, 2), W, 'valid')",  # the filter not rotated
        "z - convolve2d(a, W, 'valid')",  # conv2 without UFLDL's flip
    ]
    assert sorted(label for label, _ in shown) == sorted(equal + different)
    for label, value in shown:
        if label in different:
            assert float(value) > 0.1, label
        else:
            assert float(value) < 1e-12, label
    assert "'full' gives a (7, 7) map, the input's shape ('valid' would give (3, 3))" in out
    assert "over 20 random cases" in out
