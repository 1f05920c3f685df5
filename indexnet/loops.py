"""The loop kernels, one per equation of UFLDL's backpropagation and of its convolution and
pooling chapter, and their composites.

The stable public module: import these into your own ``@njit`` code. The sources are
:mod:`indexnet.kernels.loops` (the fully connected network) and :mod:`indexnet.kernels.conv`
(convolution and pooling).
"""

from indexnet.kernels import conv as _conv
from indexnet.kernels import loops as _source
from indexnet.kernels.conv import *  # noqa: F403
from indexnet.kernels.loops import *  # noqa: F403

__all__ = _source.__all__ + _conv.__all__
