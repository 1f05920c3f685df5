"""`indexnet bench --suite conv`: a convolutional step timed per backend, checked before timing."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from indexnet.api import bench, bench_conv
from indexnet.cli import cli

TINY = (("tiny", (1, 6, 6), (2, 3, 2), 4), ("two channels", (2, 7, 6), (3, 2, 3), 3))


def test_rows_cover_every_case_backend_and_call():
    rows = bench_conv.run(np.float64, repeat=2, min_time=0.0, suite=TINY)
    expected = {(name, b, c) for name, *_ in TINY for b in ("loops", "vectorized")
                for c in ("public", "kernels")}  # fmt: skip
    if bench.torch_available():
        expected |= {(name, "torch", "public") for name, *_ in TINY}
    assert {(r.case, r.backend, r.call) for r in rows} == expected
    for row in rows:
        assert row.median_s > 0 and row.first_call_s > 0
        if row.backend != "torch":
            twin = next(
                r for r in rows if (r.case, r.backend, r.call) == (row.case, "vectorized", row.call)
            )
            assert row.ratio_to_vectorized == pytest.approx(twin.median_s / row.median_s)


def test_a_disagreeing_backend_is_an_error_not_a_row(monkeypatch):
    calls = bench_conv.calls

    def wrong(net, X, y, backend):
        found = calls(net, X, y, backend)
        if backend == "loops":
            found["kernels"] = lambda: (1.0, np.zeros_like(net.theta))
        return found

    monkeypatch.setattr(bench_conv, "calls", wrong)
    with pytest.raises(bench.BenchDisagreement, match="loops \\(kernels\\) disagrees"):
        bench_conv.run(np.float64, repeat=1, min_time=0.0, suite=TINY[:1])


def test_torch_step_is_the_same_step():
    pytest.importorskip("torch")
    for dtype, tolerance in ((np.float64, 1e-12), (np.float32, 1e-4)):
        net, X, y = bench_conv._problem((1, 6, 6), (2, 3, 2), 4, dtype)
        J, grad = net.cost_and_gradient(X, y, lam=bench_conv.LAM)
        J_torch, grad_torch = bench_conv.torch_step(net, X, y)()
        assert abs(J - J_torch) <= tolerance * abs(J)
        assert np.linalg.norm(grad - grad_torch) <= tolerance * np.linalg.norm(grad)


def test_cli_suite_conv(monkeypatch):
    monkeypatch.setattr(bench_conv, "SUITE", TINY)
    runner = CliRunner()
    result = runner.invoke(cli, ["bench", "--suite", "conv", "--repeat", "1", "--min-time", "0"])
    assert result.exit_code == 0, result.output
    assert "one step of a convolutional network" in result.stdout
    assert "tiny: 6x6, 2 filters 3x3, pool 2, m=4" in result.stdout
    result = runner.invoke(
        cli, ["bench", "--suite", "conv", "--repeat", "1", "--min-time", "0", "--json"]
    )
    data = json.loads(result.stdout)
    assert data["machine"]["cpu"] and len(data["results"]) >= 8
    result = runner.invoke(cli, ["bench", "--suite", "conv", "--sizes", "3,2"])
    assert result.exit_code == 2 and "--suite conv takes" in result.output
