"""Optional dependencies: import them on first use, or say which extra installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from sanets.errors import MissingExtraError

_EXTRA_OF = {
    "wfdb": "data",
    "pyedflib": "data",
    "pooch": "data",
    "matplotlib": "experiments",
    "pywt": "experiments",
    "sklearn": "experiments",
    "tqdm": "experiments",
    "filelock": "experiments",
    "distributed": "distributed",
    "sporco": "baselines",
}
"""Top-level module -> the extra of ``sparsely-activated-networks`` that installs it."""


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"wfdb"`` or ``"matplotlib.figure"``) for ``feature``, or explain how to get it.

    Raises
    ------
    MissingExtraError
        Naming the feature, the missing package and the pip command that installs it.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        top = module.partition(".")[0]
        if error.name is None or error.name.partition(".")[0] != top:
            raise
        extra = _EXTRA_OF.get(top, "all")
        raise MissingExtraError(
            f"{feature} needs {top}, which is not installed; install it with "
            f'pip install "sparsely-activated-networks[{extra}]"'
        ) from None
