"""The loop kernels, one per equation of UFLDL's backpropagation, and their composites.

The stable public module: import these into your own ``@njit`` code. The source is
:mod:`indexnet.kernels.loops`.
"""

from indexnet.kernels import loops as _source
from indexnet.kernels.loops import *  # noqa: F403

__all__ = _source.__all__
