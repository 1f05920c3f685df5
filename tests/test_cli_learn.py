"""``indexnet show``, ``docs`` and ``check``, run through click's test runner."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import indexnet
from indexnet.api.gradcheck import random_examples
from indexnet.cli.learn import check, docs, show
from indexnet.kernels import loops
from indexnet.reading import showcase


def run(command, *arguments):
    return CliRunner().invoke(command, list(arguments), catch_exceptions=False)


def test_show_lists_every_kernel_with_its_equation():
    result = run(show, "--width", "100")
    assert result.exit_code == 0
    for item in showcase.kernels():
        line = next(line for line in result.output.splitlines() if line.startswith(item.name))
        assert showcase.latex_to_text(item.equation).split()[0] in line
    assert all(len(line) <= 100 for line in result.output.splitlines())


@pytest.mark.parametrize("width", ["70", "160"])
def test_show_kernel_prints_equation_and_both_sources_within_the_width(width):
    result = run(show, "hidden_delta", "--width", width)
    assert result.exit_code == 0
    assert "δᵢ⁽ˡ⁾ = (∑ⱼ₌₁^(sₗ₊₁) Wⱼᵢ⁽ˡ⁾ δⱼ⁽ˡ⁺¹⁾) f′(zᵢ⁽ˡ⁾)" in result.output  # noqa: RUF001
    item = showcase.kernel("hidden_delta")
    source = item.loop_source() + item.twin_source()
    code = showcase._comment_math(source, showcase.latex_to_text).splitlines()
    for line in code[1:4] + code[-4:]:
        assert line.rstrip() in result.output
    for line in result.output.splitlines():  # past the width only a source line printed whole
        assert len(line) <= int(width) or line.strip() in {c.strip() for c in code}, line


def test_show_raw_prints_the_comments_as_written():
    result = run(show, "weighted_input", "--raw", "--width", "200")
    assert "# $" in result.output


def test_show_unknown_kernel_is_a_user_error():
    result = run(show, "hiden_delta")
    assert result.exit_code == 1
    assert "Did you mean hidden_delta" in result.output


def test_docs_writes_both_pages_and_check_sees_them_current(tmp_path):
    out = tmp_path / "site"
    result = run(docs, str(out))
    assert result.exit_code == 0
    assert (out / "kernels.html").read_text(encoding="utf-8") == showcase.html_page()
    assert (out / "kernels.md").read_text(encoding="utf-8") == showcase.markdown_page()
    assert run(docs, str(out), "--check").exit_code == 0
    (out / "kernels.html").write_text("old", encoding="utf-8")
    stale = run(docs, str(out), "--check")
    assert stale.exit_code == 1
    assert "kernels.html" in stale.output and "kernels.md" not in stale.output
    assert (out / "kernels.html").read_text(encoding="utf-8") == "old"


def test_check_defaults_pass_and_print_each_layer():
    result = run(check)
    assert result.exit_code == 0, result.output
    for name in ("W^(1)", "b^(1)", "W^(2)", "b^(2)"):
        assert f"{name}  (" in result.output
    assert result.output.rstrip().endswith("PASS")
    rows = [line.split() for line in result.output.splitlines() if line.startswith("    W^(")]
    assert len(rows) == 6
    for _, analytic, numerical, _ in rows:
        assert float(analytic) == pytest.approx(float(numerical), rel=1e-6, abs=1e-10)


def test_check_json_matches_the_api():
    result = run(check, "--json", "--sizes", "3,4,5,2", "--seed", "3", "-m", "6", "--lam", "0.01")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    net = indexnet.Network([3, 4, 5, 2], seed=3)
    X, Y = random_examples(net, 6, 3)
    expected = indexnet.check_gradient(net, X, Y, lam=0.01)
    assert report["relative_error"] == pytest.approx(expected.relative_error, rel=1e-6)
    assert report["relative_error"] < 1e-7 and report["passed"] is True
    assert [layer["layer"] for layer in report["layers"]] == [1, 2, 3]
    assert report["n_params"] == net.theta.size
    for layer, W in zip(report["layers"], net.W, strict=True):
        assert layer["W"]["shape"] == list(W.shape)
        assert layer["b"]["relative_error"] < 1e-7
        for entry in layer["W"]["entries"]:
            i, j = entry["index"]
            assert 1 <= i <= W.shape[0] and 1 <= j <= W.shape[1]
            assert entry["analytic"] == pytest.approx(entry["numerical"], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize(
    "options",
    [
        ["--hidden", "tanh", "--output", "softmax", "--cost", "cross_entropy"],
        ["--hidden", "relu", "--output", "identity", "--backend", "vectorized"],
        ["--dtype", "float32", "--backend", "vectorized"],
        ["--backend", "python", "--sizes", "2,3,1", "-m", "3"],
    ],
)
def test_check_passes_across_settings(options):
    result = run(check, "--json", *options)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passed"] is True


def test_check_fails_above_the_threshold():
    result = run(check, "--json", "--threshold", "1e-20")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["passed"] is False and report["relative_error"] > 1e-20
    assert "above the threshold" in result.stderr


def test_check_reports_a_wrong_gradient(monkeypatch):
    """With backpropagation's result corrupted, the check must notice and fail."""
    real = loops.cost_and_gradient

    def off_by_a_bit(*arguments):
        J = real(*arguments)
        arguments[-1][0] += 1e-3  # the gradient, written by the kernel, is the last argument
        return J

    monkeypatch.setattr(loops, "cost_and_gradient", off_by_a_bit)
    result = run(check, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["relative_error"] > 1e-4
    worst = max(report["layers"], key=lambda layer: layer["W"]["relative_error"])
    assert worst["layer"] == 1


@pytest.mark.parametrize(
    "arguments,message",
    [
        (["--sizes", "3,x"], "comma-separated integers"),
        (["--output", "softmax"], "needs cost='cross_entropy'"),
        (["--lam", "-1"], "lam must be"),
        (["--sizes", "3"], "sizes"),
    ],
)
def test_check_bad_settings_are_user_errors(arguments, message):
    result = run(check, *arguments)
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output


def test_random_examples_fit_the_output():
    for output, cost in (("sigmoid", "squared"), ("softmax", "cross_entropy"), ("tanh", "squared")):
        net = indexnet.Network([3, 4], hidden="sigmoid", output=output, cost=cost)
        X, Y = random_examples(net, 5, seed=1)
        assert X.shape == (5, 3) and Y.shape == (5, 4)
        net.cost_and_gradient(X, Y)  # accepted by the network's checks
        if output == "softmax":
            assert np.array_equal(Y.sum(axis=1), np.ones(5))


def test_docs_without_the_extra_says_what_to_install(monkeypatch, tmp_path):
    def missing():
        raise ImportError("the pages need latex2mathml and pygments; pip install 'indexnet[docs]'")

    monkeypatch.setattr(showcase, "_imports", missing)
    result = run(docs, str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "pip install 'indexnet[docs]'" in result.output
    assert not (tmp_path / "out").exists()


def test_check_the_sparse_autoencoder():
    from indexnet.cli import cli

    args = ["check", "--sizes", "8,5,8", "--beta", "3", "--rho", "0.1", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["beta"] == 3 and report["rho"] == 0.1
    assert report["relative_error"] < 1e-8
    plain = json.loads(CliRunner().invoke(cli, ["check", "--sizes", "8,5,8", "--json"]).stdout)
    # the penalty changes the gradient being checked
    first = report["layers"][0]["W"]["entries"][0]
    assert first != plain["layers"][0]["W"]["entries"][0]
    refused = CliRunner().invoke(cli, ["check", "--beta", "1", "--hidden", "tanh"])
    assert refused.exit_code == 1 and "needs hidden='sigmoid'" in refused.output
