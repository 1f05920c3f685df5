"""The activation and loss codes (``SIGMOID``, ..., ``SQUARED``, ``CROSS_ENTROPY``) the kernels
take, and :math:`f`, :math:`f'`.

The stable public module; the source is :mod:`indexnet.kernels.activations`.
"""

from indexnet.kernels import activations as _source
from indexnet.kernels.activations import *  # noqa: F403

__all__ = _source.__all__
