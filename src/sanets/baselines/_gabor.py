"""Matching pursuit over a fixed shift-invariant dictionary of Gabor atoms and whole-window cosines (issue 30).

The strongest classical sparse representation of the kind a SAN learns
(Mallat & Zhang, 1993, with the orthogonal projection of OMP): q fixed
kernels, each placed at any of the n shifts of a window, a spike naming
(kernel, shift) and carrying a value, exactly as a SAN's spike. Nothing is
learned (W = 0); the grid and the spike count are chosen on validation phi.

Kernels, unit-free and centred on their middle sample s = 0:

- whole-window cosines ``cos(2 pi f s)``, ``|s| < n``, at frequencies
  ``f = j / (o n)``, ``0 <= f < 1/2``, o = 1 (the DFT grid) or 2 (the DCT
  grid): placed at shift tau, the atom over the window is
  ``cos(2 pi f (t - tau))``, so the shift sets the phase, and one spike codes
  a sinusoid that the DCT spreads over several coefficients;
- Gabor atoms ``exp(-s^2 / (2 sigma^2)) cos(2 pi f s)``, ``|s| <= 3 sigma``,
  at envelope widths sigma (shares of n) and frequencies ``f = j / (4 sigma)``
  (f = 0: a Gaussian bump).

An atom placed near an edge is cropped to the window, as a SAN's kernel is;
the pursuit normalises each cropped atom. Correlations with every kernel at
every shift: for the cosines ``Re(exp(2 pi i f tau) R(f))`` from one product
with the DFT matrix at the grid's frequencies, for the Gabor atoms one real
FFT correlation per kernel, vectorised over kernels and examples.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numba
import numpy as np
import torch
from torch import Tensor

from sanets._extras import require
from sanets._validation import check_int
from sanets.baselines._pursuit import Pursuit

__all__ = ["GRIDS", "GaborMP"]

GRIDS: tuple[tuple[int, tuple[float, ...]], ...] = (
    (1, ()),
    (2, ()),
    (1, (0.01, 0.04)),
    (2, (0.01, 0.04, 0.16)),
)
"""The dictionaries :class:`GaborMP` chooses from, smallest first: (cosine grid oversampling o, Gabor envelope
widths sigma as shares of the window)."""


class _Dictionary(NamedTuple):
    frequencies: np.ndarray  # (F,) cosine frequencies, cycles per sample
    oversampling: int  # o: the cosines' frequencies are j / (o n), those of a real FFT of o n samples
    phases_cos: np.ndarray  # (F, n) cos(2 pi f tau)
    phases_sin: np.ndarray  # (F, n) sin(2 pi f tau)
    cosine_weights: np.ndarray  # (F, n) 1 / norms of the cropped cosine atoms
    cosine_bounds: np.ndarray  # (F,) the largest of each row of cosine_weights, a hair above
    kernels: np.ndarray  # (G, 2 h + 1) Gabor kernels, centred
    spectra: np.ndarray  # (G, L // 2 + 1) conj(rfft) of the kernels wrapped around index 0
    gabor_weights: np.ndarray  # (G, n) 1 / norms of the cropped Gabor atoms
    length: int  # L, the FFT size
    labels: tuple[str, ...]  # one per kernel, e.g. "cos f=0.0123", "gabor sigma=10 f=0.05"


class GaborMP(Pursuit):
    """OMP over whole-window cosines and Gabor atoms at every shift; grid and k chosen on validation phi.

    Codes: ``(N, q n)``, kernel-major (the cosines by frequency, then the Gabor
    kernels by width and frequency), each kernel's n shifts; zero except the k
    coefficients, as a SAN's maps ``(N, q, n)`` flattened. W = 0. 1D only.

    Parameters
    ----------
    grids : sequence of (int, tuple of float)
        The dictionaries to choose from; default :data:`GRIDS`.
    k : int, optional
        Spikes per example; default: chosen on validation.
    kernels : sequence of array-like, optional
        Learned kernels ``(m,)`` (a SAN's, placed as a SAN places them) that join every grid's fixed atoms: the
        ``joined-gabor`` variant (:mod:`sanets.experiments.variants`). Without them this is the baseline.
    learned_weights : int
        W of those kernels, the learned numbers a decoder needs (0 for the baseline).

    Examples
    --------
    >>> import torch
    >>> from sanets.baselines import GaborMP
    >>> t = torch.arange(200.0)
    >>> x = torch.stack([torch.cos(2 * torch.pi * 6 / 200 * t + p) for p in range(12)])[:, None]
    >>> model = GaborMP(grids=[(1, ())]).fit(x[:8], x[8:])  # any phase: one shifted cosine
    >>> model.parameters, model.num_weights
    ('cos/1n/k=1', 0)
    """

    name = "gabor-mp"

    def __init__(self, grids: Sequence[tuple[int, Sequence[float]]] = GRIDS, k: int | None = None,
                 kernels: Sequence[np.ndarray | torch.Tensor] = (), learned_weights: int = 0) -> None:
        super().__init__(k)
        grids = [(o, tuple(widths)) for o, widths in grids]
        if not grids or any(isinstance(o, bool) or o not in (1, 2) or any(not 0 < w <= 1 for w in widths) for o, widths in grids):
            raise ValueError(f"grids must be a non-empty sequence of (oversampling 1 or 2, envelope widths in (0, 1]), got {grids!r}")
        self.grids = tuple(grids)
        self.learned = tuple(_centred(kernel, index) for index, kernel in enumerate(kernels))
        self.learned_weights = check_int(learned_weights, "learned_weights", 0)

    @classmethod
    def quick(cls) -> GaborMP:
        """The cosines on the DFT grid and one Gabor grid."""
        return cls(GRIDS[::2])

    def choices(self, spatial_shape: tuple[int, ...]) -> list[Hashable]:
        return list(self.grids)

    def describe(self, choice: tuple[int, tuple[float, ...]], k: int) -> str:
        oversampling, widths = choice
        sigmas = "/".join(f"{_sigma(w, self.spatial_shape[0]):g}" for w in widths)
        learned = f"+{len(self.learned)} learned" if self.learned else ""
        return f"cos/{oversampling}n" + (f"+gabor sigma={sigmas}" if widths else "") + learned + f"/k={k}"

    def weights(self, choice: Hashable, state: _Dictionary, sparsity: int) -> int:
        return self.learned_weights

    def positions(self, choice: Hashable, state: _Dictionary) -> int:
        return (len(state.frequencies) + len(state.kernels)) * self.spatial_shape[0]

    def kernel_labels(self) -> tuple[str, ...]:
        """What each code channel's kernel is, in code order, e.g. ``"cos f=0.0125"``."""
        self._check_fitted()
        return self.state.labels

    def learned_uses(self, x: Tensor) -> np.ndarray:
        """Spikes per example of each learned kernel in the codes of ``x`` ``(N, 1, n)``: ``(len(kernels),)``."""
        codes = self.encode(x).view(len(x), -1, self.spatial_shape[0])
        return (codes[:, codes.shape[1] - len(self.learned) :] != 0).sum((0, 2)).numpy() / len(x)

    def learn(self, choice: tuple[int, tuple[float, ...]], train: np.ndarray, seed: int) -> _Dictionary:
        """The dictionary of ``choice`` for windows of n samples (nothing is learned from ``train``)."""
        return _dictionary(self.spatial_shape[0], *choice, self.learned)

    def _best(self, state: _Dictionary, residual: np.ndarray) -> np.ndarray:
        fft = require("scipy.fft", "the gabor-mp baseline")
        frequencies = len(state.frequencies)
        transform = fft.rfft(residual, state.oversampling * residual.shape[1])[:, :frequencies]  # (N, F): R(f)
        score, index = _best_cosine(np.ascontiguousarray(transform.real), np.ascontiguousarray(transform.imag),
                                    state.phases_cos, state.phases_sin, state.cosine_weights, state.cosine_bounds)
        if len(state.kernels):
            # Single precision is plenty to pick an atom; the projection itself is computed in double.
            spectrum = fft.rfft(residual.astype(np.float32), state.length)
            gabor = fft.irfft(spectrum[:, None] * state.spectra, state.length, workers=torch.get_num_threads())  # the thread policy's share (sanets._threads)
            gabor_score, gabor_index = _best_shift(gabor, state.gabor_weights)
            better = gabor_score > score
            index = np.where(better, gabor_index + frequencies * residual.shape[1], index)
        return index

    def _atoms(self, state: _Dictionary, indices: np.ndarray) -> np.ndarray:
        n = self.spatial_shape[0]
        kernel, shift = np.divmod(indices, n)
        t = np.arange(n)
        atoms = np.zeros((len(indices), n))
        cosine = kernel < len(state.frequencies)
        atoms[cosine] = np.cos(2 * np.pi * state.frequencies[kernel[cosine], None] * (t - shift[cosine, None]))
        if (~cosine).any():
            half = state.kernels.shape[1] // 2
            offsets = t - shift[~cosine, None] + half  # index into the kernel of each sample
            inside = (offsets >= 0) & (offsets < state.kernels.shape[1])
            values = state.kernels[kernel[~cosine] - len(state.frequencies)]
            atoms[~cosine] = np.where(inside, np.take_along_axis(values, np.clip(offsets, 0, values.shape[1] - 1), 1), 0.0)
        return atoms


def _sigma(width: float, n: int) -> float:
    return max(1.0, round(width * n, 1))


def _centred(kernel: np.ndarray | torch.Tensor, index: int) -> tuple[int, np.ndarray]:
    """A SAN's kernel of m samples (placed at p from p - (m - 1) // 2) as (half, 2 half + 1 samples centred on p)."""
    values = np.asarray(kernel.detach().cpu() if isinstance(kernel, torch.Tensor) else kernel, dtype=np.float64)
    if values.ndim != 1 or not len(values) or not np.isfinite(values).all() or not values.any():
        raise ValueError(f"kernels[{index}] must be a 1D array of finite numbers, not all zero, got shape {values.shape}")
    return len(values) // 2, np.concatenate([np.zeros(1 - len(values) % 2), values])


def _dictionary(n: int, oversampling: int, widths: tuple[float, ...],
                learned: tuple[tuple[int, np.ndarray], ...] = ()) -> _Dictionary:
    """The kernels of one grid for n-sample windows, and the ``learned`` ones (half, centred kernel), with what the
    correlations need precomputed."""
    fft = require("scipy.fft", "the gabor-mp baseline")
    t = np.arange(n)
    frequencies = np.arange(0, (oversampling * n + 1) // 2) / (oversampling * n)
    phases = np.exp(2j * np.pi * np.outer(frequencies, t))
    # sum_t cos^2(2 pi f (t - tau)) = n / 2 + Re(exp(-4 pi i f tau) sum_t exp(4 pi i f t)) / 2
    doubled = np.exp(4j * np.pi * np.outer(frequencies, t)).sum(1)
    cosine_norms = np.sqrt(np.maximum(n / 2 + 0.5 * (np.conj(phases) ** 2 * doubled[:, None]).real, 1e-12))
    labels = [f"cos f={f:.6g}" for f in frequencies]
    kernels = []
    for width in widths:
        sigma = _sigma(width, n)
        half = min(int(np.ceil(3 * sigma)), n - 1)
        s = np.arange(-half, half + 1)
        for f in np.arange(0, 0.5, 1 / (4 * sigma)):
            kernels.append((half, np.exp(-0.5 * (s / sigma) ** 2) * np.cos(2 * np.pi * f * s)))
            labels.append(f"gabor sigma={sigma:g} f={f:.6g}")
    for number, (h, kernel) in enumerate(learned):
        kernels.append((min(h, n - 1), kernel[h - min(h, n - 1) : h + min(h, n - 1) + 1]))  # beyond n - 1: never in a window
        labels.append(f"learned {number}")
    half = max((h for h, _ in kernels), default=0)
    padded = np.zeros((len(kernels), 2 * half + 1))
    for row, (h, kernel) in enumerate(kernels):
        padded[row, half - h : half + h + 1] = kernel
    length = fft.next_fast_len(n + 2 * half + 1, real=True)
    wrapped = np.zeros((len(kernels), length))
    wrapped[:, : half + 1] = padded[:, half:]
    if half:
        wrapped[:, -half:] = padded[:, :half]
    spectra = np.conj(fft.rfft(wrapped, axis=1)).astype(np.complex64)
    window = np.zeros(length)
    window[:n] = 1.0
    # ||cropped atom at tau||^2 = sum_{t < n} k(t - tau)^2: the window correlated with k^2
    energy = fft.irfft(fft.rfft(window)[None] * np.conj(fft.rfft(wrapped**2, axis=1)), length)[:, :n]
    gabor_weights = (1 / np.sqrt(np.maximum(energy, 1e-12))).astype(np.float32)
    # The bounds' margin covers rounding: no scanned value can exceed its frequency's bound.
    return _Dictionary(frequencies, oversampling, np.ascontiguousarray(phases.real), np.ascontiguousarray(phases.imag),
                       1 / cosine_norms, (1 + 1e-9) / cosine_norms.min(1), padded, spectra, gabor_weights, length, tuple(labels))


@numba.njit(cache=True, nogil=True)
def _best_cosine(real: np.ndarray, imag: np.ndarray, cosines: np.ndarray, sines: np.ndarray,
                 weights: np.ndarray, largest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per example, the largest ``|Re(exp(2 pi i f tau) R(f))| / ||atom||`` over frequencies and shifts, and its
    flat index ``f * n + tau`` (ties: the lower); R ``(N, F)`` as real and imaginary parts. Fused: the
    ``(N, F, n)`` scores are never held. Frequencies are scanned by their bound ``|R(f)| max_tau 1 / ||atom||``,
    largest first, until no bound reaches the best found: the same answer, a few frequencies scanned instead of
    all."""
    count = real.shape[0]
    n = cosines.shape[1]
    best = np.full(count, -1.0)
    index = np.zeros(count, np.int64)
    for example in range(count):
        bounds = np.sqrt(real[example] ** 2 + imag[example] ** 2) * largest
        for f in np.argsort(-bounds):
            if bounds[f] < best[example]:
                break
            a, b = real[example, f], imag[example, f]
            for tau in range(n):
                value = abs(a * cosines[f, tau] - b * sines[f, tau]) * weights[f, tau]
                if value > best[example] or (value == best[example] and f * n + tau < index[example]):
                    best[example] = value
                    index[example] = f * n + tau
    return best, index


@numba.njit(cache=True, nogil=True)
def _best_shift(correlations: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per example, the largest ``|correlation| / ||atom||`` over kernels and the first n shifts of
    ``correlations`` ``(N, G, L)``, weights ``(G, n)``, and its flat index ``g * n + tau`` (ties: the lower)."""
    count, kernels, _ = correlations.shape
    n = weights.shape[1]
    best = np.full(count, -1.0)
    index = np.zeros(count, np.int64)
    for example in range(count):
        for g in range(kernels):
            for tau in range(n):
                value = abs(correlations[example, g, tau]) * weights[g, tau]
                if value > best[example]:
                    best[example] = value
                    index[example] = g * n + tau
    return best, index
