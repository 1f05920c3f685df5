"""examples/sparse_autoencoder.py, at a size the tests can afford."""

import re
import runpy
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).parent.parent / "examples" / "sparse_autoencoder.py"


def test_sparse_autoencoder_learns_and_gets_sparse(tmp_path, capsys, monkeypatch):
    out = tmp_path / "features.png"
    argv = [str(EXAMPLE), "--patches", "600", "--iterations", "40", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    text = capsys.readouterr().out
    error = float(re.search(r"relative error ([0-9.e+-]+)", text).group(1))
    assert error < 1e-8
    before = re.search(r"before: J_sparse = ([0-9.]+), mean rho_hat = ([0-9.]+)", text)
    after = re.search(r"J_sparse = ([0-9.]+), mean rho_hat = ([0-9.]+)\n", text.split("after")[1])
    J0, rho0 = map(float, before.groups())
    J1, rho1 = map(float, after.groups())
    assert J1 < J0 / 10
    assert abs(rho1 - 0.01) < abs(rho0 - 0.01) / 5  # the hidden units became sparse
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
