"""The NumPy twins of :mod:`indexnet.loops`: the same equations in matrix form, same names
and signatures.

The stable public module; the source is :mod:`indexnet.twins.vectorized`.
"""

from indexnet.twins import vectorized as _source
from indexnet.twins.vectorized import *  # noqa: F403

__all__ = _source.__all__
