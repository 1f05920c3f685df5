"""Saving a network to an ``.npz`` file and loading it back, with every failure named.

The file is NumPy's ``.npz`` (a zip of ``.npy`` arrays, read with ``allow_pickle=False``, so
loading runs no code from the file). It holds :data:`FORMAT` and :data:`VERSION`, the settings
(``sizes``, ``hidden``, ``output``, ``cost``, ``dtype``) and ``theta``. Files written before the
format had a version (by ``indexnet.tasks.save_network``) read as version 0.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from indexnet.network import Network

FORMAT = "indexnet.Network"
"""What the ``format`` entry of a saved network says."""
VERSION = 1
"""The file format version this indexnet writes; it reads this one and older ones."""
_SETTINGS = ("sizes", "hidden", "output", "cost", "dtype", "theta")


def save(net: Network, path: str | os.PathLike) -> Path:
    """Write ``net`` to ``path`` (an ``.npz`` file), creating missing parent folders.

    Parameters
    ----------
    net : Network
    path : str or path-like
        Written as given (NumPy would add ``.npz`` to a name without it; this does not).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be an indexnet.Network; got {type(net).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    theta = net._lock.read(net.theta.copy)
    with path.open("wb") as file:
        np.savez(
            file,
            format=np.array(FORMAT),
            version=np.array(VERSION),
            theta=theta,
            sizes=np.array(net.sizes, dtype=np.int64),
            hidden=np.array(net.hidden),
            output=np.array(net.output),
            cost=np.array(net.cost),
            dtype=np.array(np.dtype(net.dtype).name),
        )
    return path


def load(path: str | os.PathLike) -> Network:
    """The network saved by :func:`save` (or :meth:`Network.save`) at ``path``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a saved network (truncated, another kind of file, entries missing or
        inconsistent), or was written by a newer indexnet; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no saved network there (no such file)")
    try:
        with np.load(path, allow_pickle=False) as saved:
            entries = {name: saved[name] for name in saved.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a saved indexnet network: it cannot be read as an .npz file "
            f"({type(error).__name__}: {error}); it may be truncated"
        ) from error
    return _network(path, entries)


def _network(path: Path, entries: dict) -> Network:
    """The network that the arrays ``entries`` of the file ``path`` describe, or raise."""
    if "format" in entries and str(entries["format"]) != FORMAT:
        raise ValueError(
            f"{path} is not a saved indexnet network: its format is {entries['format']}"
        )
    try:
        version = int(entries.get("version", 0))
    except (TypeError, ValueError):
        raise ValueError(
            f"{path}: its format version {entries['version']!r} is not a number"
        ) from None
    if version > VERSION:
        raise ValueError(
            f"{path} was saved by a newer indexnet (file format version {version}); this one "
            f"reads versions up to {VERSION}: upgrade indexnet to load it"
        )
    missing = [name for name in _SETTINGS if name not in entries]
    if missing:
        raise ValueError(
            f"{path} is not a saved indexnet network: it lacks {', '.join(missing)} "
            f"(it holds {', '.join(sorted(entries)) or 'nothing'})"
        )
    try:
        net = Network(
            [int(s) for s in np.atleast_1d(entries["sizes"])],
            hidden=str(entries["hidden"]),
            output=str(entries["output"]),
            cost=str(entries["cost"]),
            dtype=str(entries["dtype"]),
            seed=None,
        )
        theta = entries["theta"]
        if theta.dtype != net.dtype:
            raise ValueError(f"theta is {theta.dtype} but dtype says {np.dtype(net.dtype).name}")
        net.theta = theta
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds an inconsistent network: {error}") from error
    return net
