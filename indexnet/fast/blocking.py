r"""Register and cache blocking: the one sum behind the three big kernels, made fast.

:mod:`indexnet.loops` writes each equation's sum as the math does; past :data:`SMALL`
multiply-adds its kernels hand the same sum to :func:`products` here, which computes
:math:`\mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}` for every row ``p`` of ``P`` and ``q`` of
``Q``, blocked for registers and for cache. :func:`transpose` turns a sum over rows into one
along rows. The tuning constants live here too, and how each was chosen is in
``bench/NOTES.md``.
"""

import numpy as np
from numba.core import config
from numba.extending import overload

from indexnet.fast.compiler import VECTOR_BITS, VECTOR_REGISTERS, jit, jit_inline
from indexnet.fast.micro import MR_32, MR_64, NV_32, NV_64, rows_tile_shape, tile, tile_rows
from indexnet.kernels.activations import ZERO

SMALL = 4096
"""Multiply-adds up to which a sum kernel runs its plain loops: copies and blocking pay off
only on larger problems."""

ROWS = 4 if VECTOR_REGISTERS >= 32 else 2
"""Rows of ``P`` in a register block (by 4 rows of ``Q``), from the compile target's vector
registers: the 16 running sums of :func:`sums_4x4` and the 8 vectors they are fed from take 24
registers, which AVX-512's 32 hold and AVX2's 16 do not (the sums spill to the stack); with 16
registers :func:`sums_2x4` keeps 8 sums and 6 operands. The choice is a compile-time constant,
and part of the kernel cache's name (:mod:`indexnet.fast.compiler`)."""

PACKED = VECTOR_BITS > 0 and not config.DISABLE_JIT
"""Whether large products take the packed path (:func:`products_packed`): on targets that
:mod:`indexnet.fast.micro` is written for, and compiled (its micro-kernel has no Python twin)."""
PACKED_MIN_ROWS, PACKED_MIN = 16, 64
"""Rows and columns of ``out`` from which the packed path pays for its copies: with fewer, its
tiles (:func:`~indexnet.fast.micro.tile_shape`: 4-12 rows, 12-32 columns) are mostly padding
(bench/NOTES.md)."""
KC_64, KC_32, MC, NC = 384, 256, 240, 2048
"""The packed path's cache blocks, as in Goto and van de Geijn's GEMM: ``KC`` steps of the sum
(by dtype), ``MC`` rows of ``P`` (a block of ``A`` that stays in L2) and ``NC`` rows of ``Q``
(a panel of ``B``)."""

PANEL = 64
"""Rows of ``Q`` that :func:`products` keeps in cache while every row of ``P`` passes."""
CHUNK = 512
"""Examples per stretch of the weight gradient's sum over k."""
FEW_UNITS = 4
"""Units up to which ``bias_gradient`` keeps each unit's sum in a register, as the math writes
it. Summed straight into ``db`` instead (which might share memory with ``delta``, so it cannot
stay in a register), each add waits for the store before it. From 8 units on, walking
``delta``'s rows contiguously is as fast or faster (bench/NOTES.md)."""


@jit_inline
def sums_4x4(P, p, Q, q):
    r"""The 16 sums :math:`\sum_x P_{p+r,\,x} Q_{q+c,\,x}` for :math:`r, c = 0..3`, at once.

    Sixteen running sums share each load of ``P`` and ``Q``, and each runs along a row
    (contiguous), so the compiler keeps them in vector registers: the register blocking that
    lets an explicit sum approach BLAS speed. Rows past the last are clamped to the last.

    Returns
    -------
    tuple of 16 floats
        ``t[4 * r + c]`` is the sum for row ``p + r`` of ``P`` and row ``q + c`` of ``Q``.
    """
    last_p, last_q = P.shape[0] - 1, Q.shape[0] - 1
    p0, p1, p2, p3 = p, min(p + 1, last_p), min(p + 2, last_p), min(p + 3, last_p)
    q0, q1, q2, q3 = q, min(q + 1, last_q), min(q + 2, last_q), min(q + 3, last_q)
    t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = ZERO
    t20 = t21 = t22 = t23 = t30 = t31 = t32 = t33 = ZERO
    for x in range(P.shape[1]):
        P0, P1, P2, P3 = P[p0, x], P[p1, x], P[p2, x], P[p3, x]
        Q0, Q1, Q2, Q3 = Q[q0, x], Q[q1, x], Q[q2, x], Q[q3, x]
        t00 += P0 * Q0
        t01 += P0 * Q1
        t02 += P0 * Q2
        t03 += P0 * Q3
        t10 += P1 * Q0
        t11 += P1 * Q1
        t12 += P1 * Q2
        t13 += P1 * Q3
        t20 += P2 * Q0
        t21 += P2 * Q1
        t22 += P2 * Q2
        t23 += P2 * Q3
        t30 += P3 * Q0
        t31 += P3 * Q1
        t32 += P3 * Q2
        t33 += P3 * Q3
    return (t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33)


@jit_inline
def sums_2x4(P, p, Q, q):
    r"""The 8 sums :math:`\sum_x P_{p+r,\,x} Q_{q+c,\,x}` for :math:`r = 0, 1`, :math:`c = 0..3`.

    :func:`sums_4x4` for targets with 16 vector registers: 8 running sums and the 6 vectors
    of ``P`` and ``Q`` they are fed from fit without spilling. Rows past the last are clamped.

    Returns
    -------
    tuple of 8 floats
        ``t[4 * r + c]`` is the sum for row ``p + r`` of ``P`` and row ``q + c`` of ``Q``.
    """
    last_p, last_q = P.shape[0] - 1, Q.shape[0] - 1
    p0, p1 = p, min(p + 1, last_p)
    q0, q1, q2, q3 = q, min(q + 1, last_q), min(q + 2, last_q), min(q + 3, last_q)
    t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = ZERO
    for x in range(P.shape[1]):
        P0, P1 = P[p0, x], P[p1, x]
        Q0, Q1, Q2, Q3 = Q[q0, x], Q[q1, x], Q[q2, x], Q[q3, x]
        t00 += P0 * Q0
        t01 += P0 * Q1
        t02 += P0 * Q2
        t03 += P0 * Q3
        t10 += P1 * Q0
        t11 += P1 * Q1
        t12 += P1 * Q2
        t13 += P1 * Q3
    return (t00, t01, t02, t03, t10, t11, t12, t13)


@jit_inline
def products_rows(P, Q, out, p, q0, q1):
    """Rows ``p..p+ROWS-1`` of ``out`` (fewer at the end), columns ``q0..q1-1``, in blocks."""
    rows, columns = out.shape
    for q in range(q0, q1, 4):
        # ROWS is a compile-time constant: only one branch is compiled in.
        t = sums_4x4(P, p, Q, q) if ROWS == 4 else sums_2x4(P, p, Q, q)
        for r in range(ROWS):
            for c in range(4):
                # Past the last row or column the clamped duplicates rewrite the same value.
                out[min(p + r, rows - 1), min(q + c, columns - 1)] = t[4 * r + c]


@jit_inline
def packs(rows, columns, x):
    """Whether a product of ``rows`` x ``columns`` sums over ``x`` steps takes the packed path."""
    return PACKED and rows >= PACKED_MIN_ROWS and columns >= PACKED_MIN and x > 0


@jit
def products(P, Q, out):
    r""":math:`\mathrm{out}_{pq} = \sum_x P_{px} Q_{qx}`, each row of ``P`` with each of ``Q``.

    This is the one sum behind the three big kernels (forward, hidden delta, weight gradient).
    Large problems take :func:`products_packed`; the others, and targets without a packed
    path, :func:`products_blocked`.
    """
    rows, columns = out.shape
    if packs(rows, columns, P.shape[1]):
        products_packed(P, Q, out)
    elif narrows(rows, columns, P):
        products_narrow(P, Q, out)
    else:
        products_blocked(P, Q, out)


NARROW_MIN = 16
"""Columns from which a product too narrow for the packed tiles (fewer than :data:`PACKED_MIN`)
takes :func:`products_narrow`: below it most of each tile's columns would be padding."""

MR_ROWS_64, NV_ROWS_64 = rows_tile_shape(8)
MR_ROWS_32, NV_ROWS_32 = rows_tile_shape(4)


@jit_inline
def narrows(rows, columns, P):
    """Whether a product of ``rows`` x ``columns`` takes :func:`products_narrow`: fewer
    columns than the packed tiles need, a tile of rows at least, and rows of ``P`` that lie
    contiguously."""
    enough = NARROW_MIN <= columns < PACKED_MIN and rows >= PACKED_MIN_ROWS
    return PACKED and enough and P.shape[1] > 0 and P.strides[1] == P.itemsize


@jit
def products_narrow(P, Q, out):
    r""":func:`products` of few columns (25 at [64, 25, 64]): ``Q`` packed once, zero-padded to
    whole tiles, and every row of ``P`` read where it lies (:func:`~indexnet.fast.micro.tile_rows`).

    The packed product would copy all of ``P`` into slivers for tiles whose columns are mostly
    padding; here only ``Q``, a few thousand numbers, is copied, and it stays in cache while
    ``P`` passes once.
    """
    rows, columns = out.shape
    depth = P.shape[1]
    if out.itemsize == 8:
        MR, NR = MR_ROWS_64, NV_ROWS_64 * (VECTOR_BITS // 64)
    else:
        MR, NR = MR_ROWS_32, NV_ROWS_32 * (VECTOR_BITS // 32)
    # Slivers of NR rows of Q, step by step, zero past the last row (as the packed product's)
    tiles = -(-columns // NR)
    B = np.empty(tiles * depth * NR, dtype=out.dtype)
    Q_rows, Q_transposed = rows_of(Q)
    pack(Q_rows, Q_transposed, 0, columns, 0, depth, NR, B)
    T = np.empty(MR * NR, dtype=out.dtype)
    lda = P.strides[0] // P.itemsize
    direct = out.strides[1] == out.itemsize and out.strides[0] % out.itemsize == 0
    ldc = out.strides[0] // out.itemsize
    whole = rows - rows % MR
    for t in range(tiles):
        q0 = t * NR
        w = min(NR, columns - q0)
        for p in range(0, whole, MR):
            if direct and w == NR:
                tile_rows(depth, P, p * lda, lda, B, t * depth * NR, out, p * ldc + q0, ldc, False)
            else:
                tile_rows(depth, P, p * lda, lda, B, t * depth * NR, T, 0, NR, False)
                for i in range(MR):
                    for j in range(w):
                        out[p + i, q0 + j] = T[i * NR + j]
    if whole < rows:  # the last rows, fewer than a tile
        products_blocked(P[whole:], Q, out[whole:])


@jit
def products_blocked(P, Q, out):
    r""":func:`products` blocked in registers and in cache, over rows of ``P`` and ``Q``.

    :data:`ROWS` x 4 sums at a time in registers (:func:`sums_4x4`, :func:`sums_2x4`), and
    :data:`PANEL` rows of ``Q`` at a time, which stay in cache while every row of ``P`` passes.
    """
    rows, columns = out.shape
    for q0 in range(0, columns, PANEL):
        for p in range(0, rows, ROWS):
            products_rows(P, Q, out, p, q0, min(q0 + PANEL, columns))


@jit_inline
def products_packed(P, Q, out):
    r""":func:`products` as a BLAS computes it: packed slivers and a vector micro-kernel.

    The sum over ``x`` runs ``KC`` steps at a time. For each stretch, ``NC`` rows of ``Q`` are
    copied into ``B`` and ``MC`` rows of ``P`` into ``A``, in slivers of ``NR`` and ``MR`` rows
    (:func:`blocks`) laid out step by step (zero past the last row), so that
    :func:`~indexnet.fast.micro.tile` reads both contiguously. ``P`` and ``Q`` may have any strides:
    a transpose is packed where it lies. Tiles that cover whole rows of a row-contiguous ``out``
    are summed into it directly, the others through a small buffer.

    A transpose of a C-ordered array is passed on as the array it transposes (:func:`rows_of`),
    so that :func:`_products_packed` compiles once for both: each kernel that calls it links
    one copy of its code, not one for each layout (a copy is some 3,000 lines of LLVM IR,
    optimised again in every kernel).
    """
    products_packed_rows(P, Q, out, np.int64(0), out.shape[0])


@jit_inline
def products_packed_rows(P, Q, out, first, last):
    """:func:`products_packed` for rows ``first..last-1`` of ``P`` and ``out`` only (a thread's
    share in :mod:`indexnet.fast.loops_parallel`): rows taken by index, not by a slice, whose
    layout would be one more for :func:`_products_packed` to compile."""
    P_rows, P_transposed = rows_of(P)
    Q_rows, Q_transposed = rows_of(Q)
    _products_packed(P_rows, P_transposed, Q_rows, Q_transposed, out, first, last)


def rows_of(X):
    """``(X.T, True)`` where ``X`` is the transpose of a C-ordered array, else ``(X, False)``:
    the rows that hold ``X``, and whether ``X`` is their transpose."""
    if X.flags.f_contiguous and not X.flags.c_contiguous:
        return X.T, True
    return X, False


@overload(rows_of)
def _compiled_rows_of(X):
    # Decided by the array's type, so that C-ordered arrays and their transposes both give
    # C-ordered rows; an array of any other layout is packed as it is. The flag is a plain
    # bool: a literal True or False would compile the packed product once for each.
    if X.layout == "F":
        return lambda X: (X.T, np.bool_(True))
    return lambda X: (X, np.bool_(False))


@jit
def _products_packed(P, P_transposed, Q, Q_transposed, out, first, last):
    """:func:`products_packed_rows` of ``P`` (or ``P.T`` if ``P_transposed``) and ``Q`` (or
    ``Q.T``)."""
    columns = out.shape[1]
    depth = P.shape[0] if P_transposed else P.shape[1]
    MR, NR, KC = blocks(out.itemsize)
    # Room for the slivers of MC rows of P and NC rows of Q, the last ones zero-padded.
    A = np.empty(-(-min(MC, last - first) // MR) * MR * min(KC, depth), dtype=out.dtype)
    B = np.empty(-(-min(NC, columns) // NR) * NR * min(KC, depth), dtype=out.dtype)
    T = np.empty(MR * NR, dtype=out.dtype)
    direct = out.strides[1] == out.itemsize and out.strides[0] % out.itemsize == 0
    ldc = out.strides[0] // out.itemsize
    for x0 in range(0, depth, KC):
        kc = min(KC, depth - x0)
        for q0 in range(0, columns, NC):
            nc = min(NC, columns - q0)
            pack(Q, Q_transposed, q0, nc, x0, kc, NR, B)
            for p0 in range(first, last, MC):
                mc = min(MC, last - p0)
                pack(P, P_transposed, p0, mc, x0, kc, MR, A)
                for q in range(0, nc, NR):
                    b0 = (q // NR) * kc * NR
                    for p in range(0, mc, MR):
                        a0 = (p // MR) * kc * MR
                        h, w = min(MR, mc - p), min(NR, nc - q)
                        c0 = (p0 + p) * ldc + q0 + q
                        if direct and h == MR and w == NR:
                            tile(kc, A, a0, B, b0, out, c0, ldc, x0 > 0)
                        else:
                            tile(kc, A, a0, B, b0, T, 0, NR, False)
                            for i in range(h):
                                for j in range(w):
                                    t = T[i * NR + j]
                                    if x0 > 0:
                                        t += out[p0 + p + i, q0 + q + j]
                                    out[p0 + p + i, q0 + q + j] = t


@jit_inline
def blocks(itemsize):
    """``MR``, ``NR`` and ``KC`` of the packed product, for numbers of ``itemsize`` bytes."""
    if itemsize == 8:
        return MR_64, NV_64 * (VECTOR_BITS // 64), KC_64
    return MR_32, NV_32 * (VECTOR_BITS // 32), KC_32


@jit_inline
def pack(X, transposed, r0, n, x0, kc, width, packed):
    """Rows ``r0..r0+n-1`` of ``X`` (of ``X.T`` if ``transposed``), steps ``x0..x0+kc-1``, into
    slivers of ``width`` rows:
    ``packed[(r // width) * kc * width + x * width + r % width] = X[r0 + r, x0 + x]``."""
    # Unsigned indices: a signed one is tested for wrapping around at every number, which took
    # a third of the copy's time.
    if transposed:
        # The rows of X.T are X's columns, side by side: read them a step x at a time, along.
        for x in range(kc):
            step = np.uint64(x0 + x)
            for r in range(0, n, width):
                at, first = np.uint64((r // width) * kc * width + x * width), np.uint64(r0 + r)
                for i in range(np.uint64(min(width, n - r))):
                    packed[at + i] = X[step, first + i]
        pad(n, kc, width, packed)
        return
    for r in range(0, n, width):
        base, first = (r // width) * kc * width, np.uint64(r0 + r)
        for x in range(kc):
            at, column = np.uint64(base + x * width), np.uint64(x0 + x)
            for i in range(np.uint64(min(width, n - r))):
                packed[at + i] = X[first + i, column]
    pad(n, kc, width, packed)


@jit_inline
def pad(n, kc, width, packed):
    """Zeros in the last sliver's rows past the ``n`` packed ones: they add nothing."""
    r = n - n % width
    if r < n:
        base = (r // width) * kc * width
        for x in range(kc):
            for i in range(n - r, width):
                packed[base + x * width + i] = ZERO


@jit
def transpose(X, XT):
    """``XT[i, j] = X[j, i]``, in 16x16 tiles so that reads and writes both stay in cache."""
    rows, columns = XT.shape
    for i0 in range(0, rows, 16):
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    XT[i, j] = X[j, i]
