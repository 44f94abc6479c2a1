"""SAN codes as features in scikit-learn pipelines (issue 11): :class:`SANTransformer`.

Each row of ``X`` is one fixed-length signal (``n_features`` samples), e.g. a
window of a recording. ``fit`` trains a SAN with Alg. 4 on the rows, the last
``validation_fraction`` of them choosing the epoch; ``transform`` gives the
sparse codes. Needs the ``[experiments]`` extra (scikit-learn).

>>> from sklearn.pipeline import make_pipeline                      # doctest: +SKIP
>>> from sklearn.linear_model import LogisticRegression             # doctest: +SKIP
>>> pipe = make_pipeline(SANTransformer(kernel_sizes=(9,), output="pooled"), LogisticRegression())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from sanets._extras import require
from sanets.model import SAN
from sanets.training import fit

require("sklearn", "sanets.sklearn")

from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.utils import check_array  # noqa: E402
from sklearn.utils.validation import check_is_fitted, validate_data  # noqa: E402

__all__ = ["SANTransformer"]

_POOLED = ("count", "sum_abs", "max_abs")


class SANTransformer(TransformerMixin, BaseEstimator):
    """A SAN (paper Sec. III-B) fitted with Alg. 4, as a scikit-learn transformer of fixed-length 1D signals.

    Parameters
    ----------
    kernel_sizes : sequence of int, optional
        Size m of each kernel; default one kernel of a quarter of ``n_features``
        (at least 1). A size larger than ``n_features`` is refused at ``fit``.
    activation : str, default="extrema"
        One of :data:`sanets.activations.ACTIVATIONS`.
    epochs, batch_size, lr
        Alg. 4's training.
    validation_fraction : float, default=0.2
        The last rows (at least one) that choose the epoch by mean phi; the
        others train. With a single row, it both trains and validates.
    output : {"codes", "pooled"}, default="codes"
        ``"codes"``: the codes flattened, ``n_channels * n_features`` columns,
        channel-major (zeros except at spikes). ``"pooled"``: per code channel,
        the number of spikes, the sum and the maximum of their absolute values
        (``3 * n_channels`` columns).
    border_tolerance, competition, passes, kernel_family, unit_norm
        As :class:`sanets.SAN`.
    random_state : int, optional
        Seeds the kernels and the batch order.

    Attributes
    ----------
    model_ : SAN
        The fitted SAN.
    best_epoch_ : int
    n_features_in_ : int
    """

    def __init__(
        self,
        kernel_sizes: Sequence[int] | None = None,
        activation: str = "extrema",
        epochs: int = 30,
        batch_size: int = 16,
        lr: float = 0.01,
        validation_fraction: float = 0.2,
        output: str = "codes",
        border_tolerance: int = 2,
        competition: str = "none",
        passes: int = 1,
        kernel_family: str = "free",
        unit_norm: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.kernel_sizes = kernel_sizes
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.output = output
        self.border_tolerance = border_tolerance
        self.competition = competition
        self.passes = passes
        self.kernel_family = kernel_family
        self.unit_norm = unit_norm
        self.random_state = random_state

    def fit(self, X, y=None) -> SANTransformer:
        """Train the SAN on the rows of ``X`` (n_samples, n_features); ``y`` is ignored."""
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        if self.output not in ("codes", "pooled"):
            raise ValueError(f"output must be 'codes' or 'pooled', got {self.output!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        sizes = [max(X.shape[1] // 4, 1)] if self.kernel_sizes is None else list(self.kernel_sizes)
        model = SAN(sizes, self.activation, border_tolerance=self.border_tolerance, seed=self.random_state,
                    competition=self.competition, passes=self.passes, kernel_family=self.kernel_family,
                    unit_norm=self.unit_norm)
        x = torch.tensor(X, dtype=torch.float32)[:, None]
        held = min(max(round(self.validation_fraction * len(x)), 1), len(x) - 1) if len(x) > 1 else 0
        train, validation = x[: len(x) - held], x[len(x) - held :] if held else x
        # phi is undefined on an all-zero row (MAE(x, 0) = 0): such rows train but do not validate.
        nonzero = lambda rows: rows[rows.abs().flatten(1).amax(1) > 0]  # noqa: E731
        validation = nonzero(validation) if len(nonzero(validation)) else nonzero(train)
        if not len(validation):
            raise ValueError("every row of X is zero: there is nothing to encode")
        result = fit(model, train, validation, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.random_state)
        self.best_epoch_ = result.best_epoch
        self.model_ = model
        return self

    @torch.no_grad()
    def _codes(self, X) -> tuple[torch.Tensor, np.dtype]:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self.model_.encode(torch.tensor(X, dtype=torch.float32)[:, None]).double(), X.dtype

    def transform(self, X) -> np.ndarray:
        """The codes of each row: ``(n_samples, n_channels * n_features)``, or pooled ``(n_samples, 3 * n_channels)``."""
        codes, dtype = self._codes(X)
        if self.output == "codes":
            return codes.flatten(1).numpy().astype(dtype)
        magnitude = codes.abs()
        pooled = torch.stack([(codes != 0).sum(-1).double(), magnitude.sum(-1), magnitude.amax(-1)], dim=-1)
        return pooled.flatten(1).numpy().astype(dtype)

    @torch.no_grad()
    def inverse_transform(self, X) -> np.ndarray:
        """Reconstructions ``(n_samples, n_features)`` from codes given by :meth:`transform` with ``output="codes"``."""
        check_is_fitted(self)
        if self.output != "codes":
            raise ValueError("inverse_transform needs output='codes': pooled features do not say where the spikes are")
        X = check_array(X, dtype=(np.float64, np.float32))
        channels, width = self.model_.num_channels, self.n_features_in_
        if X.ndim != 2 or X.shape[1] != channels * width:
            raise ValueError(f"codes must have shape (n_samples, {channels * width}) = n_channels x n_features, got {X.shape}")
        codes = torch.tensor(X, dtype=torch.float32).view(len(X), channels, width)
        return self.model_.decode(codes)[:, 0].double().numpy().astype(X.dtype)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``san{channel}_t{sample}`` for codes, ``san{channel}_{count,sum_abs,max_abs}`` pooled."""
        check_is_fitted(self)
        channels = range(self.model_.num_channels)
        if self.output == "codes":
            return np.array([f"san{c}_t{t}" for c in channels for t in range(self.n_features_in_)], dtype=object)
        return np.array([f"san{c}_{name}" for c in channels for name in _POOLED], dtype=object)
