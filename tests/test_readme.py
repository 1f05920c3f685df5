"""The README shows the package as it is: its opening block is a kernel's real source, and the
code it offers for a user's own ``@njit`` function runs and computes the equations."""

import inspect
import re
from pathlib import Path

import numpy as np

from indexnet.kernels import activations, loops
from indexnet.twins import vectorized

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_opening_block_is_the_source_of_a_loop_kernel():
    opening = python_blocks()[0]
    name = re.search(r"^def (\w+)\(", opening, flags=re.M).group(1)
    assert inspect.getsource(getattr(loops, name).py_func) == opening


def test_the_users_own_njit_layer_runs_the_kernels():
    namespace = {}
    block = next(block for block in python_blocks() if "@njit" in block)
    exec(block, namespace)
    rng = np.random.default_rng(0)
    W, b, a = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(5, 3))
    z_next, a_next = np.empty((5, 4)), np.empty((5, 4))
    namespace["layer"](W, b, a, z_next, a_next)
    expected_z = np.empty_like(z_next)
    vectorized.weighted_input(W, b, a, expected_z)
    np.testing.assert_allclose(z_next, expected_z, rtol=1e-13)
    expected_a = np.empty_like(a_next)
    vectorized.activation(expected_z, activations.SIGMOID, expected_a)
    np.testing.assert_allclose(a_next, expected_a, rtol=1e-13)
