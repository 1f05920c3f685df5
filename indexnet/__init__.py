"""indexnet: UFLDL's backpropagation written in index notation, compiled by Numba, beside its
NumPy twin."""

from importlib.metadata import PackageNotFoundError, version

# The stable public modules, importable as indexnet.loops etc. after ``import indexnet``.
from indexnet import activations, layout, loops, loops_parallel, vectorized
from indexnet.api.convnet import ConvNetwork, load_conv, sgd_momentum
from indexnet.api.gradcheck import GradientCheck, check_gradient, numerical_gradient, relative_error
from indexnet.api.network import BACKENDS, Network, Trace, load
from indexnet.api.train import (
    DivergenceWarning,
    TrainResult,
    gradient_descent,
    lbfgs,
    sgd,
    train,
)
from indexnet.reading.explain import Explanation, explain

try:
    __version__ = version("indexnet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "BACKENDS",
    "ConvNetwork",
    "DivergenceWarning",
    "Explanation",
    "GradientCheck",
    "Network",
    "Trace",
    "TrainResult",
    "activations",
    "check_gradient",
    "explain",
    "gradient_descent",
    "layout",
    "lbfgs",
    "load",
    "load_conv",
    "loops",
    "loops_parallel",
    "numerical_gradient",
    "relative_error",
    "sgd",
    "sgd_momentum",
    "train",
    "vectorized",
]
