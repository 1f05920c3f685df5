"""The loops-parallel backend runs the serial composites' source, and the large layers' weight
gradient, against its own kernels and products, through two explicit tables: every kernel and
product those sources call must be the parallel one (nothing is timed here)."""

import inspect

import numpy as np
from numba.core.dispatcher import Dispatcher

from indexnet.fast import blocking, large, loops_parallel
from indexnet.kernels import loops


def parallel_version(name):
    """loops-parallel's own kernel for a name the serial source calls (``_weighted_input`` or
    ``weighted_input``: the kernel ``weighted_input``), or None."""
    found = getattr(loops_parallel, name.lstrip("_"), None)
    defined_here = getattr(getattr(found, "py_func", None), "__module__", None)
    return found if defined_here == loops_parallel.__name__ else None


def test_every_kernel_the_composites_call_is_the_parallel_one():
    checked = set()
    for name in loops.COMPOSITES:
        rebound = loops_parallel._namespace[name].py_func
        for called in rebound.__code__.co_names:
            serial = getattr(loops, called, None)
            if not isinstance(serial, Dispatcher) or called in loops.COMPOSITES:
                continue
            parallel = parallel_version(called)
            if parallel is not None:
                assert called in loops_parallel.KERNELS, (
                    f"loops-parallel's {name} calls the serial {called}: add it to KERNELS"
                )
                assert rebound.__globals__[called] is parallel, (name, called)
                checked.add(called)
    assert checked == set(loops_parallel.KERNELS)  # and the table holds nothing unused


def test_every_composite_compiles_as_the_serial_one_does():
    # An inlined composite compiled as a library of its own is linked and optimised again by
    # every composite that calls it: 25 s more of a cold compile, and a call more a step.
    for name in loops.COMPOSITES:
        serial = getattr(loops, name).targetoptions
        rebound = loops_parallel._namespace[name].targetoptions
        assert rebound.get("inline") == serial.get("inline"), name
        assert not rebound.get("parallel"), name  # they call the parallel kernels


def writes_an_array(function):
    """Whether ``function`` is one of indexnet.fast.blocking's products or passes (it has an
    output array, ``out`` or ``XT``), not a predicate such as ``packs``."""
    if getattr(function, "__module__", None) != blocking.__name__:
        return False
    return bool({"out", "XT"} & set(inspect.signature(function).parameters))


def test_every_product_the_large_weight_gradient_calls_is_the_parallel_one():
    rebound = loops_parallel._weight_gradient_by_units.py_func
    checked = set()
    for called in rebound.__code__.co_names:
        serial = getattr(getattr(large, called, None), "py_func", None)
        if writes_an_array(serial) or called == "average_plus_decay":
            assert called in loops_parallel.PRODUCTS, (
                f"loops-parallel's weight gradient by units calls the serial {called}: "
                "add it to PRODUCTS"
            )
            parallel = rebound.__globals__[called].py_func
            assert parallel.__module__ == loops_parallel.__name__, called
            checked.add(called)
    assert checked == set(loops_parallel.PRODUCTS)


def test_parallel_products_equal_the_serial_ones(two_threads):
    rng = np.random.default_rng(0)
    P, Q = rng.random((70, 300)), rng.random((60, 300))  # enough work to split across threads
    for name in ("products_blocked", "products_packed"):
        out = np.empty((70, 60))
        getattr(loops_parallel, name)(P, Q, out)
        np.testing.assert_allclose(out, P @ Q.T, rtol=1e-12, err_msg=name)
    # rows of a transpose split across threads, as the weight gradient passes them (delta.T
    # and a.T: the types the warm-up has compiled)
    P_T, Q_T = np.ascontiguousarray(P.T).T, np.ascontiguousarray(Q.T).T
    out = np.empty((70, 60))
    loops_parallel.products_packed(P_T, Q_T, out)
    np.testing.assert_allclose(out, P @ Q.T, rtol=1e-12, err_msg="products_packed of transposes")
