"""The NumPy twins of :mod:`indexnet.loops`: the same equations in matrix form, same names
and signatures.

The stable public module; the sources are :mod:`indexnet.twins.vectorized` and
:mod:`indexnet.twins.vectorized_conv`.
"""

from indexnet.twins import vectorized as _source
from indexnet.twins import vectorized_conv as _conv
from indexnet.twins.vectorized import *  # noqa: F403
from indexnet.twins.vectorized_conv import *  # noqa: F403

__all__ = _source.__all__ + _conv.__all__
