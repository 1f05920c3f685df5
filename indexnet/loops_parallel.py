"""The ``loops-parallel`` backend: the kernels of :mod:`indexnet.loops`, same names and
signatures, each splitting its rows across threads.

The stable public module; the source is :mod:`indexnet.fast.loops_parallel`.
"""

from indexnet.fast import loops_parallel as _source
from indexnet.fast.loops_parallel import *  # noqa: F403

__all__ = _source.__all__
