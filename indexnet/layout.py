"""The flat parameter vector :math:`\\theta` and the work buffers the composites take, and
their views by layer.

The stable public module; the source is :mod:`indexnet.kernels.layout`.
"""

from indexnet.kernels import layout as _source
from indexnet.kernels.layout import *  # noqa: F403

__all__ = _source.__all__
