"""Transform coding: keep the k largest-magnitude coefficients of a fixed transform (DCT-II, wavelets).

A fixed transform learns nothing (W = 0); each kept coefficient costs its value
and its index, dims + 1 numbers, exactly like a spike of a SAN (Eq. 4). The
reconstructions of every k are computed in one batched inverse transform, so
choosing k on validation is vectorised over k and over examples.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from sanets._extras import require
from sanets._validation import check_int
from sanets.baselines._base import Baseline, between_neighbours, integer_grid


class _TopK(Baseline):
    """Keep, per example, the k coefficients of largest magnitude (ties: the lower index).

    Parameters
    ----------
    k : int, optional
        Coefficients kept per example, 0 <= k <= n; default: chosen on validation.
    """

    work: float = 5e7
    """Coefficient values the grid of k may reconstruct per structural choice: above it, k runs on a
    coarse grid (at least 16 values) and is refined around the best k."""

    refine_limit: int = 64
    """Most values of k tried between the best of the coarse grid and its neighbours."""

    def __init__(self, k: int | None = None) -> None:
        super().__init__()
        self.k = None if k is None else check_int(k, "k", 0)

    @classmethod
    def quick(cls) -> _TopK:
        """Coarser grids of k (a tenth of the work, 8 refinements), for ``--quick`` and the demo."""
        return _coarse(cls())

    def coefficients(self, choice: Hashable, x: np.ndarray) -> np.ndarray:
        """``(N, *spatial)`` -> flat coefficients ``(N, n)``."""
        raise NotImplementedError

    def synthesis(self, choice: Hashable, coefficients: np.ndarray) -> np.ndarray:
        """Flat coefficients ``(B, n)`` -> ``(B, *spatial)``."""
        raise NotImplementedError

    def count(self, choice: Hashable, spatial_shape: tuple[int, ...]) -> int:
        """n, the number of coefficients of one example."""
        return len(self.coefficients(choice, np.zeros((1, *spatial_shape)))[0])

    def positions(self, choice: Hashable, state: None) -> int:
        return self.count(choice, self.spatial_shape)

    def sparsities(self, choice: Hashable, spatial_shape: tuple[int, ...], examples: int) -> list[int]:
        n = self.count(choice, spatial_shape)
        if self.k is not None:
            if self.k > n:
                raise ValueError(f"k={self.k} exceeds the {n} coefficients of an example of shape {spatial_shape}")
            return [self.k]
        return integer_grid(n, max(16, int(self.work // (examples * n))))

    def refine(self, choice: Hashable, sparsity: int, tried: Sequence[int]) -> list[int]:
        return [] if self.k is not None else between_neighbours(sparsity, tried, self.refine_limit)

    def _encode(self, choice: Hashable, state: None, x: np.ndarray, k: int) -> np.ndarray:
        coefficients = self.coefficients(choice, x)
        return np.where(_ranks(coefficients) < k, coefficients, 0.0)

    def _decode(self, choice: Hashable, state: None, codes: np.ndarray) -> np.ndarray:
        return self.synthesis(choice, codes.reshape(len(codes), -1))

    def _sweep(self, choice: Hashable, state: None, x: np.ndarray, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        coefficients = self.coefficients(choice, x)
        kept = np.where(_ranks(coefficients)[None] < np.asarray(ks)[:, None, None], coefficients[None], 0.0)  # (S, N, n)
        x_hat = self.synthesis(choice, kept.reshape(-1, kept.shape[-1]))
        return x_hat.reshape(len(ks), len(x), *x_hat.shape[1:]), np.count_nonzero(kept, axis=2)


def _ranks(coefficients: np.ndarray) -> np.ndarray:
    """Each coefficient's place in its row by decreasing magnitude (0: the largest; ties: the lower index)."""
    order = np.argsort(-np.abs(coefficients), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(coefficients.shape[1])[None], axis=1)
    return ranks


class DCT(_TopK):
    """The k largest-magnitude orthonormal DCT-II coefficients of each example (1D, or 2D over the image).

    W = 0; k is chosen on validation phi unless given. Codes: ``(N, n)``
    coefficients in scipy's order (row-major in 2D), zero except the k kept.

    Parameters
    ----------
    k : int, optional
        Coefficients kept per example; default: chosen on validation.

    Examples
    --------
    >>> import torch
    >>> from sanets.baselines import DCT
    >>> x = torch.randn(12, 1, 64, generator=torch.Generator().manual_seed(0))
    >>> DCT().fit(x[:8], x[8:]).parameters.startswith("k=")
    True
    """

    name = "dct"

    def describe(self, choice: None, k: int) -> str:
        return f"k={k}"

    def coefficients(self, choice: None, x: np.ndarray) -> np.ndarray:
        fft = require("scipy.fft", "the DCT baseline")
        return fft.dctn(x, type=2, norm="ortho", axes=_spatial_axes(x)).reshape(len(x), -1)

    def synthesis(self, choice: None, coefficients: np.ndarray) -> np.ndarray:
        fft = require("scipy.fft", "the DCT baseline")
        shaped = coefficients.reshape(len(coefficients), *self.spatial_shape)
        return fft.idctn(shaped, type=2, norm="ortho", axes=_spatial_axes(shaped))


WAVELETS = ("haar", "db2", "db3", "db4", "db5", "db6", "db7", "db8", "sym4", "sym5", "sym6", "sym7", "sym8",
            "coif1", "coif2", "coif3", "bior2.2", "bior4.4")
"""The wavelet families :class:`Wavelet` chooses from by default."""

MODES = ("symmetric", "periodization")
"""The boundary modes :class:`Wavelet` chooses from by default: symmetric extension (a few more
coefficients than samples) and periodization (exactly as many)."""


class Wavelet(_TopK):
    """The k largest-magnitude coefficients of a full wavelet decomposition (PyWavelets), 1D or 2D.

    The wavelet, the boundary mode and k are chosen on validation phi, the
    wavelet and mode in the order of ``wavelets`` and ``modes``. The
    decomposition goes to the deepest level the wavelet allows
    (``pywt.dwt_max_level``). W = 0. Codes: ``(N, n)`` coefficients, all
    levels concatenated (``pywt.coeffs_to_array``), zero except the k kept.

    Parameters
    ----------
    wavelets : sequence of str
        Discrete wavelets of PyWavelets; default :data:`WAVELETS`.
    modes : sequence of str
        Signal extension modes of PyWavelets; default :data:`MODES`.
    k : int, optional
        Coefficients kept per example; default: chosen on validation.
    """

    name = "wavelet"

    def __init__(self, wavelets: Sequence[str] = WAVELETS, modes: Sequence[str] = MODES, k: int | None = None) -> None:
        super().__init__(k)
        pywt = require("pywt", "the Wavelet baseline")
        if isinstance(wavelets, str) or isinstance(modes, str) or not wavelets or not modes:
            raise ValueError("wavelets and modes must be non-empty sequences of names, e.g. ['haar'], ['periodization']")
        unknown = [w for w in wavelets if w not in pywt.wavelist(kind="discrete")]
        if unknown:
            raise ValueError(f"unknown wavelet {unknown[0]!r}; choose from pywt.wavelist(kind='discrete'), e.g. haar, db4, bior2.2")
        unknown = [m for m in modes if m not in pywt.Modes.modes]
        if unknown:
            raise ValueError(f"unknown boundary mode {unknown[0]!r}; choose from {', '.join(pywt.Modes.modes)}")
        self.wavelets, self.modes = tuple(wavelets), tuple(modes)
        self._layouts: dict = {}

    @classmethod
    def quick(cls) -> Wavelet:
        """haar, db4 and bior2.2 with periodization, on coarser grids of k."""
        return _coarse(cls(("haar", "db4", "bior2.2"), ("periodization",)))

    def choices(self, spatial_shape: tuple[int, ...]) -> list[tuple[str, str]]:
        return [(wavelet, mode) for wavelet in self.wavelets for mode in self.modes]

    def describe(self, choice: tuple[str, str], k: int) -> str:
        return f"{choice[0]}/{choice[1]}/k={k}"

    def _level(self, wavelet: str, spatial_shape: Sequence[int]) -> int:
        pywt = require("pywt", "the Wavelet baseline")
        return pywt.dwt_max_level(min(spatial_shape), pywt.Wavelet(wavelet).dec_len)

    def coefficients(self, choice: tuple[str, str], x: np.ndarray) -> np.ndarray:
        pywt = require("pywt", "the Wavelet baseline")
        wavelet, mode = choice
        level = self._level(wavelet, x.shape[1:])
        if x.ndim == 2:
            parts = pywt.wavedec(x, wavelet, mode=mode, level=level, axis=-1)
            self._layouts[choice, x.shape[1:]] = [part.shape[-1] for part in parts]
            return np.concatenate(parts, axis=-1)
        array, slices = pywt.coeffs_to_array(pywt.wavedec2(x, wavelet, mode=mode, level=level, axes=(-2, -1)), axes=(-2, -1))
        slices[0] = (slice(None), *slices[0][1:])  # the approximation's slice names this batch's size: any batch
        self._layouts[choice, x.shape[1:]] = (slices, array.shape[1:])
        return array.reshape(len(x), -1)

    def synthesis(self, choice: tuple[str, str], coefficients: np.ndarray) -> np.ndarray:
        pywt = require("pywt", "the Wavelet baseline")
        wavelet, mode = choice
        shape = self.spatial_shape
        if (choice, shape) not in self._layouts:
            self.coefficients(choice, np.zeros((1, *shape)))
        layout = self._layouts[choice, shape]
        if len(shape) == 1:
            parts = np.split(coefficients, np.cumsum(layout)[:-1], axis=-1)
            x_hat = pywt.waverec(parts, wavelet, mode=mode, axis=-1)
            return x_hat[:, : shape[0]]
        slices, array_shape = layout
        coeffs = pywt.array_to_coeffs(coefficients.reshape(len(coefficients), *array_shape), slices, output_format="wavedec2")
        return pywt.waverec2(coeffs, wavelet, mode=mode, axes=(-2, -1))[:, : shape[0], : shape[1]]


def _spatial_axes(x: np.ndarray) -> tuple[int, ...]:
    return tuple(range(1, x.ndim))


def _coarse(model: _TopK) -> _TopK:
    model.work, model.refine_limit = _TopK.work / 10, 8
    return model
