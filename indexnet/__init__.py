"""indexnet: UFLDL's backpropagation written in index notation, compiled by Numba, beside its
NumPy twin.

The public names are loaded on first use, so that ``indexnet --help`` and other commands that
compute nothing start without importing Numba.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("indexnet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_PUBLIC = {
    "BACKENDS": "indexnet.network",
    "Network": "indexnet.network",
    "Trace": "indexnet.network",
    "GradientCheck": "indexnet.gradcheck",
    "check_gradient": "indexnet.gradcheck",
    "numerical_gradient": "indexnet.gradcheck",
    "relative_error": "indexnet.gradcheck",
    "DivergenceWarning": "indexnet.train",
    "TrainResult": "indexnet.train",
    "gradient_descent": "indexnet.train",
    "lbfgs": "indexnet.train",
    "sgd": "indexnet.train",
    "train": "indexnet.train",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'indexnet' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PUBLIC])
