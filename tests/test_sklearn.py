"""The scikit-learn estimators: scikit-learn's own check suite, and what it does not look at."""

import copy
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from indexnet import datasets  # noqa: E402
from indexnet.sklearn import (  # noqa: E402
    EXPECTED_FAILED_CHECKS,
    IndexNetClassifier,
    IndexNetRegressor,
)

try:
    import pandas  # enables the checks with pandas inputs
except ImportError:
    pandas = None

ESTIMATORS = [IndexNetClassifier(max_iter=100), IndexNetRegressor(max_iter=100)]

# Checks that skip themselves for a reason outside the estimator, and the condition under which
# each is allowed to; any other skip fails the test.
ENVIRONMENT_SKIPS = {
    "check_array_api_input": ("SCIPY_ARRAY_API is not set", "SCIPY_ARRAY_API" not in os.environ),
    "check_classifier_data_not_an_array": ("pandas is not installed", pandas is None),
    "check_regressor_data_not_an_array": ("pandas is not installed", pandas is None),
}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator):
    # One BLAS thread: SciPy's L-BFGS on these tiny problems ran 5 times slower with two on a
    # busy two-core machine (the estimator itself leaves the thread pools alone).
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", sklearn.exceptions.SkipTestWarning)
        results = check_estimator(
            estimator, on_fail=None, expected_failed_checks=EXPECTED_FAILED_CHECKS
        )
    statuses = {}
    for result in results:
        statuses.setdefault(result["status"], []).append(result["check_name"])
    failed = [f"{r['check_name']}: {r['exception']!r}" for r in results if r["status"] == "failed"]
    assert not failed, "\n".join(failed)
    for name in statuses.get("skipped", []):
        assert name in ENVIRONMENT_SKIPS, f"{name} skipped"
        reason, allowed = ENVIRONMENT_SKIPS[name]
        assert allowed, f"{name} skipped although not {reason}"
    assert len(statuses["passed"]) > 40


# check_estimator runs check_array_api_input this way for an estimator without array API
# support: NumPy inputs with array API dispatch enabled must give the same results.
ARRAY_API_SCRIPT = """
from sklearn.utils.estimator_checks import check_array_api_input
from indexnet.sklearn import IndexNetClassifier, IndexNetRegressor
for estimator in (IndexNetClassifier(max_iter=100), IndexNetRegressor(max_iter=100)):
    check_array_api_input(
        type(estimator).__name__, estimator, array_namespace="numpy",
        expect_only_array_outputs=False,
    )
print("passed")
"""


def test_check_array_api_input_with_scipy_array_api_set():
    """The one check that needs SCIPY_ARRAY_API=1 before SciPy is imported: a fresh process."""
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ARRAY_API_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["passed"]


@pytest.fixture(scope="module")
def digits():
    return datasets.digits(seed=0)


def test_classifier_learns_digits(digits):
    X_train, X_test, y_train, y_test = digits
    model = IndexNetClassifier(max_iter=200).fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.95
    assert model.n_iter_ == len(model.loss_curve_) > 0
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.network_.sizes == (64, 30, 10)


@pytest.mark.parametrize("method", ["gd", "sgd"])
def test_classifier_trains_with_gradient_descent_methods(digits, method):
    X_train, X_test, y_train, y_test = digits
    model = IndexNetClassifier(method=method, max_iter=30, alpha=1.0).fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.8
    assert model.n_iter_ == 30


def test_backends_give_the_same_model(digits):
    X_train, X_test, y_train, _ = digits
    kwargs = {"max_iter": 20, "hidden_layer_sizes": (10,)}
    loops = IndexNetClassifier(backend="loops", **kwargs).fit(X_train, y_train)
    vectorized = IndexNetClassifier(backend="vectorized", **kwargs).fit(X_train, y_train)
    np.testing.assert_allclose(
        loops.predict_proba(X_test), vectorized.predict_proba(X_test), atol=1e-6
    )


def test_sigmoid_output_probabilities_and_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    names = np.array(["left", "middle", "right"])
    y = names[np.digitize(X[:, 0], [-0.5, 0.5])]
    model = IndexNetClassifier(output="sigmoid", hidden_layer_sizes=(8,)).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= set(names)
    assert np.array_equal(model.classes_, names)
    assert model.score(X, y) > 0.9


def test_regressor_fits_one_and_several_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 2))
    Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(2 * X[:, 0])])
    single = IndexNetRegressor(hidden_layer_sizes=(10,), lam=0.0).fit(X, Y[:, 1])
    assert single.predict(X).shape == (120,)
    assert single.score(X, Y[:, 1]) > 0.95
    double = IndexNetRegressor(hidden_layer_sizes=(10,), lam=0.0).fit(X, Y)
    assert double.predict(X).shape == (120, 2)
    assert double.score(X, Y) > 0.9


@pytest.mark.parametrize(
    "duplicate",
    [lambda model: pickle.loads(pickle.dumps(model)), copy.deepcopy],
    ids=["pickle", "deepcopy"],
)
def test_copies_keep_weights_as_views_of_theta(digits, duplicate):
    X_train, X_test, y_train, _ = digits
    model = IndexNetClassifier(max_iter=10).fit(X_train, y_train)
    other = duplicate(model)
    np.testing.assert_array_equal(other.predict_proba(X_test), model.predict_proba(X_test))
    net = other.network_
    assert all(np.shares_memory(W, net.theta) for W in net.W)
    assert all(np.shares_memory(b, net.theta) for b in net.b)
    assert model.network_.W[0] is not net.W[0]


def test_params_round_trip_and_grid_search_over_backend(digits):
    X_train, _, y_train, _ = digits
    model = IndexNetClassifier(hidden_layer_sizes=(5,), max_iter=5)
    assert model.get_params()["backend"] == "loops"
    assert model.set_params(backend="vectorized").backend == "vectorized"
    assert clone(model).get_params() == model.get_params()
    search = GridSearchCV(model, {"backend": ["loops", "vectorized"], "lam": [0.0, 1e-3]}, cv=2)
    search.fit(X_train[:200], y_train[:200])
    assert len(search.cv_results_["params"]) == 4


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"method": "newton"}, ValueError, "method"),
        ({"backend": "gpu"}, ValueError, "backend"),
        ({"output": "identity"}, ValueError, "output"),
        ({"hidden": "swish"}, ValueError, "hidden"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"lam": -1.0}, ValueError, "lam"),
        ({"hidden_layer_sizes": (0,)}, ValueError, r"sizes\[1\]"),
        ({"dtype": "int32"}, TypeError, "dtype"),
    ],
)
def test_bad_parameters_are_reported_at_fit_by_name(params, error, match):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    model = IndexNetClassifier(**params)  # no error before fit, as scikit-learn requires
    with pytest.raises(error, match=match):
        model.fit(X, y)


def test_one_class_is_refused_with_a_message_naming_classes():
    with pytest.raises(ValueError, match="2 classes"):
        IndexNetClassifier().fit(np.zeros((5, 2)), np.ones(5))
