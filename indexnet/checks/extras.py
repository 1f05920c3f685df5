"""Optional dependencies, imported only when a feature needs them."""

import importlib
from types import ModuleType

EXTRAS = {"sklearn": "data", "PIL": "data", "mlxtend": "data", "matplotlib": "plot"}
"""Optional module -> the ``indexnet`` extra that installs it."""


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message says which extra installs it."""


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` (a key of :data:`EXTRAS`), or raise a :class:`MissingExtraError`.

    Parameters
    ----------
    module : str
        Top-level module name: ``"sklearn"``, ``"PIL"`` (Pillow, which scikit-learn needs to
        read its sample images) or ``"matplotlib"``.
    feature : str
        What needs it, for the message (``"the digits dataset"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        extra = EXTRAS[module]
        raise MissingExtraError(
            f"{feature} needs {module}, which is not installed; "
            f"install it with: pip install 'indexnet[{extra}]'"
        ) from error
