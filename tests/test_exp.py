"""The sigmoid's exponential (indexnet.fast.exp): within an ulp or two of the exact value over every
non-positive input with a normal result, exact at the ends, NaN kept, in float64 and float32."""

import math
import platform

import numba
import numpy as np
import pytest
from numba import njit

from indexnet.fast import exp
from indexnet.kernels.activations import sigmoid


@njit
def _exps(x, out):
    for i in range(x.shape[0]):
        out[i] = exp.exp_nonpositive(x[i])


@pytest.mark.parametrize("dtype, tiny", [(np.float64, exp.TINY), (np.float32, exp.TINY_32)])
def test_within_two_ulps_wherever_the_result_is_normal(dtype, tiny):
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(tiny, 0, 400_001), -rng.exponential(2.0, 100_000)])
    x = x[x >= tiny].astype(dtype)
    got = np.empty_like(x)
    _exps(x, got)
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(got.astype(np.float64) - exact) / np.spacing(exact.astype(dtype))
    assert got.dtype == dtype
    assert ulps.max() <= 2, (ulps.max(), x[np.argmax(ulps)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_ends_and_nan(dtype):
    x = np.array([0.0, -0.0, -1e-30, -1000.0, -1e308 if dtype == np.float64 else -3e38, -np.inf,
                  np.nan], dtype=dtype)  # fmt: skip
    got = np.empty_like(x)
    _exps(x, got)
    np.testing.assert_array_equal(got[:3], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(got[3:6], [0.0, 0.0, 0.0])  # subnormal or smaller: 0
    assert np.isnan(got[6])


def test_uncompiled_it_is_math_exp():
    for x in (0.0, -0.5, -30.0, -700.0):
        assert exp.exp_nonpositive(x) == math.exp(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_sigmoid_built_on_it_stays_in_its_dtype_and_in_range(dtype):
    z = np.array([-1e4, -60.0, -1.0, 0.0, 1.0, 60.0, 1e4], dtype=dtype)
    values = [sigmoid(v) for v in z]
    compiled = {s.args: s.return_type for s in sigmoid.nopython_signatures}
    assert str(compiled[(numba.from_dtype(np.dtype(dtype)),)]) == np.dtype(dtype).name
    assert values[0] == 0 and values[3] == 0.5 and values[-1] == 1
    with np.errstate(over="ignore"):  # e^(1e4) is inf in the reference: 1 / inf = 0
        reference = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(
        np.array(values, dtype=np.float64), reference, rtol=4 * np.finfo(dtype).eps
    )


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="reads x86 instructions"
)
def test_a_loop_of_exponentials_converts_whole_vectors_of_exponents():
    # 2^n is built from n converted to an integer. LLVM's saturating conversion, used here
    # before, compiles on x86 to one scalar conversion and two compares a lane, with no packed
    # conversion at all: the float32 sigmoid ran at a third of its speed. (A scalar remainder
    # may still convert one lane at a time.)
    x = np.linspace(-80, 0, 100, dtype=np.float32)
    _exps(x, np.empty_like(x))
    float32 = next(s for s in _exps.signatures if s[0].dtype == numba.float32)
    assert "cvttps2dq" in _exps.inspect_asm(float32)
