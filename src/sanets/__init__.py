"""sanets: Sparsely Activated Networks (Bizopoulos & Koutsouris, IEEE TNNLS 2020).

>>> import sanets
>>> model = sanets.SAN([31], activation="extrema")             # doctest: +SKIP
>>> result = sanets.fit(model, train, validation, epochs=30)   # doctest: +SKIP
"""

from sanets import activations, metrics
from sanets.model import SAN
from sanets.training import Evaluation, FitResult, evaluate, fit

__version__ = "0.1.0"

__all__ = ["SAN", "fit", "evaluate", "FitResult", "Evaluation", "activations", "metrics", "__version__"]
