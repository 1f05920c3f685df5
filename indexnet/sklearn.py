"""scikit-learn estimators: ``IndexNetClassifier`` and ``IndexNetRegressor``.

The stable public module; the source is :mod:`indexnet.api.sklearn`.
"""

from indexnet.api import sklearn as _source
from indexnet.api.sklearn import *  # noqa: F403

__all__ = _source.__all__
