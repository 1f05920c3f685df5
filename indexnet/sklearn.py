r"""scikit-learn estimators around :class:`indexnet.Network` and :func:`indexnet.train`.

:class:`IndexNetClassifier` and :class:`IndexNetRegressor` fit, predict and score like
scikit-learn's own, clone and grid-search through ``get_params``/``set_params``, and pass its
``check_estimator`` suite. They need scikit-learn: ``pip install 'indexnet[sklearn]'``.

The parameter names follow indexnet and UFLDL, not :class:`~sklearn.neural_network.MLPClassifier`:
``alpha`` is the learning rate :math:`\alpha` and ``lam`` the weight decay :math:`\lambda`, which
is not divided by the number of examples; MLPClassifier's ``alpha`` corresponds to
``lam * n_samples``.
"""

from __future__ import annotations

import numpy as np

from indexnet._checks import check_choice, check_int
from indexnet._extras import MissingExtraError
from indexnet.network import Network
from indexnet.train import METHODS, train

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - depends on the environment
    raise MissingExtraError(
        "indexnet.sklearn needs scikit-learn >= 1.6, which is not installed; "
        "install it with: pip install 'indexnet[sklearn]'"
    ) from error

__all__ = ["IndexNetClassifier", "IndexNetRegressor"]

EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""``check_estimator`` checks that these estimators are known to fail, with the reason; pass it
as ``check_estimator(..., expected_failed_checks=...)``. Empty: every check applies and passes.
"""


class _IndexNetEstimator(BaseEstimator):
    """What the classifier and regressor share: parameters, fitting, pickling."""

    _output_choices: tuple = ()

    def __init__(
        self,
        hidden_layer_sizes=(30,),
        *,
        hidden="sigmoid",
        output="sigmoid",
        cost="squared",
        method="lbfgs",
        max_iter=200,
        alpha=0.5,
        batch_size=32,
        lam=1e-4,
        backend="loops",
        dtype="float64",
        random_state=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.hidden = hidden
        self.output = output
        self.cost = cost
        self.method = method
        self.max_iter = max_iter
        self.alpha = alpha
        self.batch_size = batch_size
        self.lam = lam
        self.backend = backend
        self.dtype = dtype
        self.random_state = random_state

    def _fit_network(self, X, Y):
        """Build ``network_`` for ``X`` and ``Y`` (2-D) and train it; set the fitted attributes."""
        check_choice("output", self.output, self._output_choices)
        check_choice("method", self.method, METHODS)
        check_int("max_iter", self.max_iter, 1)
        hidden_layer_sizes = self.hidden_layer_sizes
        if np.isscalar(hidden_layer_sizes):
            hidden_layer_sizes = [hidden_layer_sizes]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = Network(
            [X.shape[1], *hidden_layer_sizes, Y.shape[1]],
            hidden=self.hidden,
            output=self.output,
            cost=self.cost,
            seed=seed,
            dtype=self.dtype,
        )
        options = {"lam": self.lam, "backend": self.backend}
        if self.method == "sgd":
            options.update(
                epochs=self.max_iter, alpha=self.alpha, batch_size=self.batch_size, seed=seed
            )
        else:
            options["iterations"] = self.max_iter
            if self.method == "gd":
                options["alpha"] = self.alpha
        result = train(net, X, Y, self.method, **options)
        self.network_ = net
        self.train_result_ = result
        self.loss_curve_ = list(result.costs)
        self.n_iter_ = result.iterations
        return self

    def _outputs(self, X) -> np.ndarray:
        """Output activations for ``X``, after the usual fitted and input checks."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict(X, backend=self.backend)

    # W[l] and b[l] are views into theta, which pickling would turn into independent copies:
    # keep the network's settings and theta, and rebuild it.
    def __getstate__(self):
        state = dict(super().__getstate__())
        net = state.get("network_")
        if isinstance(net, Network):
            state["network_"] = {
                "sizes": net.sizes,
                "hidden": net.hidden,
                "output": net.output,
                "cost": net.cost,
                "dtype": np.dtype(net.dtype).name,
                "theta": net.theta.copy(),
            }
        return state

    def __setstate__(self, state):
        saved = state.get("network_")
        if isinstance(saved, dict):
            saved = dict(saved)
            theta = saved.pop("theta")
            state["network_"] = Network(**saved)
            state["network_"].theta = theta
        super().__setstate__(state)


_PARAMETERS = r"""
    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        Units of each hidden layer; the input and output layers are sized from the data.
    hidden : {"sigmoid", "tanh", "relu", "identity"}
        Hidden activation :math:`f`.
    output : str
        Output activation (see the class).
    cost : {"squared", "cross_entropy"}
        Cost :math:`J` (see the class).
    method : {"lbfgs", "gd", "sgd"}
        Optimiser: L-BFGS, batch gradient descent or mini-batch SGD.
    max_iter : int
        Iterations (epochs for ``"sgd"``).
    alpha : float
        Learning rate :math:`\alpha` of ``"gd"`` and ``"sgd"`` (unused by ``"lbfgs"``).
    batch_size : int
        Mini-batch size of ``"sgd"``.
    lam : float
        Weight decay :math:`\lambda`, UFLDL's :math:`\frac{\lambda}{2} \sum W^2` (not divided by
        the number of examples).
    backend : {"loops", "vectorized"}
        Kernels computing the cost and gradient.
    dtype : {"float64", "float32"}
        Float type of the network.
    random_state : int, RandomState or None
        Seeds the initialisation (and SGD's shuffling).

    Attributes
    ----------
    network_ : indexnet.Network
        The trained network.
    train_result_ : indexnet.TrainResult
        The training record.
    loss_curve_ : list of float
        :math:`J` after each iteration.
    n_iter_ : int
        Iterations (epochs) run.
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
"""


class IndexNetClassifier(ClassifierMixin, _IndexNetEstimator):
    __doc__ = (
        r"""A classifier: an :class:`indexnet.Network` with one output unit per class.

    The targets are one-hot rows. With ``output="softmax"`` (the default) the outputs are the
    class probabilities; with ``output="sigmoid"`` each unit is a one-vs-rest probability, and
    :meth:`predict_proba` normalises the row to sum to 1.
    """
        + _PARAMETERS
        + """    classes_ : ndarray, shape (n_classes,)
        Class labels, in the order of the output units.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from indexnet.sklearn import IndexNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> IndexNetClassifier(hidden_layer_sizes=(10,)).fit(X, y).score(X, y) > 0.9
    True
    """
    )

    _output_choices = ("softmax", "sigmoid")

    def __init__(
        self,
        hidden_layer_sizes=(30,),
        *,
        hidden="sigmoid",
        output="softmax",
        cost="cross_entropy",
        method="lbfgs",
        max_iter=200,
        alpha=0.5,
        batch_size=32,
        lam=1e-4,
        backend="loops",
        dtype="float64",
        random_state=0,
    ):
        super().__init__(
            hidden_layer_sizes,
            hidden=hidden,
            output=output,
            cost=cost,
            method=method,
            max_iter=max_iter,
            alpha=alpha,
            batch_size=batch_size,
            lam=lam,
            backend=backend,
            dtype=dtype,
            random_state=random_state,
        )

    def fit(self, X, y):
        """Train on ``X``, shape (m, n_features), and labels ``y``, shape (m,); return self."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                "IndexNetClassifier needs at least 2 classes in y; "
                f"got only one class, {self.classes_[0]!r}"
            )
        Y = np.zeros((labels.size, self.classes_.size))
        Y[np.arange(labels.size), labels] = 1.0
        return self._fit_network(X, Y)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (m, n_classes), columns in the order of ``classes_``."""
        outputs = self._outputs(X).astype(np.float64)
        if self.network_.output == "softmax":
            return outputs
        totals = outputs.sum(axis=1, keepdims=True)
        uniform = np.full_like(outputs, 1.0 / outputs.shape[1])
        return np.divide(outputs, totals, out=uniform, where=totals > 0)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row of ``X``."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class IndexNetRegressor(RegressorMixin, _IndexNetEstimator):
    __doc__ = (
        r"""A regressor: an :class:`indexnet.Network` with one output unit per target.

    The default ``output="identity"`` with ``cost="squared"`` fits any real targets; a
    ``"sigmoid"`` output needs targets in (0, 1). Targets are not rescaled, so standardise
    them (or use :class:`~sklearn.compose.TransformedTargetRegressor`) when they are large.
    """
        + _PARAMETERS
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from indexnet.sklearn import IndexNetRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> IndexNetRegressor(hidden_layer_sizes=(5,)).fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.9
    True
    """
    )

    _output_choices = ("identity", "sigmoid", "tanh", "relu")

    def __init__(
        self,
        hidden_layer_sizes=(30,),
        *,
        hidden="sigmoid",
        output="identity",
        cost="squared",
        method="lbfgs",
        max_iter=200,
        alpha=0.5,
        batch_size=32,
        lam=1e-4,
        backend="loops",
        dtype="float64",
        random_state=0,
    ):
        super().__init__(
            hidden_layer_sizes,
            hidden=hidden,
            output=output,
            cost=cost,
            method=method,
            max_iter=max_iter,
            alpha=alpha,
            batch_size=batch_size,
            lam=lam,
            backend=backend,
            dtype=dtype,
            random_state=random_state,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train on ``X``, shape (m, n_features), and targets ``y``, shape (m,) or (m, n_targets).

        Returns self.
        """
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )
        self._y_ndim = y.ndim
        return self._fit_network(X, y.reshape(y.shape[0], -1))

    def predict(self, X) -> np.ndarray:
        """Predicted targets, shape (m,) or (m, n_targets) like the ``y`` of ``fit``."""
        outputs = self._outputs(X)
        return outputs[:, 0] if self._y_ndim == 1 else outputs
