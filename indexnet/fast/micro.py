r"""The micro-kernel of the packed product, written in LLVM's vector IR.

:func:`tile` adds up ``MR`` x ``NR`` sums
:math:`C_{ij} = \sum_x A_{xi} B_{xj}` over ``kc`` steps of ``x``, from slivers that
:func:`indexnet.fast.blocking.products_packed` has packed so that each step reads ``MR``
consecutive numbers of ``A`` and ``NR`` of ``B``. The sums live in ``MR`` x ``NV`` vector
registers of ``LANES`` numbers each (``NR = NV * LANES``), and each step is ``MR`` x ``NV``
fused multiply-adds of one number of ``A``, broadcast, with one vector of ``B``. Written as
Numba loops, the same sums are not kept in registers: LLVM's loop vectoriser vectorises the
sum along ``x`` instead, which needs a reduction at the end of every sum and leaves the
registers half used.

The tile is sized from the compile target (:mod:`indexnet.fast.compiler`) and the dtype
(:func:`tile_shape`): its sums, the ``NV`` vectors of ``B`` and the broadcast must fit the
vector registers, and of the shapes that fit, the measured fastest is taken (bench/NOTES.md).
Other targets get no packed path (:data:`indexnet.fast.compiler.VECTOR_BITS` is 0).
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from indexnet.fast.compiler import VECTOR_BITS, VECTOR_REGISTERS
from indexnet.fast.numba_private import cgutils


def tile_shape(itemsize: int) -> tuple:
    """``(MR, NV)`` of a tile of numbers of ``itemsize`` bytes.

    32 registers (AVX-512): 6 x 4 sums in float64, 12 x 2 in float32, 24 registers either way;
    16 registers (AVX2): 4 x 3 and 6 x 2, 12 registers.
    """
    if VECTOR_REGISTERS >= 32:
        return (6, 4) if itemsize == 8 else (12, 2)
    return (4, 3) if itemsize == 8 else (6, 2)


MR_64, NV_64 = tile_shape(8)
MR_32, NV_32 = tile_shape(4)


def rows_tile_shape(itemsize: int) -> tuple:
    """``(MR, NV)`` of a :func:`tile_rows` tile. Its ``MR`` numbers of ``A`` a step come from
    ``MR`` rows, and LLVM loads them all before the multiply-adds, each broadcast into a
    register of its own: 8 x 2 in float32 and 4 x 4 in float64 with 32 registers (12 x 2 spilt
    sums to the stack, at a third of the speed), 4 x 2 with 16."""
    if VECTOR_REGISTERS >= 32:
        return (8, 2) if itemsize == 4 else (4, 4)
    return (4, 2)


def _tile_codegen(rows):
    """The code of :func:`tile` (``rows`` False) or of :func:`tile_rows` (True)."""

    def codegen(context, builder, signature, args):
        types_ = list(signature.args)
        if rows:  # tile_rows: lda after a0; the rest as tile's
            lda_ = context.cast(builder, args[3], types_[3], types.intp)
            args, types_ = [*args[:3], *args[4:]], [*types_[:3], *types_[4:]]
        kc_, a0_, b0_, c0_, ldc_ = (
            context.cast(builder, args[n], types_[n], types.intp) for n in (0, 2, 4, 6, 7)
        )
        add_ = context.cast(builder, args[8], types_[8], types.boolean)
        number = context.get_value_type(types_[1].dtype)
        size = context.get_abi_sizeof(number)
        lanes = VECTOR_BITS // (8 * size)
        MR, NV = rows_tile_shape(size) if rows else tile_shape(size)
        vector = ir.VectorType(number, lanes)
        i32, i64 = ir.IntType(32), ir.IntType(64)

        def start(position, offset):
            data = context.make_array(types_[position])(context, builder, args[position])
            return builder.gep(data.data, [offset])

        def vector_at(pointer, offset):
            return builder.bitcast(builder.gep(pointer, [offset]), vector.as_pointer())

        def const(value):
            return ir.Constant(i64, value)

        pa, pb, pc = start(1, a0_), start(3, b0_), start(5, c0_)
        row_starts = [builder.mul(lda_, const(i)) for i in range(MR)] if rows else []
        kind = "f64" if size == 8 else "f32"
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vector, [vector] * 3), f"llvm.fma.v{lanes}{kind}"
        )
        zero = ir.Constant(vector, [ir.Constant(number, 0.0)] * lanes)
        undef = ir.Constant(vector, ir.Undefined)
        broadcast = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)

        # The tile of C is read and written after the loop. Rows of C lie ``ldc`` apart, and in a
        # large product past L2 (Zen 3: 512 KiB); fetched now, they arrive while the loop runs.
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        write, keep, data = ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)
        for i in range(MR):
            row = builder.gep(pc, [builder.mul(ldc_, const(i))])
            # the first number of each 64-byte line the row's NR numbers may touch, and the last
            for at in [*range(0, NV * lanes, 64 // size), NV * lanes - 1]:
                line = builder.bitcast(builder.gep(row, [const(at)]), ir.IntType(8).as_pointer())
                builder.call(prefetch, [line, write, keep, data])

        entry = builder.basic_block
        loop = builder.append_basic_block("tile.loop")
        done = builder.append_basic_block("tile.done")
        builder.branch(loop)
        builder.position_at_end(loop)
        # All phi nodes first: x and the MR x NV running sums.
        x = builder.phi(i64)
        sums = [[builder.phi(vector) for _ in range(NV)] for _ in range(MR)]
        x.add_incoming(const(0), entry)
        for row in sums:
            for s in row:
                s.add_incoming(zero, entry)
        b_x = builder.mul(x, const(NV * lanes))
        bs = [
            builder.load(vector_at(pb, builder.add(b_x, const(v * lanes))), align=size)
            for v in range(NV)
        ]
        a_x = builder.mul(x, const(MR))
        new = []
        for i in range(MR):
            if rows:  # A[a0 + i*lda + x]
                a = builder.load(builder.gep(pa, [builder.add(row_starts[i], x)]))
            else:  # A[a0 + x*MR + i]
                a = builder.load(builder.gep(pa, [builder.add(a_x, const(i))]))
            # a, broadcast to every lane
            a = builder.insert_element(undef, a, ir.Constant(i32, 0))
            a = builder.shuffle_vector(a, undef, broadcast)
            new.append([builder.call(fma, [a, bs[v], sums[i][v]]) for v in range(NV)])
        x_next = builder.add(x, const(1))
        x.add_incoming(x_next, loop)
        for i in range(MR):
            for v in range(NV):
                sums[i][v].add_incoming(new[i][v], loop)
        builder.cbranch(builder.icmp_signed("<", x_next, kc_), loop, done)

        builder.position_at_end(done)
        for i in range(MR):
            row = builder.mul(ldc_, const(i))
            for v in range(NV):
                pointer = vector_at(pc, builder.add(row, const(v * lanes)))
                old = builder.load(pointer, align=size)
                total = builder.select(add_, builder.fadd(old, new[i][v]), new[i][v])
                builder.store(total, pointer, align=size)
        return context.get_dummy_value()

    return codegen


def _float_arrays(A, B, C):
    """Whether the Numba types ``A``, ``B`` and ``C`` are arrays of one float dtype: what
    :func:`tile` and :func:`tile_rows` compile for (any other call finds no implementation)."""
    if not all(isinstance(X, types.Array) for X in (A, B, C)):
        return False
    return A.dtype in (types.float32, types.float64) and A.dtype == B.dtype == C.dtype


@intrinsic
def tile(typingctx, kc, A, a0, B, b0, C, c0, ldc, accumulate):
    r"""``C[c0 + i*ldc + j] (+)= sum_x A[a0 + x*MR + i] * B[b0 + x*NR + j]``, one tile.

    ``MR`` and ``NR`` are :func:`tile_shape`'s for the dtype.

    ``A``, ``B`` and ``C`` are arrays of the same dtype; ``a0``, ``b0`` and ``c0`` are offsets in
    numbers from their first element, ``ldc`` the distance between rows of ``C`` in numbers.
    ``kc`` must be at least 1. With ``accumulate`` the sums are added to ``C``, else they
    replace it (what ``C`` held is read but not used, so NaN there does not leak through).
    The rows of the tile of ``C`` are prefetched before the loop over ``x``.
    """
    if not _float_arrays(A, B, C):
        return None
    return types.void(kc, A, a0, B, b0, C, c0, ldc, accumulate), _tile_codegen(rows=False)


@intrinsic
def tile_rows(typingctx, kc, A, a0, lda, B, b0, C, c0, ldc, accumulate):
    r"""``C[c0 + i*ldc + j] (+)= sum_x A[a0 + i*lda + x] * B[b0 + x*NR + j]``: :func:`tile`
    with the ``MR`` rows of ``A`` read where they lie, ``lda`` numbers apart, unpacked.

    ``MR`` and ``NR`` are :func:`rows_tile_shape`'s. For a product of few columns
    (:func:`indexnet.fast.blocking.products_narrow`), whose ``B`` is packed once and stays in
    L1: packing ``A`` would cost more than the sums.
    """
    if not _float_arrays(A, B, C):
        return None
    return types.void(kc, A, a0, lda, B, b0, C, c0, ldc, accumulate), _tile_codegen(rows=True)
