"""sanets: Sparsely Activated Networks (Bizopoulos & Koutsouris, IEEE TNNLS 2020).

>>> import sanets
>>> model = sanets.SAN([31], activation="extrema")             # doctest: +SKIP
>>> result = sanets.fit(model, train, validation, epochs=30)   # doctest: +SKIP

The names below load on first use, so ``import sanets`` is quick and the
``sanets`` command can set up torch's threads before torch starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOMES = {
    "SAN": "sanets.model",
    "fit": "sanets.training",
    "evaluate": "sanets.training",
    "FitResult": "sanets.training",
    "Evaluation": "sanets.training",
    "KERNEL_FAMILIES": "sanets.kernel_families",
    "events": "sanets._events",
    "detect_beats": "sanets._beats",
    "fit_beat_model": "sanets._beats",
}
_MODULES = ("activations", "metrics", "datasets")

__all__ = ["SAN", "KERNEL_FAMILIES", "fit", "evaluate", "FitResult", "Evaluation", "events", "detect_beats", "fit_beat_model", "activations", "metrics", "datasets", "__version__"]

if TYPE_CHECKING:
    from sanets import activations, datasets, metrics
    from sanets._beats import detect_beats, fit_beat_model
    from sanets._events import events
    from sanets.kernel_families import KERNEL_FAMILIES
    from sanets.model import SAN
    from sanets.training import Evaluation, FitResult, evaluate, fit


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"sanets.{name}")
    else:
        raise AttributeError(f"module 'sanets' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
