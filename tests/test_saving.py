"""Network.save and indexnet.load: every network round-trips, every bad file is named."""

import zipfile

import numpy as np
import pytest

import indexnet
from indexnet.api import saving
from indexnet.data import tasks
from indexnet.kernels.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS

NETWORKS = [
    {"hidden": hidden, "output": output, "cost": cost, "dtype": dtype}
    for hidden in ACTIVATIONS
    for output in OUTPUT_ACTIVATIONS
    for cost in ("squared", "cross_entropy")
    for dtype in ("float64", "float32")
    if not (cost == "cross_entropy" and output not in ("sigmoid", "softmax"))
    and not (output == "softmax" and cost != "cross_entropy")
]


@pytest.mark.parametrize("settings", NETWORKS, ids=lambda s: "-".join(s.values()))
def test_every_network_round_trips(tmp_path, settings):
    net = indexnet.Network([3, 5, 4, 2], seed=3, **settings)
    path = net.save(tmp_path / "sub" / "net.npz")
    loaded = indexnet.load(path)
    assert repr(loaded) == repr(net)
    assert loaded.theta.dtype == net.theta.dtype and np.array_equal(loaded.theta, net.theta)
    X = np.linspace(-1, 1, 9).reshape(3, 3)
    assert np.array_equal(loaded.predict(X), net.predict(X))
    assert loaded.W[1].base is loaded.theta or np.shares_memory(loaded.W[1], loaded.theta)


def _saved(tmp_path, **changes):
    """A saved network's entries with ``changes`` (None removes one), written to a file."""
    path = indexnet.Network([3, 4, 2]).save(tmp_path / "net.npz")
    with np.load(path) as saved:
        entries = {name: saved[name] for name in saved.files}
    for name, value in changes.items():
        if value is None:
            entries.pop(name)
        else:
            entries[name] = value
    np.savez(path, **entries)
    return path


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"version": np.array(saving.VERSION + 1)}, "newer indexnet"),
        ({"format": np.array("something else")}, "not a saved indexnet network"),
        ({"theta": None}, "lacks theta"),
        ({"theta": np.zeros(3)}, "theta must have shape"),
        ({"theta": np.zeros(22, dtype=np.float32)}, "theta is float32"),
        ({"hidden": np.array("cubic")}, "hidden must be one of"),
        ({"sizes": np.array([3, 0, 2])}, "sizes"),
    ],
)
def test_an_inconsistent_or_newer_file_is_refused_by_name(tmp_path, changes, message):
    path = _saved(tmp_path, **changes)
    with pytest.raises(ValueError, match=message) as raised:
        indexnet.load(path)
    assert str(path) in str(raised.value)


def test_a_truncated_foreign_or_missing_file_is_refused_by_name(tmp_path):
    path = indexnet.Network([3, 4, 2]).save(tmp_path / "net.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    text = tmp_path / "notes.npz"
    text.write_text("not a zip")
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    for bad, message in [(truncated, "truncated"), (text, "cannot be read"), (other, "lacks")]:
        with pytest.raises(ValueError, match=message) as raised:
            indexnet.load(bad)
        assert str(bad) in str(raised.value)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.npz"):
        indexnet.load(tmp_path / "nowhere.npz")
    assert zipfile.is_zipfile(path)


def test_a_file_from_before_the_format_had_a_version_still_loads(tmp_path):
    net = indexnet.Network([3, 4, 2], seed=5)
    path = tmp_path / "old.npz"
    settings = {"hidden": "sigmoid", "output": "sigmoid", "cost": "squared", "dtype": "float64"}
    np.savez(path, theta=net.theta, sizes=np.array(net.sizes), **settings)
    assert np.array_equal(indexnet.load(path).theta, net.theta)
    assert np.array_equal(tasks.load_network(tasks.save_network(net, path)).theta, net.theta)
