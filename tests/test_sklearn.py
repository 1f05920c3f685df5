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
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from indexnet.api.sklearn import (  # noqa: E402
    EXPECTED_FAILED_CHECKS,
    IndexNetClassifier,
    IndexNetRegressor,
)
from indexnet.data import datasets  # noqa: E402

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
from indexnet.api.sklearn import IndexNetClassifier, IndexNetRegressor
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
    # lambda = 0.4 / 1347, about 3e-4: the setting of `indexnet train digits`
    model = IndexNetClassifier(max_iter=200, alpha=0.4).fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.95
    assert model.n_iter_ == len(model.loss_curve_) > 0
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.network_.sizes == (64, 30, 10)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_classifier_trains_with_gradient_descent_solvers(digits, solver):
    X_train, X_test, y_train, y_test = digits
    model = IndexNetClassifier(solver=solver, max_iter=30, learning_rate_init=1.0)
    model.fit(X_train, y_train)
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
    single = IndexNetRegressor(hidden_layer_sizes=(10,), alpha=0.0).fit(X, Y[:, 1])
    assert single.predict(X).shape == (120,)
    assert single.score(X, Y[:, 1]) > 0.95
    double = IndexNetRegressor(hidden_layer_sizes=(10,), alpha=0.0).fit(X, Y)
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
    search = GridSearchCV(model, {"backend": ["loops", "vectorized"], "alpha": [0.0, 1.0]}, cv=2)
    search.fit(X_train[:200], y_train[:200])
    assert len(search.cv_results_["params"]) == 4


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"solver": "newton"}, ValueError, "solver"),
        ({"solver": "adam"}, ValueError, r"solver must be one of 'lbfgs', 'sgd', 'gd'.*Adam"),
        ({"backend": "gpu"}, ValueError, "backend"),
        ({"output": "identity"}, ValueError, "output"),
        ({"activation": "swish"}, ValueError, "activation"),
        ({"activation": "sigmoid"}, ValueError, "activation.*'logistic'"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"alpha": -1.0}, ValueError, "alpha must be >= 0"),
        ({"solver": "sgd", "learning_rate_init": 0.0}, ValueError, "learning_rate_init"),
        ({"solver": "gd", "learning_rate_init": -1.0}, ValueError, "learning_rate_init"),
        ({"solver": "sgd", "batch_size": "big"}, TypeError, "batch_size"),
        ({"solver": "sgd", "batch_size": 0}, ValueError, "batch_size"),
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


@pytest.mark.parametrize("name", ["lam", "method", "hidden"])
def test_ufldl_names_are_refused_not_reinterpreted(name):
    """The old UFLDL parameter names fail loudly, at construction and in set_params."""
    with pytest.raises(TypeError, match=name):
        IndexNetClassifier(**{name: 1e-4})
    with pytest.raises(ValueError, match=name):
        IndexNetClassifier().set_params(**{name: 1e-4})


# Three classes: MLPClassifier has a softmax output then, and its cost is indexnet's softmax
# cross-entropy (for two it has one logistic unit where indexnet has two softmax units).
@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, random_state=0,
    )  # fmt: skip
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def one_hot(y):
    return (y[:, None] == np.unique(y)).astype(float)


def copy_weights(mlp, net):
    """Put a fitted MLP's coefs_ and intercepts_ into an indexnet network of the same shape."""
    for W, b, coef, intercept in zip(net.W, net.b, mlp.coefs_, mlp.intercepts_, strict=True):
        W[...] = coef.T
        b[...] = intercept


def regularised_log_loss(y, proba, weights, alpha):
    """MLPClassifier's L-BFGS objective, written out: mean cross-entropy plus
    alpha / (2 n) times the sum of the squared weights."""
    return log_loss(y, proba) + 0.5 * alpha * sum(np.sum(W * W) for W in weights) / len(y)


def test_penalty_mapping_reproduces_mlpclassifier_loss(three_classes):
    """With MLPClassifier's fitted weights, indexnet's J with the lambda that alpha became is
    MLPClassifier's own reported loss_ (computed by its _backprop at those weights)."""
    X_train, _, y_train, _ = three_classes
    alpha = 0.7
    params = {"hidden_layer_sizes": (5,), "activation": "tanh", "alpha": alpha, "max_iter": 15}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(solver="lbfgs", random_state=0, **params).fit(X_train, y_train)
    model = IndexNetClassifier(**{**params, "max_iter": 1}).fit(X_train, y_train)
    assert model.lam_ == pytest.approx(alpha / len(y_train), rel=1e-15)
    net = model.network_
    copy_weights(mlp, net)
    J, _ = net.cost_and_gradient(X_train, one_hot(y_train), lam=model.lam_)
    assert J == pytest.approx(mlp.loss_, rel=1e-10)
    # the data term alone would be well off: the penalty is a real part of it
    J_without, _ = net.cost_and_gradient(X_train, one_hot(y_train), lam=0.0)
    assert abs(J_without - mlp.loss_) > 0.01


def test_penalty_mapping_reproduces_mlpregressor_loss_with_several_targets():
    """MLPRegressor averages its squared loss over the targets too, indexnet sums over them:
    with q targets lambda = q alpha / n makes J exactly q times MLPRegressor's loss_, the
    same objective."""
    X, Y = make_regression(n_samples=120, n_features=4, n_targets=2, noise=1.0, random_state=0)
    Y = Y / Y.std(axis=0)
    params = {"hidden_layer_sizes": (5,), "activation": "logistic", "alpha": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(solver="lbfgs", max_iter=15, random_state=0, **params).fit(X, Y)
    model = IndexNetRegressor(max_iter=1, **params).fit(X, Y)
    assert model.lam_ == pytest.approx(2 * 0.5 / 120, rel=1e-15)
    copy_weights(mlp, model.network_)
    J, _ = model.network_.cost_and_gradient(X, Y, lam=model.lam_)
    assert J == pytest.approx(2 * mlp.loss_, rel=1e-10)


@pytest.mark.parametrize(
    ("solver", "options"),
    [
        # MLPClassifier's tol is its L-BFGS gtol; 1e-5 is SciPy's default, which indexnet keeps
        ("lbfgs", {"alpha": 1.0, "max_iter": 300}),
        # plain SGD: no momentum, a constant rate, no early stop; 6 equal batches per epoch
        ("sgd", {"alpha": 0.5, "max_iter": 300, "batch_size": 50, "learning_rate_init": 0.5}),
    ],
)
def test_same_parameters_as_mlpclassifier_fit_the_same_model(three_classes, solver, options):
    """Fitted with the same parameters on the same data, IndexNetClassifier and MLPClassifier
    reach the same regularised loss (each starting from its own initialisation, so to a
    tolerance) and the same accuracy; with lambda = alpha rather than alpha / n_B they would
    not come near."""
    X_train, X_test, y_train, y_test = three_classes
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "logistic",
        "solver": solver,
        "random_state": 0,
        **options,
    }
    sklearn_only = {"tol": 1e-5} if solver == "lbfgs" else {
        "momentum": 0.0, "learning_rate": "constant", "tol": 0.0, "n_iter_no_change": 10**6,
    }  # fmt: skip
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(**params, **sklearn_only).fit(X_train, y_train)
        model = IndexNetClassifier(**params).fit(X_train, y_train)
    # the objective each solver minimises: per batch of n_B samples for SGD
    n_batch = options.get("batch_size", len(y_train))
    alpha = options["alpha"] * len(y_train) / n_batch
    ours = regularised_log_loss(y_train, model.predict_proba(X_train), model.network_.W, alpha)
    theirs = regularised_log_loss(y_train, mlp.predict_proba(X_train), mlp.coefs_, alpha)
    assert ours == pytest.approx(theirs, rel=0.02)
    if solver == "lbfgs":  # loss_curve_ is scikit-learn's loss, and ends at the optimum
        assert model.loss_curve_[-1] == pytest.approx(ours, rel=1e-6)
    assert abs(model.score(X_train, y_train) - mlp.score(X_train, y_train)) <= 0.03
    assert abs(model.score(X_test, y_test) - mlp.score(X_test, y_test)) <= 0.05


def test_alpha_is_the_l2_penalty(three_classes):
    """A large alpha shrinks the fitted weights; the learning rate is another parameter."""
    X_train, _, y_train, _ = three_classes
    params = {"hidden_layer_sizes": (8,), "max_iter": 100}
    weak = IndexNetClassifier(alpha=1e-6, **params).fit(X_train, y_train)
    strong = IndexNetClassifier(alpha=10.0, **params).fit(X_train, y_train)
    norm = lambda model: np.sqrt(sum(np.sum(W * W) for W in model.network_.W))  # noqa: E731
    assert norm(strong) < 0.5 * norm(weak)
    assert strong.lam_ == pytest.approx(10.0 / len(y_train))
    # for "lbfgs" the learning rate is unused: changing it changes nothing
    other_rate = IndexNetClassifier(alpha=10.0, learning_rate_init=1e-4, **params)
    np.testing.assert_array_equal(
        other_rate.fit(X_train, y_train).network_.theta, strong.network_.theta
    )


def test_sgd_decays_per_mini_batch_like_scikit_learn():
    """scikit-learn's SGD divides alpha by each batch's size; "auto" is min(200, n)."""
    X = np.random.default_rng(0).normal(size=(300, 3))
    y = np.arange(300) % 2
    common = {"solver": "sgd", "alpha": 2.0, "max_iter": 1}
    assert IndexNetClassifier(batch_size=25, **common).fit(X, y).lam_ == pytest.approx(2.0 / 25)
    assert IndexNetClassifier(batch_size="auto", **common).fit(X, y).lam_ == pytest.approx(0.01)
    assert IndexNetClassifier(batch_size=10**6, **common).fit(X, y).lam_ == pytest.approx(2 / 300)
    assert IndexNetClassifier(solver="gd", alpha=2.0, max_iter=1).fit(X, y).lam_ == pytest.approx(
        2 / 300
    )
