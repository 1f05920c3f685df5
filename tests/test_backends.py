"""The loops-parallel backend runs the serial composites' source against its own kernels and
products: every product that source calls must be the parallel one (nothing is timed here)."""

import inspect

import numpy as np

from indexnet.fast import blocking, loops_parallel
from indexnet.kernels import loops


def rebound():
    """The functions whose source loops-parallel takes from indexnet.loops, by name."""
    for name in loops.COMPOSITES:
        yield name, loops_parallel._namespace[name]
    yield "_weight_gradient_blocked", loops_parallel._weight_gradient_by_units


def writes_an_array(function):
    """Whether ``function`` is one of indexnet.fast.blocking's products or passes (it has an output
    array, ``out`` or ``XT``), not a predicate such as ``packs``."""
    if getattr(function, "__module__", None) != blocking.__name__:
        return False
    return bool({"out", "XT"} & set(inspect.signature(function).parameters))


def test_every_product_the_rebound_source_calls_is_the_parallel_one():
    checked = set()
    for name, dispatcher in rebound():
        names = dispatcher.py_func.__globals__
        for called in dispatcher.py_func.__code__.co_names:
            serial = getattr(getattr(loops, called, None), "py_func", None)
            if writes_an_array(serial) or called == "_average_plus_decay":
                assert called in loops_parallel.PRODUCTS, (
                    f"loops-parallel's {name} calls the serial {called}: add it to PRODUCTS"
                )
            if called in loops_parallel.PRODUCTS:
                parallel = names[called].py_func
                assert parallel.__module__ == loops_parallel.__name__, (name, called)
                checked.add(called)
    assert {"products_packed", "products_blocked", "transpose", "_average_plus_decay"} <= checked


def test_parallel_products_equal_the_serial_ones(two_threads):
    rng = np.random.default_rng(0)
    P, Q = rng.random((70, 300)), rng.random((60, 300))  # enough work to split across threads
    for name in ("products_blocked", "products_packed"):
        out = np.empty((70, 60))
        getattr(loops_parallel, name)(P, Q, out)
        np.testing.assert_allclose(out, P @ Q.T, rtol=1e-12, err_msg=name)
