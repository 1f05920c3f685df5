r"""scikit-learn estimators around :class:`indexnet.Network` and :func:`indexnet.train`.

:class:`IndexNetClassifier` and :class:`IndexNetRegressor` fit, predict and score like
scikit-learn's own, clone and grid-search through ``get_params``/``set_params``, and pass its
``check_estimator`` suite. They need scikit-learn: ``pip install 'indexnet[sklearn]'``.

Their parameters have :class:`~sklearn.neural_network.MLPClassifier`'s names and meanings:
``alpha`` is scikit-learn's L2 penalty, not UFLDL's learning rate :math:`\alpha` (that is
``learning_rate_init``), and UFLDL's weight decay :math:`\lambda` is not a parameter but is
worked out from ``alpha`` at fit time, in :func:`_to_ufldl`, the one place where scikit-learn's
names are turned into UFLDL's; the fitted ``lam_`` is the :math:`\lambda` it used.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from indexnet.api.network import Network
from indexnet.api.train import train
from indexnet.checks.extras import MissingExtraError
from indexnet.checks.inputs import check_choice, check_int, check_real, describe

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

ACTIVATIONS: dict[str, str] = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
}
"""scikit-learn's name of each hidden activation, and indexnet's."""

SOLVERS: tuple[str, ...] = ("lbfgs", "sgd", "gd")
"""The ``solver`` choices: scikit-learn's ``"lbfgs"`` and ``"sgd"``, and indexnet's ``"gd"``."""

AUTO_BATCH_SIZE = 200
"""``batch_size="auto"`` means ``min(200, n_samples)``, as in scikit-learn."""


class _UFLDL(NamedTuple):
    """The estimator's parameters as indexnet's :class:`~indexnet.Network` and
    :func:`~indexnet.train` take them (see :func:`_to_ufldl`)."""

    hidden: str
    """indexnet's name of the hidden activation."""
    method: str
    """The training method."""
    options: dict
    """Its keyword arguments but ``backend`` and ``seed``: ``lam`` (UFLDL's :math:`\\lambda`),
    ``iterations`` or ``epochs``, and for ``"gd"`` and ``"sgd"`` ``alpha`` (UFLDL's learning
    rate), for ``"sgd"`` ``batch_size``."""
    loss_scale: int
    """:math:`s`: indexnet's :math:`J` is :math:`s` times scikit-learn's loss."""


def _to_ufldl(
    *,
    activation: str,
    solver: str,
    alpha: float,
    batch_size: int | str,
    learning_rate_init: float,
    max_iter: int,
    cost: str,
    n_samples: int,
    n_outputs: int,
) -> _UFLDL:
    r"""scikit-learn's parameters in UFLDL's terms: the one place where they are mapped.

    scikit-learn's MLP (``sklearn/neural_network/_multilayer_perceptron.py``, ``_backprop``)
    minimises, over each batch of :math:`n_B` samples (the whole set for L-BFGS),

    .. math::
        L = \mathrm{loss}(y, h) + \frac{\alpha}{2 n_B} \sum_l \|W^{(l)}\|^2

    (``loss += (0.5 * self.alpha) * values / sw_sum`` with ``sw_sum = n_samples`` of the
    batch; intercepts are not penalised), where ``log_loss`` and ``binary_log_loss`` average
    the cross-entropy over the samples and sum it over the outputs, exactly as indexnet's
    ``cost="cross_entropy"`` does, and ``squared_loss`` averages :math:`\frac{1}{2}(h - y)^2`
    over the samples *and* the :math:`q` outputs, where indexnet's ``cost="squared"`` sums
    over the outputs. UFLDL's cost (see :meth:`indexnet.Network.cost_and_gradient`) is

    .. math::
        J = \text{data term} + \frac{\lambda}{2} \sum_l \|W^{(l)}\|^2

    (biases not decayed either), so with :math:`s = 1` for cross-entropy and :math:`s = q`
    for the squared cost, :math:`J = s L` exactly when

    .. math::
        \lambda = \frac{s \, \alpha}{n_B}

    and a gradient step of :math:`\eta / s` on :math:`J` is scikit-learn's step of
    :math:`\eta` = ``learning_rate_init`` on :math:`L` (its ``"sgd"`` with ``momentum=0``
    and ``learning_rate="constant"``).

    :math:`n_B` is ``n_samples`` for ``"lbfgs"`` and ``"gd"``, and the batch size for
    ``"sgd"``. indexnet's SGD uses one :math:`\lambda` for every mini-batch, so the last,
    shorter batch of an epoch (``n_samples % batch_size`` samples) is decayed by
    :math:`s\alpha / n_B` where scikit-learn uses :math:`s\alpha` over that batch's size.

    The other names: ``activation="logistic"`` is indexnet's ``hidden="sigmoid"`` (the rest
    are spelt alike), ``solver`` is the training ``method``, ``max_iter`` its ``iterations``
    (``epochs`` for ``"sgd"``).

    Parameters
    ----------
    activation, solver, alpha, batch_size, learning_rate_init, max_iter, cost
        The estimator's parameters (see :class:`IndexNetClassifier`).
    n_samples : int
        Rows of the training set.
    n_outputs : int
        Output units :math:`q`.

    Returns
    -------
    _UFLDL
        The hidden activation, the method and its options for :func:`indexnet.train`, and
        :math:`s`.
    """
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        hint = " (scikit-learn calls the sigmoid 'logistic')" if activation == "sigmoid" else ""
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; "
            f"got {describe(activation)}{hint}"
        )
    if not isinstance(solver, str) or solver not in SOLVERS:
        hint = " (indexnet has no Adam optimiser)" if solver == "adam" else ""
        raise ValueError(
            f"solver must be one of {', '.join(map(repr, SOLVERS))}; got {describe(solver)}{hint}"
        )
    max_iter = check_int("max_iter", max_iter, 1)
    alpha = check_real("alpha", alpha, minimum=0.0)
    scale = n_outputs if cost == "squared" else 1
    options: dict = {"epochs" if solver == "sgd" else "iterations": max_iter}
    if solver == "sgd":
        if isinstance(batch_size, str) and batch_size == "auto":
            batch = AUTO_BATCH_SIZE
        elif isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool):
            batch = check_int("batch_size", batch_size, 1)
        else:
            raise TypeError(
                f"batch_size must be 'auto' or an integer >= 1; got {describe(batch_size)}"
            )
        batch = min(batch, n_samples)  # scikit-learn clips it the same way (with a warning)
        options["batch_size"] = batch
        samples_per_step = batch
    else:
        samples_per_step = n_samples
    options["lam"] = scale * alpha / samples_per_step
    if solver != "lbfgs":
        rate = check_real("learning_rate_init", learning_rate_init, positive=True)
        options["alpha"] = rate / scale
    return _UFLDL(ACTIVATIONS[activation], solver, options, scale)


class _IndexNetEstimator(BaseEstimator):
    """What the classifier and regressor share: parameters, fitting, pickling."""

    _output_choices: tuple = ()

    def __init__(
        self,
        hidden_layer_sizes=(30,),
        *,
        activation: str = "logistic",
        solver: str = "lbfgs",
        alpha: float = 1e-4,
        batch_size: int | str = 32,
        learning_rate_init: float = 0.5,
        max_iter: int = 200,
        random_state=0,
        output: str = "sigmoid",
        cost: str = "squared",
        backend: str = "loops",
        dtype: str = "float64",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.output = output
        self.cost = cost
        self.backend = backend
        self.dtype = dtype

    def _fit_network(self, X: np.ndarray, Y: np.ndarray) -> _IndexNetEstimator:
        """Build ``network_`` for ``X`` and ``Y`` (2-D) and train it; set the fitted attributes."""
        check_choice("output", self.output, self._output_choices)
        ufldl = _to_ufldl(
            activation=self.activation,
            solver=self.solver,
            alpha=self.alpha,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate_init,
            max_iter=self.max_iter,
            cost=self.cost,
            n_samples=X.shape[0],
            n_outputs=Y.shape[1],
        )
        hidden_layer_sizes = self.hidden_layer_sizes
        if np.isscalar(hidden_layer_sizes):
            hidden_layer_sizes = [hidden_layer_sizes]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = Network(
            [X.shape[1], *hidden_layer_sizes, Y.shape[1]],
            hidden=ufldl.hidden,
            output=self.output,
            cost=self.cost,
            seed=seed,
            dtype=self.dtype,
        )
        options = dict(ufldl.options, backend=self.backend)
        if ufldl.method == "sgd":
            options["seed"] = seed
        result = train(net, X, Y, ufldl.method, **options)
        self.network_ = net
        self.train_result_ = result
        self.lam_ = options["lam"]
        self.loss_curve_ = [J / ufldl.loss_scale for J in result.costs]
        self.n_iter_ = result.iterations
        return self

    def _outputs(self, X) -> np.ndarray:
        """Output activations for ``X``, after the usual fitted and input checks."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict(X, backend=self.backend)

    # W[l] and b[l] are views into theta, which pickling would turn into independent copies:
    # keep the network's settings and theta, and rebuild it.
    def __getstate__(self) -> dict:
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

    def __setstate__(self, state: dict) -> None:
        saved = state.get("network_")
        if isinstance(saved, dict):
            saved = dict(saved)
            theta = saved.pop("theta")
            state["network_"] = Network(**saved)
            state["network_"].theta = theta
        super().__setstate__(state)


_PARAMETERS = r"""
    The parameters up to ``random_state`` are :class:`~sklearn.neural_network.MLPClassifier`'s,
    with its meanings (mapped onto UFLDL's :math:`\lambda` and learning rate :math:`\alpha` by
    :func:`indexnet.sklearn._to_ufldl`); some defaults differ, as noted. The last four are
    indexnet's own.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(30,)
        Units of each hidden layer; the input and output layers are sized from the data
        (scikit-learn's default is ``(100,)``).
    activation : {"logistic", "tanh", "relu", "identity"}, default="logistic"
        Hidden activation :math:`f`; ``"logistic"`` is UFLDL's sigmoid (scikit-learn's default
        is ``"relu"``).
    solver : {"lbfgs", "sgd", "gd"}, default="lbfgs"
        Optimiser: L-BFGS through SciPy, as scikit-learn's; plain mini-batch SGD, which is
        scikit-learn's ``"sgd"`` with ``momentum=0``, ``learning_rate="constant"`` and no early
        stopping; or indexnet's full-batch gradient descent ``"gd"``. scikit-learn's ``"adam"``
        (its default) is refused.
    alpha : float, default=1e-4
        Strength of the L2 penalty, as in scikit-learn: the loss gains
        :math:`\frac{\alpha}{2 n} \sum_l \|W^{(l)}\|^2` for :math:`n` samples (per mini-batch
        for ``"sgd"``), which is UFLDL's weight decay :math:`\lambda = \alpha / n`
        (:math:`q \alpha / n` for ``cost="squared"`` with :math:`q` outputs, whose data term
        scikit-learn averages over the outputs); ``lam_`` is the :math:`\lambda` used.
    batch_size : int or "auto", default=32
        Mini-batch size of ``"sgd"``; ``"auto"`` is ``min(200, n_samples)`` (scikit-learn's
        default). Clipped to the number of samples.
    learning_rate_init : float, default=0.5
        Learning rate of ``"sgd"`` and ``"gd"``, UFLDL's :math:`\alpha` (unused by
        ``"lbfgs"``). scikit-learn's default, 0.001, is meant for its momentum and Adam.
    max_iter : int, default=200
        Iterations of ``"lbfgs"`` and ``"gd"``, epochs of ``"sgd"``.
    random_state : int, RandomState or None, default=0
        Seeds the initialisation (and SGD's shuffling); scikit-learn's default is None.
    output : str
        Output activation (see the class).
    cost : {"squared", "cross_entropy"}
        Cost :math:`J` (see the class).
    backend : {"loops", "vectorized"}, default="loops"
        Kernels computing the cost and gradient.
    dtype : {"float64", "float32"}, default="float64"
        Float type of the network.

    Attributes
    ----------
    network_ : indexnet.Network
        The trained network.
    train_result_ : indexnet.TrainResult
        The training record; its ``costs`` are UFLDL's :math:`J`.
    lam_ : float
        UFLDL's weight decay :math:`\lambda` that ``alpha`` became.
    loss_curve_ : list of float
        The loss as scikit-learn defines it, including the penalty, after each iteration
        (epoch); :math:`J`, divided by the number of outputs for ``cost="squared"``.
    n_iter_ : int
        Iterations (epochs) run.
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
"""

_RENAMED = r"""
    Notes
    -----
    The parameters used to follow UFLDL: ``alpha`` was the learning rate (now
    ``learning_rate_init``), ``lam`` the weight decay :math:`\lambda` (now ``alpha``, divided by
    the number of samples as above), ``method`` the optimiser (now ``solver``) and ``hidden``
    the hidden activation (now ``activation``, with ``"sigmoid"`` spelt ``"logistic"``).
    ``lam``, ``method`` and ``hidden`` are refused; an old ``alpha=0.5`` meant as a learning
    rate is now a penalty.
"""


class IndexNetClassifier(ClassifierMixin, _IndexNetEstimator):
    __doc__ = (
        r"""A classifier: an :class:`indexnet.Network` with one output unit per class.

    The targets are one-hot rows. With ``output="softmax"`` and ``cost="cross_entropy"`` (the
    defaults) the outputs are the class probabilities and the cost is
    :class:`~sklearn.neural_network.MLPClassifier`'s for more than two classes; with
    ``output="sigmoid"`` each unit is a one-vs-rest probability, and :meth:`predict_proba`
    normalises the row to sum to 1. For two classes there are still two softmax units where
    MLPClassifier has one logistic unit: the same model, the logistic unit's weights being the
    difference of the two, but the L2 penalty on the two output rows then acts like half of
    MLPClassifier's on its one.
    """
        + _PARAMETERS
        + """    classes_ : ndarray, shape (n_classes,)
        Class labels, in the order of the output units.
    """
        + _RENAMED
        + """
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
        activation: str = "logistic",
        solver: str = "lbfgs",
        alpha: float = 1e-4,
        batch_size: int | str = 32,
        learning_rate_init: float = 0.5,
        max_iter: int = 200,
        random_state=0,
        output: str = "softmax",
        cost: str = "cross_entropy",
        backend: str = "loops",
        dtype: str = "float64",
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            random_state=random_state,
            output=output,
            cost=cost,
            backend=backend,
            dtype=dtype,
        )

    def fit(self, X, y) -> IndexNetClassifier:
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

    The default ``output="identity"`` with ``cost="squared"`` fits any real targets and has
    :class:`~sklearn.neural_network.MLPRegressor`'s cost, up to the factor of the number of
    targets that ``alpha`` accounts for; a ``"sigmoid"`` output needs targets in (0, 1).
    Targets are not rescaled, so standardise them (or use
    :class:`~sklearn.compose.TransformedTargetRegressor`) when they are large.
    """
        + _PARAMETERS
        + _RENAMED
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
        activation: str = "logistic",
        solver: str = "lbfgs",
        alpha: float = 1e-4,
        batch_size: int | str = 32,
        learning_rate_init: float = 0.5,
        max_iter: int = 200,
        random_state=0,
        output: str = "identity",
        cost: str = "squared",
        backend: str = "loops",
        dtype: str = "float64",
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            random_state=random_state,
            output=output,
            cost=cost,
            backend=backend,
            dtype=dtype,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y) -> IndexNetRegressor:
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
