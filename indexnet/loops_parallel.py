r"""The ``loops-parallel`` backend: the loop kernels with their big sums split across threads.

Three kernels do work that grows as :math:`m \, s_l \, s_{l+1}`: ``weighted_input``,
``hidden_delta`` and ``weight_gradient``. All three hand their sum to ``_products`` (and copy a
transpose with ``_transpose``); here those two helpers have parallel versions, and the three
kernels, and every composite above them, are the serial kernels' own source compiled against
them (see :mod:`indexnet._rebind`). Every other kernel is the serial one.

Each ``prange`` runs over blocks of rows of the output, and a block writes only its own rows,
so no two threads ever write the same element. Below :data:`PARALLEL_MIN_WORK` multiply-adds
``_products`` runs serially: starting the threads costs about 5-10 microseconds.
"""

from numba import prange

from indexnet import loops
from indexnet._jit import jit, jit_parallel
from indexnet._rebind import rebind
from indexnet.loops import PANEL, _products_rows

PARALLEL_MIN_WORK = 100_000
"""Multiply-adds below which ``_products`` runs serially."""


@jit_parallel
def _products(P, Q, out):
    r""":func:`indexnet.loops._products` with each panel's rows of ``P`` split across threads.

    .. math::
        \mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}
    """
    rows, columns = out.shape
    if rows * columns * P.shape[1] < PARALLEL_MIN_WORK:
        loops._products(P, Q, out)
        return
    for q0 in range(0, columns, PANEL):
        q1 = min(q0 + PANEL, columns)
        for block in prange((rows + 3) // 4):  # block writes rows 4*block..4*block+3 only
            _products_rows(P, Q, out, 4 * block, q0, q1)


@jit_parallel
def _transpose(X, XT):
    """``XT[i, j] = X[j, i]`` in 16x16 tiles, bands of 16 rows of ``XT`` split across threads."""
    rows, columns = XT.shape
    for band in prange((rows + 15) // 16):  # band writes rows 16*band..16*band+15 of XT only
        i0 = 16 * band
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    XT[i, j] = X[j, i]


# Numba names a cache entry after the source file and the function's name: the rebound
# functions' source file is loops.py, so a tag keeps their entries apart from the serial ones.
# (The cache folder itself is named after a hash of every kernel source, this file's included:
# see indexnet._jit.)
_TAG = "loops-parallel"
_namespace = {**vars(loops), "__name__": __name__, "_products": _products, "_transpose": _transpose}
for _name in ("weighted_input", "hidden_delta", "weight_gradient", *loops.COMPOSITES):
    _namespace[_name] = jit(rebind(getattr(loops, _name), _namespace, tag=_TAG))

__all__ = loops.__all__
globals().update({_name: _namespace[_name] for _name in __all__})
