"""The ``.npz`` file of a saved network: written, and read back with every failure named.

The file is NumPy's ``.npz`` (a zip of ``.npy`` arrays, read with ``allow_pickle=False``, so
loading runs no code from the file). It holds :data:`FORMAT` and :data:`VERSION`, the settings
(``sizes``, ``hidden``, ``output``, ``cost``, ``dtype``) and ``theta``. Files written before the
format had a version (by ``indexnet.data.tasks.save_network``) read as version 0.

Only the file is here; :meth:`indexnet.Network.save` and :func:`indexnet.load` turn a network
into its entries and back (:mod:`indexnet.api.network`), so this module needs no network.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "indexnet.Network"
"""What the ``format`` entry of a saved network says."""
VERSION = 1
"""The file format version this indexnet writes; it reads this one and older ones."""
SETTINGS = ("sizes", "hidden", "output", "cost", "dtype", "theta")
"""The entries that describe a network."""


def write(path: str | os.PathLike, entries: dict, form: str = FORMAT) -> Path:
    """Write a network's :data:`SETTINGS` ``entries`` (arrays or scalars) to ``path``, an
    ``.npz`` file, with :data:`FORMAT` and :data:`VERSION`; missing parent folders are made.

    ``path`` is written as given (NumPy would add ``.npz`` to a name without it; this does
    not). Returns it as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        np.savez(file, format=np.array(form), version=np.array(VERSION), **entries)
    return path


def read(path: str | os.PathLike, form: str = FORMAT, settings: tuple = SETTINGS) -> dict:
    """The :data:`SETTINGS` entries of the network saved at ``path``, checked as a file.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a saved network (truncated, another kind of file, entries missing),
        or was written by a newer indexnet; the message names the file.
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
    if str(entries.get("format", FORMAT)) != form:
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
    missing = [name for name in settings if name not in entries]
    if missing:
        raise ValueError(
            f"{path} is not a saved indexnet network: it lacks {', '.join(missing)} "
            f"(it holds {', '.join(sorted(entries)) or 'nothing'})"
        )
    return {name: entries[name] for name in settings}
