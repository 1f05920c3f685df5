"""examples/digits.py, run with few iterations: it must learn."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import indexnet
from indexnet.data import datasets

pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("digits_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_few_iterations_lower_the_cost_and_raise_the_accuracy(example, capsys):
    figures = example.main(iterations=25, hidden=16, verbose=True)
    costs = figures["costs"]
    assert 0 < len(costs) <= 25
    assert costs[-1] < 0.5 * costs[0]
    assert figures["test_accuracy_before"] < 0.3  # an untrained net is near chance (0.1)
    assert figures["test_accuracy"] > 0.85
    printed = capsys.readouterr().out
    assert "confusion on the test set" in printed
    assert f"{figures['test_accuracy']:.4f} trained" in printed


def test_confusion_counts_every_test_image_once(example):
    _, X_test, _, y_test = datasets.digits()
    net = indexnet.Network([64, 5, 10], output="softmax", cost="cross_entropy")
    counts = example.confusion(net, X_test, y_test)
    assert np.array_equal(counts.sum(axis=1), np.bincount(y_test, minlength=10))
    predicted = net.predict(X_test).argmax(axis=1)
    assert np.array_equal(counts.sum(axis=0), np.bincount(predicted, minlength=10))
    assert np.trace(counts) == np.sum(predicted == y_test)


def test_runs_as_a_script():
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", "--compare"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    trained = re.search(r"test accuracy: [\d.]+ untrained, ([\d.]+) trained", done.stdout)
    assert trained and float(trained.group(1)) > 0.85
    mlp = re.search(r"MLPClassifier adam \(16,\): test accuracy ([\d.]+)", done.stdout)
    assert mlp and float(mlp.group(1)) > 0.85
