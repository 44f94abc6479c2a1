"""sanets: Sparsely Activated Networks (Bizopoulos & Koutsouris, IEEE TNNLS 2020).

>>> import sanets
>>> model = sanets.SAN([31], activation="extrema")          # doctest: +SKIP
>>> result = sanets.fit(model, train, validation, epochs=30)  # doctest: +SKIP
"""

__version__ = "0.1.0"
