r"""The exponential of a non-positive number, in arithmetic that a loop can vectorise.

The sigmoid takes :math:`e^{-|z|}` of every unit, and ``math.exp`` compiles to a call into the
C library, one number at a time: pip's llvmlite has no vector math library. At
[64, 25, 64], m = 10,000 those calls were 7 of a step's 18 ms (``bench/NOTES.md``). Written as
arithmetic, the same exponential inlines into the kernel's loop, which LLVM then runs on whole
vectors of units:

.. math::
    e^x = 2^n e^r, \qquad n = \lfloor x \log_2 e + \tfrac{1}{2} \rfloor, \quad
    r = x - n \ln 2 \in [-\tfrac{1}{2}\ln 2, \tfrac{1}{2}\ln 2],

with :math:`e^r` a Taylor polynomial (its remainder below half an ulp) and :math:`2^n` written
straight into the exponent bits. ``ln 2`` is split in two (Cody and Waite) so that ``r`` keeps
its precision for large ``|x|``. Results that would be subnormal (:math:`x` below
:math:`\ln 2^{-1022}`, or :math:`\ln 2^{-126}` in float32) are 0; NaN stays NaN.

Uncompiled (the ``python`` backend, a kernel's ``.py_func``), :func:`exp_nonpositive` is
``math.exp``.
"""

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload


def exp_nonpositive(x):
    """:math:`e^x` for :math:`x \\le 0` (``math.exp``; compiled, see the module)."""
    return math.exp(x)


@intrinsic
def _power_of_two(typingctx, n):
    """:math:`2^n` for an integral float ``n`` of a normal result: ``n`` plus the exponent
    bias, shifted into the exponent field (float64 or float32, as ``n``); an ``n`` beyond
    the normal exponents, or NaN, gives a power of two the caller discards."""
    if n == types.float64:
        bias, shift, integer, real = 1023, 52, ir.IntType(64), ir.DoubleType()
    elif n == types.float32:
        bias, shift, integer, real = 127, 23, ir.IntType(32), ir.FloatType()
    else:
        return None

    def codegen(context, builder, signature, args):
        # n clamped to the normal exponents, then converted through int32, which AVX2 converts
        # to in vector registers (it has no int64 form). The clamp keeps an n out of range (a
        # result the caller discards, or NaN) defined; written as compares and selects, it
        # runs as vector min and max. LLVM's saturating conversion would do the same, but x86
        # converts it one lane at a time.
        low, high = ir.Constant(real, 1 - bias), ir.Constant(real, bias)
        clamped = builder.select(builder.fcmp_ordered(">", args[0], low), args[0], low)
        clamped = builder.select(builder.fcmp_ordered("<", clamped, high), clamped, high)
        k = builder.fptosi(clamped, ir.IntType(32))
        if integer.width == 64:
            k = builder.sext(k, integer)
        exponent = builder.add(k, ir.Constant(integer, bias))
        return builder.bitcast(builder.shl(exponent, ir.Constant(integer, shift)), real)

    return n(n), codegen


# float64: ln 2 = LN2_HI + LN2_LO, LN2_HI with its low bits zero, so that n * LN2_HI is exact.
LOG2E, LN2_HI, LN2_LO = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770e-10
TINY = -708.3964185322641
"""ln 2^-1022: below it e^x is subnormal, and 0 here."""
TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
"""1/13!, ..., 1/1!, 1/0!: for |r| <= ln(2)/2 the remainder r^14/14! is below 1e-17."""

LOG2E_32, LN2_HI_32, LN2_LO_32 = (
    np.float32(1.4426950408889634), np.float32(0.693145751953125), np.float32(1.428606765330187e-06)
)  # fmt: skip
TINY_32 = np.float32(-87.33654475)
"""ln 2^-126: below it e^x is subnormal in float32, and 0 here."""
TAYLOR_32 = tuple(np.float32(1.0 / math.factorial(k)) for k in range(8, -1, -1))
"""1/8!, ..., 1/0!: for |r| <= ln(2)/2 the remainder r^9/9! is below 1e-9."""


@overload(exp_nonpositive)
def _compiled_exp_nonpositive(x):
    if x == types.float64:
        c = TAYLOR

        def exp_polynomial(x):
            n = np.floor(x * LOG2E + 0.5)  # a float (math.floor would make it an int)
            r = (x - n * LN2_HI) - n * LN2_LO
            # Horner: ((1/13! r + 1/12!) r + ...) r + 1
            p = c[0] * r + c[1]
            p = ((((p * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) * r + c[6]
            p = ((((p * r + c[7]) * r + c[8]) * r + c[9]) * r + c[10]) * r + c[11]
            p = (p * r + c[12]) * r + c[13]
            # The comparison is false for NaN, which then runs through as NaN.
            return 0.0 if x < TINY else p * _power_of_two(n)

        return exp_polynomial
    if x == types.float32:
        c = TAYLOR_32
        zero, half = np.float32(0.0), np.float32(0.5)

        def exp_polynomial_32(x):
            n = np.floor(x * LOG2E_32 + half)
            r = (x - n * LN2_HI_32) - n * LN2_LO_32
            p = c[0] * r + c[1]
            p = ((((p * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) * r + c[6]
            p = (p * r + c[7]) * r + c[8]
            return zero if x < TINY_32 else p * _power_of_two(n)

        return exp_polynomial_32
    return None
